"""Streamed messages and thread subscriptions over graphql-transport-ws."""

import re
import threading
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from functools import partial
from pathlib import Path
from typing import Any, cast

import pytest
from mongomock_motor import AsyncMongoMockClient
from starlette.testclient import TestClient, WebSocketTestSession
from starlette.websockets import WebSocketDisconnect

from app.domain import Event, EventType
from app.errors import Forbidden
from app.main import create_app
from app.pagination import EVENT_ORDER, decode_cursor, encode_cursor
from app.realtime import EventHub, TooSlow
from app.services.api_keys import issue_key
from app.settings import Settings
from app.store import Database

EVENTS = """subscription($t: ID!, $after: String) { threadEvents(threadId: $t, after: $after) {
  __typename
  ... on MessageCreated { cursor message { id text status } }
  ... on MessageDelta { cursor messageId delta }
  ... on MessageCompleted { cursor message { id text status } }
  ... on MessageUpdated { cursor message { metadata } }
  ... on MessageDeleted { cursor messageId }
  ... on ThreadUpdated { cursor thread { title } }
  ... on ThreadDeleted { cursor threadId }
} }"""
START = """mutation($t: ID!) { createMessage(input: {threadId: $t, role: ASSISTANT, content: "Hel",
  status: IN_PROGRESS}) { message { id status } thread { status } } }"""
APPEND = "mutation($m: ID!, $d: String!) { appendMessageText(input: {id: $m, delta: $d}) { message { text } } }"
COMPLETE = "mutation($m: ID!) { completeMessage(input: {id: $m}) { message { text status } } }"


class LiveApi:
    """HTTP and WebSocket access to one running app instance, as one key."""

    def __init__(self, client: TestClient, key: str) -> None:
        self.client, self.key = client, key

    def run(self, query: str, **variables: Any) -> dict[str, Any]:
        response = self.client.post(
            "/graphql",
            json={"query": query, "variables": variables},
            headers={"Authorization": f"Bearer {self.key}"},
        )
        body: dict[str, Any] = response.json()
        return body

    def ok(self, query: str, **variables: Any) -> dict[str, Any]:
        body = self.run(query, **variables)
        assert "errors" not in body, body
        data: dict[str, Any] = body["data"]
        return data

    @contextmanager
    def socket(self, key: str | None = None) -> Iterator[WebSocketTestSession]:
        with self.client.websocket_connect("/graphql", subprotocols=["graphql-transport-ws"]) as ws:
            ws.send_json(
                {
                    "type": "connection_init",
                    "payload": {"Authorization": f"Bearer {key or self.key}"},
                }
            )
            assert ws.receive_json()["type"] == "connection_ack"
            yield ws


def subscribe(ws: WebSocketTestSession, op: str, thread_id: str, after: str | None = None) -> None:
    ws.send_json(
        {
            "id": op,
            "type": "subscribe",
            "payload": {"query": EVENTS, "variables": {"t": thread_id, "after": after}},
        }
    )


def receive(ws: WebSocketTestSession, count: int) -> list[dict[str, Any]]:
    events = []
    for _ in range(count):
        message = ws.receive_json()
        assert message["type"] == "next", message
        events.append(message["payload"]["data"]["threadEvents"])
    return events


@contextmanager
def instance(settings: Settings, database: Database | None = None) -> Iterator[LiveApi]:
    """An app instance, its lifespan running, and a key of the local organization on it."""
    with TestClient(create_app(settings, database=database)) as client:
        yield LiveApi(client, issue(client, "org_local"))


def issue(client: TestClient, organization_id: str) -> str:
    db = client.app.state.runtime.db  # type: ignore[attr-defined]
    key: str = client.portal.call(  # type: ignore[union-attr]
        partial(issue_key, db, organization_id=organization_id, user_id="u", name="test")
    )
    return key


@pytest.fixture(params=["mongomock", "secantus"])
def live(request: pytest.FixtureRequest) -> Iterator[LiveApi]:
    database: Database | None = None
    settings = Settings()
    if request.param == "mongomock":
        database = AsyncMongoMockClient()["realtime"]
    else:
        uri = request.getfixturevalue("secantus_uri")
        settings = Settings(mongodb_uri=uri, mongodb_database=f"rt_{uuid.uuid4().hex}")
    with instance(settings, database) as live:
        yield live


def new_thread(live: LiveApi) -> str:
    thread: str = live.ok('mutation { createThread(input: {title: "t"}) { thread { id } } }')[
        "createThread"
    ]["thread"]["id"]
    return thread


def test_a_streamed_message_and_a_reconnect(live: LiveApi) -> None:
    thread_id = new_thread(live)
    with live.socket() as ws:
        subscribe(ws, "1", thread_id)
        started = live.ok(START, t=thread_id)["createMessage"]
        assert started["message"]["status"] == "IN_PROGRESS"
        assert started["thread"]["status"] == "STREAMING"
        message_id = started["message"]["id"]
        for delta in ("lo", ", ", "world"):
            live.ok(APPEND, m=message_id, d=delta)
        done = live.ok(COMPLETE, m=message_id)["completeMessage"]["message"]
        assert done == {"text": "Hello, world", "status": "COMPLETED"}
        events = receive(ws, 5)
    assert [e["__typename"] for e in events] == ["MessageCreated"] + ["MessageDelta"] * 3 + [
        "MessageCompleted"
    ]
    assert events[0]["message"]["text"] + "".join(e["delta"] for e in events[1:4]) == "Hello, world"
    assert events[4]["message"] == {"id": message_id, "text": "Hello, world", "status": "COMPLETED"}
    status = live.ok("query($t: ID!) { thread(id: $t) { status } }", t=thread_id)["thread"][
        "status"
    ]
    assert status == "INACTIVE"

    # Missed while away: a title change; then the thread goes, which ends the stream.
    live.ok(
        'mutation($t: ID!) { updateThread(input: {id: $t, title: "renamed"}) { thread { id } } }',
        t=thread_id,
    )
    with live.socket() as ws:
        subscribe(ws, "2", thread_id, after=events[2]["cursor"])
        replayed = receive(ws, 3)
        assert [e["__typename"] for e in replayed] == [
            "MessageDelta",
            "MessageCompleted",
            "ThreadUpdated",
        ]
        assert replayed[0]["delta"] == "world" and replayed[2]["thread"]["title"] == "renamed"
        live.ok("mutation($t: ID!) { deleteThread(input: {id: $t}) { deleted } }", t=thread_id)
        assert receive(ws, 1)[0] == {
            "__typename": "ThreadDeleted",
            "cursor": receive_cursor(replayed, 1),
            "threadId": thread_id,
        }
        assert ws.receive_json() == {"id": "2", "type": "complete"}


def receive_cursor(events: list[dict[str, Any]], ahead: int) -> str:
    """The cursor of the event `ahead` places after the last of `events`."""

    (seq,) = decode_cursor(events[-1]["cursor"], EVENT_ORDER, field="after")
    assert isinstance(seq, int)
    return encode_cursor(EVENT_ORDER, (seq + ahead,))


def test_streaming_rules(live: LiveApi) -> None:
    thread_id = new_thread(live)
    message_id = live.ok(START, t=thread_id)["createMessage"]["message"]["id"]
    live.ok(COMPLETE, m=message_id)
    errors = [
        live.run(APPEND, m=message_id, d="late"),
        live.run(COMPLETE, m=message_id),
        live.run(
            'mutation($t: ID!) { createMessage(input: {threadId: $t, content: "x", status: IN_PROGRESS}) { message { id } } }',
            t=thread_id,
        ),
        live.run(
            "mutation($m: ID!) { completeMessage(input: {id: $m, status: IN_PROGRESS}) { message { id } } }",
            m=message_id,
        ),
    ]
    assert [e["errors"][0]["extensions"] for e in errors] == [
        {"code": "CONFLICT"},
        {"code": "CONFLICT"},
        {"code": "BAD_USER_INPUT", "field": "input.status"},
        {"code": "BAD_USER_INPUT", "field": "input.status"},
    ]
    live.ok(
        "mutation($t: ID!) { updateThread(input: {id: $t, state: LOCKED}) { thread { id } } }",
        t=thread_id,
    )
    locked = live.run(START, t=thread_id)
    assert locked["errors"][0]["extensions"] == {"code": "CONFLICT"}
    incomplete = live.ok(
        """mutation($t: ID!) { updateThread(input: {id: $t, state: ACTIVE}) { thread { id state } } }""",
        t=thread_id,
    )
    assert incomplete == {"updateThread": {"thread": {"id": thread_id, "state": "ACTIVE"}}}
    second = live.ok(START, t=thread_id)["createMessage"]["message"]["id"]
    ended = live.ok(
        'mutation($m: ID!) { completeMessage(input: {id: $m, status: INCOMPLETE, incompleteReason: "max_tokens"}) { message { status incompleteReason text } } }',
        m=second,
    )
    assert ended["completeMessage"]["message"] == {
        "status": "INCOMPLETE",
        "incompleteReason": "max_tokens",
        "text": "Hel",
    }


def test_subscription_limits_and_tenancy(live: LiveApi) -> None:
    thread_id = new_thread(live)
    other_key = issue(live.client, "org_other")
    with live.socket(other_key) as ws:
        subscribe(ws, "x", thread_id)
        message = ws.receive_json()
        assert (message["id"], message["type"], message["payload"]["data"]) == ("x", "next", None)
        assert [e["extensions"] for e in message["payload"]["errors"]] == [{"code": "NOT_FOUND"}]
    with live.socket() as ws:
        for n in range(20):
            subscribe(ws, str(n), thread_id)
        subscribe(ws, "21", thread_id)
        refused = ws.receive_json()
        assert (refused["id"], refused["type"], refused["payload"]["data"]) == ("21", "next", None)
        assert [e["extensions"] for e in refused["payload"]["errors"]] == [{"code": "FORBIDDEN"}]
    with (
        pytest.raises(WebSocketDisconnect) as closed,
        live.socket("sk_0000000000000000_" + "x" * 43),
    ):
        pass
    assert closed.value.code == 4403


def test_two_instances_deliver_each_others_events(secantus_uri: str) -> None:
    settings = Settings(mongodb_uri=secantus_uri, mongodb_database="two_instances")
    with instance(settings) as first, instance(settings) as second:
        assert first.client.app.state.hub.watching is True  # type: ignore[attr-defined]
        thread_id = new_thread(second)
        with first.socket(second.key) as ws:
            subscribe(ws, "1", thread_id)
            message_id = second.ok(START, t=thread_id)["createMessage"]["message"]["id"]
            second.ok(APPEND, m=message_id, d="p")
            events = receive(ws, 2)
        assert [e["__typename"] for e in events] == ["MessageCreated", "MessageDelta"]


async def test_slow_subscribers_are_dropped() -> None:
    hub = EventHub(queue_size=2)
    subscriber = hub.subscribe(organization_id="o", thread_id="t", key_id="k")
    for seq in range(3):
        hub.dispatch(
            Event(
                organization_id="o",
                thread_id="t",
                seq=seq,
                type=EventType.MESSAGE_DELTA,
                message_id="m",
                delta="x",
            )
        )
    with pytest.raises(TooSlow):
        await subscriber.next()
    for _ in range(hub.max_per_key):
        hub.subscribe(organization_id="o", thread_id="t", key_id="k2")
    with pytest.raises(Forbidden, match="at most 100"):
        hub.subscribe(organization_id="o", thread_id="t", key_id="k2")


def test_only_graphql_transport_ws(live: LiveApi) -> None:
    with (
        pytest.raises(WebSocketDisconnect) as refused,
        live.client.websocket_connect("/graphql", subprotocols=["graphql-ws"]) as ws,
    ):
        ws.send_json({"type": "connection_init", "payload": {}})
        ws.receive_json()
    assert refused.value.code == 4406, "subprotocol not acceptable"


def test_the_readme_subscription(live: LiveApi) -> None:
    readme = (Path(__file__).parent.parent / "README.md").read_text()
    (document,) = [
        d for d in re.findall(r"```graphql\n(.*?)```", readme, re.S) if d.startswith("subscription")
    ]
    thread_id = new_thread(live)
    with live.socket() as ws:
        ws.send_json(
            {
                "id": "r",
                "type": "subscribe",
                "payload": {"query": document, "variables": {"threadId": thread_id}},
            }
        )
        live.ok(START, t=thread_id)
        (event,) = receive(ws, 1)
    assert event["__typename"] == "MessageCreated" and event["message"]["role"] == "ASSISTANT"


LOAD = (
    """query($t: ID!) { thread(id: $t) { eventCursor messages(first: 100) { nodes { text } } } }"""
)
WRITE = """mutation($t: ID!, $c: String!) {
  createMessage(input: {threadId: $t, content: $c}) { eventCursor message { id } }
}"""


def test_load_then_subscribe_loses_nothing(live: LiveApi) -> None:
    """A client loads a thread while others write, then subscribes from the cursor of what it
    loaded: it gets every later write exactly once, in order, and nothing it already has."""
    thread_id = new_thread(live)
    for n in range(3):
        live.ok(WRITE, t=thread_id, c=f"before {n}")
    loaded = live.ok(LOAD, t=thread_id)["thread"]
    assert [m["text"] for m in loaded["messages"]["nodes"]] == [f"before {n}" for n in (2, 1, 0)]
    written: list[str] = []

    def write(count: int, label: str) -> None:
        for n in range(count):
            id_ = live.ok(WRITE, t=thread_id, c=f"{label} {n}")["createMessage"]["message"]["id"]
            written.append(id_)

    writer = threading.Thread(target=write, args=(6, "during"))
    writer.start()  # writes race the subscription's start
    with live.socket() as ws:
        subscribe(ws, "1", thread_id, after=loaded["eventCursor"])
        writer.join()
        write(4, "after")
        events = receive(ws, 10)
    assert [e["__typename"] for e in events] == ["MessageCreated"] * 10
    assert [e["message"]["id"] for e in events] == written
    assert [e["message"]["text"] for e in events] == [f"during {n}" for n in range(6)] + [
        f"after {n}" for n in range(4)
    ]


def test_every_payload_carries_its_events_cursor(live: LiveApi) -> None:
    thread_id = new_thread(live)
    created = live.ok(
        'mutation { createThread(input: {title: "c"}) { eventCursor thread { id eventCursor } } }'
    )["createThread"]
    assert (
        created["eventCursor"]
        == created["thread"]["eventCursor"]
        == encode_cursor(EVENT_ORDER, (0,))
    )
    first = live.ok(WRITE, t=thread_id, c="one")["createMessage"]
    second = live.ok(WRITE, t=thread_id, c="two")["createMessage"]
    numbers = [decode_cursor(p["eventCursor"], EVENT_ORDER, field="c") for p in (first, second)]
    assert numbers[1] == (cast(int, numbers[0][0]) + 1,)
    with live.socket() as ws:
        subscribe(ws, "1", thread_id, after=first["eventCursor"])
        (event,) = receive(ws, 1)
    assert event["message"]["id"] == second["message"]["id"], "only what came after the write"
    read = live.ok(LOAD, t=thread_id)["thread"]["eventCursor"]
    assert read == second["eventCursor"], "a read's cursor is the latest event's"


def test_a_replay_leaves_out_what_is_in_the_trash(live: LiveApi) -> None:
    """Subscribing from a thread's start replays its history, but not the content of a message
    that is in the trash now (its deletion is replayed)."""
    thread_id = new_thread(live)
    ids = [
        live.ok(WRITE, t=thread_id, c=text)["createMessage"]["message"]["id"]
        for text in ("kept", "secret")
    ]
    live.ok("mutation($m: ID!) { deleteMessage(input: {id: $m}) { deleted } }", m=ids[1])
    with live.socket() as ws:
        subscribe(ws, "1", thread_id, after=encode_cursor(EVENT_ORDER, (0,)))
        events = receive(ws, 2)
    shown = [(e["__typename"], e.get("message", {}).get("id", e.get("messageId"))) for e in events]
    assert shown == [("MessageCreated", ids[0]), ("MessageDeleted", ids[1])]
    live.ok("mutation($m: ID!) { restoreMessage(input: {id: $m}) { message { id } } }", m=ids[1])
    with live.socket() as ws:
        subscribe(ws, "2", thread_id, after=encode_cursor(EVENT_ORDER, (0,)))
        events = receive(ws, 4)
    assert [e["__typename"] for e in events] == [
        "MessageCreated",
        "MessageCreated",
        "MessageDeleted",
        "MessageRestored",
    ], "restored, its history is shown again"


NESTED = """subscription($t: ID!) { threadEvents(threadId: $t) {
  ... on MessageCreated { message { text thread { title messageCount } } }
  ... on ThreadUpdated { thread { title messageCount } }
} }"""
ADD = "mutation($t: ID!, $c: String!) { createMessage(input: {threadId: $t, content: $c}) { message { id } } }"
RENAME = 'mutation($t: ID!) { updateThread(input: {id: $t, title: "renamed"}) { thread { id } } }'


def test_each_event_reads_its_nested_fields_afresh(live: LiveApi) -> None:
    """The connection outlives its events: what one event read is not shown by the next."""
    thread_id = new_thread(live)
    with live.socket() as ws:
        ws.send_json(
            {
                "id": "1",
                "type": "subscribe",
                "payload": {"query": NESTED, "variables": {"t": thread_id}},
            }
        )
        seen = []
        for write, variables in [
            (ADD, {"c": "a"}),
            (RENAME, {}),
            (ADD, {"c": "b"}),
            (ADD, {"c": "c"}),
        ]:
            live.ok(write, t=thread_id, **variables)
            seen.append(receive(ws, 1)[0])
    assert seen == [
        {"message": {"text": "a", "thread": {"title": "t", "messageCount": 1}}},
        {"thread": {"title": "renamed", "messageCount": 1}},
        {"message": {"text": "b", "thread": {"title": "renamed", "messageCount": 2}}},
        {"message": {"text": "c", "thread": {"title": "renamed", "messageCount": 3}}},
    ]
