"""API keys: their format, issuing them, and turning a Bearer header into the caller.

A key reads `sk_<id>_<secret>`. Only the id and a SHA-256 hash of the secret are stored (the
secret is 256 random bits, so a fast hash is enough); the hash is compared in constant time.
"""

import hashlib
import hmac
import re
import secrets
import time
from collections.abc import Callable
from dataclasses import dataclass, field

from app import domain, store
from app.domain import Caller, Clock

# Whom the local development key of ./scripts/serve acts for.
LOCAL_ORGANIZATION = "org_local"
LOCAL_USER = "user_local"

KEY_PATTERN = re.compile(r"sk_([0-9a-f]{16})_([A-Za-z0-9_-]{43})")
# Compared against when the key id is unknown, so that both failures take the same work.
_DUMMY_HASH = hashlib.sha256(b"no such key").hexdigest()


def hash_secret(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


async def issue_key(
    db: store.Database,
    *,
    organization_id: str,
    user_id: str,
    name: str,
    clock: Clock = domain.now,
) -> str:
    """Create and store a key for the organization and user; the key is returned only here."""
    key_id, secret = secrets.token_hex(8), secrets.token_urlsafe(32)
    await store.insert_api_key(
        db,
        store.ApiKey(
            id=key_id,
            organization_id=organization_id,
            user_id=user_id,
            name=name,
            secret_hash=hash_secret(secret),
            created_at=clock(),
            revoked_at=None,
        ),
    )
    return f"sk_{key_id}_{secret}"


def parse_bearer(header: str | None) -> tuple[str, str] | None:
    """The (key id, secret) of an `Authorization: Bearer sk_…` header, or None."""
    scheme, _, credentials = (header or "").partition(" ")
    match = KEY_PATTERN.fullmatch(credentials.strip())
    if scheme.lower() != "bearer" or match is None:
        return None
    return match.group(1), match.group(2)


@dataclass
class KeyCache:
    """Valid keys this instance looked up, each for `seconds`: a warm request needs no lookup,
    and a revocation (on any instance) takes effect here within `seconds`."""

    seconds: float = 1.0
    size: int = 10_000
    clock: Callable[[], float] = time.monotonic
    keys: dict[str, tuple[float, store.ApiKey]] = field(default_factory=dict)

    def get(self, key_id: str) -> store.ApiKey | None:
        found = self.keys.get(key_id)
        if found is None or found[0] < self.clock():
            return None
        return found[1]

    def put(self, key: store.ApiKey) -> None:
        if len(self.keys) >= self.size:
            now = self.clock()
            self.keys = {k: v for k, v in self.keys.items() if v[0] >= now}
            if len(self.keys) >= self.size:
                self.keys.clear()
        self.keys[key.id] = (self.clock() + self.seconds, key)


async def authenticate(
    db: store.Database, header: str | None, *, cache: KeyCache | None = None
) -> Caller | None:
    """The caller whose valid key the header carries, or None. For HTTP and WebSocket alike.
    The secret is checked on every call, the key looked up only when `cache` has not it."""
    parsed = parse_bearer(header)
    if parsed is None:
        return None
    key_id, secret = parsed
    key = cache.get(key_id) if cache is not None and cache.seconds > 0 else None
    if key is None:
        key = await store.get_api_key(db, key_id=key_id)
        if key is not None and cache is not None and cache.seconds > 0:
            cache.put(key)
    stored = _DUMMY_HASH if key is None else key.secret_hash
    if not hmac.compare_digest(stored, hash_secret(secret)) or key is None:
        return None
    return Caller(organization_id=key.organization_id, user_id=key.user_id, key_id=key_id)


async def revoke_key(db: store.Database, *, key_id: str, clock: Clock = domain.now) -> bool:
    """Revoke the key; False if there is no such key."""
    return await store.revoke_api_key(db, key_id=key_id, at=clock())
