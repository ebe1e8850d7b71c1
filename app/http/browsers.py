"""What the API tells browsers: which other origins' pages may call it (CORS), that its answers
are never cached, and gzip for the larger ones. main.py puts these middlewares, in this order,
outside `RequestGuard`: so CORS answers a preflight (which carries no key) before the key gate,
and its headers reach every answer below it, errors included (401, 413, 503, 504)."""

from typing import Any

from starlette.datastructures import MutableHeaders
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from app.settings import Settings

CORS_METHODS = ("GET", "POST", "OPTIONS")
CORS_HEADERS = ("Authorization", "Content-Type", "X-Request-Id")
CORS_EXPOSED_HEADERS = ("X-Request-Id",)
# How long a browser may reuse a preflight's answer, in seconds.
CORS_MAX_AGE = 600
# Smaller answers are sent as they are: gzip would save little and cost a round of work.
GZIP_MINIMUM_BYTES = 1000
NO_STORE = "private, no-store"


def cors_options(settings: Settings) -> dict[str, Any]:
    """The keyword arguments of Starlette's CORSMiddleware."""
    return {
        "allow_origins": settings.allowed_origins,
        "allow_credentials": settings.cors_allow_credentials,
        "allow_methods": CORS_METHODS,
        "allow_headers": CORS_HEADERS,
        "expose_headers": CORS_EXPOSED_HEADERS,
        "max_age": CORS_MAX_AGE,
    }


class NoStore:
    """Adds `Cache-Control: private, no-store` to every HTTP answer on `path` that sets no
    Cache-Control itself: a query's answer is one caller's data, which no browser or proxy
    cache may keep and show to another (or the GraphiQL page, which may hold the local key)."""

    def __init__(self, app: ASGIApp, *, path: str) -> None:
        self.app = app
        self.path = path

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["path"] != self.path:
            await self.app(scope, receive, send)
            return

        async def send_no_store(message: Message) -> None:
            if message["type"] == "http.response.start":
                message.setdefault("headers", [])
                headers = MutableHeaders(scope=message)
                if "cache-control" not in headers:
                    headers["Cache-Control"] = NO_STORE
            await send(message)

        await self.app(scope, receive, send_no_store)
