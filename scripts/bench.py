"""`./scripts/bench`: the side-by-side harness. Four peers — this API, a hand-written Starlette +
Motor endpoint, the naive Strawberry schema and a REST peer shaped like OpenAI's Threads API —
each served by its own uvicorn process (one worker) and connected to the same embedded database
through its own counting wire proxy (scripts/bench_wire.py), answer the same scenarios on
organizations of 1,000 / 10,000 / 100,000 threads (scripts/bench_data.py). For each scenario x
size x peer: requests per second and p50/p99 latency at concurrency 1 and 16 (one asyncio load
generator, in its own process, for every peer: scripts/bench_load.py), in interleaved batches
(each round runs every peer in turn, the order rotated each round), medians over rounds;
database commands per request counted on the wire; for the API's reads, documents and keys
examined per document returned (its commands replayed with explain). Then the in-process
GraphQL layer (scripts/bench_layer.py). `--write` puts the tables into docs/performance.md and
README.md. `./scripts/bench search` prints only the search rows (scripts/bench_search.py).

Settings (environment): BENCH_SIZES (1000,10000,100000), BENCH_ROUNDS (3), BENCH_SECONDS (3,
per batch), BENCH_CONCURRENCY (1,16), BENCH_SCENARIOS (some of thread50, inbox, page1, page100,
filtered, counted, create; unset: all, which --write needs), BENCH_PEERS (besides the API and
the hand-written endpoint, some of naive, rest, floor (graphql-core alone over the hand-written
commands, scripts/bench_floor.py) and twin (the hand-written endpoint again, a second process: how
far apart two identical programs land); unset: naive and rest, which --write needs), BENCH_DATA_DIR
(keep the seeded database there between runs; unset: a throwaway one)."""

import asyncio
import json
import os
import shlex
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
from pymongo import MongoClient

from app import store
from scripts import (
    bench_data,
    bench_layer,
    bench_load,
    bench_report,
    bench_scenarios,
    bench_wire,
    embedded,
)
from scripts.bench_data import Org
from scripts.bench_scenarios import DEFAULT_PEERS, EXACT, PEERS, kind

BIN = Path(sys.executable).parent
DATABASE = "bench"
SIZES = [int(s) for s in os.environ.get("BENCH_SIZES", "1000,10000,100000").split(",") if s]
ROUNDS = int(os.environ.get("BENCH_ROUNDS", "3"))
SECONDS = float(os.environ.get("BENCH_SECONDS", "3"))
CONCURRENCY = [int(c) for c in os.environ.get("BENCH_CONCURRENCY", "1,16").split(",")]
CHOSEN = [s for s in os.environ.get("BENCH_SCENARIOS", "").split(",") if s]
SCENARIOS = [s for s in bench_scenarios.SCENARIOS if not CHOSEN or s.name in CHOSEN]
COUNTED_REQUESTS = 10  # requests per command count
# The API's admission limit (MAX_REQUESTS_IN_FLIGHT, 8 by default) would answer part of
# concurrency 16 with 503: raised, so that every peer serves every request.
API_ENV = {"APP_ENV": "production", "MAX_REQUESTS_IN_FLIGHT": "64"}
NAMES = {
    "api": "API",
    "handwritten": "hand-written",
    "naive": "naive",
    "rest": "REST",
    "floor": "graphql-core floor",
    "twin": "hand-written again",
}


def log(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


@dataclass
class Peer:
    name: str
    port: int
    tally: bench_wire.Tally
    process: subprocess.Popen[bytes]


@dataclass
class Results:
    load: dict[tuple[str, int, int, str], list[dict[str, Any]]] = field(default_factory=dict)
    commands: dict[tuple[str, int, str], dict[str, float]] = field(default_factory=dict)
    examined: dict[tuple[str, int], bench_wire.Examined] = field(default_factory=dict)
    items: dict[tuple[str, int], int] = field(default_factory=dict)
    layer: list[tuple[str, float, float, int]] = field(default_factory=list)


@contextmanager
def database_server() -> Iterator[tuple[str, int]]:
    """On disk (BENCH_DATA_DIR, else a temporary directory): held in memory, 100,000 threads
    overflow the server's cache (WT_CACHE_FULL). The cache sized as MongoDB sizes its own by
    default: half of the memory less 1 GB."""
    port = embedded.free_port()
    kept = os.environ.get("BENCH_DATA_DIR")
    storage = kept or tempfile.mkdtemp(prefix="bench-db-")
    Path(storage).mkdir(parents=True, exist_ok=True)
    memory = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES")
    cache = max(memory - 2**30, 2**29) // 2
    process = embedded.start(port, storage, cache=f"{cache // 2**20}M")
    try:
        embedded.wait_for_ping(f"mongodb://127.0.0.1:{port}", timeout=120)
        yield "127.0.0.1", port
    finally:
        process.terminate()
        process.wait(timeout=60)
        if not kept:
            shutil.rmtree(storage, ignore_errors=True)


def start_peer(name: str, db_uri: str) -> subprocess.Popen[bytes]:
    port = embedded.free_port()
    common = ["--port", str(port), "--log-level", "warning", "--no-access-log", "--workers", "1"]
    if name == "api":  # as ./scripts/serve runs it
        target = ["app.main:create_app", "--http", "app.http.server:GuardedH11Protocol"]
        env = {**os.environ, **API_ENV, "MONGODB_URI": db_uri, "MONGODB_DATABASE": DATABASE}
    else:
        factory = {"floor": "bench_floor:floor", "twin": "bench_peers:handwritten"}.get(
            name, f"bench_peers:{name}"
        )
        target = [f"scripts.{factory}", "--http", "h11"]
        env = {**os.environ, "BENCH_MONGODB_URI": db_uri, "BENCH_DATABASE": DATABASE}
    process = subprocess.Popen(
        [str(BIN / "uvicorn"), *target, "--factory", *common],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    process.port = port  # type: ignore[attr-defined]
    return process


def wait_ready(peer: Peer, check: str) -> None:
    deadline = time.monotonic() + 300
    while time.monotonic() < deadline:
        if peer.process.poll() is not None:
            raise RuntimeError(f"the {peer.name} peer exited ({peer.process.returncode})")
        try:
            answer = httpx.get(f"http://127.0.0.1:{peer.port}{check}", timeout=5)
            if answer.status_code < 500:
                return
        except httpx.TransportError:
            pass
        time.sleep(0.2)
    raise RuntimeError(f"the {peer.name} peer did not start")


def once(peer: Peer, org: Org, flow: dict[str, Any]) -> Any:
    headers = {"Authorization": f"Bearer {org.key}", "Content-Type": "application/json"}
    status, answer = asyncio.run(bench_load.once(peer.port, headers, flow))
    if status != 200:
        raise RuntimeError(f"{peer.name}: HTTP {status}: {str(answer)[:500]}")
    if isinstance(answer, dict) and answer.get("errors"):
        raise RuntimeError(f"{peer.name}: {answer['errors']}")
    return answer


def check_answers(peers: dict[str, Peer], orgs: list[Org], extra: dict[int, Any]) -> None:
    """Every peer answers the API's JSON (the hand-written endpoint exactly; the others the same
    items in the same order) for every read scenario, and writes what it is asked to."""
    for org in orgs:
        for scenario in SCENARIOS:
            flows = scenario.flows(org, extra[org.size])
            ours = once(peers["api"], org, flows["api"])
            for name in [p for p in peers if p != "api"]:
                theirs = once(peers[name], org, flows[name])
                if scenario.read and name in EXACT and theirs["data"] != ours["data"]:
                    raise RuntimeError(
                        f"{scenario.name} at {org.size}: the {NAMES[name]} JSON differs: "
                        f"{first_difference(ours['data'], theirs['data'])}"
                    )
                mine, other = (
                    scenario.essence("graphql", ours),
                    scenario.essence(kind(name), theirs),
                )
                if isinstance(mine, tuple) and mine[-1] is None:  # the API's count is a bound
                    mine, other = mine[:-1], other[:-1]
                if mine != other:
                    raise RuntimeError(
                        f"{scenario.name} at {org.size}: {name} answers other items:\n"
                        f"{str(mine)[:1500]}\n{str(other)[:1500]}"
                    )


def first_difference(a: Any, b: Any, path: str = "") -> str:
    """Where two JSON values first differ, and how."""
    if isinstance(a, dict) and isinstance(b, dict):
        for key in list(a) + [k for k in b if k not in a]:
            if a.get(key, ...) != b.get(key, ...):
                return first_difference(a.get(key), b.get(key), f"{path}.{key}")
    if isinstance(a, list) and isinstance(b, list) and len(a) == len(b):
        for n, (x, y) in enumerate(zip(a, b, strict=True)):
            if x != y:
                return first_difference(x, y, f"{path}[{n}]")
    return f"at {path or 'the top'}: {json.dumps(a)[:300]} vs {json.dumps(b)[:300]}"


def items(answer: Any) -> int:
    """The objects with an id in an answer: the documents it returns."""
    if isinstance(answer, dict):
        return ("id" in answer) + sum(items(v) for v in answer.values())
    if isinstance(answer, list):
        return sum(items(v) for v in answer)
    return 0


def count_commands(
    peers: dict[str, Peer], orgs: list[Org], extra: dict[int, Any], results: Results, db_uri: str
) -> None:
    client: MongoClient[dict[str, Any]] = MongoClient(db_uri)
    try:
        for org in orgs:
            for scenario in SCENARIOS:
                flows = scenario.flows(org, extra[org.size])
                for name, peer in peers.items():
                    once(peer, org, flows[name])  # warm
                    if name == "api":
                        bench_wire.settle(peer.tally)
                    before = peer.tally.snapshot()
                    for _ in range(COUNTED_REQUESTS):
                        once(peer, org, flows[name])
                    after = peer.tally.snapshot()
                    results.commands[(scenario.name, org.size, name)] = bench_wire.per_request(
                        before, after, COUNTED_REQUESTS
                    )
                    if name == "api" and scenario.read:
                        with peer.tally.capture() as captured:
                            answer = once(peer, org, flows[name])
                        results.items[(scenario.name, org.size)] = items(answer)
                        results.examined[(scenario.name, org.size)] = bench_wire.examine(
                            client[DATABASE], list(captured)
                        )
    finally:
        client.close()


def run_load(peer: Peer, org: Org, flow: dict[str, Any], concurrency: int) -> dict[str, Any]:
    job = {
        "port": peer.port,
        "concurrency": concurrency,
        "seconds": SECONDS,
        "headers": {"Authorization": f"Bearer {org.key}", "Content-Type": "application/json"},
        "flow": flow,
    }
    done = subprocess.run(
        [sys.executable, "-m", "scripts.bench_load"],
        input=json.dumps(job).encode(),
        capture_output=True,
        check=True,
    )
    result: dict[str, Any] = json.loads(done.stdout)
    return result


def measure_load(
    peers: dict[str, Peer], orgs: list[Org], extra: dict[int, Any], results: Results
) -> None:
    for round_ in range(ROUNDS):
        for scenario in SCENARIOS:
            for org in orgs:
                flows = scenario.flows(org, extra[org.size])
                for concurrency in CONCURRENCY:
                    shift = round_ % len(PEERS)
                    for name in PEERS[shift:] + PEERS[:shift]:
                        result = run_load(peers[name], org, flows[name], concurrency)
                        key = (scenario.name, org.size, concurrency, name)
                        results.load.setdefault(key, []).append(result)
        log(f"round {round_ + 1} of {ROUNDS} done")


def page100_ids(db_uri: str, orgs: list[Org]) -> dict[int, Any]:
    """What the REST peer's page 100 starts after: the id of message 9,900 of the long thread."""
    client: MongoClient[dict[str, Any]] = MongoClient(db_uri)
    try:
        found = {}
        for org in orgs:
            doc = client[DATABASE][store.MESSAGES].find_one(
                {"organizationId": org.id, "threadId": org.long, "seq": 9_900}
            )
            assert doc is not None
            found[org.size] = {"page100_after_id": doc["_id"]}
        return found
    finally:
        client.close()


# Tables
def median(results: list[dict[str, Any]], key: str) -> float:
    return float(statistics.median(r[key] for r in results))


def errors(results: list[dict[str, Any]]) -> int:
    return sum(n for r in results for s, n in r["statuses"].items() if not s.startswith("2"))


def throughput_table(results: Results, concurrency: int) -> str:
    rows = []
    for scenario in SCENARIOS:
        for size in SIZES:
            runs = {p: results.load.get((scenario.name, size, concurrency, p)) for p in PEERS}
            if not all(runs.values()):
                continue
            rps = {p: median(r, "rps") for p, r in runs.items() if r}
            row = [scenario.label, f"{size:,}"]
            for peer in PEERS:
                r = runs[peer]
                assert r is not None
                bad = errors(r)
                cell = (
                    f"{rps[peer]:,.1f}/s, p50 {median(r, 'p50') * 1e3:,.1f} ms, "
                    f"p99 {median(r, 'p99') * 1e3:,.0f} ms"
                )
                if peer != "handwritten":
                    cell += f" ({rps[peer] / rps['handwritten']:.2f}x)"
                row.append(cell + (f", {bad} errors" if bad else ""))
            if "naive" in rps:
                row.append(f"{rps['api'] / rps['naive']:.2f}x")
            rows.append(row)
    header = ["scenario", "threads", *(NAMES[p] for p in PEERS)]
    header += ["API / naive"] if "naive" in PEERS else []
    return table_intro(
        f"Requests per second at concurrency {concurrency} (median of {ROUNDS} batches of "
        f"{SECONDS:g} s; ratio: throughput vs the hand-written endpoint)",
        header,
        rows,
    )


def table_intro(title: str, header: list[str], rows: list[list[str]]) -> str:
    return f"**{title}**\n\n{bench_report.table(header, rows)}\n"


def commands_cell(counts: dict[str, float]) -> str:
    keys = sum(v for k, v in counts.items() if k.endswith(" api_keys"))
    watched = sum(v for k, v in counts.items() if k in bench_wire.WATCHED)
    others = {
        k: v
        for k, v in counts.items()
        if not k.endswith(" api_keys") and k not in bench_wire.WATCHED
    }
    total = sum(others.values())
    split = ", ".join(f"{k} {v:g}" for k, v in others.items())
    extra = (f" + key {keys:g}" if keys else "") + (f" + watch {watched:g}" if watched else "")
    return f"**{total:g}**{extra} ({split})" if split else f"**{total:g}**{extra}"


def commands_table(results: Results) -> str:
    rows = []
    for scenario in SCENARIOS:
        for size in SIZES:
            cells = [results.commands.get((scenario.name, size, p)) for p in PEERS]
            if any(c is None for c in cells):
                continue
            rows.append([scenario.label, f"{size:,}", *(commands_cell(c or {}) for c in cells)])
    header = ["scenario", "threads", *(NAMES[p] for p in PEERS)]
    return table_intro(
        f"Database commands per request, counted on the wire (mean of {COUNTED_REQUESTS} "
        "sequential requests; key: API-key lookups, cached a second by each peer; watch: the "
        "getMores of the API's change streams on the event logs, which run beside requests)",
        header,
        rows,
    )


def examined_table(results: Results) -> str:
    rows = []
    for scenario in SCENARIOS:
        for size in SIZES:
            e = results.examined.get((scenario.name, size))
            if e is None:
                continue
            answered = results.items[(scenario.name, size)]
            rows.append(
                [
                    scenario.label,
                    f"{size:,}",
                    f"{e.docs:,}",
                    f"{e.keys:,}",
                    f"{e.returned:,}",
                    f"{answered:,}",
                    f"{e.docs / answered:.2f}x / {e.keys / answered:.2f}x",
                ]
            )
    header = [
        "scenario",
        "threads",
        "docs examined",
        "keys examined",
        "returned by the commands",
        "in the answer",
        "docs / keys per answered",
    ]
    return table_intro(
        "The API's reads: documents and keys examined (its captured find/aggregate commands "
        "replayed with explain executionStats) per document in the answer (objects with an id)",
        header,
        rows,
    )


def growth_table(results: Results) -> str:
    if len(SIZES) < 2:
        return ""
    low, high = min(SIZES), max(SIZES)
    rows = []
    for scenario in SCENARIOS:
        for peer in PEERS:
            runs = [results.load.get((scenario.name, size, CONCURRENCY[0], peer)) for size in SIZES]
            if not all(runs):
                continue
            p50 = {size: median(r, "p50") for size, r in zip(SIZES, runs, strict=True) if r}
            rows.append(
                [
                    scenario.label,
                    NAMES[peer],
                    *(f"{p50[size] * 1e3:,.1f} ms" for size in SIZES),
                    f"{p50[high] / p50[low]:.2f}x",
                ]
            )
    header = ["scenario", "peer", *(f"{s:,}" for s in SIZES), f"{high:,} / {low:,}"]
    return table_intro(
        f"Growth with the organization's size: p50 latency at concurrency {CONCURRENCY[0]}",
        header,
        rows,
    )


def layer_table(results: Results) -> str:
    rows = [
        [
            label,
            f"{api * 1e6:,.0f} µs",
            f"{hand * 1e6:,.0f} µs",
            f"{api / hand:.1f}x" + (f" ({sent} commands leaked)" if sent else ""),
        ]
        for label, api, hand, sent in results.layer
    ]
    return table_intro(
        "The GraphQL layer: ASGI in process, the store answering from memory (median of "
        f"{ROUNDS * 2} alternating batches of 20)",
        ["query", "API", "hand-built", "ratio"],
        rows,
    )


def main(argv: list[str]) -> None:
    if argv[:1] == ["search"]:
        from scripts import bench_search

        bench_search.search_main()
        return
    write = "--write" in argv
    if write and (CHOSEN or PEERS != DEFAULT_PEERS):
        raise SystemExit("--write needs every scenario and the usual peers: unset BENCH_SCENARIOS")
    command = " ".join(
        [
            f"{k}={os.environ[k]}"
            for k in (
                "BENCH_SIZES",
                "BENCH_ROUNDS",
                "BENCH_SECONDS",
                "BENCH_CONCURRENCY",
                "BENCH_SCENARIOS",
                "BENCH_PEERS",
            )
            if k in os.environ
        ]
        + ["./scripts/bench", *map(shlex.quote, argv)]
    )
    machine_line = bench_report.machine()
    started = time.monotonic()
    results = Results()
    with ExitStack() as stack:
        host, port = stack.enter_context(database_server())
        db_uri = f"mongodb://{host}:{port}"
        seeding = time.monotonic()
        orgs = bench_data.run_seed(db_uri, DATABASE, SIZES, log)
        log(f"data ready in {time.monotonic() - seeding:,.1f} s")
        extra = page100_ids(db_uri, orgs)
        proxies = stack.enter_context(proxied(host, port))
        peers = stack.enter_context(peers_running(proxies))
        log(f"peers up at {time.monotonic() - started:,.1f} s")
        check_answers(peers, orgs, extra)
        log("answers checked")
        count_commands(peers, orgs, extra, results, db_uri)
        log("commands counted")
        measure_load(peers, orgs, extra, results)
        layer_port, layer_tally = proxies.open()
        smallest = min(orgs, key=lambda o: o.size)
        results.layer = bench_layer.measure_layer(
            proxy_uri(layer_port),
            DATABASE,
            smallest,
            max(ROUNDS, 5),
            layer_tally,
        )
    elapsed = time.monotonic() - started
    tables = [throughput_table(results, c) for c in CONCURRENCY] + [
        commands_table(results),
        examined_table(results),
        growth_table(results),
        layer_table(results),
    ]
    intro = f"Command: `{command}`\n\nMachine: {machine_line}; run took {elapsed / 60:,.1f} min.\n"
    text = intro + "\n" + "\n".join(t for t in tables if t)
    print(text)
    if write:
        readme = intro + "\n" + throughput_table(results, CONCURRENCY[-1])
        for name in bench_report.write(text, readme):
            log(f"wrote {name}")


def proxy_uri(port: int) -> str:
    """A proxy's address. The server calls itself a replica set member by its own address:
    without directConnection the driver would go there, around the proxy."""
    return f"mongodb://127.0.0.1:{port}/?directConnection=true"


@contextmanager
def proxied(host: str, port: int) -> Iterator[bench_wire.Proxies]:
    proxies = bench_wire.Proxies(host, port)
    try:
        yield proxies
    finally:
        proxies.close()


@contextmanager
def peers_running(
    proxies: bench_wire.Proxies, names: tuple[str, ...] = PEERS
) -> Iterator[dict[str, Peer]]:
    """Each peer served by its own uvicorn, each through a wire proxy of its own; once ready."""
    with ExitStack() as stack:
        peers: dict[str, Peer] = {}
        for name in names:
            proxy_port, tally = proxies.open()
            process = start_peer(name, proxy_uri(proxy_port))
            stack.callback(stop, process)
            peers[name] = Peer(name, process.port, tally, process)  # type: ignore[attr-defined]
        for name, peer in peers.items():
            wait_ready(peer, "/readyz" if name == "api" else "/graphql")
        yield peers


def stop(process: subprocess.Popen[bytes]) -> None:
    process.terminate()
    try:
        process.wait(timeout=20)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()


if __name__ == "__main__":
    main(sys.argv[1:])
