"""Persisted queries: GraphQL documents by the SHA-256 hash of their text (http/persisted.py).

Two kinds share the collection, told apart by their `_id`:

- A **trusted document** (`./scripts/register-documents`): `_id` is the hash, `trusted: true`,
  no organization, no expiry. Served to every organization, and the only documents served when
  TRUSTED_DOCUMENTS_ONLY is on.
- A **registration** (automatic persisted queries): `_id` is `<hash>:<organizationId>`, seen by
  that organization only. It expires PERSISTED_QUERY_TTL after it was (last) registered, and an
  organization holds at most `limit` unexpired ones, so a client cannot fill the database.

The hash is 64 lowercase hex digits, so `<hash>` and `<hash>:<organization>` never collide.
"""

import contextlib
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from pymongo.errors import DuplicateKeyError

from app.store.connection import Database
from app.store.names import PERSISTED_QUERIES

PERSISTED_QUERY_TTL = timedelta(days=30)


@dataclass(frozen=True)
class TrustedDocument:
    sha256: str
    name: str
    query: str


def _registration_id(sha256: str, organization_id: str) -> str:
    return f"{sha256}:{organization_id}"


async def find_persisted_query(
    db: Database, *, sha256: str, organization_id: str | None, at: datetime
) -> str | None:
    """The text with this hash: a trusted document's, or (given an organization) one of its
    unexpired registrations'. Without an organization, trusted documents only."""
    ids = [sha256]
    if organization_id is not None:
        ids.append(_registration_id(sha256, organization_id))
    async for doc in db[PERSISTED_QUERIES].find({"_id": {"$in": ids}}):
        if doc.get("trusted") or doc["expiresAt"] > at:
            return str(doc["query"])
    return None


async def register_persisted_query(
    db: Database, *, sha256: str, query: str, organization_id: str, at: datetime, limit: int
) -> bool:
    """Keep `query` (whose hash the caller has checked) for the organization, for
    PERSISTED_QUERY_TTL from `at`; False, keeping nothing, when it holds `limit` unexpired
    registrations already (other than this one). Registering again renews. Concurrent
    registrations may each see room for one more: the limit can be passed by as many as register
    at the same moment."""
    registration_id = _registration_id(sha256, organization_id)
    held = await db[PERSISTED_QUERIES].count_documents(
        {"organizationId": organization_id, "expiresAt": {"$gt": at}}
    )
    if held >= limit:  # no room, unless this is one of them (then it is renewed)
        registered = await db[PERSISTED_QUERIES].find_one({"_id": registration_id})
        if registered is None or registered["expiresAt"] <= at:
            return False
    # A DuplicateKeyError: the same registration, inserted meanwhile; it is there.
    with contextlib.suppress(DuplicateKeyError):
        await db[PERSISTED_QUERIES].update_one(
            {"_id": registration_id},
            {
                "$set": {"expiresAt": at + PERSISTED_QUERY_TTL},
                "$setOnInsert": {
                    "organizationId": organization_id,
                    "query": query,
                    "createdAt": at,
                },
            },
            upsert=True,
        )
    return True


async def list_trusted_documents(db: Database) -> list[TrustedDocument]:
    """Every trusted document, by name."""
    documents = [
        TrustedDocument(sha256=str(doc["_id"]), name=str(doc["name"]), query=str(doc["query"]))
        async for doc in db[PERSISTED_QUERIES].find({"trusted": True})
    ]
    return sorted(documents, key=lambda document: (document.name, document.sha256))


async def put_trusted_documents(
    db: Database, documents: Sequence[TrustedDocument], *, at: datetime, prune: bool
) -> list[TrustedDocument]:
    """Store `documents` as trusted (again: idempotent); with `prune`, remove the trusted
    documents not among them. The removed documents."""
    for document in documents:
        await db[PERSISTED_QUERIES].update_one(
            {"_id": document.sha256},
            {
                "$set": {"trusted": True, "name": document.name, "query": document.query},
                "$setOnInsert": {"createdAt": at},
            },
            upsert=True,
        )
    if not prune:
        return []
    keep = {document.sha256 for document in documents}
    stale = [d for d in await list_trusted_documents(db) if d.sha256 not in keep]
    if stale:
        await db[PERSISTED_QUERIES].delete_many({"_id": {"$in": [d.sha256 for d in stale]}})
    return stale
