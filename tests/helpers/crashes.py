"""Crashes at a chosen database call (the driver's method raises, or runs something first), and
the API as a process of its own, to kill."""

import os
import subprocess
import sys
import time
from collections.abc import Awaitable, Callable, Iterator
from contextlib import contextmanager
from typing import Any

import pytest

from app.store import Database
from scripts.embedded import free_port
from tests.helpers.backends import ROOT_DIR
from tests.helpers.serve import listening


class Crash(Exception):
    pass


def crash_on(
    monkeypatch: pytest.MonkeyPatch,
    db: Database,
    collection: str,
    method: str,
    before: Callable[[], Awaitable[None]] | None = None,
    skip: int = 0,
) -> None:
    """Make the call after `skip` calls of `method` on `collection` raise (or run `before`)."""
    cls = type(db[collection])
    original = getattr(cls, method)
    state = {"calls": 0}

    async def patched(self: Any, *args: Any, **kwargs: Any) -> Any:
        if self.name == collection:
            state["calls"] += 1
        if self.name == collection and state["calls"] == skip + 1:
            if before is None:
                raise Crash(f"{collection}.{method}")
            await before()
        return await original(self, *args, **kwargs)

    monkeypatch.setattr(cls, method, patched)


@contextmanager
def api_process(
    uri: str, database: str, **settings: str
) -> Iterator[tuple[subprocess.Popen[bytes], str]]:
    """The API as its own process (uvicorn) on `database` of the server at `uri`, and its base
    URL, serving on a free port until the block ends (or until the test kills it)."""
    port = free_port()
    # No admission limit unless asked: these runs load the API to crash it amid many writes.
    admission = {"MAX_REQUESTS_IN_FLIGHT": "0"}
    env = {**os.environ, "MONGODB_URI": uri, "MONGODB_DATABASE": database, **admission, **settings}
    process = subprocess.Popen(
        [sys.executable, "-m", "uvicorn", "app.main:create_app", "--factory", "--port", str(port)],
        env=env,
        cwd=ROOT_DIR,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        deadline = time.monotonic() + 60
        while not listening(port):
            assert process.poll() is None, "the API exited"
            assert time.monotonic() < deadline, "the API did not start"
            time.sleep(0.1)
        yield process, f"http://127.0.0.1:{port}"
    finally:
        if process.poll() is None:
            process.terminate()
        process.wait(timeout=30)
