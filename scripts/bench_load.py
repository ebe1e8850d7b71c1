"""The benchmark's load generator, one for every peer: `python -m scripts.bench_load` reads a
job (JSON) on stdin and prints its result (JSON). It runs in a process of its own, with
`concurrency` virtual users on keep-alive HTTP/1.1 connections (a minimal client on asyncio
streams, so that the generator costs little of the shared cores), each sending its next
request when the last is answered, for `seconds`; then the requests under way finish.

A job's `flow` is one logical request:
- {"kind": "single", "method", "path", "body"}: one HTTP request;
- {"kind": "rest_inbox", "list": path, "messages": path with {id}}: the REST inbox — the list,
  then every listed thread's messages, up to 6 at a time (as a browser does), each on its own
  connection. A logical request's latency is from its first byte sent to its last received."""

import asyncio
import json
import statistics
import sys
import time
from dataclasses import dataclass
from typing import Any

BROWSER_CONNECTIONS = 6


class HttpError(Exception):
    pass


@dataclass
class Connection:
    host: str
    port: int
    reader: asyncio.StreamReader | None = None
    writer: asyncio.StreamWriter | None = None

    async def request(
        self, method: str, path: str, headers: dict[str, str], body: bytes = b""
    ) -> tuple[int, bytes]:
        for attempt in (0, 1):  # a keep-alive connection the server closed: once more
            if self.writer is None:
                self.reader, self.writer = await asyncio.open_connection(self.host, self.port)
            assert self.reader is not None
            lines = [f"{method} {path} HTTP/1.1", f"Host: {self.host}:{self.port}"]
            lines += [f"{name}: {value}" for name, value in headers.items()]
            lines.append(f"Content-Length: {len(body)}")
            self.writer.write(("\r\n".join(lines) + "\r\n\r\n").encode() + body)
            try:
                await self.writer.drain()
                return await self._response()
            except (ConnectionError, asyncio.IncompleteReadError):
                self.close()
                if attempt:
                    raise
        raise AssertionError("unreachable")

    async def _response(self) -> tuple[int, bytes]:
        assert self.reader is not None
        head = await self.reader.readuntil(b"\r\n\r\n")
        status_line, *header_lines = head.decode("latin-1").split("\r\n")
        status = int(status_line.split(" ", 2)[1])
        headers = {}
        for line in header_lines:
            if line:
                name, _, value = line.partition(":")
                headers[name.strip().lower()] = value.strip()
        if "content-length" in headers:
            body = await self.reader.readexactly(int(headers["content-length"]))
        elif headers.get("transfer-encoding") == "chunked":
            chunks = []
            while True:
                size = int((await self.reader.readuntil(b"\r\n")).strip(), 16)
                chunk = await self.reader.readexactly(size + 2)
                if size == 0:
                    break
                chunks.append(chunk[:-2])
            body = b"".join(chunks)
        else:
            body = await self.reader.read()
            self.close()
        if headers.get("connection") == "close":
            self.close()
        return status, body

    def close(self) -> None:
        if self.writer is not None:
            self.writer.close()
        self.reader = self.writer = None


class User:
    """A virtual user: its connections, and one logical request of the job's flow."""

    def __init__(self, host: str, port: int, headers: dict[str, str], flow: dict[str, Any]):
        self.flow = flow
        self.headers = headers
        self.connections = [Connection(host, port) for _ in range(BROWSER_CONNECTIONS)]

    async def run(self) -> tuple[int, Any]:
        """The status (the worst of its requests) and the decoded answer (a list of them for
        the REST inbox)."""
        flow, main = self.flow, self.connections[0]
        if flow["kind"] == "single":
            body = flow.get("body")
            raw = json.dumps(body).encode() if body is not None else b""
            status, answer = await main.request(flow["method"], flow["path"], self.headers, raw)
            return status, json.loads(answer) if answer else None
        if flow["kind"] == "parallel":
            answers = await asyncio.gather(
                *(
                    c.request("GET", path, self.headers)
                    for c, path in zip(self.connections, flow["paths"], strict=False)
                )
            )
            return max(s for s, _ in answers), [json.loads(a) for _, a in answers]
        status, answer = await main.request("GET", flow["list"], self.headers)
        listed = json.loads(answer)
        if status >= 300:
            return status, listed
        ids = [item["id"] for item in listed["data"]]
        pages: list[Any] = [None] * len(ids)
        worst = status
        queue = list(enumerate(ids))

        async def fetch(connection: Connection) -> None:
            nonlocal worst
            while queue:
                n, thread_id = queue.pop(0)
                path = flow["messages"].replace("{id}", thread_id)
                got, body = await connection.request("GET", path, self.headers)
                worst = max(worst, got)
                pages[n] = json.loads(body)

        await asyncio.gather(*(fetch(c) for c in self.connections))
        return worst, [listed, *pages]

    def close(self) -> None:
        for connection in self.connections:
            connection.close()


async def run_job(job: dict[str, Any]) -> dict[str, Any]:
    host, port = job.get("host", "127.0.0.1"), int(job["port"])
    users = [
        User(host, port, job.get("headers", {}), job["flow"]) for _ in range(job["concurrency"])
    ]
    latencies: list[float] = []
    statuses: dict[str, int] = {}
    started = time.perf_counter()
    deadline = started + float(job["seconds"])

    async def loop(user: User) -> None:
        while time.perf_counter() < deadline:
            at = time.perf_counter()
            status, answer = await user.run()
            latencies.append(time.perf_counter() - at)
            # a GraphQL answer with errors is a failure, whatever its status
            label = "errors" if isinstance(answer, dict) and answer.get("errors") else str(status)
            statuses[label] = statuses.get(label, 0) + 1

    await asyncio.gather(*(loop(user) for user in users))
    elapsed = time.perf_counter() - started
    for user in users:
        user.close()
    ordered = sorted(latencies)
    return {
        "requests": len(ordered),
        "elapsed": elapsed,
        "rps": len(ordered) / elapsed,
        "p50": statistics.median(ordered),
        "p99": ordered[min(len(ordered) - 1, int(len(ordered) * 0.99))],
        "statuses": statuses,
    }


async def once(port: int, headers: dict[str, str], flow: dict[str, Any]) -> tuple[int, Any]:
    """One logical request (for the harness's checks and counts)."""
    user = User("127.0.0.1", port, headers, flow)
    try:
        return await user.run()
    finally:
        user.close()


def main() -> None:
    job = json.load(sys.stdin)
    print(json.dumps(asyncio.run(run_job(job))))


if __name__ == "__main__":
    main()
