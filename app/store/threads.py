"""Thread documents: reads by id, and the writes, each ordered so that a crash between two
single-document operations leaves nothing half-done visible (standalone MongoDB has no
multi-document transactions); `finish_interrupted_writes` completes the rest (at start-up and
periodically)."""

from collections.abc import Sequence
from contextlib import suppress
from datetime import datetime, timedelta

from pymongo.errors import BulkWriteError, DuplicateKeyError

from app.domain import Clock, EventType, Message, Thread, ThreadChanges, ThreadState, now
from app.errors import Conflict, NotFound
from app.store.codec import (
    PENDING,
    Doc,
    changes_doc,
    keyed,
    message_doc,
    thread_doc,
    thread_from_doc,
)
from app.store.connection import Database, aggregate
from app.store.counters import sync_thread_count
from app.store.events import record_owed_event, thread_event
from app.store.listings import TRASHED, VISIBLE
from app.store.message_counts import settle_message_counts
from app.store.names import MESSAGES, THREADS
from app.store.revisions import remove_revisions
from app.store.versioned import find_one_and_update
from app.validation import MAX_THREAD_MESSAGES

INSERT_BATCH = 1_000  # messages per insert of a thread created with more than it holds

# A thread being created with its messages, or being deleted, is hidden until done; so are the
# leftovers of an abandoned creation while they are removed.
CREATING, DELETING, DISCARDING = "creating", "deleting", "discarding"
DUPLICATE_KEY = 11000


async def get_threads(db: Database, *, organization_id: str, ids: list[str]) -> dict[str, Thread]:
    """The visible threads among `ids`, by id."""
    if len(ids) == 1:
        # One id: a `find` by equality, which the embedded server answers faster than the
        # aggregate (its planner would scan every thread for a `find` with `$in`).
        found = await db[THREADS].find_one(
            {"organizationId": organization_id, "_id": ids[0], **VISIBLE}
        )
        docs = [] if found is None else [found]
    else:
        scan = {"organizationId": organization_id, "_id": {"$in": ids}}
        docs = await aggregate(db, THREADS, [{"$match": scan}, {"$match": VISIBLE}])
    return {doc["_id"]: thread_from_doc(doc) for doc in docs}


async def get_thread(db: Database, *, organization_id: str, thread_id: str) -> Thread:
    found = await get_threads(db, organization_id=organization_id, ids=[thread_id])
    if thread_id not in found:
        raise NotFound(f"Thread {thread_id} not found.")
    return found[thread_id]


async def insert_thread(db: Database, thread: Thread, messages: Sequence[Message]) -> Thread | None:
    """Write the thread with its messages, or finish writing the one with its id a first call
    (with the same input) began: that thread, as it is now; None if it is hidden otherwise (in
    the trash, being deleted)."""
    doc = thread_doc(thread)
    # Hidden until all its messages are in, and holding them until then: whoever comes next (a
    # retry, the sweep) finishes the creation, even alongside a first call still alive. Beyond
    # what one request may create (test and demo data), only hidden: the sweep removes it.
    held = len(messages) <= MAX_THREAD_MESSAGES
    if messages:
        pending = {PENDING: [message_doc(m) for m in messages]} if held else {}
        doc = {**doc, "hidden": CREATING, **pending}
    try:
        await db[THREADS].insert_one(doc)
    except DuplicateKeyError:
        found = await db[THREADS].find_one(
            {"_id": thread.id, "organizationId": thread.organization_id}
        )
        if found is None or (found.get("hidden") == CREATING and PENDING not in found):
            # an older creation, without its messages: the sweep removes it
            raise Conflict(f"Thread {thread.id} is being created; retry.") from None
        doc = found
    if doc.get("hidden") != CREATING:
        return None if doc.get("hidden") is not None else thread_from_doc(doc)
    if held:
        return thread_from_doc(await _finish_creating(db, doc))
    docs = [message_doc(message) for message in messages]
    for start in range(0, len(docs), INSERT_BATCH):  # each command well within a deadline
        await db[MESSAGES].insert_many(docs[start : start + INSERT_BATCH])
    owned = {"_id": thread.id, "organizationId": thread.organization_id}
    await db[THREADS].update_one(owned, {"$unset": {"hidden": ""}})
    return thread


async def _finish_creating(db: Database, doc: Doc) -> Doc:
    """Insert the messages the hidden thread holds that are not in yet, then reveal it."""
    try:
        await db[MESSAGES].insert_many([keyed(m) for m in doc[PENDING]], ordered=False)
    except BulkWriteError as error:
        if any(e["code"] != DUPLICATE_KEY for e in error.details["writeErrors"]):
            raise
    owned = {"_id": doc["_id"], "organizationId": doc["organizationId"]}
    revealed = await find_one_and_update(
        db, THREADS, {**owned, "hidden": CREATING}, {"$unset": {"hidden": "", PENDING: ""}}
    )
    if revealed is None:  # revealed by another call meanwhile
        revealed = await db[THREADS].find_one(owned)
    if revealed is None:
        raise Conflict(f"Thread {doc['_id']} is being created; retry.")
    await sync_thread_count(db, organization_id=doc["organizationId"], thread_id=doc["_id"])
    return revealed


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
    doc = await find_one_and_update(
        db,
        THREADS,
        query,
        {
            "$set": {**changes_doc(changes), **thread_event(EventType.THREAD_UPDATED, at)},
            "$max": {"updatedAt": at},
        },
    )
    return None if doc is None else thread_from_doc(doc)


async def hide_for_deletion(
    db: Database, *, organization_id: str, thread_id: str, at: datetime
) -> None:
    """Hide the thread (visible or in the trash) for good: `remove_thread` then removes it, or
    the sweep does after a crash (once its ThreadDeleted is logged)."""
    hidden = await db[THREADS].update_one(
        {"_id": thread_id, "organizationId": organization_id, "hidden": {"$in": [None, TRASHED]}},
        {"$set": {"hidden": DELETING, **thread_event(EventType.THREAD_DELETED, at)}},
    )
    if hidden.matched_count == 0:
        raise NotFound(f"Thread {thread_id} not found.")


async def delete_thread(
    db: Database, *, organization_id: str, thread_id: str, at: datetime | None = None
) -> None:
    """Hide the thread (visible or in the trash), then remove its messages and itself."""
    at = at or now()
    await hide_for_deletion(db, organization_id=organization_id, thread_id=thread_id, at=at)
    await remove_thread(db, organization_id=organization_id, thread_id=thread_id)


# Messages removed per command when a thread goes.
REMOVE_BATCH = 1_000


async def remove_thread(db: Database, *, organization_id: str, thread_id: str) -> None:
    """Remove a thread hidden for deletion, with its messages."""
    await _remove_thread(db, organization_id=organization_id, thread_id=thread_id)


async def _remove_thread(db: Database, *, organization_id: str, thread_id: str) -> None:
    # Messages (their kept revisions first) before the thread: a crash in between leaves a
    # hidden thread, never a message or a revision without one.
    await sync_thread_count(db, organization_id=organization_id, thread_id=thread_id)
    await remove_revisions(db, organization_id=organization_id, thread_id=thread_id)
    owned = {"_id": thread_id, "organizationId": organization_id}
    found = await db[THREADS].find_one(owned, projection={"seq": 1})
    last = 0 if found is None else int(found["seq"])
    messages = {"organizationId": organization_id, "threadId": thread_id}
    # By ranges of numbers, so that each command stays well within the client's timeout
    # whatever the thread's length; first any message numbered past the thread's last.
    await db[MESSAGES].delete_many({**messages, "seq": {"$gt": last}})
    for high in range(last, 0, -REMOVE_BATCH):
        numbers = {"$gt": high - REMOVE_BATCH, "$lte": high}
        await db[MESSAGES].delete_many({**messages, "seq": numbers})
    await db[THREADS].delete_one(owned)


async def clear_abandoned(
    db: Database,
    *,
    organization_id: str,
    thread_id: str,
    at: datetime,
    stale_before: datetime,
    created_before: datetime | None = None,
) -> bool:
    """Remove what an abandoned creation of the thread (begun before `created_before`, if
    given) left: the thread hidden, its messages so far. It is marked DISCARDING first, so that
    one caller removes it. Whether the id is free now; False: the creation finished (the thread
    is shown, in the trash or deleted since); CONFLICT: another caller is at it."""
    owned = {"_id": thread_id, "organizationId": organization_id}
    begun = {} if created_before is None else {"createdAt": {"$lte": created_before}}
    taken = await db[THREADS].find_one_and_update(
        {
            **owned,
            "$or": [
                {"hidden": CREATING, **begun},
                {"hidden": DISCARDING, "hiddenAt": {"$lte": stale_before}},  # its remover died
            ],
        },
        {"$set": {"hidden": DISCARDING, "hiddenAt": at}},
    )
    if taken is None:
        found = await db[THREADS].find_one(owned, projection={"hidden": 1})
        if found is None:
            return True
        if found.get("hidden") in (CREATING, DISCARDING):
            raise Conflict(f"Thread {thread_id} is being removed as abandoned; retry.")
        return False
    await _remove_thread(db, organization_id=organization_id, thread_id=thread_id)
    return True


async def finish_interrupted_writes(
    db: Database, *, creating_older_than: timedelta, clock: Clock = now
) -> int:
    """Finish the writes interrupted more than `creating_older_than` ago (the lease of a create:
    no call is still at them): reveal threads created with their messages held, remove other
    unfinished creations (forks) and interrupted deletions; recount the messages of threads
    whose count such a write may have left off. How many."""
    at = clock()
    cutoff = at - creating_older_than
    finished = 0
    async for doc in db[THREADS].find({"hidden": {"$in": [CREATING, DELETING, DISCARDING]}}):
        organization_id, thread_id = doc["organizationId"], doc["_id"]
        if doc["hidden"] == CREATING and doc["createdAt"] > cutoff:
            continue
        if doc["hidden"] == DISCARDING and doc["hiddenAt"] > cutoff:
            continue
        if doc["hidden"] == CREATING and PENDING in doc:
            await _finish_creating(db, doc)
        elif doc["hidden"] == DELETING:
            await record_owed_event(db, doc, at=at)  # its ThreadDeleted, if the crash lost it
            await _remove_thread(db, organization_id=organization_id, thread_id=thread_id)
        else:
            with suppress(Conflict):  # removed by another instance's sweep meanwhile
                await clear_abandoned(
                    db,
                    organization_id=organization_id,
                    thread_id=thread_id,
                    at=at,
                    stale_before=cutoff,
                    created_before=cutoff,
                )
        finished += 1
    return finished + await settle_message_counts(db, before=cutoff)
