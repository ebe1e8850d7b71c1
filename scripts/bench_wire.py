"""The benchmark's wire proxy: a TCP proxy between one peer and the database that counts the
commands the peer sends, read from the MongoDB wire protocol itself (OP_MSG, and OP_QUERY for
old-style handshakes), not from the peer's own counters.

Each command is counted under "<name> <collection>" (`find threads`, `aggregate messages`,
`getMore messages`, ...). The driver's handshake and monitoring commands (`hello`,
`isMaster`) are not counted: they are the driver's, never a request's. `capture` keeps the
decoded commands sent while it is on, so the harness can replay the reads with explain."""

import asyncio
import contextlib
import struct
import threading
import time
from collections import Counter
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any

import bson

OP_QUERY, OP_MSG, OP_COMPRESSED = 2004, 2013, 2012
NOT_COUNTED = frozenset({"hello", "ismaster"})  # lower-cased: isMaster, ismaster


def _cstring(data: bytes, at: int) -> tuple[str, int]:
    end = data.index(b"\x00", at)
    return data[at:end].decode(), end + 1


def decode_command(message: bytes) -> dict[str, Any] | None:
    """The command a client message carries (its body with document sequences merged in as
    lists), or None for a message that is no command."""
    (op_code,) = struct.unpack_from("<i", message, 12)
    if op_code == OP_MSG:
        (flags,) = struct.unpack_from("<I", message, 16)
        end = len(message) - (4 if flags & 1 else 0)  # checksumPresent
        at, body, sequences = 20, None, {}
        while at < end:
            kind = message[at]
            at += 1
            (size,) = struct.unpack_from("<i", message, at)
            if kind == 0:
                body = bson.decode(message[at : at + size])
                at += size
            else:
                name, docs_at = _cstring(message, at + 4)
                sequences[name] = list(bson.decode_all(message[docs_at : at + size]))
                at += size
        if body is None:
            return None
        return {**body, **sequences}
    if op_code == OP_QUERY:
        collection, at = _cstring(message, 20)
        if not collection.endswith(".$cmd"):
            return None
        at += 8  # numberToSkip, numberToReturn
        (size,) = struct.unpack_from("<i", message, at)
        query = bson.decode(message[at : at + size])
        found: dict[str, Any] = query.get("$query", query)
        return found
    return None


def label(command: dict[str, Any]) -> str:
    name = next(iter(command))
    target = command["collection"] if name == "getMore" else command[name]
    return f"{name} {target}" if isinstance(target, str) else name


@dataclass
class Tally:
    """What one proxy saw: commands by label, and the captured commands."""

    counts: Counter[str] = field(default_factory=Counter)
    capturing: bool = False
    captured: list[dict[str, Any]] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def see(self, message: bytes) -> None:
        op_code = struct.unpack_from("<i", message, 12)[0]
        if op_code == OP_COMPRESSED:
            with self.lock:
                self.counts["(compressed)"] += 1
            return
        command = decode_command(message)
        if command is None:
            return
        name = next(iter(command), "")
        if name.lower() in NOT_COUNTED:
            return
        with self.lock:
            self.counts[label(command)] += 1
            if self.capturing:
                self.captured.append(command)

    def snapshot(self) -> Counter[str]:
        with self.lock:
            return Counter(self.counts)

    @contextlib.contextmanager
    def capture(self) -> Iterator[list[dict[str, Any]]]:
        with self.lock:
            self.captured = []
            self.capturing = True
        try:
            yield self.captured
        finally:
            with self.lock:
                self.capturing = False


async def _pipe(
    reader: asyncio.StreamReader, writer: asyncio.StreamWriter, tally: Tally | None
) -> None:
    try:
        while True:
            if tally is None:
                data = await reader.read(65536)
                if not data:
                    break
                writer.write(data)
            else:
                header = await reader.readexactly(4)
                (length,) = struct.unpack("<i", header)
                message = header + await reader.readexactly(length - 4)
                tally.see(message)
                writer.write(message)
            await writer.drain()
    except (asyncio.IncompleteReadError, ConnectionError):
        pass
    finally:
        with contextlib.suppress(Exception):
            writer.close()


class Proxies:
    """Proxies to one database address, each on its own port, served by one event loop in a
    thread of their own (so that they run while the caller's thread waits on other work)."""

    def __init__(self, host: str, port: int) -> None:
        self.target = (host, port)
        self.loop = asyncio.new_event_loop()
        self.thread = threading.Thread(target=self.loop.run_forever, daemon=True)
        self.thread.start()
        self.servers: list[asyncio.Server] = []

    def open(self) -> tuple[int, Tally]:
        """A new proxy: its port and its tally."""
        tally = Tally()

        async def handle(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
            up_reader, up_writer = await asyncio.open_connection(*self.target)
            await asyncio.gather(_pipe(reader, up_writer, tally), _pipe(up_reader, writer, None))

        async def start() -> int:
            server = await asyncio.start_server(handle, "127.0.0.1", 0)
            self.servers.append(server)
            return int(server.sockets[0].getsockname()[1])

        port = asyncio.run_coroutine_threadsafe(start(), self.loop).result()
        return port, tally

    def close(self) -> None:
        async def stop() -> None:
            for server in self.servers:
                server.close()
            tasks = [t for t in asyncio.all_tasks() if t is not asyncio.current_task()]
            for task in tasks:
                task.cancel()
            await asyncio.gather(*tasks, return_exceptions=True)

        self.loop.set_exception_handler(lambda loop, context: None)  # cancelled pipes
        asyncio.run_coroutine_threadsafe(stop(), self.loop).result()
        self.loop.call_soon_threadsafe(self.loop.stop)
        self.thread.join(timeout=10)


# The API's event hub follows these logs with change streams on its own connections: their
# getMores run beside every request, whatever it does (more often after writes).
WATCHED = ("getMore events", "getMore inbox_events")


def working(tally: Tally) -> int:
    """The commands the proxy has seen, its change streams' getMores aside."""
    return sum(n for label, n in tally.snapshot().items() if label not in WATCHED)


def settle(
    tally: Tally,
    quiet: float = 1.0,
    most: float = 30.0,
    pause: Callable[[float], object] = time.sleep,
) -> None:
    """Wait (by `pause`) until the proxy has seen nothing but change-stream getMores for
    `quiet` seconds, at most `most`: the API's sweeps finish what other writers left (the naive
    peer's messages have no events), which is no request's work."""
    deadline = time.monotonic() + most
    seen, since = working(tally), time.monotonic()
    while time.monotonic() < deadline and time.monotonic() - since < quiet:
        pause(0.1)
        if (now := working(tally)) != seen:
            seen, since = now, time.monotonic()


def per_request(before: Counter[str], after: Counter[str], requests: int) -> dict[str, float]:
    """Commands per request by label, between two snapshots."""
    return {
        name: (after[name] - before[name]) / requests
        for name in sorted(after)
        if after[name] != before[name]
    }


# Replaying captured reads with explain
_DROPPED = {"$db", "lsid", "$clusterTime", "txnNumber", "$readPreference", "apiVersion"}


def _stats(tree: object) -> list[dict[str, Any]]:
    """Every executionStats of an explain output, not looking inside one found."""
    if isinstance(tree, dict):
        if isinstance(tree.get("executionStats"), dict):
            return [tree["executionStats"]]
        return [s for v in tree.values() for s in _stats(v)]
    if isinstance(tree, list):
        return [s for item in tree for s in _stats(item)]
    return []


@dataclass(frozen=True)
class Examined:
    docs: int
    keys: int
    returned: int
    commands: int


def examine(database: Any, commands: list[dict[str, Any]]) -> Examined:
    """Replay each `find` and `aggregate` (a PyMongo Database) with explain("executionStats"):
    the documents and keys they examined, and the documents they return when run."""
    docs = keys = returned = replayed = 0
    for command in commands:
        name = next(iter(command))
        if name not in ("find", "aggregate"):
            continue
        plain = {k: v for k, v in command.items() if k not in _DROPPED}
        explained = database.command({"explain": plain, "verbosity": "executionStats"})
        stats = _stats(explained)
        docs += sum(int(s.get("totalDocsExamined", 0)) for s in stats)
        keys += sum(int(s.get("totalKeysExamined", 0)) for s in stats)
        run = dict(plain)
        if name == "find":
            run["batchSize"] = 1_000_000
            run.pop("singleBatch", None)
        else:
            run["cursor"] = {"batchSize": 1_000_000}
        returned += len(database.command(run)["cursor"]["firstBatch"])
        replayed += 1
    return Examined(docs=docs, keys=keys, returned=returned, commands=replayed)
