"""The events of a thread, as its subscribers receive them."""

from typing import Annotated, Any, assert_never

import strawberry

from app import domain
from app.domain import EventType
from app.graphql.types import Message, Thread
from app.pagination import EVENT_ORDER, encode_cursor


def event_cursor() -> Any:
    return strawberry.field(
        description="Pass to the subscription's `after` (threadEvents or inboxEvents, whichever"
        " delivered it) to resume after this."
    )


@strawberry.type(description="A message was added.")
class MessageCreated:
    cursor: str = event_cursor()
    message: Message = strawberry.field(description="The message as created.")


@strawberry.type(description="Text was appended to a message in progress.")
class MessageDelta:
    cursor: str = event_cursor()
    message_id: strawberry.ID = strawberry.field(description="The message.")
    delta: str = strawberry.field(description="The text appended.")
    offset: int = strawberry.field(
        description="Where the delta goes: the length of the message's text before it. The"
        " deltas of a message come in the order of their offsets, each starting where the"
        " previous one ended: a larger offset means a delta was missed (read the message)."
    )


@strawberry.type(description="A message in progress was finished.")
class MessageCompleted:
    cursor: str = event_cursor()
    message: Message = strawberry.field(description="The finished message.")


@strawberry.type(description="A message's metadata changed, or its content was edited.")
class MessageUpdated:
    cursor: str = event_cursor()
    message: Message = strawberry.field(
        description="The message after the change (an edit: its new content and editedAt)."
    )


@strawberry.type(description="A message was deleted.")
class MessageDeleted:
    cursor: str = event_cursor()
    message_id: strawberry.ID = strawberry.field(description="The deleted message.")


@strawberry.type(description="A message came back from the trash, in its place.")
class MessageRestored:
    cursor: str = event_cursor()
    message: Message = strawberry.field(description="The restored message.")


@strawberry.type(description="The thread itself changed.")
class ThreadUpdated:
    cursor: str = event_cursor()
    thread: Thread = strawberry.field(description="The thread after the change.")


@strawberry.type(
    description="The thread came back from the trash (subscribe again to follow it: a"
    " subscription ends with ThreadDeleted)."
)
class ThreadRestored:
    cursor: str = event_cursor()
    thread: Thread = strawberry.field(description="The restored thread.")


@strawberry.type(
    description="The thread was deleted (to the trash, or for good); a threadEvents"
    " subscription ends after this."
)
class ThreadDeleted:
    cursor: str = event_cursor()
    thread_id: strawberry.ID = strawberry.field(description="The deleted thread.")


ThreadEventType = (
    MessageCreated
    | MessageDelta
    | MessageCompleted
    | MessageUpdated
    | MessageDeleted
    | MessageRestored
    | ThreadUpdated
    | ThreadDeleted
    | ThreadRestored
)
ThreadEvent = Annotated[
    ThreadEventType,
    strawberry.union("ThreadEvent", description="Something that happened in a thread."),
]


def _message(event: domain.Event) -> Message:
    assert event.message is not None
    return Message.from_domain(event.message)


def _thread(event: domain.Event) -> Thread:
    assert event.thread is not None
    return Thread.from_domain(event.thread)


def _message_id(event: domain.Event) -> strawberry.ID:
    assert event.message_id is not None
    return strawberry.ID(event.message_id)


def event_from_domain(event: domain.Event) -> ThreadEventType:
    cursor = encode_cursor(EVENT_ORDER, (event.seq,))
    match event.type:
        case EventType.MESSAGE_CREATED:
            return MessageCreated(cursor=cursor, message=_message(event))
        case EventType.MESSAGE_DELTA:
            return MessageDelta(
                cursor=cursor,
                message_id=_message_id(event),
                delta=event.delta or "",
                offset=event.offset or 0,
            )
        case EventType.MESSAGE_COMPLETED:
            return MessageCompleted(cursor=cursor, message=_message(event))
        case EventType.MESSAGE_UPDATED:
            return MessageUpdated(cursor=cursor, message=_message(event))
        case EventType.MESSAGE_DELETED:
            return MessageDeleted(cursor=cursor, message_id=_message_id(event))
        case EventType.MESSAGE_RESTORED:
            return MessageRestored(cursor=cursor, message=_message(event))
        case EventType.THREAD_RESTORED:
            return ThreadRestored(cursor=cursor, thread=_thread(event))
        case EventType.THREAD_UPDATED:
            return ThreadUpdated(cursor=cursor, thread=_thread(event))
        case EventType.THREAD_DELETED:
            return ThreadDeleted(cursor=cursor, thread_id=strawberry.ID(event.thread_id))
        case _:
            assert_never(event.type)
