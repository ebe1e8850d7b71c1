"""A write and its event are one fact: no applied write without its event, whatever a deadline,
a cancelled request or a crash of the API does; and events come in the order of the data."""

import asyncio
from collections import Counter
from collections.abc import Awaitable
from datetime import timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest
from motor.motor_asyncio import AsyncIOMotorClient

from app import store
from app.domain import EventType, ThreadChanges, now
from app.inbox import InboxEvent, InboxEventType
from app.services import messages, recovery, threads, trash
from app.services.runtime import Runtime
from tests.helpers.api import Api, api_key
from tests.helpers.backends import embedded_server
from tests.helpers.crashes import Crash, api_process, crash_on
from tests.helpers.factories import caller, make_thread, new_message

ORG = "org_local"
DATABASE = "write_events"
CREATE = """mutation($thread: ID!, $text: String!) {
  createMessage(input: {threadId: $thread, role: USER, content: $text}) { message { id } }
}"""


async def created_events(db: store.Database, thread_id: str) -> list[Any]:
    events = await store.list_events(db, organization_id=ORG, thread_id=thread_id, after=0)
    return [e for e in events if e.type is EventType.MESSAGE_CREATED]


async def assert_every_message_has_its_event(db: store.Database, thread_ids: list[str]) -> int:
    """Each message created through the API has exactly one MessageCreated, none is extra, and
    their order is the messages' order. How many messages."""
    total = 0
    for thread_id in thread_ids:
        docs = await db[store.MESSAGES].find({"threadId": thread_id}).to_list(None)
        created = [d for d in docs if "createdEvent" in d]  # not the thread's first messages
        events = await created_events(db, thread_id)
        logged = Counter(e.message.id for e in events if e.message is not None)
        assert all(n == 1 for n in logged.values()), "no message has two MessageCreated"
        assert set(logged) == {d["_id"] for d in created}, "0 missing, 0 extra"
        seqs = [e.message.seq for e in events if e.message is not None]
        assert seqs == sorted(seqs), "MessageCreated events come in the messages' order"
        total += len(created)
    return total


async def messages_without_event(db: store.Database) -> int:
    docs = await db[store.MESSAGES].find({"createdEvent": {"$exists": True}}).to_list(None)
    wanted = {f"{d['threadId']}:{d['createdEvent']}" for d in docs}
    logged = {e["_id"] for e in await db[store.EVENTS].find({}, {"_id": 1}).to_list(None)}
    return len(wanted - logged)


async def test_a_cancelled_write_still_logs_its_event(
    api: Api, db: store.Database, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The request is cancelled (as its deadline does) between the message and its event."""
    thread = await make_thread(db, messages=1)
    reached = asyncio.Event()

    async def slow() -> None:
        reached.set()
        await asyncio.sleep(0.2)

    crash_on(monkeypatch, db, store.EVENTS, "insert_one", before=slow)
    request = asyncio.create_task(api.ok(CREATE, {"thread": thread.id, "text": "cut"}))
    await reached.wait()
    request.cancel()
    with pytest.raises(asyncio.CancelledError):
        await request
    assert await db[store.MESSAGES].count_documents({"threadId": thread.id}) == 2
    await asyncio.sleep(0.4)
    monkeypatch.undo()
    assert await assert_every_message_has_its_event(db, [thread.id]) == 1


async def test_concurrent_deltas_are_logged_in_the_order_of_their_offsets(
    api: Api, db: store.Database
) -> None:
    thread = await make_thread(db, messages=0)
    started = await api.ok(
        """mutation($t: ID!) { createMessage(input: {threadId: $t, role: ASSISTANT,
        content: "|", status: IN_PROGRESS}) { message { id } } }""",
        {"t": thread.id},
    )
    message_id = started["createMessage"]["message"]["id"]
    append = """mutation($id: ID!, $d: String!) {
      appendMessageText(input: {id: $id, delta: $d}) { message { id } } }"""
    deltas = [f"<{i}>" for i in range(60)]
    await asyncio.gather(*(api.ok(append, {"id": message_id, "d": d}) for d in deltas))
    events = await store.list_events(db, organization_id=ORG, thread_id=thread.id, after=0)
    rebuilt = "|"
    for event in events:
        if event.type is EventType.MESSAGE_DELTA:
            assert event.offset == len(rebuilt), "each delta starts where the previous ended"
            rebuilt += event.delta or ""
    text = (await store.get_message(db, organization_id=ORG, message_id=message_id)).text
    assert rebuilt == text and sorted(deltas) == sorted(rebuilt[1:].replace(">", ">\n").split())


async def create_many(
    base: str, key: str, threads: list[str], n: int, statuses: Counter[int] | None = None
) -> Counter[int]:
    """`n` concurrent createMessage calls spread over `threads`: how many got each status
    (0: the connection went), counted in `statuses` as they answer."""
    statuses = Counter() if statuses is None else statuses
    headers = {"Authorization": f"Bearer {key}"}
    async with httpx.AsyncClient(base_url=base, headers=headers, timeout=30) as client:

        async def one(i: int) -> None:
            variables = {"thread": threads[i % len(threads)], "text": f"load {i}"}
            try:
                answer = await client.post(
                    "/graphql", json={"query": CREATE, "variables": variables}
                )
                statuses[answer.status_code] += 1
            except httpx.TransportError:
                statuses[0] += 1

        await asyncio.gather(*(one(i) for i in range(n)))
    return statuses


@pytest.mark.slow
@pytest.mark.embedded
async def test_deadlines_and_a_kill_of_the_api_under_load_lose_no_event(tmp_path: Path) -> None:
    with embedded_server() as uri:
        client: AsyncIOMotorClient[Any] = AsyncIOMotorClient(uri)
        db = client[DATABASE]
        await store.ensure_indexes(db)
        key = await api_key(db)
        threads = [(await make_thread(db, messages=1)).id for _ in range(4)]

        # A deadline shorter than a write under load: many answer 504, yet every write that
        # started finishes with its event.
        with api_process(uri, DATABASE, REQUEST_DEADLINE_SECONDS="0.05") as (_, base):
            statuses = await create_many(base, key, threads, 120)
            assert statuses[504] > 0, f"the deadline cut requests: {statuses}"
            await asyncio.sleep(2)
        assert await assert_every_message_has_its_event(db, threads) >= statuses[200]

        # kill -9 of the API in the middle of writes (once messages are being inserted), then
        # a restart: its start-up pass logs what the kill lost. A kill between two writes loses
        # nothing: then once more.
        answered = 0
        for _ in range(5):
            with api_process(uri, DATABASE) as (process, base):
                before = await db[store.MESSAGES].count_documents({})
                load = asyncio.create_task(create_many(base, key, threads, 200))
                for _ in range(6_000):  # at most 30 s
                    if await db[store.MESSAGES].count_documents({}) >= before + 40:
                        break
                    await asyncio.sleep(0.005)
                process.kill()
                answered += (await load)[200]
            lost = await messages_without_event(db)
            if lost:
                break
        assert lost > 0, "the kill left messages without their event (else this proves nothing)"
        with api_process(uri, DATABASE) as (_, base):
            async with httpx.AsyncClient() as http:
                assert (await http.get(f"{base}/readyz")).status_code == 200
            assert await messages_without_event(db) == 0
            stored = await assert_every_message_has_its_event(db, threads)
            assert stored >= answered
        client.close()


@pytest.mark.slow
async def test_500_concurrent_writers_keep_the_data_order(real_db: store.Database) -> None:
    """500 concurrent creates, then 500 concurrent appends to one message, on a real server:
    MessageCreated events in the messages' order, deltas in the order of their offsets."""
    api = Api(real_db)
    thread = await make_thread(real_db, messages=0)
    created = await asyncio.gather(
        *(api.ok(CREATE, {"thread": thread.id, "text": f"m{i}"}) for i in range(500))
    )
    assert len({c["createMessage"]["message"]["id"] for c in created}) == 500
    events = await created_events(real_db, thread.id)
    seqs = [e.message.seq for e in events if e.message is not None]
    assert seqs == list(range(1, 501)), "MessageCreated events in the order of the messages"
    started = await api.ok(
        """mutation($t: ID!) { createMessage(input: {threadId: $t, role: ASSISTANT,
        content: "|", status: IN_PROGRESS}) { message { id } } }""",
        {"t": thread.id},
    )
    message_id = started["createMessage"]["message"]["id"]
    append = """mutation($id: ID!, $d: String!) {
      appendMessageText(input: {id: $id, delta: $d}) { message { id } } }"""
    await asyncio.gather(*(api.ok(append, {"id": message_id, "d": f"<{i}>"}) for i in range(500)))
    rebuilt = "|"
    for event in await store.list_events(
        real_db, organization_id=ORG, thread_id=thread.id, after=0
    ):
        if event.type is EventType.MESSAGE_DELTA:
            assert event.offset == len(rebuilt)
            rebuilt += event.delta or ""
    message = await store.get_message(real_db, organization_id=ORG, message_id=message_id)
    assert rebuilt == message.text and rebuilt.count("<") == 500


@pytest.mark.parametrize("write", ["rename", "trash", "restore"])
async def test_a_thread_write_whose_event_a_crash_lost_gets_it_from_the_recovery_pass(
    db: store.Database, monkeypatch: pytest.MonkeyPatch, write: str
) -> None:
    thread = await make_thread(db, messages=1)
    rt = Runtime(db)
    who = caller(ORG, "u")
    if write == "restore":
        await trash.delete_thread(rt, caller=who, thread_id=thread.id)
    crash_on(monkeypatch, db, store.EVENTS, "insert_one")
    with pytest.raises(Crash):
        if write == "rename":
            changes = ThreadChanges(title="renamed")
            await threads.update_thread(rt, caller=who, thread_id=thread.id, changes=changes)
        elif write == "trash":
            await trash.delete_thread(rt, caller=who, thread_id=thread.id)
        else:
            await trash.restore_thread(rt, caller=who, thread_id=thread.id)
    monkeypatch.undo()
    expected = {
        "rename": EventType.THREAD_UPDATED,
        "trash": EventType.THREAD_DELETED,
        "restore": EventType.THREAD_RESTORED,
    }[write]

    def logged() -> Awaitable[list[Any]]:
        return store.list_events(db, organization_id=ORG, thread_id=thread.id, after=0)

    before = [e.type for e in await logged()]
    assert expected not in before, "the crash lost it"
    inbox_before = await inbox_of(db, thread.id)
    soon = Runtime(db, clock=lambda: now() + timedelta(seconds=31))
    await recovery.record_lost_events(soon, since=now() - timedelta(hours=1))
    after = await logged()
    assert [e.type for e in after].count(expected) == before.count(expected) + 1
    if write == "rename":
        [updated] = [e for e in after if e.type is expected]
        assert updated.thread is not None and updated.thread.title == "renamed"
    # the recovered event carries its inbox entry, under a new number
    inbox = await inbox_of(db, thread.id)
    assert [e.type.value for e in inbox[len(inbox_before) :]] == [expected.value]
    assert inbox[-1].seq == await store.latest_inbox_event(db, organization_id=ORG)
    if write != "trash":
        assert inbox[-1].thread is not None and inbox[-1].thread.title == (
            "renamed" if write == "rename" else thread.title
        )
    await recovery.record_lost_events(soon, since=now() - timedelta(hours=1))
    assert len(await logged()) == len(after), "logged once"
    assert len(await inbox_of(db, thread.id)) == len(inbox), "in the inbox once"


async def test_a_deletion_a_crash_interrupted_is_logged_and_finished(
    db: store.Database, monkeypatch: pytest.MonkeyPatch
) -> None:
    thread = await make_thread(db, messages=2)
    rt = Runtime(db)
    crash_on(monkeypatch, db, store.EVENTS, "insert_one")
    with pytest.raises(Crash):
        await trash.delete_thread(rt, caller=caller(ORG, "u"), thread_id=thread.id, permanent=True)
    monkeypatch.undo()
    assert await store.list_events(db, organization_id=ORG, thread_id=thread.id, after=0) == []
    await store.finish_interrupted_writes(db, creating_older_than=timedelta(0))
    [deleted] = await store.list_events(db, organization_id=ORG, thread_id=thread.id, after=0)
    assert deleted.type is EventType.THREAD_DELETED
    inbox = await inbox_of(db, thread.id)
    assert [e.type for e in inbox] == [InboxEventType.THREAD_CREATED, InboxEventType.THREAD_DELETED]
    assert await db[store.THREADS].count_documents({"_id": thread.id}) == 0
    assert await db[store.MESSAGES].count_documents({"threadId": thread.id}) == 0


async def inbox_of(db: store.Database, thread_id: str) -> list[InboxEvent]:
    """The inbox's events of the thread, in order."""
    events = await store.list_inbox_events(db, organization_id=ORG, after=0)
    return [e for e in events if e.thread_id == thread_id]


async def test_a_message_whose_event_a_crash_lost_gets_its_inbox_event_back(
    db: store.Database, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A crash between a message and its event: the recovery pass logs the event with its
    inbox entry (the thread as it is then); a retry with the key logs neither twice."""
    thread = await make_thread(db, messages=1)
    rt = Runtime(db)
    who = caller(ORG, "u")

    async def create() -> Any:
        return await messages.create_message(
            rt, caller=who, thread_id=thread.id, message=new_message("lost"), idempotency_key="k"
        )

    crash_on(monkeypatch, db, store.EVENTS, "insert_one")
    with pytest.raises(Crash):
        await create()
    monkeypatch.undo()
    assert [e.type for e in await inbox_of(db, thread.id)] == [InboxEventType.THREAD_CREATED]
    retried = await create()
    assert [e.type for e in await inbox_of(db, thread.id)] == [InboxEventType.THREAD_CREATED]
    soon = Runtime(db, clock=lambda: now() + timedelta(seconds=31))
    assert await recovery.record_lost_events(soon, since=now() - timedelta(hours=1)) == 1
    assert await assert_every_message_has_its_event(db, [thread.id]) == 1
    created, updated = await inbox_of(db, thread.id)
    assert updated.type is InboxEventType.THREAD_UPDATED and updated.thread is not None
    assert retried.value[0].seq == 2 and updated.thread.last_seq >= 2, "the thread as it is"
    assert updated.seq > created.seq + 1, "the number the crash took is skipped"
    await recovery.record_lost_events(soon, since=now() - timedelta(hours=1))
    await create()
    assert len(await inbox_of(db, thread.id)) == 2, "once, whatever retries and passes"
