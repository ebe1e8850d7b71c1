"""Thread documents: reads by id, and the writes, each ordered so that a crash between two
single-document operations leaves nothing half-done visible (standalone MongoDB has no
multi-document transactions); `finish_interrupted_writes` completes the rest at start-up."""

from collections.abc import Sequence
from datetime import datetime, timedelta

from pymongo import ReturnDocument
from pymongo.errors import DuplicateKeyError

from app.domain import Clock, Message, Thread, ThreadChanges, ThreadState, now
from app.errors import NotFound
from app.store.codec import changes_doc, message_doc, thread_doc, thread_from_doc
from app.store.connection import Database, aggregate
from app.store.counters import sync_thread_count
from app.store.listings import TRASHED, VISIBLE
from app.store.names import MESSAGES, THREADS
from app.store.revisions import remove_revisions

# A thread being created with its messages, or being deleted, is hidden until done.
CREATING, DELETING = "creating", "deleting"


async def get_threads(db: Database, *, organization_id: str, ids: list[str]) -> dict[str, Thread]:
    """The visible threads among `ids`, by id."""
    scan = {"organizationId": organization_id, "_id": {"$in": ids}}
    docs = await aggregate(db, THREADS, [{"$match": scan}, {"$match": VISIBLE}])
    return {doc["_id"]: thread_from_doc(doc) for doc in docs}


async def get_thread(db: Database, *, organization_id: str, thread_id: str) -> Thread:
    found = await get_threads(db, organization_id=organization_id, ids=[thread_id])
    if thread_id not in found:
        raise NotFound(f"Thread {thread_id} not found.")
    return found[thread_id]


async def insert_thread(db: Database, thread: Thread, messages: Sequence[Message]) -> bool:
    """Whether the thread was written: False if one with its id exists (a racing retry)."""
    doc = thread_doc(thread)
    try:
        # Hidden until all its messages are in: a crash leaves nothing visible, and the sweep
        # removes it.
        await db[THREADS].insert_one({**doc, "hidden": CREATING} if messages else doc)
    except DuplicateKeyError:
        return False
    if messages:
        await db[MESSAGES].insert_many([message_doc(message) for message in messages])
        await db[THREADS].update_one({"_id": thread.id}, {"$unset": {"hidden": ""}})
    return True


async def update_thread(
    db: Database,
    *,
    organization_id: str,
    thread_id: str,
    changes: ThreadChanges,
    states: Sequence[ThreadState],
    at: datetime,
) -> Thread | None:
    """Apply the changes if the thread is in one of `states`; None if it is not (or gone)."""
    query = {
        "_id": thread_id,
        "organizationId": organization_id,
        **VISIBLE,
        "state": {"$in": [state.value for state in states]},
    }
    doc = await db[THREADS].find_one_and_update(
        query,
        {"$set": changes_doc(changes), "$max": {"updatedAt": at}},
        return_document=ReturnDocument.AFTER,
    )
    return None if doc is None else thread_from_doc(doc)


async def delete_thread(db: Database, *, organization_id: str, thread_id: str) -> None:
    """Hide the thread (visible or in the trash), then remove its messages and itself."""
    hidden = await db[THREADS].update_one(
        {"_id": thread_id, "organizationId": organization_id, "hidden": {"$in": [None, TRASHED]}},
        {"$set": {"hidden": DELETING}},
    )
    if hidden.matched_count == 0:
        raise NotFound(f"Thread {thread_id} not found.")
    await _remove_thread(db, organization_id=organization_id, thread_id=thread_id)


async def _remove_thread(db: Database, *, organization_id: str, thread_id: str) -> None:
    # Messages (their kept revisions first) before the thread: a crash in between leaves a
    # hidden thread, never a message or a revision without one.
    await sync_thread_count(db, organization_id=organization_id, thread_id=thread_id)
    await remove_revisions(db, organization_id=organization_id, thread_id=thread_id)
    await db[MESSAGES].delete_many({"organizationId": organization_id, "threadId": thread_id})
    await db[THREADS].delete_one({"_id": thread_id, "organizationId": organization_id})


async def finish_interrupted_writes(
    db: Database, *, creating_older_than: timedelta, clock: Clock = now
) -> int:
    """Remove threads whose deletion was interrupted, or whose creation was long ago abandoned."""
    cutoff = clock() - creating_older_than
    finished = 0
    async for doc in db[THREADS].find({"hidden": {"$in": [CREATING, DELETING]}}):
        if doc["hidden"] == CREATING and doc["createdAt"] > cutoff:
            continue
        await _remove_thread(db, organization_id=doc["organizationId"], thread_id=doc["_id"])
        finished += 1
    return finished
