"""Writes a crash interrupted: their lost events logged, their leftovers removed."""

import asyncio
import logging
from datetime import datetime, timedelta

from app import store
from app.services.runtime import Runtime, publish
from app.store import EVENT_TTL

log = logging.getLogger("app.recovery")

# A write younger than this may still be running: its own request logs its event.
GRACE = timedelta(seconds=30)


async def record_lost_events(rt: Runtime, *, since: datetime, grace: timedelta = GRACE) -> int:
    """Log the events of writes since `since` that a crash kept out of the log, each with its
    inbox entry, and publish them; remove messages added to a thread deleted meanwhile. How many
    events were logged.

    Message writes older than `grace`: one still running logs the same event (its number is
    its id), so it is logged once. Thread writes (update, trash, restore, delete) older than
    GRACE only, whatever `grace`: their lost event is logged under a new number, so the pass
    leaves alone what a running request may still log."""
    now = rt.clock()
    recorded = await store.record_missing(rt.db, since=since, until=now - grace)
    recorded += await store.record_missing_thread_events(
        rt.db, since=since, until=now - GRACE, at=now
    )
    publish(rt, recorded)
    return len(recorded)


async def keep_recording_lost_events(rt: Runtime, *, every: timedelta) -> None:
    """record_lost_events, `every` so often, over the writes since the previous pass (for an
    instance that crashed and never restarts; the app also runs it at start-up)."""
    since = rt.clock() - EVENT_TTL
    while True:
        await asyncio.sleep(every.total_seconds())
        until = rt.clock() - GRACE
        try:
            recorded = await record_lost_events(rt, since=since)
        except Exception:
            log.exception("Recording lost events failed; trying again later.")
            continue
        if recorded:
            log.warning("Logged %d events a crash had lost.", recorded)
        since = until - GRACE
