"""Edits with history: `updateMessage` with new content keeps the version it replaces, and
`Message.revisions` pages through the kept versions, newest first."""

from datetime import datetime, timedelta
from typing import Any

import pytest

from app import domain, store
from app.domain import Action, ThreadState, states_allowing
from app.pagination import PageRequest, numbered_page
from app.revisions import MAX_REVISIONS
from app.services import messages
from app.services.runtime import Runtime
from app.store import Database
from tests.helpers.api import Api
from tests.helpers.backends import Recorder
from tests.helpers.crashes import Crash, crash_on
from tests.helpers.factories import caller, make_message, make_thread
from tests.test_realtime import LiveApi, live, new_thread  # noqa: F401 (the `live` fixture)
from tests.test_storage import find_equivalents, stages

EDIT = """
mutation($id: ID!, $content: String, $parts: [ContentPartInput!], $metadata: Metadata) {
  updateMessage(input: {id: $id, content: $content, contentParts: $parts, metadata: $metadata}) {
    message { id text editedAt metadata status } eventCursor
  }
}"""
REVISIONS = """
query($id: ID!, $first: Int, $after: String, $last: Int, $before: String) {
  message(id: $id) {
    text editedAt
    revisions(first: $first, after: $after, last: $last, before: $before) {
      totalCount
      edges { cursor node { number text createdAt content { __typename } } }
      pageInfo { hasNextPage hasPreviousPage startCursor endCursor }
    }
  }
}"""


class Ticking:
    """A clock a second ahead on each call, starting a minute from now."""

    def __init__(self) -> None:
        self.at = domain.now() + timedelta(minutes=1)

    def __call__(self) -> datetime:
        self.at += timedelta(seconds=1)
        return self.at


async def edit(api: Api, message_id: str, **variables: Any) -> dict[str, Any]:
    data = await api.ok(EDIT, {"id": message_id, **variables})
    updated: dict[str, Any] = data["updateMessage"]["message"]
    return updated


async def revisions(api: Api, message_id: str, **paging: Any) -> dict[str, Any]:
    data = await api.ok(REVISIONS, {"id": message_id, **paging})
    message: dict[str, Any] = data["message"]
    return message


def numbers(page: dict[str, Any]) -> list[int]:
    return [edge["node"]["number"] for edge in page["revisions"]["edges"]]


async def test_three_edits_keep_three_revisions_newest_first(db: Database) -> None:
    thread = await make_thread(db)
    message = await make_message(db, thread.id, "first")
    api = Api(db, clock=Ticking())
    before = await revisions(api, message.id)
    assert before["editedAt"] is None
    assert before["revisions"]["totalCount"] == 0 and before["revisions"]["edges"] == []
    parts = [{"text": "second"}, {"imageUrl": {"url": "https://example.com/a.png"}}]
    edits = [
        await edit(api, message.id, parts=parts),
        await edit(api, message.id, content="third"),
        await edit(api, message.id, content="fourth", metadata={"k": "v"}),
    ]
    assert [e["text"] for e in edits] == ["second", "third", "fourth"]
    assert edits[-1]["metadata"] == {"k": "v"} and edits[-1]["status"] == "COMPLETED"
    assert edits[0]["editedAt"] < edits[1]["editedAt"] < edits[2]["editedAt"]

    after = await revisions(api, message.id)
    assert after["text"] == "fourth" and after["editedAt"] == edits[-1]["editedAt"]
    nodes = [edge["node"] for edge in after["revisions"]["edges"]]
    assert [(n["number"], n["text"]) for n in nodes] == [(3, "third"), (2, "second"), (1, "first")]
    assert [part["__typename"] for part in nodes[1]["content"]] == [
        "TextContent",
        "ImageUrlContent",
    ], "a revision keeps the parts as they were"
    # Each version's createdAt is when it was written: the edit that wrote it, the message's
    # creation for the first.
    created = await api.ok("query($id: ID!) { message(id: $id) { createdAt } }", {"id": message.id})
    assert [n["createdAt"] for n in nodes] == [
        edits[1]["editedAt"],
        edits[0]["editedAt"],
        created["message"]["createdAt"],
    ]
    assert after["revisions"]["totalCount"] == 3
    assert after["revisions"]["pageInfo"]["hasNextPage"] is False
    listed = await api.ok(
        "query($t: ID!) { thread(id: $t) { messages { nodes { text editedAt } } } }",
        {"t": thread.id},
    )
    assert listed["thread"]["messages"]["nodes"] == [
        {"text": "fourth", "editedAt": edits[-1]["editedAt"]}
    ]


async def test_metadata_alone_is_no_edit(api: Api, db: Database) -> None:
    thread = await make_thread(db)
    message = await make_message(db, thread.id, "kept", metadata={"a": "1"})
    changed = await edit(api, message.id, metadata={"b": "2"})
    assert changed["metadata"] == {"b": "2"} and changed["editedAt"] is None
    cleared = await edit(api, message.id, metadata={})
    assert cleared["metadata"] == {} and cleared["text"] == "kept"
    unchanged = await edit(api, message.id)
    assert unchanged == cleared, "no field: nothing changes"
    assert (await revisions(api, message.id))["revisions"]["totalCount"] == 0
    assert await db[store.REVISIONS].count_documents({}) == 0


async def test_paging_revisions_both_ways(api: Api, db: Database) -> None:
    thread = await make_thread(db)
    message = await make_message(db, thread.id, "v1")
    for n in range(2, 7):
        await edit(api, message.id, content=f"v{n}")  # revisions 1..5 are v1..v5

    first = await revisions(api, message.id, first=2)
    assert numbers(first) == [5, 4]
    info = first["revisions"]["pageInfo"]
    assert (info["hasNextPage"], info["hasPreviousPage"]) == (True, False)
    second = await revisions(api, message.id, first=2, after=info["endCursor"])
    assert numbers(second) == [3, 2]
    info = second["revisions"]["pageInfo"]
    assert (info["hasNextPage"], info["hasPreviousPage"]) == (True, True)
    third = await revisions(api, message.id, first=2, after=info["endCursor"])
    assert numbers(third) == [1]
    assert [e["node"]["text"] for e in third["revisions"]["edges"]] == ["v1"]
    assert third["revisions"]["pageInfo"]["hasNextPage"] is False

    back = await revisions(api, message.id, last=2)
    assert numbers(back) == [2, 1]
    info = back["revisions"]["pageInfo"]
    assert (info["hasNextPage"], info["hasPreviousPage"]) == (False, True)
    back = await revisions(api, message.id, last=2, before=info["startCursor"])
    assert numbers(back) == [4, 3]
    back = await revisions(
        api, message.id, last=2, before=back["revisions"]["pageInfo"]["startCursor"]
    )
    assert numbers(back) == [5]
    info = back["revisions"]["pageInfo"]
    assert (info["hasNextPage"], info["hasPreviousPage"]) == (True, False)
    assert back["revisions"]["totalCount"] == 5

    cursor = first["revisions"]["edges"][0]["cursor"]  # number 5
    between = await revisions(api, message.id, first=10, after=cursor, before=info["startCursor"])
    assert numbers(between) == [], "nothing lies between 5 and 5"
    message_cursor = await api.ok(
        "query($t: ID!) { thread(id: $t) { messages { pageInfo { endCursor } } } }",
        {"t": thread.id},
    )
    wrong = message_cursor["thread"]["messages"]["pageInfo"]["endCursor"]
    refused = await api.error(REVISIONS, {"id": message.id, "after": wrong})
    assert refused["extensions"] == {"code": "BAD_USER_INPUT", "field": "after"}


async def test_the_51st_edit_drops_the_oldest(api: Api, db: Database) -> None:
    thread = await make_thread(db)
    message = await make_message(db, thread.id, "v1")
    for n in range(2, MAX_REVISIONS + 2):
        await edit(api, message.id, content=f"v{n}")
    full = await revisions(api, message.id, first=100)
    assert numbers(full) == list(range(50, 0, -1)) and full["revisions"]["totalCount"] == 50
    await edit(api, message.id, content=f"v{MAX_REVISIONS + 2}")  # the 51st edit
    kept = await revisions(api, message.id, first=100)
    assert numbers(kept) == list(range(51, 1, -1)) and kept["revisions"]["totalCount"] == 50
    assert kept["revisions"]["edges"][-1]["node"]["text"] == "v2"
    assert kept["text"] == "v52"
    assert await db[store.REVISIONS].count_documents({"messageId": message.id}) == 50


@pytest.mark.parametrize("state", [ThreadState.LOCKED, ThreadState.ARCHIVED])
async def test_no_edits_in_locked_or_archived_threads(
    api: Api, db: Database, state: ThreadState
) -> None:
    thread = await make_thread(db, messages=1, state=state)
    listed = await api.ok(
        "query($t: ID!) { thread(id: $t) { messages { nodes { id } } } }", {"t": thread.id}
    )
    message_id = listed["thread"]["messages"]["nodes"][0]["id"]
    for variables in ({"content": "new"}, {"parts": [{"text": "new"}], "metadata": {"a": "b"}}):
        refused = await api.error(EDIT, {"id": message_id, **variables})
        assert refused["extensions"] == {"code": "CONFLICT"}
        assert refused["message"] == f"Thread {thread.id} is {state}: cannot edit its messages."
    assert (await revisions(api, message_id))["text"] == "message 1"
    assert await db[store.REVISIONS].count_documents({}) == 0
    if state is ThreadState.LOCKED:
        assert (await edit(api, message_id, metadata={"a": "b"}))["metadata"] == {"a": "b"}
    assert states_allowing(Action.EDIT_MESSAGE) == (ThreadState.ACTIVE,)


async def test_a_message_is_edited_once_streamed(api: Api, db: Database) -> None:
    thread = await make_thread(db)
    started = await api.ok(
        'mutation($t: ID!) { createMessage(input: {threadId: $t, role: ASSISTANT, content: "Hel",'
        " status: IN_PROGRESS}) { message { id } } }",
        {"t": thread.id},
    )
    message_id = started["createMessage"]["message"]["id"]
    refused = await api.error(EDIT, {"id": message_id, "content": "x"})
    assert refused["extensions"] == {"code": "CONFLICT"}
    assert "being streamed" in refused["message"]
    await api.ok(
        'mutation($m: ID!) { appendMessageText(input: {id: $m, delta: "lo"}) { message { id } } }',
        {"m": message_id},
    )
    await api.ok(
        "mutation($m: ID!) { completeMessage(input: {id: $m, status: INCOMPLETE}) { message { id } } }",
        {"m": message_id},
    )
    edited = await edit(api, message_id, content="Hello, world")
    assert (edited["text"], edited["status"]) == ("Hello, world", "INCOMPLETE")
    again = await revisions(api, message_id)
    assert again["text"] == "Hello, world", "the streamed chunks are gone"
    assert [e["node"]["text"] for e in again["revisions"]["edges"]] == ["Hello"]


@pytest.mark.parametrize(
    ("variables", "field"),
    [
        ({"content": ""}, "input.content"),
        ({"parts": [{"text": "ok"}, {"text": ""}]}, "input.contentParts.1.text"),
        ({"parts": [{"text": ""}]}, "input.contentParts.0.text"),
        ({"parts": []}, "input.contentParts"),
        ({"parts": [{"imageUrl": {"url": "ftp://x"}}]}, "input.contentParts.0.imageUrl.url"),
        ({"content": "a", "parts": [{"text": "b"}]}, "input"),
        ({"parts": [{"text": "x" * 200_000}, {"text": "y" * 60_000}]}, "input"),
        ({"content": "a", "metadata": None}, "input.metadata"),
    ],
)
async def test_edit_input_rules(
    api: Api, db: Database, variables: dict[str, Any], field: str
) -> None:
    thread = await make_thread(db)
    message = await make_message(db, thread.id, "kept")
    refused = await api.error(EDIT, {"id": message.id, **variables})
    assert refused["extensions"] == {"code": "BAD_USER_INPUT", "field": field}
    assert (await revisions(api, message.id))["text"] == "kept"


async def test_another_organizations_message_is_not_found(api: Api, db: Database) -> None:
    thread = await make_thread(db)
    message = await make_message(db, thread.id, "mine")
    await edit(api, message.id, content="mine, edited")
    other = Api(db, organization_id="org_other")
    refused = await other.error(EDIT, {"id": message.id, "content": "theirs"})
    assert refused["extensions"] == {"code": "NOT_FOUND"}
    assert (await other.ok(REVISIONS, {"id": message.id}))["message"] is None
    mine = await revisions(api, message.id)
    assert mine["text"] == "mine, edited" and numbers(mine) == [1]


async def test_an_edit_that_loses_a_race_edits_the_winners_version(
    api: Api, db: Database, monkeypatch: pytest.MonkeyPatch
) -> None:
    thread = await make_thread(db)
    message = await make_message(db, thread.id, "v1")

    async def edit_meanwhile() -> None:
        await edit(api, message.id, content="b")

    # "b" lands after "a" kept version 1, before "a" writes the message.
    crash_on(monkeypatch, db, store.MESSAGES, "update_one", before=edit_meanwhile)
    assert (await edit(api, message.id, content="a"))["text"] == "a"
    final = await revisions(api, message.id)
    assert [e["node"]["text"] for e in final["revisions"]["edges"]] == ["b", "v1"]
    assert numbers(final) == [2, 1] and final["text"] == "a"
    assert await db[store.REVISIONS].count_documents({}) == 2


async def test_a_crash_between_the_revision_and_the_message(
    api: Api, db: Database, monkeypatch: pytest.MonkeyPatch
) -> None:
    thread = await make_thread(db)
    message = await make_message(db, thread.id, "original")
    rt = Runtime(db)
    changes = domain.MessageChanges(content=(domain.TextPart("edited"),))
    crash_on(monkeypatch, db, store.MESSAGES, "update_one")
    with pytest.raises(Crash):
        await messages.update_message(rt, caller=caller(), message_id=message.id, changes=changes)
    monkeypatch.undo()
    # The revision was written first: a copy of the current content, which nothing shows.
    assert await db[store.REVISIONS].count_documents({}) == 1
    seen = await revisions(api, message.id)
    assert (seen["text"], seen["editedAt"], seen["revisions"]["totalCount"]) == (
        "original",
        None,
        0,
    )
    assert seen["revisions"]["edges"] == []
    # The retry keeps that revision as it is, once.
    assert (await edit(api, message.id, content="edited"))["text"] == "edited"
    after = await revisions(api, message.id)
    assert [e["node"]["text"] for e in after["revisions"]["edges"]] == ["original"]
    assert await db[store.REVISIONS].count_documents({}) == 1


async def test_a_crash_before_the_oldest_revision_goes(
    api: Api, db: Database, monkeypatch: pytest.MonkeyPatch
) -> None:
    thread = await make_thread(db)
    message = await make_message(db, thread.id, "v1")
    for n in range(2, MAX_REVISIONS + 2):
        await edit(api, message.id, content=f"v{n}")
    crash_on(monkeypatch, db, store.REVISIONS, "delete_many")
    changes = domain.MessageChanges(content=(domain.TextPart("v52"),))
    with pytest.raises(Crash):
        await messages.update_message(
            Runtime(db), caller=caller(), message_id=message.id, changes=changes
        )
    monkeypatch.undo()
    assert await db[store.REVISIONS].count_documents({}) == 51, "one too many is stored"
    shown = await revisions(api, message.id, first=100)
    assert shown["text"] == "v52" and numbers(shown) == list(range(51, 1, -1))
    await edit(api, message.id, content="v53")
    assert await db[store.REVISIONS].count_documents({}) == 50, "the next edit removes it"


async def test_deleting_the_thread_removes_its_revisions(api: Api, db: Database) -> None:
    thread = await make_thread(db)
    other = await make_thread(db)
    for thread_id in (thread.id, other.id):
        message = await make_message(db, thread_id, "v1")
        await edit(api, message.id, content="v2")
    await store.delete_thread(db, organization_id=thread.organization_id, thread_id=thread.id)
    assert await db[store.REVISIONS].count_documents({}) == 1
    assert await db[store.REVISIONS].count_documents({"threadId": other.id}) == 1


async def test_a_forks_copy_starts_its_own_history(api: Api, db: Database) -> None:
    thread = await make_thread(db)
    message = await make_message(db, thread.id, "v1")
    edited = await edit(api, message.id, content="v2")
    forked = await api.ok(
        "mutation($t: ID!) { forkThread(input: {threadId: $t}) {"
        " thread { messages { nodes { id text editedAt revisions { totalCount nodes { text } } } } } } }",
        {"t": thread.id},
    )
    (copy,) = forked["forkThread"]["thread"]["messages"]["nodes"]
    assert copy["text"] == "v2" and copy["editedAt"] == edited["editedAt"]
    assert copy["revisions"] == {"totalCount": 0, "nodes": []}, "revisions stay with the source"
    assert (await edit(api, copy["id"], content="v3"))["text"] == "v3"
    assert [
        e["node"]["text"] for e in (await revisions(api, copy["id"]))["revisions"]["edges"]
    ] == ["v2"]
    assert numbers(await revisions(api, message.id)) == [1]


EVENTS = """subscription($t: ID!, $after: String) { threadEvents(threadId: $t, after: $after) {
  __typename
  ... on MessageUpdated {
    cursor message { id text editedAt revisions(first: 1) { nodes { number text } } }
  }
} }"""


def test_the_edit_reaches_subscribers(live: LiveApi) -> None:  # noqa: F811
    thread_id = new_thread(live)
    created = live.ok(
        'mutation($t: ID!) { createMessage(input: {threadId: $t, content: "draft"}) {'
        " message { id } eventCursor } }",
        t=thread_id,
    )["createMessage"]
    message_id, cursor = created["message"]["id"], created["eventCursor"]

    def subscribe(ws: Any, op: str, after: str | None) -> None:
        variables = {"t": thread_id, "after": after}
        payload = {"query": EVENTS, "variables": variables}
        ws.send_json({"id": op, "type": "subscribe", "payload": payload})

    def next_event(ws: Any) -> dict[str, Any]:
        message = ws.receive_json()
        assert message["type"] == "next", message
        event: dict[str, Any] = message["payload"]["data"]["threadEvents"]
        return event

    with live.socket() as ws:
        subscribe(ws, "live", None)
        edited = live.ok(
            'mutation($m: ID!) { updateMessage(input: {id: $m, content: "final"}) {'
            " message { editedAt } eventCursor } }",
            m=message_id,
        )["updateMessage"]
        event = next_event(ws)
    expected = {
        "__typename": "MessageUpdated",
        "cursor": edited["eventCursor"],
        "message": {
            "id": message_id,
            "text": "final",
            "editedAt": edited["message"]["editedAt"],
            "revisions": {"nodes": [{"number": 1, "text": "draft"}]},
        },
    }
    assert event == expected
    with live.socket() as ws:
        subscribe(ws, "replay", cursor)  # from the log, as stored
        assert next_event(ws) == expected


def test_numbered_pages() -> None:
    def page(**request: Any) -> tuple[list[int], bool | None, bool | None]:
        found = numbered_page(PageRequest(**{"descending": True, **request}), low=2, high=6)
        return found.items, found.has_next, found.has_previous

    assert page(size=2, forward=True) == ([6, 5], True, False)
    assert page(size=2, forward=True, after=(5,)) == ([4, 3], True, True)
    assert page(size=9, forward=True, after=(3,)) == ([2], False, True)
    assert page(size=2, forward=False) == ([3, 2], False, True)
    assert page(size=2, forward=False, before=(3,)) == ([5, 4], True, True)
    assert page(size=9, forward=True, after=(9,)) == ([6, 5, 4, 3, 2], False, False)
    assert page(size=9, forward=True, after=(1,)) == ([], False, True)
    assert page(size=2, forward=True, descending=False, after=(3,)) == ([4, 5], True, True)
    empty = numbered_page(PageRequest(size=5, forward=True, descending=True), low=1, high=0)
    assert (empty.items, empty.has_next, empty.has_previous) == ([], False, False)


PAGE_OF_MESSAGES = """
query($t: ID!) { thread(id: $t) { messages(first: 20) { nodes { id text %s } } } }"""
WITH_REVISIONS = """revisions(first: 1) { totalCount nodes { text }
  pageInfo { hasNextPage hasPreviousPage } }"""


async def test_revisions_of_a_page_of_messages_cost_one_command(
    recorded: tuple[Database, Recorder],
) -> None:
    db, recorder = recorded
    thread = await make_thread(db, messages=20)
    api = Api(db)
    listed = await api.ok(PAGE_OF_MESSAGES % "", {"t": thread.id})
    ids = [node["id"] for node in listed["thread"]["messages"]["nodes"]]

    async def commands(selection: str) -> tuple[int, dict[str, Any]]:
        recorder.commands.clear()
        data = await api.ok(PAGE_OF_MESSAGES % selection, {"t": thread.id})
        return len(recorder.commands), data

    plain, _ = await commands("")
    unedited, _ = await commands(WITH_REVISIONS)
    assert unedited == plain, "messages never edited cost no read"
    for n, message_id in enumerate(ids[:12]):
        for version in range(2, 2 + n % 3 + 1):
            await edit(api, message_id, content=f"edited {version}")
    used, data = await commands(WITH_REVISIONS)
    assert used == plain + 1, [next(iter(c)) for c in recorder.commands]
    nodes = data["thread"]["messages"]["nodes"]
    edited = [node for node in nodes if node["revisions"]["totalCount"]]
    assert len(edited) == 12
    assert all(len(node["revisions"]["nodes"]) == 1 for node in edited)
    revisions_read = recorder.commands[-1]
    assert revisions_read["aggregate"] == store.REVISIONS
    for find in find_equivalents(revisions_read):
        explained = await db.command({"explain": find, "verbosity": "queryPlanner"})
        assert "IXSCAN" in stages(explained["queryPlanner"]["winningPlan"]), find


async def test_edits_use_indexes(recorded: tuple[Database, Recorder]) -> None:
    db, recorder = recorded
    thread = await make_thread(db)
    message = await make_message(db, thread.id, "v1")
    api = Api(db)
    recorder.commands.clear()
    for n in range(2, MAX_REVISIONS + 3):
        await edit(api, message.id, content=f"v{n}")
    await revisions(api, message.id, first=3)
    await store.delete_thread(db, organization_id=thread.organization_id, thread_id=thread.id)
    on_revisions = [c for c in recorder.commands if c[next(iter(c))] == store.REVISIONS]
    names = {next(iter(c)) for c in on_revisions}
    assert {"update", "delete", "aggregate"} <= names, names
    edits = [c for c in recorder.commands if next(iter(c)) == "findAndModify"]
    for command in on_revisions + edits:
        for find in find_equivalents(command):
            explained = await db.command({"explain": find, "verbosity": "queryPlanner"})
            plan = stages(explained["queryPlanner"]["winningPlan"])
            assert "COLLSCAN" not in plan and ("IXSCAN" in plan or "IDHACK" in plan), command
