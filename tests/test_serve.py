"""./scripts/serve end to end: embedded database + API over real HTTP, the README's examples,
Ctrl-C stopping both processes, and the data surviving a restart."""

import os
import re
import signal
import socket
import subprocess
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import httpx

from scripts.embedded import free_port

ROOT = Path(__file__).parent.parent
# Every GraphQL example of the README but its subscription (which needs a WebSocket).
README_QUERIES = [
    document
    for document in re.findall(r"```graphql\n(.*?)```", (ROOT / "README.md").read_text(), re.S)
    if not document.startswith("subscription")
]


def listening(port: int) -> bool:
    with socket.socket() as sock:
        return sock.connect_ex(("127.0.0.1", port)) == 0


@contextmanager
def serving(data_dir: Path, *args: str) -> Iterator[tuple[httpx.Client, str]]:
    port, db_port = free_port(), free_port()
    env = {**os.environ, "DATA_DIR": str(data_dir), "PORT": str(port), "DB_PORT": str(db_port)}
    env.pop("MONGODB_URI", None)
    log = (data_dir / "serve.log").open("w")
    process = subprocess.Popen(
        [ROOT / "scripts" / "serve", *args],
        env=env,
        start_new_session=True,
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    try:
        deadline = time.monotonic() + 90
        while not listening(port):
            assert process.poll() is None, "scripts/serve exited early"
            assert time.monotonic() < deadline, "scripts/serve did not start"
            time.sleep(0.2)
        printed = re.search(r"Bearer (sk_\S+)\"", (data_dir / "serve.log").read_text())
        assert printed, "scripts/serve prints the local key with a GraphiQL hint"
        key = printed.group(1)
        assert (data_dir / "local-api-key").read_text().strip() == key
        client = httpx.Client(
            base_url=f"http://127.0.0.1:{port}",
            timeout=10,
            headers={"Authorization": f"Bearer {key}"},
        )
        yield client, key
    finally:
        os.killpg(process.pid, signal.SIGINT)  # what Ctrl-C in a terminal sends
        assert process.wait(timeout=30) is not None
        assert not listening(port) and not listening(db_port), "Ctrl-C stops both processes"


def run(client: httpx.Client, query: str, variables: dict[str, Any] | None = None) -> Any:
    response = client.post("/graphql", json={"query": query, "variables": variables or {}})
    assert response.status_code == 200, response.text
    body = response.json()
    assert "errors" not in body, body
    return body["data"]


def test_serve_answers_readme_examples_and_keeps_data(tmp_path: Path) -> None:
    assert len(README_QUERIES) >= 4
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
        assert total == 4

    with serving(tmp_path, "--demo") as (client, same_key):
        assert same_key == key, "later starts print the same key"
        again = run(
            client,
            "query($id: ID!) { thread(id: $id) { title messageCount } }",
            {"id": created["id"]},
        )
        assert again["thread"] == {"title": created["title"], "messageCount": 2}
        assert run(client, "{ threads { totalCount } }")["threads"]["totalCount"] == total
