"""Thread states: ACTIVE takes everything, LOCKED no message changes, ARCHIVED only `state`."""

import pytest

from app import store
from app.domain import ThreadState
from app.store import Database
from tests.helpers.api import Api
from tests.helpers.factories import make_message, make_thread

UPDATE = "mutation($input: UpdateThreadInput!) { updateThread(input: $input) { thread { state title metadata } } }"
CREATE_MESSAGE = (
    'mutation($id: ID!) { createMessage(input: {threadId: $id, content: "x"}) { message { id } } }'
)
UPDATE_MESSAGE = 'mutation($id: ID!) { updateMessage(input: {id: $id, metadata: {a: "b"}}) { message { metadata } } }'
DELETE_MESSAGE = "mutation($id: ID!) { deleteMessage(input: {id: $id}) { deleted } }"
DELETE = "mutation($id: ID!) { deleteThread(input: {id: $id, permanent: true}) { deleted } }"


async def test_locked_thread(api: Api, db: Database) -> None:
    thread = await make_thread(db, messages=1, state=ThreadState.LOCKED)
    message = await db[store.MESSAGES].find_one({"threadId": thread.id})
    assert message is not None
    for query, variables in (
        (CREATE_MESSAGE, {"id": thread.id}),
        (DELETE_MESSAGE, {"id": message["_id"]}),
    ):
        assert (await api.error(query, variables))["extensions"] == {"code": "CONFLICT"}
    assert await db[store.MESSAGES].count_documents({"threadId": thread.id}) == 1
    data = await api.ok(
        UPDATE, {"input": {"id": thread.id, "title": "new", "metadata": {"k": "v"}}}
    )
    assert data["updateThread"]["thread"] == {
        "state": "LOCKED",
        "title": "new",
        "metadata": {"k": "v"},
    }
    updated = await api.ok(UPDATE_MESSAGE, {"id": message["_id"]})
    assert updated["updateMessage"] == {"message": {"metadata": {"a": "b"}}}
    unlocked = await api.ok(UPDATE, {"input": {"id": thread.id, "state": "ACTIVE"}})
    assert unlocked["updateThread"]["thread"]["state"] == "ACTIVE"
    created = (await api.ok(CREATE_MESSAGE, {"id": thread.id}))["createMessage"]["message"]
    assert await db[store.MESSAGES].count_documents({"threadId": thread.id}) == 2
    assert await db[store.MESSAGES].count_documents({"_id": created["id"]}) == 1


async def test_archived_thread(api: Api, db: Database) -> None:
    thread = await make_thread(db, title="kept", messages=1, state=ThreadState.ARCHIVED)
    message = await db[store.MESSAGES].find_one({"threadId": thread.id})
    assert message is not None
    for query, variables in (
        (UPDATE, {"input": {"id": thread.id, "title": "changed"}}),
        (UPDATE, {"input": {"id": thread.id, "metadata": {}}}),
        (UPDATE, {"input": {"id": thread.id, "visibleInUi": False}}),
        (UPDATE, {"input": {"id": thread.id, "state": "ACTIVE", "title": "changed"}}),
        (CREATE_MESSAGE, {"id": thread.id}),
        (UPDATE_MESSAGE, {"id": message["_id"]}),
        (DELETE_MESSAGE, {"id": message["_id"]}),
    ):
        assert (await api.error(query, variables))["extensions"] == {"code": "CONFLICT"}, variables
    stored = await db[store.THREADS].find_one({"_id": thread.id})
    assert stored is not None and stored["title"] == "kept" and stored["state"] == "archived"
    restored = await api.ok(UPDATE, {"input": {"id": thread.id, "state": "LOCKED"}})
    assert restored["updateThread"]["thread"] == {
        "state": "LOCKED",
        "title": "kept",
        "metadata": {},
    }


@pytest.mark.parametrize("state", [ThreadState.ACTIVE, ThreadState.LOCKED, ThreadState.ARCHIVED])
async def test_delete_thread_in_every_state(api: Api, db: Database, state: ThreadState) -> None:
    thread = await make_thread(db, messages=3, state=state)
    if state == ThreadState.ACTIVE:
        await make_message(db, thread.id)
    assert (await api.ok(DELETE, {"id": thread.id}))["deleteThread"]["deleted"] is True
    assert await db[store.MESSAGES].count_documents({"threadId": thread.id}) == 0
    assert await db[store.THREADS].count_documents({}) == 0
