"""The live inbox: inboxEvents over graphql-transport-ws, on both backends; two instances on
the embedded server."""

import re
import threading
import uuid
from collections.abc import Iterator
from functools import partial
from pathlib import Path
from typing import Any

import pytest
from mongomock_motor import AsyncMongoMockClient
from starlette.testclient import TestClient, WebSocketTestSession

from app.services.api_keys import issue_key
from app.settings import Settings
from app.store import Database
from tests.test_realtime import LiveApi, instance, issue, new_thread

INBOX = """subscription($after: String, $mine: Boolean! = false) {
  inboxEvents(after: $after, mine: $mine) {
    __typename
    ... on ThreadCreated { cursor thread { id title userId } }
    ... on ThreadUpdated { cursor thread { id title state updatedAt lastMessage { text } } }
    ... on ThreadDeleted { cursor threadId }
    ... on ThreadRestored { cursor thread { id title } }
  }
}"""
CURSOR = "{ inboxCursor }"
CREATE = "mutation($t: String) { createThread(input: {title: $t}) { thread { id updatedAt } } }"
RENAME = """mutation($id: ID!, $t: String!) {
  updateThread(input: {id: $id, title: $t}) { thread { updatedAt } } }"""
STATE = """mutation($id: ID!, $s: ThreadState!) {
  updateThread(input: {id: $id, state: $s}) { thread { state } } }"""
WRITE = """mutation($t: ID!, $c: String!) {
  createMessage(input: {threadId: $t, content: $c}) { message { id } thread { updatedAt } } }"""
EDIT = """mutation($m: ID!, $c: String!) {
  updateMessage(input: {id: $m, content: $c}) { message { id } } }"""
START = """mutation($t: ID!) { createMessage(input: {threadId: $t, role: ASSISTANT, content: "Hel",
  status: IN_PROGRESS}) { message { id } } }"""
APPEND = 'mutation($m: ID!) { appendMessageText(input: {id: $m, delta: "lo"}) { message { id } } }'
COMPLETE = "mutation($m: ID!) { completeMessage(input: {id: $m}) { message { text } } }"
DELETE_MESSAGE = "mutation($m: ID!) { deleteMessage(input: {id: $m}) { deleted } }"
RESTORE_MESSAGE = "mutation($m: ID!) { restoreMessage(input: {id: $m}) { message { id } } }"
DELETE = (
    "mutation($t: ID!, $p: Boolean) { deleteThread(input: {id: $t, permanent: $p}) { deleted } }"
)
RESTORE = "mutation($t: ID!) { restoreThread(input: {id: $t}) { thread { id } } }"
FORK = 'mutation($t: ID!) { forkThread(input: {threadId: $t, title: "fork"}) { thread { id } } }'


@pytest.fixture(params=["mongomock", "secantus"])
def live(request: pytest.FixtureRequest) -> Iterator[LiveApi]:
    database: Database | None = None
    settings = Settings()
    if request.param == "mongomock":
        database = AsyncMongoMockClient()["inbox_live"]
    else:
        uri = request.getfixturevalue("secantus_uri")
        settings = Settings(mongodb_uri=uri, mongodb_database=f"in_{uuid.uuid4().hex}")
    with instance(settings, database) as live:
        yield live


def user_key(client: TestClient, organization_id: str, user_id: str) -> str:
    db = client.app.state.runtime.db  # type: ignore[attr-defined]
    key: str = client.portal.call(  # type: ignore[union-attr]
        partial(issue_key, db, organization_id=organization_id, user_id=user_id, name="test")
    )
    return key


def subscribe(
    ws: WebSocketTestSession, op: str, after: str | None = None, *, mine: bool = False
) -> None:
    variables = {"after": after, "mine": mine}
    ws.send_json(
        {"id": op, "type": "subscribe", "payload": {"query": INBOX, "variables": variables}}
    )


def receive(ws: WebSocketTestSession, count: int) -> list[dict[str, Any]]:
    events = []
    for _ in range(count):
        message = ws.receive_json()
        assert message["type"] == "next", message
        events.append(message["payload"]["data"]["inboxEvents"])
    return events


def thread_of(event: dict[str, Any]) -> str:
    return str(event["thread"]["id"] if "thread" in event else event["threadId"])


def test_every_thread_change_arrives_with_current_data(live: LiveApi) -> None:
    """Each write, then its event: the thread it carries is the thread after that write."""
    with live.socket() as ws:
        subscribe(ws, "1")

        def then(query: str, **variables: Any) -> tuple[dict[str, Any], dict[str, Any]]:
            return live.ok(query, **variables), receive(ws, 1)[0]

        done, created = then(CREATE, t="first")
        thread_id = done["createThread"]["thread"]["id"]
        assert created == {
            "__typename": "ThreadCreated",
            "cursor": created["cursor"],
            "thread": {"id": thread_id, "title": "first", "userId": "u"},
        }
        done, renamed = then(RENAME, id=thread_id, t="renamed")
        assert renamed["thread"]["title"] == "renamed"
        assert renamed["thread"]["updatedAt"] == done["updateThread"]["thread"]["updatedAt"]
        assert renamed["thread"]["lastMessage"] is None
        done, written = then(WRITE, t=thread_id, c="hello")
        message_id = done["createMessage"]["message"]["id"]
        assert written["thread"]["updatedAt"] == done["createMessage"]["thread"]["updatedAt"]
        updates = [written, then(EDIT, m=message_id, c="hello again")[1]]
        done, started = then(START, t=thread_id)
        streamed = done["createMessage"]["message"]["id"]
        live.ok(APPEND, m=streamed)  # a delta does not move the thread: no inbox event
        updates += [started, then(COMPLETE, m=streamed)[1]]
        updates += [then(DELETE_MESSAGE, m=streamed)[1], then(RESTORE_MESSAGE, m=streamed)[1]]
        updates.append(then(STATE, id=thread_id, s="ARCHIVED")[1])
        assert {e["__typename"] for e in updates} == {"ThreadUpdated"}
        assert [e["thread"]["lastMessage"]["text"] for e in updates] == [
            "hello",
            "hello again",
            "Hel",
            "Hello",
            "hello again",
            "Hello",
            "Hello",
        ]
        stamps = [e["thread"]["updatedAt"] for e in [renamed, *updates]]
        assert stamps == sorted(stamps), "activity moves the thread"
        assert [e["thread"]["state"] for e in updates] == ["ACTIVE"] * 6 + ["ARCHIVED"]
        deleted = then(DELETE, t=thread_id)[1]
        assert deleted == {
            "__typename": "ThreadDeleted",
            "cursor": deleted["cursor"],
            "threadId": thread_id,
        }
        restored = then(RESTORE, t=thread_id)[1]
        assert (restored["__typename"], restored["thread"]["title"]) == (
            "ThreadRestored",
            "renamed",
        )
        done, forked = then(FORK, t=thread_id)
        fork_id = done["forkThread"]["thread"]["id"]
        assert (forked["__typename"], forked["thread"]["id"]) == ("ThreadCreated", fork_id)
        assert forked["thread"]["title"] == "fork"
        gone = then(DELETE, t=fork_id, p=True)[1]
        assert (gone["__typename"], gone["threadId"]) == ("ThreadDeleted", fork_id)
    cursors = [e["cursor"] for e in [created, renamed, *updates, deleted, restored, forked, gone]]
    assert len(set(cursors)) == len(cursors) == 13
    assert live.ok(CURSOR)["inboxCursor"] == gone["cursor"]


def test_mine_and_other_organizations(live: LiveApi) -> None:
    other_user = user_key(live.client, "org_local", "v")
    other_org = issue(live.client, "org_other")
    with live.socket() as mine, live.socket(other_org) as theirs:
        subscribe(mine, "m", mine=True)
        subscribe(theirs, "o")
        LiveApi(live.client, other_user).ok(CREATE, t="not mine")
        own = live.ok(CREATE, t="mine")["createThread"]["thread"]["id"]
        (event,) = receive(mine, 1)
        assert (event["__typename"], event["thread"]["id"]) == ("ThreadCreated", own)
        theirs_id = LiveApi(live.client, other_org).ok(CREATE, t="theirs")["createThread"]
        (event,) = receive(theirs, 1)
        assert event["thread"]["id"] == theirs_id["thread"]["id"], "nothing of org_local"


def test_a_reconnect_misses_nothing_and_repeats_nothing(live: LiveApi) -> None:
    ids: list[str] = []
    with live.socket() as ws:
        subscribe(ws, "1")
        ids += [new_thread(live) for _ in range(2)]
        seen = receive(ws, 2)
    assert [thread_of(e) for e in seen] == ids
    ids += [new_thread(live) for _ in range(3)]  # while away
    assert live.ok(CURSOR)["inboxCursor"] != seen[-1]["cursor"]
    with live.socket() as ws:
        subscribe(ws, "2", after=seen[-1]["cursor"])
        ids.append(new_thread(live))  # live, after the replay
        again = receive(ws, 4)
    assert [thread_of(e) for e in again] == ids[2:]
    assert len({e["cursor"] for e in seen + again}) == 6
    assert live.ok(CURSOR)["inboxCursor"] == again[-1]["cursor"]


LOAD = "{ inboxCursor threads(first: 50, orderBy: UPDATED_AT) { nodes { id } } }"


def test_load_then_subscribe_loses_nothing(live: LiveApi) -> None:
    """Read inboxCursor and the threads while others write, then subscribe from the cursor:
    every later change arrives once, in order, and nothing from before the read."""
    for _ in range(3):
        new_thread(live)
    loaded = live.ok(LOAD)
    assert len(loaded["threads"]["nodes"]) == 3
    written: list[str] = []

    def write(count: int) -> None:
        for _ in range(count):
            written.append(new_thread(live))

    writer = threading.Thread(target=write, args=(6,))
    writer.start()  # writes race the subscription's start
    with live.socket() as ws:
        subscribe(ws, "1", after=loaded["inboxCursor"])
        writer.join()
        write(4)
        events = receive(ws, 10)
    assert [e["__typename"] for e in events] == ["ThreadCreated"] * 10
    assert [thread_of(e) for e in events] == written


def test_two_instances_deliver_each_others_inbox_events(secantus_uri: str) -> None:
    settings = Settings(mongodb_uri=secantus_uri, mongodb_database="two_instances_inbox")
    with instance(settings) as first, instance(settings) as second:
        assert first.client.app.state.hub.inbox_watching is True  # type: ignore[attr-defined]
        with first.socket(second.key) as ws:
            subscribe(ws, "1")
            thread_id = new_thread(second)
            second.ok(WRITE, t=thread_id, c="from the other instance")
            events = receive(ws, 2)
    assert [(e["__typename"], thread_of(e)) for e in events] == [
        ("ThreadCreated", thread_id),
        ("ThreadUpdated", thread_id),
    ]
    assert events[1]["thread"]["lastMessage"] == {"text": "from the other instance"}


def test_the_docs_subscription_and_a_retried_create(live: LiveApi) -> None:
    """docs/realtime.md's inbox subscription runs as written; a retried idempotent create
    records one ThreadCreated."""
    docs = (Path(__file__).parent.parent / "docs" / "realtime.md").read_text()
    (document,) = [d for d in re.findall(r"```text\n(.*?)```", docs, re.S) if "inboxEvents" in d]
    retried = (
        'mutation { createThread(input: {title: "once", idempotencyKey: "k1"}) { thread { id } } }'
    )
    with live.socket() as ws:
        ws.send_json(
            {"id": "d", "type": "subscribe", "payload": {"query": document, "variables": {}}}
        )
        first = live.ok(retried)["createThread"]["thread"]["id"]
        assert live.ok(retried)["createThread"]["thread"]["id"] == first
        later = new_thread(live)
        events = [
            m["payload"]["data"]["inboxEvents"] for m in (ws.receive_json(), ws.receive_json())
        ]
    assert [(e["__typename"], e["thread"]["id"]) for e in events] == [
        ("ThreadCreated", first),
        ("ThreadCreated", later),
    ]
