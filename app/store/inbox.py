"""Each organization's inbox log: what happened to its threads, numbered per organization from a
counter document, kept INBOX_TTL, watched as a change stream."""

from collections.abc import AsyncIterator, Callable, Mapping
from datetime import datetime, timedelta
from typing import Any

from pymongo import ReturnDocument
from pymongo.errors import DuplicateKeyError

from app.domain import Thread
from app.inbox import InboxEvent, InboxEventType
from app.store.codec import thread_doc, thread_from_doc
from app.store.connection import Database, aggregate
from app.store.events import watch_inserts
from app.store.names import INBOX_COUNTERS, INBOX_EVENTS, THREADS

INBOX_TTL = timedelta(hours=24)


def _doc(event: InboxEvent, at: datetime) -> dict[str, Any]:
    doc: dict[str, Any] = {
        "organizationId": event.organization_id,
        "seq": event.seq,
        "type": event.type.value,
        "threadId": event.thread_id,
        "userId": event.user_id,
        "createdAt": at,
    }
    if event.thread is not None:
        doc["thread"] = thread_doc(event.thread)
    return doc


def _event(doc: Mapping[str, Any]) -> InboxEvent:
    return InboxEvent(
        organization_id=doc["organizationId"],
        seq=doc["seq"],
        type=InboxEventType(doc["type"]),
        thread_id=doc["threadId"],
        user_id=doc["userId"],
        thread=thread_from_doc(doc["thread"]) if "thread" in doc else None,
    )


async def record_inbox_event(
    db: Database,
    *,
    organization_id: str,
    thread_id: str,
    type: InboxEventType,
    at: datetime,
    thread: Thread | None = None,
    once: str | None = None,
) -> tuple[InboxEvent, bool] | None:
    """Append an event to the organization's inbox log: the event, and whether it is new (not
    if one with the same `once` key was recorded already: then that one). Without `thread`,
    the thread's creator is read from the thread (in the trash too); None if it is gone.

    The number is taken from the organization's counter, then the event written: a crash in
    between, or a retry whose `once` event is there already, leaves a gap in the numbers,
    which subscribers skip.
    """
    event_id = None if once is None else f"{organization_id}:{thread_id}:{once}"
    if thread is not None:
        user_id = thread.user_id
    else:
        found = await db[THREADS].find_one(
            {"_id": thread_id, "organizationId": organization_id}, projection={"userId": 1}
        )
        if found is None:
            return None
        user_id = found["userId"]
    counter = None
    while counter is None:  # None: a racing upsert created the counter first (a real server)
        counter = await db[INBOX_COUNTERS].find_one_and_update(
            {"_id": organization_id},
            {"$inc": {"seq": 1}},
            upsert=True,
            return_document=ReturnDocument.AFTER,
        )
    event = InboxEvent(
        organization_id=organization_id,
        seq=counter["seq"],
        type=type,
        thread_id=thread_id,
        user_id=user_id,
        thread=thread,
    )
    doc = _doc(event, at)
    if event_id is not None:
        doc["_id"] = event_id
    try:
        await db[INBOX_EVENTS].insert_one(doc)
    except DuplicateKeyError:  # recorded already (a retried create)
        earlier = await db[INBOX_EVENTS].find_one({"_id": event_id})
        return None if earlier is None else (_event(earlier), False)
    return event, True


async def latest_inbox_event(db: Database, *, organization_id: str) -> int:
    """The number of the organization's latest inbox event (0 before the first)."""
    counter = await db[INBOX_COUNTERS].find_one({"_id": organization_id})
    return 0 if counter is None else int(counter["seq"])


async def list_inbox_events(
    db: Database, *, organization_id: str, after: int, until: int | None = None
) -> list[InboxEvent]:
    """The organization's inbox events numbered after `after` (and up to `until`), in order."""
    seqs: dict[str, int] = {"$gt": after} if until is None else {"$gt": after, "$lt": until + 1}
    scan = {"organizationId": organization_id, "seq": seqs}
    docs = await aggregate(db, INBOX_EVENTS, [{"$match": scan}, {"$sort": {"seq": 1}}])
    return [_event(doc) for doc in docs]


def watch_inbox_events(db: Database, *, opened: Callable[[], None]) -> AsyncIterator[InboxEvent]:
    """Every inbox event written from now on, by any instance (see `watch_inserts`)."""
    return watch_inserts(db, INBOX_EVENTS, _event, opened=opened)
