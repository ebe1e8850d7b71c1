"""API key documents: an id, the owner, and a hash of the secret (never the secret)."""

from dataclasses import dataclass
from datetime import datetime

from app.store.connection import Database
from app.store.names import API_KEYS


@dataclass(frozen=True)
class ApiKey:
    id: str
    organization_id: str
    user_id: str
    name: str
    secret_hash: str
    created_at: datetime
    revoked_at: datetime | None


async def insert_api_key(db: Database, key: ApiKey) -> None:
    await db[API_KEYS].insert_one(
        {
            "_id": key.id,
            "organizationId": key.organization_id,
            "userId": key.user_id,
            "name": key.name,
            "secretHash": key.secret_hash,
            "createdAt": key.created_at,
            "revokedAt": key.revoked_at,
        }
    )


def _api_key(doc: dict[str, object]) -> ApiKey:
    return ApiKey(
        id=str(doc["_id"]),
        organization_id=str(doc["organizationId"]),
        user_id=str(doc["userId"]),
        name=str(doc["name"]),
        secret_hash=str(doc["secretHash"]),
        created_at=doc["createdAt"],  # type: ignore[arg-type]
        revoked_at=doc["revokedAt"],  # type: ignore[arg-type]
    )


async def get_api_key(db: Database, *, key_id: str) -> ApiKey | None:
    """The key, unless it is unknown or revoked."""
    doc = await db[API_KEYS].find_one({"_id": key_id})
    return None if doc is None or doc["revokedAt"] is not None else _api_key(doc)


async def list_api_keys(db: Database, *, organization_id: str) -> list[ApiKey]:
    cursor = db[API_KEYS].find({"organizationId": organization_id}).sort("createdAt", 1)
    return [_api_key(doc) for doc in await cursor.to_list(None)]


async def revoke_api_key(db: Database, *, key_id: str, at: datetime) -> bool:
    """Revoke the key; False if there is no such key. Revoking twice is harmless."""
    doc = await db[API_KEYS].find_one({"_id": key_id})
    if doc is None:
        return False
    if doc["revokedAt"] is None:
        await db[API_KEYS].update_one({"_id": key_id}, {"$set": {"revokedAt": at}})
    return True
