"""Paging through messages and threads: keyset cursors, both directions, filters, counts."""

from typing import Any

import pytest

from app import store
from app.domain import now
from app.graphql import connections, types
from app.graphql.connections import PageInfo
from app.pagination import Key, Ordering, Page, PageRequest, encode_cursor
from app.services import trash
from app.services.runtime import Runtime
from app.store import Database
from tests.helpers.api import Api
from tests.helpers.factories import caller, make_message, make_thread

MESSAGES = """
query($id: ID!, $first: Int, $after: String, $last: Int, $before: String, $limit: Int,
      $order: SortOrder = DESC, $metadata: Metadata, $role: MessageRole) {
  thread(id: $id) {
    messages(first: $first, after: $after, last: $last, before: $before, limit: $limit,
             order: $order, metadata: $metadata, role: $role) {
      totalCount
      edges { cursor node { text } }
      nodes { text }
      pageInfo { hasNextPage hasPreviousPage startCursor endCursor }
    }
  }
}
"""
NO_COUNT = """
query($id: ID!) { thread(id: $id) { messages(first: 3) { nodes { text } pageInfo { hasNextPage } } } }
"""
THREADS = """
query($first: Int, $after: String, $last: Int, $before: String, $order: SortOrder = DESC) {
  threads(first: $first, after: $after, last: $last, before: $before, order: $order) {
    totalCount nodes { title } pageInfo { hasNextPage hasPreviousPage startCursor endCursor }
  }
}
"""


async def page(api: Api, thread_id: str, **arguments: object) -> dict[str, Any]:
    data = await api.ok(MESSAGES, {"id": thread_id, **arguments})
    connection: dict[str, Any] = data["thread"]["messages"]
    return connection


def texts(connection: dict[str, Any]) -> list[str]:
    return [node["text"] for node in connection["nodes"]]


async def test_forward_and_backward_walks_cover_everything_once(api: Api, db: Database) -> None:
    thread = await make_thread(db, messages=45)
    expected = [f"message {n}" for n in range(1, 46)]
    for order, listing in (("ASC", expected), ("DESC", expected[::-1])):
        seen: list[str] = []
        after = None
        while True:
            connection = await page(api, thread.id, first=10, after=after, order=order)
            info = connection["pageInfo"]
            assert info["hasPreviousPage"] is (after is not None)
            assert connection["totalCount"] == 45
            assert [e["node"]["text"] for e in connection["edges"]] == texts(connection)
            seen += texts(connection)
            if not info["hasNextPage"]:
                break
            after = info["endCursor"]
        assert seen == listing

        seen, before = [], None
        while True:
            connection = await page(api, thread.id, last=10, before=before, order=order)
            info = connection["pageInfo"]
            assert info["hasNextPage"] is (before is not None)
            seen = texts(connection) + seen
            if not info["hasPreviousPage"]:
                break
            before = info["startCursor"]
        assert seen == listing


async def test_default_size_limit_synonym_and_size_errors(api: Api, db: Database) -> None:
    thread = await make_thread(db, messages=25)
    assert len(texts(await page(api, thread.id))) == 20
    limited = await page(api, thread.id, limit=2)
    assert texts(limited) == ["message 25", "message 24"]
    for arguments, field in (
        ({"first": 2, "last": 2}, "first"),
        ({"limit": 2, "last": 2}, "limit"),
        ({"first": 101}, "first"),
        ({"last": 0}, "last"),
    ):
        error = await api.error(MESSAGES, {"id": thread.id, **arguments})
        assert error["extensions"] == {"code": "BAD_USER_INPUT", "field": field}


async def test_writes_while_paging_never_skip_or_repeat(api: Api, db: Database) -> None:
    thread = await make_thread(db, messages=30)
    first = await page(api, thread.id, first=10, order="ASC")
    assert texts(first) == [f"message {n}" for n in range(1, 11)]
    # Delete the very item the cursor points at, and some already seen; add new ones.
    ids = {
        d["content"][0]["text"]["value"]: d["_id"]
        async for d in db[store.MESSAGES].find({"threadId": thread.id})
    }
    for text in ("message 10", "message 3", "message 15"):
        await api.ok(
            "mutation($id: ID!) { deleteMessage(input: {id: $id}) { deleted } }", {"id": ids[text]}
        )
    await make_message(db, thread.id, "message 31")
    second = await page(
        api,
        thread.id,
        first=10,
        after=first["pageInfo"]["endCursor"],
        order="ASC",
    )
    assert texts(second) == [f"message {n}" for n in (11, 12, 13, 14, 16, 17, 18, 19, 20, 21)]


async def test_has_previous_page_is_exact(api: Api, db: Database) -> None:
    thread = await make_thread(db, messages=5)
    first = await page(api, thread.id, first=2, order="ASC")
    cursor = first["pageInfo"]["endCursor"]
    for doc in (
        await db[store.MESSAGES].find({"threadId": thread.id, "seq": {"$lte": 2}}).to_list(None)
    ):
        await trash.delete_message(Runtime(db), caller=caller(), message_id=doc["_id"])
    rest = await page(api, thread.id, first=2, after=cursor, order="ASC")
    assert texts(rest) == ["message 3", "message 4"]
    assert rest["pageInfo"]["hasPreviousPage"] is False


async def test_message_filters_and_total_count(api: Api, db: Database) -> None:
    thread = await make_thread(db)
    for n in range(6):
        await make_message(
            db,
            thread.id,
            f"m{n}",
            role="assistant" if n % 2 else "user",
            metadata={"even": "yes"} if n % 2 == 0 else {"even": "no", "x": "1"},
        )
    even = await page(api, thread.id, metadata={"even": "yes"}, order="ASC")
    assert texts(even) == ["m0", "m2", "m4"] and even["totalCount"] == 3
    odd = await page(api, thread.id, metadata={"even": "no", "x": "1"}, role="ASSISTANT")
    assert texts(odd) == ["m5", "m3", "m1"] and odd["totalCount"] == 3
    none = await page(api, thread.id, metadata={"even": "yes"}, role="ASSISTANT")
    assert texts(none) == [] and none["totalCount"] == 0
    assert none["pageInfo"] == {
        "hasNextPage": False,
        "hasPreviousPage": False,
        "startCursor": None,
        "endCursor": None,
    }


async def test_total_count_only_when_selected(
    api: Api, db: Database, monkeypatch: pytest.MonkeyPatch
) -> None:
    thread = await make_thread(db, messages=4)

    async def no_count(*args: object, **kwargs: object) -> int:
        raise AssertionError("totalCount was computed without being selected")

    monkeypatch.setattr(store, "count_all", no_count)
    data = await api.ok(NO_COUNT, {"id": thread.id})
    assert data["thread"]["messages"]["nodes"] == [
        {"text": "message 4"},
        {"text": "message 3"},
        {"text": "message 2"},
    ]
    probe = await api.error(MESSAGES, {"id": thread.id})
    assert probe["extensions"] == {"code": "INTERNAL_SERVER_ERROR"}
    assert probe["path"] == ["thread", "messages", "totalCount"], "the probe is wired"


async def test_cursors_only_when_selected(
    api: Api, db: Database, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A page of nodes encodes only the cursors of PageInfo (its first and last item), and a
    thread's eventCursor only when asked for; edges still carry theirs."""
    thread = await make_thread(db, messages=6)
    encoded: list[object] = []
    original = encode_cursor

    def counting(ordering: Ordering, key: Key) -> str:
        encoded.append(key)
        return original(ordering, key)

    monkeypatch.setattr(connections, "encode_cursor", counting)
    monkeypatch.setattr(types, "encode_cursor", counting)
    nodes = "query($id: ID!) { thread(id: $id) { title messages(first: 5) { %s } } }"
    data = await api.ok(
        nodes % "nodes { text } pageInfo { startCursor endCursor }", {"id": thread.id}
    )
    info = data["thread"]["messages"]["pageInfo"]
    assert len(encoded) == 2 and info["startCursor"] != info["endCursor"]
    encoded.clear()
    data = await api.ok(nodes % "edges { cursor } pageInfo { endCursor }", {"id": thread.id})
    edges = data["thread"]["messages"]["edges"]
    assert (
        len(encoded) == 5
        and edges[-1]["cursor"] == data["thread"]["messages"]["pageInfo"]["endCursor"]
    )
    encoded.clear()
    data = await api.ok("query($id: ID!) { thread(id: $id) { eventCursor } }", {"id": thread.id})
    assert len(encoded) == 1 and data["thread"]["eventCursor"]


async def test_forged_cursor_via_api(api: Api, db: Database) -> None:
    thread = await make_thread(db, messages=1)
    error = await api.error(MESSAGES, {"id": thread.id, "after": "bm90IGEgY3Vyc29y"})
    assert error["extensions"] == {"code": "BAD_USER_INPUT", "field": "after"}
    threads = await api.ok(THREADS, {"first": 1})
    error = await api.error(
        MESSAGES, {"id": thread.id, "before": threads["threads"]["pageInfo"]["endCursor"]}
    )
    assert error["extensions"] == {"code": "BAD_USER_INPUT", "field": "before"}


async def test_threads_created_in_one_millisecond_page_exactly(
    api: Api, db: Database, monkeypatch: pytest.MonkeyPatch
) -> None:
    frozen = now()
    for n in range(25):
        await make_thread(db, title=f"t{n}", runtime=Runtime(db, clock=lambda: frozen))
    everything = await api.ok(THREADS, {"first": 100, "order": "ASC"})
    listing = [node["title"] for node in everything["threads"]["nodes"]]
    assert sorted(listing) == sorted(f"t{n}" for n in range(25))
    for order, expected in (("ASC", listing), ("DESC", listing[::-1])):
        seen: list[str] = []
        after = None
        while True:
            data = (await api.ok(THREADS, {"first": 7, "after": after, "order": order}))["threads"]
            seen += [node["title"] for node in data["nodes"]]
            if not data["pageInfo"]["hasNextPage"]:
                break
            after = data["pageInfo"]["endCursor"]
        assert seen == expected
        data = (await api.ok(THREADS, {"last": 7, "order": order}))["threads"]
        assert [node["title"] for node in data["nodes"]] == expected[-7:]
        assert data["pageInfo"]["hasPreviousPage"] is True


async def test_paging_across_wide_gaps(api: Api, db: Database) -> None:
    thread = await make_thread(db, messages=300)
    sevenths = [n for n in range(1, 301) if n % 7 == 1]
    await db[store.MESSAGES].delete_many({"threadId": thread.id, "seq": {"$in": sevenths}})
    await db[store.MESSAGES].delete_many({"threadId": thread.id, "seq": {"$gt": 20, "$lt": 200}})
    kept = [n for n in range(1, 301) if n % 7 != 1 and not 20 < n < 200]
    for order, expected in (("ASC", kept), ("DESC", kept[::-1])):
        seen: list[str] = []
        after = None
        while True:
            connection = await page(api, thread.id, first=10, after=after, order=order)
            seen += texts(connection)
            if not connection["pageInfo"]["hasNextPage"]:
                break
            after = connection["pageInfo"]["endCursor"]
        assert seen == [f"message {n}" for n in expected]
        backward = await page(api, thread.id, last=15, order=order)
        assert texts(backward) == [f"message {n}" for n in expected[-15:]]


def test_a_known_answer_of_page_info_awaits_nothing() -> None:
    """hasNextPage and hasPreviousPage answer a page's known answer as a plain value (an async
    resolver would cost a coroutine and an await per connection); only a probe is awaited."""
    request = PageRequest(size=2, forward=True, descending=True)
    known: Page[object] = Page(items=[], keys=[], has_next=True, has_previous=False)
    info = PageInfo(start_cursor=None, end_cursor=None, page=known, query=None, request=request)
    definition = PageInfo.__strawberry_definition__  # type: ignore[attr-defined]
    for name, expected in (("has_next_page", True), ("has_previous_page", False)):
        resolver = definition.get_field(name).base_resolver
        assert resolver.wrapped_func(info, None) is expected
