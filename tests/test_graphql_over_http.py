"""GraphQL over HTTP (docs/api.md#graphql-over-http): the media type chosen by `Accept`, status
codes by media type, mutations refused over GET, every malformed request a coded 4xx JSON error,
a request id on every answer, and graphql-http's spec audit against the live app."""

import asyncio
import json
import os
import shutil
from collections import Counter
from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest
from pymongo.errors import ServerSelectionTimeoutError

from app import store
from app.http import auth
from app.http.endpoint import GraphQLEndpoint
from app.http.media import GRAPHQL_RESPONSE, JSON, negotiate
from app.settings import Settings
from app.store import Database
from tests.helpers.api import api_key, app_client
from tests.helpers.backends import ROOT_DIR
from tests.helpers.live import live_server

CLIENTS = ROOT_DIR / "clients"
MODERN = {"Accept": GRAPHQL_RESPONSE}
LEGACY = {"Accept": JSON}
COUNT = "{ threads { totalCount } }"
CREATE = 'mutation { createThread(input: {title: "t"}) { thread { id } } }'
SUBSCRIBE = 'subscription { threadEvents(threadId: "thread_x") { __typename } }'


@pytest.mark.parametrize(
    ("accept", "chosen"),
    [
        ("", JSON),
        ("   ", JSON),
        ("*/*", JSON),
        ("application/*", JSON),
        ("application/json", JSON),
        ("application/graphql-response+json", GRAPHQL_RESPONSE),
        ("Application/GraphQL-Response+JSON", GRAPHQL_RESPONSE),
        ("application/graphql-response+json; charset=utf-8", GRAPHQL_RESPONSE),
        # What the spec recommends clients send, and Apollo Client's header.
        (
            "application/graphql-response+json; charset=utf-8, application/json; charset=utf-8",
            GRAPHQL_RESPONSE,
        ),
        ("application/graphql-response+json,application/json;q=0.9", GRAPHQL_RESPONSE),
        ("application/json, application/graphql-response+json", GRAPHQL_RESPONSE),
        ("application/json;q=0.9, application/graphql-response+json;q=0.8", JSON),
        ("application/graphql-response+json;q=0.5, */*", JSON),
        ("application/graphql-response+json, */*;q=0.1", GRAPHQL_RESPONSE),
        ("application/json, */*", JSON),
        ("text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8", JSON),
        ("application/json;q=0, */*", GRAPHQL_RESPONSE),
        ("application/graphql-response+json;q=0, */*", JSON),
        ("application/json;q=0, application/graphql-response+json;q=0, */*", None),
        ("text/html", None),
        ("application/xml, text/plain", None),
        ("application/json;q=0", None),
        ("*/*;q=0", None),
        ("application/json;q=2, application/graphql-response+json;q=nan", None),
        ("application/json;q=junk, application/graphql-response+json", GRAPHQL_RESPONSE),
        ("application/graphql+json", None),
        (",,application/json,", JSON),
    ],
)
def test_negotiation(accept: str, chosen: str | None) -> None:
    assert negotiate(accept) == chosen


async def post(client: httpx.AsyncClient, body: Any, **headers: str) -> httpx.Response:
    return await client.post("/graphql", json=body, headers=headers)


def request_error(response: httpx.Response, status: int, code: str) -> dict[str, Any]:
    """The body of a request error: errors and the request id, no `data`."""
    assert response.status_code == status, (response.status_code, response.text)
    body = response.json()
    assert set(body) == {"errors", "extensions"}, body
    assert [e["extensions"]["code"] for e in body["errors"]] == [code], body
    assert body["errors"][0]["message"]
    assert body["extensions"]["requestId"] == response.headers["x-request-id"]
    assert "Traceback" not in response.text and 'File "' not in response.text
    return dict(body)


async def test_graphql_response_json(http: httpx.AsyncClient) -> None:
    ok = await http.post("/graphql", json={"query": COUNT}, headers=MODERN)
    assert ok.status_code == 200
    assert ok.headers["content-type"] == f"{GRAPHQL_RESPONSE}; charset=utf-8"
    assert ok.json()["data"] == {"threads": {"totalCount": 0}}
    for query, variables in (
        ("{ threads { totalCount }", None),  # does not parse
        ("{ threadz { totalCount } }", None),  # does not validate
        ("query($n: Int!) { threads(first: $n) { totalCount } }", {"n": "x"}),  # variables
        ("query($n: Int!) { threads(first: $n) { totalCount } }", {}),  # a missing variable
        ("{ " + " ".join(f"a{n}: __typename" for n in range(100)) + " }", None),  # a limit
    ):
        response = await post(http, {"query": query, "variables": variables}, **MODERN)
        assert response.headers["content-type"].startswith(GRAPHQL_RESPONSE)
        request_error(response, 400, "BAD_USER_INPUT")
    # A field error is no request error: 200, with `data`.
    field = await post(http, {"query": '{ thread(id: "nope") { id } }'}, **MODERN)
    assert field.status_code == 200
    assert field.json()["data"] == {"thread": None}
    assert field.json()["errors"][0]["path"] == ["thread"]


async def test_application_json_keeps_the_legacy_rules(http: httpx.AsyncClient) -> None:
    for headers in ({}, LEGACY, {"Accept": "*/*"}):
        for query in ("{ threads { totalCount }", "{ threadz { totalCount } }"):
            response = await post(http, {"query": query}, **headers)
            assert response.status_code == 200, (headers, query)
            assert response.headers["content-type"] == f"{JSON}; charset=utf-8"
            body = response.json()
            assert body["data"] is None and body["errors"][0]["extensions"]["code"] == (
                "BAD_USER_INPUT"
            )
            assert body["extensions"]["requestId"] == response.headers["x-request-id"]


async def test_accept_picks_the_media_type(http: httpx.AsyncClient) -> None:
    for accept, media_type in (
        ("application/json;q=0.9, application/graphql-response+json", GRAPHQL_RESPONSE),
        ("application/graphql-response+json;q=0.5, application/json", JSON),
        ("*/*", JSON),
        ("application/*", JSON),
        ("text/html, */*;q=0.8", JSON),
        ("application/graphql-response+json, application/json", GRAPHQL_RESPONSE),
    ):
        response = await post(http, {"query": COUNT}, Accept=accept)
        assert response.status_code == 200, accept
        assert response.headers["content-type"] == f"{media_type}; charset=utf-8", accept
    for accept in ("text/plain", "application/json;q=0", "application/xml, text/html"):
        refused = await post(http, {"query": COUNT}, Accept=accept)
        assert refused.headers["content-type"] == f"{JSON}; charset=utf-8"
        request_error(refused, 406, "NOT_ACCEPTABLE")


async def test_get(http: httpx.AsyncClient, db: Database) -> None:
    listed = await http.get("/graphql", params={"query": COUNT}, headers=MODERN)
    assert listed.status_code == 200 and listed.json()["data"]["threads"]["totalCount"] == 0
    assert listed.headers["content-type"].startswith(GRAPHQL_RESPONSE)
    typed = await http.get(
        "/graphql",
        params={
            "query": "query($n: Int) { threads(first: $n) { totalCount } }",
            "variables": '{"n": 1}',
        },
    )
    assert typed.json()["data"]["threads"]["totalCount"] == 0
    for headers in ({}, MODERN, LEGACY):
        for params in (
            {"query": CREATE},
            {
                "query": f"query Q {{ __typename }} {CREATE.replace('mutation', 'mutation M')}",
                "operationName": "M",
            },
        ):
            refused = await http.get("/graphql", params=params, headers=headers)
            assert refused.headers["allow"] == "POST"
            request_error(refused, 405, "METHOD_NOT_ALLOWED")
    assert await db[store.THREADS].count_documents({}) == 0, "nothing was written"
    # The query of a document that also holds a mutation runs over GET.
    both = f"query Q {{ __typename }} {CREATE.replace('mutation', 'mutation M')}"
    picked = await http.get("/graphql", params={"query": both, "operationName": "Q"})
    assert picked.json()["data"] == {"__typename": "Query"}


JSON_TYPE = {"Content-Type": "application/json"}
# (case, method, request arguments, status, code, words in the message)
# fmt: off
REQUEST_ERRORS: list[tuple[str, str, dict[str, Any], int, str, str]] = [
    ("null body", "POST", {"content": b"null", "headers": JSON_TYPE}, 400, "BAD_REQUEST", "object"),
    ("string body", "POST", {"content": b'"str"', "headers": JSON_TYPE}, 400, "BAD_REQUEST", "object"),
    ("number body", "POST", {"content": b"123", "headers": JSON_TYPE}, 400, "BAD_REQUEST", "object"),
    ("true body", "POST", {"content": b"true", "headers": JSON_TYPE}, 400, "BAD_REQUEST", "object"),
    ("empty array", "POST", {"content": b"[]", "headers": JSON_TYPE}, 400, "BAD_REQUEST", "Batching"),
    ("batch", "POST", {"json": [{"query": COUNT}, {"query": COUNT}]}, 400, "BAD_REQUEST", "Batching"),
    ("invalid JSON", "POST", {"content": b'{"query": ', "headers": JSON_TYPE}, 400, "BAD_REQUEST", "JSON"),
    ("empty body", "POST", {"headers": JSON_TYPE}, 400, "BAD_REQUEST", "JSON"),
    ("not UTF-8", "POST", {"content": b'{"query": "\xff"}', "headers": JSON_TYPE}, 400, "BAD_REQUEST", "UTF-8"),
    ("nested 100,000 deep", "POST", {"content": b"[" * 100_000, "headers": JSON_TYPE}, 400, "BAD_REQUEST", "JSON"),
    ("form POST", "POST", {"data": {"query": COUNT}}, 400, "BAD_REQUEST", "Content-Type"),
    ("text/plain POST", "POST", {"content": COUNT, "headers": {"Content-Type": "text/plain"}}, 400, "BAD_REQUEST", "Content-Type"),
    ("no Content-Type", "POST", {"content": json.dumps({"query": COUNT})}, 400, "BAD_REQUEST", "Content-Type"),
    ("no query", "POST", {"json": {"variables": {}}}, 400, "BAD_REQUEST", "query"),
    ("null query", "POST", {"json": {"query": None}}, 400, "BAD_REQUEST", "query"),
    ("empty query", "POST", {"json": {"query": ""}}, 400, "BAD_REQUEST", "query"),
    ("misspelt query", "POST", {"json": {"qeury": COUNT}}, 400, "BAD_REQUEST", "query"),
    ("number query", "POST", {"json": {"query": 1}}, 400, "BAD_REQUEST", "string"),
    ("object query", "POST", {"json": {"query": {"a": 1}}}, 400, "BAD_REQUEST", "string"),
    ("string variables", "POST", {"json": {"query": COUNT, "variables": "{}"}}, 400, "BAD_REQUEST", "variables"),
    ("array variables", "POST", {"json": {"query": COUNT, "variables": [1]}}, 400, "BAD_REQUEST", "variables"),
    ("false variables", "POST", {"json": {"query": COUNT, "variables": False}}, 400, "BAD_REQUEST", "variables"),
    ("string extensions", "POST", {"json": {"query": COUNT, "extensions": "x"}}, 400, "BAD_REQUEST", "extensions"),
    ("number operationName", "POST", {"json": {"query": COUNT, "operationName": 0}}, 400, "BAD_REQUEST", "operationName"),
    ("unknown operationName", "POST", {"json": {"query": "query A { __typename }", "operationName": "B"}}, 400, "BAD_REQUEST", '"B"'),
    ("no operation", "POST", {"json": {"query": "fragment F on Query { __typename }"}}, 400, "BAD_REQUEST", "no operation"),
    ("several operations", "POST", {"json": {"query": f"{CREATE.replace('mutation', 'mutation A')} query B {{ __typename }}"}}, 400, "BAD_REQUEST", "operationName"),
    ("several operations, 30,000 chars", "POST", {"json": {"query": "#" + "x" * 30_000 + "\nquery A { __typename } query B { __typename }"}}, 400, "BAD_REQUEST", "operationName"),
    ("subscription over POST", "POST", {"json": {"query": SUBSCRIBE}}, 400, "BAD_REQUEST", "graphql-transport-ws"),
    ("subscription over GET", "GET", {"params": {"query": SUBSCRIBE}}, 400, "BAD_REQUEST", "WebSocket"),
    ("GET without query", "GET", {}, 400, "BAD_REQUEST", "query"),
    ("GET variables not JSON", "GET", {"params": {"query": COUNT, "variables": "{"}}, 400, "BAD_REQUEST", "variables"),
    ("GET variables array", "GET", {"params": {"query": COUNT, "variables": "[]"}}, 400, "BAD_REQUEST", "variables"),
    ("GET mutation", "GET", {"params": {"query": CREATE}}, 405, "METHOD_NOT_ALLOWED", "POST"),
    ("DELETE", "DELETE", {}, 405, "METHOD_NOT_ALLOWED", "POST"),
    ("PUT", "PUT", {"json": {"query": COUNT}}, 405, "METHOD_NOT_ALLOWED", "POST"),
]
# fmt: on


@pytest.mark.parametrize(
    ("case", "method", "arguments", "status", "code", "words"),
    REQUEST_ERRORS,
    ids=[c[0] for c in REQUEST_ERRORS],
)
async def test_request_errors(
    http: httpx.AsyncClient,
    db: Database,
    case: str,
    method: str,
    arguments: dict[str, Any],
    status: int,
    code: str,
    words: str,
) -> None:
    for accept, media_type in (({}, JSON), (MODERN, GRAPHQL_RESPONSE)):
        headers = {**arguments.get("headers", {}), **accept}
        response = await http.request(method, "/graphql", **{**arguments, "headers": headers})
        assert response.headers["content-type"] == f"{media_type}; charset=utf-8", case
        body = request_error(response, status, code)
        assert words in body["errors"][0]["message"], body
        if status == 405:
            assert response.headers["allow"] in ("POST", "GET, POST")
    assert await db[store.THREADS].count_documents({}) == 0, "nothing ran"


async def test_operation_name(http: httpx.AsyncClient) -> None:
    document = "query A { a: __typename } query B { b: __typename }"
    for name, data in (("A", {"a": "Query"}), ("B", {"b": "Query"})):
        response = await post(http, {"query": document, "operationName": name}, **MODERN)
        assert response.json()["data"] == data
    for absent in (None, ""):  # the one operation runs
        response = await post(http, {"query": "query A { __typename }", "operationName": absent})
        assert response.json()["data"] == {"__typename": "Query"}
    for null in ("variables", "extensions", "operationName"):
        response = await post(http, {"query": COUNT, null: None}, **MODERN)
        assert response.status_code == 200 and "errors" not in response.json()


async def test_request_errors_are_logged(
    http: httpx.AsyncClient, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level("INFO", logger="app.requests")
    response = await http.post("/graphql", content=b"[]", headers=JSON_TYPE)
    line = json.loads(caplog.records[-1].getMessage())
    assert line["requestId"] == response.headers["x-request-id"]
    assert line["status"] == 400 and line["errors"] == ["BAD_REQUEST"]


@pytest.fixture
async def client(db: Database) -> AsyncIterator[httpx.AsyncClient]:
    async with app_client(db, Settings(request_deadline_seconds=0.5)) as client:
        client.headers["Authorization"] = f"Bearer {await api_key(db)}"
        yield client


async def test_every_answer_carries_the_request_id(
    client: httpx.AsyncClient, db: Database, monkeypatch: pytest.MonkeyPatch
) -> None:
    """200, 400, 401, 404, 405, 406, 413, 500, 503 and 504: the `X-Request-Id` header, and the
    same id in `extensions.requestId`; every error coded, and without `data` when raised
    before GraphQL ran. In both media types."""

    results: list[tuple[int, str | None, httpx.Response]] = [
        (200, None, await post(client, {"query": COUNT})),
        (200, "BAD_USER_INPUT", await post(client, {"query": "{ nope }"})),
        (400, "BAD_REQUEST", await client.post("/graphql", content=b"1", headers=JSON_TYPE)),
        (400, "BAD_USER_INPUT", await post(client, {"query": "{ nope }"}, **MODERN)),
        (405, "METHOD_NOT_ALLOWED", await client.get("/graphql", params={"query": CREATE})),
        (406, "NOT_ACCEPTABLE", await post(client, {"query": COUNT}, Accept="text/csv")),
        (
            413,
            "BAD_USER_INPUT",
            await post(client, {"query": COUNT, "variables": {"x": "x" * 300_000}}),
        ),
    ]
    nobody = {"Authorization": "Bearer sk_nope"}
    results.append((401, "UNAUTHENTICATED", await post(client, {"query": COUNT}, **nobody)))
    async with app_client(db, Settings(app_env="production")) as production:
        production.headers["Authorization"] = client.headers["Authorization"]
        page = await production.get("/graphql", headers={"Accept": "text/html"})
        results.append((404, "NOT_FOUND", page))

    async def down(*args: object, **kwargs: object) -> Any:
        raise ServerSelectionTimeoutError("the database is down")

    async def slow(*args: object, **kwargs: object) -> Any:
        await asyncio.sleep(5)

    async def broken(*args: object, **kwargs: object) -> Any:
        raise RuntimeError("a bug with a secret")

    with monkeypatch.context() as patch:
        patch.setattr(auth, "authenticate", down)  # the key cannot be checked
        results.append((503, "SERVICE_UNAVAILABLE", await post(client, {"query": COUNT})))
    with monkeypatch.context() as patch:
        patch.setattr(store, "fetch_page", down)  # the database goes while the query runs
        query = {"query": "{ threads { nodes { id } } }"}
        results.append((503, "SERVICE_UNAVAILABLE", await post(client, query)))
        results.append((503, "SERVICE_UNAVAILABLE", await post(client, query, **MODERN)))
    with monkeypatch.context() as patch:
        patch.setattr(store, "fetch_page", slow)
        results.append((504, "DEADLINE_EXCEEDED", await post(client, query)))
    with monkeypatch.context() as patch:
        patch.setattr(GraphQLEndpoint, "get_context", broken)  # escapes Strawberry
        results.append((500, "INTERNAL_SERVER_ERROR", await post(client, {"query": COUNT})))

    assert sorted({status for status, _, _ in results}) == [
        200, 400, 401, 404, 405, 406, 413, 500, 503, 504
    ]  # fmt: skip
    for status, code, response in results:
        assert response.status_code == status, (status, response.text)
        assert response.headers["content-type"].endswith("json; charset=utf-8"), status
        body = response.json()
        assert body["extensions"]["requestId"] == response.headers["x-request-id"], status
        codes = [error["extensions"]["code"] for error in body.get("errors", [])]
        assert codes == ([] if code is None else [code]), (status, body)
        if status not in (200, 503):
            assert "data" not in body, (status, body)
        assert "secret" not in response.text and "Traceback" not in response.text


async def test_errors_before_graphql_follow_accept(http: httpx.AsyncClient) -> None:
    response = await http.post(
        "/graphql",
        json={"query": COUNT},
        headers={**MODERN, "Authorization": "Bearer sk_nope"},
    )
    assert response.headers["content-type"] == f"{GRAPHQL_RESPONSE}; charset=utf-8"
    request_error(response, 401, "UNAUTHENTICATED")


@pytest.mark.slow
async def test_the_graphql_over_http_audit(db: Database) -> None:
    """graphql-http's `serverAudits` (clients/audit.mjs) against the app on a real port: every
    audit, MUST, SHOULD and MAY, passes."""
    node = shutil.which("node")
    assert node is not None, "node is needed (the machine has it; see ./scripts/test)"
    if not (CLIENTS / "node_modules" / "graphql-http").is_dir():
        pytest.fail("clients/node_modules is missing: run ./scripts/install-codegen")
    key = await api_key(db)
    async with live_server(db) as base:
        process = await asyncio.create_subprocess_exec(
            node,
            "audit.mjs",
            f"{base}/graphql",
            cwd=CLIENTS,
            env={**os.environ, "GRAPHQL_AUDIT_KEY": key},
            stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.PIPE,
        )
        out, err = await asyncio.wait_for(process.communicate(), timeout=120)
    assert process.returncode == 0, err.decode()
    results = json.loads(out)
    counts = Counter(result["status"] for result in results)
    print(f"graphql-http audit: {len(results)} audits, {dict(counts)}")
    failed = [result for result in results if result["status"] != "ok"]
    for result in failed:
        print(json.dumps(result, indent=2))
    assert len(results) >= 50, "the audit ran"
    assert not failed, f"{len(failed)} audits failed: {[r['id'] + ' ' + r['name'] for r in failed]}"
