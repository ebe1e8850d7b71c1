"""Crashes at a chosen database call: the driver's method raises (or runs something first)."""

from collections.abc import Awaitable, Callable
from typing import Any

import pytest

from app.store import Database


class Crash(Exception):
    pass


def crash_on(
    monkeypatch: pytest.MonkeyPatch,
    db: Database,
    collection: str,
    method: str,
    before: Callable[[], Awaitable[None]] | None = None,
    skip: int = 0,
) -> None:
    """Make the call after `skip` calls of `method` on `collection` raise (or run `before`)."""
    cls = type(db[collection])
    original = getattr(cls, method)
    state = {"calls": 0}

    async def patched(self: Any, *args: Any, **kwargs: Any) -> Any:
        if self.name == collection:
            state["calls"] += 1
        if self.name == collection and state["calls"] == skip + 1:
            if before is None:
                raise Crash(f"{collection}.{method}")
            await before()
        return await original(self, *args, **kwargs)

    monkeypatch.setattr(cls, method, patched)
