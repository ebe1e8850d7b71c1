"""Message use cases: create, update, append text, complete, delete."""

from app import store
from app.domain import (
    MESSAGE_PREFIX,
    Action,
    Caller,
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
from app.errors import Conflict, InvalidInput, NotFound
from app.services.runtime import Runtime, Written, claim, message_written, record, thread_of
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
    else:
        created, thread = await _add(rt, caller, thread_id, message, claimed.result_id)
        await store.finish(rt.db, claimed)
    # `once`: a retry records the event its first call could not, and never a second one.
    after, event = await message_written(
        rt, caller, thread, EventType.MESSAGE_CREATED, message=created, once=created.id
    )
    return Written((created, after), event)


async def _add(
    rt: Runtime, caller: Caller, thread_id: str, message: NewMessage, message_id: str
) -> tuple[Message, Thread]:
    organization_id = caller.organization_id
    # Taking the next number is the atomic admission check on the thread's state.
    seq = await store.take_message_number(
        rt.db,
        organization_id=organization_id,
        thread_id=thread_id,
        states=states_allowing(Action.ADD_MESSAGE),
    )
    if seq is None:
        thread = await store.get_thread(rt.db, organization_id=organization_id, thread_id=thread_id)
        raise refused(thread, Action.ADD_MESSAGE)
    created = Message.new(
        message, id=message_id, caller=caller, thread_id=thread_id, seq=seq, at=rt.clock()
    )
    if not await store.insert_message(rt.db, created):  # a retry racing the first call
        return await _message_in_thread(rt, caller, message_id)
    touched = await store.touch_thread(
        rt.db, organization_id=organization_id, thread_id=thread_id, at=created.created_at
    )
    if touched is None:
        # The thread was deleted meanwhile; its deletion may have run before our insert.
        await store.remove_message(rt.db, organization_id=organization_id, message_id=message_id)
        raise NotFound(f"Thread {thread_id} not found.")
    return created, touched


async def _moved(rt: Runtime, caller: Caller, message: Message, type: EventType) -> int | None:
    """Move the thread's `updatedAt` (its place in the inbox) for a write of `message`, and
    record it; the event's number. A streamed message moves it when it starts and when it
    ends, not with each delta."""
    moved = await store.touch_thread(
        rt.db, organization_id=caller.organization_id, thread_id=message.thread_id, at=rt.clock()
    )
    if moved is None:  # the thread went meanwhile
        return await record(rt, caller, message.thread_id, type, message=message)
    _, event = await message_written(rt, caller, moved, type, message=message)
    return event


# How many times an edit reads the message again after losing a race to another edit.
EDIT_ATTEMPTS = 5


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
    if editing:
        updated = await _edit(rt, message, changes)
    else:
        updated = await store.update_message(
            rt.db, organization_id=caller.organization_id, message_id=message_id, changes=changes
        )
    event = await _moved(rt, caller, updated, EventType.MESSAGE_UPDATED)
    return Written(updated, event)


async def _edit(rt: Runtime, message: Message, changes: MessageChanges) -> Message:
    """Edit the message as read; after losing a race to another edit, read it again and edit
    the version that edit wrote. The writes and their order: `store.edit_message`."""
    for _ in range(EDIT_ATTEMPTS):
        if message.status is MessageStatus.IN_PROGRESS:
            raise Conflict(
                f"Message {message.id} is {message.status}: it is being streamed; edit it once"
                " it is completed."
            )
        edited = await store.edit_message(rt.db, message=message, changes=changes, at=rt.clock())
        if edited is not None:
            return edited
        message = await store.get_message(
            rt.db, organization_id=message.organization_id, message_id=message.id
        )
    raise Conflict(f"Message {message.id} is being edited by others meanwhile; retry.")


async def append_text(
    rt: Runtime, *, caller: Caller, message_id: str, delta: str
) -> Written[Message]:
    """Append to a message IN_PROGRESS; CONFLICT once it is finished."""
    organization_id = caller.organization_id
    appended = await store.append_text(
        rt.db,
        organization_id=organization_id,
        message_id=message_id,
        delta=delta,
        max_length=MAX_CONTENT,
    )
    if appended is None:
        found = await store.get_message(
            rt.db, organization_id=organization_id, message_id=message_id
        )
        if found.status is not MessageStatus.IN_PROGRESS:
            raise Conflict(f"Message {message_id} is {found.status}: it takes no more text.")
        raise InvalidInput("delta", f"A message holds at most {MAX_CONTENT:,} characters.")
    event = await record(
        rt,
        caller,
        appended.thread_id,
        EventType.MESSAGE_DELTA,
        message_id=message_id,
        delta=delta,
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
    finished = await store.finish_message(
        rt.db,
        organization_id=caller.organization_id,
        message_id=message_id,
        status=status,
        incomplete_reason=incomplete_reason,
    )
    if finished is None:
        found = await store.get_message(
            rt.db, organization_id=caller.organization_id, message_id=message_id
        )
        raise Conflict(f"Message {message_id} is {found.status} already.")
    event = await _moved(rt, caller, finished, EventType.MESSAGE_COMPLETED)
    return Written(finished, event)
