"""A mixed load of concurrent clients on a served API: reads (a page of threads with their
latest messages) and writes (a thread created with two messages), three to one.

Each client is a keep-alive HTTP/1.1 connection spoken by hand: a few microseconds a request,
so that on a small machine the clients do not take the CPU the server is measured with."""

import asyncio
import json
import random
import statistics
import time
from dataclasses import dataclass
from urllib.parse import urlsplit

READ = "{ threads(first: 10) { nodes { title messages(last: 3) { nodes { text } } } } }"
WRITE = "mutation($input: CreateThreadInput!) { createThread(input: $input) { thread { id } } }"
WRITE_INPUT = {
    "title": "load",
    "messages": [
        {"role": "USER", "content": "a question"},
        {"role": "ASSISTANT", "content": "an answer"},
    ],
}


@dataclass(frozen=True)
class Answer:
    path: str
    status: int
    code: str | None
    seconds: float
    retry_after: str | None


class Connection:
    """One keep-alive HTTP/1.1 connection; reopened when the server closes it."""

    def __init__(self, base: str, key: str) -> None:
        url = urlsplit(base)
        self.host, self.port = url.hostname or "127.0.0.1", url.port or 80
        self.key = key
        self.streams: tuple[asyncio.StreamReader, asyncio.StreamWriter] | None = None

    async def request(self, method: str, path: str, body: bytes = b"") -> Answer:
        started = time.perf_counter()
        if self.streams is None:
            self.streams = await asyncio.open_connection(self.host, self.port)
        reader, writer = self.streams
        head = (
            f"{method} {path} HTTP/1.1\r\nHost: {self.host}\r\n"
            f"Authorization: Bearer {self.key}\r\nContent-Type: application/json\r\n"
            f"Content-Length: {len(body)}\r\n\r\n"
        )
        writer.write(head.encode() + body)
        await writer.drain()
        status = int((await reader.readline()).split()[1])
        headers: dict[str, str] = {}
        while (line := await reader.readline()) not in (b"\r\n", b""):
            name, _, value = line.decode("latin-1").partition(":")
            headers[name.strip().lower()] = value.strip()
        content = await reader.readexactly(int(headers["content-length"]))
        took = time.perf_counter() - started
        if headers.get("connection") == "close":
            await self.close()
        errors = json.loads(content).get("errors") or [{}] if content.startswith(b"{") else [{}]
        code = errors[0].get("extensions", {}).get("code")
        return Answer(path, status, code, took, headers.get("retry-after"))

    async def close(self) -> None:
        if self.streams is not None:
            self.streams[1].close()
            self.streams = None


async def drive(
    base: str, key: str, *, clients: int, seconds: float, probes: bool = False
) -> list[Answer]:
    """`clients` clients, each sending its next request as soon as it has the last answer, or
    one to two times the seconds of a 503's Retry-After later; with `probes`, one more client asks /healthz and
    /readyz every 50 ms."""
    answers: list[Answer] = []
    stop = time.monotonic() + seconds
    read = json.dumps({"query": READ}).encode()
    write = json.dumps({"query": WRITE, "variables": {"input": WRITE_INPUT}}).encode()

    async def client(number: int) -> None:
        connection = Connection(base, key)
        sent = number
        while time.monotonic() < stop:
            sent += 1
            answer = await connection.request("POST", "/graphql", write if sent % 4 == 0 else read)
            answers.append(answer)
            if answer.status == 503 and answer.retry_after is not None:
                # As a well-behaved client: no sooner than asked, spread so as not to come back
                # all at once.
                await asyncio.sleep(float(answer.retry_after) * random.uniform(1, 2))
        await connection.close()

    async def prober() -> None:
        connection = Connection(base, key)
        while time.monotonic() < stop:
            for path in ("/healthz", "/readyz"):
                answers.append(await connection.request("GET", path))
            await asyncio.sleep(0.05)
        await connection.close()

    await asyncio.gather(*(client(n) for n in range(clients)), *([prober()] if probes else []))
    return answers


def percentile(values: list[float], q: int) -> float:
    if len(values) < 2:
        return values[0] if values else 0.0
    return statistics.quantiles(values, n=100, method="inclusive")[q - 1]


def summary(answers: list[Answer], seconds: float) -> str:
    queries = [a for a in answers if a.path == "/graphql"]
    ok = [a.seconds for a in queries if a.status == 200]
    refused = [a.seconds for a in queries if a.status == 503]
    others = sorted({a.status for a in queries} - {200, 503})
    return (
        f"{len(ok) / seconds:.1f} ok/s, p50 {percentile(ok, 50) * 1000:.0f} ms,"
        f" p99 {percentile(ok, 99) * 1000:.0f} ms, max {max(ok, default=0) * 1000:.0f} ms;"
        f" {len(refused)} refused (p50 {percentile(refused, 50) * 1000:.0f} ms,"
        f" p99 {percentile(refused, 99) * 1000:.0f} ms,"
        f" max {max(refused, default=0) * 1000:.0f} ms); other statuses {others}"
    )
