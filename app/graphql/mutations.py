"""Writes: each resolver turns its input into domain values, calls one use case and returns the
payload, after updating what the request has cached."""

import asyncio
from collections.abc import Awaitable, Callable
from typing import Annotated, Any, TypeVar

import strawberry
from strawberry.utils.str_converters import to_camel_case

from app import domain, validation
from app.errors import InvalidInput
from app.graphql.context import Context, Info
from app.graphql.inputs import (
    AppendMessageTextInput,
    CompleteMessageInput,
    CreateMessageInput,
    CreateThreadInput,
    DeleteMessageInput,
    DeleteThreadInput,
    ForkThreadInput,
    RestoreMessageInput,
    RestoreThreadInput,
    UpdateMessageInput,
    UpdateThreadInput,
    idempotency_key,
)
from app.graphql.payloads import (
    AppendMessageTextPayload,
    CompleteMessagePayload,
    CreateMessagePayload,
    CreateThreadPayload,
    DeleteMessagePayload,
    DeleteThreadPayload,
    ForkThreadPayload,
    RestoreMessagePayload,
    RestoreThreadPayload,
    UpdateMessagePayload,
    UpdateThreadPayload,
    event_cursor,
)
from app.graphql.types import Message, Thread
from app.services import forks, messages, threads, trash
from app.services.runtime import keys_released_if_refused

T = TypeVar("T")
INPUT = strawberry.argument(description="What to write.")


# Writes running to their end after their request was cancelled (kept referenced till then).
_FINISHING: set[asyncio.Task[Any]] = set()


def _finished(task: asyncio.Task[Any]) -> None:
    _FINISHING.discard(task)
    if not task.cancelled():
        task.exception()  # retrieved: its request, if still there, reports it


async def _released_if_refused(
    context: Context, use_case: Callable[..., Awaitable[T]], arguments: dict[str, Any]
) -> T:
    runtime = context.runtime
    async with keys_released_if_refused(runtime):
        return await use_case(runtime, caller=context.signed_in, **arguments)


async def write(context: Context, use_case: Callable[..., Awaitable[T]], **arguments: Any) -> T:
    """Run a use case for the signed-in caller to its end even if the request is cancelled
    meanwhile (its deadline passed, its client went): a write that started is finished with its
    event, never cut between the two. A refused create gives its idempotency key back. Its
    errors name their fields by their path in the mutation's `input`."""
    task = asyncio.ensure_future(_released_if_refused(context, use_case, arguments))
    _FINISHING.add(task)
    task.add_done_callback(_finished)
    try:
        return await asyncio.shield(task)
    except InvalidInput as error:
        path = ".".join(to_camel_case(part) for part in error.field.split("."))
        raise InvalidInput(f"input.{path}", error.message) from None


@strawberry.type(description="Writes. Each takes one input object and returns a payload.")
class Mutation:
    @strawberry.mutation(
        description=f"Create a thread, with up to {validation.MAX_THREAD_MESSAGES} first messages."
    )
    async def create_thread(
        self, info: Info, input: Annotated[CreateThreadInput, INPUT]
    ) -> CreateThreadPayload:
        new = input.to_domain()
        key = idempotency_key(input.idempotency_key)
        context = info.context
        written = await write(context, threads.create_thread, thread=new, idempotency_key=key)
        return CreateThreadPayload(
            thread=Thread.from_domain(written.value), event_cursor=str(event_cursor(0))
        )

    @strawberry.mutation(description="Change a thread. ARCHIVED threads only take `state`.")
    async def update_thread(
        self, info: Info, input: Annotated[UpdateThreadInput, INPUT]
    ) -> UpdateThreadPayload:
        thread_id = validation.thread_id(input.id, field="input.id")
        changes = input.to_changes()
        context = info.context
        written = await write(context, threads.update_thread, thread_id=thread_id, changes=changes)
        context.thread_changed(thread_id, written.value)
        return UpdateThreadPayload(
            thread=Thread.from_domain(written.value), event_cursor=event_cursor(written.event)
        )

    @strawberry.mutation(
        description="Delete a thread, in any state: to the trash, where restoreThread brings it"
        " back with all its messages until it is purged, or for good with `permanent`."
    )
    async def delete_thread(
        self, info: Info, input: Annotated[DeleteThreadInput, INPUT]
    ) -> DeleteThreadPayload:
        thread_id = validation.thread_id(input.id, field="input.id")
        context = info.context
        written = await write(
            context, trash.delete_thread, thread_id=thread_id, permanent=input.permanent
        )
        context.thread_changed(thread_id, None)
        return DeleteThreadPayload(
            id=strawberry.ID(thread_id), deleted=True, event_cursor=event_cursor(written.event)
        )

    @strawberry.mutation(description="Bring a thread back from the trash, exactly as it was.")
    async def restore_thread(
        self, info: Info, input: Annotated[RestoreThreadInput, INPUT]
    ) -> RestoreThreadPayload:
        thread_id = validation.thread_id(input.id, field="input.id")
        context = info.context
        written = await write(context, trash.restore_thread, thread_id=thread_id)
        context.thread_changed(thread_id, written.value)
        return RestoreThreadPayload(
            thread=Thread.from_domain(written.value), event_cursor=event_cursor(written.event)
        )

    @strawberry.mutation(
        description="Fork a thread (in any state): a new ACTIVE thread with copies of its"
        " messages, up to `upToMessageId` or all. Records no event on the source."
    )
    async def fork_thread(
        self, info: Info, input: Annotated[ForkThreadInput, INPUT]
    ) -> ForkThreadPayload:
        fork = input.to_domain()
        key = idempotency_key(input.idempotency_key)
        context = info.context
        written = await write(context, forks.fork_thread, fork=fork, idempotency_key=key)
        context.thread_changed(written.value.id, written.value)
        return ForkThreadPayload(
            thread=Thread.from_domain(written.value), event_cursor=str(event_cursor(0))
        )

    @strawberry.mutation(description="Add a message to an ACTIVE thread.")
    async def create_message(
        self, info: Info, input: Annotated[CreateMessageInput, INPUT]
    ) -> CreateMessagePayload:
        thread_id = validation.thread_id(input.thread_id, field="input.threadId")
        new = input.to_new_message()
        key = idempotency_key(input.idempotency_key)
        context = info.context
        written = await write(
            context, messages.create_message, thread_id=thread_id, message=new, idempotency_key=key
        )
        message, thread = written.value
        context.thread_changed(thread_id, thread)
        return CreateMessagePayload(
            message=Message.from_domain(message),
            thread=Thread.from_domain(thread),
            event_cursor=event_cursor(written.event),
        )

    @strawberry.mutation(
        description="Replace a message's metadata (not in ARCHIVED threads) and/or edit its"
        " content (ACTIVE threads; not while IN_PROGRESS), keeping the version replaced in"
        " `revisions`."
    )
    async def update_message(
        self, info: Info, input: Annotated[UpdateMessageInput, INPUT]
    ) -> UpdateMessagePayload:
        message_id = validation.message_id(input.id, field="input.id")
        changes = input.to_changes()
        context = info.context
        written = await write(
            context, messages.update_message, message_id=message_id, changes=changes
        )
        context.message_changed(message_id, written.value)
        return UpdateMessagePayload(
            message=Message.from_domain(written.value), event_cursor=event_cursor(written.event)
        )

    @strawberry.mutation(description="Append text to an IN_PROGRESS message (CONFLICT after).")
    async def append_message_text(
        self, info: Info, input: Annotated[AppendMessageTextInput, INPUT]
    ) -> AppendMessageTextPayload:
        message_id = validation.message_id(input.id, field="input.id")
        delta = validation.content(input.delta, field="input.delta")
        context = info.context
        written = await write(context, messages.append_text, message_id=message_id, delta=delta)
        context.message_changed(message_id, written.value)
        return AppendMessageTextPayload(
            message=Message.from_domain(written.value), event_cursor=event_cursor(written.event)
        )

    @strawberry.mutation(description="Finish an IN_PROGRESS message: COMPLETED or INCOMPLETE.")
    async def complete_message(
        self, info: Info, input: Annotated[CompleteMessageInput, INPUT]
    ) -> CompleteMessagePayload:
        message_id = validation.message_id(input.id, field="input.id")
        reason = validation.reference(input.incomplete_reason, field="input.incompleteReason")
        context = info.context
        written = await write(
            context,
            messages.complete_message,
            message_id=message_id,
            status=domain.MessageStatus[input.status.name],
            incomplete_reason=reason,
        )
        context.message_changed(message_id, written.value)
        return CompleteMessagePayload(
            message=Message.from_domain(written.value), event_cursor=event_cursor(written.event)
        )

    @strawberry.mutation(
        description="Delete a message from an ACTIVE thread, to the trash: restoreMessage"
        " brings it back in its place until it is purged."
    )
    async def delete_message(
        self, info: Info, input: Annotated[DeleteMessageInput, INPUT]
    ) -> DeleteMessagePayload:
        message_id = validation.message_id(input.id, field="input.id")
        context = info.context
        written = await write(context, trash.delete_message, message_id=message_id)
        thread = written.value
        context.message_changed(message_id, None)
        context.thread_changed(thread.id, thread)
        return DeleteMessagePayload(
            id=strawberry.ID(message_id),
            deleted=True,
            thread=Thread.from_domain(thread),
            event_cursor=event_cursor(written.event),
        )

    @strawberry.mutation(
        description="Bring a message back from the trash, in its place, into an ACTIVE thread."
    )
    async def restore_message(
        self, info: Info, input: Annotated[RestoreMessageInput, INPUT]
    ) -> RestoreMessagePayload:
        message_id = validation.message_id(input.id, field="input.id")
        context = info.context
        written = await write(context, trash.restore_message, message_id=message_id)
        message, thread = written.value
        context.message_changed(message_id, message)
        context.thread_changed(thread.id, thread)
        return RestoreMessagePayload(
            message=Message.from_domain(message),
            thread=Thread.from_domain(thread),
            event_cursor=event_cursor(written.event),
        )
