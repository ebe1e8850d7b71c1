"""Per-request bookkeeping around the whole app: an id, admission, a body limit, a deadline, a
log line."""

import asyncio
import json
import logging
import re
import time
import uuid
from contextvars import ContextVar
from dataclasses import dataclass, field

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from app.errors import INTERNAL_MESSAGE, OVERLOADED, AppError, DeadlineExceeded, error_body
from app.http.media import JSON, content_type, negotiate

log = logging.getLogger("app.requests")
CLIENT_REQUEST_ID = re.compile(r"[A-Za-z0-9._-]{8,64}")
# Health probes: never counted against the limit of requests in flight, never refused by it.
PROBES = frozenset({"/healthz", "/readyz"})
OVERLOADED_MESSAGE = "The server is at its most requests in flight: retry after a second."


@dataclass
class RequestRecord:
    id: str
    operation: str | None = None
    error_codes: list[str] = field(default_factory=list)
    commands: int = 0
    # What error answers are sent as: the client's choice by `Accept` (app/http/media.py).
    media_type: str = JSON


current_request: ContextVar[RequestRecord | None] = ContextVar("current_request", default=None)


def count_command() -> None:
    """Count one database command for the request in whose context it runs."""
    record = current_request.get()
    if record is not None:
        record.commands += 1


class BodyTooLarge(Exception):
    pass


async def send_error(
    send: Send,
    status: int,
    code: str,
    message: str,
    *,
    request_id: str | None,
    headers: tuple[tuple[bytes, bytes], ...] = (),
) -> None:
    """Answer with a GraphQL-shaped error body, before or instead of GraphQL, in the media type
    the client accepts (`application/json` when it accepts neither)."""
    body = error_body(code, message, request_id)
    record = current_request.get()
    # An answer with no `data` may be 2xx only as application/json (the persisted-query
    # "not found", which clients expect with 200).
    media_type = JSON if record is None or status < 300 else record.media_type
    await send(
        {
            "type": "http.response.start",
            "status": status,
            "headers": [
                (b"content-type", content_type(media_type).encode()),
                (b"content-length", str(len(body)).encode()),
                *headers,
            ],
        }
    )
    await send({"type": "http.response.body", "body": body})


class RequestGuard:
    """Gives every HTTP request an id (`X-Request-Id`, echoing a sane one from the client),
    refuses it at once with 503 OVERLOADED when `max_in_flight` requests (probes aside) are
    running (0: no limit), refuses bodies over `max_body_bytes` with 413, stops work at the
    deadline with 504, answers a coded 500 for anything unexpected that escaped before an
    answer started, and logs one JSON line: id, method, path, status, operation, error codes,
    database commands, ms."""

    def __init__(
        self,
        app: ASGIApp,
        *,
        max_body_bytes: int,
        deadline_seconds: float,
        max_in_flight: int = 0,
    ) -> None:
        self.app = app
        self.max_body_bytes = max_body_bytes
        self.deadline_seconds = deadline_seconds
        self.max_in_flight = max_in_flight
        self.in_flight = 0

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        headers = dict(scope["headers"])
        given = headers.get(b"x-request-id", b"").decode("latin-1")
        record = RequestRecord(id=given if CLIENT_REQUEST_ID.fullmatch(given) else uuid.uuid4().hex)
        accept = b", ".join(value for name, value in scope["headers"] if name == b"accept")
        record.media_type = negotiate(accept.decode("latin-1")) or JSON
        token = current_request.set(record)
        started = time.perf_counter()
        status: int | None = None
        received = 0

        async def limited_receive() -> Message:
            nonlocal received
            message = await receive()
            received += len(message.get("body", b""))
            if received > self.max_body_bytes:
                raise BodyTooLarge
            return message

        async def send_with_id(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
                message["headers"] = [
                    *message.get("headers", []),
                    (b"x-request-id", record.id.encode()),
                ]
            await send(message)

        async def refuse(
            code: int, error: str, text: str, headers: tuple[tuple[bytes, bytes], ...] = ()
        ) -> None:
            record.error_codes.append(error)
            await send_error(send_with_id, code, error, text, request_id=record.id, headers=headers)

        too_large = f"The request body is over {self.max_body_bytes:,} bytes."
        counted = self.max_in_flight > 0 and scope["path"] not in PROBES
        try:
            if counted and self.in_flight >= self.max_in_flight:
                counted = False
                await refuse(503, OVERLOADED, OVERLOADED_MESSAGE, ((b"retry-after", b"1"),))
                return
            if counted:
                self.in_flight += 1
            declared = headers.get(b"content-length", b"0")
            if declared.isdigit() and int(declared) > self.max_body_bytes:
                await refuse(413, "BAD_USER_INPUT", too_large)
                return
            async with asyncio.timeout(self.deadline_seconds):
                await self.app(scope, limited_receive, send_with_id)
        except BodyTooLarge:
            if status is None:
                await refuse(413, "BAD_USER_INPUT", too_large)
        except TimeoutError:
            if status is None:
                await refuse(504, DeadlineExceeded.code, "The request took too long.")
        except Exception:
            if status is not None:
                raise
            log.exception("Unexpected error in request %s", record.id)
            await refuse(500, AppError.code, INTERNAL_MESSAGE)
        finally:
            if counted:
                self.in_flight -= 1
            current_request.reset(token)
            log.info(
                json.dumps(
                    {
                        "requestId": record.id,
                        "method": scope["method"],
                        "path": scope["path"],
                        "status": status or 500,
                        "operation": record.operation,
                        "errors": record.error_codes,
                        "dbCommands": record.commands,
                        "ms": round((time.perf_counter() - started) * 1000, 1),
                    }
                )
            )
