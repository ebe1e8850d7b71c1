"""Forks: a new thread holding copies of another thread's messages, written so that a crash
leaves nothing visible. The fork is inserted hidden (CREATING, like a thread created with
messages), its copies go in one `insert_many` per batch, then one update reveals it with its
last message number and its origin. A crash in between leaves a hidden fork that the start-up
sweep (`finish_interrupted_writes`) removes with its copies."""

from collections.abc import Sequence

from pymongo.errors import DuplicateKeyError

from app.domain import ForkOrigin, Message, Thread
from app.store.codec import (
    fork_origin_doc,
    message_doc,
    message_from_doc,
    thread_doc,
    thread_from_doc,
)
from app.store.connection import Database, aggregate
from app.store.names import MESSAGES, THREADS
from app.store.threads import CREATING
from app.store.versioned import find_one_and_update


async def insert_hidden_thread(db: Database, thread: Thread) -> bool:
    """Insert the thread hidden until `reveal_fork`; False if one with its id exists (a racing
    retry)."""
    try:
        await db[THREADS].insert_one({**thread_doc(thread), "hidden": CREATING})
    except DuplicateKeyError:
        return False
    return True


async def messages_numbered(
    db: Database, *, organization_id: str, thread_id: str, start: int, stop: int
) -> list[Message]:
    """The thread's messages numbered `start` to `stop` - 1, in order, but those in the trash:
    one range scan of the (organizationId, threadId, seq) index, reading no other message."""
    scan = {
        "organizationId": organization_id,
        "threadId": thread_id,
        "seq": {"$gte": start, "$lt": stop},
    }
    live = {"$match": {"deletedAt": None}}
    docs = await aggregate(db, MESSAGES, [{"$match": scan}, live, {"$sort": {"seq": 1}}])
    return [message_from_doc(doc) for doc in docs]


async def insert_messages(db: Database, messages: Sequence[Message]) -> None:
    """One command for the lot (the driver splits only beyond 100,000 documents or 48 MB)."""
    if messages:
        await db[MESSAGES].insert_many([message_doc(message) for message in messages])


async def reveal_fork(
    db: Database, *, organization_id: str, thread_id: str, last_seq: int, origin: ForkOrigin
) -> Thread | None:
    """Show the fork with its last message number and origin; None if it is no longer hidden
    being created (the sweep took it meanwhile)."""
    doc = await find_one_and_update(
        db,
        THREADS,
        {"_id": thread_id, "organizationId": organization_id, "hidden": CREATING},
        {
            "$set": {"seq": last_seq, "messageCount": last_seq, **fork_origin_doc(origin)},
            "$unset": {"hidden": ""},
        },
    )
    return None if doc is None else thread_from_doc(doc)


async def discard_fork(db: Database, *, organization_id: str, thread_id: str) -> None:
    """Remove what a fork that lost its thread (to the sweep) wrote: its copies, and the thread
    if it is still there, hidden."""
    await db[MESSAGES].delete_many({"organizationId": organization_id, "threadId": thread_id})
    await db[THREADS].delete_one(
        {"_id": thread_id, "organizationId": organization_id, "hidden": CREATING}
    )
