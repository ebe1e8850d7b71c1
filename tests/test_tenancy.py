"""API keys and organizations: nobody sees or touches another organization's threads."""

import asyncio
import os
import secrets
import subprocess
import sys
from typing import Any

import httpx
import pytest

from app import store
from app.domain import Caller
from app.services import api_keys
from app.settings import Settings
from app.store import Database
from tests.helpers.api import api_key, app_client
from tests.helpers.backends import ROOT_DIR, backend_uri

MISSING_THREAD = "thread_00000000-0000-4000-8000-000000000000"
MISSING_MESSAGE = "message_00000000-0000-4000-8000-000000000000"

# Every operation of the schema that names an existing object, as (query, variables) builders.
QUERIES: list[tuple[str, str, Any]] = [
    ("thread", "query($t: ID!) { thread(id: $t) { id } }", None),
    ("message", "query($m: ID!) { message(id: $m) { id } }", None),
    ("node thread", "query($t: ID!) { node(id: $t) { id } }", None),
    ("node message", "query($m: ID!) { node(id: $m) { id } }", None),
    ("nodes", "query($t: ID!, $m: ID!) { nodes(ids: [$t, $m]) { id } }", [None, None]),
    (
        "threads",
        "{ threads { totalCount nodes { title } } }",
        {"totalCount": 1, "nodes": [{"title": "own"}]},
    ),
    (
        "threads of a user",
        '{ threads(filter: {userId: "alice"}) { totalCount } }',
        {"totalCount": 0},
    ),
    (
        "archived threads",
        "{ threads(filter: {state: ARCHIVED}) { totalCount } }",
        {"totalCount": 0},
    ),
    ("the trash", "{ threads(filter: {deleted: true}) { totalCount } }", {"totalCount": 0}),
    (
        "the inbox",
        "{ threads(orderBy: UPDATED_AT) { totalCount nodes { title lastMessage { id } } } }",
        {"totalCount": 1, "nodes": [{"title": "own", "lastMessage": None}]},
    ),
]
MUTATIONS: list[tuple[str, str]] = [
    (
        "updateThread",
        'mutation($t: ID!) { updateThread(input: {id: $t, title: "x"}) { thread { id } } }',
    ),
    (
        "archive",
        "mutation($t: ID!) { updateThread(input: {id: $t, state: ARCHIVED}) { thread { id } } }",
    ),
    ("deleteThread", "mutation($t: ID!) { deleteThread(input: {id: $t}) { id } }"),
    (
        "deleteThread for good",
        "mutation($t: ID!) { deleteThread(input: {id: $t, permanent: true}) { id } }",
    ),
    ("restoreThread", "mutation($t: ID!) { restoreThread(input: {id: $t}) { thread { id } } }"),
    (
        "restoreMessage",
        "mutation($m: ID!) { restoreMessage(input: {id: $m}) { message { id } } }",
    ),
    (
        "edit a message",
        'mutation($m: ID!) { updateMessage(input: {id: $m, content: "x"}) { message { id } } }',
    ),
    ("forkThread", "mutation($t: ID!) { forkThread(input: {threadId: $t}) { thread { id } } }"),
    (
        "createMessage",
        'mutation($t: ID!) { createMessage(input: {threadId: $t, content: "x"}) { message { id } } }',
    ),
    (
        "updateMessage",
        'mutation($m: ID!) { updateMessage(input: {id: $m, metadata: {a: "b"}}) { message { id } } }',
    ),
    ("deleteMessage", "mutation($m: ID!) { deleteMessage(input: {id: $m}) { id } }"),
]


async def post(client: httpx.AsyncClient, key: str, query: str, variables: dict[str, Any]) -> Any:
    response = await client.post(
        "/graphql",
        json={"query": query, "variables": variables},
        headers={"Authorization": f"Bearer {key}"},
    )
    assert response.status_code == 200, response.text
    body = response.json()
    assert body.pop("extensions")["requestId"] == response.headers["x-request-id"]
    return body


async def snapshot(db: Database) -> list[list[dict[str, Any]]]:
    return [
        await db[name].find({}).sort("_id", 1).to_list(None)
        for name in (store.THREADS, store.MESSAGES)
    ]


async def test_cross_tenant_matrix(db: Database) -> None:
    async with app_client(db) as client:
        alice = await api_key(db, "org_a", "alice")
        mallory = await api_key(db, "org_b", "mallory")
        created = await post(
            client,
            alice,
            """mutation { createThread(input: {title: "secret",
            messages: [{content: "hello"}]}) { thread { id messages { nodes { id } } } } }""",
            {},
        )
        thread = created["data"]["createThread"]["thread"]
        real = {"t": thread["id"], "m": thread["messages"]["nodes"][0]["id"]}
        missing = {"t": MISSING_THREAD, "m": MISSING_MESSAGE}
        await post(
            client,
            mallory,
            'mutation { createThread(input: {title: "own"}) { thread { id } } }',
            {},
        )
        before = await snapshot(db)

        for name, query, empty in QUERIES:
            body = await post(client, mallory, query, real)
            assert "errors" not in body, name
            value = next(iter(body["data"].values()))
            assert value == empty if empty is not None else value is None, (name, value)
            assert body == await post(client, mallory, query, missing), name

        for name, mutation in MUTATIONS:
            body = await post(client, mallory, mutation, real)
            assert body["data"] is None and len(body["errors"]) == 1, name
            error = body["errors"][0]
            assert error["extensions"] == {"code": "NOT_FOUND"}, name
            absent = (await post(client, mallory, mutation, missing))["errors"][0]
            for key in ("t", "m"):
                absent["message"] = absent["message"].replace(missing[key], real[key])
            assert error == absent, name

        assert await snapshot(db) == before, "neither organization's data changed"
        own = await post(
            client, alice, "query($t: ID!) { thread(id: $t) { title organizationId userId } }", real
        )
        assert own["data"]["thread"] == {
            "title": "secret",
            "organizationId": "org_a",
            "userId": "alice",
        }


async def test_owner_comes_from_the_key(db: Database) -> None:
    async with app_client(db) as client:
        key = await api_key(db, "org_a", "alice")
        forged = await post(
            client,
            key,
            'mutation { createThread(input: {organizationId: "org_b", userId: "eve"}) { thread { id } } }',
            {},
        )
        assert forged["data"] is None, "neither owner field is accepted"
        assert [e["extensions"] for e in forged["errors"]] == [{"code": "BAD_USER_INPUT"}] * 2
        created = await post(
            client,
            key,
            "mutation { createThread(input: {}) { thread { organizationId userId } } }",
            {},
        )
        assert created["data"]["createThread"]["thread"] == {
            "organizationId": "org_a",
            "userId": "alice",
        }
        changed = await post(
            client,
            key,
            'mutation($t: ID!) { updateThread(input: {id: $t, userId: "eve"}) { thread { id } } }',
            {"t": MISSING_THREAD},
        )
        assert [e["extensions"] for e in changed["errors"]] == [{"code": "BAD_USER_INPUT"}]


async def test_threads_of_one_user(db: Database) -> None:
    async with app_client(db) as client:
        alice, bob = await api_key(db, "org_a", "alice"), await api_key(db, "org_a", "bob")
        for key in (alice, bob, bob):
            await post(client, key, "mutation { createThread(input: {}) { thread { id } } }", {})
        query = "query($u: String) { threads(filter: {userId: $u}) { totalCount } }"
        counts = [
            (await post(client, alice, query, {"u": user}))["data"]["threads"]["totalCount"]
            for user in (None, "alice", "bob", "carol")
        ]
        assert counts == [3, 1, 2, 0]


async def test_unauthenticated_requests_look_alike(db: Database) -> None:
    async with app_client(db) as client:
        good = await api_key(db)
        revoked = await api_key(db)
        await api_keys.revoke_key(db, key_id=revoked.split("_")[1])
        key_id, secret = good.split("_", 2)[1:]
        cases = [
            None,
            "",
            "Basic dXNlcjpwYXNz",
            "Bearer",
            "Bearer ",
            "Bearer nonsense",
            f"Bearer {good}x",
            f"Bearer sk_{key_id}_{secret[::-1]}",
            f"Bearer sk_{secrets.token_hex(8)}_{secrets.token_urlsafe(32)}",
            f"Bearer {revoked}",
            f"Token {good}",
            good,
        ]
        bodies = set()
        for header in cases:
            headers = {} if header is None else {"Authorization": header}
            response = await client.post(
                "/graphql", json={"query": "{ threads { totalCount } }"}, headers=headers
            )
            assert response.status_code == 401, header
            assert response.headers["www-authenticate"].startswith("Bearer")
            assert response.json()["errors"][0]["extensions"] == {"code": "UNAUTHENTICATED"}
            body = response.json()
            assert body.pop("extensions")["requestId"] == response.headers["x-request-id"]
            bodies.add(repr(body))
        assert len(bodies) == 1, "no hint of which case it was"
        over_get = await client.get("/graphql", params={"query": "{ threads { totalCount } }"})
        assert over_get.status_code == 401
        page = await client.get("/graphql", headers={"Accept": "text/html"})
        assert page.status_code == 200, "the GraphiQL page itself needs no key"
        ok = await client.post(
            "/graphql",
            json={"query": "{ threads { totalCount } }"},
            headers={"Authorization": f"bearer {good}"},
        )
        assert ok.status_code == 200
        assert ok.json()["data"] == {"threads": {"totalCount": 0}} and "errors" not in ok.json()


async def test_revocation_takes_effect_within_a_second(db: Database) -> None:
    async with app_client(db) as client:
        key = await api_key(db)
        headers = {"Authorization": f"Bearer {key}"}
        query = {"query": "{ threads { totalCount } }"}
        assert (await client.post("/graphql", json=query, headers=headers)).status_code == 200
        assert await api_keys.revoke_key(db, key_id=key.split("_")[1]) is True
        await asyncio.sleep(1.05)
        assert (await client.post("/graphql", json=query, headers=headers)).status_code == 401


async def test_without_the_cache_revocation_takes_effect_on_the_next_request(
    db: Database,
) -> None:
    settings = Settings(app_env="development", api_key_cache_seconds=0)
    async with app_client(db, settings) as client:
        key = await api_key(db)
        headers = {"Authorization": f"Bearer {key}"}
        query = {"query": "{ threads { totalCount } }"}
        assert (await client.post("/graphql", json=query, headers=headers)).status_code == 200
        assert await api_keys.revoke_key(db, key_id=key.split("_")[1]) is True
        assert (await client.post("/graphql", json=query, headers=headers)).status_code == 401


async def test_keys_are_stored_as_hashes_only(db: Database) -> None:
    keys = [await api_key(db, "org_a", f"user{n}") for n in range(3)]
    stored = await db[store.API_KEYS].find({}).to_list(None)
    assert len(stored) == 3
    text = repr(stored)
    for key in keys:
        secret = key.split("_", 2)[2]
        assert key not in text and secret not in text
        assert api_keys.hash_secret(secret) in text


@pytest.fixture
def cli_env(request: pytest.FixtureRequest, real_db: Database) -> dict[str, str]:
    backend = request.node.callspec.params["real_db"]
    return {
        **os.environ,
        "MONGODB_URI": str(backend_uri(request, backend)),
        "MONGODB_DATABASE": real_db.name,
    }


def apikey(env: dict[str, str], *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "scripts.apikey", *args],
        env=env,
        cwd=ROOT_DIR,
        capture_output=True,
        text=True,
        timeout=60,
    )


@pytest.mark.slow
async def test_apikey_script(real_db: Database, cli_env: dict[str, str]) -> None:
    created = apikey(cli_env, "create", "--org", "org_cli", "--user", "u1", "--name", "ci")
    assert created.returncode == 0, created.stderr
    key = created.stdout.strip()
    assert api_keys.parse_bearer(f"Bearer {key}") == tuple(key.split("_", 2)[1:])
    caller = await api_keys.authenticate(real_db, f"Bearer {key}")
    assert caller == Caller("org_cli", "u1", key.split("_")[1])
    assert key not in repr(await real_db[store.API_KEYS].find({}).to_list(None))
    listed = apikey(cli_env, "list", "--org", "org_cli")
    assert (
        key.split("_")[1] in listed.stdout
        and "active" in listed.stdout
        and key not in listed.stdout
    )
    assert apikey(cli_env, "revoke", key.split("_")[1]).returncode == 0
    assert await api_keys.authenticate(real_db, f"Bearer {key}") is None
    assert "revoked" in apikey(cli_env, "list", "--org", "org_cli").stdout
    assert apikey(cli_env, "revoke", "0123456789abcdef").returncode == 1


async def test_a_revoked_key_stops_working_within_the_cache_time(db: Database) -> None:
    key = await api_keys.issue_key(db, organization_id="org_a", user_id="u", name="cached")
    now = [100.0]
    cache = api_keys.KeyCache(seconds=1.0, clock=lambda: now[0])
    header = f"Bearer {key}"
    assert await api_keys.authenticate(db, header, cache=cache) is not None
    assert await api_keys.revoke_key(db, key_id=key.split("_")[1])
    now[0] += 0.5
    assert await api_keys.authenticate(db, header, cache=cache) is not None, "cached"
    wrong = header[:-1] + ("A" if header[-1] != "A" else "B")
    assert await api_keys.authenticate(db, wrong, cache=cache) is None, "the secret is checked"
    now[0] += 0.6
    assert await api_keys.authenticate(db, header, cache=cache) is None, "revoked after 1 s"
