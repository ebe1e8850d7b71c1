"""`./scripts/bench search`: search pages on tenants of 1,000 / 10,000 / 100,000 messages,
timed in process through `schema.execute`, commands counted by PyMongo command monitoring."""

import asyncio
import os
import statistics
import time
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime, timedelta
from typing import Any

from app import domain, store
from app.domain import Caller, Message, NewMessage, NewThread, Role, TextPart, Thread
from app.graphql.context import Context
from app.graphql.schema import schema
from app.http.middleware import RequestRecord, count_command, current_request
from app.services.runtime import Runtime
from scripts import embedded
from scripts.bench_report import machine

ORG, USER = "org_bench", "user_bench"
ROUNDS = int(os.environ.get("BENCH_ROUNDS", "9"))


@contextmanager
def embedded_server() -> Iterator[str]:
    port = embedded.free_port()
    process = embedded.start(port, ":memory:")
    uri = f"mongodb://127.0.0.1:{port}"
    try:
        embedded.wait_for_ping(uri)
        yield uri
    finally:
        process.terminate()
        process.wait(timeout=20)


SEARCH_SIZES = (1_000, 10_000, 100_000)
SEARCH_SPAN = timedelta(days=180)  # a tenant's messages are spread over its last six months
SEARCHES = {
    "a rare and a common word": ("zebra message", 1),
    "a common word": ("message", 1),
    "a common word, the next page": ("message", 2),
    "a common prefix": ("mess", 1),
}


def search_rows(
    loop: asyncio.AbstractEventLoop, db: store.Database, counted: store.Database, caller: Caller
) -> list[tuple[str, str, str]]:
    """6. The same searches on tenants of their own of each of SEARCH_SIZES messages ("message
    {n}", every 1,000th with the rare word "zebra"), spread evenly over the last SEARCH_SPAN,
    seeded by threads of 100 messages (one insert_many each): a page's latency (the sizes
    timed in turn, round after round, so that a busy moment weighs on each alike) and its
    database commands."""
    now = domain.now()
    tenants = {size: Caller(f"{ORG}_search_{size}", USER, caller.key_id) for size in SEARCH_SIZES}

    async def seed(size: int) -> None:
        starts = range(0, size, 100)
        await asyncio.gather(
            *(search_thread(db, tenants[size], size, start, now) for start in starts)
        )

    for size in SEARCH_SIZES:
        loop.run_until_complete(seed(size))
    runtime = Runtime(db)
    rows: dict[int, list[tuple[str, str, str]]] = {size: [] for size in SEARCH_SIZES}
    for label, (words, page) in SEARCHES.items():
        variables: dict[int, dict[str, Any]] = {}
        for size, tenant in tenants.items():
            variables[size] = {"q": words, "after": None}
            if page == 2:
                context = Context(runtime=runtime, caller=tenant)
                first = loop.run_until_complete(
                    schema.execute(SEARCH, variables[size], context_value=context)
                )
                assert first.data, first.errors
                variables[size]["after"] = first.data["search"]["pageInfo"]["endCursor"]
        times: dict[int, list[float]] = {size: [] for size in SEARCH_SIZES}
        for _ in range(ROUNDS):
            for size, tenant in tenants.items():
                context = Context(runtime=runtime, caller=tenant)
                started = time.perf_counter()
                result = loop.run_until_complete(
                    schema.execute(SEARCH, variables[size], context_value=context)
                )
                times[size].append(time.perf_counter() - started)
                assert not result.errors, result.errors
        for size, tenant in tenants.items():
            n = loop.run_until_complete(count_commands(counted, tenant, SEARCH, variables[size]))
            rows[size].append(
                (
                    f"6. Search, a page of 20 of a tenant's {size:,} messages: {label} ({words!r})",
                    f"{statistics.median(times[size]) * 1e3:,.1f} ms; {n} database commands",
                    "",
                )
            )
    return [row for size in SEARCH_SIZES for row in rows[size]]


async def search_thread(
    db: store.Database, caller: Caller, size: int, start: int, now: datetime
) -> None:
    """Messages `start`.. of a search tenant (up to 100), and their thread, in three writes."""
    numbers = range(start, min(start + 100, size))
    at = [now - SEARCH_SPAN * (size - n) / size for n in numbers]
    new = NewThread(
        title=f"search {start}",
        messages=tuple(
            NewMessage(
                content=(TextPart(f"message {n} " + ("zebra" if n % 1_000 == 7 else "")),),
                role=Role.USER,
            )
            for n in numbers
        ),
    )
    thread = Thread.new(new, id=domain.new_id(domain.THREAD_PREFIX), caller=caller, at=at[0])
    messages = [
        Message.new(
            message,
            id=domain.new_id(domain.MESSAGE_PREFIX),
            caller=caller,
            thread_id=thread.id,
            seq=seq,
            at=at[seq - 1],
        )
        for seq, message in enumerate(new.messages, start=1)
    ]
    await store.insert_thread(db, thread, messages)


SEARCH = """query($q: String!, $after: String) { search(query: $q, first: 20, after: $after) {
  nodes { message { id text } thread { id title } highlights { start end } }
  pageInfo { hasNextPage endCursor } } }"""


def search_main() -> None:
    """Only the search rows (`./scripts/bench search`)."""
    with embedded_server() as uri:
        loop = asyncio.new_event_loop()
        db = store.open_database(uri, "bench", timeout_ms=30_000)
        loop.run_until_complete(store.ensure_indexes(db))
        counted = store.open_database(
            uri, "bench", timeout_ms=30_000, listeners=[store.CommandCounter(count_command)]
        )
        caller = Caller(ORG, USER, "bench")
        rows = search_rows(loop, db, counted, caller)
        store.close_database(counted)
        store.close_database(db)
        loop.close()
    print(f"\nMachine: {machine()}")
    print(f"Each figure: median of {ROUNDS} runs, one process run.\n")
    for label, figure, _ in rows:
        print(f"| {label} | {figure} |")


async def count_commands(
    db: store.Database, caller: Caller, query: str, variables: dict[str, Any]
) -> int:
    record = RequestRecord(id="bench")
    token = current_request.set(record)
    try:
        context = Context(runtime=Runtime(db), caller=caller)
        result = await schema.execute(query, variables, context_value=context)
        assert not result.errors, result.errors
    finally:
        current_request.reset(token)
    return record.commands
