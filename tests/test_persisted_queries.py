"""Automatic persisted queries and trusted documents (app/http/persisted.py) over HTTP and the
WebSocket, on both backends; the store's registrations; scripts/register_documents.py.
tests/test_apollo_client.py runs Apollo Client itself against them."""

import json
import uuid
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager, contextmanager
from datetime import timedelta
from functools import partial
from typing import Any

import httpx
import pytest
from mongomock_motor import AsyncMongoMockClient
from starlette.testclient import TestClient, WebSocketTestSession

from app import domain, store
from app.http.persisted import HASH_MISMATCH, NOT_ALLOWED, sha256_hex
from app.main import create_app
from app.services.api_keys import LOCAL_ORGANIZATION, issue_key
from app.settings import Settings
from app.store import Database
from app.store.persisted_queries import PERSISTED_QUERY_TTL
from scripts import register_documents
from tests.helpers.api import api_key, app_client
from tests.helpers.backends import Recorder
from tests.test_storage import READS_AND_WRITES, find_equivalents, stages

COUNT = "query Count { threads { totalCount } }"
FIRST = "query First($first: Int) { threads(first: $first) { totalCount edges { cursor } } }"
# Exactly what Apollo's persisted-queries link looks for before it sends the query.
NOT_FOUND_ERRORS = [
    {"message": "PersistedQueryNotFound", "extensions": {"code": "PERSISTED_QUERY_NOT_FOUND"}}
]
TRUSTED = {
    document.name: document
    for document in register_documents.trusted_documents(register_documents.OPERATIONS.read_text())
}


def persisted(sha256: str, version: object = 1) -> dict[str, Any]:
    return {"persistedQuery": {"version": version, "sha256Hash": sha256}}


async def post(
    client: httpx.AsyncClient,
    query: str | None,
    *,
    sha256: str | None = None,
    variables: dict[str, Any] | None = None,
) -> httpx.Response:
    """A POST: with `query` unless it is None, with the hash `sha256` (default: the query's)."""
    body: dict[str, Any] = {"variables": variables or {}}
    if query is not None:
        body["query"] = query
    if sha256 is not None or query is not None:
        body["extensions"] = persisted(sha256 or sha256_hex(query or ""))
    return await client.post("/graphql", json=body)


async def get(
    client: httpx.AsyncClient,
    query: str | None,
    *,
    sha256: str | None = None,
    variables: dict[str, Any] | None = None,
) -> httpx.Response:
    params: dict[str, str] = {
        "extensions": json.dumps(persisted(sha256 or sha256_hex(query or "")))
    }
    if query is not None:
        params["query"] = query
    if variables:
        params["variables"] = json.dumps(variables)
    return await client.get("/graphql", params=params)


def code(response: httpx.Response) -> str:
    return str(response.json()["errors"][0]["extensions"]["code"])


@asynccontextmanager
async def client_on(
    db: Database, organization_id: str = LOCAL_ORGANIZATION, **settings: Any
) -> AsyncIterator[httpx.AsyncClient]:
    """An HTTP client on an app instance with `settings`, with a key of the organization."""
    async with app_client(db, Settings(app_env="development", **settings)) as client:
        client.headers["Authorization"] = f"Bearer {await api_key(db, organization_id)}"
        yield client


async def trust_the_operations_file(db: Database) -> None:
    await store.put_trusted_documents(db, list(TRUSTED.values()), at=domain.now(), prune=False)


async def test_post_not_found_then_registered_then_found(http: httpx.AsyncClient) -> None:
    missing = await post(http, None, sha256=sha256_hex(COUNT))
    assert missing.status_code == 200
    assert missing.json()["errors"] == NOT_FOUND_ERRORS
    assert missing.headers["cache-control"] == "private, no-store"
    assert missing.json()["extensions"]["requestId"] == missing.headers["x-request-id"]
    registered = await post(http, COUNT)
    assert registered.status_code == 200
    assert registered.json()["data"] == {"threads": {"totalCount": 0}}
    for sha256 in (sha256_hex(COUNT), sha256_hex(COUNT).upper()):
        found = await post(http, None, sha256=sha256)
        assert found.status_code == 200, found.text
        assert found.json()["data"] == {"threads": {"totalCount": 0}}
        assert "errors" not in found.json()


async def test_get_not_found_then_registered_then_found(http: httpx.AsyncClient) -> None:
    await http.post(
        "/graphql", json={"query": "mutation { createThread(input: {}) { thread { id } } }"}
    )
    missing = await get(http, None, sha256=sha256_hex(FIRST), variables={"first": 1})
    assert (missing.status_code, missing.json()["errors"]) == (200, NOT_FOUND_ERRORS)
    registered = await get(http, FIRST, variables={"first": 1})
    assert registered.json()["data"]["threads"]["totalCount"] == 1
    for send in (get, post):
        found = await send(http, None, sha256=sha256_hex(FIRST), variables={"first": 1})
        assert found.status_code == 200, found.text
        assert found.json()["data"]["threads"]["totalCount"] == 1
        assert len(found.json()["data"]["threads"]["edges"]) == 1


async def test_a_hash_that_is_not_the_querys_is_refused(http: httpx.AsyncClient) -> None:
    other = sha256_hex(COUNT + " ")
    for response in (await post(http, COUNT, sha256=other), await get(http, COUNT, sha256=other)):
        assert response.status_code == 400
        assert code(response) == HASH_MISMATCH
    for sha256 in (other, sha256_hex(COUNT)):
        assert (await post(http, None, sha256=sha256)).json()["errors"] == NOT_FOUND_ERRORS


async def test_malformed_persisted_query_extensions(http: httpx.AsyncClient) -> None:
    sha256 = sha256_hex(COUNT)
    for extension in (
        persisted(sha256, version=2),
        persisted(sha256, version=True),
        persisted(sha256[:-1]),
        persisted("z" * 64),
        {"persistedQuery": "yes"},
        {"persistedQuery": {"version": 1}},
    ):
        response = await http.post("/graphql", json={"query": COUNT, "extensions": extension})
        assert response.status_code == 400, extension
        assert code(response) == "BAD_USER_INPUT"


async def test_registrations_belong_to_their_organization(db: Database) -> None:
    async with client_on(db) as mine, client_on(db, "org_other") as theirs:
        await post(mine, COUNT)
        assert "data" in (await post(mine, None, sha256=sha256_hex(COUNT))).json()
        assert (await post(theirs, None, sha256=sha256_hex(COUNT))).json()[
            "errors"
        ] == NOT_FOUND_ERRORS
        await post(theirs, COUNT)
        assert "data" in (await post(theirs, None, sha256=sha256_hex(COUNT))).json()


async def test_two_instances_share_registrations(db: Database) -> None:
    async with client_on(db) as first, client_on(db) as second:
        assert (await post(second, None, sha256=sha256_hex(COUNT))).json()[
            "errors"
        ] == NOT_FOUND_ERRORS
        await post(first, COUNT)
        found = await get(second, None, sha256=sha256_hex(COUNT))
        assert found.json()["data"] == {"threads": {"totalCount": 0}}


async def test_too_large_or_not_graphql_runs_but_is_not_kept(db: Database) -> None:
    large = "query Large { threads { totalCount } }" + " " * 64
    broken = "query Broken { threads { totalCount }"
    async with client_on(db, persisted_query_max_bytes=len(COUNT)) as client:
        ran = await post(client, large)
        assert ran.json()["data"] == {"threads": {"totalCount": 0}}
        assert code(await post(client, broken)) == "BAD_USER_INPUT"  # the syntax error
        for query in (large, broken):
            assert (await post(client, None, sha256=sha256_hex(query))).json()[
                "errors"
            ] == NOT_FOUND_ERRORS
        await post(client, COUNT)  # exactly the limit
        assert "data" in (await post(client, None, sha256=sha256_hex(COUNT))).json()


async def test_registrations_per_organization_are_capped(db: Database) -> None:
    queries = [f"query Q{n} {{ threads {{ totalCount }} }}" for n in range(3)]
    async with (
        client_on(db, persisted_queries_per_organization=2) as mine,
        client_on(db, "org_other", persisted_queries_per_organization=2) as theirs,
    ):
        for query in queries:
            assert (await post(mine, query)).json()["data"] == {"threads": {"totalCount": 0}}
        found = [await post(mine, None, sha256=sha256_hex(query)) for query in queries]
        assert ["data" in response.json() for response in found] == [True, True, False]
        assert found[2].json()["errors"] == NOT_FOUND_ERRORS
        await post(theirs, queries[2])
        assert "data" in (await post(theirs, None, sha256=sha256_hex(queries[2]))).json()


async def test_registrations_expire_and_free_their_place(db: Database) -> None:
    at = domain.now()
    register = partial(store.register_persisted_query, db, organization_id="org_a", limit=1)
    find = partial(store.find_persisted_query, db, organization_id="org_a")
    assert await register(sha256=sha256_hex(COUNT), query=COUNT, at=at)
    assert not await register(sha256=sha256_hex(FIRST), query=FIRST, at=at)
    assert await find(sha256=sha256_hex(FIRST), at=at) is None
    later = at + PERSISTED_QUERY_TTL - timedelta(seconds=1)
    assert await find(sha256=sha256_hex(COUNT), at=later) == COUNT
    expired = at + PERSISTED_QUERY_TTL
    assert await find(sha256=sha256_hex(COUNT), at=expired) is None
    assert await register(sha256=sha256_hex(FIRST), query=FIRST, at=expired)
    assert await find(sha256=sha256_hex(FIRST), at=expired) == FIRST
    # Registering again renews.
    assert not await register(sha256=sha256_hex(COUNT), query=COUNT, at=expired)
    renewed = expired + PERSISTED_QUERY_TTL - timedelta(seconds=1)
    assert await register(sha256=sha256_hex(FIRST), query=FIRST, at=renewed)
    assert await find(sha256=sha256_hex(FIRST), at=renewed + timedelta(seconds=2)) == FIRST


async def test_trusted_documents_only(db: Database) -> None:
    await trust_the_operations_file(db)
    threads = TRUSTED["Threads"]
    async with client_on(db) as open_instance:
        await post(open_instance, COUNT)  # registered by a client while the mode was off
    async with client_on(db, trusted_documents_only=True) as client:
        for response in (
            await post(client, None, sha256=threads.sha256, variables={"first": 2}),
            await get(client, None, sha256=threads.sha256, variables={"first": 2}),
            await post(client, threads.query, variables={"first": 2}),
        ):
            assert response.status_code == 200, response.text
            assert response.json()["data"]["threads"]["totalCount"] == 0
        refused = [
            await client.post("/graphql", json={"query": threads.query}),  # no hash
            await client.get("/graphql", params={"query": threads.query}),
            await client.post(
                "/graphql", content=b"{not json", headers={"content-type": "application/json"}
            ),
            await post(client, None, sha256=sha256_hex(COUNT)),  # registered, not trusted
            await post(client, FIRST),  # registration is refused
            await post(client, None, sha256=sha256_hex(FIRST)),
        ]
        for response in refused:
            assert (response.status_code, code(response)) == (400, NOT_ALLOWED), response.text
        assert code(await post(client, threads.query, sha256=sha256_hex(COUNT))) == HASH_MISMATCH
        mutation = TRUSTED["CreateThread"]
        created = await post(
            client, None, sha256=mutation.sha256, variables={"input": {"title": "t"}}
        )
        assert created.json()["data"]["createThread"]["thread"]["title"] == "t"
    assert (
        await store.find_persisted_query(
            db, sha256=sha256_hex(FIRST), organization_id=LOCAL_ORGANIZATION, at=domain.now()
        )
        is None
    )


async def test_trusted_documents_serve_every_organization_when_the_mode_is_off(
    db: Database,
) -> None:
    await trust_the_operations_file(db)
    async with client_on(db, "org_other") as client:
        found = await post(client, None, sha256=TRUSTED["Threads"].sha256)
        assert found.json()["data"]["threads"]["totalCount"] == 0
        plain = await client.post("/graphql", json={"query": COUNT})
        assert plain.json()["data"] == {"threads": {"totalCount": 0}}


async def test_put_trusted_documents_and_prune(db: Database) -> None:
    documents = list(TRUSTED.values())
    at = domain.now()
    assert await store.put_trusted_documents(db, documents, at=at, prune=True) == []
    assert await store.put_trusted_documents(db, documents, at=at, prune=False) == []
    listed = await store.list_trusted_documents(db)
    assert sorted(d.name for d in listed) == sorted(TRUSTED)
    kept = documents[:2]
    removed = await store.put_trusted_documents(db, kept, at=at, prune=True)
    assert {d.sha256 for d in removed} == {d.sha256 for d in documents[2:]}
    assert {d.sha256 for d in await store.list_trusted_documents(db)} == {d.sha256 for d in kept}
    gone = documents[2]
    assert (
        await store.find_persisted_query(db, sha256=gone.sha256, organization_id=None, at=at)
        is None
    )


def test_register_documents_dry_run(capsys: pytest.CaptureFixture[str]) -> None:
    arguments = register_documents.parser().parse_args(["--dry-run"])
    assert register_documents.main(arguments, Settings()) == 0
    lines = capsys.readouterr().out.splitlines()
    assert lines == [f"would register {d.sha256}  {d.name}" for d in TRUSTED.values()]
    source = register_documents.OPERATIONS.read_text()
    assert len(lines) == source.count("\nquery ") + source.count("\nmutation ") + source.count(
        "\nsubscription "
    )


async def test_persisted_queries_use_indexes(recorded: tuple[Database, Recorder]) -> None:
    db, recorder = recorded
    await trust_the_operations_file(db)
    recorder.commands.clear()
    async with client_on(db, persisted_queries_per_organization=5) as client:
        await post(client, None, sha256=sha256_hex(COUNT))
        await post(client, COUNT)
        await post(client, None, sha256=sha256_hex(COUNT))
        await post(client, None, sha256=TRUSTED["Thread"].sha256, variables={"id": "x"})
    persisted = [
        c
        for c in recorder.commands
        if next(iter(c)) in READS_AND_WRITES and c[next(iter(c))] == store.PERSISTED_QUERIES
    ]
    assert {next(iter(c)) for c in persisted} >= {"find", "aggregate", "update"}
    for command in persisted:
        for find in find_equivalents(command):
            explained = await db.command({"explain": find, "verbosity": "queryPlanner"})
            plan = stages(explained["queryPlanner"]["winningPlan"])
            assert "COLLSCAN" not in plan, (command, plan)


# --- The WebSocket, in trusted mode ---


@contextmanager
def trusted_instance(request: pytest.FixtureRequest) -> Iterator[tuple[TestClient, str]]:
    database: Database | None = None
    settings = Settings(trusted_documents_only=True)
    if request.param == "mongomock":
        database = AsyncMongoMockClient()[f"pq_{uuid.uuid4().hex}"]
    else:
        uri = request.getfixturevalue("secantus_uri")
        settings = Settings(
            trusted_documents_only=True,
            mongodb_uri=uri,
            mongodb_database=f"pq_{uuid.uuid4().hex}",
        )
    with TestClient(create_app(settings, database=database)) as client:
        db = client.app.state.runtime.db  # type: ignore[attr-defined]
        portal = client.portal
        assert portal is not None
        portal.call(trust_the_operations_file, db)
        key = portal.call(partial(issue_key, db, organization_id="org_ws", user_id="u", name="t"))
        yield client, key


@pytest.fixture(params=["mongomock", "secantus"])
def trusted_socket(request: pytest.FixtureRequest) -> Iterator[WebSocketTestSession]:
    with (
        trusted_instance(request) as (client, key),
        client.websocket_connect("/graphql", subprotocols=["graphql-transport-ws"]) as ws,
    ):
        ws.send_json({"type": "connection_init", "payload": {"Authorization": f"Bearer {key}"}})
        assert ws.receive_json()["type"] == "connection_ack"
        yield ws


def test_websocket_subscriptions_must_be_trusted(trusted_socket: WebSocketTestSession) -> None:
    events = TRUSTED["ThreadEvents"]
    missing = "thread_00000000-0000-4000-8000-000000000000"
    adhoc = 'subscription { threadEvents(threadId: "x") { __typename } }'
    subscriptions: list[tuple[str, dict[str, Any]]] = [
        ("text", {"query": events.query}),
        ("hash", {"extensions": persisted(events.sha256)}),
        ("both", {"query": events.query, "extensions": persisted(events.sha256)}),
        ("adhoc", {"query": adhoc}),
        ("nothing", {}),
        ("mismatch", {"query": events.query, "extensions": persisted(sha256_hex(adhoc))}),
    ]
    for id, payload in subscriptions:
        payload = {**payload, "variables": {"threadId": missing}}
        trusted_socket.send_json({"id": id, "type": "subscribe", "payload": payload})
        answer = trusted_socket.receive_json()
        assert answer["id"] == id
        if id in ("text", "hash", "both"):  # it ran: the thread is not there
            assert answer["type"] == "next", answer
            assert answer["payload"]["errors"][0]["extensions"]["code"] == "NOT_FOUND"
            assert trusted_socket.receive_json() == {"id": id, "type": "complete"}
        else:
            assert answer["type"] == "error", answer
            expected = HASH_MISMATCH if id == "mismatch" else NOT_ALLOWED
            assert answer["payload"][0]["extensions"]["code"] == expected
