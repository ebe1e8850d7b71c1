"""uvicorn's h11 protocol with a header timeout (`./scripts/serve` runs uvicorn with
`--http app.http.server:GuardedH11Protocol`).

h11 waits for a request's headers without end, so a client sending them a byte at a time
(slowloris) would hold its connection, and a place under uvicorn's `--limit-concurrency`, for
ever. Here a connection whose request headers are not complete HEADER_TIMEOUT_SECONDS after
it opened, or after the request's first byte, is closed. Behind a reverse proxy set its own
header timeout too (docs/operations.md#behind-a-reverse-proxy).
"""

import asyncio
from functools import cache
from typing import Any

import h11
from uvicorn.protocols.http.h11_impl import H11Protocol

from app.settings import Settings


@cache
def header_timeout() -> float:
    """HEADER_TIMEOUT_SECONDS, read at the first connection: uvicorn builds the protocol, not
    the app."""
    return Settings().header_timeout_seconds


class GuardedH11Protocol(H11Protocol):
    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.header_timeout = header_timeout()
        self.header_timer: asyncio.TimerHandle | None = None

    def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
        super().connection_made(transport)
        self._arm()

    def data_received(self, data: bytes) -> None:
        super().data_received(data)
        if self.conn.their_state is h11.IDLE:  # a request's headers, not complete yet
            if self.header_timer is None:
                self._arm()
        else:
            self._disarm()

    def connection_lost(self, exc: Exception | None) -> None:
        self._disarm()
        super().connection_lost(exc)

    def _arm(self) -> None:
        self.header_timer = self.loop.call_later(self.header_timeout, self._timed_out)

    def _disarm(self) -> None:
        if self.header_timer is not None:
            self.header_timer.cancel()
            self.header_timer = None

    def _timed_out(self) -> None:
        self.header_timer = None
        if self.conn.their_state is h11.IDLE and not self.transport.is_closing():
            self.transport.close()
