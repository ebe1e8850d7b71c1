"""The events of the live inbox (inboxEvents), as its subscribers receive them. ThreadUpdated,
ThreadDeleted and ThreadRestored are the thread events' types; their cursors here are the
inbox's."""

from typing import Annotated, assert_never

import strawberry

from app.graphql.events import ThreadDeleted, ThreadRestored, ThreadUpdated, event_cursor
from app.graphql.types import Thread
from app.inbox import InboxEvent as DomainInboxEvent
from app.inbox import InboxEventType
from app.pagination import INBOX_ORDER, encode_cursor


@strawberry.type(description="A thread was created (createThread, or forkThread).")
class ThreadCreated:
    cursor: str = event_cursor()
    thread: Thread = strawberry.field(description="The new thread.")


InboxEventKind = ThreadCreated | ThreadUpdated | ThreadDeleted | ThreadRestored
InboxEvent = Annotated[
    InboxEventKind,
    strawberry.union(
        "InboxEvent",
        description="Something that happened to one of your organization's threads: created,"
        " changed (its title, metadata, state, visibility, or its activity: a message created,"
        " edited, completed, deleted or restored), deleted, restored.",
    ),
]


def inbox_cursor(seq: int) -> str:
    return encode_cursor(INBOX_ORDER, (seq,))


def _thread(event: DomainInboxEvent) -> Thread:
    assert event.thread is not None
    return Thread.from_domain(event.thread)


def inbox_event_from_domain(event: DomainInboxEvent) -> InboxEventKind:
    cursor = inbox_cursor(event.seq)
    match event.type:
        case InboxEventType.THREAD_CREATED:
            return ThreadCreated(cursor=cursor, thread=_thread(event))
        case InboxEventType.THREAD_UPDATED:
            return ThreadUpdated(cursor=cursor, thread=_thread(event))
        case InboxEventType.THREAD_DELETED:
            return ThreadDeleted(cursor=cursor, thread_id=strawberry.ID(event.thread_id))
        case InboxEventType.THREAD_RESTORED:
            return ThreadRestored(cursor=cursor, thread=_thread(event))
        case _:
            assert_never(event.type)
