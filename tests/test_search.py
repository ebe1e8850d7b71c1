"""Full-text search: the matching rules (app/search_terms.py), every write path keeping the
terms current, tenant isolation, paging, and bounded index scans (explain on a real server)."""

import asyncio
from datetime import datetime, timedelta
from typing import Any

from app import domain, store, windows
from app.domain import Message, NewThread, Thread
from app.graphql.search import MAX_COMMANDS
from app.search_terms import highlights, index_terms, query_terms, search_terms
from app.store import Database
from app.validation import MAX_SEARCH_TERMS
from scripts.backfill_search import backfill
from tests.helpers.api import Api
from tests.helpers.backends import Recorder, docs_examined
from tests.helpers.factories import caller, make_message, make_thread, new_message
from tests.test_storage import stages

SEARCH = """query($q: String!, $first: Int, $after: String, $filter: SearchFilter) {
  search(query: $q, first: $first, after: $after, filter: $filter) {
    edges { cursor node { message { id text } thread { id } highlights { start end } } }
    pageInfo { hasNextPage hasPreviousPage endCursor }
  }
}"""


async def texts(api: Api, query: str, **variables: Any) -> list[str]:
    data = await api.ok(SEARCH, {"q": query, **variables})
    return [edge["node"]["message"]["text"] for edge in data["search"]["edges"]]


def test_terms_rules() -> None:
    assert index_terms("Crème BRÛLÉE, don't!") == [
        *("br*", "bru*", "brul*", "brule*", "brulee", "brulee*"),
        *("cr*", "cre*", "crem*", "creme", "creme*"),
        *("do*", "don", "don*", "t"),
    ], "words, and the prefixes of 2 characters or more of each, marked"
    assert "internationa*" in index_terms("internationalization"), "prefixes up to 12"
    assert "internationa*" in index_terms("internationa"), "a word of 12 is its own prefix"
    assert not any(len(t) > 13 and t.endswith("*") for t in index_terms("internationalization"))
    assert index_terms("東京都") == ["京", "京都", "東", "東京", "都"]
    assert index_terms("ｶﾀ") == ["カ", "カタ", "タ"], "half-width kana as full-width"
    assert query_terms("a Beef  s") == ["beef", "s"], "one-letter words only last (a prefix)"
    assert query_terms("東京都") == ["東京", "京都"]
    terms = search_terms(query_terms("creme bru"))
    assert highlights("Crème brûlée and crème", terms) == [(0, 5), (6, 12), (17, 22)]
    cjk = search_terms(query_terms("東京都"))
    assert highlights("私は東京都に", cjk) == [(2, 5)]


async def test_matching_rules(api: Api, db: Database) -> None:
    thread = await make_thread(db, title="food")
    for text in (
        "Beef stew with potatoes",
        "A crème brûlée for dessert",
        "Potted plants",
        "東京都に行きます",
        "pot",
    ):
        await make_message(db, thread.id, text)
    assert await texts(api, "beef stew") == ["Beef stew with potatoes"]
    assert await texts(api, "STEW beef") == ["Beef stew with potatoes"], "any order and case"
    assert await texts(api, "beef stews") == [], "every term must occur"
    assert await texts(api, "stew bee") == ["Beef stew with potatoes"], "last term as prefix"
    assert await texts(api, "bee stew") == [], "only the last term is a prefix"
    assert await texts(api, "potatoes beef s") == ["Beef stew with potatoes"], "1-char prefix"
    assert await texts(api, "beef potatoe") == ["Beef stew with potatoes"]
    assert await texts(api, "pot") == ["pot", "Potted plants", "Beef stew with potatoes"]
    assert await texts(api, "creme brulee") == ["A crème brûlée for dessert"]
    assert await texts(api, "CRÈME") == ["A crème brûlée for dessert"]
    assert await texts(api, "ew") == [], "whole words: no infix"
    assert await texts(api, "東京") == ["東京都に行きます"]
    assert await texts(api, "京都") == ["東京都に行きます"]
    assert await texts(api, "都") == ["東京都に行きます"], "a single CJK character"
    assert await texts(api, "大阪") == []
    data = await api.ok(SEARCH, {"q": "beef ste"})
    hit = data["search"]["edges"][0]["node"]
    assert hit["highlights"] == [{"start": 0, "end": 4}, {"start": 5, "end": 9}]
    assert hit["thread"]["id"] == thread.id


async def test_query_limits(api: Api) -> None:
    for query in ("", "a", "a b c", "x" * 257, " ".join(f"w{n}" for n in range(9))):
        error = await api.error(SEARCH, {"q": query})
        assert error["extensions"]["code"] == "BAD_USER_INPUT", query
        assert error["extensions"]["field"] == "query", error


async def test_tenants_and_filters(api: Api, db: Database) -> None:
    mine = await make_thread(db)
    other = await make_thread(db)
    theirs = await make_thread(db, organization_id="org_other")
    await make_message(db, mine.id, "secret recipe", role="assistant")
    await make_message(db, other.id, "secret recipe", metadata={"tags": ["x"]})
    await make_message(db, theirs.id, "secret recipe", organization_id="org_other")
    assert len(await texts(api, "secret")) == 2
    assert len(await texts(Api(db, organization_id="org_other"), "secret")) == 1
    assert len(await texts(api, "secret", filter={"threadId": other.id})) == 1
    assert len(await texts(api, "secret", filter={"role": "ASSISTANT"})) == 1
    assert len(await texts(api, "secret", filter={"metadata": {"tags": "x"}})) == 1
    assert len(await texts(api, "secret", filter={"createdAfter": "2100-01-01T00:00:00Z"})) == 0
    assert len(await texts(api, "secret", filter={"createdBefore": "2100-01-01T00:00:00Z"})) == 2


async def test_no_stale_hits(api: Api, db: Database) -> None:
    thread = await make_thread(db)
    message = await make_message(db, thread.id, "original words")
    edit = "mutation($id: ID!, $c: String) { updateMessage(input: {id: $id, content: $c}) { message { id } } }"
    await api.ok(edit, {"id": message.id, "c": "replacement text"})
    assert await texts(api, "original") == []
    assert await texts(api, "replacement") == ["replacement text"]
    delete = "mutation($id: ID!) { deleteMessage(input: {id: $id}) { deleted } }"
    await api.ok(delete, {"id": message.id})
    assert await texts(api, "replacement") == [], "in the trash"
    restore = "mutation($id: ID!) { restoreMessage(input: {id: $id}) { message { id } } }"
    await api.ok(restore, {"id": message.id})
    assert await texts(api, "replacement") == ["replacement text"]
    await api.ok("mutation($id: ID!) { deleteThread(input: {id: $id}) { id } }", {"id": thread.id})
    assert await texts(api, "replacement") == [], "its thread in the trash"
    await api.ok(
        "mutation($id: ID!) { restoreThread(input: {id: $id}) { thread { id } } }",
        {"id": thread.id},
    )
    assert await texts(api, "replacement") == ["replacement text"]


async def test_streamed_text(api: Api, db: Database) -> None:
    thread = await make_thread(db)
    created = await api.ok(
        """mutation($t: ID!) { createMessage(input: {threadId: $t, role: ASSISTANT,
        status: IN_PROGRESS, content: "Streaming"}) { message { id } } }""",
        {"t": thread.id},
    )
    message_id = created["createMessage"]["message"]["id"]
    append = "mutation($id: ID!, $d: String!) { appendMessageText(input: {id: $id, delta: $d}) { message { id } } }"
    await api.ok(append, {"id": message_id, "d": " answers arrive"})
    assert await texts(api, "answers") == [], "terms are written at completion"
    complete = "mutation($id: ID!) { completeMessage(input: {id: $id}) { message { id } } }"
    await api.ok(complete, {"id": message_id})
    assert await texts(api, "streaming answers") == ["Streaming answers arrive"]


async def test_paging_is_stable_under_inserts(api: Api, db: Database) -> None:
    thread = await make_thread(db)
    for n in range(7):
        await make_message(db, thread.id, f"needle {n}")
        await asyncio.sleep(0.002)
    seen: list[str] = []
    after = None
    while True:
        data = (await api.ok(SEARCH, {"q": "needle", "first": 3, "after": after}))["search"]
        seen += [edge["node"]["message"]["text"] for edge in data["edges"]]
        await make_message(db, thread.id, "needle new")  # newer: before the first page
        if not data["pageInfo"]["hasNextPage"]:
            break
        assert data["pageInfo"]["hasPreviousPage"] == (after is not None)
        after = data["pageInfo"]["endCursor"]
    assert seen == [f"needle {n}" for n in reversed(range(7))]


async def test_backfill_finds_older_messages(api: Api, db: Database) -> None:
    thread = await make_thread(db, title="Old title")
    await make_message(db, thread.id, "written before search")
    await db[store.MESSAGES].update_many({}, {"$unset": {"terms": "", "termsVersion": ""}})
    await db[store.THREADS].update_many({}, {"$unset": {"titleTerms": "", "termsVersion": ""}})
    assert await texts(api, "before") == []
    assert await backfill(db, batch=1, report=lambda line: None) == 2
    assert await texts(api, "before") == ["written before search"]
    assert await backfill(db, batch=1, report=lambda line: None) == 0, "idempotent"


async def test_backfill_adds_prefix_terms(api: Api, db: Database) -> None:
    thread = await make_thread(db, title="Old title")
    await make_message(db, thread.id, "written before prefixes")
    # Terms of version 1: whole words only, no termsVersion.
    await db[store.MESSAGES].update_many(
        {}, {"$set": {"terms": ["before", "prefixes", "written"]}, "$unset": {"termsVersion": ""}}
    )
    await db[store.THREADS].update_many(
        {}, {"$set": {"titleTerms": ["old", "title"]}, "$unset": {"termsVersion": ""}}
    )
    assert await texts(api, "befo") == []
    assert await backfill(db, batch=1, report=lambda line: None) == 2
    assert await texts(api, "befo") == ["written before prefixes"]
    assert await texts(api, "tit") == ["written before prefixes"], "by its title"
    assert await backfill(db, batch=1, report=lambda line: None) == 0, "idempotent"


async def test_search_scans_an_index_with_bounded_commands(
    recorded: tuple[Database, Recorder],
) -> None:
    db, recorder = recorded
    thread = await make_thread(db)
    for n in range(40):
        await make_message(db, thread.id, f"common words {n} {'rare' if n % 10 == 0 else ''}")
    api = Api(db)
    counts = []
    for query in ("rare common", "common ra", "common"):
        after = None
        for _ in range(2):
            recorder.commands.clear()
            data = (await api.ok(SEARCH, {"q": query, "first": 2, "after": after}))["search"]
            sent = list(recorder.commands)
            counts.append(len(sent))
            after = data["pageInfo"]["endCursor"]
            for command in sent:
                if "find" in command:  # a thread by id
                    collection, scan = command["find"], command["filter"]
                else:
                    collection, scan = command["aggregate"], command["pipeline"][0]["$match"]
                explained = await db.command(
                    {"explain": {"find": collection, "filter": scan}, "verbosity": "queryPlanner"}
                )
                plan = explained["queryPlanner"]["winningPlan"]
                assert "IXSCAN" in stages(plan) and "COLLSCAN" not in stages(plan), plan
                if "terms" in scan:
                    assert "terms" in repr(plan), "the scan is on the terms' index"
    # "common" fills its pages in the first window: the messages, the titles, the threads.
    assert counts[-2:] == [3, 3], counts
    assert max(counts) <= MAX_COMMANDS, counts


async def test_a_prefix_scans_like_a_word(recorded: tuple[Database, Recorder]) -> None:
    """The prefix is an equality on its prefix term, with the cursor's createdAt range in the
    same index scan: a prefix page reads no more messages than a page of a whole word held by
    as many."""
    db, recorder = recorded
    await make_thread(db, messages=300)  # "message 1", ...: all start a word with "mess"
    api = Api(db)
    examined: dict[str, int] = {}
    for query in ("message", "mess", "messag", "137 mess"):
        recorder.commands.clear()
        data = (await api.ok(SEARCH, {"q": query, "first": 20}))["search"]
        assert len(data["edges"]) == (1 if query == "137 mess" else 20), query
        recorder.commands.clear()
        after = data["pageInfo"]["endCursor"]
        await api.ok(SEARCH, {"q": query, "first": 20, "after": after})
        for command in recorder.commands:
            if command.get("aggregate") != store.MESSAGES:
                continue
            pipeline = command["pipeline"]
            scan = pipeline[0]["$match"]
            if "terms" not in scan:
                continue
            assert isinstance(scan["terms"], str), scan
            if any("$sort" in stage for stage in pipeline):  # the page, not a probe
                assert "createdAt" in scan, "the cursor bounds the same index scan"
            else:
                continue
            explained = await db.command(
                {
                    "explain": {"aggregate": store.MESSAGES, "pipeline": pipeline, "cursor": {}},
                    "verbosity": "executionStats",
                }
            )
            examined[query] = max(examined.get(query, 0), _examined(explained))
    assert examined["mess"] <= examined["message"], examined
    assert examined["137 mess"] <= 3, examined  # "137" is scanned: the rarest


async def test_titles_find_the_first_message(api: Api, db: Database) -> None:
    thread = await make_thread(db, title="Weekend trip to Lisbon", messages=2)
    await make_message(db, thread.id, "and a Lisbon tram")
    assert await texts(api, "lisbon") == ["and a Lisbon tram", "message 1"]
    assert await texts(api, "lisbon trip") == ["message 1"], "a term only in the title"
    assert await texts(api, "lisbon", filter={"role": "USER", "threadId": thread.id}) == [
        "and a Lisbon tram"
    ], "a filter on the messages leaves the titles out"
    rename = (
        'mutation($id: ID!) { updateThread(input: {id: $id, title: "Porto"}) { thread { id } } }'
    )
    await api.ok(rename, {"id": thread.id})
    assert await texts(api, "trip") == []
    assert await texts(api, "porto") == ["message 1"]
    await api.ok("mutation($id: ID!) { deleteThread(input: {id: $id}) { id } }", {"id": thread.id})
    assert await texts(api, "porto") == [], "its thread in the trash"


def _examined(explained: Any) -> int:
    """The documents an explain's plan examined (the largest figure it reports)."""
    if isinstance(explained, dict):
        own = int(explained.get("totalDocsExamined", 0))
        return max([own, *(_examined(v) for v in explained.values())])
    if isinstance(explained, list):
        return max([0, *(_examined(v) for v in explained)])
    return 0


NOW = datetime(2026, 6, 1, 12, 0)


async def thread_at(
    db: Database, title: str, messages: list[tuple[str, datetime]], *, at: datetime | None = None
) -> Thread:
    """A thread created at `at` (its first message's time by default), its messages written at
    the given times, in one insert: data spread over time without a clock."""
    who = caller()
    new = NewThread(title=title, messages=tuple(new_message(text) for text, _ in messages))
    created = at or messages[0][1]
    thread = Thread.new(new, id=domain.new_id(domain.THREAD_PREFIX), caller=who, at=created)
    await store.insert_thread(
        db,
        thread,
        [
            Message.new(
                new.messages[n],
                id=domain.new_id(domain.MESSAGE_PREFIX),
                caller=who,
                thread_id=thread.id,
                seq=n + 1,
                at=when,
            )
            for n, (_, when) in enumerate(messages)
        ],
    )
    return thread


async def all_pages(api: Api, query: str, first: int, **variables: Any) -> list[str]:
    seen: list[str] = []
    after = None
    for _ in range(100):
        data = await api.ok(SEARCH, {"q": query, "first": first, "after": after, **variables})
        page = data["search"]
        seen += [edge["node"]["message"]["text"] for edge in page["edges"]]
        if not page["pageInfo"]["hasNextPage"]:
            return seen
        after = page["pageInfo"]["endCursor"]
    raise AssertionError("no last page")


async def test_pages_across_windows(db: Database) -> None:
    """Every hit once, newest first, whichever window it lies in: newer than now (a skewed
    clock), on a window's edge with ties in its millisecond, years old, or a title hit."""
    hour = timedelta(hours=1)
    times = [
        NOW + timedelta(days=2),
        NOW - timedelta(minutes=30),
        *[NOW - hour] * 3,  # the first window's low end (inclusive), three in one millisecond
        NOW - hour - timedelta(milliseconds=1),
        NOW - 9 * hour,
        *[NOW - timedelta(days=n) for n in range(2, 40, 3)],
        NOW - timedelta(days=3_000),  # older than every bounded window
    ]
    spread = [(f"needle {n}", at) for n, at in enumerate(times)]
    await thread_at(db, "haystack", spread[::2])
    await thread_at(db, "haystack", spread[1::2])
    titled = await thread_at(db, "Needle work", [("the first", NOW - timedelta(days=20))])
    await thread_at(db, "haystack", [("needle elsewhere", NOW - timedelta(days=5))])
    api = Api(db, clock=lambda: NOW)
    order = sorted(
        [(at, text) for text, at in spread] + [(titled.created_at, "the first")],
        key=lambda hit: hit[0],
        reverse=True,
    )
    expected = [text for _, text in order]
    found = await all_pages(api, "needle", 3)
    assert sorted(found) == sorted([*expected, "needle elsewhere"]), "each once"
    assert found[:4] == ["needle 0", "needle 1", *found[2:4]]
    assert found[-1] == f"needle {len(times) - 1}"
    assert "the first" in found, "a title hit, in its window"
    assert await all_pages(api, "needle", 50) == found, "the same order whatever the page size"
    after, before = NOW - timedelta(days=30), NOW - 9 * hour
    window = {"createdAfter": after.isoformat() + "Z", "createdBefore": before.isoformat() + "Z"}
    hits = [text for text, at in spread if after <= at < before] + ["needle elsewhere"]
    filtered = await all_pages(api, "needle", 2, filter=window)
    assert sorted(filtered) == sorted([*hits, "the first"]), filtered


async def spread_tenant(db: Database, *, messages: int, every: timedelta) -> None:
    """`messages` messages "needle common {n}" (every 100th also "rare"), one each `every`
    back from NOW, in threads of 20 titled "needle {n}"."""
    for start in range(0, messages, 20):
        await thread_at(
            db,
            f"needle {start}",
            [
                (f"needle common {n} {'rare' if n % 100 == 99 else ''}", NOW - every * n)
                for n in reversed(range(start, min(start + 20, messages)))
            ],
        )


async def test_a_page_reads_a_bounded_range(recorded: tuple[Database, Recorder]) -> None:
    """On a tenant of 3,200 matching messages, a page (probes, messages and titles) examines a
    few pages' worth of index entries, not every holder of the term older than the cursor."""
    db, recorder = recorded
    await spread_tenant(db, messages=3_200, every=timedelta(minutes=20))
    api = Api(db, clock=lambda: NOW)
    for query in ("needle", "needle comm", "common needle"):
        after = None
        for _ in range(3):
            recorder.commands.clear()
            data = (await api.ok(SEARCH, {"q": query, "first": 20, "after": after}))["search"]
            assert len(data["edges"]) == 20, query
            after = data["pageInfo"]["endCursor"]
            scans = [
                command
                for command in recorder.commands
                if "aggregate" in command
                and {"terms", "titleTerms"} & set(command["pipeline"][0]["$match"])
            ]
            examined = sum([await docs_examined(db, command) for command in scans])
            assert examined <= windows.GROWTH * 21, (query, examined)  # of 3,200
            assert all("$gte" in s["pipeline"][0]["$match"]["createdAt"] for s in scans), scans


async def test_commands_per_page_are_bounded(recorded: tuple[Database, Recorder]) -> None:
    """A query whose terms are all in one old message reads every window down to the oldest
    times, in at most MAX_COMMANDS commands."""
    db, recorder = recorded
    await spread_tenant(db, messages=200, every=timedelta(hours=1))
    words = [f"w{n}" for n in range(MAX_SEARCH_TERMS - 1)]
    await thread_at(db, "old", [(" ".join(["needle", *words]), NOW - timedelta(days=4_000))])
    api = Api(db, clock=lambda: NOW)
    recorder.commands.clear()
    query = " ".join(["needle", *words])
    data = (await api.ok(SEARCH, {"q": query, "first": 20}))["search"]
    assert [edge["node"]["message"]["text"] for edge in data["edges"]] == [query]
    scans = [c for c in recorder.commands if c.get("aggregate") and "$sort" in repr(c)]
    lows = [scan["pipeline"][0]["$match"]["createdAt"].get("$gte") for scan in scans]
    assert lows[-1] is None and len(scans) == 2 * windows.MAX_WINDOWS, "every window read"
    probes = [
        c
        for c in recorder.commands
        if "aggregate" in c and "terms" in c["pipeline"][0]["$match"] and c not in scans
    ]
    assert len(probes) == MAX_SEARCH_TERMS
    assert len(recorder.commands) <= MAX_COMMANDS, len(recorder.commands)
