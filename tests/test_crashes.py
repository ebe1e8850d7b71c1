"""A crash between any two writes leaves nothing half-done visible, and the sweep finishes it."""

import asyncio
import os
import signal
import uuid
from contextlib import suppress
from datetime import timedelta
from typing import Any

import httpx
import pytest

from app import store
from app.domain import EventType, now
from app.services import forks, messages, recovery
from app.services.runtime import Runtime
from app.store import Database, idempotency
from tests.helpers.api import Api, api_key
from tests.helpers.crashes import Crash, api_process, crash_on
from tests.helpers.factories import caller, make_thread, new_message

ORG = "org_local"
VISIBLE_STATE = """
query($id: ID!) { thread(id: $id) { id messageCount } threads { totalCount } }
"""


async def assert_gone_after_sweep(api: Api, db: Database, thread_id: str) -> None:
    data = await api.ok(VISIBLE_STATE, {"id": thread_id})
    assert data == {"thread": None, "threads": {"totalCount": 0}}, "nothing half-done is visible"
    swept = await store.finish_interrupted_writes(db, creating_older_than=timedelta(0))
    assert swept == 1
    assert await db[store.THREADS].count_documents({}) == 0
    assert await db[store.MESSAGES].count_documents({}) == 0


CREATE_THREAD = """
mutation($input: CreateThreadInput!) {
  createThread(input: $input) { thread { id messageCount messages(order: ASC) { nodes { text } } } }
}"""
THREAD_INPUT = {"messages": [{"content": f"m{n}"} for n in range(3)], "idempotencyKey": "k"}
# Each write of a createThread with messages: the hidden thread (holding its messages), the
# messages, the reveal.
CREATE_STEPS = [
    (store.THREADS, "insert_one"),
    (store.MESSAGES, "insert_many"),
    (store.THREADS, "update_one"),
]


async def interrupted_create(
    api: Api, db: Database, monkeypatch: pytest.MonkeyPatch, step: int
) -> None:
    with monkeypatch.context() as patch:
        crash_on(patch, db, *CREATE_STEPS[step])
        error = await api.error(CREATE_THREAD, {"input": THREAD_INPUT})
        assert error["extensions"] == {"code": "INTERNAL_SERVER_ERROR"}
    hidden = await db[store.THREADS].find_one({})
    thread_id = "thread_00000000-0000-0000-0000-000000000000" if hidden is None else hidden["_id"]
    data = await api.ok(VISIBLE_STATE, {"id": thread_id})
    assert data == {"thread": None, "threads": {"totalCount": 0}}, "nothing half-done is visible"


async def assert_one_whole_thread(api: Api, db: Database) -> str:
    assert await db[store.THREADS].count_documents({"hidden": {"$exists": True}}) == 0
    assert await db[store.THREADS].count_documents({}) == 1
    assert await db[store.MESSAGES].count_documents({}) == 3
    thread = await db[store.THREADS].find_one({})
    assert thread is not None
    data = await api.ok(VISIBLE_STATE, {"id": thread["_id"]})
    assert data == {
        "thread": {"id": thread["_id"], "messageCount": 3},
        "threads": {"totalCount": 1},
    }
    return str(thread["_id"])


@pytest.mark.parametrize("step", range(len(CREATE_STEPS)))
async def test_create_thread_interrupted_is_finished_by_its_retry(
    api: Api, db: Database, monkeypatch: pytest.MonkeyPatch, step: int
) -> None:
    await interrupted_create(api, db, monkeypatch, step)
    retried = await api.ok(CREATE_THREAD, {"input": THREAD_INPUT})
    thread = retried["createThread"]["thread"]
    assert thread["messageCount"] == 3
    assert [m["text"] for m in thread["messages"]["nodes"]] == ["m0", "m1", "m2"]
    assert await assert_one_whole_thread(api, db) == thread["id"]
    assert await api.ok(CREATE_THREAD, {"input": THREAD_INPUT}) == retried


@pytest.mark.parametrize("step", [1, 2])
async def test_create_thread_interrupted_is_finished_by_the_sweep(
    api: Api, db: Database, monkeypatch: pytest.MonkeyPatch, step: int
) -> None:
    await interrupted_create(api, db, monkeypatch, step)
    fresh = await store.finish_interrupted_writes(db, creating_older_than=timedelta(hours=1))
    assert fresh == 0, "a creation still in flight is left alone"
    assert await db[store.THREADS].count_documents({"hidden": "creating"}) == 1
    swept = await store.finish_interrupted_writes(db, creating_older_than=timedelta(0))
    assert swept == 1
    thread_id = await assert_one_whole_thread(api, db)
    retried = await api.ok(CREATE_THREAD, {"input": THREAD_INPUT})
    assert retried["createThread"]["thread"]["id"] == thread_id, "the key maps to that thread"
    await assert_one_whole_thread(api, db)


async def test_a_creation_left_without_its_messages_is_removed_by_the_sweep(
    api: Api, db: Database
) -> None:
    """As older versions left an interrupted creation: hidden, its messages not held."""
    thread = await make_thread(db, messages=2)
    await db[store.THREADS].update_one({"_id": thread.id}, {"$set": {"hidden": "creating"}})
    await store.recount_threads(db, organization_id=ORG, now=now())  # as the migration counts it
    assert await store.finish_interrupted_writes(db, creating_older_than=timedelta(hours=1)) == 0
    await assert_gone_after_sweep(api, db, thread.id)


@pytest.mark.parametrize(
    ("collection", "method"),
    [
        (store.MESSAGES, "delete_many"),
        (store.THREADS, "delete_one"),
    ],
)
async def test_delete_thread_interrupted(
    api: Api, db: Database, monkeypatch: pytest.MonkeyPatch, collection: str, method: str
) -> None:
    thread = await make_thread(db, messages=3)
    crash_on(monkeypatch, db, collection, method)
    with pytest.raises(Crash):
        await store.delete_thread(db, organization_id=ORG, thread_id=thread.id)
    orphans = await db[store.MESSAGES].count_documents({})
    assert orphans == (3 if collection == store.MESSAGES else 0), "messages go first"
    assert await db[store.THREADS].count_documents({}) == 1
    await assert_gone_after_sweep(api, db, thread.id)


async def test_create_message_racing_a_thread_deletion_leaves_no_orphan(
    db: Database, monkeypatch: pytest.MonkeyPatch
) -> None:
    thread = await make_thread(db, messages=1)

    async def delete_meanwhile() -> None:
        await store.delete_thread(db, organization_id=ORG, thread_id=thread.id)

    # The deletion runs after the message's number is taken, before it is inserted: the create
    # came first, so it succeeds; its message, inserted after the deletion removed the
    # thread's messages, is removed by the recovery pass.
    crash_on(monkeypatch, db, store.MESSAGES, "insert_one", before=delete_meanwhile)
    rt = Runtime(db)
    await messages.create_message(
        rt, caller=caller(ORG, "u"), thread_id=thread.id, message=new_message()
    )
    assert await db[store.MESSAGES].count_documents({}) == 1
    await recovery.record_lost_events(rt, since=rt.clock() - timedelta(hours=1), grace=timedelta(0))
    assert await db[store.MESSAGES].count_documents({}) == 0
    assert await db[store.THREADS].count_documents({}) == 0


async def test_create_message_interrupted_keeps_count_true(
    api: Api, db: Database, monkeypatch: pytest.MonkeyPatch
) -> None:
    thread = await make_thread(db, messages=2)
    crash_on(monkeypatch, db, store.THREADS, "update_one")
    with pytest.raises(Crash):
        await messages.create_message(
            Runtime(db), caller=caller(ORG, "u"), thread_id=thread.id, message=new_message()
        )
    crash_on(monkeypatch, db, store.MESSAGES, "insert_one")
    with pytest.raises(Crash):
        await messages.create_message(
            Runtime(db), caller=caller(ORG, "u"), thread_id=thread.id, message=new_message()
        )
    monkeypatch.undo()
    crash_on(monkeypatch, db, store.EVENTS, "insert_one")
    with pytest.raises(Crash):  # after the insert, before its event is logged
        await messages.create_message(
            Runtime(db), caller=caller(ORG, "u"), thread_id=thread.id, message=new_message()
        )
    monkeypatch.undo()
    rt = Runtime(db)
    assert await store.list_events(db, organization_id=ORG, thread_id=thread.id, after=0) == []
    await recovery.record_lost_events(rt, since=rt.clock() - timedelta(hours=1), grace=timedelta(0))
    [lost] = await store.list_events(db, organization_id=ORG, thread_id=thread.id, after=0)
    assert lost.type is EventType.MESSAGE_CREATED and lost.message is not None
    assert lost.message.seq == 4, "the message the crash left without its event (3: a gap)"
    kept = await store.get_thread(db, organization_id=ORG, thread_id=thread.id)
    assert kept.message_count == 4, "counted with the number the crash left unused"
    # The sweep recounts a thread whose count a write moved, once no such write can be running.
    assert await store.finish_interrupted_writes(db, creating_older_than=timedelta(0)) == 1
    data = await api.ok(
        "query($id: ID!) { thread(id: $id) { messageCount messages(order: ASC) { totalCount nodes { text } } } }",
        {"id": thread.id},
    )
    real = await db[store.MESSAGES].count_documents({"threadId": thread.id})
    assert data["thread"]["messageCount"] == real == data["thread"]["messages"]["totalCount"] == 3
    message = await messages.create_message(
        Runtime(db), caller=caller(ORG, "u"), thread_id=thread.id, message=new_message("after")
    )
    assert message.value[0].seq == 5, "a sequence gap from the crash is harmless"


FORK_THREAD = """
mutation($input: ForkThreadInput!) { forkThread(input: $input) { thread { id messageCount } } }
"""


async def test_a_fork_interrupted_mid_copy_is_redone_by_its_retry_once_its_lease_ran_out(
    api: Api, db: Database, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(forks, "COPY_BATCH", 2)
    monkeypatch.setattr(idempotency, "REPLAY_WAIT", timedelta(milliseconds=200))
    source = await make_thread(db, messages=7)
    fork_input = {"threadId": source.id, "idempotencyKey": "fork"}
    with monkeypatch.context() as patch:
        crash_on(patch, db, store.MESSAGES, "insert_many", skip=2)
        error = await api.error(FORK_THREAD, {"input": fork_input})
        assert error["extensions"] == {"code": "INTERNAL_SERVER_ERROR"}
    assert await db[store.MESSAGES].count_documents({"threadId": {"$ne": source.id}}) == 4
    # The first call may still be copying: a retry within its lease does not copy alongside.
    busy = await api.error(FORK_THREAD, {"input": fork_input})
    assert busy["extensions"] == {"code": "CONFLICT"}
    assert "retry" in busy["message"]
    later = Api(db, clock=lambda: now() + store.LEASE)
    forked = (await later.ok(FORK_THREAD, {"input": fork_input}))["forkThread"]["thread"]
    assert forked["messageCount"] == 7
    assert await db[store.THREADS].count_documents({"hidden": {"$exists": True}}) == 0
    assert await db[store.MESSAGES].count_documents({"threadId": forked["id"]}) == 7
    assert await db[store.MESSAGES].count_documents({}) == 14, "the leftovers are gone"
    assert (await api.ok(FORK_THREAD, {"input": fork_input}))["forkThread"]["thread"] == forked


async def test_a_fork_left_by_a_crash_is_removed_by_the_sweep_after_its_lease(
    api: Api, db: Database, monkeypatch: pytest.MonkeyPatch
) -> None:
    source = await make_thread(db, messages=3)
    crash_on(monkeypatch, db, store.THREADS, "update_one")  # the reveal
    with pytest.raises(Crash):
        await forks.fork_thread(Runtime(db), caller=caller(), fork=forks.Fork(source.id))
    monkeypatch.undo()
    lease = store.LEASE
    assert await store.finish_interrupted_writes(db, creating_older_than=lease) == 0
    later = lambda: now() + lease  # noqa: E731
    assert await store.finish_interrupted_writes(db, creating_older_than=lease, clock=later) == 1
    assert await db[store.THREADS].count_documents({}) == 1
    assert await db[store.MESSAGES].count_documents({}) == 3


CALLS, MESSAGES = 80, 10


def create_request(n: int) -> dict[str, Any]:
    thread_input = {
        "title": f"t{n}",
        "messages": [{"content": f"{n}.{m}"} for m in range(MESSAGES)],
        "idempotencyKey": f"key-{n}",
    }
    return {"query": CREATE_THREAD, "variables": {"input": thread_input}}


async def create_all(client: httpx.AsyncClient, calls: range) -> dict[int, str]:
    responses = await asyncio.gather(
        *(client.post("/graphql", json=create_request(n)) for n in calls)
    )
    bodies = [response.json() for response in responses]
    assert all("errors" not in body for body in bodies), [
        b["errors"] for b in bodies if "errors" in b
    ]
    return {
        n: body["data"]["createThread"]["thread"]["id"]
        for n, body in zip(calls, bodies, strict=True)
    }


@pytest.mark.slow
async def test_kill_9_amid_creates_then_every_retry_succeeds(secantus_uri: str) -> None:
    """The API killed amid concurrent createThread calls, then restarted: each call retried
    with its key makes (or returns) exactly one whole thread; the sweep finishes the rest."""
    name = f"crash_{uuid.uuid4().hex}"
    db = store.open_database(secantus_uri, name, timeout_ms=10_000)
    await store.ensure_indexes(db)
    headers = {"Authorization": f"Bearer {await api_key(db)}"}
    answered: dict[int, str] = {}
    with api_process(secantus_uri, name) as (process, url):
        async with httpx.AsyncClient(base_url=url, headers=headers, timeout=60) as client:
            calls = [
                asyncio.create_task(client.post("/graphql", json=create_request(n)))
                for n in range(CALLS)
            ]
            for _ in range(10_000):  # until some threads are being written
                if await db[store.THREADS].count_documents({}) >= CALLS // 8:
                    break
                await asyncio.sleep(0.001)
            os.kill(process.pid, signal.SIGKILL)
            for n, call in enumerate(calls):
                with suppress(httpx.HTTPError):
                    body = (await call).json()
                    if body.get("data"):  # not a DEADLINE_EXCEEDED
                        answered[n] = body["data"]["createThread"]["thread"]["id"]
    assert len(answered) < CALLS, "killed amid the calls"
    half_made = await db[store.THREADS].count_documents({"hidden": "creating"})
    unfinished = await db[store.IDEMPOTENCY_KEYS].count_documents({"done": False})
    assert unfinished > 0, "killed amid creates, their keys claimed"
    restart = {"REQUEST_DEADLINE_SECONDS": "5", "INTERRUPTED_WRITES_INTERVAL_SECONDS": "1"}
    with api_process(secantus_uri, name, **restart) as (_, url):
        async with httpx.AsyncClient(base_url=url, headers=headers, timeout=60) as client:
            # Half retried at once (finishing what the first calls left); the rest after the
            # lease (the deadline and 5 s), when the periodic sweep has finished their threads.
            first = await create_all(client, range(0, CALLS, 2))
            await asyncio.sleep(5 + 5 + 2)
            left = await db[store.THREADS].count_documents({"hidden": {"$exists": True}})
            assert left == 0, "the sweep leaves no hidden half-made thread"
            retried = first | await create_all(client, range(1, CALLS, 2))
    assert {n: retried[n] for n in answered} == answered, "a retry returns the first result"
    assert len(set(retried.values())) == CALLS, "one thread per key"
    assert await db[store.THREADS].count_documents({}) == CALLS
    for thread_id in retried.values():
        assert await db[store.MESSAGES].count_documents({"threadId": thread_id}) == MESSAGES
    print(
        f"killed: {len(answered)}/{CALLS} answered, {unfinished} unfinished, {half_made} half-made"
    )
    await db.client.drop_database(name)
    db.client.close()
