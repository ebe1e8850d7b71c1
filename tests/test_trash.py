"""The trash: deleted threads and messages are hidden from every read, count and filter, come
back exactly as they were, and are purged after the retention period (or at once)."""

from datetime import timedelta
from typing import Any

import pytest

from app import store
from app.domain import LOCKED, now
from app.services import trash
from app.services.runtime import Runtime
from app.store import Database
from tests.helpers.api import Api
from tests.helpers.factories import make_message, make_thread

THREAD = """query($id: ID!) {
  thread(id: $id) {
    id title metadata state messageCount deletedAt
    lastMessage { text }
    messages(first: 100, order: ASC) { totalCount nodes { id text metadata } }
  }
}"""
LIST = """query($deleted: Boolean!) {
  threads(filter: {deleted: $deleted}) { totalCount nodes { id deletedAt } }
}"""
DELETE = "mutation($id: ID!, $p: Boolean) { deleteThread(input: {id: $id, permanent: $p}) { id deleted eventCursor } }"
RESTORE = "mutation($id: ID!) { restoreThread(input: {id: $id}) { thread { id messageCount deletedAt } eventCursor } }"
DELETE_MESSAGE = (
    "mutation($id: ID!) { deleteMessage(input: {id: $id}) { id deleted thread { messageCount } } }"
)
RESTORE_MESSAGE = "mutation($id: ID!) { restoreMessage(input: {id: $id}) { message { id text } thread { messageCount } } }"


async def listed(api: Api, *, deleted: bool) -> dict[str, Any]:
    data: dict[str, Any] = (await api.ok(LIST, {"deleted": deleted}))["threads"]
    return data


async def test_a_thread_comes_back_exactly_as_it_was(api: Api, db: Database) -> None:
    thread = await make_thread(db, title="keep", metadata={"tags": ["a"]}, messages=5)
    other = await make_thread(db, title="other")
    before = (await api.ok(THREAD, {"id": thread.id}))["thread"]
    deleted = (await api.ok(DELETE, {"id": thread.id}))["deleteThread"]
    assert (deleted["id"], deleted["deleted"]) == (thread.id, True), "the seed's shape"
    assert (await api.ok(THREAD, {"id": thread.id}))["thread"] is None
    live = await listed(api, deleted=False)
    assert (live["totalCount"], [n["id"] for n in live["nodes"]]) == (1, [other.id])
    in_trash = await listed(api, deleted=True)
    assert [n["id"] for n in in_trash["nodes"]] == [thread.id] and in_trash["totalCount"] == 1
    assert in_trash["nodes"][0]["deletedAt"] is not None
    nodes = await api.ok("query($ids: [ID!]!) { nodes(ids: $ids) { id } }", {"ids": [thread.id]})
    assert nodes == {"nodes": [None]}
    filtered = await api.ok('{ threads(filter: {metadata: {tags: "a"}}) { totalCount } }')
    assert filtered["threads"]["totalCount"] == 0
    restored = (await api.ok(RESTORE, {"id": thread.id}))["restoreThread"]
    assert restored["thread"] == {"id": thread.id, "messageCount": 5, "deletedAt": None}
    after = (await api.ok(THREAD, {"id": thread.id}))["thread"]
    assert after == before
    assert (await listed(api, deleted=True))["totalCount"] == 0
    error = await api.error(RESTORE, {"id": thread.id})
    assert error["extensions"] == {"code": "NOT_FOUND"}, "it is not in the trash any more"


async def test_a_message_comes_back_in_its_place(api: Api, db: Database) -> None:
    thread = await make_thread(db, messages=3)
    middle = (await api.ok(THREAD, {"id": thread.id}))["thread"]["messages"]["nodes"][1]["id"]
    last = await make_message(db, thread.id, "newest")
    gone = (await api.ok(DELETE_MESSAGE, {"id": middle}))["deleteMessage"]
    assert gone == {"id": middle, "deleted": True, "thread": {"messageCount": 3}}
    shown = (await api.ok(THREAD, {"id": thread.id}))["thread"]
    assert [n["text"] for n in shown["messages"]["nodes"]] == ["message 1", "message 3", "newest"]
    assert shown["messages"]["totalCount"] == shown["messageCount"] == 3
    assert (await api.ok("query($id: ID!) { message(id: $id) { id } }", {"id": middle})) == {
        "message": None
    }
    await api.ok(DELETE_MESSAGE, {"id": last.id})
    shown = (await api.ok(THREAD, {"id": thread.id}))["thread"]
    assert shown["lastMessage"] == {"text": "message 3"}, "the preview skips the trash"
    error = await api.error(DELETE_MESSAGE, {"id": middle})
    assert error["extensions"] == {"code": "NOT_FOUND"}, "twice: it is already gone"
    back = (await api.ok(RESTORE_MESSAGE, {"id": middle}))["restoreMessage"]
    assert back == {"message": {"id": middle, "text": "message 2"}, "thread": {"messageCount": 3}}
    shown = (await api.ok(THREAD, {"id": thread.id}))["thread"]
    assert [n["text"] for n in shown["messages"]["nodes"]] == [
        "message 1",
        "message 2",
        "message 3",
    ]


async def test_restoring_a_message_follows_the_state_machine(api: Api, db: Database) -> None:
    thread = await make_thread(db, messages=2)
    message = await make_message(db, thread.id, "x")
    await api.ok(DELETE_MESSAGE, {"id": message.id})
    await api.ok(
        "mutation($id: ID!) { updateThread(input: {id: $id, state: LOCKED}) { thread { id } } }",
        {"id": thread.id},
    )
    error = await api.error(RESTORE_MESSAGE, {"id": message.id})
    assert error["extensions"] == {"code": "CONFLICT"}
    assert error["message"] == f"Thread {thread.id} is {LOCKED}: cannot add messages."


async def test_permanent_delete_and_the_purge(api: Api, db: Database) -> None:
    kept = await make_thread(db, messages=2)
    doomed = await make_thread(db, messages=2)
    message = await make_message(db, kept.id, "trashed")
    await api.ok(DELETE, {"id": doomed.id})
    await api.ok(DELETE_MESSAGE, {"id": message.id})
    rt = Runtime(db)
    assert await trash.purge(rt, deleted_before=now() - timedelta(days=1)) == 0
    assert await trash.purge(rt, deleted_before=now() + timedelta(seconds=1)) == 2
    assert await db[store.THREADS].count_documents({"_id": doomed.id}) == 0
    assert await db[store.MESSAGES].count_documents({"threadId": doomed.id}) == 0
    assert await db[store.MESSAGES].count_documents({"_id": message.id}) == 0
    assert (await api.error(RESTORE, {"id": doomed.id}))["extensions"] == {"code": "NOT_FOUND"}
    assert (await api.error(RESTORE_MESSAGE, {"id": message.id}))["extensions"] == {
        "code": "NOT_FOUND"
    }
    await api.ok(DELETE, {"id": kept.id, "p": True})
    assert await db[store.THREADS].count_documents({}) == 0
    assert await db[store.MESSAGES].count_documents({}) == 0
    trashed = await make_thread(db, messages=1)
    await api.ok(DELETE, {"id": trashed.id})
    await api.ok(DELETE, {"id": trashed.id, "p": True})  # from the trash, for good
    assert await db[store.THREADS].count_documents({}) == 0


async def test_another_organizations_trash_does_not_exist(api: Api, db: Database) -> None:
    thread = await make_thread(db, organization_id="org_other", messages=1)
    theirs = Api(db, organization_id="org_other")
    await theirs.ok(DELETE, {"id": thread.id})
    assert (await listed(api, deleted=True))["totalCount"] == 0
    assert (await api.error(RESTORE, {"id": thread.id}))["extensions"] == {"code": "NOT_FOUND"}
    assert (await theirs.ok(RESTORE, {"id": thread.id}))["restoreThread"]["thread"]["id"] == (
        thread.id
    )


async def test_trash_and_restore_are_events(api: Api, db: Database) -> None:
    thread = await make_thread(db, messages=1)
    message = await make_message(db, thread.id, "m")
    await api.ok(DELETE_MESSAGE, {"id": message.id})
    await api.ok(RESTORE_MESSAGE, {"id": message.id})
    await api.ok(DELETE, {"id": thread.id})
    await api.ok(RESTORE, {"id": thread.id})
    logged = db[store.EVENTS].find({"threadId": thread.id, "seq": {"$gt": 0}})  # 0: ThreadCreated
    events = await logged.sort("seq", 1).to_list(None)
    assert [e["type"] for e in events] == [
        "MessageCreated",
        "MessageDeleted",
        "MessageRestored",
        "ThreadDeleted",
        "ThreadRestored",
    ]


async def test_a_long_thread_goes_by_ranges_of_numbers(
    api: Api, db: Database, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Each command removes at most REMOVE_BATCH messages, and together they remove them all."""
    monkeypatch.setattr(store.threads, "REMOVE_BATCH", 10)
    kept = await make_thread(db, messages=3)
    doomed = await make_thread(db, messages=25)
    removals: list[dict[str, Any]] = []
    delete_many = type(db[store.MESSAGES]).delete_many

    async def recorded(collection: Any, query: dict[str, Any], *args: Any, **kwargs: Any) -> Any:
        if collection.name == store.MESSAGES:
            removals.append(query)
        return await delete_many(collection, query, *args, **kwargs)

    monkeypatch.setattr(type(db[store.MESSAGES]), "delete_many", recorded)
    await api.ok(DELETE, {"id": doomed.id, "p": True})
    assert await db[store.MESSAGES].count_documents({"threadId": doomed.id}) == 0
    assert await db[store.MESSAGES].count_documents({"threadId": kept.id}) == 3
    ranges = [q["seq"] for q in removals if q.get("threadId") == doomed.id]
    assert len(ranges) == 4  # past the last number, then 25-16, 15-6, 5-1
    assert all("$gt" in r for r in ranges)
