"""Idempotency keys: a create claims its key, with the id it will make, before any write."""

import asyncio
import dataclasses
import hashlib
import json
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, TypeVar

from pymongo.errors import DuplicateKeyError

from app.errors import Conflict
from app.store.connection import Database
from app.store.names import IDEMPOTENCY_KEYS

T = TypeVar("T")
IDEMPOTENCY_TTL = timedelta(hours=24)
# How long a retried create waits for the first call's result to become visible.
REPLAY_WAIT = timedelta(seconds=5)


@dataclass(frozen=True)
class Claim:
    """An idempotency key taken for a create: the id it makes, and how far it got."""

    key_id: str | None  # None: no key, nothing claimed
    result_id: str
    done: bool


async def claim(
    db: Database,
    *,
    organization_id: str,
    user_id: str,
    operation: str,
    key: str,
    request: Any,
    result_id: str,
    at: datetime,
) -> Claim:
    """Take `key` (in the caller's own namespace) for this create, or find the claim of the
    first call with it. The same key with another input is a CONFLICT. Keys expire after
    IDEMPOTENCY_TTL."""
    key_id = _digest([organization_id, user_id, operation, key])
    fingerprint = _digest(request)
    while True:
        try:
            await db[IDEMPOTENCY_KEYS].insert_one(
                {
                    "_id": key_id,
                    "organizationId": organization_id,
                    "fingerprint": fingerprint,
                    "resultId": result_id,
                    "done": False,
                    "createdAt": at,
                }
            )
            return Claim(key_id, result_id, done=False)
        except DuplicateKeyError:
            first = await db[IDEMPOTENCY_KEYS].find_one({"_id": key_id})
        if first is not None:  # else it expired just now: take it
            break
    if first["fingerprint"] != fingerprint:
        raise Conflict(f"idempotencyKey {key!r} was used for a different {operation} input.")
    return Claim(key_id, first["resultId"], done=first["done"])


async def finish(db: Database, claim: Claim) -> None:
    if claim.key_id is not None and not claim.done:
        await db[IDEMPOTENCY_KEYS].update_one({"_id": claim.key_id}, {"$set": {"done": True}})


async def once_visible(found: Callable[[], Awaitable[T | None]], what: str) -> T:
    """What a racing first call with the same key is still creating, once it shows."""
    deadline = asyncio.get_running_loop().time() + REPLAY_WAIT.total_seconds()
    while (result := await found()) is None:
        if asyncio.get_running_loop().time() > deadline:
            raise Conflict(f"The first {what} with this idempotencyKey has not finished; retry.")
        await asyncio.sleep(0.05)
    return result


def _digest(value: Any) -> str:
    canonical = json.dumps(_plain(value), sort_keys=True, separators=(",", ":"), default=_plain)
    return hashlib.sha256(canonical.encode()).hexdigest()


def _plain(value: Any) -> Any:
    """Domain values as JSON values."""
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return dataclasses.asdict(value)
    return value if isinstance(value, list | dict | str | int | float | bool | None) else str(value)
