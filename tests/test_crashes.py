"""A crash between any two writes leaves nothing half-done visible, and the sweep finishes it."""

from datetime import timedelta

import pytest

from app import store
from app.domain import now
from app.errors import NotFound
from app.services import forks, messages
from app.services.runtime import Runtime
from app.store import Database, idempotency
from tests.helpers.api import Api
from tests.helpers.crashes import Crash, crash_on
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
    (store.THREADS, "find_one_and_update"),
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

    # The deletion runs after the message's sequence number is taken, before it is inserted.
    crash_on(monkeypatch, db, store.MESSAGES, "insert_one", before=delete_meanwhile)
    with pytest.raises(NotFound):
        await messages.create_message(
            Runtime(db), caller=caller(ORG, "u"), thread_id=thread.id, message=new_message()
        )
    assert await db[store.MESSAGES].count_documents({}) == 0
    assert await db[store.THREADS].count_documents({}) == 0


async def test_create_message_interrupted_keeps_count_true(
    api: Api, db: Database, monkeypatch: pytest.MonkeyPatch
) -> None:
    thread = await make_thread(db, messages=2)
    crash_on(monkeypatch, db, store.THREADS, "find_one_and_update")
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
    crash_on(monkeypatch, db, store.THREADS, "find_one_and_update", skip=1)
    with pytest.raises(Crash):  # after the insert, before the thread's updatedAt moves
        await messages.create_message(
            Runtime(db), caller=caller(ORG, "u"), thread_id=thread.id, message=new_message()
        )
    monkeypatch.undo()
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
    crash_on(monkeypatch, db, store.THREADS, "find_one_and_update")  # the reveal
    with pytest.raises(Crash):
        await forks.fork_thread(Runtime(db), caller=caller(), fork=forks.Fork(source.id))
    monkeypatch.undo()
    lease = store.LEASE
    assert await store.finish_interrupted_writes(db, creating_older_than=lease) == 0
    later = lambda: now() + lease  # noqa: E731
    assert await store.finish_interrupted_writes(db, creating_older_than=lease, clock=later) == 1
    assert await db[store.THREADS].count_documents({}) == 1
    assert await db[store.MESSAGES].count_documents({}) == 3
