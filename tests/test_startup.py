"""Start-up with the database down: the API starts, says so on /readyz within a second, and
becomes ready once the database answers; no traceback."""

import asyncio
import gc
import os
import subprocess
import sys
import time
import uuid
from pathlib import Path

import httpx
import pytest
from mongomock_motor import AsyncMongoMockClient

from app import store
from app.main import create_app
from app.services.api_keys import LOCAL_ORGANIZATION, LOCAL_USER, issue_key
from app.settings import Settings
from scripts.embedded import free_port, start, wait_for_ping
from tests.helpers.serve import listening

BIN = Path(sys.executable).parent


async def test_readyz_answers_quickly_while_the_database_is_down() -> None:
    settings = Settings(mongodb_uri=f"mongodb://127.0.0.1:{free_port()}")
    app = create_app(settings)
    started = time.monotonic()
    async with app.router.lifespan_context(app):
        assert time.monotonic() - started < 2, "the lifespan does not wait for the database"
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://test") as http:
            assert (await http.get("/healthz")).status_code == 200
            asked = time.monotonic()
            ready = await http.get("/readyz")
            assert ready.status_code == 503 and ready.json() == {"database": "starting"}
            assert time.monotonic() - asked < 1


async def issue(uri: str, name: str) -> str:
    db = store.open_database(uri, name, timeout_ms=5_000)
    try:
        return await issue_key(db, organization_id=LOCAL_ORGANIZATION, user_id=LOCAL_USER, name="t")
    finally:
        store.close_database(db)


@pytest.mark.slow
def test_the_api_starts_before_its_database(tmp_path: Path) -> None:
    port, db_port = free_port(), free_port()
    uri = f"mongodb://127.0.0.1:{db_port}"
    name = f"test_{uuid.uuid4().hex}"
    env = {**os.environ, "MONGODB_URI": uri, "MONGODB_DATABASE": name, "MONGODB_TIMEOUT_MS": "500"}
    log_path = tmp_path / "api.log"
    command = [str(BIN / "uvicorn"), "app.main:create_app", "--factory", "--port", str(port)]
    command += ["--http", "app.http.server:GuardedH11Protocol"]
    with log_path.open("w") as log:
        api = subprocess.Popen(command, env=env, stdout=log, stderr=subprocess.STDOUT)
    database: subprocess.Popen[bytes] | None = None
    try:
        deadline = time.monotonic() + 60
        while not listening(port):
            assert api.poll() is None, f"the API exited:\n{log_path.read_text()}"
            assert time.monotonic() < deadline, log_path.read_text()
            time.sleep(0.05)
        with httpx.Client(base_url=f"http://127.0.0.1:{port}", timeout=5) as http:
            asked = time.monotonic()
            assert http.get("/healthz").status_code == 200
            assert http.get("/readyz").status_code == 503
            assert time.monotonic() - asked < 1, "both probes answer within a second"
            time.sleep(2.5)  # failed start-up attempts, 0.5 s each
            asked = time.monotonic()
            assert http.get("/readyz").status_code == 503
            assert time.monotonic() - asked < 1

            database = start(db_port, ":memory:")
            wait_for_ping(uri)
            deadline = time.monotonic() + 60
            while (ready := http.get("/readyz")).status_code != 200:
                assert time.monotonic() < deadline, log_path.read_text()
                time.sleep(0.2)
            assert ready.json() == {"database": "ok"}
            key = asyncio.run(issue(uri, name))
            answer = http.post(
                "/graphql",
                json={"query": "{ threads { totalCount } }"},
                headers={"Authorization": f"Bearer {key}"},
            )
            assert answer.json() == {
                "data": {"threads": {"totalCount": 0}},
                "extensions": answer.json()["extensions"],
            }
    finally:
        api.terminate()
        api.wait(timeout=30)
        if database is not None:
            database.kill()
            database.wait(timeout=20)
    logged = log_path.read_text()
    assert "the database is unavailable; retrying" in logged
    assert "Traceback" not in logged, logged


async def test_a_started_app_freezes_what_is_alive_and_collects_less_often() -> None:
    settings = Settings(app_env="production", gc_freeze=True, gc_young_threshold=12_345)
    before = gc.get_threshold()
    app = create_app(settings, database=AsyncMongoMockClient()["gc"])
    try:
        async with app.router.lifespan_context(app):
            assert gc.get_freeze_count() > 0
            assert gc.get_threshold()[0] == 12_345
    finally:
        gc.unfreeze()
        gc.set_threshold(*before)
