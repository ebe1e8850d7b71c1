"""Writes a crash interrupted: their lost events logged, their leftovers removed."""

import asyncio
import logging
from datetime import datetime, timedelta

from app import store
from app.services.runtime import Runtime
from app.store import EVENT_TTL

log = logging.getLogger("app.recovery")

# A write younger than this may still be running: its own request logs its event.
GRACE = timedelta(seconds=30)


async def record_lost_events(rt: Runtime, *, since: datetime, grace: timedelta = GRACE) -> int:
    """Log the events of message writes since `since` (older than `grace`) that a crash kept
    out of the log, and publish them; remove messages added to a thread deleted meanwhile.
    How many events were logged. A write still running logs the same event (its number is
    its id) at most once."""
    recorded = await store.record_missing(rt.db, since=since, until=rt.clock() - grace)
    for event in recorded:
        rt.publish(event)
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
