"""A crash between any two writes leaves nothing half-done visible, and the sweep finishes it."""

from datetime import timedelta

import pytest

from app import store
from app.domain import EventType
from app.services import messages, recovery
from app.services.runtime import Runtime
from app.store import Database
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


async def test_create_thread_interrupted_before_it_is_revealed(
    api: Api, db: Database, monkeypatch: pytest.MonkeyPatch
) -> None:
    crash_on(monkeypatch, db, store.THREADS, "update_one")
    with pytest.raises(Crash):
        await make_thread(db, messages=3)
    thread = await db[store.THREADS].find_one({})
    assert thread is not None and await db[store.MESSAGES].count_documents({}) == 3
    fresh = await store.finish_interrupted_writes(db, creating_older_than=timedelta(hours=1))
    assert fresh == 0, "a creation still in flight is left alone"
    await assert_gone_after_sweep(api, db, thread["_id"])


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
