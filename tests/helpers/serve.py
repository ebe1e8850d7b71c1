"""`./scripts/serve` as a user runs it: on free ports, with its own data directory."""

import contextlib
import os
import re
import signal
import socket
import subprocess
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import httpx

from scripts.embedded import free_port
from tests.helpers.backends import ROOT_DIR


def listening(port: int) -> bool:
    with socket.socket() as sock:
        return sock.connect_ex(("127.0.0.1", port)) == 0


@contextmanager
def serving(data_dir: Path, *args: str) -> Iterator[tuple[httpx.Client, str]]:
    """An HTTP client sending the local key serve prints, and the key; on exit, Ctrl-C (SIGINT
    to serve's process group) must stop the API and the embedded database."""
    port, db_port = free_port(), free_port()
    env = {**os.environ, "DATA_DIR": str(data_dir), "PORT": str(port), "DB_PORT": str(db_port)}
    env.pop("MONGODB_URI", None)  # so that serve starts the embedded database on DB_PORT
    log_path = data_dir / "serve.log"
    with log_path.open("w") as log:
        process = subprocess.Popen(
            [ROOT_DIR / "scripts" / "serve", *args],
            env=env,
            start_new_session=True,
            stdout=log,
            stderr=subprocess.STDOUT,
        )
    try:
        deadline = time.monotonic() + 180
        while not listening(port):
            assert process.poll() is None, f"scripts/serve exited:\n{log_path.read_text()}"
            assert time.monotonic() < deadline, f"serve did not start:\n{log_path.read_text()}"
            time.sleep(0.2)
        printed = re.search(r"Bearer (sk_\S+)\"", log_path.read_text())
        assert printed, "scripts/serve prints the local key with a GraphiQL hint"
        key = printed.group(1)
        assert (data_dir / "local-api-key").read_text().strip() == key
        headers = {"Authorization": f"Bearer {key}"}
        with httpx.Client(base_url=f"http://127.0.0.1:{port}", headers=headers, timeout=10) as http:
            yield http, key
    finally:
        stopped = _stop(process)
    assert stopped, "Ctrl-C stops serve"
    deadline = time.monotonic() + 10
    while listening(port) or listening(db_port):
        assert time.monotonic() < deadline, "Ctrl-C stops both processes"
        time.sleep(0.1)


def _stop(process: subprocess.Popen[bytes]) -> bool:
    """Ctrl-C to serve's process group; SIGKILL if that did not stop it. Whether Ctrl-C did."""
    for sig in (signal.SIGINT, signal.SIGKILL):
        with contextlib.suppress(ProcessLookupError):
            os.killpg(process.pid, sig)
        try:
            process.wait(timeout=60)  # the embedded server checkpoints its data as it stops
            return sig == signal.SIGINT
        except subprocess.TimeoutExpired:
            continue
    return False
