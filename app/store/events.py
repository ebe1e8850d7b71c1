"""Each thread's event log: numbered from the thread, kept EVENT_TTL, watched as a change stream."""

from collections.abc import AsyncIterator, Callable, Sequence
from datetime import datetime, timedelta
from typing import Any, TypeVar

from pymongo import ReturnDocument
from pymongo.errors import DuplicateKeyError, OperationFailure

from app.domain import Event, EventType, Thread, ThreadState
from app.store.codec import event_data, event_from_doc, message_from_doc, thread_from_doc
from app.store.connection import Database, aggregate
from app.store.listings import VISIBLE
from app.store.names import EVENTS, MESSAGES, THREADS

T = TypeVar("T")
EVENT_TTL = timedelta(hours=24)
# Server errors meaning "no change streams here" (standalone, or not a replica set).
NO_CHANGE_STREAMS = (40573, 40324, 115)


class ChangeStreamsUnsupported(Exception):
    pass


def _event_id(thread_id: str, seq: int) -> str:
    return f"{thread_id}:{seq}"


def thread_event(type: EventType, at: datetime) -> dict[str, Any]:
    """The part of a thread's write that says which of the thread's own events it owes (and
    since when): what `record_missing_thread_events` looks for after a crash."""
    return {"threadEvent": {"type": type.value, "at": at}}


async def _owed(db: Database, doc: dict[str, Any]) -> EventType | None:
    """The thread event the thread's last write owes and the log lacks, if any."""
    owed = doc.get("threadEvent")
    if owed is None:
        return None
    logged = await db[EVENTS].find_one(
        {
            "organizationId": doc["organizationId"],
            "threadId": doc["_id"],
            "type": owed["type"],
            "createdAt": {"$gte": owed["at"]},
        },
        {"_id": 1},
    )
    return None if logged is not None else EventType(owed["type"])


async def record_owed_event(db: Database, doc: dict[str, Any], *, at: datetime) -> Event | None:
    """Log the thread event the thread document `doc` owes (the thread as it is now, unless it
    is being deleted), if a crash kept it out of the log."""
    type = await _owed(db, doc)
    if type is None:
        return None
    thread = None if type is EventType.THREAD_DELETED else thread_from_doc(doc)
    return await record_event(
        db,
        organization_id=doc["organizationId"],
        thread_id=doc["_id"],
        type=type,
        at=at,
        thread=thread,
    )


async def record_missing_thread_events(
    db: Database, *, since: datetime, until: datetime, at: datetime
) -> list[Event]:
    """The thread events (ThreadUpdated, ThreadDeleted, ThreadRestored) of thread writes between
    `since` and `until` that a crash kept out of the log, logged now under new numbers."""
    scan = {"threadEvent.at": {"$gte": since, "$lte": until}}
    recorded = []
    async for doc in db[THREADS].find(scan):
        event = await record_owed_event(db, doc, at=at)
        if event is not None:
            recorded.append(event)
    return recorded


async def take_event_number(
    db: Database,
    *,
    organization_id: str,
    thread_id: str,
    at: datetime,
    visible: bool = True,
    touch: bool = False,
    states: Sequence[ThreadState] | None = None,
    new_message: bool = False,
) -> tuple[Thread, int, int] | None:
    """Number the thread's next event, in one atomic write that also checks the thread (visible,
    in one of `states`), moves its `updatedAt` to `at` (`touch`) and takes the next message
    number (`new_message`): the thread after, the event's number and the message number (0
    unless taken). None if the thread is not there or not in such a state.

    The number is taken before the write it numbers, which records it in its document (a
    message's `lastEvent`): a crash before that write leaves a gap in the numbers, which
    subscribers skip; a crash after it leaves a write whose event `record_missing` finds."""
    query: dict[str, Any] = {"_id": thread_id, "organizationId": organization_id}
    if visible:
        query.update(VISIBLE)
    if states is not None:
        query["state"] = {"$in": [state.value for state in states]}
    update: dict[str, Any] = {"$inc": {"eventSeq": 1, **({"seq": 1} if new_message else {})}}
    if touch:
        update["$max"] = {"updatedAt": at}
    doc = await db[THREADS].find_one_and_update(query, update, return_document=ReturnDocument.AFTER)
    if doc is None:
        return None
    return thread_from_doc(doc), doc["eventSeq"], doc["seq"] if new_message else 0


async def write_event(db: Database, event: Event, *, at: datetime) -> bool:
    """Log the numbered event: whether it is new (False if an event with its number is logged
    already: a retry, or the sweep that re-records lost events)."""
    doc: dict[str, Any] = {
        "_id": _event_id(event.thread_id, event.seq),
        "organizationId": event.organization_id,
        "threadId": event.thread_id,
        "seq": event.seq,
        "type": event.type.value,
        "data": event_data(event),
        "createdAt": at,
    }
    try:
        await db[EVENTS].insert_one(doc)
    except DuplicateKeyError:
        return False
    return True


async def record_event(
    db: Database,
    *,
    organization_id: str,
    thread_id: str,
    type: EventType,
    at: datetime,
    thread: Thread | None = None,
) -> Event | None:
    """Number and log an event of the thread itself (visible or not): the event, or None if
    the thread is gone."""
    taken = await take_event_number(
        db, organization_id=organization_id, thread_id=thread_id, at=at, visible=False
    )
    if taken is None:
        return None
    event = Event(organization_id, thread_id, taken[1], type, thread=thread)
    await write_event(db, event, at=at)
    return event


async def record_missing(db: Database, *, since: datetime, until: datetime) -> list[Event]:
    """The events of message writes between `since` and `until` that a crash (or a lost
    connection) kept out of the log, logged now: a message's creation as MessageCreated, a
    later write as the message is now (MessageUpdated, or MessageDeleted if it is in the
    trash). Messages whose thread is gone (deleted while they were being added: the thread's
    deletion removed its messages before their insert) are removed."""
    scan = {"eventAt": {"$gte": since, "$lte": until}}
    recorded: list[Event] = []
    async for batch in _batches(db[MESSAGES].find(scan).sort("eventAt", 1)):
        wanted = {}
        for doc in batch:
            created = doc.get("createdEvent")
            if created is not None:
                wanted[_event_id(doc["threadId"], created)] = (doc, EventType.MESSAGE_CREATED)
            last = doc.get("lastEvent")
            if last is not None and last != created:
                wanted[_event_id(doc["threadId"], last)] = (doc, EventType.MESSAGE_UPDATED)
        logged = {
            found["_id"]
            async for found in db[EVENTS].find({"_id": {"$in": list(wanted)}}, {"_id": 1})
        }
        threads = list({doc["threadId"] for doc in batch})
        alive = {
            found["_id"] async for found in db[THREADS].find({"_id": {"$in": threads}}, {"_id": 1})
        }
        orphans = [doc["_id"] for doc in batch if doc["threadId"] not in alive]
        if orphans:
            await db[MESSAGES].delete_many({"_id": {"$in": orphans}})
        missing = {
            key: (doc, type)
            for key, (doc, type) in wanted.items()
            if key not in logged and doc["threadId"] in alive
        }
        for key, (doc, type) in missing.items():
            seq = int(key.rsplit(":", 1)[1])
            if doc.get("deletedAt") is not None and type is EventType.MESSAGE_UPDATED:
                event = Event(
                    doc["organizationId"],
                    doc["threadId"],
                    seq,
                    EventType.MESSAGE_DELETED,
                    message_id=doc["_id"],
                )
            else:
                message = message_from_doc(doc)
                event = Event(doc["organizationId"], doc["threadId"], seq, type, message=message)
            if await write_event(db, event, at=doc["eventAt"]):
                recorded.append(event)
    return recorded


async def _batches(cursor: Any, size: int = 500) -> AsyncIterator[list[dict[str, Any]]]:
    batch: list[dict[str, Any]] = []
    async for doc in cursor:
        batch.append(doc)
        if len(batch) == size:
            yield batch
            batch = []
    if batch:
        yield batch


async def last_logged_event(db: Database, *, organization_id: str, thread_id: str) -> int:
    """The number of the thread's latest logged event (0 if none): a write whose number is
    taken but whose event is not logged yet counts as after it."""
    scan = {"organizationId": organization_id, "threadId": thread_id}
    pipeline: list[dict[str, Any]] = [
        {"$match": scan},
        {"$sort": {"seq": -1}},
        {"$limit": 1},
        {"$project": {"seq": 1}},
    ]
    docs = await aggregate(db, EVENTS, pipeline)
    return int(docs[0]["seq"]) if docs else 0


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
