"""Hostile requests get a clean 4xx or a coded GraphQL error: never a 5xx or a traceback."""

import json
import re
from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest

from app.graphql.schema import schema
from app.settings import Settings
from app.store import Database
from tests.helpers.api import api_key, app_client

THREAD = "thread_00000000-0000-4000-8000-000000000000"


def depth_bomb(levels: int) -> str:
    inner = "id"
    for _ in range(levels):
        inner = f"messages {{ nodes {{ thread {{ {inner} }} }} }}"
    return f'{{ thread(id: "{THREAD}") {{ {inner} }} }}'


def nested(levels: int) -> Any:
    value: Any = "leaf"
    for _ in range(levels):
        value = {"a": value}
    return value


ALIASES = "{ " + " ".join(f"a{n}: __typename" for n in range(1000)) + " }"
FRAGMENT_FLOOD = (
    "fragment F on Query { a: __typename b: __typename c: __typename d: __typename e: __typename }"
    " query { " + " ".join("...F" for _ in range(50)) + " }"
)
TOKENS = "{ " + " ".join("__typename" for _ in range(10_000)) + " }"
NODE_BOMB = (
    "{ threads(first: 100) { nodes { messages(first: 100) { nodes { thread {"
    " messages(first: 100) { nodes { id } } } } } } } }"
)
CREATE = "mutation($input: CreateThreadInput!) { createThread(input: $input) { thread { id } } }"


def graphql(query: str, variables: dict[str, Any] | None = None) -> dict[str, Any]:
    return {"json": {"query": query, "variables": variables or {}}}


# (case, method, request arguments, expected status, expected error code or None)
CASES: list[tuple[str, str, dict[str, Any], int, str | None]] = [
    ("depth bomb", "POST", graphql(depth_bomb(12)), 200, "BAD_USER_INPUT"),
    ("1,000 aliases", "POST", graphql(ALIASES), 200, "BAD_USER_INPUT"),
    (
        "aliases in a fragment spread 50 times",
        "POST",
        graphql(FRAGMENT_FLOOD),
        200,
        "BAD_USER_INPUT",
    ),
    ("10,000 tokens", "POST", graphql(TOKENS), 200, "BAD_USER_INPUT"),
    ("100x100x100 nodes", "POST", graphql(NODE_BOMB), 200, "BAD_USER_INPUT"),
    (
        "1 MB body",
        "POST",
        graphql("{ threads { totalCount } }", {"pad": "x" * 1_000_000}),
        413,
        "BAD_USER_INPUT",
    ),
    ("batch array", "POST", {"json": [{"query": "{ threads { totalCount } }"}] * 2}, 400, None),
    (
        "mutation over GET",
        "GET",
        {"params": {"query": "mutation { createThread(input: {}) { thread { id } } }"}},
        405,
        "METHOD_NOT_ALLOWED",
    ),
    (
        "text/plain POST",
        "POST",
        {"content": "{ threads { totalCount } }", "headers": {"Content-Type": "text/plain"}},
        400,
        None,
    ),
    ("form POST", "POST", {"data": {"query": "{ threads { totalCount } }"}}, 400, None),
    (
        "huge first",
        "POST",
        graphql("{ threads(first: 1000000000) { totalCount } }"),
        200,
        "BAD_USER_INPUT",
    ),
    (
        "first over Int",
        "POST",
        graphql("{ threads(first: 99999999999) { totalCount } }"),
        200,
        "BAD_USER_INPUT",
    ),
    (
        "negative last",
        "POST",
        graphql("{ threads(last: -1) { totalCount } }"),
        200,
        "BAD_USER_INPUT",
    ),
    (
        "forged cursor",
        "POST",
        graphql('{ threads(after: "W1sidGhyZWFkIl1d") { totalCount } }'),
        200,
        "BAD_USER_INPUT",
    ),
    (
        "cursor of junk bytes",
        "POST",
        graphql('{ threads(before: "////") { totalCount } }'),
        200,
        "BAD_USER_INPUT",
    ),
    (
        "$where key",
        "POST",
        graphql(CREATE, {"input": {"metadata": {"$where": "sleep(10000)"}}}),
        200,
        None,
    ),
    ("a.b key", "POST", graphql(CREATE, {"input": {"metadata": {"a.b": "c"}}}), 200, None),
    (
        "__proto__ key",
        "POST",
        graphql(CREATE, {"input": {"metadata": {"__proto__": "x"}}}),
        200,
        None,
    ),
    (
        "NUL byte",
        "POST",
        graphql(CREATE, {"input": {"title": "a\u0000b", "metadata": {"\u0000": "\u0000"}}}),
        200,
        "BAD_USER_INPUT",
    ),
    (
        "operator object as a value",
        "POST",
        graphql(CREATE, {"input": {"metadata": {"k": {"$gt": ""}}}}),
        200,
        "BAD_USER_INPUT",
    ),
    (
        "operator object as an id",
        "POST",
        graphql("query($id: ID!) { thread(id: $id) { id } }", {"id": {"$ne": None}}),
        200,
        "BAD_USER_INPUT",
    ),
    (
        "lone surrogate",
        "POST",
        {
            "content": '{"query": "mutation { createThread(input: {title: \\"\\ud800\\"}) { thread { id } } }"}',
            "headers": {"Content-Type": "application/json"},
        },
        200,
        "BAD_USER_INPUT",
    ),
    (
        "lone surrogate variable",
        "POST",
        {
            "content": json.dumps(
                {"query": CREATE, "variables": {"input": {"metadata": {"k": "\ud800"}}}},
                ensure_ascii=True,
            ),
            "headers": {"Content-Type": "application/json"},
        },
        200,
        "BAD_USER_INPUT",
    ),
    (
        "100-level-deep variables",
        "POST",
        graphql(CREATE, {"input": {"metadata": nested(100)}}),
        200,
        "BAD_USER_INPUT",
    ),
    (
        "100-level-deep unused variable",
        "POST",
        graphql("{ threads { totalCount } }", nested(100)),
        200,
        None,
    ),
    (
        "invalid JSON",
        "POST",
        {"content": '{"query": ', "headers": {"Content-Type": "application/json"}},
        400,
        None,
    ),
    ("no query", "POST", {"json": {"variables": {}}}, 400, None),
    (
        "wrong operation name",
        "POST",
        {"json": {"query": "query A { threads { totalCount } }", "operationName": "B"}},
        400,
        None,
    ),
    ("unknown field", "POST", graphql("{ threadz { totalCount } }"), 200, "BAD_USER_INPUT"),
    ("DELETE method", "DELETE", {}, 405, "METHOD_NOT_ALLOWED"),
]


@pytest.fixture
async def client(db: Database) -> AsyncIterator[httpx.AsyncClient]:
    async with app_client(db) as client:
        client.headers["Authorization"] = f"Bearer {await api_key(db)}"
        yield client


@pytest.mark.parametrize(
    ("case", "method", "arguments", "status", "code"), CASES, ids=[c[0] for c in CASES]
)
async def test_hostile_request(
    client: httpx.AsyncClient,
    case: str,
    method: str,
    arguments: dict[str, Any],
    status: int,
    code: str | None,
) -> None:
    response = await client.request(method, "/graphql", **arguments)
    assert response.status_code == status, (case, response.status_code, response.text[:300])
    assert re.fullmatch(r"[0-9a-f]{32}", response.headers["x-request-id"])
    assert "Traceback" not in response.text and 'File "' not in response.text
    if response.headers.get("content-type", "").startswith("application/json") and status != 400:
        body = response.json()
        codes = [e["extensions"]["code"] for e in body.get("errors", [])]
        assert "INTERNAL_SERVER_ERROR" not in codes
        if code is not None:
            assert codes and set(codes) == {code}, (case, body)
        else:
            assert not codes, (case, body)


@pytest.mark.parametrize("introspection", [False, True])
async def test_production_mode(db: Database, introspection: bool) -> None:
    settings = Settings(app_env="production", graphql_introspection=introspection)
    async with app_client(db, settings) as client:
        client.headers["Authorization"] = f"Bearer {await api_key(db)}"
        page = await client.get("/graphql", headers={"Accept": "text/html"})
        assert page.status_code == 404 and "graphiql" not in page.text.lower()
        plain = (await client.post("/graphql", json={"query": "{ threads { totalCount } }"})).json()
        assert list(plain["extensions"]) == ["requestId"], "no database counts in production"
        probe = (
            await client.post("/graphql", json={"query": "{ __schema { types { name } } }"})
        ).json()
        if introspection:
            names = {t["name"] for t in probe["data"]["__schema"]["types"]}
            assert names == set(schema._schema.type_map)
        else:
            assert probe["errors"][0]["extensions"]["code"] == "BAD_USER_INPUT"
        typo = (await client.post("/graphql", json={"query": "{ threadz { totalCount } }"})).json()
        assert "Did you mean" not in typo["errors"][0]["message"]
    async with app_client(db) as client:
        client.headers["Authorization"] = f"Bearer {await api_key(db)}"
        typo = (await client.post("/graphql", json={"query": "{ threadz { totalCount } }"})).json()
        assert "Did you mean" in typo["errors"][0]["message"], "development suggests"


async def test_limits_are_configurable(db: Database) -> None:
    settings = Settings(max_query_depth=3, max_query_aliases=2, max_query_nodes=100)
    async with app_client(db, settings) as client:
        client.headers["Authorization"] = f"Bearer {await api_key(db)}"

        async def code(query: str) -> str | None:
            body = (await client.post("/graphql", json={"query": query})).json()
            return body["errors"][0]["extensions"]["code"] if "errors" in body else None

        assert await code("{ a: __typename b: __typename }") is None
        assert await code("{ a: __typename b: __typename c: __typename }") == "BAD_USER_INPUT"
        assert await code(depth_bomb(1)) == "BAD_USER_INPUT"
        # Each connection and its page: 2 x (1 + 49) nodes, then 1 more.
        pages = "{ a: threads(first: 49) { nodes { id } } b: threads(first: %d) { nodes { id } } }"
        assert await code(pages % 49) is None
        assert await code(pages % 50) == "BAD_USER_INPUT"
