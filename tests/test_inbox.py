"""The inbox a chat sidebar needs: threads by last activity with stable cursors while threads
move, a preview of each thread's last message in one batched read, and tags (list metadata
values) matched by containment through an index."""

import asyncio
from typing import Any

from app import store
from app.domain import now
from app.store import Database
from tests.helpers.api import Api
from tests.helpers.backends import Recorder
from tests.helpers.factories import make_message, make_thread
from tests.test_storage import stages

PAGE = """query($first: Int, $after: String, $order: SortOrder!) {
  threads(first: $first, after: $after, order: $order, orderBy: UPDATED_AT) {
    nodes { id title updatedAt }
    pageInfo { hasNextPage endCursor }
  }
}"""
RENAME = """mutation($id: ID!, $title: String!) {
  updateThread(input: {id: $id, title: $title}) { thread { updatedAt } }
}"""
TITLES = """query($filter: ThreadFilter) {
  threads(filter: $filter, order: ASC) { totalCount nodes { title metadata } }
}"""


async def walk_while_moving(api: Api, order: str, ids: list[str]) -> tuple[list[str], set[str]]:
    """Page through the inbox 4 at a time, renaming (moving) two threads after each page: one
    already seen and one not seen yet. The ids returned, and those moved."""
    seen: list[str] = []
    moved: set[str] = set()
    after = None
    while True:
        data = (await api.ok(PAGE, {"first": 4, "after": after, "order": order}))["threads"]
        seen += [node["id"] for node in data["nodes"]]
        stamps = [node["updatedAt"] for node in data["nodes"]]
        assert stamps == sorted(stamps, reverse=order == "DESC"), "each page is in order"
        if not data["pageInfo"]["hasNextPage"]:
            return seen, moved
        unseen = [thread_id for thread_id in ids if thread_id not in seen]
        for thread_id in (seen[len(seen) // 2], *unseen[-1:]):
            await asyncio.sleep(0.002)  # a later millisecond than any write so far
            await api.ok(RENAME, {"id": thread_id, "title": f"moved {len(moved)}"})
            moved.add(thread_id)
        after = data["pageInfo"]["endCursor"]


async def test_walking_the_inbox_while_threads_move(api: Api, db: Database) -> None:
    for order in ("DESC", "ASC"):
        ids = []
        for n in range(18):
            ids.append((await make_thread(db, title=f"{order} {n}")).id)
            await asyncio.sleep(0.002)
        # The other walk's threads are older or newer than all of these: keep to these.
        seen, moved = await walk_while_moving(api, order, ids)
        seen = [thread_id for thread_id in seen if thread_id in ids]
        assert len(seen) == len(set(seen)), f"{order}: a thread came twice"
        assert set(ids) - moved <= set(seen), f"{order}: a thread that did not move was skipped"


async def test_every_kind_of_write_moves_a_thread(api: Api, db: Database) -> None:
    thread = await make_thread(db, messages=1)
    message = await make_message(db, thread.id, "hello")
    stamps = [thread.updated_at]
    for mutation, variables in (
        (
            'mutation($t: ID!) { createMessage(input: {threadId: $t, content: "x"}) { message { id } } }',
            {"t": thread.id},
        ),
        (
            'mutation($m: ID!) { updateMessage(input: {id: $m, metadata: {k: "v"}}) { message { id } } }',
            {"m": message.id},
        ),
        (
            'mutation($t: ID!) { updateThread(input: {id: $t, metadata: {k: "v"}}) { thread { id } } }',
            {"t": thread.id},
        ),
        (
            "mutation($t: ID!) { updateThread(input: {id: $t, state: LOCKED}) { thread { id } } }",
            {"t": thread.id},
        ),
    ):
        await asyncio.sleep(0.002)
        await api.ok(mutation, variables)
        data = await api.ok("query($t: ID!) { thread(id: $t) { updatedAt } }", {"t": thread.id})
        stamps.append(data["thread"]["updatedAt"])
    assert len(set(stamps)) == len(stamps), stamps


INBOX = """query($with: Boolean!) {
  threads(first: 50, orderBy: UPDATED_AT) {
    nodes { title lastMessage @include(if: $with) { text role createdAt } }
  }
}"""


async def test_previews_cost_at_most_one_more_command(
    recorded: tuple[Database, Recorder],
) -> None:
    db, recorder = recorded
    for n in range(49):
        thread = await make_thread(db, title=f"t{n}", messages=n % 4)
    await make_thread(db, title="empty")
    api = Api(db)
    counts = {}
    for with_previews in (False, True):
        recorder.commands.clear()
        data = await api.ok(INBOX, {"with": with_previews})
        counts[with_previews] = len(recorder.commands)
    assert counts[True] <= counts[False] + 1, counts
    nodes = {node["title"]: node["lastMessage"] for node in data["threads"]["nodes"]}
    assert nodes["empty"] is None and nodes["t0"] is None
    assert nodes["t3"]["text"] == "message 3" and nodes["t3"]["role"] == "USER"
    assert nodes["t48"] is None and nodes["t47"]["text"] == "message 3"
    await make_message(db, thread.id, "the newest")
    again = await api.ok(INBOX, {"with": True})
    assert again["threads"]["nodes"][0] == {
        "title": thread.title,
        "lastMessage": {
            "text": "the newest",
            "role": "USER",
            "createdAt": again["threads"]["nodes"][0]["lastMessage"]["createdAt"],
        },
    }, "the thread that moved comes first, with its new preview"


async def test_tags_match_by_containment(api: Api, db: Database) -> None:
    await make_thread(db, title="ab", metadata={"tags": ["a", "b"], "kind": "chat"})
    await make_thread(db, title="b", metadata={"tags": ["b"]})
    await make_thread(db, title="string a", metadata={"tags": "a"})
    await make_thread(db, title="none", metadata={"kind": "a"})

    async def titles(metadata: dict[str, Any]) -> list[str]:
        data = await api.ok(TITLES, {"filter": {"metadata": metadata}})
        assert data["threads"]["totalCount"] == len(data["threads"]["nodes"])
        return sorted(node["title"] for node in data["threads"]["nodes"])

    assert await titles({"tags": "a"}) == ["ab", "string a"]
    assert await titles({"tags": ["a", "b"]}) == ["ab"]
    assert await titles({"tags": "b", "kind": "chat"}) == ["ab"]
    assert await titles({"kind": "a"}) == ["none"], "a string still matches exactly"
    assert await titles({"tags": "c"}) == []
    data = await api.ok(TITLES, {"filter": {"metadata": {"tags": "b", "kind": "chat"}}})
    assert data["threads"]["nodes"][0]["metadata"] == {"tags": ["a", "b"], "kind": "chat"}


async def test_list_values_on_messages_and_updates(api: Api, db: Database) -> None:
    thread = await make_thread(db)
    await make_message(db, thread.id, "one", metadata={"labels": ["x", "y"]})
    await make_message(db, thread.id, "two", metadata={"labels": "y"})
    query = """query($t: ID!, $m: Metadata) {
      thread(id: $t) { messages(metadata: $m, order: ASC) { totalCount nodes { text } } }
    }"""
    for condition, expected in (({"labels": "x"}, ["one"]), ({"labels": "y"}, ["one", "two"])):
        data = (await api.ok(query, {"t": thread.id, "m": condition}))["thread"]["messages"]
        assert [node["text"] for node in data["nodes"]] == expected
        assert data["totalCount"] == len(expected)
    updated = await api.ok(
        'mutation($t: ID!) { updateThread(input: {id: $t, metadata: {tags: ["p", "q"]}}) { thread { metadata } } }',
        {"t": thread.id},
    )
    assert updated["updateThread"]["thread"]["metadata"] == {"tags": ["p", "q"]}
    found = await api.ok(TITLES, {"filter": {"metadata": {"tags": "q"}}})
    assert found["threads"]["totalCount"] == 1


async def test_list_value_rules(api: Api) -> None:
    create = "mutation($m: Metadata) { createThread(input: {metadata: $m}) { thread { id } } }"
    for metadata, message in (
        ({"tags": ["t"] * 33}, "may hold at most 32 strings"),
        ({"tags": ["ok", 1]}, "must be a string or a list of strings"),
        ({"tags": ["x" * 513]}, "at most 512 characters"),
        ({"tags": [["nested"]]}, "must be a string or a list of strings"),
    ):
        error = await api.error(create, {"m": metadata})
        assert error["extensions"] == {"code": "BAD_USER_INPUT", "field": "input.metadata"}
        assert message in error["message"]
    assert await api.ok(create, {"m": {"tags": ["t"] * 32}})


async def test_tag_filters_scan_an_index(recorded: tuple[Database, Recorder]) -> None:
    db, recorder = recorded
    for n in range(30):
        await make_thread(db, title=f"t{n}", metadata={"tags": ["common", f"tag{n}"]})
    recorder.commands.clear()
    data = await Api(db).ok(
        '{ threads(first: 5, filter: {metadata: {tags: "tag7"}}) { nodes { title } } }'
    )
    assert data["threads"]["nodes"] == [{"title": "t7"}]
    windows = [c for c in recorder.commands if "aggregate" in c]
    examined = 0
    for command in windows:
        scan = command["pipeline"][0]["$match"]
        explained = await db.command(
            {"explain": {"find": "threads", "filter": scan}, "verbosity": "executionStats"}
        )
        plan = explained["queryPlanner"]["winningPlan"]
        assert "IXSCAN" in stages(plan) and "COLLSCAN" not in stages(plan), plan
        assert "metaTerms" in repr(plan), "the scan is on the metadata terms' index"
        examined += explained["executionStats"]["totalKeysExamined"]
    assert examined <= len(windows) + 1, "only the matching thread"


async def test_metadata_written_before_terms_is_found_after_migrating(
    api: Api, db: Database
) -> None:
    thread = await make_thread(db, title="old", metadata={"tags": ["legacy"]})
    # As an older version left it: no terms, and no counts by term.
    unset = {"metaTerms": "", "countedTerms": ""}
    await db[store.THREADS].update_one({"_id": thread.id}, {"$unset": unset})
    await db[store.THREAD_COUNTERS].delete_many({"_id": {"$regex": "\x1f"}})
    await db[store.THREAD_COUNTERS].update_many({}, {"$unset": {"termsCountedAt": ""}})
    found = await api.ok(TITLES, {"filter": {"metadata": {"tags": "legacy"}}})
    assert found["threads"]["totalCount"] == 0, "as an older version left it"
    assert await store.migrate(db, now=now()) == 1
    found = await api.ok(TITLES, {"filter": {"metadata": {"tags": "legacy"}}})
    assert [node["title"] for node in found["threads"]["nodes"]] == ["old"]
    assert found["threads"]["totalCount"] == 1
    assert await store.migrate(db, now=now()) == 0, "runs once"
