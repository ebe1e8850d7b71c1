"""WebSocket connections: byte limits and the close of a client that fell too far behind.

A message over `max_message_bytes` (the HTTP body limit) closes the connection with 1009 before
the app reads it, so also before connection_init: before authentication. A subscriber whose
queue overflows (app/realtime.py) closes its connection with `realtime.CLOSE_TOO_SLOW`; the app
then sees a disconnect and drops the connection's subscriptions and their queues.
"""

import asyncio
import contextlib

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from app import realtime

CLOSE_TOO_BIG = 1009
# How long a close frame may wait for a client that does not read before the socket is dropped.
CLOSE_WAIT_SECONDS = 1.0


class SocketGuard:
    def __init__(self, app: ASGIApp, *, max_message_bytes: int) -> None:
        self.app = app
        self.max_message_bytes = max_message_bytes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "websocket":
            await self.app(scope, receive, send)
            return
        closing: asyncio.Future[int] = asyncio.get_running_loop().create_future()
        limit = self.max_message_bytes

        async def close(code: int, reason: str) -> Message:
            if not closing.done():
                closing.set_result(code)
            with contextlib.suppress(Exception):
                async with asyncio.timeout(CLOSE_WAIT_SECONDS):
                    await send({"type": "websocket.close", "code": code, "reason": reason})
            return {"type": "websocket.disconnect", "code": code}

        async def guarded_receive() -> Message:
            if closing.done():
                return {"type": "websocket.disconnect", "code": closing.result()}
            received = asyncio.ensure_future(receive())
            await asyncio.wait((received, closing), return_when=asyncio.FIRST_COMPLETED)
            if not received.done():
                received.cancel()
                return await close(closing.result(), "Fell too far behind: resume from a cursor.")
            message: Message = received.result()
            if too_large(message, limit):
                return await close(CLOSE_TOO_BIG, f"A message may have at most {limit} bytes.")
            return message

        def too_slow() -> None:
            if not closing.done():
                closing.set_result(realtime.CLOSE_TOO_SLOW)

        token = realtime.close_connection.set(too_slow)
        try:
            await self.app(scope, guarded_receive, send)
        finally:
            realtime.close_connection.reset(token)


def too_large(message: Message, limit: int) -> bool:
    data = message.get("bytes") or message.get("text") or b""
    if len(data) * 4 <= limit:  # no UTF-8 text this short can be over
        return False
    size = len(data.encode()) if isinstance(data, str) else len(data)
    return size > limit
