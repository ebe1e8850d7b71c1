"""forkThread: a new thread with copies of another's messages, up to one of them; linked back,
tenant-scoped, idempotent, bounded in work and memory, and crash-safe."""

from datetime import timedelta
from typing import Any

import pytest

from app import domain, store
from app.domain import MessageStatus, NewMessage, Role, TextPart
from app.services import forks, messages
from app.services.runtime import Runtime
from app.store import Database
from tests.helpers.api import Api
from tests.helpers.backends import Recorder, docs_examined
from tests.helpers.crashes import Crash, crash_on
from tests.helpers.factories import caller, make_message, make_thread

FORK = """
mutation($input: ForkThreadInput!) {
  forkThread(input: $input) {
    eventCursor
    thread {
      id title metadata state userId organizationId assistantId visibleInUi messageCount status
      forkedFrom { threadId messageId thread { id title } message { id text } }
    }
  }
}"""
MESSAGES = """
query($id: ID!) {
  thread(id: $id) {
    messages(order: ASC, first: 100) {
      nodes { id threadId role text metadata assistantId runId status incompleteReason createdAt }
    }
  }
}"""
ORIGIN = """
query($id: ID!) {
  thread(id: $id) { forkedFrom { threadId messageId thread { id } message { id } } }
}"""
VISIBLE = "query($id: ID!) { thread(id: $id) { id } threads { totalCount } }"


async def fork(api: Api, **fields: Any) -> dict[str, Any]:
    data = await api.ok(FORK, {"input": fields})
    payload: dict[str, Any] = data["forkThread"]
    return payload


async def nodes(api: Api, thread_id: str) -> list[dict[str, Any]]:
    data = await api.ok(MESSAGES, {"id": thread_id})
    found: list[dict[str, Any]] = data["thread"]["messages"]["nodes"]
    return found


async def source_with_messages(db: Database) -> domain.Thread:
    """A thread of four messages of every kind (roles, metadata, assistant and run ids)."""
    thread = await make_thread(
        db, title="Lisbon", metadata={"category": "travel"}, assistant_id="asst_1"
    )
    await make_message(db, thread.id, "plan a weekend", metadata={"source": "web"})
    rt, who = Runtime(db), caller()
    for text, run in (("day 1: Alfama", "run_1"), ("day 2: Belém", "run_2")):
        new = NewMessage(
            content=(TextPart(text),), role=Role.ASSISTANT, assistant_id="asst_1", run_id=run
        )
        await messages.create_message(rt, caller=who, thread_id=thread.id, message=new)
    await make_message(db, thread.id, "add Sintra", metadata={"source": "mobile"})
    return await store.get_thread(db, organization_id=who.organization_id, thread_id=thread.id)


def copied(message: dict[str, Any]) -> dict[str, Any]:
    """What a copy keeps of a message."""
    return {k: v for k, v in message.items() if k not in ("id", "threadId")}


async def test_fork_copies_every_message_in_order_with_new_ids(api: Api, db: Database) -> None:
    source = await source_with_messages(db)
    originals = await nodes(api, source.id)
    events_before = await db[store.EVENTS].count_documents({"threadId": source.id})
    payload = await fork(api, threadId=source.id)
    thread = payload["thread"]
    assert thread["id"] != source.id and thread["id"].startswith("thread_")
    assert thread | {"id": None, "forkedFrom": None} == {
        "id": None,
        "title": "Lisbon",
        "metadata": {"category": "travel"},
        "state": "ACTIVE",
        "userId": "user_local",
        "organizationId": "org_local",
        "assistantId": "asst_1",
        "visibleInUi": True,
        "messageCount": 4,
        "status": "INACTIVE",
        "forkedFrom": None,
    }
    assert thread["forkedFrom"] == {
        "threadId": source.id,
        "messageId": originals[-1]["id"],
        "thread": {"id": source.id, "title": "Lisbon"},
        "message": {"id": originals[-1]["id"], "text": "add Sintra"},
    }
    copies = await nodes(api, thread["id"])
    assert [copied(c) for c in copies] == [copied(m) for m in originals]
    assert {c["threadId"] for c in copies} == {thread["id"]}
    assert not {c["id"] for c in copies} & {m["id"] for m in originals}, "new ids"
    seqs = [d["seq"] async for d in db[store.MESSAGES].find({"threadId": thread["id"]})]
    assert sorted(seqs) == [1, 2, 3, 4]
    assert await nodes(api, source.id) == originals, "the source is unchanged"
    events_after = await db[store.EVENTS].count_documents({"threadId": source.id})
    assert events_after == events_before, "no event on the source"


async def test_fork_up_to_a_message_with_its_own_title_and_metadata(api: Api, db: Database) -> None:
    source = await source_with_messages(db)
    originals = await nodes(api, source.id)
    payload = await fork(
        api,
        threadId=source.id,
        upToMessageId=originals[1]["id"],
        title="Lisbon, no Sintra",
        metadata={"branch": "b"},
    )
    thread = payload["thread"]
    assert (thread["title"], thread["metadata"]) == ("Lisbon, no Sintra", {"branch": "b"})
    assert thread["messageCount"] == 2
    assert thread["forkedFrom"]["message"] == {"id": originals[1]["id"], "text": "day 1: Alfama"}
    copies = await nodes(api, thread["id"])
    assert [copied(c) for c in copies] == [copied(m) for m in originals[:2]]
    first = await fork(api, threadId=source.id, upToMessageId=originals[0]["id"], metadata={})
    assert first["thread"]["metadata"] == {} and first["thread"]["messageCount"] == 1


async def test_fork_renumbers_over_gaps_and_of_an_empty_thread(api: Api, db: Database) -> None:
    source = await make_thread(db, messages=5)
    originals = await nodes(api, source.id)
    await api.ok(
        "mutation($id: ID!) { deleteMessage(input: {id: $id}) { id } }", {"id": originals[1]["id"]}
    )
    thread = (await fork(api, threadId=source.id))["thread"]
    assert [c["text"] for c in await nodes(api, thread["id"])] == [
        "message 1",
        "message 3",
        "message 4",
        "message 5",
    ]
    seqs = [d["seq"] async for d in db[store.MESSAGES].find({"threadId": thread["id"]})]
    assert sorted(seqs) == [1, 2, 3, 4]
    added = await make_message(db, thread["id"], "next")
    assert added.seq == 5, "the fork numbers on from its last copy"
    empty = await make_thread(db, title="empty")
    forked = (await fork(api, threadId=empty.id))["thread"]
    assert forked["messageCount"] == 0 and forked["title"] == "empty"
    assert forked["forkedFrom"] | {"thread": None} == {
        "threadId": empty.id,
        "messageId": None,
        "thread": None,
        "message": None,
    }


async def test_a_message_in_progress_is_copied_incomplete(api: Api, db: Database) -> None:
    source = await make_thread(db, messages=1)
    rt, who = Runtime(db), caller()
    streaming = NewMessage(
        content=(TextPart("Day 1"),), role=Role.ASSISTANT, status=MessageStatus.IN_PROGRESS
    )
    written = await messages.create_message(rt, caller=who, thread_id=source.id, message=streaming)
    await messages.append_text(rt, caller=who, message_id=written.value[0].id, delta=": Alfama")
    thread = (await fork(api, threadId=source.id))["thread"]
    assert thread["status"] == "INACTIVE", "nothing streams into a fork"
    last = (await nodes(api, thread["id"]))[-1]
    assert (last["text"], last["status"], last["incompleteReason"]) == (
        "Day 1: Alfama",
        "INCOMPLETE",
        forks.FORKED_IN_PROGRESS,
    )
    assert (await nodes(api, source.id))[-1]["status"] == "IN_PROGRESS", "the source streams on"


@pytest.mark.parametrize("state", [domain.LOCKED, domain.ARCHIVED])
async def test_any_state_can_be_forked_and_the_fork_is_active(
    api: Api, db: Database, state: domain.ThreadState
) -> None:
    source = await make_thread(db, messages=2, state=state)
    thread = (await fork(api, threadId=source.id))["thread"]
    assert (thread["state"], thread["messageCount"]) == ("ACTIVE", 2)


async def test_forked_from_is_null_once_the_source_or_message_is_gone(
    api: Api, db: Database
) -> None:
    source = await make_thread(db, messages=3)
    originals = await nodes(api, source.id)
    thread_id = (await fork(api, threadId=source.id))["thread"]["id"]
    last = originals[-1]["id"]
    await api.ok("mutation($id: ID!) { deleteMessage(input: {id: $id}) { id } }", {"id": last})
    origin = (await api.ok(ORIGIN, {"id": thread_id}))["thread"]["forkedFrom"]
    assert origin == {
        "threadId": source.id,
        "messageId": last,
        "thread": {"id": source.id},
        "message": None,
    }
    await api.ok("mutation($id: ID!) { deleteThread(input: {id: $id}) { id } }", {"id": source.id})
    origin = (await api.ok(ORIGIN, {"id": thread_id}))["thread"]["forkedFrom"]
    assert origin == {"threadId": source.id, "messageId": last, "thread": None, "message": None}
    assert len(await nodes(api, thread_id)) == 3, "the fork keeps its copies"
    created = await make_thread(db)
    assert (await api.ok(ORIGIN, {"id": created.id}))["thread"]["forkedFrom"] is None


async def test_trash_and_edits(api: Api, db: Database) -> None:
    """Messages in the trash are not copied; an edited message is copied as it reads now,
    without its history; a source in the trash cannot be forked, and forkedFrom shows it
    again once it is restored."""
    source = await make_thread(db, messages=3)
    first, second, _ = await nodes(api, source.id)
    edit = (
        "mutation($id: ID!) { updateMessage(input: {id: $id, content: $text}) { message { id } } }"
    )
    await api.ok(edit.replace("$text", '"edited"'), {"id": first["id"]})
    await api.ok(
        "mutation($id: ID!) { deleteMessage(input: {id: $id}) { id } }", {"id": second["id"]}
    )
    thread_id = (await fork(api, threadId=source.id))["thread"]["id"]
    history = """query($id: ID!) { thread(id: $id) { messages(order: ASC) { nodes {
        text editedAt revisions(first: 5) { totalCount } } } } }"""
    copies = (await api.ok(history, {"id": thread_id}))["thread"]["messages"]["nodes"]
    assert [c["text"] for c in copies] == ["edited", "message 3"]
    assert copies[0]["editedAt"] is not None and copies[0]["revisions"]["totalCount"] == 0
    trash = "mutation($id: ID!) { deleteThread(input: {id: $id}) { id } }"
    await api.ok(trash, {"id": source.id})
    error = await api.error(FORK, {"input": {"threadId": source.id}})
    assert error["extensions"] == {"code": "NOT_FOUND"}
    origin = (await api.ok(ORIGIN, {"id": thread_id}))["thread"]["forkedFrom"]
    assert origin["thread"] is None and origin["message"] is None
    restore = "mutation($id: ID!) { restoreThread(input: {id: $id}) { thread { id } } }"
    await api.ok(restore, {"id": source.id})
    origin = (await api.ok(ORIGIN, {"id": thread_id}))["thread"]["forkedFrom"]
    assert origin["thread"] == {"id": source.id} and origin["message"] is not None


async def test_fork_errors(api: Api, db: Database) -> None:
    source = await make_thread(db, messages=2)
    other = await make_thread(db, messages=1)
    foreign = await make_thread(db, organization_id="org_other", messages=1)
    foreign_message = (await nodes(Api(db, organization_id="org_other"), foreign.id))[0]["id"]
    other_message = (await nodes(api, other.id))[0]["id"]
    before = await db[store.THREADS].count_documents({})

    error = await api.error(FORK, {"input": {"threadId": foreign.id}})
    assert error["extensions"] == {"code": "NOT_FOUND"}
    assert error["message"] == f"Thread {foreign.id} not found."
    for message_id in (
        other_message,
        foreign_message,
        "message_00000000-0000-4000-8000-000000000000",
    ):
        error = await api.error(
            FORK, {"input": {"threadId": source.id, "upToMessageId": message_id}}
        )
        assert error["extensions"] == {"code": "BAD_USER_INPUT", "field": "input.upToMessageId"}
    for field, value in (
        ("upToMessageId", "thread_1"),
        ("threadId", "message_1"),
        ("title", "t" * 201),
        ("metadata", {"k": 1}),
        ("idempotencyKey", ""),
    ):
        error = await api.error(FORK, {"input": {"threadId": source.id, field: value}})
        assert error["extensions"] == {"code": "BAD_USER_INPUT", "field": f"input.{field}"}, field
    assert await db[store.THREADS].count_documents({}) == before, "nothing written"


async def test_retried_fork_returns_the_same_fork(api: Api, db: Database) -> None:
    source = await make_thread(db, messages=3)
    request = {"threadId": source.id, "title": "branch", "idempotencyKey": "fork-1"}
    first = await fork(api, **request)
    again = await fork(api, **request)
    assert again == first
    assert await db[store.THREADS].count_documents({}) == 2
    assert await db[store.MESSAGES].count_documents({}) == 6
    error = await api.error(FORK, {"input": {**request, "title": "another"}})
    assert error["extensions"] == {"code": "CONFLICT"}
    other_user = await Api(db, user_id="someone").ok(FORK, {"input": request})
    assert other_user["forkThread"]["thread"]["id"] != first["thread"]["id"], "keys are per user"


# A long source: bounded work, and crash safety mid-copy.

LONG = 10_000


@pytest.mark.slow
async def test_a_long_source_forks_in_batches(recorded: tuple[Database, Recorder]) -> None:
    db, recorder = recorded
    source = await make_thread(db, messages=LONG, title="long")
    recorder.commands.clear()
    forked = await Api(db).ok(
        "mutation($id: ID!) { forkThread(input: {threadId: $id}) { thread { id } } }",
        {"id": source.id},
    )
    names = [next(iter(command)) for command in recorder.commands]
    inbox = [
        c
        for c in recorder.commands
        if c.get("insert") == store.EVENTS or c.get("findAndModify") == store.INBOX_COUNTERS
    ]
    assert len(inbox) == 2, inbox  # the inbox's ThreadCreated: its number, then itself
    inserts = [c for c in recorder.commands if "insert" in c and c not in inbox]
    assert len(inserts) <= 12, len(inserts)  # the hidden thread, then LONG / COPY_BATCH batches
    assert [len(c.get("documents", [])) for c in inserts[1:]] == [forks.COPY_BATCH] * 10
    reads = [c for c in recorder.commands if "seq" in repr(c.get("pipeline"))]
    assert len(reads) == LONG // forks.COPY_BATCH, names
    # the source, the hidden fork, the reads and copies, the reveal (read, write), the fork
    # counted in its organization's threads (its lane read, set, and the counter document)
    assert len(recorder.commands) == 1 + 1 + 2 * len(reads) + 2 + 2 + 3, names
    examined = await docs_examined(db, reads[-1])
    assert examined <= forks.COPY_BATCH, "each read takes one range of numbers"
    page = """query($id: ID!) { thread(id: $id) { messageCount
        first: messages(first: 1, order: ASC) { nodes { text } }
        last: messages(first: 1) { nodes { text } } } }"""
    ends = (await Api(db).ok(page, {"id": forked["forkThread"]["thread"]["id"]}))["thread"]
    assert ends["messageCount"] == LONG
    assert ends["first"]["nodes"][0]["text"] == "message 1"
    assert ends["last"]["nodes"][0]["text"] == f"message {LONG}"


async def interrupt_mid_copy(db: Database, monkeypatch: pytest.MonkeyPatch, length: int) -> None:
    """Fork a source of `length` messages, crashing at the fourth batch of copies: nothing is
    visible, and the sweep removes the fork (not while it may still be in flight)."""
    source = await make_thread(db, messages=length, title="long")
    crash_on(monkeypatch, db, store.MESSAGES, "insert_many", skip=3)
    with pytest.raises(Crash):
        await forks.fork_thread(Runtime(db), caller=caller(), fork=forks.Fork(source.id))
    hidden = await db[store.THREADS].find_one({"_id": {"$ne": source.id}})
    assert hidden is not None
    partial = await db[store.MESSAGES].count_documents({"threadId": hidden["_id"]})
    assert partial == 3 * forks.COPY_BATCH
    data = await Api(db).ok(VISIBLE, {"id": hidden["_id"]})
    assert data == {"thread": None, "threads": {"totalCount": 1}}, "nothing half-done is visible"
    fresh = await store.finish_interrupted_writes(db, creating_older_than=timedelta(hours=1))
    assert fresh == 0, "a fork still in flight is left alone"
    swept = await store.finish_interrupted_writes(db, creating_older_than=timedelta(0))
    assert swept == 1
    assert await db[store.THREADS].count_documents({}) == 1
    assert await db[store.MESSAGES].count_documents({}) == length, "the source is untouched"


async def test_a_fork_interrupted_mid_copy_stays_hidden_and_is_swept(
    db: Database, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(forks, "COPY_BATCH", 10)
    await interrupt_mid_copy(db, monkeypatch, 100)


@pytest.mark.slow
async def test_a_long_fork_interrupted_mid_copy_stays_hidden_and_is_swept(
    real_db: Database, monkeypatch: pytest.MonkeyPatch
) -> None:
    """On a real server: mongomock takes minutes to write 10,000 messages."""
    await interrupt_mid_copy(real_db, monkeypatch, LONG)
