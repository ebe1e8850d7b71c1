"""Every limit answered as a coded GraphQL error naming the input; nothing half-written."""

from typing import Any

import pytest

from app import store
from app.errors import INTERNAL_MESSAGE
from app.store import Database
from tests.helpers.api import Api
from tests.helpers.factories import make_thread

CREATE_THREAD = (
    "mutation($input: CreateThreadInput!) { createThread(input: $input) { thread { id } } }"
)
CREATE_MESSAGE = (
    "mutation($input: CreateMessageInput!) { createMessage(input: $input) { message { id } } }"
)
THREAD = "query($id: ID!) { thread(id: $id) { id } }"
MESSAGE = "query($id: ID!) { message(id: $id) { id } }"
NODES = "query($ids: [ID!]!) { nodes(ids: $ids) { id } }"

LIMITS: list[tuple[str, str, dict[str, Any], str]] = [
    (
        "17 metadata pairs",
        CREATE_THREAD,
        {"input": {"metadata": {f"k{n}": "v" for n in range(17)}}},
        "input.metadata",
    ),
    ("65-char key", CREATE_THREAD, {"input": {"metadata": {"k" * 65: "v"}}}, "input.metadata"),
    ("513-char value", CREATE_THREAD, {"input": {"metadata": {"k": "v" * 513}}}, "input.metadata"),
    ("non-string value", CREATE_THREAD, {"input": {"metadata": {"k": 1}}}, "input.metadata"),
    ("201-char title", CREATE_THREAD, {"input": {"title": "t" * 201}}, "input.title"),
    (
        "21 file ids",
        CREATE_THREAD,
        {"input": {"toolResources": {"codeInterpreter": {"fileIds": ["f"] * 21}}}},
        "input.toolResources.codeInterpreter.fileIds",
    ),
    (
        "2 vector stores",
        CREATE_THREAD,
        {"input": {"toolResources": {"fileSearch": {"vectorStoreIds": ["a", "b"]}}}},
        "input.toolResources.fileSearch.vectorStoreIds",
    ),
    (
        "101 messages",
        CREATE_THREAD,
        {"input": {"messages": [{"content": "x"}] * 101}},
        "input.messages",
    ),
    (
        "empty content in a thread's message",
        CREATE_THREAD,
        {"input": {"messages": [{"content": "ok"}, {"content": ""}]}},
        "input.messages.1.content",
    ),
    (
        "message metadata in a thread",
        CREATE_THREAD,
        {"input": {"messages": [{"content": "ok", "metadata": {"": "v"}}]}},
        "input.messages.0.metadata",
    ),
    ("malformed thread id", THREAD, {"id": "thread_1"}, "id"),
    ("malformed message id", MESSAGE, {"id": "thread_0b8f1c2e-6a4d-4f3b-9c1d-2e3f4a5b6c7d"}, "id"),
    ("malformed node id", NODES, {"ids": ["message_x"]}, "ids.0"),
    ("101 node ids", NODES, {"ids": ["thread_0b8f1c2e-6a4d-4f3b-9c1d-2e3f4a5b6c7d"] * 101}, "ids"),
    ("forged thread cursor", 'query { threads(after: "eyJ4Ijox") { totalCount } }', {}, "after"),
    ("lone surrogate title", CREATE_THREAD, {"input": {"title": "a\ud800b"}}, "input.title"),
]
MESSAGE_LIMITS: list[tuple[str, dict[str, Any], str]] = [
    ("empty content", {"content": ""}, "input.content"),
    ("256,001-char content", {"content": "c" * 256_001}, "input.content"),
    (
        "256,001 chars over parts",
        {"contentParts": [{"text": "c" * 128_001}, {"text": "c" * 128_000}]},
        "input",
    ),
    ("no parts", {"contentParts": []}, "input.contentParts"),
    ("33 parts", {"contentParts": [{"text": "x"}] * 33}, "input.contentParts"),
    (
        "a javascript: image",
        {"contentParts": [{"imageUrl": {"url": "javascript:alert(1)"}}]},
        "input.contentParts.0.imageUrl.url",
    ),
    (
        "an empty file id",
        {"contentParts": [{"imageFile": {"fileId": ""}}]},
        "input.contentParts.0.imageFile.fileId",
    ),
    ("a 129-char run id", {"content": "x", "runId": "r" * 129}, "input.runId"),
    ("malformed thread id", {"threadId": "thread_nope", "content": "x"}, "input.threadId"),
]


@pytest.mark.parametrize(
    ("case", "query", "variables", "field"), LIMITS, ids=[c[0] for c in LIMITS]
)
async def test_limits(
    api: Api, db: Database, case: str, query: str, variables: dict[str, Any], field: str
) -> None:
    error = await api.error(query, variables)
    assert error["extensions"] == {"code": "BAD_USER_INPUT", "field": field}
    assert error["message"] and "Traceback" not in error["message"]
    assert await db[store.THREADS].count_documents({}) == 0, "nothing was written"
    assert await db[store.MESSAGES].count_documents({}) == 0


@pytest.mark.parametrize(
    ("case", "input_", "field"), MESSAGE_LIMITS, ids=[c[0] for c in MESSAGE_LIMITS]
)
async def test_message_limits(
    api: Api, db: Database, case: str, input_: dict[str, Any], field: str
) -> None:
    thread = await make_thread(db)
    error = await api.error(CREATE_MESSAGE, {"input": {"threadId": thread.id, **input_}})
    assert error["extensions"] == {"code": "BAD_USER_INPUT", "field": field}
    assert await db[store.MESSAGES].count_documents({}) == 0
    stored = await db[store.THREADS].find_one({"_id": thread.id})
    assert stored is not None and stored["seq"] == 0, "no sequence number was taken"


async def test_limits_are_inclusive(api: Api) -> None:
    await api.ok(
        CREATE_THREAD,
        {
            "input": {
                "metadata": {f"{n:02d}" + "k" * 62: "v" * 512 for n in range(16)},
                "title": "t" * 200,
                "toolResources": {
                    "codeInterpreter": {"fileIds": ["f"] * 20},
                    "fileSearch": {"vectorStoreIds": ["vs"]},
                },
                "messages": [{"content": "c" * 256_000}] + [{"content": "x"}] * 99,
            }
        },
    )


async def test_query_errors_are_coded(api: Api) -> None:
    for query in (
        "{ nope }",
        "{ thread(id: 1, ) }",
        "query {",
        '{ threads(first: "x") { totalCount } }',
    ):
        error = await api.error(query)
        assert error["extensions"] == {"code": "BAD_USER_INPUT"}, query
    error = await api.error(CREATE_THREAD, {"input": {"metadata": "not an object"}})
    assert error["extensions"] == {"code": "BAD_USER_INPUT"}
    assert "metadata" in error["message"] and "JSON object" in error["message"]


async def test_unexpected_errors_are_masked(
    api: Api, db: Database, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    async def broken(*args: object, **kwargs: object) -> None:
        raise RuntimeError("secret connection string mongodb://user:pw@host")

    monkeypatch.setattr(store, "get_threads", broken)
    error = await api.error(THREAD, {"id": "thread_0b8f1c2e-6a4d-4f3b-9c1d-2e3f4a5b6c7d"})
    assert error["message"] == INTERNAL_MESSAGE
    assert error["extensions"] == {"code": "INTERNAL_SERVER_ERROR"}
    assert "secret connection string" in caplog.text, "the real error is logged"


async def test_client_errors_are_not_logged_as_incidents(
    api: Api, caplog: pytest.LogCaptureFixture
) -> None:
    error = await api.error(THREAD, {"id": "thread_1"})
    assert error["extensions"] == {"code": "BAD_USER_INPUT", "field": "id"}
    assert "thread_1" not in caplog.text
