"""Idempotency keys: a create claims its key, with the id it will make, before any write.

A claim is held by one call at a time (`owner`, since `takenAt`). A call that finds the key
held by a call whose lease ran out (it outlived the request deadline: it is dead) takes the
claim over. A refused create releases its claim, so the key stays unused; a finished one marks
it done, so a retry returns its result."""

import asyncio
import dataclasses
import hashlib
import json
import uuid
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from pymongo.errors import DuplicateKeyError

from app.domain import Clock
from app.errors import Conflict
from app.store.connection import Database
from app.store.names import IDEMPOTENCY_KEYS

IDEMPOTENCY_TTL = timedelta(hours=24)
# How long a call runs at most (the request deadline) and a margin: the lease of a claim.
LEASE = timedelta(seconds=15)
# How long a retried create that must not run alongside its first call waits for it.
REPLAY_WAIT = timedelta(seconds=5)


@dataclass(frozen=True)
class Claim:
    """An idempotency key taken for a create: the id it makes, and how far it got."""

    key_id: str | None  # None: no key, nothing claimed
    result_id: str
    done: bool
    owner: str | None = None  # set when this call holds the key
    taken_over: bool = False  # from a first call that died


async def claim(
    db: Database,
    *,
    organization_id: str,
    user_id: str,
    operation: str,
    key: str,
    request: Any,
    result_id: str,
    clock: Clock,
    lease: timedelta = LEASE,
    exclusive: bool = False,
) -> Claim:
    """Take `key` (in the caller's own namespace) for this create, or find the claim of the
    first call with it. The same key with another input is a CONFLICT. A claim whose holder's
    `lease` ran out is taken over. `exclusive`: wait (up to REPLAY_WAIT) while the first call
    holds the key, else run alongside it. Keys expire after IDEMPOTENCY_TTL."""
    key_id = _digest([organization_id, user_id, operation, key])
    fingerprint = _digest(request)
    owner = uuid.uuid4().hex
    give_up = asyncio.get_running_loop().time() + REPLAY_WAIT.total_seconds()
    while True:
        at = clock()
        try:
            await db[IDEMPOTENCY_KEYS].insert_one(
                {
                    "_id": key_id,
                    "organizationId": organization_id,
                    "fingerprint": fingerprint,
                    "resultId": result_id,
                    "done": False,
                    "createdAt": at,
                    "owner": owner,
                    "takenAt": at,
                }
            )
            return Claim(key_id, result_id, done=False, owner=owner)
        except DuplicateKeyError:
            first = await db[IDEMPOTENCY_KEYS].find_one({"_id": key_id})
        if first is None:  # released or expired just now: take it
            continue
        if first["fingerprint"] != fingerprint:
            raise Conflict(f"idempotencyKey {key!r} was used for a different {operation} input.")
        if first["done"]:
            return Claim(key_id, first["resultId"], done=True)
        if (first.get("takenAt") or first["createdAt"]) <= at - lease:
            taken = await db[IDEMPOTENCY_KEYS].update_one(
                {"_id": key_id, "owner": first.get("owner"), "done": False},
                {"$set": {"owner": owner, "takenAt": at}},
            )
            if taken.modified_count:
                return Claim(key_id, first["resultId"], done=False, owner=owner, taken_over=True)
            continue
        if not exclusive:
            return Claim(key_id, first["resultId"], done=False)
        if asyncio.get_running_loop().time() > give_up:
            raise Conflict(
                f"The first {operation} with this idempotencyKey has not finished; retry."
            )
        await asyncio.sleep(0.05)


async def finish(db: Database, claim: Claim) -> None:
    if claim.key_id is not None and not claim.done:
        await db[IDEMPOTENCY_KEYS].update_one({"_id": claim.key_id}, {"$set": {"done": True}})


async def release(db: Database, claim: Claim) -> None:
    """Give the key back (a refused create saves no result), if this call still holds it."""
    if claim.key_id is not None and claim.owner is not None:
        await db[IDEMPOTENCY_KEYS].delete_one(
            {"_id": claim.key_id, "owner": claim.owner, "done": False}
        )


def _digest(value: Any) -> str:
    canonical = json.dumps(_plain(value), sort_keys=True, separators=(",", ":"), default=_plain)
    return hashlib.sha256(canonical.encode()).hexdigest()


def _plain(value: Any) -> Any:
    """Domain values as JSON values."""
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return dataclasses.asdict(value)
    return value if isinstance(value, list | dict | str | int | float | bool | None) else str(value)
