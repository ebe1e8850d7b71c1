"""Message reads examine about what they return, in a constant number of commands: explain()
on the real server sums the documents and keys every message command examined."""

from typing import Any

import pytest

from app import store
from app.domain import now
from app.pagination import MESSAGE_ORDER, SEQ_STEPS, encode_cursor
from app.store import Database, codec
from tests.helpers.api import Api
from tests.helpers.backends import Recorder, examined
from tests.helpers.factories import make_thread

PAGE = """query($t: ID!, $first: Int, $last: Int, $after: String, $order: SortOrder = DESC) {
  thread(id: $t) { messages(first: $first, last: $last, after: $after, order: $order) {
    nodes { text } pageInfo { hasNextPage } } } }"""
INBOX = """query($m: Int!, $previews: Boolean!) { threads(first: $m, orderBy: UPDATED_AT) {
  nodes { title messages(first: 5) { nodes { text } } lastMessage @include(if: $previews) { text } }
} }"""
RATIO = 1.5


async def message_reads(db: Database, recorder: Recorder) -> tuple[int, int, int]:
    """The message commands recorded: how many, and the documents and keys they examined."""
    commands = [c for c in recorder.commands if c.get("aggregate") == store.MESSAGES]
    docs = keys = 0
    for command in commands:
        more_docs, more_keys = await examined(db, command)
        docs, keys = docs + more_docs, keys + more_keys
    return len(commands), docs, keys


def texts(numbers: range) -> list[str]:
    return [f"message {n}" for n in numbers]


@pytest.mark.slow
async def test_a_page_of_a_long_thread_examines_what_it_returns(
    recorded: tuple[Database, Recorder],
) -> None:
    db, recorder = recorded
    thread = await make_thread(db, messages=10_000)
    api = Api(db)
    deep = encode_cursor(MESSAGE_ORDER, (5_000,))
    pages: list[tuple[dict[str, Any], range]] = [
        ({"first": 100}, range(10_000, 9_900, -1)),  # the newest
        ({"first": 100, "after": deep}, range(4_999, 4_899, -1)),
        ({"last": 100}, range(100, 0, -1)),  # the oldest
        ({"first": 100, "order": "ASC"}, range(1, 101)),
        ({"first": 100, "after": deep, "order": "ASC"}, range(5_001, 5_101)),
        ({"last": 100, "order": "ASC"}, range(9_901, 10_001)),
    ]
    for arguments, expected in pages:
        recorder.commands.clear()
        data = await api.ok(PAGE, {"t": thread.id, **arguments})
        connection = data["thread"]["messages"]
        assert [node["text"] for node in connection["nodes"]] == texts(expected), arguments
        commands, docs, keys = await message_reads(db, recorder)
        assert commands == 1, arguments
        assert docs <= RATIO * 101 and keys <= RATIO * 101, (arguments, docs, keys)
    recorder.commands.clear()
    probed = """query($t: ID!, $after: String) { thread(id: $t) {
        messages(first: 100, after: $after) { pageInfo { hasPreviousPage } } } }"""
    data = await api.ok(probed, {"t": thread.id, "after": deep})
    assert data["thread"]["messages"]["pageInfo"]["hasPreviousPage"] is True
    commands, docs, keys = await message_reads(db, recorder)
    assert commands == 2 and docs <= RATIO * 101 + 2, ("a probe from the cursor", docs)


async def test_many_threads_last_messages_examine_what_they_return(
    recorded: tuple[Database, Recorder],
) -> None:
    db, recorder = recorded
    for n in range(50):
        await make_thread(db, title=f"t{n}", messages=12)
    api = Api(db)
    used = {}
    for m in (1, 10, 50):
        for previews in (False, True):
            recorder.commands.clear()
            data = await api.ok(INBOX, {"m": m, "previews": previews})
            nodes = data["threads"]["nodes"]
            assert [node["messages"]["nodes"] for node in nodes] == [
                [{"text": text} for text in texts(range(12, 7, -1))]
            ] * m
            if previews:
                assert {node["lastMessage"]["text"] for node in nodes} == {"message 12"}
            commands, docs, keys = await message_reads(db, recorder)
            returned = m * (6 if previews else 5)
            assert docs <= RATIO * returned and keys <= RATIO * returned, (m, docs, keys)
            used[m, previews] = commands
    assert used == {(m, previews): 1 + previews for m in (1, 10, 50) for previews in (0, 1)}


PAGED = "query { threads(first: 10) { nodes { messages(first: 5) { nodes { text } %s } } } }"
ASKING = [
    ("pageInfo { hasNextPage }", ""),
    ("more: pageInfo { hasNextPage }", ""),
    ("pageInfo @include(if: true) { hasNextPage }", ""),
    ("... on MessageConnection { pageInfo { hasNextPage } }", ""),
    ("...Paged", "fragment Paged on MessageConnection { pageInfo { hasNextPage } }"),
]


async def test_a_page_reads_the_message_past_it_only_if_page_info_is_selected(
    recorded: tuple[Database, Recorder],
) -> None:
    """That message tells whether more follow: an inbox that selects no pageInfo reads just
    its pages; pageInfo under an alias, a directive or a fragment reads it."""
    db, recorder = recorded
    for n in range(10):
        await make_thread(db, title=f"t{n}", messages=12)
    api = Api(db)
    recorder.commands.clear()
    data = await api.ok(PAGED % "")
    assert all(len(t["messages"]["nodes"]) == 5 for t in data["threads"]["nodes"])
    assert (await message_reads(db, recorder))[1] == 50
    for selection, fragment in ASKING:
        recorder.commands.clear()
        data = await api.ok(PAGED % selection + fragment)
        infos = [
            t["messages"].get("pageInfo", t["messages"].get("more"))
            for t in data["threads"]["nodes"]
        ]
        assert infos == [{"hasNextPage": True}] * 10, selection
        assert (await message_reads(db, recorder))[1] == 60, selection


async def test_a_thread_whose_newest_messages_are_in_the_trash(
    recorded: tuple[Database, Recorder],
) -> None:
    """Its page reads on beyond the trash, a few times wider each time, not the whole thread;
    with other threads, in one command per step for all."""
    db, recorder = recorded
    trashed = await make_thread(db, title="trashed", messages=3_000)
    for n in range(3):
        await make_thread(db, title=f"t{n}", messages=30)
    at = now()
    await db[store.MESSAGES].update_many(
        {"threadId": trashed.id, "seq": {"$gt": 2_850}}, {"$set": {"deletedAt": at}}
    )
    api = Api(db)
    query = "{ threads(first: 4) { nodes { title messages(first: 20) { nodes { text } } } } }"
    recorder.commands.clear()
    data = await api.ok(query)
    pages = {
        n["title"]: [m["text"] for m in n["messages"]["nodes"]] for n in data["threads"]["nodes"]
    }
    assert pages["trashed"] == texts(range(2_850, 2_830, -1))
    assert pages["t0"] == texts(range(30, 10, -1))
    commands, docs, keys = await message_reads(db, recorder)
    assert commands <= SEQ_STEPS, commands
    needed = 150 + 21  # the trash, then the page and one more
    assert docs <= 4 * needed + 3 * 21 and keys <= 4 * needed + 3 * 21, (docs, keys)
    recorder.commands.clear()
    data = await api.ok(PAGE, {"t": trashed.id, "first": 20})
    assert [node["text"] for node in data["thread"]["messages"]["nodes"]] == pages["trashed"]
    commands, docs, keys = await message_reads(db, recorder)
    assert commands <= SEQ_STEPS and docs <= 4 * needed, (commands, docs)
    recorder.commands.clear()
    preview = await api.ok(
        "query($t: ID!) { thread(id: $t) { lastMessage { text } } }", {"t": trashed.id}
    )
    assert preview["thread"]["lastMessage"] == {"text": "message 2850"}
    commands, docs, _ = await message_reads(db, recorder)
    assert docs <= 4 * 150, docs


async def test_messages_written_in_blocks_are_found_after_migrating(db: Database) -> None:
    """An older version stored each message's block of 32 numbers (`bucket`), not its key."""
    for n in range(2):
        await make_thread(db, title=f"t{n}", messages=40)
    await db[store.MESSAGES].update_many({}, {"$unset": {"threadSeq": ""}, "$set": {"bucket": "b"}})
    await db[store.MESSAGES].create_index([("organizationId", 1), ("bucket", 1)])
    query = "{ threads(first: 2) { nodes { messages(first: 3) { nodes { text } } } } }"
    found = await Api(db).ok(query)
    assert [t["messages"]["nodes"] for t in found["threads"]["nodes"]] == [[], []], "as left"
    assert await store.migrate(db, now=now()) == 80
    found = await Api(db).ok(query)
    expected = [{"text": text} for text in texts(range(40, 37, -1))]
    assert [t["messages"]["nodes"] for t in found["threads"]["nodes"]] == [expected] * 2
    assert await db[store.MESSAGES].count_documents({"bucket": {"$exists": True}}) == 0
    assert "organizationId_1_bucket_1" not in await db[store.MESSAGES].index_information()
    assert await store.migrate(db, now=now()) == 0, "runs once"


def test_an_older_held_message_gets_its_key() -> None:
    """A thread being created holds its messages; one an older version held has `bucket`."""
    old = {"_id": "m", "threadId": "thread_1", "seq": 7, "bucket": "thread_1:0"}
    assert codec.keyed(old) == {
        "_id": "m",
        "threadId": "thread_1",
        "seq": 7,
        "threadSeq": "thread_1:7",
    }


async def test_a_thread_by_id_examines_one_document(
    recorded: tuple[Database, Recorder],
) -> None:
    """`thread(id:)` reads its thread by equality on the by-id index: one key, one document,
    however many threads the organization has."""
    db, recorder = recorded
    threads = [await make_thread(db) for _ in range(30)]
    recorder.commands.clear()
    data = await Api(db).ok("query($t: ID!) { thread(id: $t) { title } }", {"t": threads[7].id})
    assert data["thread"] is not None
    [command] = recorder.commands
    assert command["find"] == store.THREADS
    assert await examined(db, command) == (1, 1)
