"""Thread lists cost what they return, whatever the organization's size: explain() on the real
server sums the keys every window examined; counts read the counter document, or count in
windows up to COUNT_LIMIT; the counters follow every write that moves a thread."""

import asyncio
from datetime import timedelta
from typing import Any

import pytest

from app import domain, store
from app.domain import ThreadChanges, ThreadState
from app.services import forks, threads, trash
from app.services.runtime import Runtime
from app.store import Database
from app.store.codec import metadata_term, thread_doc
from app.store.listings import thread_listing
from tests.helpers.api import Api
from tests.helpers.backends import Recorder
from tests.helpers.factories import caller, make_thread

SPREAD = 3_000
TAGGED = """query($after: String, $tag: String!, $order: SortOrder = DESC) {
  threads(first: 20, after: $after, order: $order, filter: {metadata: {tier: $tag}}) {
    totalCount totalCountIsExact nodes { id } pageInfo { endCursor }
  }
}"""
PLAIN = """query($after: String, $order: SortOrder = DESC, $by: ThreadOrderBy = CREATED_AT) {
  threads(first: 20, after: $after, order: $order, orderBy: $by) {
    nodes { id } pageInfo { endCursor }
  }
}"""
COUNT = "{ threads(first: 1) { totalCount totalCountIsExact } }"
TWO_PAIRS = """{
  threads(filter: {metadata: {tier: "gold", kind: "any"}}) { totalCount totalCountIsExact }
}"""


async def spread(db: Database, count: int) -> list[dict[str, Any]]:
    """`count` threads, one every two hours back from now, in bulk; every 2nd is "gold", every
    500th also "rare"; all of "kind" "any"."""
    at = domain.now()
    docs = []
    for n in range(count):
        created = at - timedelta(hours=2 * n)
        tiers = ["gold", "rare"] if n % 500 == 0 else ["gold"] if n % 2 == 0 else ["plain"]
        thread = domain.Thread(
            id=f"thread_{n:06d}",
            organization_id=caller().organization_id,
            user_id="u",
            created_at=created,
            updated_at=created,
            title=f"t{n}",
            metadata={"tier": tiers, "kind": "any"},
            tool_resources=None,
            assistant_id=None,
            visible_in_ui=True,
            state=ThreadState.ACTIVE,
        )
        docs.append(thread_doc(thread))
    await db[store.THREADS].insert_many(docs)
    await store.recount_threads(db, organization_id=caller().organization_id, now=at)
    return docs


async def keys_examined(
    db: Database, recorder: Recorder, *, counts: bool = False
) -> tuple[int, int]:
    """The keys the recorded thread aggregates examined in all, and how many there were: those
    of the pages, or with `counts` those of the counts."""
    total = 0
    commands = [
        c
        for c in recorder.commands
        if c.get("aggregate") == store.THREADS and ("$group" in repr(c)) is counts
    ]
    for command in commands:
        explained = await db.command(
            {
                "explain": {
                    "aggregate": store.THREADS,
                    "pipeline": command["pipeline"],
                    "cursor": {},
                },
                "verbosity": "executionStats",
            }
        )
        assert "COLLSCAN" not in repr(explained["queryPlanner"]["winningPlan"])
        total += int(explained["executionStats"]["totalKeysExamined"])
    return total, len(commands)


@pytest.mark.slow
async def test_pages_examine_about_what_they_return(
    recorded: tuple[Database, Recorder],
) -> None:
    db, recorder = recorded
    docs = await spread(db, SPREAD)
    api = Api(db)
    newest = [doc["_id"] for doc in docs]
    cases: list[tuple[str, dict[str, Any], list[str]]] = [
        (PLAIN, {}, newest),
        (PLAIN, {"order": "ASC"}, newest[::-1]),
        (PLAIN, {"by": "UPDATED_AT"}, newest),
        (TAGGED, {"tag": "gold"}, newest[::2]),
    ]
    for query, variables, expected in cases:
        after = None
        for page in range(3):  # the first page, then from cursors
            recorder.commands.clear()
            data = (await api.ok(query, {**variables, "after": after}))["threads"]
            assert [node["id"] for node in data["nodes"]] == expected[20 * page : 20 * page + 20]
            examined, windows = await keys_examined(db, recorder)
            assert examined <= 1.5 * 21, (variables, page, examined, windows)
            assert windows <= 4
            after = data["pageInfo"]["endCursor"]
    recorder.commands.clear()
    data = (await api.ok(TAGGED, {"tag": "rare"}))["threads"]
    assert [node["id"] for node in data["nodes"]] == newest[::500]
    examined, windows = await keys_examined(db, recorder)
    assert examined <= 2 * len(newest[::500]) + windows, (examined, windows)


@pytest.mark.slow
def test_the_scanned_metadata_term_is_not_matched_again() -> None:
    """A metadata filter's scan holds one of its terms (the index's); every document the scan
    finds has it, so only the others are checked per document."""
    org = caller().organization_id
    gold, any_kind = metadata_term("tier", "gold"), metadata_term("kind", "any")
    one = thread_listing(domain.ThreadQuery(org, metadata=(("tier", "gold"),)))
    assert one.scan["metaTerms"] == gold and "metaTerms" not in one.rest
    query = domain.ThreadQuery(org, metadata=(("tier", "gold"), ("kind", "any")))
    two = thread_listing(query, scan_term=any_kind)
    assert two.scan["metaTerms"] == any_kind and two.rest["metaTerms"] == {"$all": [gold]}


async def test_counts_do_not_scan(recorded: tuple[Database, Recorder]) -> None:
    db, recorder = recorded
    await spread(db, SPREAD)
    api = Api(db)
    recorder.commands.clear()
    data = (await api.ok(COUNT))["threads"]
    assert data == {"totalCount": SPREAD, "totalCountIsExact": True}
    counting = [c for c in recorder.commands if "aggregate" in c and "$group" in repr(c)]
    assert counting == [], "by state: the counter document alone"
    for tag, expected in (("gold", SPREAD // 2), ("rare", SPREAD // 500), ("none", 0)):
        recorder.commands.clear()
        data = (await api.ok(TAGGED, {"tag": tag}))["threads"]
        assert data["totalCount"] == expected and data["totalCountIsExact"] is True
        counting = [c for c in recorder.commands if "aggregate" in c and "$group" in repr(c)]
        assert counting == [], "one metadata pair: its term's counter document"
        counters = [c for c in recorder.commands if c.get("find") == store.THREAD_COUNTERS]
        assert len(counters) == 1, "the organization's and the term's, in one read"
    recorder.commands.clear()
    data = (await api.ok(TWO_PAIRS))["threads"]
    assert data["totalCount"] == store.COUNT_LIMIT and data["totalCountIsExact"] is False
    examined, _ = await keys_examined(db, recorder, counts=True)
    assert examined <= 1.5 * (store.COUNT_LIMIT + 1), examined


async def test_counters_follow_every_write(db: Database) -> None:
    rt = Runtime(db)
    who = caller()
    api = Api(db)

    async def counts() -> tuple[int, int, int]:
        live = await api.ok("{ threads { totalCount totalCountIsExact } }")
        archived = await api.ok("{ threads(filter: {state: ARCHIVED}) { totalCount } }")
        trashed = await api.ok("{ threads(filter: {deleted: true}) { totalCount } }")
        assert live["threads"]["totalCountIsExact"] is True
        return (
            live["threads"]["totalCount"],
            archived["threads"]["totalCount"],
            trashed["threads"]["totalCount"],
        )

    assert await counts() == (0, 0, 0)  # counters made before the organization's first thread
    made = [await make_thread(db, title=f"t{n}", messages=n % 3) for n in range(5)]
    since = await db[store.THREAD_COUNTERS].find_one({})
    assert since is not None and since["since"] is not None
    assert await counts() == (5, 0, 0)
    archive = ThreadChanges(state=ThreadState.ARCHIVED)
    await threads.update_thread(rt, caller=who, thread_id=made[0].id, changes=archive)
    await threads.update_thread(rt, caller=who, thread_id=made[0].id, changes=archive)
    assert await counts() == (4, 1, 0)
    await trash.delete_thread(rt, caller=who, thread_id=made[1].id)
    await trash.delete_thread(rt, caller=who, thread_id=made[0].id)
    assert await counts() == (3, 0, 2)
    await trash.restore_thread(rt, caller=who, thread_id=made[1].id)
    assert await counts() == (4, 0, 1)
    await trash.delete_thread(rt, caller=who, thread_id=made[2].id, permanent=True)
    await trash.delete_thread(rt, caller=who, thread_id=made[0].id, permanent=True)
    assert await counts() == (3, 0, 0)
    await forks.fork_thread(rt, caller=who, fork=forks.Fork(thread_id=made[4].id))
    assert await counts() == (4, 0, 0)
    await trash.delete_thread(rt, caller=who, thread_id=made[3].id)
    assert await counts() == (3, 0, 1)
    await trash.purge(rt, deleted_before=domain.now() + timedelta(days=1))
    assert await counts() == (3, 0, 0)
    await db[store.THREAD_COUNTERS].delete_many({})  # lost: rebuilt from the threads
    assert await counts() == (3, 0, 0)


TERM_COUNTS = """{
  red: threads(filter: {metadata: {color: "red"}}) { totalCount totalCountIsExact }
  blue: threads(filter: {metadata: {color: "blue"}}) { totalCount }
  redArchived: threads(filter: {metadata: {color: "red"}, state: ARCHIVED}) { totalCount }
  blueTrashed: threads(filter: {metadata: {color: "blue"}, deleted: true}) { totalCount }
}"""


async def test_counts_by_metadata_follow_every_write(db: Database) -> None:
    rt = Runtime(db)
    who = caller()
    api = Api(db)

    async def counts() -> tuple[int, int, int, int]:
        data = await api.ok(TERM_COUNTS)
        assert data["red"]["totalCountIsExact"] is True
        return (
            data["red"]["totalCount"],
            data["blue"]["totalCount"],
            data["redArchived"]["totalCount"],
            data["blueTrashed"]["totalCount"],
        )

    async def recolor(thread_id: str, *colors: str) -> None:
        metadata: domain.Metadata = {"color": list(colors)} if colors else {}
        changes = ThreadChanges(metadata=metadata)
        await threads.update_thread(rt, caller=who, thread_id=thread_id, changes=changes)

    colors: list[dict[str, Any]] = [
        {"color": "red"},
        {"color": "red"},
        {"color": "blue"},
        {"color": ["red", "blue"]},
    ]
    made = [await make_thread(db, title=f"t{n}", metadata=m) for n, m in enumerate(colors)]
    assert await counts() == (3, 2, 0, 0)
    await recolor(made[0].id, "blue")
    assert await counts() == (2, 3, 0, 0)
    await recolor(made[1].id)
    assert await counts() == (1, 3, 0, 0)
    archive = ThreadChanges(state=ThreadState.ARCHIVED)
    await threads.update_thread(rt, caller=who, thread_id=made[3].id, changes=archive)
    assert await counts() == (0, 2, 1, 0)
    await trash.delete_thread(rt, caller=who, thread_id=made[2].id)
    assert await counts() == (0, 1, 1, 1)
    await trash.restore_thread(rt, caller=who, thread_id=made[2].id)
    assert await counts() == (0, 2, 1, 0)
    await forks.fork_thread(rt, caller=who, fork=forks.Fork(thread_id=made[2].id))
    assert await counts() == (0, 3, 1, 0)
    await trash.delete_thread(rt, caller=who, thread_id=made[0].id, permanent=True)
    assert await counts() == (0, 2, 1, 0)
    # Racing recolorings of one thread: it is counted once, under the colors it ends with.
    await asyncio.gather(*(recolor(made[1].id, color) for color in ("red", "blue") * 3))
    final = await store.get_thread(db, organization_id=who.organization_id, thread_id=made[1].id)
    red = final.metadata["color"] == ["red"]
    expected = (1, 2, 1, 0) if red else (0, 3, 1, 0)
    assert await counts() == expected
    await db[store.THREAD_COUNTERS].delete_many({})  # lost: rebuilt from the threads
    assert await counts() == expected
