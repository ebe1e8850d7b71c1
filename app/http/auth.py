"""The API key gate of the GraphQL endpoint: a Bearer key in, the caller out (in
`scope["state"]["caller"]`), or 401. WebSocket connections are checked in connection_init by the
same `authenticate` (http/endpoint.py)."""

from urllib.parse import parse_qs

from starlette.types import ASGIApp, Receive, Scope, Send

from app import store
from app.errors import UNAVAILABLE_MESSAGE, Unauthenticated, Unavailable
from app.http.graphiql import GraphiQLPage
from app.http.middleware import current_request, send_error
from app.services.api_keys import authenticate

UNAUTHENTICATED_MESSAGE = "A valid API key is required: send 'Authorization: Bearer <key>'."


class RequireApiKey:
    """Answers 401 to any GraphQL request without a valid key, and passes the caller on.
    Serves `page` (GraphiQL, development only), which needs no key, to browsers."""

    def __init__(self, app: ASGIApp, *, page: GraphiQLPage | None) -> None:
        self.app = app
        self.page = page

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        headers = dict(scope["headers"])
        if self.page is not None and _wants_page(scope, headers):
            await _send_page(send, (await self.page.render(scope)).encode())
            return
        header = headers.get(b"authorization", b"").decode("latin-1")
        record = current_request.get()
        request_id = None if record is None else record.id
        try:
            runtime = scope["app"].state.runtime
            caller = await authenticate(runtime.db, header, cache=runtime.api_keys)
        except Exception as error:
            if not store.is_unavailable(error):
                raise
            await send_error(
                send, 503, Unavailable.code, UNAVAILABLE_MESSAGE, request_id=request_id
            )
            return
        if caller is None:
            challenge = ((b"www-authenticate", b'Bearer realm="graphql"'),)
            await send_error(
                send,
                401,
                Unauthenticated.code,
                UNAUTHENTICATED_MESSAGE,
                request_id=request_id,
                headers=challenge,
            )
            return
        scope.setdefault("state", {})["caller"] = caller
        await self.app(scope, receive, send)


def _wants_page(scope: Scope, headers: dict[bytes, bytes]) -> bool:
    query = parse_qs(scope.get("query_string", b"").decode("latin-1"))
    accept = headers.get(b"accept", b"")
    return scope["method"] == "GET" and "query" not in query and b"text/html" in accept


async def _send_page(send: Send, page: bytes) -> None:
    headers = [
        (b"content-type", b"text/html; charset=utf-8"),
        (b"content-length", str(len(page)).encode()),
    ]
    await send({"type": "http.response.start", "status": 200, "headers": headers})
    await send({"type": "http.response.body", "body": page})
