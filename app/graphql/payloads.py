"""What each mutation returns: one payload type per mutation."""

import strawberry

from app.graphql.types import Message, Thread
from app.pagination import EVENT_ORDER, encode_cursor

EVENT_CURSOR = (
    "The cursor of the thread event this write recorded (null if the thread went meanwhile):"
    " threadEvents(after:) from it delivers exactly what happens after this write."
)


def event_cursor(seq: int | None) -> str | None:
    return None if seq is None else encode_cursor(EVENT_ORDER, (seq,))


@strawberry.type(description="The created thread.")
class CreateThreadPayload:
    thread: Thread = strawberry.field(description="The new thread.")
    event_cursor: str = strawberry.field(
        description="The cursor of the new thread's start: threadEvents(after:) from it"
        " delivers every event of the thread."
    )


@strawberry.type(description="The updated thread.")
class UpdateThreadPayload:
    thread: Thread = strawberry.field(description="The thread after the change.")
    event_cursor: str | None = strawberry.field(description=EVENT_CURSOR)


@strawberry.type(description="What was deleted.")
class DeleteThreadPayload:
    id: strawberry.ID = strawberry.field(description="The deleted thread's id.")
    deleted: bool = strawberry.field(description="Always true: failures are errors.")
    event_cursor: str | None = strawberry.field(description=EVENT_CURSOR)


@strawberry.type(description="The fork: a new thread with copies of the source's messages.")
class ForkThreadPayload:
    thread: Thread = strawberry.field(description="The new ACTIVE thread; `forkedFrom` links back.")
    event_cursor: str = strawberry.field(
        description="The cursor of the fork's start: threadEvents(after:) from it delivers every"
        " event of the fork. Forking records no event on the source."
    )


@strawberry.type(description="The thread back from the trash.")
class RestoreThreadPayload:
    thread: Thread = strawberry.field(description="The thread, with exactly its messages.")
    event_cursor: str | None = strawberry.field(description=EVENT_CURSOR)


@strawberry.type(description="The message back from the trash, and its thread.")
class RestoreMessagePayload:
    message: Message = strawberry.field(description="The message, in its place again.")
    thread: Thread = strawberry.field(description="Its thread, after the change.")
    event_cursor: str | None = strawberry.field(description=EVENT_CURSOR)


@strawberry.type(description="The created message and its thread.")
class CreateMessagePayload:
    message: Message = strawberry.field(description="The new message.")
    thread: Thread = strawberry.field(description="Its thread, after the change.")
    event_cursor: str | None = strawberry.field(description=EVENT_CURSOR)


@strawberry.type(description="The updated message.")
class UpdateMessagePayload:
    message: Message = strawberry.field(description="The message after the change.")
    event_cursor: str | None = strawberry.field(description=EVENT_CURSOR)


@strawberry.type(description="The message after the text was appended.")
class AppendMessageTextPayload:
    message: Message = strawberry.field(description="The message after the change.")
    event_cursor: str | None = strawberry.field(description=EVENT_CURSOR)


@strawberry.type(description="The finished message.")
class CompleteMessagePayload:
    message: Message = strawberry.field(description="The message, COMPLETED or INCOMPLETE.")
    event_cursor: str | None = strawberry.field(description=EVENT_CURSOR)


@strawberry.type(description="What was deleted, and the thread it was in.")
class DeleteMessagePayload:
    id: strawberry.ID = strawberry.field(description="The deleted message's id.")
    deleted: bool = strawberry.field(description="Always true: failures are errors.")
    thread: Thread = strawberry.field(description="Its thread, after the change.")
    event_cursor: str | None = strawberry.field(description=EVENT_CURSOR)
