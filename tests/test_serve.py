"""./scripts/serve end to end: embedded database + API over real HTTP, the README's examples,
Ctrl-C stopping both processes, and the data surviving a restart."""

import re
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.helpers.backends import ROOT_DIR
from tests.helpers.serve import serving

pytestmark = [pytest.mark.slow]

# Every GraphQL example of the README but its subscription (which needs a WebSocket).
README_QUERIES = [
    document
    for document in re.findall(r"```graphql\n(.*?)```", (ROOT_DIR / "README.md").read_text(), re.S)
    if not document.startswith("subscription")
]


def run(client: httpx.Client, query: str, variables: dict[str, Any] | None = None) -> Any:
    response = client.post("/graphql", json={"query": query, "variables": variables or {}})
    assert response.status_code == 200, response.text
    body = response.json()
    assert "errors" not in body, body
    return body["data"]


def test_serve_answers_readme_examples_and_keeps_data(tmp_path: Path) -> None:
    assert len(README_QUERIES) == 4
    with serving(tmp_path, "--demo") as (client, key):
        page = client.get("/graphql", headers={"Accept": "text/html"})
        assert page.status_code == 200 and "graphiql" in page.text.lower()
        results = [run(client, query) for query in README_QUERIES]
        created = results[0]["createThread"]["thread"]
        assert created["messageCount"] == 2
        inbox = results[1]["threads"]
        assert inbox["totalCount"] == 2  # the README's thread and the demo's cooking thread
        assert [m["role"] for m in inbox["nodes"][0]["messages"]["nodes"]] == ["USER", "ASSISTANT"]
        total = run(client, "{ threads { totalCount } }")["threads"]["totalCount"]
        assert total == 5, "the README's thread, three demo threads and a demo fork"
        trash = run(client, "{ threads(filter: {deleted: true}) { nodes { title } } }")
        assert trash["threads"]["nodes"] == [{"title": "Old shopping list"}]

    with serving(tmp_path, "--demo") as (client, same_key):
        assert same_key == key, "later starts print the same key"
        again = run(
            client,
            "query($id: ID!) { thread(id: $id) { title messageCount } }",
            {"id": created["id"]},
        )
        assert again["thread"] == {"title": created["title"], "messageCount": 2}
        assert run(client, "{ threads { totalCount } }")["threads"]["totalCount"] == total
