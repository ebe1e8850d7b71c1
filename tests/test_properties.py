"""Generated operations (hypothesis-graphql, from schema.graphql) never break the server:
no 5xx, no INTERNAL_SERVER_ERROR, no traceback, whatever they ask."""

import asyncio
import os
from contextlib import AsyncExitStack
from pathlib import Path
from typing import Any

import graphql
import httpx
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from hypothesis_graphql import mutations, nodes, queries
from mongomock_motor import AsyncMongoMockClient

from app import store
from tests.helpers.api import api_key, app_client

pytestmark = [pytest.mark.slow]

SCHEMA = (Path(__file__).parent.parent / "schema.graphql").read_text()
EXAMPLES = int(os.environ.get("PROPERTY_EXAMPLES", "500"))
NAMES = st.from_regex(r"[_A-Za-z][_0-9A-Za-z]{0,70}", fullmatch=True)
IDS = st.one_of(
    st.uuids().map(lambda u: f"thread_{u}"),
    st.uuids().map(lambda u: f"message_{u}"),
    st.text(max_size=50),
)


def metadata_literal(pairs: dict[str, str]) -> graphql.ObjectValueNode:
    return nodes.Object(
        [
            graphql.ObjectFieldNode(name=graphql.NameNode(value=key), value=nodes.String(value))
            for key, value in pairs.items()
        ]
    )


SCALARS: dict[str, st.SearchStrategy[Any]] = {
    "Metadata": st.dictionaries(NAMES, st.text(max_size=600), max_size=20).map(metadata_literal),
    "DateTime": st.datetimes().map(lambda moment: nodes.String(moment.isoformat())),
    "ID": IDS.map(nodes.String),
}
OPERATIONS = st.one_of(
    queries(SCHEMA, custom_scalars=SCALARS), mutations(SCHEMA, custom_scalars=SCALARS)
)


def test_generated_operations_never_break_the_server() -> None:
    loop = asyncio.new_event_loop()
    stack = AsyncExitStack()

    async def start() -> httpx.AsyncClient:
        db: store.Database = AsyncMongoMockClient()["properties"]
        await store.ensure_indexes(db)
        client = await stack.enter_async_context(app_client(db))
        client.headers["Authorization"] = f"Bearer {await api_key(db)}"
        await client.post(
            "/graphql",
            json={
                "query": 'mutation { createThread(input: {title: "seed", messages: [{content: "hi"}]}) { thread { id } } }'
            },
        )
        return client

    client = loop.run_until_complete(start())

    @settings(
        max_examples=EXAMPLES,
        deadline=None,
        suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
    )
    @given(operation=OPERATIONS)
    def check(operation: str) -> None:
        response = loop.run_until_complete(client.post("/graphql", json={"query": operation}))
        assert response.status_code < 500, (operation, response.text[:500])
        assert "Traceback" not in response.text and 'File "' not in response.text
        if response.headers.get("content-type", "").startswith("application/json"):
            codes = [e.get("extensions", {}).get("code") for e in response.json().get("errors", [])]
            assert "INTERNAL_SERVER_ERROR" not in codes, (operation, response.text[:500])

    try:
        check()
    finally:
        loop.run_until_complete(stack.aclose())
        loop.close()
