"""The trash: a deleted thread or message is hidden from every read, count and filter, and can
be restored until it is purged. A trashed thread keeps its messages as they are, so a restore
brings back exactly what was there; a trashed message keeps its number, so it returns to its
place."""

from datetime import datetime
from typing import Any

from app.domain import EventType, Message, Thread
from app.store.codec import message_from_doc, thread_from_doc
from app.store.connection import Database, aggregate
from app.store.counters import sync_thread_count
from app.store.events import thread_event
from app.store.listings import TRASHED, VISIBLE
from app.store.messages import numbered
from app.store.names import MESSAGES, THREADS
from app.store.revisions import remove_revisions
from app.store.versioned import REVISION, find_one_and_update


async def trash_thread(db: Database, *, organization_id: str, thread_id: str, at: datetime) -> bool:
    """Whether the (visible) thread went to the trash."""
    moved = await db[THREADS].update_one(
        {"_id": thread_id, "organizationId": organization_id, **VISIBLE},
        {
            "$set": {
                "hidden": TRASHED,
                "deletedAt": at,
                **thread_event(EventType.THREAD_DELETED, at),
            }
        },
    )
    return moved.matched_count > 0


async def restore_thread(
    db: Database, *, organization_id: str, thread_id: str, at: datetime
) -> Thread | None:
    """The thread back from the trash (its activity moved to `at`); None if it is not there."""
    doc = await find_one_and_update(
        db,
        THREADS,
        {"_id": thread_id, "organizationId": organization_id, "hidden": TRASHED},
        {
            "$unset": {"hidden": "", "deletedAt": ""},
            "$set": thread_event(EventType.THREAD_RESTORED, at),
            "$max": {"updatedAt": at},
        },
    )
    return None if doc is None else thread_from_doc(doc)


async def trash_message(
    db: Database, *, organization_id: str, message_id: str, at: datetime, event: int
) -> bool:
    """Whether the message went to the trash now (False if it was there already: of two racing
    deletes, one wins)."""
    moved = await db[MESSAGES].update_one(
        {"organizationId": organization_id, "_id": message_id, "deletedAt": None},
        {"$set": {"deletedAt": at}, "$inc": {REVISION: 1}, **numbered(event, at)},
    )
    return moved.matched_count > 0


async def trashed_message(db: Database, *, organization_id: str, message_id: str) -> Message | None:
    scan = {"_id": message_id, "organizationId": organization_id}
    found = await aggregate(
        db, MESSAGES, [{"$match": scan}, {"$match": {"deletedAt": {"$ne": None}}}]
    )
    return message_from_doc(found[0]) if found else None


async def trashed_ids(db: Database, *, organization_id: str, ids: list[str]) -> set[str]:
    """Those of the messages `ids` that are in the trash."""
    scan = {"organizationId": organization_id, "_id": {"$in": ids}}
    pipeline: list[dict[str, Any]] = [
        {"$match": scan},
        {"$match": {"deletedAt": {"$ne": None}}},
        {"$project": {"_id": 1}},
    ]
    return {doc["_id"] for doc in await aggregate(db, MESSAGES, pipeline)}


async def restore_message(
    db: Database, *, organization_id: str, message_id: str, event: int, at: datetime
) -> Message | None:
    """The message back from the trash (found there with `trashed_message`); None if gone."""
    doc = await find_one_and_update(
        db,
        MESSAGES,
        {"_id": message_id, "organizationId": organization_id},
        {"$unset": {"deletedAt": ""}, **numbered(event, at)},
    )
    return None if doc is None else message_from_doc(doc)


async def purge_trash(db: Database, *, deleted_before: datetime) -> int:
    """Remove for good what went to the trash before `deleted_before`; how many threads and
    messages. A thread's messages go before the thread (a crash in between leaves a trashed
    thread, purged next time)."""
    purged = 0
    old = {"hidden": TRASHED, "deletedAt": {"$lt": deleted_before}}
    async for doc in db[THREADS].find(old, {"organizationId": 1}):
        organization_id, thread_id = doc["organizationId"], doc["_id"]
        await sync_thread_count(
            db, organization_id=organization_id, thread_id=thread_id, uncount=True
        )
        await remove_revisions(db, organization_id=organization_id, thread_id=thread_id)
        await db[MESSAGES].delete_many({"organizationId": organization_id, "threadId": thread_id})
        await db[THREADS].delete_one({"_id": thread_id, "organizationId": organization_id})
        purged += 1
    old_messages = db[MESSAGES].find({"deletedAt": {"$lt": deleted_before}}, {"organizationId": 1})
    async for doc in old_messages:
        # Its kept revisions first: a crash in between leaves the message for the next purge.
        organization_id, message_id = doc["organizationId"], doc["_id"]
        await remove_revisions(db, organization_id=organization_id, message_id=message_id)
        await db[MESSAGES].delete_one({"_id": message_id, "organizationId": organization_id})
        purged += 1
    return purged
