"""Thread events for subscribers: one hub per app instance.

Every write appends an event to the thread's log in MongoDB (services.runtime.record). Where the
server has change streams, the hub watches the log, so every instance delivers the events of
every other; without them (standalone MongoDB, mongomock) it says so at start and delivers the
events written by its own instance. A subscriber first reads what it missed from the log, then
takes events live, in order, filling any gap from the log.

The live inbox works the same way over each organization's inbox log, whose entries ride on
the thread events (store/inbox.py): the same change stream, its own subscribers, under the same
limits.
"""

import asyncio
import logging
from collections.abc import AsyncIterator, Callable
from contextvars import ContextVar
from dataclasses import dataclass, field
from typing import Generic, TypeVar

from app import store
from app.domain import Event, EventType
from app.errors import Forbidden, Unavailable
from app.inbox import InboxEvent
from app.store import Database

log = logging.getLogger("app.realtime")
T = TypeVar("T")


class TooSlow(Unavailable):
    """A subscriber whose queue filled up: it is disconnected, not buffered without bound."""


# The WebSocket close code of a connection one of whose subscribers fell too far behind
# (docs/realtime.md): 1013, "try again later"; resume from the last cursor received.
CLOSE_TOO_SLOW = 1013
# What closes the WebSocket connection running in this context (set by app/http/sockets.py):
# a subscriber that overflows calls it, as a client that stopped reading never asks again.
close_connection: ContextVar[Callable[[], None] | None] = ContextVar(
    "close_connection", default=None
)


def size_of(event: Event | InboxEvent) -> int:
    """An estimate of what an event holds in memory and on the wire: the length of its text."""
    return len(repr(event))


class Mailbox(Generic[T]):
    """The events waiting for one subscriber, bounded in count and in bytes; the first event
    over either bound drops what is queued and closes the subscriber's connection."""

    def __init__(self, max_events: int, max_bytes: int) -> None:
        self.queue: asyncio.Queue[tuple[T, int] | None] = asyncio.Queue()
        self.max_events, self.max_bytes = max_events, max_bytes
        self.queued_bytes = 0
        self.overflowed = False
        self.close = close_connection.get()

    def offer(self, event: T, size: int) -> None:
        if self.overflowed:
            return
        if self.queue.qsize() >= self.max_events or self.queued_bytes + size > self.max_bytes:
            self.overflowed = True
            while not self.queue.empty():
                self.queue.get_nowait()
            self.queued_bytes = 0
            self.queue.put_nowait(None)  # wakes a waiting `next`
            if self.close is not None:
                self.close()
            return
        self.queue.put_nowait((event, size))
        self.queued_bytes += size

    async def next(self) -> T:
        item = None if self.overflowed else await self.queue.get()
        if item is None:
            raise TooSlow("This subscriber fell too far behind and was disconnected.")
        self.queued_bytes -= item[1]
        return item[0]


@dataclass(eq=False)
class Subscriber:
    organization_id: str
    thread_id: str
    key_id: str
    mailbox: Mailbox[Event]

    async def next(self) -> Event:
        return await self.mailbox.next()


@dataclass(eq=False)
class InboxSubscriber:
    organization_id: str
    key_id: str
    mailbox: Mailbox[InboxEvent]

    async def next(self) -> InboxEvent:
        return await self.mailbox.next()


@dataclass
class EventHub:
    queue_size: int = 1_000
    queue_bytes: int = 1024 * 1024
    max_per_key: int = 100
    max_per_connection: int = 20
    watching: bool = False
    subscribers: set[Subscriber] = field(default_factory=set)
    inbox_subscribers: set[InboxSubscriber] = field(default_factory=set)

    @property
    def inbox_watching(self) -> bool:
        """Whether inbox entries come from the change stream (the thread events' own)."""
        return self.watching

    def _admit(self, key_id: str) -> None:
        held = sum(s.key_id == key_id for s in self.subscribers) + sum(
            s.key_id == key_id for s in self.inbox_subscribers
        )
        if held >= self.max_per_key:
            raise Forbidden(f"An API key may hold at most {self.max_per_key} subscriptions.")

    def subscribe(self, *, organization_id: str, thread_id: str, key_id: str) -> Subscriber:
        self._admit(key_id)
        mailbox = Mailbox[Event](self.queue_size, self.queue_bytes)
        subscriber = Subscriber(organization_id, thread_id, key_id, mailbox)
        self.subscribers.add(subscriber)
        return subscriber

    def unsubscribe(self, subscriber: Subscriber) -> None:
        self.subscribers.discard(subscriber)

    def subscribe_inbox(self, *, organization_id: str, key_id: str) -> InboxSubscriber:
        self._admit(key_id)
        mailbox = Mailbox[InboxEvent](self.queue_size, self.queue_bytes)
        subscriber = InboxSubscriber(organization_id, key_id, mailbox)
        self.inbox_subscribers.add(subscriber)
        return subscriber

    def unsubscribe_inbox(self, subscriber: InboxSubscriber) -> None:
        self.inbox_subscribers.discard(subscriber)

    def dispatch_inbox(self, event: InboxEvent) -> None:
        size = size_of(event)  # once, whatever the number of subscribers
        for subscriber in self.inbox_subscribers:
            if subscriber.organization_id == event.organization_id:
                subscriber.mailbox.offer(event, size)

    def published_inbox(self, event: InboxEvent) -> None:
        """An inbox event this instance wrote: delivered here unless the change stream will."""
        if not self.inbox_watching:
            self.dispatch_inbox(event)

    def dispatch(self, event: Event) -> None:
        size = size_of(event)  # once, whatever the number of subscribers
        for subscriber in self.subscribers:
            if (subscriber.organization_id, subscriber.thread_id) == (
                event.organization_id,
                event.thread_id,
            ):
                subscriber.mailbox.offer(event, size)

    def published(self, event: Event) -> None:
        """An event this instance wrote: delivered here unless the change stream will."""
        if not self.watching:
            self.dispatch(event)

    async def run(self, db: Database, ready: Callable[[], None]) -> None:
        """Deliver the thread events and inbox entries of every instance; `ready` is called
        once watching (or not). A broken stream (the database gone) is reopened; subscribers
        fill what it missed from the log when the next event shows the gap."""
        while True:
            try:
                async for event, inbox in store.watch_events(db, opened=self._opened(ready)):
                    if event is not None:
                        self.dispatch(event)
                    if inbox is not None:
                        self.dispatch_inbox(inbox)
            except store.ChangeStreamsUnsupported as error:
                log.warning(
                    "No change streams (%s): events reach this instance's subscribers only.",
                    error,
                )
                ready()
                return
            except Exception:
                log.exception("The event stream broke; reopening it.")
                await asyncio.sleep(1)

    def _opened(self, ready: Callable[[], None]) -> Callable[[], None]:
        def opened() -> None:
            self.watching = True
            ready()

        return opened


# Events that show a message's content: not replayed while that message is in the trash.
SHOWING = {
    EventType.MESSAGE_CREATED,
    EventType.MESSAGE_DELTA,
    EventType.MESSAGE_COMPLETED,
    EventType.MESSAGE_UPDATED,
    EventType.MESSAGE_RESTORED,
}


def _message_of(event: Event) -> str | None:
    if event.type not in SHOWING:
        return None
    return event.message.id if event.message is not None else event.message_id


async def _in_the_trash(db: Database, organization_id: str, events: list[Event]) -> set[str]:
    """The messages of `events` (read from the log) that are in the trash now."""
    ids = sorted({i for i in map(_message_of, events) if i is not None})
    if not ids:
        return set()
    return await store.trashed_ids(db, organization_id=organization_id, ids=ids)


async def thread_events(
    db: Database,
    hub: EventHub,
    *,
    organization_id: str,
    thread_id: str,
    key_id: str,
    after: int | None,
) -> AsyncIterator[Event]:
    """The thread's events after `after` (from now on when None), replayed then live, in
    order; ends after ThreadDeleted."""
    subscriber = hub.subscribe(organization_id=organization_id, thread_id=thread_id, key_id=key_id)
    try:
        if after is None:  # from the last event logged: a write under way is still to come
            last = await store.last_logged_event(
                db, organization_id=organization_id, thread_id=thread_id
            )
            backlog: list[Event] = []
        else:
            last = after
            backlog = await store.list_events(
                db, organization_id=organization_id, thread_id=thread_id, after=after
            )
        replayed = after is not None
        while True:
            # Replayed from the log: not what is in the trash now. Live: just written.
            hidden = await _in_the_trash(db, organization_id, backlog) if replayed else set()
            for event in backlog:
                if event.seq <= last:
                    continue
                last = event.seq
                if _message_of(event) in hidden:
                    continue
                yield event
                if event.type is EventType.THREAD_DELETED:
                    return
            event = await subscriber.next()
            backlog, replayed = [event], False
            if event.seq > last + 1:  # written out of order, or lost by a crash: read the log
                await asyncio.sleep(0.05)
                backlog = await store.list_events(
                    db,
                    organization_id=organization_id,
                    thread_id=thread_id,
                    after=last,
                    until=event.seq,
                )
                backlog, replayed = backlog or [event], bool(backlog)
    finally:
        hub.unsubscribe(subscriber)


async def inbox_events(
    db: Database,
    hub: EventHub,
    *,
    organization_id: str,
    key_id: str,
    after: int | None,
    user_id: str | None = None,
) -> AsyncIterator[InboxEvent]:
    """The organization's inbox events after `after` (from now on when None), replayed then
    live, in order; with `user_id`, only those of the threads that user created."""
    subscriber = hub.subscribe_inbox(organization_id=organization_id, key_id=key_id)
    try:
        if after is None:
            last = await store.latest_inbox_event(db, organization_id=organization_id)
            backlog: list[InboxEvent] = []
        else:
            last = after
            backlog = await store.list_inbox_events(
                db, organization_id=organization_id, after=after
            )
        while True:
            for event in backlog:
                if event.seq <= last:
                    continue
                last = event.seq
                if user_id is None or event.user_id == user_id:
                    yield event
            event = await subscriber.next()
            backlog = [event]
            if event.seq > last + 1:  # written out of order, or lost by a crash: read the log
                await asyncio.sleep(0.05)
                read = await store.list_inbox_events(
                    db, organization_id=organization_id, after=last, until=event.seq
                )
                backlog = read or [event]
    finally:
        hub.unsubscribe_inbox(subscriber)
