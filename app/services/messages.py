"""Message use cases: create, update, append text, complete, delete."""

import asyncio
from collections.abc import Awaitable, Callable

from app import store
from app.domain import (
    MESSAGE_PREFIX,
    Action,
    Caller,
    Event,
    EventType,
    Message,
    MessageChanges,
    MessageStatus,
    NewMessage,
    Thread,
    given,
    refused,
    states_allowing,
)
from app.errors import Conflict, InvalidInput
from app.services.runtime import (
    Runtime,
    Written,
    claim,
    log,
    message_written,
    number,
    thread_of,
    uncount,
)
from app.validation import MAX_CONTENT


async def _message_in_thread(
    rt: Runtime, caller: Caller, message_id: str, *actions: Action
) -> tuple[Message, Thread]:
    """The message and its visible thread, whose state must allow each of `actions`."""
    message = await store.get_message(
        rt.db, organization_id=caller.organization_id, message_id=message_id
    )
    return message, await thread_of(rt, caller, message, *actions)


async def create_message(
    rt: Runtime,
    *,
    caller: Caller,
    thread_id: str,
    message: NewMessage,
    idempotency_key: str | None = None,
) -> Written[tuple[Message, Thread]]:
    """Add a message to a thread that takes them; the message and the thread after it."""
    new_id = rt.new_id(MESSAGE_PREFIX)
    request = [thread_id, message]
    claimed = await claim(
        rt, caller, "createMessage", idempotency_key, request=request, new_id=new_id
    )
    if claimed.done:
        created, thread = await _message_in_thread(rt, caller, claimed.result_id)
        return Written((created, thread), thread.last_event)
    added = await _add(rt, caller, thread_id, message, claimed.result_id)
    await store.finish(rt.db, claimed)
    return added


async def _add(
    rt: Runtime, caller: Caller, thread_id: str, message: NewMessage, message_id: str
) -> Written[tuple[Message, Thread]]:
    organization_id = caller.organization_id
    at = rt.clock()
    # One write checks the thread's state, moves its activity and numbers both the message
    # and its event: so MessageCreated events are in the messages' order.
    taken = await store.take_event_number(
        rt.db,
        organization_id=organization_id,
        thread_id=thread_id,
        at=at,
        touch=True,
        states=states_allowing(Action.ADD_MESSAGE),
        new_message=True,
        count=1,
        images=rt.images,
    )
    if taken is None:
        thread = await store.get_thread(rt.db, organization_id=organization_id, thread_id=thread_id)
        raise refused(thread, Action.ADD_MESSAGE)
    thread, event, seq = taken
    created = Message.new(
        message, id=message_id, caller=caller, thread_id=thread_id, seq=seq, at=at
    )
    # The inbox's number alongside the insert (the state is checked): one round trip less.
    inserted, inbox_seq = await asyncio.gather(
        store.insert_message(rt.db, created, event=event),
        store.take_inbox_number(rt.db, organization_id=organization_id),
    )
    if not inserted:  # a retry racing the first: it logs nothing (the first call does)
        await uncount(rt, caller, thread_id, by=-1)
        found, thread = await _message_in_thread(rt, caller, message_id)
        return Written((found, thread), thread.last_event)
    logged = Event(organization_id, thread_id, event, EventType.MESSAGE_CREATED, message=created)
    after = await message_written(rt, caller, thread, logged, inbox_seq=inbox_seq)
    return Written((created, after), event)


async def _numbered(
    rt: Runtime,
    caller: Caller,
    message: Message,
    write: Callable[[int], Awaitable[Message | None]],
    *,
    touch: bool = True,
) -> tuple[Message | None, Thread, int]:
    """Number the event of a write of `message`, then run `write` with that number; a write that
    found the message changed by a write numbered later takes a new number and runs again
    (`write` returns None when the message is not as it expected: the caller tells why)."""
    for _ in range(WRITE_ATTEMPTS):
        thread, event = await number(rt, caller, message, touch=touch)
        written = await write(event)
        if written is not None or not await store.outnumbered(
            rt.db, organization_id=caller.organization_id, message_id=message.id, event=event
        ):
            return written, thread, event
    raise Conflict(f"Message {message.id} is being written by others meanwhile; retry.")


async def _moved(
    rt: Runtime, caller: Caller, message: Message, thread: Thread, event: int, type: EventType
) -> int:
    """Log the event of a write of `message` (its thread moved) and the inbox's update."""
    logged = Event(caller.organization_id, message.thread_id, event, type, message=message)
    await message_written(rt, caller, thread, logged)
    return event


# How many times a write takes a new number after losing a race to another write.
WRITE_ATTEMPTS = 20


async def update_message(
    rt: Runtime, *, caller: Caller, message_id: str, changes: MessageChanges
) -> Written[Message]:
    """Change a message's metadata (not in an ARCHIVED thread) and/or edit its content (in an
    ACTIVE thread, once it is not IN_PROGRESS), keeping the version an edit replaces."""
    changed = given(changes)
    editing = "content" in changed
    actions = [Action.EDIT_MESSAGE] if editing else []
    actions += [Action.CHANGE_MESSAGE] if "metadata" in changed else []
    message, thread = await _message_in_thread(rt, caller, message_id, *actions)
    if not changed:
        return Written(message, thread.last_event)
    thread, event = await number(rt, caller, message)
    if editing:
        updated = await _edit(rt, message, changes, event)
    else:
        updated = await store.update_message(
            rt.db,
            organization_id=caller.organization_id,
            message_id=message_id,
            changes=changes,
            event=event,
            at=rt.clock(),
        )
    return Written(
        updated, await _moved(rt, caller, updated, thread, event, EventType.MESSAGE_UPDATED)
    )


async def _edit(rt: Runtime, message: Message, changes: MessageChanges, event: int) -> Message:
    """Edit the message as read; after losing a race to another edit, read it again and edit
    the version that edit wrote. The writes and their order: `store.edit_message`."""
    for _ in range(EDIT_ATTEMPTS):
        if message.status is MessageStatus.IN_PROGRESS:
            raise Conflict(
                f"Message {message.id} is {message.status}: it is being streamed; edit it once"
                " it is completed."
            )
        edited = await store.edit_message(
            rt.db, message=message, changes=changes, at=rt.clock(), event=event
        )
        if edited is not None:
            return edited
        message = await store.get_message(
            rt.db, organization_id=message.organization_id, message_id=message.id
        )
    raise Conflict(f"Message {message.id} is being edited by others meanwhile; retry.")


# How many times an edit reads the message again after losing a race to another edit.
EDIT_ATTEMPTS = 5


async def append_text(
    rt: Runtime, *, caller: Caller, message_id: str, delta: str
) -> Written[Message]:
    """Append to a message IN_PROGRESS; CONFLICT once it is finished. The event says where the
    delta goes (its offset in the text), and the events of a message's deltas are in the
    order of their offsets."""
    organization_id = caller.organization_id
    message = await store.get_message(rt.db, organization_id=organization_id, message_id=message_id)

    async def append(event: int) -> Message | None:
        return await store.append_text(
            rt.db,
            organization_id=organization_id,
            message_id=message_id,
            delta=delta,
            max_length=MAX_CONTENT,
            event=event,
            at=rt.clock(),
            images=rt.images,
        )

    appended, _, event = await _numbered(rt, caller, message, append, touch=False)
    if appended is None:
        found = await store.get_message(
            rt.db, organization_id=organization_id, message_id=message_id
        )
        if found.status is not MessageStatus.IN_PROGRESS:
            raise Conflict(f"Message {message_id} is {found.status}: it takes no more text.")
        raise InvalidInput("delta", f"A message holds at most {MAX_CONTENT:,} characters.")
    offset = len(appended.text) - len(delta)
    await log(
        rt,
        Event(
            organization_id,
            appended.thread_id,
            event,
            EventType.MESSAGE_DELTA,
            message_id=message_id,
            delta=delta,
            offset=offset,
        ),
    )
    return Written(appended, event)


async def complete_message(
    rt: Runtime,
    *,
    caller: Caller,
    message_id: str,
    status: MessageStatus = MessageStatus.COMPLETED,
    incomplete_reason: str | None = None,
) -> Written[Message]:
    """Finish a message IN_PROGRESS: COMPLETED or INCOMPLETE."""
    if status is MessageStatus.IN_PROGRESS:
        raise InvalidInput("status", "A message ends COMPLETED or INCOMPLETE.")
    organization_id = caller.organization_id
    message = await store.get_message(rt.db, organization_id=organization_id, message_id=message_id)

    async def finish(event: int) -> Message | None:
        return await store.finish_message(
            rt.db,
            organization_id=organization_id,
            message_id=message_id,
            status=status,
            incomplete_reason=incomplete_reason,
            event=event,
            at=rt.clock(),
        )

    finished, thread, event = await _numbered(rt, caller, message, finish)
    if finished is None:
        found = await store.get_message(
            rt.db, organization_id=caller.organization_id, message_id=message_id
        )
        raise Conflict(f"Message {message_id} is {found.status} already.")
    return Written(
        finished, await _moved(rt, caller, finished, thread, event, EventType.MESSAGE_COMPLETED)
    )
