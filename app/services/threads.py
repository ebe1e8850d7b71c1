"""Thread use cases: create, update, delete."""

import asyncio
import logging
from datetime import timedelta

from app import store
from app.domain import (
    ALLOWED,
    KEEP,
    MESSAGE_PREFIX,
    THREAD_PREFIX,
    Action,
    Caller,
    EventType,
    Message,
    NewThread,
    Thread,
    ThreadChanges,
    given,
    refused,
    states_allowing,
)
from app.errors import NotFound
from app.inbox import with_event
from app.services.runtime import Runtime, Written, claim, log_creation, record

log = logging.getLogger("app.threads")


async def create_thread(
    rt: Runtime, *, caller: Caller, thread: NewThread, idempotency_key: str | None = None
) -> Written[Thread]:
    """A new ACTIVE thread with its first messages; a retry with the same key returns it."""
    organization_id = caller.organization_id
    claimed = await claim(
        rt, caller, "createThread", idempotency_key, request=thread, new_id=rt.new_id(THREAD_PREFIX)
    )
    thread_id = claimed.result_id
    if claimed.done:
        found = await store.get_thread(rt.db, organization_id=organization_id, thread_id=thread_id)
        return Written(found, event=0)
    at = rt.clock()
    created = Thread.new(thread, id=thread_id, caller=caller, at=at)
    messages = [
        Message.new(
            message,
            id=rt.new_id(MESSAGE_PREFIX),
            caller=caller,
            thread_id=thread_id,
            seq=seq,
            at=at,
        )
        for seq, message in enumerate(thread.messages, start=1)
    ]
    # A retry (after a crash, or racing the first call) writes the same thread again, or finishes
    # the first call's: one thread, with the messages the first call wrote.
    written = await store.insert_thread(rt.db, created, messages)
    await store.finish(rt.db, claimed)
    if written is None:  # made, then deleted since
        raise NotFound(f"Thread {thread_id} not found.")
    await store.sync_thread_count(rt.db, organization_id=organization_id, thread_id=thread_id)
    await log_creation(rt, caller, written)
    return Written(written, event=0)


async def update_thread(
    rt: Runtime, *, caller: Caller, thread_id: str, changes: ThreadChanges
) -> Written[Thread]:
    """Apply the changes the thread's state allows (an ARCHIVED thread only takes `state`)."""
    organization_id = caller.organization_id
    changed = given(changes)
    if not changed:
        thread = await store.get_thread(rt.db, organization_id=organization_id, thread_id=thread_id)
        return Written(thread, event=thread.last_event)
    actions = {Action.CHANGE_STATE if name == "state" else Action.CHANGE_THREAD for name in changed}
    to = None if changes.state is KEEP else changes.state
    updated = await store.update_thread(
        rt.db,
        organization_id=organization_id,
        thread_id=thread_id,
        changes=changes,
        states=states_allowing(*actions, to=to),
        at=rt.clock(),
    )
    if updated is None:
        thread = await store.get_thread(rt.db, organization_id=organization_id, thread_id=thread_id)
        refusing = sorted(actions - ALLOWED[thread.state]) or [Action.CHANGE_STATE]
        raise refused(thread, refusing[0])
    if changed.keys() & {"state", "metadata"}:  # what the counts count threads by
        await store.sync_thread_count(rt.db, organization_id=organization_id, thread_id=thread_id)
    event = await record(rt, caller, thread_id, EventType.THREAD_UPDATED, thread=updated)
    return Written(with_event(updated, event), event)


async def keep_finishing(rt: Runtime, *, every: timedelta) -> None:
    """Finish the writes a crash interrupted (on any instance) `every` so often, once older than
    the lease of a create (the app also does it at start-up, before it serves)."""
    while True:
        await asyncio.sleep(every.total_seconds())
        try:
            await store.finish_interrupted_writes(
                rt.db, creating_older_than=rt.lease, clock=rt.clock
            )
        except Exception:
            log.exception("Finishing interrupted writes failed; trying again later.")
