"""Threads: create, read, update, delete, list and filter."""

import asyncio
import re
from typing import Any

from app import store
from app.store import Database
from tests.helpers.api import Api
from tests.helpers.factories import make_thread

THREAD_FIELDS = """
  id createdAt updatedAt title metadata assistantId organizationId userId visibleInUi
  state status messageCount
  toolResources { codeInterpreter { fileIds } fileSearch { vectorStoreIds } }
"""
CREATE = f"""
mutation($input: CreateThreadInput!) {{ createThread(input: $input) {{ thread {{ {THREAD_FIELDS} }} }} }}
"""
UPDATE = f"""
mutation($input: UpdateThreadInput!) {{ updateThread(input: $input) {{ thread {{ {THREAD_FIELDS} }} }} }}
"""
GET = f"query($id: ID!) {{ thread(id: $id) {{ {THREAD_FIELDS} }} }}"
DELETE = "mutation($id: ID!) { deleteThread(input: {id: $id}) { id deleted } }"
LIST = """
query($filter: ThreadFilter, $first: Int, $order: SortOrder = DESC) {
  threads(filter: $filter, first: $first, order: $order) { totalCount nodes { id title state } }
}
"""
ISO_MS = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$")
UUID4 = "[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}"


async def test_create_thread_defaults(api: Api) -> None:
    thread = (await api.ok(CREATE, {"input": {}}))["createThread"]["thread"]
    assert re.fullmatch(f"thread_{UUID4}", thread["id"])
    assert ISO_MS.match(thread["createdAt"]) and thread["updatedAt"] == thread["createdAt"]
    assert thread | {"id": None, "createdAt": None, "updatedAt": None} == {
        "id": None,
        "createdAt": None,
        "updatedAt": None,
        "title": None,
        "metadata": {},
        "assistantId": None,
        "organizationId": "org_local",
        "userId": "user_local",
        "visibleInUi": True,
        "state": "ACTIVE",
        "status": "INACTIVE",
        "messageCount": 0,
        "toolResources": None,
    }
    fetched = (await api.ok(GET, {"id": thread["id"]}))["thread"]
    assert fetched == thread


async def test_create_thread_with_every_field(api: Api) -> None:
    created = await api.ok(
        CREATE,
        {
            "input": {
                "title": "Stew",
                "metadata": {"category": "cooking"},
                "assistantId": "asst_1",
                "visibleInUi": False,
                "toolResources": {
                    "codeInterpreter": {"fileIds": ["file_1", "file_2"]},
                    "fileSearch": {"vectorStoreIds": ["vs_1"]},
                },
                "messages": [{"content": "hi"}, {"role": "ASSISTANT", "content": "hello"}],
            }
        },
    )
    thread = created["createThread"]["thread"]
    assert thread["title"] == "Stew" and thread["assistantId"] == "asst_1"
    assert thread["metadata"] == {"category": "cooking"} and thread["visibleInUi"] is False
    assert thread["toolResources"] == {
        "codeInterpreter": {"fileIds": ["file_1", "file_2"]},
        "fileSearch": {"vectorStoreIds": ["vs_1"]},
    }
    assert thread["messageCount"] == 2


async def test_unknown_thread_is_null(api: Api) -> None:
    missing = "thread_00000000-0000-4000-8000-000000000000"
    assert (await api.ok(GET, {"id": missing}))["thread"] is None


async def test_update_leaves_absent_fields_and_clears_nulls(api: Api, db: Database) -> None:
    thread = await make_thread(db, title="Old", metadata={"a": "1", "b": "2"}, assistant_id="x")
    await asyncio.sleep(0.005)
    updated = await api.ok(UPDATE, {"input": {"id": thread.id, "metadata": {"c": "3"}}})
    result = updated["updateThread"]["thread"]
    assert result["title"] == "Old" and result["assistantId"] == "x"
    assert result["metadata"] == {"c": "3"}, "metadata replaces the whole map"
    assert result["updatedAt"] > result["createdAt"]

    cleared = await api.ok(
        UPDATE,
        {"input": {"id": thread.id, "title": None, "assistantId": None, "toolResources": None}},
    )
    result = cleared["updateThread"]["thread"]
    assert result["title"] is None and result["assistantId"] is None
    assert result["metadata"] == {"c": "3"}


async def test_update_refuses_null_for_non_nullable_fields(api: Api, db: Database) -> None:
    thread = await make_thread(db)
    for name in ("metadata", "visibleInUi", "state"):
        error = await api.error(UPDATE, {"input": {"id": thread.id, name: None}})
        assert error["extensions"] == {"code": "BAD_USER_INPUT", "field": f"input.{name}"}


async def test_delete_thread_deletes_its_messages(api: Api, db: Database) -> None:
    thread = await make_thread(db, messages=3)
    other = await make_thread(db, messages=2)
    permanent = DELETE.replace("{id: $id}", "{id: $id, permanent: true}")
    assert (await api.ok(permanent, {"id": thread.id}))["deleteThread"] == {
        "id": thread.id,
        "deleted": True,
    }
    assert (await api.ok(GET, {"id": thread.id}))["thread"] is None
    assert await db[store.MESSAGES].count_documents({"threadId": thread.id}) == 0
    assert await db[store.MESSAGES].count_documents({"threadId": other.id}) == 2
    assert await db[store.THREADS].count_documents({"_id": thread.id}) == 0


async def test_mutations_on_unknown_threads_are_not_found(api: Api) -> None:
    missing = "thread_00000000-0000-4000-8000-000000000000"
    cases: list[tuple[str, dict[str, Any]]] = [
        (DELETE, {"id": missing}),
        (UPDATE, {"input": {"id": missing, "title": "x"}}),
        (UPDATE, {"input": {"id": missing}}),
        (
            'mutation($id: ID!) { createMessage(input: {threadId: $id, content: "x"}) '
            "{ message { id } } }",
            {"id": missing},
        ),
    ]
    for query, variables in cases:
        error = await api.error(query, variables)
        assert error["extensions"] == {"code": "NOT_FOUND"}, query


async def test_threads_filters(api: Api, db: Database) -> None:
    threads: list[tuple[str, dict[str, Any]]] = [
        ("a", {"metadata": {"team": "red", "tier": "1"}, "assistant_id": "x"}),
        ("b", {"metadata": {"team": "red"}, "visible_in_ui": False}),
        ("c", {"metadata": {"team": "blue"}, "user_id": "someone_else"}),
        ("d", {"metadata": {"team": "red"}, "state": "archived"}),
        ("e", {"metadata": {"team": "red"}, "organization_id": "org_other"}),
    ]
    for title, fields in threads:
        await make_thread(db, title=title, **fields)
        await asyncio.sleep(0.002)  # distinct creation times: ties are ordered by id

    async def titles(filter_: dict[str, object] | None) -> tuple[int, list[str]]:
        data = (await api.ok(LIST, {"filter": filter_, "order": "ASC"}))["threads"]
        return data["totalCount"], [node["title"] for node in data["nodes"]]

    assert await titles(None) == (3, ["a", "b", "c"]), "archived and other orgs are left out"
    assert await titles({"metadata": {"team": "red"}}) == (2, ["a", "b"])
    assert await titles({"metadata": {"team": "red", "tier": "1"}}) == (1, ["a"])
    assert await titles({"metadata": {"team": "red", "tier": "2"}}) == (0, [])
    assert await titles({"state": "ARCHIVED"}) == (1, ["d"])
    assert await titles({"visibleInUi": False}) == (1, ["b"])
    assert await titles({"assistantId": "x"}) == (1, ["a"])
    assert await titles({"userId": "someone_else"}) == (1, ["c"])


async def test_metadata_keys_are_literal(api: Api) -> None:
    odd = {"a.b": "dotted", "$where": "sleep(1000)", "__proto__": "x", "$gt": "", "k\t": "tab"}
    created = await api.ok(CREATE, {"input": {"metadata": odd}})
    assert created["createThread"]["thread"]["metadata"] == odd
    for key, value in odd.items():
        data = (await api.ok(LIST, {"filter": {"metadata": {key: value}}}))["threads"]
        assert data["totalCount"] == 1, key
    data = (await api.ok(LIST, {"filter": {"metadata": {"a": "dotted"}}}))["threads"]
    assert data["totalCount"] == 0, "a dotted key is not a path"
