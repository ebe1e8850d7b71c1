"""Automatic persisted queries (APQ), as Apollo Client's persisted-queries link speaks them, and
trusted documents: an ASGI layer in front of the GraphQL endpoint, behind the API key gate (so
the caller's organization is known). Documents are stored by store/persisted_queries.py.

A request whose `extensions.persistedQuery` is `{"version": 1, "sha256Hash": "<hex>"}` (in the
JSON body of a POST, or the `extensions` parameter of a GET):

- without `query`: the document stored under the hash (a trusted document, or one the caller's
  organization registered) is filled in as `query` and the request passed on; an unknown hash
  is answered HTTP 200 `PersistedQueryNotFound` (code PERSISTED_QUERY_NOT_FOUND), and the client
  sends the query with the hash;
- with `query`: sha256(query) must be the hash (else HTTP 400 PERSISTED_QUERY_HASH_MISMATCH).
  The query is registered for the organization — unless it is longer than
  `persisted_query_max_bytes`, is not a GraphQL document within `max_query_tokens`, or the
  organization holds `persisted_queries_per_organization` already: then it only runs.

With `trusted_documents_only`, only trusted documents run and nothing is registered: an HTTP
request without a hash, or whose hash or query is not a trusted document's, is answered HTTP 400
PERSISTED_QUERY_NOT_ALLOWED. On the WebSocket, where clients send a subscription's text, a
`subscribe` whose query hashes to a trusted document (or that names one by hash) runs, and any
other is answered with an `error` message of that code.
"""

import hashlib
import re
from dataclasses import dataclass
from typing import Any
from urllib.parse import parse_qsl, urlencode

import orjson
from graphql import GraphQLError, OperationDefinitionNode, parse
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from app import domain, store
from app.errors import (
    PERSISTED_QUERY_HASH_MISMATCH,
    PERSISTED_QUERY_NOT_ALLOWED,
    PERSISTED_QUERY_NOT_FOUND,
    UNAVAILABLE_MESSAGE,
    InvalidInput,
    Unavailable,
)
from app.http.middleware import current_request, send_error
from app.settings import Settings

# What Apollo's link looks for (the message, or the code) before it sends the query.
NOT_FOUND = PERSISTED_QUERY_NOT_FOUND
NOT_FOUND_MESSAGE = "PersistedQueryNotFound"
HASH_MISMATCH = PERSISTED_QUERY_HASH_MISMATCH
NOT_ALLOWED = PERSISTED_QUERY_NOT_ALLOWED
CODES = (NOT_FOUND, HASH_MISMATCH, NOT_ALLOWED)
SHA256 = re.compile(r"[0-9a-fA-F]{64}")
# A GET answered "not found" must not be cached on the way: the next one will be found.
NO_STORE = ((b"cache-control", b"private, no-store"),)


@dataclass(frozen=True)
class Refusal:
    status: int
    code: str
    message: str


@dataclass(frozen=True)
class Fill:
    """Run the request with this query."""

    query: str


FORMAT = Refusal(
    400,
    InvalidInput.code,
    'extensions.persistedQuery must be {"version": 1, "sha256Hash": "<64 hex digits>"}.',
)
MISMATCH = Refusal(
    400, HASH_MISMATCH, "extensions.persistedQuery.sha256Hash is not the SHA-256 hash of the query."
)
UNTRUSTED_HASH = Refusal(
    400, NOT_ALLOWED, "No trusted document has this sha256Hash: only trusted documents run here."
)
NO_HASH = Refusal(
    400,
    NOT_ALLOWED,
    "Only trusted documents run here: send the sha256Hash of one in extensions.persistedQuery.",
)


def sha256_hex(query: str) -> str:
    """The hash Apollo's link sends: SHA-256 of the query's UTF-8 text, in lowercase hex."""
    return hashlib.sha256(query.encode("utf-8", "surrogatepass")).hexdigest()


def requested_hash(request: object) -> str | Refusal | None:
    """The `sha256Hash` of the request's `extensions.persistedQuery` (lowercase), a Refusal if
    that is malformed, None if there is none."""
    extensions = request.get("extensions") if isinstance(request, dict) else None
    persisted = extensions.get("persistedQuery") if isinstance(extensions, dict) else None
    if persisted is None:
        return None
    if not isinstance(persisted, dict):
        return FORMAT
    version, sha256 = persisted.get("version"), persisted.get("sha256Hash")
    if version != 1 or isinstance(version, bool) or not isinstance(sha256, str):
        return FORMAT
    return sha256.lower() if SHA256.fullmatch(sha256) else FORMAT


class PersistedQueries:
    """Fills in the query of persisted-query requests, registers new ones, and in trusted mode
    lets through only trusted documents (module docstring). Bodies are read whole: RequestGuard
    limits them to `max_body_bytes`."""

    def __init__(self, app: ASGIApp, settings: Settings) -> None:
        self.app = app
        self.trusted_only = settings.trusted_documents_only
        self.max_bytes = settings.persisted_query_max_bytes
        self.per_organization = settings.persisted_queries_per_organization
        self.max_tokens = settings.max_query_tokens
        self.max_body_bytes = settings.max_body_bytes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "websocket" and self.trusted_only:
            await self._websocket(scope, receive, send)
        elif scope["type"] != "http":
            await self.app(scope, receive, send)
        elif scope["method"] in ("GET", "HEAD"):
            await self._get(scope, receive, send)
        elif scope["method"] == "POST":
            await self._post(scope, receive, send)
        else:  # the endpoint refuses other methods (405)
            await self.app(scope, receive, send)

    async def _get(self, scope: Scope, receive: Receive, send: Send) -> None:
        raw = scope.get("query_string", b"")
        if len(raw) > self.max_body_bytes:
            too_large = f"The query string is over {self.max_body_bytes:,} bytes."
            await _refuse(send, Refusal(413, InvalidInput.code, too_large))
            return
        pairs = parse_qsl(raw.decode("latin-1"), keep_blank_values=True)
        params = dict(pairs)  # the last of a repeated name wins, as for the endpoint
        request: dict[str, Any] = {"query": params.get("query")}
        if "extensions" in params:
            request["extensions"] = _json(params["extensions"].encode())
        outcome = await self._decide(scope, request, text_stands_alone=False)
        if isinstance(outcome, Refusal):
            await _refuse(send, outcome)
            return
        if isinstance(outcome, Fill):
            pairs = [(name, value) for name, value in pairs if name != "query"]
            query_string = urlencode([*pairs, ("query", outcome.query)]).encode("ascii")
            scope = {**scope, "query_string": query_string}
        await self.app(scope, receive, send)

    async def _post(self, scope: Scope, receive: Receive, send: Send) -> None:
        body = await self._read_body(receive, send)
        if body is None:
            return
        headers = dict(scope["headers"])
        content_type = headers.get(b"content-type", b"").decode("latin-1").lower()
        request = None
        if "application/json" in content_type and (self.trusted_only or b"persistedQuery" in body):
            request = _json(body)
        outcome = await self._decide(scope, request, text_stands_alone=False)
        if isinstance(outcome, Refusal):
            await _refuse(send, outcome)
            return
        if isinstance(outcome, Fill):
            assert isinstance(request, dict)
            body = orjson.dumps({**request, "query": outcome.query})
            length = str(len(body)).encode()
            scope = {
                **scope,
                "headers": [
                    *((n, v) for n, v in scope["headers"] if n.lower() != b"content-length"),
                    (b"content-length", length),
                ],
            }
        await self.app(scope, _replay(body, receive), send)

    async def _read_body(self, receive: Receive, send: Send) -> bytes | None:
        """The whole body; None when the client left, or it was too large (then answered)."""
        chunks: list[bytes] = []
        size = 0
        while True:
            message = await receive()
            if message["type"] == "http.disconnect":
                return None
            chunk = message.get("body", b"")
            size += len(chunk)
            if size > self.max_body_bytes:
                too_large = f"The request body is over {self.max_body_bytes:,} bytes."
                await _refuse(send, Refusal(413, InvalidInput.code, too_large))
                return None
            chunks.append(chunk)
            if not message.get("more_body", False):
                return b"".join(chunks)

    async def _websocket(self, scope: Scope, receive: Receive, send: Send) -> None:
        """Trusted mode on the WebSocket: each `subscribe` (after the connection is
        acknowledged; before, the endpoint closes the socket) must be a trusted document."""
        acknowledged = False

        async def watched_send(message: Message) -> None:
            nonlocal acknowledged
            if not acknowledged and message["type"] == "websocket.send":
                sent = _json((message.get("text") or "").encode())
                acknowledged = isinstance(sent, dict) and sent.get("type") == "connection_ack"
            await send(message)

        async def checked_receive() -> Message:
            while True:
                message = await receive()
                if not acknowledged or message["type"] != "websocket.receive":
                    return message
                text = message.get("text")
                data = _json(text.encode() if text is not None else message.get("bytes") or b"")
                if not (isinstance(data, dict) and data.get("type") == "subscribe"):
                    return message
                payload, operation_id = data.get("payload"), data.get("id")
                outcome = await self._decide(scope, payload, text_stands_alone=True)
                if outcome is None or not isinstance(operation_id, str):
                    return message
                if isinstance(outcome, Fill):
                    assert isinstance(payload, dict)
                    filled = {**data, "payload": {**payload, "query": outcome.query}}
                    return {"type": "websocket.receive", "text": orjson.dumps(filled).decode()}
                error = {"message": outcome.message, "extensions": {"code": outcome.code}}
                answer = {"id": operation_id, "type": "error", "payload": [error]}
                await send({"type": "websocket.send", "text": orjson.dumps(answer).decode()})

        await self.app(scope, checked_receive, watched_send)

    async def _decide(
        self, scope: Scope, request: object, *, text_stands_alone: bool
    ) -> Fill | Refusal | None:
        """What becomes of a request (its JSON object, or None if it has none): its query filled
        in, a refusal, or (None) passed on as it is. `text_stands_alone`: in trusted mode, a
        query without a hash may run if it is a trusted document's text (WebSocket)."""
        try:
            return await self._outcome(scope, request, text_stands_alone)
        except Exception as error:
            if not store.is_unavailable(error):
                raise
            return Refusal(503, Unavailable.code, UNAVAILABLE_MESSAGE)

    async def _outcome(
        self, scope: Scope, request: object, text_stands_alone: bool
    ) -> Fill | Refusal | None:
        sha256 = requested_hash(request)
        if isinstance(sha256, Refusal):
            return sha256
        query = request.get("query") if isinstance(request, dict) else None
        if query is not None and not isinstance(query, str):
            return NO_HASH if self.trusted_only else None  # the endpoint refuses it
        if sha256 is None:
            if not self.trusted_only:
                return None
            if not (text_stands_alone and query is not None):
                return NO_HASH
            sha256 = sha256_hex(query)
        elif query is not None and sha256_hex(query) != sha256:
            return MISMATCH
        db: store.Database = scope["app"].state.runtime.db
        at = domain.now()
        if self.trusted_only:
            trusted = await store.find_persisted_query(
                db, sha256=sha256, organization_id=None, at=at
            )
            if trusted is None:
                return UNTRUSTED_HASH
            return Fill(trusted) if query is None else None
        organization_id = scope["state"]["caller"].organization_id
        if query is None:
            found = await store.find_persisted_query(
                db, sha256=sha256, organization_id=organization_id, at=at
            )
            return Refusal(200, NOT_FOUND, NOT_FOUND_MESSAGE) if found is None else Fill(found)
        if self._storable(query):
            await store.register_persisted_query(
                db,
                sha256=sha256,
                query=query,
                organization_id=organization_id,
                at=at,
                limit=self.per_organization,
            )
        return None

    def _storable(self, query: str) -> bool:
        """Within the size limit, and a GraphQL document with an operation."""
        if len(query.encode("utf-8", "surrogatepass")) > self.max_bytes:
            return False
        try:
            document = parse(query, no_location=True, max_tokens=self.max_tokens)
        except GraphQLError:
            return False
        return any(isinstance(d, OperationDefinitionNode) for d in document.definitions)


def _json(data: bytes) -> object:
    try:
        return orjson.loads(data)
    except orjson.JSONDecodeError:
        return None


def _replay(body: bytes, receive: Receive) -> Receive:
    """`receive` with the body (already read) given again first."""
    replayed = False

    async def replay() -> Message:
        nonlocal replayed
        if replayed:
            return await receive()
        replayed = True
        return {"type": "http.request", "body": body, "more_body": False}

    return replay


async def _refuse(send: Send, refusal: Refusal) -> None:
    record = current_request.get()
    if record is not None:
        record.error_codes.append(refusal.code)
    await send_error(
        send,
        refusal.status,
        refusal.code,
        refusal.message,
        request_id=None if record is None else record.id,
        headers=NO_STORE if refusal.code == NOT_FOUND else (),
    )
