"""Each thread's event log: numbered from the thread, kept EVENT_TTL, watched as a change stream."""

from collections.abc import AsyncIterator, Callable
from datetime import datetime, timedelta
from typing import Any, TypeVar

from pymongo import ReturnDocument
from pymongo.errors import DuplicateKeyError, OperationFailure

from app.domain import Event, EventType, Message, Thread
from app.store.codec import event_data, event_from_doc
from app.store.connection import Database, aggregate
from app.store.names import EVENTS, THREADS

T = TypeVar("T")
EVENT_TTL = timedelta(hours=24)
# Server errors meaning "no change streams here" (standalone, or not a replica set).
NO_CHANGE_STREAMS = (40573, 40324, 115)


class ChangeStreamsUnsupported(Exception):
    pass


async def record_event(
    db: Database,
    *,
    organization_id: str,
    thread_id: str,
    type: EventType,
    at: datetime,
    message: Message | None = None,
    thread: Thread | None = None,
    message_id: str | None = None,
    delta: str | None = None,
    once: str | None = None,
) -> tuple[Event, bool] | None:
    """Append an event to the thread's log: the event, and whether it is new — not if an event
    with the same `once` key was recorded already (a retried create): then that one. None if
    the thread is gone.

    The number is taken from the thread, then the event written: a crash in between leaves a
    gap in the numbers, which subscribers skip.
    """
    event_id = None if once is None else f"{thread_id}:{once}"
    if event_id is not None and (earlier := await db[EVENTS].find_one({"_id": event_id})):
        return event_from_doc(earlier), False
    numbered = await db[THREADS].find_one_and_update(
        {"_id": thread_id, "organizationId": organization_id},
        {"$inc": {"eventSeq": 1}},
        projection={"eventSeq": 1},
        return_document=ReturnDocument.AFTER,
    )
    if numbered is None:
        return None
    event = Event(
        organization_id=organization_id,
        thread_id=thread_id,
        seq=numbered["eventSeq"],
        type=type,
        message=message,
        thread=thread,
        message_id=message_id,
        delta=delta,
    )
    doc: dict[str, Any] = {
        "organizationId": organization_id,
        "threadId": thread_id,
        "seq": event.seq,
        "type": type.value,
        "data": event_data(event),
        "createdAt": at,
    }
    if event_id is not None:
        doc["_id"] = event_id
    try:
        await db[EVENTS].insert_one(doc)
    except DuplicateKeyError:  # the same retried create, racing
        earlier = await db[EVENTS].find_one({"_id": event_id})
        return None if earlier is None else (event_from_doc(earlier), False)
    return event, True


async def list_events(
    db: Database, *, organization_id: str, thread_id: str, after: int, until: int | None = None
) -> list[Event]:
    """The thread's events numbered after `after` (and up to `until`), in order."""
    seqs: dict[str, int] = {"$gt": after} if until is None else {"$gt": after, "$lt": until + 1}
    scan = {"organizationId": organization_id, "threadId": thread_id, "seq": seqs}
    docs = await aggregate(db, EVENTS, [{"$match": scan}, {"$sort": {"seq": 1}}])
    return [event_from_doc(doc) for doc in docs]


async def watch_inserts(
    db: Database,
    collection: str,
    decode: Callable[[dict[str, Any]], T],
    *,
    opened: Callable[[], None],
) -> AsyncIterator[T]:
    """Every document inserted into `collection` from now on, by any instance (a change
    stream), decoded; `opened` is called once the stream is open. Raises
    ChangeStreamsUnsupported where the server has none (standalone MongoDB, mongomock)."""
    if getattr(type(db[collection]), "watch", None) is None:  # a driver without change streams
        raise ChangeStreamsUnsupported("the database driver has no change streams")
    try:
        inserts = [{"$match": {"operationType": "insert"}}]
        stream = db[collection].watch(inserts, max_await_time_ms=500)
        async with stream:  # opens the stream
            opened()
            while True:
                change = await stream.try_next()
                if change is not None:
                    yield decode(change["fullDocument"])
    except (NotImplementedError, OperationFailure) as error:
        if isinstance(error, OperationFailure) and error.code not in NO_CHANGE_STREAMS:
            raise
        raise ChangeStreamsUnsupported(str(error) or type(error).__name__) from error


def watch_events(db: Database, *, opened: Callable[[], None]) -> AsyncIterator[Event]:
    """Every thread event written from now on, by any instance."""
    return watch_inserts(db, EVENTS, event_from_doc, opened=opened)
