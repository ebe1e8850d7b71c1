"""Apollo Client itself (clients/apq.test.mjs, in node) against the live app: automatic
persisted queries by POST and GET, trusted documents, and relayStylePagination paging threads
both ways through Apollo's cache; and the hashes of scripts/register_documents.py are the ones
Apollo's persisted-queries link sends. Needs node and clients/node_modules."""

import asyncio
import json
import os
import shutil
from pathlib import Path
from typing import Any

import pytest

from app import domain, store
from app.services.api_keys import LOCAL_ORGANIZATION
from app.settings import Settings
from app.store import Database
from scripts.register_documents import OPERATIONS, trusted_documents
from tests.helpers.api import Api, api_key
from tests.helpers.backends import ROOT_DIR
from tests.helpers.factories import make_thread
from tests.helpers.live import live_server

CLIENTS = ROOT_DIR / "clients"
NODE = shutil.which("node")

pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(NODE is None, reason="Apollo Client: node is not on this machine"),
]


async def apollo(scenario: str, **env: str) -> dict[str, Any]:
    """Runs a scenario of clients/apq.test.mjs; its report. (A subprocess the event loop waits
    for: the live server runs in the same loop.)"""
    if not (CLIENTS / "node_modules" / "@apollo" / "client").is_dir():
        pytest.fail("clients/node_modules is missing: run ./scripts/install-codegen")
    assert NODE is not None
    process = await asyncio.create_subprocess_exec(
        NODE,
        "apq.test.mjs",
        scenario,
        cwd=CLIENTS,
        env={**os.environ, **env},
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    out, err = await asyncio.wait_for(process.communicate(), timeout=120)
    assert process.returncode == 0, (out + err).decode()
    report: dict[str, Any] = json.loads(out.decode().strip().splitlines()[-1])
    return report


async def test_the_registered_hashes_are_the_ones_apollo_sends() -> None:
    sent = (await apollo("hashes"))["result"]
    assert sent == {d.name: d.sha256 for d in trusted_documents(OPERATIONS.read_text())}


async def test_fragments_in_codegens_order(tmp_path: Path) -> None:
    """Nested and shared fragments: the document rebuilt from the .graphql file is the one
    graphql-codegen generates, as Apollo sends it."""
    operations = """
      fragment A on PageInfo { hasNextPage }
      fragment B on Thread { id title }
      fragment C on Thread { ...B createdAt }
      fragment D on Thread { ...C ...E }
      fragment E on Thread { id }
      query Q1 { threads { pageInfo { ...A } nodes { ...B } } }
      query Q2 { threads { nodes { ...B } pageInfo { ...A } } }
      query Q3 { threads { nodes { ...C } pageInfo { ...A } } }
      query Q4 { threads { nodes { ...B ...C } } }
      query Q5 { threads { nodes { ...D } pageInfo { ...A } } }
      query Q6($id: ID!) { thread(id: $id) { ... on Thread @include(if: true) { ...E } } }
      mutation M($input: DeleteThreadInput!) { deleteThread(input: $input) @skip(if: false) { id } }
    """
    work = tmp_path / "clients"
    work.mkdir()
    shutil.copy(ROOT_DIR / "schema.graphql", tmp_path)
    shutil.copy(CLIENTS / "codegen.ts", work)
    (work / "operations.graphql").write_text(operations)
    (work / "node_modules").symlink_to(CLIENTS / "node_modules")
    assert NODE is not None
    codegen = await asyncio.create_subprocess_exec(
        NODE,
        CLIENTS / "node_modules" / ".bin" / "graphql-codegen",
        "--config",
        "codegen.ts",
        "--silent",
        cwd=work,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.STDOUT,
    )
    output, _ = await asyncio.wait_for(codegen.communicate(), timeout=300)
    assert codegen.returncode == 0, output.decode()
    generated = str(work / "generated" / "graphql.ts")
    sent = (await apollo("hashes", GENERATED=generated))["result"]
    assert sent == {d.name: d.sha256 for d in trusted_documents(operations)}


async def test_automatic_persisted_queries(db: Database) -> None:
    key = await api_key(db)
    async with live_server(db) as base:
        report = await apollo("apq", API_URL=f"{base}/graphql", API_KEY=key)
    # The server's side: the first, hash-only CreateThread ran nothing; each operation is kept
    # for the organization under the hash Apollo sent, as the text the script rebuilds.
    assert await Api(db).ok("{ threads { totalCount } }") == {"threads": {"totalCount": 2}}
    rebuilt = {d.name: d for d in trusted_documents(OPERATIONS.read_text())}
    assert set(report["hashes"]) == {"Threads", "CreateThread", "Thread"}
    for name, sha256 in report["hashes"].items():
        assert sha256 == rebuilt[name].sha256
        kept = await store.find_persisted_query(
            db, sha256=sha256, organization_id=LOCAL_ORGANIZATION, at=domain.now()
        )
        assert kept == rebuilt[name].query
    methods = {(r["operation"], r["method"], r["withQuery"]) for r in report["requests"]}
    assert ("Thread", "GET", False) in methods and ("Thread", "POST", True) in methods


async def test_trusted_documents(db: Database) -> None:
    documents = trusted_documents(OPERATIONS.read_text())
    await store.put_trusted_documents(db, documents, at=domain.now(), prune=False)
    key = await api_key(db)
    settings = Settings(app_env="production", trusted_documents_only=True)
    async with live_server(db, settings) as base:
        report = await apollo("trusted", API_URL=f"{base}/graphql", API_KEY=key)
    assert not [r for r in report["requests"] if r["withQuery"] and r["status"] == 200]
    adhoc = report["hashes"]["Adhoc"]
    for organization_id in (LOCAL_ORGANIZATION, None):
        found = await store.find_persisted_query(
            db, sha256=adhoc, organization_id=organization_id, at=domain.now()
        )
        assert found is None, "nothing is registered in trusted mode"


async def test_relay_style_pagination_in_apollos_cache(db: Database) -> None:
    for n in range(7):
        await make_thread(db, title=f"thread {n}")
    key = await api_key(db)
    async with live_server(db) as base:
        report = await apollo("paging", API_URL=f"{base}/graphql", API_KEY=key)
    listed = await Api(db).ok("{ threads(first: 20) { edges { node { title } } } }")
    newest_first = [edge["node"]["title"] for edge in listed["threads"]["edges"]]
    assert sorted(newest_first) == [f"thread {n}" for n in range(7)]
    for direction in ("forward", "backward"):
        assert report["result"][direction] == {"titles": newest_first, "seen": [3, 6, 7]}
