"""Benchmarks (./scripts/bench): prints a table of figures, each a median over interleaved
runs measured in this one process run, on the embedded database started for it."""

import asyncio
import json
import logging
import os
import platform
import re
import shutil
import statistics
import subprocess
import sys
import time
from collections.abc import Awaitable, Callable, Iterator, Sequence
from contextlib import AsyncExitStack, contextmanager
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from app import domain, store
from app.domain import (
    Caller,
    Message,
    MessageQuery,
    NewMessage,
    NewThread,
    Role,
    TextPart,
    Thread,
    ThreadQuery,
)
from app.graphql.context import Context
from app.graphql.scalars import serialize_datetime
from app.graphql.schema import schema
from app.http.middleware import RequestRecord, count_command, current_request, log
from app.main import create_app
from app.pagination import MESSAGE_ORDER, Page, encode_cursor, page_request
from app.services import api_keys, forks, threads, trash
from app.services.forks import Fork
from app.services.runtime import Runtime
from app.settings import Settings
from scripts import bench_naive, embedded

BIN = Path(sys.executable).parent
ORG, USER = "org_bench", "user_bench"
NESTED = """query Nested($id: ID!) { thread(id: $id) {
  id title createdAt updatedAt metadata messageCount
  messages(first: 50) {
    edges { cursor node { id role text createdAt metadata status } }
    pageInfo { hasNextPage endCursor }
  }
} }"""
LIST = """{ threads(first: 50) { edges { node {
  id title messages(first: 5) { edges { node { id text } } }
} } } }"""
MESSAGES_WITH_THREADS = """query($ids: [ID!]!) {
  nodes(ids: $ids) { ... on Message { id text thread { id title } } }
}"""
ROUNDS = int(os.environ.get("BENCH_ROUNDS", "15"))


# The hand-written endpoint: the same JSON as NESTED, from the same documents.
async def rest_thread(db: store.Database, caller: Caller, thread_id: str) -> dict[str, Any]:
    found = await store.get_threads(db, organization_id=caller.organization_id, ids=[thread_id])
    thread = found[thread_id]
    query = MessageQuery(organization_id=caller.organization_id, thread_id=thread_id)
    request = page_request(
        MESSAGE_ORDER, first=50, after=None, last=None, before=None, limit=None, descending=True
    )
    (page,) = await store.fetch_message_pages(
        db, [store.MessagePageQuery(query, request, thread.last_seq)]
    )
    (count,) = await store.count_all(db, [query])
    cursors = [encode_cursor(MESSAGE_ORDER, key) for key in page.keys]
    edges = [
        {
            "cursor": cursor,
            "node": {
                "id": m.id,
                "role": m.role.value.upper(),
                "text": m.text,
                "createdAt": serialize_datetime(m.created_at),
                "metadata": m.metadata,
                "status": m.status.value.upper(),
            },
        }
        for cursor, m in zip(cursors, page.items, strict=True)
    ]
    return {
        "data": {
            "thread": {
                "id": thread.id,
                "title": thread.title,
                "createdAt": serialize_datetime(thread.created_at),
                "updatedAt": serialize_datetime(thread.updated_at),
                "metadata": thread.metadata,
                "messageCount": count,
                "messages": {
                    "edges": edges,
                    "pageInfo": {
                        "hasNextPage": bool(page.has_next),
                        "endCursor": cursors[-1] if cursors else None,
                    },
                },
            }
        }
    }


def with_rest(app: Starlette) -> Starlette:
    async def endpoint(request: Request) -> Response:
        db = request.app.state.runtime.db
        caller = await api_keys.authenticate(db, request.headers.get("authorization"))
        if caller is None:
            return JSONResponse({"errors": [{"message": "no"}]}, 401)
        return JSONResponse(await rest_thread(db, caller, request.path_params["id"]))

    app.router.routes.append(Route("/rest/threads/{id}", endpoint))
    return app


def served_app() -> Starlette:
    """The app uvicorn serves for the HTTP figures: ours plus the hand-written endpoint."""
    return with_rest(create_app(Settings(app_env="production")))


# Measuring
def median_ratio(
    a: Callable[[], Awaitable[object]],
    b: Callable[[], Awaitable[object]],
    loop: asyncio.AbstractEventLoop,
    *,
    batch: int,
    rounds: int = ROUNDS,
) -> tuple[float, float]:
    """Median seconds per call of a and of b, timed in alternating batches."""
    times: dict[int, list[float]] = {0: [], 1: []}
    for n in range(rounds * 2):
        which = n % 2
        call = (a, b)[which]
        started = time.perf_counter()
        for _ in range(batch):
            loop.run_until_complete(call())
        times[which].append((time.perf_counter() - started) / batch)
    return statistics.median(times[0]), statistics.median(times[1])


async def asgi_post(app: Any, path: str, body: bytes, headers: list[tuple[bytes, bytes]]) -> bytes:
    """One request through an ASGI app, with nothing around it."""
    scope = {
        "type": "http",
        "asgi": {"version": "3.0"},
        "http_version": "1.1",
        "method": "POST" if body else "GET",
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


async def seed(db: store.Database) -> dict[str, Any]:
    await store.ensure_indexes(db)
    key = await api_keys.issue_key(db, organization_id=ORG, user_id=USER, name="bench")
    caller = Caller(ORG, USER, key_id(key))

    def messages(count: int) -> tuple[NewMessage, ...]:
        return tuple(
            NewMessage(
                content=(TextPart(f"message {n} " * 8),),
                role=Role.USER if n % 2 else Role.ASSISTANT,
                metadata={"n": str(n)},
            )
            for n in range(count)
        )

    async def thread(count: int, title: str) -> str:
        new = NewThread(title=title, metadata={"bench": "yes"}, messages=messages(count))
        created = await threads.create_thread(Runtime(db), caller=caller, thread=new)
        return created.value.id

    nested = await thread(50, "nested")
    small = [await thread(5, f"small {n}") for n in range(50)]
    long = await thread(10_000, "long")
    return {"key": key, "nested": nested, "small": small, "long": long}


def key_id(key: str) -> str:
    """The id part of an `sk_<id>_<secret>` key."""
    return key.split("_")[1]


def machine() -> str:
    cpu = "unknown CPU"
    with open("/proc/cpuinfo") as info:
        for line in info:
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    return f"{os.cpu_count()} cores, {cpu}, Python {platform.python_version()}"


def main() -> None:
    rows: list[tuple[str, str, str]] = []
    with embedded_server() as uri:
        loop = asyncio.new_event_loop()
        db = store.open_database(uri, "bench", timeout_ms=30_000)
        data = loop.run_until_complete(seed(db))
        headers = [(b"authorization", f"Bearer {data['key']}".encode())]
        body = json.dumps({"query": NESTED, "variables": {"id": data["nested"]}}).encode()

        # 1. The GraphQL layer alone: the store answers from memory.
        log.addHandler(logging.StreamHandler(open(os.devnull, "w")))  # noqa: SIM115
        log.setLevel(logging.INFO)  # the request log is part of the cost
        app = with_rest(create_app(Settings(app_env="production"), database=db))
        lifespan = AsyncExitStack()
        loop.run_until_complete(lifespan.enter_async_context(app.router.lifespan_context(app)))
        preloaded = loop.run_until_complete(preload(db, data))
        with stubbed_store(preloaded):
            ours = json.loads(loop.run_until_complete(asgi_post(app, "/graphql", body, headers)))
            rest = json.loads(
                loop.run_until_complete(
                    asgi_post(app, f"/rest/threads/{data['nested']}", b"", headers)
                )
            )
            assert ours["data"] == rest["data"], "the two endpoints must answer the same JSON"
            graphql_s, rest_s = median_ratio(
                lambda: asgi_post(app, "/graphql", body, headers),
                lambda: asgi_post(app, f"/rest/threads/{data['nested']}", b"", headers),
                loop,
                batch=100,
            )
        rows.append(
            (
                "1. GraphQL layer: nested thread + 50 messages, store in memory (ASGI, in process)",
                f"{graphql_s * 1e6:,.0f} µs vs {rest_s * 1e6:,.0f} µs hand-written",
                f"{graphql_s / rest_s:.1f}x (goal ≤ 3x)",
            )
        )

        # 3. A naive peer: stock ListConnection (offsets), no DataLoaders.
        naive_schema = bench_naive.make_schema(db, ORG)
        caller = Caller(ORG, USER, key_id(data["key"]))
        runtime = Runtime(db)
        # The same document for both: the stock connection has edges, not nodes.
        ours_q = naive_q = LIST

        async def run_ours() -> None:
            result = await schema.execute(
                ours_q, context_value=Context(runtime=runtime, caller=caller)
            )
            assert not result.errors, result.errors

        async def run_naive() -> None:
            result = await naive_schema.execute(naive_q)
            assert not result.errors, result.errors

        ours_s, naive_s = median_ratio(run_ours, run_naive, loop, batch=5)
        rows.append(
            (
                "3. Naive peer (stock ListConnection, no DataLoaders): 50 threads x 5 messages",
                f"{ours_s * 1e3:,.1f} ms vs {naive_s * 1e3:,.1f} ms naive",
                f"{naive_s / ours_s:.1f}x faster",
            )
        )

        # 4. Database commands per request, and deep pages.
        counted = store.open_database(
            uri, "bench", timeout_ms=30_000, listeners=[store.CommandCounter(count_command)]
        )
        for label, query, variables in (
            ("thread + 50 messages", NESTED, {"id": data["nested"]}),
            ("50 threads x 5 messages", ours_q, {}),
            (
                "100 messages with their thread",
                MESSAGES_WITH_THREADS,
                {"ids": loop.run_until_complete(message_ids(db, data["small"]))},
            ),
        ):
            commands = loop.run_until_complete(count_commands(counted, caller, query, variables))
            rows.append(
                (f"4. Database commands: {label}", f"{commands} (+1 for the API key over HTTP)", "")
            )

        page_q = """query($t: ID!, $after: String) { thread(id: $t) {
            messages(first: 100, after: $after, order: ASC) { nodes { id text } } } }"""
        after = encode_cursor(MESSAGE_ORDER, (9_900,))

        async def page_one() -> None:
            await schema.execute(
                page_q, {"t": data["long"]}, context_value=Context(runtime=runtime, caller=caller)
            )

        async def page_hundred() -> None:
            await schema.execute(
                page_q,
                {"t": data["long"], "after": after},
                context_value=Context(runtime=runtime, caller=caller),
            )

        first_s, last_s = median_ratio(page_one, page_hundred, loop, batch=5)
        rows.append(
            (
                "4. Page 100 vs page 1 of a 10,000-message thread (100 per page)",
                f"{last_s * 1e3:,.1f} ms vs {first_s * 1e3:,.1f} ms",
                f"{last_s / first_s:.2f}x (goal ≤ 1.5x)",
            )
        )
        rows += chat_frontend(loop, db, counted, caller, data)
        loop.run_until_complete(lifespan.aclose())
        # The lifespan cancels its event watcher without awaiting it: let it finish here.
        pending = asyncio.all_tasks(loop)
        for task in pending:
            task.cancel()
        loop.run_until_complete(asyncio.gather(*pending, return_exceptions=True))

        # 2 and 5. Over HTTP: uvicorn, one worker, on the embedded database.
        rows += over_http(uri, data, body)
        store.close_database(counted)
        store.close_database(db)
        loop.close()

    print(f"\nMachine: {machine()}")
    print(f"Each figure: median of {ROUNDS} interleaved batches per side, one process run.\n")
    width = max(len(r[0]) for r in rows)
    print(f"| {'measure':{width}} | figure | ratio |")
    print(f"|{'-' * (width + 2)}|---|---|")
    for label, figure, ratio in rows:
        print(f"| {label:{width}} | {figure} | {ratio} |")


@dataclass(frozen=True)
class Preloaded:
    """What the nested query reads, read once from the database."""

    thread: Thread
    page: Page[Message]
    key: store.ApiKey | None


async def preload(db: store.Database, data: dict[str, Any]) -> Preloaded:
    thread_id = data["nested"]
    thread = (await store.get_threads(db, organization_id=ORG, ids=[thread_id]))[thread_id]
    query = MessageQuery(organization_id=ORG, thread_id=thread_id)
    request = page_request(
        MESSAGE_ORDER, first=50, after=None, last=None, before=None, limit=None, descending=True
    )
    (page,) = await store.fetch_message_pages(
        db, [store.MessagePageQuery(query, request, thread.last_seq)]
    )
    key = await store.get_api_key(db, key_id=key_id(data["key"]))
    return Preloaded(thread=thread, page=page, key=key)


@contextmanager
def stubbed_store(preloaded: Preloaded) -> Iterator[None]:
    """The store answering from memory: what the GraphQL layer costs without I/O. The stubs
    replace the attributes of the `app.store` package, which the DataLoaders
    (app/graphql/context.py), `api_keys.authenticate` and `rest_thread` look up at each call."""

    async def get_threads(
        db: store.Database, *, organization_id: str, ids: list[str]
    ) -> dict[str, Thread]:
        return {preloaded.thread.id: preloaded.thread}

    async def fetch_message_pages(
        db: store.Database, queries: Sequence[store.MessagePageQuery]
    ) -> list[Page[Message]]:
        return [preloaded.page for _ in queries]

    async def count_all(
        db: store.Database, queries: Sequence[ThreadQuery | MessageQuery]
    ) -> list[int]:
        return [50 for _ in queries]

    async def get_api_key(db: store.Database, *, key_id: str) -> store.ApiKey | None:
        return preloaded.key

    stubs: dict[str, Callable[..., Awaitable[object]]] = {
        "get_threads": get_threads,
        "fetch_message_pages": fetch_message_pages,
        "count_all": count_all,
        "get_api_key": get_api_key,
    }
    originals = {name: getattr(store, name) for name in stubs}
    for name, stub in stubs.items():
        setattr(store, name, stub)
    try:
        yield
    finally:
        for name, original in originals.items():
            setattr(store, name, original)


async def message_ids(db: store.Database, thread_ids: list[str]) -> list[str]:
    docs = (
        await db[store.MESSAGES]
        .find({"threadId": {"$in": thread_ids[:20]}})
        .limit(100)
        .to_list(None)
    )
    return [d["_id"] for d in docs]


INBOX_PLAIN = "{ threads(first: 50, orderBy: UPDATED_AT) { nodes { id title updatedAt } } }"
INBOX_PREVIEWS = """{ threads(first: 50, orderBy: UPDATED_AT) {
  nodes { id title updatedAt lastMessage { text role createdAt } } } }"""


def chat_frontend(
    loop: asyncio.AbstractEventLoop,
    db: store.Database,
    counted: store.Database,
    caller: Caller,
    data: dict[str, Any],
) -> list[tuple[str, str, str]]:
    """6. What a chat frontend adds: the inbox with previews, a fork of 1,000 messages, and
    restoring a 1,000-message thread from the trash."""
    runtime = Runtime(db)

    def query(document: str) -> Callable[[], Awaitable[object]]:
        async def run() -> None:
            context = Context(runtime=runtime, caller=caller)
            result = await schema.execute(document, context_value=context)
            assert not result.errors, result.errors

        return run

    plain_n, previews_n = (
        loop.run_until_complete(count_commands(counted, caller, document, {}))
        for document in (INBOX_PLAIN, INBOX_PREVIEWS)
    )
    plain_s, previews_s = median_ratio(query(INBOX_PLAIN), query(INBOX_PREVIEWS), loop, batch=5)
    (thousandth,) = loop.run_until_complete(
        store.messages_numbered(
            db, organization_id=ORG, thread_id=data["long"], start=1_000, stop=1_001
        )
    )
    fork = Fork(thread_id=data["long"], up_to_message_id=thousandth.id)
    forked: list[str] = []

    async def fork_once() -> None:
        written = await forks.fork_thread(runtime, caller=caller, fork=fork)
        forked.append(written.value.id)

    async def trash_once() -> None:
        await trash.delete_thread(runtime, caller=caller, thread_id=forked[0])

    async def restore_once() -> None:
        await trash.restore_thread(runtime, caller=caller, thread_id=forked[0])

    fork_s, _ = median_ratio(fork_once, fork_once, loop, batch=1)
    trash_s, restore_s = median_ratio(trash_once, restore_once, loop, batch=1)
    return [
        *search_rows(loop, db, counted, caller),
        (
            "6. Inbox by activity, 50 threads: with lastMessage vs without",
            f"{previews_s * 1e3:,.1f} ms vs {plain_s * 1e3:,.1f} ms;"
            f" {previews_n} vs {plain_n} database commands",
            f"{previews_s / plain_s:.2f}x",
        ),
        ("6. Fork of a thread's first 1,000 messages (of 10,000)", f"{fork_s * 1e3:,.1f} ms", ""),
        (
            "6. A 1,000-message thread to the trash, and back",
            f"{trash_s * 1e3:,.1f} ms, restore {restore_s * 1e3:,.1f} ms",
            "",
        ),
    ]


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


def over_http(uri: str, data: dict[str, Any], body: bytes) -> list[tuple[str, str, str]]:
    port = embedded.free_port()
    env = {**os.environ, "MONGODB_URI": uri, "MONGODB_DATABASE": "bench", "APP_ENV": "production"}
    server = subprocess.Popen(
        [
            BIN / "uvicorn",
            "scripts.bench:served_app",
            "--factory",
            "--port",
            str(port),
            "--log-level",
            "warning",
            "--no-access-log",
        ],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    rows = []
    try:
        base = f"http://127.0.0.1:{port}"
        headers = {"Authorization": f"Bearer {data['key']}", "Content-Type": "application/json"}
        with httpx.Client(base_url=base, headers=headers, timeout=30) as client:
            for _ in range(100):
                try:
                    client.get("/healthz")
                    break
                except httpx.TransportError:
                    time.sleep(0.1)
            rest_path = f"/rest/threads/{data['nested']}"
            assert (
                client.post("/graphql", content=body).json()["data"]
                == client.get(rest_path).json()["data"]
            )
            times: dict[int, list[float]] = {0: [], 1: []}
            for n in range(ROUNDS * 2):
                started = time.perf_counter()
                for _ in range(30):
                    if n % 2 == 0:
                        client.post("/graphql", content=body)
                    else:
                        client.get(rest_path)
                times[n % 2].append((time.perf_counter() - started) / 30)
            graphql_s, rest_s = statistics.median(times[0]), statistics.median(times[1])
            rows.append(
                (
                    "2. End to end over HTTP (uvicorn, embedded database): thread + 50 messages",
                    f"{graphql_s * 1e3:,.2f} ms vs {rest_s * 1e3:,.2f} ms hand-written",
                    f"{graphql_s / rest_s:.2f}x (goal ≤ 1.5x)",
                )
            )
        rows.append(load(base, headers, body))
    finally:
        server.terminate()
        server.wait(timeout=20)
    return rows


def load(base: str, headers: dict[str, str], body: bytes) -> tuple[str, str, str]:
    hey = shutil.which("hey")
    if hey is None:
        return (
            "5. Requests per second, nested query, one uvicorn worker",
            "skipped: `hey` is not installed",
            "",
        )
    arguments = [hey, "-z", "10s", "-c", "8", "-m", "POST", "-d", body.decode()]
    for name, value in headers.items():
        arguments += ["-H", f"{name}: {value}"]
    output = subprocess.run(
        [*arguments, f"{base}/graphql"], capture_output=True, text=True, check=True
    ).stdout
    rps = re.search(r"Requests/sec:\s+([\d.]+)", output)
    statuses = re.findall(r"\[(\d{3})\]\s+(\d+) responses", output)
    return (
        "5. Requests per second, nested query, one uvicorn worker (hey -c 8, 10 s, loopback)",
        f"{float(rps.group(1)) if rps else 0:,.0f} req/s",
        f"statuses {dict(statuses)}",
    )


if __name__ == "__main__":
    search_main() if sys.argv[1:] == ["search"] else main()
