"""Idempotent creates: a retried create returns the first result and writes nothing new."""

import asyncio
from typing import Any

import pytest

from app import store
from app.domain import LOCKED, ThreadChanges
from app.services import threads
from app.services.runtime import Runtime
from app.store import Database
from tests.helpers.api import Api
from tests.helpers.crashes import crash_on
from tests.helpers.factories import caller, make_thread

CREATE_THREAD = """
mutation($input: CreateThreadInput!) {
  createThread(input: $input) { thread { id title messageCount } }
}"""
CREATE_MESSAGE = """
mutation($input: CreateMessageInput!) {
  createMessage(input: $input) { message { id text } thread { messageCount } }
}"""


async def counts(db: Database) -> tuple[int, int]:
    return (
        await db[store.THREADS].count_documents({}),
        await db[store.MESSAGES].count_documents({}),
    )


async def test_retried_create_thread_returns_the_first(api: Api, db: Database) -> None:
    thread_input = {
        "title": "t",
        "messages": [{"content": "a"}, {"content": "b"}],
        "idempotencyKey": "retry-1",
    }
    first = await api.ok(CREATE_THREAD, {"input": thread_input})
    again = await api.ok(CREATE_THREAD, {"input": thread_input})
    assert again == first
    assert await counts(db) == (1, 2)
    other = await api.error(CREATE_THREAD, {"input": {**thread_input, "title": "changed"}})
    assert other["extensions"] == {"code": "CONFLICT"}
    assert await counts(db) == (1, 2)


async def test_racing_creates_make_one_thread(api: Api, db: Database) -> None:
    thread_input = {"messages": [{"content": f"m{n}"} for n in range(20)], "idempotencyKey": "race"}
    results = await asyncio.gather(
        *(api.run(CREATE_THREAD, {"input": thread_input}) for _ in range(8))
    )
    assert all(not r.errors for r in results), [r.errors for r in results]
    ids = {r.data["createThread"]["thread"]["id"] for r in results if r.data}
    assert len(ids) == 1
    assert await counts(db) == (1, 20)


async def test_retried_create_message(api: Api, db: Database) -> None:
    thread = await make_thread(db)
    message_input = {"threadId": thread.id, "content": "hi", "idempotencyKey": "m-1"}
    results = await asyncio.gather(
        *(api.ok(CREATE_MESSAGE, {"input": message_input}) for _ in range(5))
    )
    assert len({r["createMessage"]["message"]["id"] for r in results}) == 1
    assert await counts(db) == (1, 1)
    created = await db[store.EVENTS].count_documents({"type": "MessageCreated"})
    assert created == 1, "a retried create tells subscribers nothing new"
    # Replayed after the thread was locked: still the first result, not a conflict.
    await threads.update_thread(
        Runtime(db), caller=caller(), thread_id=thread.id, changes=ThreadChanges(state=LOCKED)
    )
    replay = await api.ok(CREATE_MESSAGE, {"input": message_input})
    assert replay["createMessage"]["message"] == results[0]["createMessage"]["message"]
    changed = await api.error(CREATE_MESSAGE, {"input": {**message_input, "content": "other"}})
    assert changed["extensions"] == {"code": "CONFLICT"}


async def test_keys_are_per_caller_and_per_operation(api: Api, db: Database) -> None:
    thread_input: dict[str, Any] = {"title": "t", "idempotencyKey": "shared"}
    mine = await api.ok(CREATE_THREAD, {"input": thread_input})
    theirs = await Api(db, organization_id="org_other").ok(CREATE_THREAD, {"input": thread_input})
    colleague = await Api(db, user_id="colleague").ok(CREATE_THREAD, {"input": thread_input})
    ids = {r["createThread"]["thread"]["id"] for r in (mine, theirs, colleague)}
    assert len(ids) == 3
    thread_id = mine["createThread"]["thread"]["id"]
    message = await api.ok(
        CREATE_MESSAGE,
        {"input": {"threadId": thread_id, "content": "x", "idempotencyKey": "shared"}},
    )
    assert message["createMessage"]["thread"]["messageCount"] == 1


async def test_a_create_interrupted_after_the_claim_is_completed_by_the_retry(
    api: Api, db: Database, monkeypatch: pytest.MonkeyPatch
) -> None:
    thread_input = {"title": "t", "idempotencyKey": "crash"}

    with monkeypatch.context() as patch:
        crash_on(patch, db, store.THREADS, "insert_one")  # after the claim, before the thread
        error = await api.error(CREATE_THREAD, {"input": thread_input})
        assert error["extensions"] == {"code": "INTERNAL_SERVER_ERROR"}
    assert await counts(db) == (0, 0)
    retried = await api.ok(CREATE_THREAD, {"input": thread_input})
    assert retried["createThread"]["thread"]["title"] == "t"
    assert await api.ok(CREATE_THREAD, {"input": thread_input}) == retried
    assert await counts(db) == (1, 0)


async def test_key_rules(api: Api, db: Database) -> None:
    error = await api.error(CREATE_THREAD, {"input": {"idempotencyKey": "k" * 256}})
    assert error["extensions"] == {"code": "BAD_USER_INPUT", "field": "input.idempotencyKey"}
    indexes = await db[store.IDEMPOTENCY_KEYS].index_information()
    ttl = [i for i in indexes.values() if "expireAfterSeconds" in i]
    assert [(list(i["key"]), i["expireAfterSeconds"]) for i in ttl] == [
        ([("createdAt", 1)], 24 * 3600)
    ]
    await api.ok(CREATE_THREAD, {"input": {"idempotencyKey": "k" * 255}})
    stored = await db[store.IDEMPOTENCY_KEYS].find_one({})
    assert stored is not None and "k" * 255 not in repr(stored), "keys are stored as digests"


FORK_THREAD = """
mutation($input: ForkThreadInput!) {
  forkThread(input: $input) { thread { id title messageCount } }
}"""


async def test_a_create_refused_for_its_input_leaves_the_key_unused(api: Api, db: Database) -> None:
    """Like Stripe: a create that fails validation saves no result; the corrected retry creates,
    and from then on the key is that create's."""
    wrong = {"title": "x" * 10_000, "idempotencyKey": "fix-me"}
    assert (await api.error(CREATE_THREAD, {"input": wrong}))["extensions"]["code"] == (
        "BAD_USER_INPUT"
    )
    fixed = {**wrong, "title": "fixed"}
    created = await api.ok(CREATE_THREAD, {"input": fixed})
    assert created["createThread"]["thread"]["title"] == "fixed"
    assert await api.ok(CREATE_THREAD, {"input": fixed}) == created
    again = await api.error(CREATE_THREAD, {"input": {**fixed, "title": "other"}})
    assert again["extensions"] == {"code": "CONFLICT"}
    assert await counts(db) == (1, 0)


async def test_a_refused_create_message_leaves_the_key_unused(api: Api, db: Database) -> None:
    locked = await make_thread(db, state=LOCKED)
    active = await make_thread(db)
    missing = "thread_00000000-0000-0000-0000-000000000000"
    key = {"content": "hi", "idempotencyKey": "one-message"}
    for refused_thread, code in [(missing, "NOT_FOUND"), (locked.id, "CONFLICT")]:
        error = await api.error(CREATE_MESSAGE, {"input": {**key, "threadId": refused_thread}})
        assert error["extensions"]["code"] == code
    message_input = {**key, "threadId": active.id}
    created = await api.ok(CREATE_MESSAGE, {"input": message_input})
    assert created["createMessage"]["thread"]["messageCount"] == 1
    assert await api.ok(CREATE_MESSAGE, {"input": message_input}) == created
    other = await api.error(CREATE_MESSAGE, {"input": {**message_input, "threadId": locked.id}})
    assert other["extensions"] == {"code": "CONFLICT"}
    assert await counts(db) == (2, 1)


async def test_a_refused_fork_leaves_the_key_unused(api: Api, db: Database) -> None:
    source = await make_thread(db, messages=2, title="source")
    elsewhere = await make_thread(db, messages=1)
    other_message = await db[store.MESSAGES].find_one({"threadId": elsewhere.id})
    assert other_message is not None
    fork_input = {"threadId": source.id, "idempotencyKey": "fork-once"}
    error = await api.error(
        FORK_THREAD, {"input": {**fork_input, "upToMessageId": other_message["_id"]}}
    )
    assert error["extensions"] == {"code": "BAD_USER_INPUT", "field": "input.upToMessageId"}
    forked = await api.ok(FORK_THREAD, {"input": fork_input})
    assert forked["forkThread"]["thread"]["messageCount"] == 2
    assert await api.ok(FORK_THREAD, {"input": fork_input}) == forked
    other = await api.error(FORK_THREAD, {"input": {**fork_input, "title": "changed"}})
    assert other["extensions"] == {"code": "CONFLICT"}
    assert await counts(db) == (3, 5)


async def test_a_failed_create_keeps_its_key_for_the_retry(
    api: Api, db: Database, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Not refused but failed (an outage, a crash): the key stays the first input's."""
    thread_input = {"title": "t", "messages": [{"content": "a"}], "idempotencyKey": "kept"}
    with monkeypatch.context() as patch:
        crash_on(patch, db, store.MESSAGES, "insert_many")
        error = await api.error(CREATE_THREAD, {"input": thread_input})
        assert error["extensions"] == {"code": "INTERNAL_SERVER_ERROR"}
    other = await api.error(CREATE_THREAD, {"input": {**thread_input, "title": "other"}})
    assert other["extensions"] == {"code": "CONFLICT"}
    retried = await api.ok(CREATE_THREAD, {"input": thread_input})
    assert retried["createThread"]["thread"] == {
        "id": retried["createThread"]["thread"]["id"],
        "title": "t",
        "messageCount": 1,
    }
    assert await counts(db) == (1, 1)
