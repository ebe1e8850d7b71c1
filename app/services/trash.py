"""The trash: delete (to the trash, or for good), restore, and the purge of what stayed there
past the retention period."""

import asyncio
import logging
from datetime import datetime, timedelta

from app import store
from app.domain import Action, Caller, Event, EventType, Message, Thread
from app.errors import NotFound
from app.inbox import with_event
from app.services.runtime import (
    Runtime,
    Written,
    message_written,
    number,
    record,
    thread_of,
    uncount,
)

log = logging.getLogger("app.trash")


async def delete_thread(
    rt: Runtime, *, caller: Caller, thread_id: str, permanent: bool = False
) -> Written[None]:
    """Move the thread, in any state, to the trash; or with `permanent`, remove it with all
    its messages at once (from the trash too)."""
    organization_id = caller.organization_id
    if permanent:
        # Hidden, then logged (the log is numbered from the thread), then removed: the sweep
        # finishes a deletion a crash interrupted, logging its event if it was lost.
        await store.hide_for_deletion(
            rt.db, organization_id=organization_id, thread_id=thread_id, at=rt.clock()
        )
        event = await record(rt, caller, thread_id, EventType.THREAD_DELETED)
        await store.remove_thread(rt.db, organization_id=organization_id, thread_id=thread_id)
        return Written(None, event)
    if not await store.trash_thread(
        rt.db, organization_id=organization_id, thread_id=thread_id, at=rt.clock()
    ):
        raise NotFound(f"Thread {thread_id} not found.")
    await store.sync_thread_count(rt.db, organization_id=organization_id, thread_id=thread_id)
    event = await record(rt, caller, thread_id, EventType.THREAD_DELETED)
    return Written(None, event)


async def restore_thread(rt: Runtime, *, caller: Caller, thread_id: str) -> Written[Thread]:
    """The thread back from the trash, with exactly the messages it had."""
    restored = await store.restore_thread(
        rt.db, organization_id=caller.organization_id, thread_id=thread_id, at=rt.clock()
    )
    if restored is None:
        raise NotFound(f"Thread {thread_id} is not in the trash.")
    await store.sync_thread_count(
        rt.db, organization_id=caller.organization_id, thread_id=thread_id
    )
    event = await record(rt, caller, thread_id, EventType.THREAD_RESTORED, thread=restored)
    return Written(with_event(restored, event), event)


async def delete_message(rt: Runtime, *, caller: Caller, message_id: str) -> Written[Thread]:
    """Move a message of an ACTIVE thread to the trash; the thread after it."""
    organization_id = caller.organization_id
    message = await store.get_message(rt.db, organization_id=organization_id, message_id=message_id)
    await thread_of(rt, caller, message, Action.DELETE_MESSAGE)
    touched, event = await number(rt, caller, message, count=-1)
    if not await store.trash_message(
        rt.db, organization_id=organization_id, message_id=message_id, at=rt.clock(), event=event
    ):  # a racing delete trashed it
        await uncount(rt, caller, message.thread_id, by=1)
        raise NotFound(f"Message {message_id} not found.")
    logged = Event(
        organization_id, message.thread_id, event, EventType.MESSAGE_DELETED, message_id=message_id
    )
    after = await message_written(rt, caller, touched, logged)
    return Written(after, event)


async def restore_message(
    rt: Runtime, *, caller: Caller, message_id: str
) -> Written[tuple[Message, Thread]]:
    """A message back from the trash, in its place, into a thread that takes messages."""
    organization_id = caller.organization_id
    trashed = await store.trashed_message(
        rt.db, organization_id=organization_id, message_id=message_id
    )
    if trashed is None:
        raise NotFound(f"Message {message_id} is not in the trash.")
    await thread_of(rt, caller, trashed, Action.ADD_MESSAGE)
    touched, event = await number(rt, caller, trashed, count=1)
    restored = await store.restore_message(
        rt.db, organization_id=organization_id, message_id=message_id, event=event, at=rt.clock()
    )
    if restored is None:
        await uncount(rt, caller, trashed.thread_id, by=-1)
        raise NotFound(f"Message {message_id} is not in the trash.")
    logged = Event(
        organization_id, restored.thread_id, event, EventType.MESSAGE_RESTORED, message=restored
    )
    after = await message_written(rt, caller, touched, logged)
    return Written((restored, after), event)


async def purge(rt: Runtime, *, deleted_before: datetime) -> int:
    """Remove for good what went to the trash before `deleted_before`."""
    return await store.purge_trash(rt.db, deleted_before=deleted_before)


async def keep_purging(rt: Runtime, *, retention: timedelta, every: timedelta) -> None:
    """Purge what stayed in the trash past `retention`, `every` so often (the app also purges
    once at start-up, before it serves)."""
    while True:
        await asyncio.sleep(every.total_seconds())
        try:
            await purge(rt, deleted_before=rt.clock() - retention)
        except Exception:
            log.exception("Purging the trash failed; trying again later.")
