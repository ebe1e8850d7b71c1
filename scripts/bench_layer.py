"""The benchmark's in-process measure of the GraphQL layer: the API's whole ASGI app (key check,
request log, limits, Strawberry, JSON) against the hand-written endpoint building the same JSON,
both with the database out of the way — every coroutine function of `app.store` (the API's,
and the key lookup of both) and every read of the hand-written endpoint answers what it
answered in a recorded request, from memory. The stubs wrap whatever `app.store` exports, so
they follow the store as it changes; commands still sent during the timing (a store function
imported around the package) are counted by a wire proxy and reported."""

import asyncio
import inspect
import json
import logging
import os
import statistics
import time
from collections.abc import Awaitable, Callable, Iterator
from contextlib import AsyncExitStack, contextmanager
from typing import Any

from app import store
from app.http.middleware import log
from app.main import create_app
from app.settings import Settings
from scripts import bench_peers, bench_scenarios, bench_wire
from scripts.bench_data import Org


class Recorder:
    """Wraps coroutine functions: `recording` keeps what each returns, by name; then `replaying`
    returns those, in turn, without calling them."""

    def __init__(self) -> None:
        self.answers: dict[str, list[Any]] = {}
        self.turn: dict[str, int] = {}
        self.replaying = False

    def wrap(self, name: str, function: Callable[..., Awaitable[Any]]) -> Callable[..., Any]:
        async def wrapped(*args: Any, **kwargs: Any) -> Any:
            if self.replaying and self.answers.get(name):
                answers = self.answers[name]
                n = self.turn.get(name, 0)
                self.turn[name] = n + 1
                return answers[n % len(answers)]
            result = await function(*args, **kwargs)
            if not self.replaying:
                self.answers.setdefault(name, []).append(result)
            return result

        return wrapped


@contextmanager
def stubbed(recorder: Recorder, target: Any, prefix: str) -> Iterator[None]:
    names = [
        name
        for name in dir(target)
        if not name.startswith("_") and inspect.iscoroutinefunction(getattr(target, name))
    ]
    originals = {name: getattr(target, name) for name in names}
    for name in names:
        setattr(target, name, recorder.wrap(prefix + name, originals[name]))
    try:
        yield
    finally:
        for name, original in originals.items():
            setattr(target, name, original)


async def asgi_call(app: Any, path: str, body: bytes, headers: list[tuple[bytes, bytes]]) -> bytes:
    """One request through an ASGI app, with nothing around it."""
    scope = {
        "type": "http",
        "asgi": {"version": "3.0"},
        "http_version": "1.1",
        "method": "POST",
        "scheme": "http",
        "path": path,
        "raw_path": path.encode(),
        "query_string": b"",
        "headers": [(b"content-type", b"application/json"), *headers],
        "client": ("127.0.0.1", 1),
        "server": ("test", 80),
        "root_path": "",
        "app": app,
        "state": {},
    }
    chunks: list[bytes] = []
    sent = False

    async def receive() -> dict[str, Any]:
        nonlocal sent
        if sent:
            await asyncio.sleep(3600)
        sent = True
        return {"type": "http.request", "body": body, "more_body": False}

    async def send(message: dict[str, Any]) -> None:
        if message["type"] == "http.response.body":
            chunks.append(message.get("body", b""))

    await app(scope, receive, send)
    return b"".join(chunks)


async def _cancel_others() -> None:
    """Cancel the tasks the app left running (its background sweeps) and wait for them."""
    others = asyncio.all_tasks() - {asyncio.current_task()}
    for task in others:
        task.cancel()
    await asyncio.gather(*others, return_exceptions=True)


def measure_layer(
    uri: str, database: str, org: Org, rounds: int, tally: bench_wire.Tally
) -> list[tuple[str, float, float, int]]:
    """(scenario label, API seconds, hand-built seconds, commands sent meanwhile) for thread +
    50 messages and the inbox; `uri` should be a wire proxy whose counts `tally` holds."""
    loop = asyncio.new_event_loop()
    db = store.open_database(uri, database, timeout_ms=60_000)
    log.addHandler(logging.StreamHandler(open(os.devnull, "w")))  # noqa: SIM115
    log.setLevel(logging.INFO)  # the request log is part of the cost
    app = create_app(Settings(app_env="production"), database=db)
    lifespan = AsyncExitStack()
    loop.run_until_complete(lifespan.enter_async_context(app.router.lifespan_context(app)))
    # The start-up's first sweeps (the events of recent writes: many after the write scenario)
    # run in the background: let them finish before measuring.
    bench_wire.settle(tally, pause=lambda seconds: loop.run_until_complete(asyncio.sleep(seconds)))
    headers = [(b"authorization", f"Bearer {org.key}".encode())]
    rows = []
    try:
        for scenario in bench_scenarios.SCENARIOS:
            if scenario.name not in ("thread50", "inbox"):
                continue
            flows = scenario.flows(org, {})
            ours = json.dumps(flows["api"]["body"]).encode()
            theirs = json.dumps(flows["handwritten"]["body"]).encode()
            recorder = Recorder()
            reads = bench_peers.Reads(db)
            hand = bench_peers.handwritten_app(db, reads)

            def api(body: bytes = ours) -> Awaitable[bytes]:
                return asgi_call(app, "/graphql", body, headers)

            def handmade(body: bytes = theirs, hand: Any = hand) -> Awaitable[bytes]:
                return asgi_call(hand, "/graphql", body, headers)

            with stubbed(recorder, store, "store."), stubbed(recorder, reads, "reads."):
                for _ in range(2):  # cold (the key lookup), then warm
                    a = json.loads(loop.run_until_complete(api()))
                    b = json.loads(loop.run_until_complete(handmade()))
                assert a["data"] == b["data"], (
                    f"{scenario.name}: the API and the hand-built JSON differ"
                )
                recorder.replaying = True
                before = bench_wire.working(tally)
                times: dict[int, list[float]] = {0: [], 1: []}
                for n in range(rounds * 2):
                    call = (api, handmade)[n % 2]
                    started = time.perf_counter()
                    for _ in range(20):
                        loop.run_until_complete(call())
                    times[n % 2].append((time.perf_counter() - started) / 20)
                sent = bench_wire.working(tally) - before
            rows.append(
                (
                    scenario.label,
                    statistics.median(times[0]),
                    statistics.median(times[1]),
                    sent,
                )
            )
    finally:
        loop.run_until_complete(lifespan.aclose())
        loop.run_until_complete(_cancel_others())
        store.close_database(db)
        loop.close()
    return rows
