"""A thread's messageCount is kept on the thread by the writes (reading it reads no message),
is moved back by a write that finds nothing to do, and is recounted by the sweep once a crash
may have left it off."""

from datetime import timedelta

import pytest

from app import store
from app.domain import MessageQuery, now
from app.errors import NotFound
from app.services.runtime import Runtime
from app.services.trash import delete_message
from app.store import Database, message_counts
from app.store.listings import count_listings
from app.store.names import MIGRATIONS
from tests.helpers.api import Api
from tests.helpers.backends import Recorder
from tests.helpers.crashes import crash_on
from tests.helpers.factories import caller, make_thread

COUNTS = (
    """query($id: ID!) { thread(id: $id) { messageCount messages(first: 1) { totalCount } } }"""
)
ORG = caller().organization_id


async def counts(api: Api, thread_id: str) -> tuple[int, int]:
    """messageCount (kept) and the messages' totalCount (counted)."""
    thread = (await api.ok(COUNTS, {"id": thread_id}))["thread"]
    return thread["messageCount"], thread["messages"]["totalCount"]


async def test_every_write_keeps_the_count(api: Api, db: Database) -> None:
    thread = await make_thread(db, messages=3)
    assert await counts(api, thread.id) == (3, 3)
    add = """mutation($t: ID!) { createMessage(input: {threadId: $t, content: "more"}) {
        message { id } thread { messageCount } } }"""
    added = (await api.ok(add, {"t": thread.id}))["createMessage"]
    assert added["thread"]["messageCount"] == 4
    assert await counts(api, thread.id) == (4, 4)
    deleted = await api.ok(
        "mutation($m: ID!) { deleteMessage(input: {id: $m}) { thread { messageCount } } }",
        {"m": added["message"]["id"]},
    )
    assert deleted["deleteMessage"]["thread"]["messageCount"] == 3
    assert await counts(api, thread.id) == (3, 3)
    await api.ok(
        "mutation($m: ID!) { restoreMessage(input: {id: $m}) { message { id } } }",
        {"m": added["message"]["id"]},
    )
    assert await counts(api, thread.id) == (4, 4)
    fork = await api.ok(
        "mutation($t: ID!) { forkThread(input: {threadId: $t}) { thread { id messageCount } } }",
        {"t": thread.id},
    )
    forked = fork["forkThread"]["thread"]
    assert forked["messageCount"] == 4 and await counts(api, forked["id"]) == (4, 4)
    empty = await make_thread(db)
    assert await counts(api, empty.id) == (0, 0)


async def test_a_racing_delete_moves_the_count_once(
    api: Api, db: Database, monkeypatch: pytest.MonkeyPatch
) -> None:
    thread = await make_thread(db, messages=2)
    [message] = await db[store.MESSAGES].find({"seq": 1}).to_list(None)
    rt, who = Runtime(db), caller()

    async def delete_meanwhile() -> None:
        await delete_message(rt, caller=who, message_id=message["_id"])

    # The second delete trashes the message between the first's numbering and its write.
    crash_on(monkeypatch, db, store.MESSAGES, "update_one", before=delete_meanwhile)
    with pytest.raises(NotFound):
        await delete_message(rt, caller=who, message_id=message["_id"])
    monkeypatch.undo()
    assert await counts(api, thread.id) == (1, 1)


async def test_the_sweep_recounts_a_count_a_crash_left_off(api: Api, db: Database) -> None:
    thread = await make_thread(db, messages=2)
    # A crash after the numbering write moved the count, before the message was inserted.
    await store.take_event_number(
        db, organization_id=ORG, thread_id=thread.id, at=now(), new_message=True, count=1
    )
    assert await counts(api, thread.id) == (3, 2)
    lease = timedelta(seconds=60)
    assert await store.finish_interrupted_writes(db, creating_older_than=lease) == 0
    assert await counts(api, thread.id) == (3, 2), "a write that moved it may still be running"
    assert await store.finish_interrupted_writes(db, creating_older_than=timedelta(0)) == 1
    assert await counts(api, thread.id) == (2, 2)
    settled = await db[store.THREADS].find_one({"_id": thread.id})
    assert settled is not None and "countedAt" not in settled
    assert await store.finish_interrupted_writes(db, creating_older_than=timedelta(0)) == 0


async def test_a_write_during_the_recount_keeps_the_mark(
    db: Database, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The recount settles only if no write moved the count since it was read."""
    thread = await make_thread(db, messages=1)
    at = now() - timedelta(minutes=5)
    await store.take_event_number(db, organization_id=ORG, thread_id=thread.id, at=at, count=1)
    original = count_listings

    async def written_meanwhile(db: Database, queries: list[MessageQuery]) -> list[int]:
        found = await original(db, queries)
        await store.move_message_count(
            db, organization_id=ORG, thread_id=thread.id, by=-1, at=now()
        )
        return found

    monkeypatch.setattr(message_counts, "count_listings", written_meanwhile)
    await store.settle_message_counts(db, before=now())
    kept = await db[store.THREADS].find_one({"_id": thread.id})
    assert kept is not None and "countedAt" in kept, "the next pass recounts"
    assert kept["messageCount"] == 1


async def test_old_threads_get_their_count(db: Database) -> None:
    thread = await make_thread(db, messages=3)
    await make_thread(db)
    await db[store.THREADS].update_many({}, {"$unset": {"messageCount": ""}})
    await db[MIGRATIONS].delete_one({"_id": "messageCount"})
    await store.migrate(db, now=now())
    found = {d["_id"]: d["messageCount"] async for d in db[store.THREADS].find({})}
    assert found[thread.id] == 3 and sorted(found.values()) == [0, 3]


async def test_reading_the_count_reads_no_message(recorded: tuple[Database, Recorder]) -> None:
    db, recorder = recorded
    thread = await make_thread(db, messages=5)
    recorder.commands.clear()
    data = await Api(db).ok(
        "query($id: ID!) { thread(id: $id) { messageCount } }", {"id": thread.id}
    )
    assert data["thread"]["messageCount"] == 5
    assert [next(iter(c)) for c in recorder.commands] == ["find"]
    assert recorder.commands[0]["find"] == store.THREADS


async def test_a_count_not_kept_yet_is_counted(api: Api, db: Database) -> None:
    """A thread of an older version, before the migration: its messages are counted (the
    resolver hands the executor the count's future, batched with any other)."""
    thread = await make_thread(db, messages=3)
    other = await make_thread(db, messages=1)
    await db[store.THREADS].update_many({}, {"$unset": {"messageCount": ""}})
    data = await api.ok(
        "query($a: ID!, $b: ID!) { a: thread(id: $a) { messageCount }"
        " b: thread(id: $b) { messageCount title } }",
        {"a": thread.id, "b": other.id},
    )
    assert data == {"a": {"messageCount": 3}, "b": {"messageCount": 1, "title": None}}
