"""The embedded database (SecantusDB), always a separate process: start it and wait for it.
Used by the scripts and the tests; never by `app/`."""

import socket
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

from pymongo import MongoClient
from pymongo.errors import PyMongoError

BIN = Path(sys.executable).parent


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def start(port: int, storage: str, *, cache: str | None = None) -> subprocess.Popen[bytes]:
    """Start the server on 127.0.0.1:`port`, data in `storage` (`:memory:` for none), with a
    storage cache of `cache` (e.g. "4G"; the server's default: 1G)."""
    server = str(BIN / "secantusd-py")
    command = [server, "--host", "127.0.0.1", "--port", str(port), "--storage-path", storage]
    sized = ["--cache-size", cache] if cache else []
    return subprocess.Popen([*command, *sized, "--log-level", "WARNING"])


def wait_for_ping(uri: str, timeout: float = 30) -> None:
    """Return once the server at `uri` answers a ping; raise PyMongoError after `timeout` s."""
    deadline = time.monotonic() + timeout
    while True:
        try:
            client: MongoClient[dict[str, Any]]
            with MongoClient(uri, serverSelectionTimeoutMS=300) as client:
                client.admin.command("ping")
            return
        except PyMongoError:
            if time.monotonic() > deadline:
                raise
            time.sleep(0.1)
