"""Fixtures: every database test runs on mongomock-motor and on the embedded server (and on
MONGODB_URI when set), through the store or through the schema."""

import os
import uuid
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import pytest
from mongomock_motor import AsyncMongoMockClient
from pymongo import monitoring
from strawberry.types import ExecutionResult

from app import store
from app.auth import LOCAL_ORGANIZATION, LOCAL_USER, Caller, issue_key
from app.context import build_context
from app.main import create_app
from app.middleware import count_command
from app.schema import schema
from app.settings import Settings
from app.store import Database
from scripts.embedded import free_port, wait_for_ping
from scripts.embedded import start as start_secantus

ROOT_DIR = Path(__file__).parent.parent
BACKENDS = ["mongomock", "secantus"] + (["mongodb"] if os.environ.get("MONGODB_URI") else [])
REAL_BACKENDS = BACKENDS[1:]


@pytest.fixture(scope="session")
def secantus_uri() -> Iterator[str]:
    port = free_port()
    process = start_secantus(port, ":memory:")
    uri = f"mongodb://127.0.0.1:{port}"
    try:
        wait_for_ping(uri)
        yield uri
    finally:
        process.terminate()
        process.wait(timeout=20)


def backend_uri(request: pytest.FixtureRequest, backend: str) -> str:
    if backend == "secantus":
        return str(request.getfixturevalue("secantus_uri"))
    return os.environ["MONGODB_URI"]


async def open_backend(request: pytest.FixtureRequest, backend: str) -> Database:
    if backend == "mongomock":
        db: Database = AsyncMongoMockClient()[f"test_{uuid.uuid4().hex}"]
    else:
        uri = backend_uri(request, backend)
        db = store.open_database(
            uri,
            f"test_{uuid.uuid4().hex}",
            timeout_ms=5_000,
            listeners=[store.CommandCounter(count_command)],
        )
    await store.ensure_indexes(db)
    return db


async def close_backend(db: Database) -> None:
    await db.client.drop_database(db.name)
    db.client.close()


@pytest.fixture(params=BACKENDS)
async def db(request: pytest.FixtureRequest) -> AsyncIterator[Database]:
    database = await open_backend(request, request.param)
    yield database
    await close_backend(database)


@pytest.fixture(params=REAL_BACKENDS)
async def real_db(request: pytest.FixtureRequest) -> AsyncIterator[Database]:
    """A real wire-protocol server: for what mongomock cannot show (explain, monitoring)."""
    database = await open_backend(request, request.param)
    yield database
    await close_backend(database)


class GraphQLErrorResult(AssertionError):
    pass


@dataclass
class Api:
    """Runs operations through `schema.execute`, as one organization and user."""

    db: Database
    organization_id: str = LOCAL_ORGANIZATION
    user_id: str = LOCAL_USER
    results: list[ExecutionResult] = field(default_factory=list)

    async def run(self, query: str, variables: dict[str, Any] | None = None) -> ExecutionResult:
        caller = Caller(organization_id=self.organization_id, user_id=self.user_id, key_id="test")
        context = build_context(self.db, caller)
        return await schema.execute(query, variable_values=variables, context_value=context)

    async def ok(self, query: str, variables: dict[str, Any] | None = None) -> dict[str, Any]:
        result = await self.run(query, variables)
        if result.errors:
            raise GraphQLErrorResult([e.formatted for e in result.errors])
        assert result.data is not None
        return result.data

    async def error(self, query: str, variables: dict[str, Any] | None = None) -> dict[str, Any]:
        """The one error the operation must produce, as a client sees it."""
        result = await self.run(query, variables)
        assert result.errors, f"expected an error, got {result.data}"
        assert len(result.errors) == 1, [e.formatted for e in result.errors]
        return dict(result.errors[0].formatted)


@pytest.fixture
def api(db: Database) -> Api:
    return Api(db)


async def api_key(
    db: Database, organization_id: str = LOCAL_ORGANIZATION, user_id: str = LOCAL_USER
) -> str:
    return await issue_key(db, organization_id=organization_id, user_id=user_id, name="test")


@asynccontextmanager
async def app_client(
    db: Database, settings: Settings | None = None
) -> AsyncIterator[httpx.AsyncClient]:
    """An HTTP client on the ASGI app, its lifespan running, on the test database."""
    app = create_app(settings or Settings(app_env="development"), database=db)
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://test") as client:
            yield client


@pytest.fixture
async def http(db: Database) -> AsyncIterator[httpx.AsyncClient]:
    """An HTTP client on the app, sending a key of the local organization."""
    async with app_client(db) as client:
        client.headers["Authorization"] = f"Bearer {await api_key(db)}"
        yield client


# Commands a driver sends on its own, not for an operation.
HOUSEKEEPING = {"hello", "ismaster", "isMaster", "ping", "endSessions", "buildInfo"}


class Recorder(monitoring.CommandListener):
    """Records every command an operation sends (getMore included)."""

    def __init__(self) -> None:
        self.commands: list[dict[str, Any]] = []

    def started(self, event: monitoring.CommandStartedEvent) -> None:
        command = dict(event.command)
        watching = command.get("collection") == store.EVENTS or "$changeStream" in repr(command)
        if event.command_name not in HOUSEKEEPING and not watching:  # not the app's event hub
            self.commands.append(command)

    def succeeded(self, event: monitoring.CommandSucceededEvent) -> None:
        pass

    def failed(self, event: monitoring.CommandFailedEvent) -> None:
        pass


@pytest.fixture(params=REAL_BACKENDS)
async def recorded(request: pytest.FixtureRequest) -> AsyncIterator[tuple[Database, Recorder]]:
    """A real server's database whose commands are recorded."""
    recorder = Recorder()
    uri = backend_uri(request, request.param)
    name = f"test_{uuid.uuid4().hex}"
    db = store.open_database(uri, name, timeout_ms=10_000, listeners=[recorder])
    await store.ensure_indexes(db)
    yield db, recorder
    await close_backend(db)
