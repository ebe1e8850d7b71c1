"""Each thread's event log: numbered from the thread, kept EVENT_TTL, watched as a change stream.
An event the organization's inbox shows carries its inbox entry (store/inbox.py): one insert."""

import asyncio
from collections.abc import AsyncIterator, Callable, Sequence
from datetime import datetime, timedelta
from typing import Any, NamedTuple, TypeVar

from pymongo.errors import DuplicateKeyError, OperationFailure

from app.domain import Event, EventType, Thread, ThreadState
from app.inbox import InboxEvent, InboxEventType, with_event
from app.store.codec import (
    PENDING,
    event_data,
    event_from_doc,
    inbox_entry_doc,
    inbox_from_doc,
    message_from_doc,
    thread_from_doc,
)
from app.store.connection import Database, aggregate
from app.store.inbox import take_inbox_number
from app.store.listings import VISIBLE
from app.store.names import EVENTS, MESSAGES, THREADS
from app.store.versioned import Images, find_one_and_update

T = TypeVar("T")
# Thread events and the inbox entries they carry alike (the inbox log is read from this one).
EVENT_TTL = timedelta(hours=24)
# Server errors meaning "no change streams here" (standalone, or not a replica set).
NO_CHANGE_STREAMS = (40573, 40324, 115)
# The change stream asks again at most this often while it gets empty answers: events reach
# subscribers up to this much later, in exchange for one command per write rather than four.
QUIET_POLL_SECONDS = 0.025
# The inbox entry each event of the thread itself carries.
INBOX_OF = {
    EventType.THREAD_UPDATED: InboxEventType.THREAD_UPDATED,
    EventType.THREAD_DELETED: InboxEventType.THREAD_DELETED,
    EventType.THREAD_RESTORED: InboxEventType.THREAD_RESTORED,
}


class ChangeStreamsUnsupported(Exception):
    pass


class Logged(NamedTuple):
    """An event logged, and the inbox entry it carries (None for one the inbox does not show)."""

    event: Event
    inbox: InboxEvent | None


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


async def record_owed_event(db: Database, doc: dict[str, Any], *, at: datetime) -> Logged | None:
    """Log the thread event the thread document `doc` owes (the thread as it is now, unless it
    is being deleted), with its inbox entry, if a crash kept it out of the log."""
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
) -> list[Logged]:
    """The thread events (ThreadUpdated, ThreadDeleted, ThreadRestored) of thread writes between
    `since` and `until` that a crash kept out of the log, logged now under new numbers (and
    new inbox numbers)."""
    scan = {"threadEvent.at": {"$gte": since, "$lte": until}}
    recorded = []
    async for doc in db[THREADS].find(scan, {PENDING: 0}):
        logged = await record_owed_event(db, doc, at=at)
        if logged is not None:
            recorded.append(logged)
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
    count: int = 0,
    images: Images | None = None,
) -> tuple[Thread, int, int] | None:
    """Number the thread's next event, in one guarded write (store/versioned.py: the thread read
    first unless this instance's image of it serves) that also checks the thread (visible,
    in one of `states`), moves its `updatedAt` to `at` (`touch`), takes the next message number
    (`new_message`) and moves its message count by `count` (store/message_counts.py): the
    thread after, the event's number and the message number (0 unless taken). None if the
    thread is not there or not in such a state.

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
    if count:
        update["$inc"]["messageCount"] = count
        update["$set"] = counted(at)
    doc = await find_one_and_update(db, THREADS, query, update, images=images)
    if doc is None:
        return None
    return thread_from_doc(doc), doc["eventSeq"], doc["seq"] if new_message else 0


def counted(at: datetime) -> dict[str, Any]:
    """The part of a write that moves a thread's message count before the message write it
    counts: when, so that `settle_message_counts` recounts the thread once no such write can be
    running (a crash in between, or a racing retry, leaves the count off)."""
    return {"countedAt": at}


async def write_event(
    db: Database, event: Event, *, at: datetime, inbox: InboxEvent | None = None
) -> bool:
    """Log the numbered event, carrying its `inbox` entry: whether it is new (False if an event
    with its number is logged already: a retry, or the sweep that re-records lost events)."""
    data = event_data(event)
    doc: dict[str, Any] = {
        "_id": _event_id(event.thread_id, event.seq),
        "organizationId": event.organization_id,
        "threadId": event.thread_id,
        "seq": event.seq,
        "type": event.type.value,
        "data": data,
        "createdAt": at,
    }
    if inbox is not None:
        doc.update(inbox_entry_doc(inbox, data=data))
    return await _insert(db, doc)


async def write_created(db: Database, inbox: InboxEvent, *, at: datetime) -> bool:
    """Log a new thread's ThreadCreated in the inbox as the thread's event number 0 (its start,
    which the thread's own log never replays: its events are numbered from 1): whether it is
    new (False for a retried create, which logs nothing twice)."""
    doc: dict[str, Any] = {
        "_id": _event_id(inbox.thread_id, 0),
        "organizationId": inbox.organization_id,
        "threadId": inbox.thread_id,
        "seq": 0,
        "createdAt": at,
        **inbox_entry_doc(inbox, data={}),
    }
    return await _insert(db, doc)


async def _insert(db: Database, doc: dict[str, Any]) -> bool:
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
) -> Logged | None:
    """Number and log an event of the thread itself (visible or not) with its inbox entry (the
    thread as of the event; its creator's id from the thread): None if the thread is gone. Both
    numbers are taken at once; a thread gone meanwhile leaves a gap in the inbox's."""
    taken, inbox_seq = await asyncio.gather(
        take_event_number(
            db, organization_id=organization_id, thread_id=thread_id, at=at, visible=False
        ),
        take_inbox_number(db, organization_id=organization_id),
    )
    if taken is None:
        return None
    now, seq, _ = taken
    event = Event(organization_id, thread_id, seq, type, thread=thread)
    inbox = InboxEvent(
        organization_id=organization_id,
        seq=inbox_seq,
        type=INBOX_OF[type],
        thread_id=thread_id,
        user_id=now.user_id,
        thread=None if thread is None else with_event(thread, seq),
    )
    await write_event(db, event, at=at, inbox=inbox)
    return Logged(event, inbox)


async def record_missing(db: Database, *, since: datetime, until: datetime) -> list[Logged]:
    """The events of message writes between `since` and `until` that a crash (or a lost
    connection) kept out of the log, logged now: a message's creation as MessageCreated, a
    later write as the message is now (MessageUpdated, or MessageDeleted if it is in the
    trash), each with the inbox's ThreadUpdated (the thread as it is now; none for a thread
    hidden since) under a new inbox number. Messages whose thread is gone (deleted while they
    were being added: the thread's deletion removed its messages before their insert) are
    removed."""
    scan = {"eventAt": {"$gte": since, "$lte": until}}
    recorded: list[Logged] = []
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
            found["_id"]: found
            async for found in db[THREADS].find({"_id": {"$in": threads}}, {PENDING: 0})
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
            inbox = await _updated_in_inbox(db, alive[doc["threadId"]], seq)
            if await write_event(db, event, at=doc["eventAt"], inbox=inbox):
                recorded.append(Logged(event, inbox))
    return recorded


async def _updated_in_inbox(
    db: Database, thread_doc: dict[str, Any], seq: int
) -> InboxEvent | None:
    """The inbox's ThreadUpdated for a recovered event of the thread (numbered `seq`), under a
    new inbox number; None if the thread is hidden (in the trash, being deleted)."""
    if thread_doc.get("hidden") is not None:
        return None
    thread = with_event(thread_from_doc(thread_doc), seq)
    inbox_seq = await take_inbox_number(db, organization_id=thread.organization_id)
    return InboxEvent.showing(thread, inbox_seq, InboxEventType.THREAD_UPDATED)


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
    """The thread's events numbered after `after` (and up to `until`), in order (never number 0,
    a new thread's ThreadCreated: an inbox entry only)."""
    start = max(after, 0)
    seqs: dict[str, int] = {"$gt": start} if until is None else {"$gt": start, "$lt": until + 1}
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
        loop = asyncio.get_running_loop()
        async with stream:  # opens the stream
            opened()
            while True:
                asked = loop.time()
                change = await stream.try_next()
                if change is not None:
                    yield decode(change["fullDocument"])
                elif (rest := asked + QUIET_POLL_SECONDS - loop.time()) > 0:
                    # An empty answer before its time: the server wakes a stream at every
                    # write, matching or not (a message's write is four), so asking again at
                    # once would cost a command per write of any kind.
                    await asyncio.sleep(rest)
    except (NotImplementedError, OperationFailure) as error:
        if isinstance(error, OperationFailure) and error.code not in NO_CHANGE_STREAMS:
            raise
        raise ChangeStreamsUnsupported(str(error) or type(error).__name__) from error


def _decode(doc: dict[str, Any]) -> tuple[Event | None, InboxEvent | None]:
    event = event_from_doc(doc) if "type" in doc else None  # none: a ThreadCreated only
    return event, inbox_from_doc(doc) if "inboxSeq" in doc else None


def watch_events(
    db: Database, *, opened: Callable[[], None]
) -> AsyncIterator[tuple[Event | None, InboxEvent | None]]:
    """Every thread event and inbox entry written from now on, by any instance."""
    return watch_inserts(db, EVENTS, _decode, opened=opened)
