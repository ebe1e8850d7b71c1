"""Running it: request ids and logs, masked faults, deadlines, probes, and a database outage."""

import asyncio
import json
import re
from pathlib import Path
from typing import Any

import httpx
import pytest

from app import store
from app.main import create_app
from app.settings import Settings
from app.store import Database
from scripts.embedded import free_port, wait_for_ping
from scripts.embedded import start as start_secantus
from tests.helpers.api import api_key, app_client

QUERY = "query Listing { threads { totalCount } }"


async def test_request_ids_and_the_request_log(
    http: httpx.AsyncClient, caplog: pytest.LogCaptureFixture, request: pytest.FixtureRequest
) -> None:
    caplog.set_level("INFO", logger="app.requests")
    response = await http.post("/graphql", json={"query": QUERY, "operationName": "Listing"})
    request_id = response.headers["x-request-id"]
    extensions = response.json()["extensions"]
    assert extensions["requestId"] == request_id
    line = json.loads(caplog.records[-1].getMessage())
    assert extensions["dbCommands"] == line["dbCommands"], "development shows the count"
    assert line["requestId"] == request_id and line["operation"] == "Listing"
    assert line["status"] == 200 and line["errors"] == [] and line["ms"] >= 0
    if "secantus" in request.node.name:
        # the key lookup, the organization's thread counters, read once for the page and its
        # count (and, the first time, their making: the organization's threads read, its
        # counters by metadata term cleared, its counter document written)
        assert line["dbCommands"] == 5
        await http.post("/graphql", json={"query": QUERY, "operationName": "Listing"})
        # then the counters alone (no thread: no window to read); the key is known for a second
        assert json.loads(caplog.records[-1].getMessage())["dbCommands"] == 1
    bad = await http.post(
        "/graphql",
        json={"query": '{ thread(id: "x") { id } }'},
        headers={"X-Request-Id": "client-chosen-id-1"},
    )
    assert bad.headers["x-request-id"] == "client-chosen-id-1"
    assert json.loads(caplog.records[-1].getMessage())["errors"] == ["BAD_USER_INPUT"]
    odd = await http.post("/graphql", json={"query": QUERY}, headers={"X-Request-Id": "<script>"})
    assert re.fullmatch(r"[0-9a-f]{32}", odd.headers["x-request-id"]), "a fresh id instead"
    assert odd.json()["extensions"]["requestId"] == odd.headers["x-request-id"]


async def test_unexpected_errors_carry_only_the_request_id(
    http: httpx.AsyncClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    async def broken(*args: object, **kwargs: object) -> Any:
        raise RuntimeError("password=hunter2")

    monkeypatch.setattr(store, "fetch_page", broken)
    response = await http.post("/graphql", json={"query": "{ threads { nodes { id } } }"})
    assert response.status_code == 200
    error = response.json()["errors"][0]
    assert error["extensions"] == {
        "code": "INTERNAL_SERVER_ERROR",
        "requestId": response.headers["x-request-id"],
    }
    assert "hunter2" not in response.text and "Traceback" not in response.text


async def test_the_deadline(db: Database, monkeypatch: pytest.MonkeyPatch) -> None:
    async def slow(*args: object, **kwargs: object) -> Any:
        await asyncio.sleep(5)

    async with app_client(db, Settings(request_deadline_seconds=0.3)) as client:
        client.headers["Authorization"] = f"Bearer {await api_key(db)}"
        monkeypatch.setattr(store, "fetch_page", slow)
        response = await client.post("/graphql", json={"query": "{ threads { totalCount } }"})
        assert response.status_code == 504
        assert response.json()["errors"][0]["extensions"] == {"code": "DEADLINE_EXCEEDED"}
        assert response.json()["extensions"]["requestId"] == response.headers["x-request-id"]


async def test_probes(http: httpx.AsyncClient) -> None:
    assert (await http.get("/healthz")).json() == {"status": "ok"}
    ready = await http.get("/readyz")
    assert ready.status_code == 200 and ready.json() == {"database": "ok"}


async def call(
    client: httpx.AsyncClient, query: str, variables: dict[str, Any] | None = None
) -> httpx.Response:
    return await client.post("/graphql", json={"query": query, "variables": variables or {}})


@pytest.mark.slow
async def test_database_outage_and_recovery(tmp_path: Path) -> None:
    port = free_port()
    uri = f"mongodb://127.0.0.1:{port}"
    server = start_secantus(port, str(tmp_path / "db"))
    try:
        wait_for_ping(uri)
        settings = Settings(mongodb_uri=uri, mongodb_database="outage", mongodb_timeout_ms=600)
        app = create_app(settings)
        async with app.router.lifespan_context(app):
            transport = httpx.ASGITransport(app=app)
            async with httpx.AsyncClient(transport=transport, base_url="http://test") as client:
                key = await api_key(app.state.runtime.db)
                client.headers["Authorization"] = f"Bearer {key}"
                created = await call(
                    client,
                    'mutation { createThread(input: {title: "kept", messages: [{content: "a"}, {content: "b"}]}) { thread { id } } }',
                )
                thread_id = created.json()["data"]["createThread"]["thread"]["id"]

                server.terminate()
                server.wait(timeout=20)
                for query in (
                    'mutation($t: ID!) { createMessage(input: {threadId: $t, content: "lost?"}) { message { id } } }',
                    "query($t: ID!) { thread(id: $t) { title } }",
                ):
                    response = await call(client, query, {"t": thread_id})
                    assert response.status_code == 503, response.text
                    body = response.json()
                    assert body["errors"][0]["extensions"]["code"] == "SERVICE_UNAVAILABLE"
                    assert "Traceback" not in response.text and "pymongo" not in response.text
                assert (await client.get("/healthz")).status_code == 200
                assert (await client.get("/readyz")).status_code == 503

                server = start_secantus(port, str(tmp_path / "db"))
                wait_for_ping(uri)
                for _ in range(50):
                    response = await call(
                        client,
                        "query($t: ID!) { thread(id: $t) { title messageCount } }",
                        {"t": thread_id},
                    )
                    if response.status_code == 200:
                        break
                    await asyncio.sleep(0.2)
                assert response.json()["data"]["thread"] == {"title": "kept", "messageCount": 2}
                assert (await client.get("/readyz")).status_code == 200
                after = await call(
                    client,
                    'mutation($t: ID!) { createMessage(input: {threadId: $t, content: "c"}) { thread { messageCount } } }',
                    {"t": thread_id},
                )
                assert after.json()["data"]["createMessage"]["thread"]["messageCount"] == 3
    finally:
        server.terminate()
        server.wait(timeout=20)
