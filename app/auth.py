"""API keys: their format, and the gate that turns a Bearer key into the caller.

A key reads `sk_<id>_<secret>`. Only the id and a SHA-256 hash of the secret are stored (the
secret is 256 random bits, so a fast hash is enough); the hash is compared in constant time.
"""

import hashlib
import hmac
import re
import secrets
from dataclasses import dataclass
from urllib.parse import parse_qs

from starlette.types import ASGIApp, Receive, Scope, Send

from app import store
from app.errors import UNAVAILABLE_MESSAGE, Unauthenticated, Unavailable, error_body
from app.middleware import current_request

# Whom the local development key of ./scripts/serve acts for.
LOCAL_ORGANIZATION = "org_local"
LOCAL_USER = "user_local"

KEY_PATTERN = re.compile(r"sk_([0-9a-f]{16})_([A-Za-z0-9_-]{43})")
# Compared against when the key id is unknown, so that both failures take the same work.
_DUMMY_HASH = hashlib.sha256(b"no such key").hexdigest()

UNAUTHENTICATED_MESSAGE = "A valid API key is required: send 'Authorization: Bearer <key>'."


@dataclass(frozen=True)
class Caller:
    organization_id: str
    user_id: str
    key_id: str


@dataclass(frozen=True)
class NewKey:
    key_id: str
    secret_hash: str
    key: str


def new_key() -> NewKey:
    key_id, secret = secrets.token_hex(8), secrets.token_urlsafe(32)
    return NewKey(key_id=key_id, secret_hash=hash_secret(secret), key=f"sk_{key_id}_{secret}")


async def issue_key(db: store.Database, *, organization_id: str, user_id: str, name: str) -> str:
    """Create and store a key for the organization and user; the key is returned only here."""
    key = new_key()
    await store.create_api_key(
        db,
        key_id=key.key_id,
        secret_hash=key.secret_hash,
        organization_id=organization_id,
        user_id=user_id,
        name=name,
    )
    return key.key


def hash_secret(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


def parse_bearer(header: str | None) -> tuple[str, str] | None:
    """The (key id, secret) of an `Authorization: Bearer sk_…` header, or None."""
    scheme, _, credentials = (header or "").partition(" ")
    match = KEY_PATTERN.fullmatch(credentials.strip())
    if scheme.lower() != "bearer" or match is None:
        return None
    return match.group(1), match.group(2)


async def authenticate(db: store.Database, header: str | None) -> Caller | None:
    parsed = parse_bearer(header)
    if parsed is None:
        return None
    key_id, secret = parsed
    doc = await store.get_api_key(db, key_id=key_id)
    stored = _DUMMY_HASH if doc is None else doc["secretHash"]
    if not hmac.compare_digest(stored, hash_secret(secret)) or doc is None:
        return None
    return Caller(organization_id=doc["organizationId"], user_id=doc["userId"], key_id=key_id)


class RequireApiKey:
    """Answers 401 to any GraphQL request without a valid key, and passes the caller on in
    `scope["state"]["caller"]`. Serves `page` (GraphiQL), which needs no key, to browsers."""

    def __init__(self, app: ASGIApp, *, page: str | None) -> None:
        self.app = app
        self.page = None if page is None else page.encode()

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        headers = dict(scope["headers"])
        if self.page is not None and _wants_page(scope, headers):
            await _respond(send, 200, self.page, [(b"content-type", b"text/html; charset=utf-8")])
            return
        header = headers.get(b"authorization", b"").decode("latin-1")
        record = current_request.get()
        request_id = None if record is None else record.id
        try:
            caller = await authenticate(scope["app"].state.database, header)
        except Exception as error:
            if not store.is_unavailable(error):
                raise
            body = error_body(Unavailable.code, UNAVAILABLE_MESSAGE, request_id)
            await _respond(send, 503, body, [(b"content-type", b"application/json")])
            return
        if caller is None:
            body = error_body(Unauthenticated.code, UNAUTHENTICATED_MESSAGE, request_id)
            await _respond(
                send,
                401,
                body,
                [
                    (b"content-type", b"application/json"),
                    (b"www-authenticate", b'Bearer realm="graphql"'),
                ],
            )
            return
        scope.setdefault("state", {})["caller"] = caller
        await self.app(scope, receive, send)


def _wants_page(scope: Scope, headers: dict[bytes, bytes]) -> bool:
    query = parse_qs(scope.get("query_string", b"").decode("latin-1"))
    accept = headers.get(b"accept", b"")
    return scope["method"] == "GET" and "query" not in query and b"text/html" in accept


async def _respond(
    send: Send, status: int, body: bytes, headers: list[tuple[bytes, bytes]]
) -> None:
    length = (b"content-length", str(len(body)).encode())
    await send({"type": "http.response.start", "status": status, "headers": [*headers, length]})
    await send({"type": "http.response.body", "body": body})
