"""The change stream every instance follows the events by, on the embedded server (which wakes
a stream at every write, matching or not)."""

import asyncio
import time

from pymongo import monitoring

from app import store
from app.domain import EventType
from tests.helpers.backends import close_backend, open_backend
from tests.helpers.factories import make_message, make_thread


class Polls(store.CommandListenerBase):
    """When the event stream asked the server for more."""

    def __init__(self) -> None:
        self.times: list[float] = []

    def started(self, event: monitoring.CommandStartedEvent) -> None:
        if event.command_name == "getMore" and event.command.get("collection") == store.EVENTS:
            self.times.append(time.monotonic())


async def test_the_stream_asks_again_only_after_a_quiet_pause(secantus_uri: str) -> None:
    """Writes that are no events answer the stream's question empty, each at once: it asks
    again at most once per QUIET_POLL_SECONDS meanwhile (not once per write), and still delivers
    every event."""
    polls = Polls()
    db = await open_backend(secantus_uri, listeners=[polls])
    opened = asyncio.Event()
    created = asyncio.Event()

    async def follow() -> None:
        async for event, _ in store.watch_events(db, opened=opened.set):
            if event is not None and event.type is EventType.MESSAGE_CREATED:
                created.set()

    following = asyncio.create_task(follow())
    try:
        await asyncio.wait_for(opened.wait(), 10)
        await asyncio.sleep(0.6)  # the first, long question is answered: the stream is quiet
        started = time.monotonic()
        for n in range(80):  # about 0.1 s here: once per write would be 80 questions
            await db[store.INBOX_COUNTERS].insert_one({"_id": f"write {n}"})
        elapsed = time.monotonic() - started
        asked = [t for t in polls.times if started <= t <= started + elapsed]
        assert len(asked) <= elapsed / store.QUIET_POLL_SECONDS + 2, (len(asked), elapsed)
        thread = await make_thread(db)
        await make_message(db, thread.id)
        await asyncio.wait_for(created.wait(), 5)
    finally:
        following.cancel()
        await asyncio.gather(following, return_exceptions=True)
        await close_backend(db)
