"""Fixtures: every database test runs on mongomock-motor and on the embedded server (and on
MONGODB_URI when set), through the schema or over HTTP. Helpers live in tests/helpers/."""

import os
from collections.abc import AsyncIterator, Iterator

import httpx
import pytest

from app.store import Database
from tests.helpers.api import Api, api_key, app_client
from tests.helpers.backends import (
    BACKENDS,
    REAL_BACKENDS,
    Recorder,
    backend_uri,
    close_backend,
    embedded_server,
    open_backend,
)

# Apps come and go by the hundred here: frozen, each would stay in memory for good. (The test
# of the setting itself turns it on.)
os.environ["GC_FREEZE"] = "false"


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Tests that use the embedded server are marked `embedded`; the real-server runs of tests
    that run on every backend are marked `slow` too."""
    for item in items:
        callspec = getattr(item, "callspec", None)
        params = callspec.params if callspec else {}
        backend = params.get("db_backend")
        fixtures = set(getattr(item, "fixturenames", ()))
        if backend in REAL_BACKENDS or fixtures & {"secantus_uri", "real_db", "recorded"}:
            item.add_marker(pytest.mark.embedded)
        # A test that runs on every backend repeats its mongomock run on the real server: that
        # run is left to the full suite. What only a real server shows (explain, commands on
        # the wire: `real_db`, `recorded`) stays in the inner loop.
        repeated = {k: v for k, v in params.items() if k not in ("real_db", "recorded")}
        if any(value in REAL_BACKENDS for value in repeated.values()):
            item.add_marker(pytest.mark.slow)


@pytest.fixture(scope="session")
def secantus_uri() -> Iterator[str]:
    with embedded_server() as uri:
        yield uri


@pytest.fixture(params=BACKENDS)
def db_backend(request: pytest.FixtureRequest) -> str:
    return str(request.param)


@pytest.fixture
async def db(request: pytest.FixtureRequest, db_backend: str) -> AsyncIterator[Database]:
    database = await open_backend(backend_uri(request, db_backend))
    yield database
    await close_backend(database)


@pytest.fixture(params=REAL_BACKENDS)
async def real_db(request: pytest.FixtureRequest) -> AsyncIterator[Database]:
    """A real wire-protocol server: for what mongomock cannot show (explain, monitoring)."""
    database = await open_backend(backend_uri(request, request.param))
    yield database
    await close_backend(database)


@pytest.fixture(params=REAL_BACKENDS)
async def recorded(request: pytest.FixtureRequest) -> AsyncIterator[tuple[Database, Recorder]]:
    """A real server's database whose commands are recorded."""
    recorder = Recorder()
    database = await open_backend(backend_uri(request, request.param), listeners=[recorder])
    yield database, recorder
    await close_backend(database)


@pytest.fixture
def api(db: Database) -> Api:
    return Api(db)


@pytest.fixture
async def http(db: Database) -> AsyncIterator[httpx.AsyncClient]:
    """An HTTP client on the app, sending a key of the local organization."""
    async with app_client(db) as client:
        client.headers["Authorization"] = f"Bearer {await api_key(db)}"
        yield client
