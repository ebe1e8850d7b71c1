"""The benchmark harness (scripts/bench*.py): its wire proxy counts exactly the commands a client
sends, and every peer answers what the API answers for every scenario."""

import threading
import time
from collections import Counter
from typing import Any

import pytest
from pymongo import MongoClient, monitoring

from scripts import bench, bench_data, bench_wire
from scripts.bench_scenarios import ALL_PEERS


class Listener(monitoring.CommandListener):
    def __init__(self) -> None:
        self.names: Counter[str] = Counter()

    def started(self, event: monitoring.CommandStartedEvent) -> None:
        self.names[event.command_name] += 1

    def succeeded(self, event: monitoring.CommandSucceededEvent) -> None:
        pass

    def failed(self, event: monitoring.CommandFailedEvent) -> None:
        pass


def by_name(labels: Counter[str]) -> Counter[str]:
    names: Counter[str] = Counter()
    for label, count in labels.items():
        names[label.split(" ")[0]] += count
    return names


def test_the_wire_proxy_counts_what_pymongo_sends(secantus_uri: str) -> None:
    host, port = secantus_uri.removeprefix("mongodb://").split(":")
    proxies = bench_wire.Proxies(host, int(port))
    try:
        proxy_port, tally = proxies.open()
        listener = Listener()
        client: MongoClient[dict[str, Any]] = MongoClient(
            bench.proxy_uri(proxy_port), event_listeners=[listener]
        )
        collection = client.bench_wire_test.things
        collection.drop()
        collection.insert_many([{"n": n} for n in range(7)])
        collection.insert_one({"n": 7})
        assert len(list(collection.find({}, batch_size=2))) == 8  # find, then getMores
        collection.find_one({"n": 3})
        list(collection.aggregate([{"$match": {"n": {"$gte": 2}}}, {"$count": "n"}]))
        collection.update_one({"n": 1}, {"$set": {"m": 1}})
        collection.count_documents({"n": {"$lt": 5}})
        with tally.capture() as captured:
            collection.delete_many({"n": {"$gt": 5}})
        client.admin.command("ping")
        assert by_name(tally.snapshot()) == listener.names
        assert tally.snapshot()["getMore things"] == listener.names["getMore"] >= 3
        assert [next(iter(c)) for c in captured] == ["delete"]
        client.close()
    finally:
        proxies.close()


def test_replayed_reads_say_what_they_examined(secantus_uri: str) -> None:
    client: MongoClient[dict[str, Any]] = MongoClient(secantus_uri)
    try:
        collection = client.bench_wire_test.examined
        collection.drop()
        collection.insert_many([{"n": n} for n in range(30)])
        commands: list[dict[str, Any]] = [
            {"find": "examined", "filter": {"n": {"$lt": 10}}},
            {"aggregate": "examined", "pipeline": [{"$match": {"n": 3}}], "cursor": {}},
        ]
        examined = bench_wire.examine(client.bench_wire_test, commands)
        assert examined.returned == 11
        assert examined.docs == 60, examined  # no index: both read the whole collection
    finally:
        client.close()


@pytest.mark.slow
def test_every_peer_answers_what_the_api_answers(secantus_uri: str) -> None:
    """Each read scenario on a small organization, through the peers as the harness serves
    them (their own uvicorn processes, each through a wire proxy): the hand-written endpoint
    and the graphql-core floor answer the API's JSON exactly, the naive schema and the REST peer
    the same items in the same order; and each writes createMessage."""
    host, port = secantus_uri.removeprefix("mongodb://").split(":")
    orgs = bench_data.run_seed(secantus_uri, bench.DATABASE, [100], log=lambda _: None)
    extra = bench.page100_ids(secantus_uri, orgs)
    with (
        bench.proxied(host, int(port)) as proxies,
        bench.peers_running(proxies, ALL_PEERS) as peers,
    ):
        assert set(peers) == set(ALL_PEERS)
        bench.check_answers(peers, orgs, extra)
        for peer in peers.values():
            assert sum(peer.tally.snapshot().values()) > 0


def test_commands_are_counted_once_the_api_is_quiet() -> None:
    """The count waits out what the API sends on its own (a sweep), not its change streams'
    getMores, which never stop."""
    tally = bench_wire.Tally()
    stop = threading.Event()

    def watching() -> None:
        while not stop.is_set():
            with tally.lock:
                tally.counts["getMore events"] += 1
            time.sleep(0.02)

    def sweeping() -> None:
        for _ in range(8):
            with tally.lock:
                tally.counts["insert events"] += 1
            time.sleep(0.1)

    threads = [threading.Thread(target=watching), threading.Thread(target=sweeping)]
    for thread in threads:
        thread.start()
    started = time.monotonic()
    bench_wire.settle(tally, quiet=0.3, most=5)
    waited = time.monotonic() - started
    stop.set()
    for thread in threads:
        thread.join()
    assert tally.counts["insert events"] == 8  # the sweep had finished
    assert waited < 2  # and the getMores did not hold the count off
