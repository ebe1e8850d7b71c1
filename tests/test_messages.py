"""Messages: create, read, update, delete; content parts; order; messageCount."""

import asyncio
import re
from typing import Any

from app import store
from app.domain import now
from app.store import Database
from tests.helpers.api import Api
from tests.helpers.factories import make_message, make_thread

MESSAGE_FIELDS = """
  id createdAt threadId role text status assistantId runId metadata
  content {
    __typename
    ... on TextContent { text { value annotations { __typename
      ... on FileCitationAnnotation { text startIndex endIndex fileId }
      ... on FilePathAnnotation { text startIndex endIndex fileId } } } }
    ... on ImageUrlContent { imageUrl { url detail } }
    ... on ImageFileContent { imageFile { fileId detail } }
  }
"""
CREATE = f"""
mutation($input: CreateMessageInput!) {{
  createMessage(input: $input) {{
    message {{ {MESSAGE_FIELDS} }} thread {{ id updatedAt messageCount }}
  }}
}}
"""
GET = f"query($id: ID!) {{ message(id: $id) {{ {MESSAGE_FIELDS} thread {{ id title }} }} }}"
UPDATE = """
mutation($id: ID!, $metadata: Metadata!) {
  updateMessage(input: {id: $id, metadata: $metadata}) { message { id metadata } }
}
"""
DELETE = """
mutation($id: ID!) { deleteMessage(input: {id: $id}) { id deleted thread { messageCount } } }
"""
ORDER = """
query($id: ID!) {
  thread(id: $id) { messageCount messages(first: 100, order: ASC) { nodes { text } } }
}
"""
UUID4 = "[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}"


async def test_create_message_with_plain_content(api: Api, db: Database) -> None:
    thread = await make_thread(db, title="T")
    data = await api.ok(
        CREATE,
        {"input": {"threadId": thread.id, "content": "Who are you", "metadata": {"k": "v"}}},
    )
    message = data["createMessage"]["message"]
    assert re.fullmatch(f"message_{UUID4}", message["id"])
    assert message | {"id": None, "createdAt": None} == {
        "id": None,
        "createdAt": None,
        "threadId": thread.id,
        "role": "USER",
        "text": "Who are you",
        "status": "COMPLETED",
        "assistantId": None,
        "runId": None,
        "metadata": {"k": "v"},
        "content": [
            {"__typename": "TextContent", "text": {"value": "Who are you", "annotations": []}}
        ],
    }
    assert data["createMessage"]["thread"]["messageCount"] == 1
    assert data["createMessage"]["thread"]["updatedAt"] >= message["createdAt"]
    fetched = (await api.ok(GET, {"id": message["id"]}))["message"]
    assert fetched == message | {"thread": {"id": thread.id, "title": "T"}}


async def test_create_message_with_content_parts(api: Api, db: Database) -> None:
    thread = await make_thread(db)
    parts = [
        {"text": "Look at this:"},
        {"imageUrl": {"url": "https://example.com/cat.png", "detail": "HIGH"}},
        {"imageFile": {"fileId": "file_1"}},
        {"text": "and this."},
    ]
    data = await api.ok(
        CREATE,
        {
            "input": {
                "threadId": thread.id,
                "role": "ASSISTANT",
                "contentParts": parts,
                "assistantId": "asst_1",
                "runId": "run_1",
            }
        },
    )
    message = data["createMessage"]["message"]
    assert message["role"] == "ASSISTANT" and message["text"] == "Look at this:\nand this."
    assert message["assistantId"] == "asst_1" and message["runId"] == "run_1"
    assert message["content"][1:3] == [
        {
            "__typename": "ImageUrlContent",
            "imageUrl": {"url": "https://example.com/cat.png", "detail": "HIGH"},
        },
        {"__typename": "ImageFileContent", "imageFile": {"fileId": "file_1", "detail": "AUTO"}},
    ]


async def test_exactly_one_of_content_and_parts(api: Api, db: Database) -> None:
    thread = await make_thread(db)
    for extra in ({}, {"content": "a", "contentParts": [{"text": "b"}]}):
        error = await api.error(CREATE, {"input": {"threadId": thread.id, **extra}})
        assert error["extensions"] == {"code": "BAD_USER_INPUT", "field": "input"}
    error = await api.error(
        CREATE,
        {
            "input": {
                "threadId": thread.id,
                "contentParts": [{"text": "a", "imageFile": {"fileId": "f"}}],
            }
        },
    )
    assert error["extensions"] == {"code": "BAD_USER_INPUT"}, "ContentPartInput is @oneOf"
    assert await db[store.MESSAGES].count_documents({}) == 0


async def test_annotations_are_mapped(api: Api, db: Database) -> None:
    thread = await make_thread(db)
    message = await make_message(db, thread.id, "see [1] at /tmp/x")
    annotations = [
        {"type": "fileCitation", "text": "[1]", "startIndex": 4, "endIndex": 7, "fileId": "f1"},
        {"type": "filePath", "text": "/tmp/x", "startIndex": 11, "endIndex": 17, "fileId": "f2"},
    ]
    await db[store.MESSAGES].update_one(
        {"_id": message.id}, {"$set": {"content.0.text.annotations": annotations}}
    )
    fetched = (await api.ok(GET, {"id": message.id}))["message"]
    assert fetched["content"][0]["text"]["annotations"] == [
        {
            "__typename": "FileCitationAnnotation",
            "text": "[1]",
            "startIndex": 4,
            "endIndex": 7,
            "fileId": "f1",
        },
        {
            "__typename": "FilePathAnnotation",
            "text": "/tmp/x",
            "startIndex": 11,
            "endIndex": 17,
            "fileId": "f2",
        },
    ]


async def test_order_is_creation_order_within_one_millisecond(
    db: Database,
) -> None:
    frozen = now()
    api = Api(db, clock=lambda: frozen)
    thread = await api.ok(
        "mutation($m: [MessageInput!]) { createThread(input: {messages: $m}) { thread { id } } }",
        {"m": [{"content": f"initial {n}"} for n in range(12)]},
    )
    thread_id = thread["createThread"]["thread"]["id"]
    for n in range(12):
        await api.ok(CREATE, {"input": {"threadId": thread_id, "content": f"later {n}"}})
    data = (await api.ok(ORDER, {"id": thread_id}))["thread"]
    expected = [f"initial {n}" for n in range(12)] + [f"later {n}" for n in range(12)]
    assert [node["text"] for node in data["messages"]["nodes"]] == expected
    assert data["messageCount"] == 24


async def test_message_count_follows_creates_and_deletes(api: Api, db: Database) -> None:
    thread = await make_thread(db, messages=3)
    created = await api.ok(CREATE, {"input": {"threadId": thread.id, "content": "x"}})
    assert created["createMessage"]["thread"]["messageCount"] == 4
    deleted = await api.ok(DELETE, {"id": created["createMessage"]["message"]["id"]})
    assert deleted["deleteMessage"]["deleted"] is True
    assert deleted["deleteMessage"]["thread"]["messageCount"] == 3
    live = await db[store.MESSAGES].count_documents({"threadId": thread.id, "deletedAt": None})
    assert live == 3
    again = await api.error(DELETE, {"id": created["createMessage"]["message"]["id"]})
    assert again["extensions"] == {"code": "NOT_FOUND"}


async def test_new_message_moves_thread_updated_at(api: Api, db: Database) -> None:
    thread = await make_thread(db)
    await asyncio.sleep(0.005)
    created = await api.ok(CREATE, {"input": {"threadId": thread.id, "content": "x"}})
    after = (
        await api.ok(
            "query($id: ID!) { thread(id: $id) { createdAt updatedAt } }", {"id": thread.id}
        )
    )["thread"]
    assert after["updatedAt"] > after["createdAt"]
    assert after["updatedAt"] == created["createMessage"]["thread"]["updatedAt"]
    await asyncio.sleep(0.005)
    await api.ok(DELETE, {"id": created["createMessage"]["message"]["id"]})
    final = (await api.ok("query($id: ID!) { thread(id: $id) { updatedAt } }", {"id": thread.id}))[
        "thread"
    ]
    assert final["updatedAt"] > after["updatedAt"]


async def test_update_message_replaces_metadata(api: Api, db: Database) -> None:
    thread = await make_thread(db)
    message = await make_message(db, thread.id, metadata={"a": "1", "b": "2"})
    data = await api.ok(UPDATE, {"id": message.id, "metadata": {"c": "3"}})
    assert data["updateMessage"]["message"]["metadata"] == {"c": "3"}
    assert (await api.ok(GET, {"id": message.id}))["message"]["metadata"] == {"c": "3"}


async def test_unknown_message_is_null_and_mutations_not_found(api: Api) -> None:
    missing = "message_00000000-0000-4000-8000-000000000000"
    assert (await api.ok(GET, {"id": missing}))["message"] is None
    cases: list[tuple[str, dict[str, Any]]] = [
        (UPDATE, {"id": missing, "metadata": {}}),
        (DELETE, {"id": missing}),
    ]
    for query, variables in cases:
        assert (await api.error(query, variables))["extensions"] == {"code": "NOT_FOUND"}


async def test_node_and_nodes(api: Api, db: Database) -> None:
    thread = await make_thread(db, title="T")
    message = await make_message(db, thread.id, "hi")
    missing = "thread_00000000-0000-4000-8000-000000000000"
    data = await api.ok(
        """query($t: ID!, $ids: [ID!]!) {
             node(id: $t) { __typename id ... on Thread { title } }
             nodes(ids: $ids) { __typename id ... on Message { text } }
           }""",
        {"t": thread.id, "ids": [message.id, missing, thread.id]},
    )
    assert data["node"] == {"__typename": "Thread", "id": thread.id, "title": "T"}
    assert data["nodes"] == [
        {"__typename": "Message", "id": message.id, "text": "hi"},
        None,
        {"__typename": "Thread", "id": thread.id},
    ]
    error = await api.error('query { node(id: "user_1") { id } }')
    assert error["extensions"] == {"code": "BAD_USER_INPUT", "field": "id"}


async def test_message_of_another_organization_does_not_exist(api: Api, db: Database) -> None:
    thread = await make_thread(db, organization_id="org_other")
    message = await make_message(db, thread.id, organization_id="org_other")
    assert (await api.ok(GET, {"id": message.id}))["message"] is None
    assert (await api.error(DELETE, {"id": message.id}))["extensions"] == {"code": "NOT_FOUND"}
    error = await api.error(CREATE, {"input": {"threadId": thread.id, "content": "x"}})
    assert error["extensions"] == {"code": "NOT_FOUND"}


async def test_concurrent_creates_keep_a_total_order(api: Api, db: Database) -> None:
    thread = await make_thread(db)
    created = await asyncio.gather(*(make_message(db, thread.id, f"m{n}") for n in range(40)))
    assert sorted(m.seq for m in created) == list(range(1, 41))
    data = (await api.ok(ORDER, {"id": thread.id}))["thread"]
    by_seq = [m.text for m in sorted(created, key=lambda m: m.seq)]
    assert [node["text"] for node in data["messages"]["nodes"]] == by_seq
    assert data["messageCount"] == 40


async def test_every_document_carries_its_organization_and_user(api: Api, db: Database) -> None:
    created = await api.ok(
        'mutation { createThread(input: {messages: [{content: "a"}]}) { thread { id } } }'
    )
    thread_id = created["createThread"]["thread"]["id"]
    await api.ok(CREATE, {"input": {"threadId": thread_id, "content": "b"}})
    for collection in (store.THREADS, store.MESSAGES):
        async for doc in db[collection].find({}):
            assert (doc["organizationId"], doc["userId"]) == ("org_local", "user_local")
