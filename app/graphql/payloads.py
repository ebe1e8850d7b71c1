"""What each mutation returns: one payload type per mutation."""

import strawberry

from app.graphql.types import Message, Thread


@strawberry.type(description="The created thread.")
class CreateThreadPayload:
    thread: Thread = strawberry.field(description="The new thread.")


@strawberry.type(description="The updated thread.")
class UpdateThreadPayload:
    thread: Thread = strawberry.field(description="The thread after the change.")


@strawberry.type(description="What was deleted.")
class DeleteThreadPayload:
    id: strawberry.ID = strawberry.field(description="The deleted thread's id.")
    deleted: bool = strawberry.field(description="Always true: failures are errors.")


@strawberry.type(description="The created message and its thread.")
class CreateMessagePayload:
    message: Message = strawberry.field(description="The new message.")
    thread: Thread = strawberry.field(description="Its thread, after the change.")


@strawberry.type(description="The updated message.")
class UpdateMessagePayload:
    message: Message = strawberry.field(description="The message after the change.")


@strawberry.type(description="The message after the change.")
class StreamedMessagePayload:
    message: Message = strawberry.field(description="The message after the change.")


@strawberry.type(description="What was deleted, and the thread it was in.")
class DeleteMessagePayload:
    id: strawberry.ID = strawberry.field(description="The deleted message's id.")
    deleted: bool = strawberry.field(description="Always true: failures are errors.")
    thread: Thread = strawberry.field(description="Its thread, after the change.")
