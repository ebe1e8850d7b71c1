"""The databases tests run on: mongomock-motor, the embedded server (a separate process), and
MONGODB_URI when set; and a recorder of the commands sent on the wire."""

import os
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pymongo
import pytest
from mongomock_motor import AsyncMongoMockClient
from pymongo import monitoring

from app import store
from app.http.middleware import count_command
from scripts.embedded import free_port, start, wait_for_ping

ROOT_DIR = Path(__file__).parent.parent.parent
BACKENDS = ["mongomock", "secantus"] + (["mongodb"] if os.environ.get("MONGODB_URI") else [])
REAL_BACKENDS = BACKENDS[1:]
# Commands a driver sends on its own, not for an operation.
HOUSEKEEPING = {"hello", "ismaster", "isMaster", "ping", "endSessions", "buildInfo"}


@contextmanager
def embedded_server() -> Iterator[str]:
    """The URI of a throwaway embedded server, running until the block ends."""
    port = free_port()
    process = start(port, ":memory:")
    uri = f"mongodb://127.0.0.1:{port}"
    try:
        wait_for_ping(uri)
        yield uri
    finally:
        process.kill()  # its data is in memory: nothing to keep
        process.wait(timeout=20)


def backend_uri(request: pytest.FixtureRequest, backend: str) -> str | None:
    """The URI of a backend (None for mongomock), starting the embedded server if needed."""
    if backend == "mongomock":
        return None
    if backend == "secantus":
        return str(request.getfixturevalue("secantus_uri"))
    return os.environ["MONGODB_URI"]


async def open_backend(
    uri: str | None, listeners: list[monitoring.CommandListener] | None = None
) -> store.Database:
    """A fresh database with its indexes: on mongomock-motor when `uri` is None."""
    name = f"test_{uuid.uuid4().hex}"
    if uri is None:
        db: store.Database = AsyncMongoMockClient()[name]
    else:
        counter = store.CommandCounter(count_command)
        # 30 s: the long-thread tests insert and remove thousands of messages per command on a
        # shared embedded server that slows as the suite runs.
        db = store.open_database(uri, name, timeout_ms=30_000, listeners=listeners or [counter])
    await store.ensure_indexes(db)
    return db


async def close_backend(db: store.Database) -> None:
    # Dropping a large database (the long-thread tests) can take the embedded server longer
    # than the client's 10 s on a busy machine.
    with pymongo.timeout(120):
        await db.client.drop_database(db.name)
    db.client.close()


class Recorder(store.CommandListenerBase):
    """Records every command an operation sends (getMore included), not the event hub's change
    streams."""

    def __init__(self) -> None:
        self.commands: list[dict[str, Any]] = []

    def started(self, event: monitoring.CommandStartedEvent) -> None:
        command = dict(event.command)
        on = command.get("collection", command.get("killCursors"))
        cursors = event.command_name in ("getMore", "killCursors")
        watching = (cursors and on == store.EVENTS) or ("$changeStream" in repr(command))
        if event.command_name not in HOUSEKEEPING and not watching:
            self.commands.append(command)


async def examined(db: store.Database, command: dict[str, Any]) -> tuple[int, int]:
    """The documents and keys the server examines for a recorded aggregate or find (an index
    scan)."""
    if "find" in command:
        asked: dict[str, Any] = {k: command[k] for k in ("find", "filter", "limit") if k in command}
    else:
        asked = {k: command[k] for k in ("aggregate", "pipeline")} | {"cursor": {}}
    explained = await db.command({"explain": asked, "verbosity": "executionStats"})
    assert "COLLSCAN" not in repr(explained["queryPlanner"]["winningPlan"])
    stats = explained["executionStats"]
    return int(stats["totalDocsExamined"]), int(stats["totalKeysExamined"])


async def docs_examined(db: store.Database, command: dict[str, Any]) -> int:
    """The documents the server examines for a recorded aggregate (none by a collection scan)."""
    return (await examined(db, command))[0]
