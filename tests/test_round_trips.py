"""Database round trips per request are constant, and pages read only what they return:
pinned with PyMongo command monitoring and explain() on real servers."""

from typing import Any

from app import store
from app.domain import NewThread
from app.pagination import WINDOW_STEPS
from app.services import threads
from app.services.runtime import Runtime
from app.store import Database
from tests.helpers.api import Api, api_key, app_client
from tests.helpers.backends import Recorder
from tests.helpers.factories import caller, new_message

THREADS_WITH_MESSAGES = """
query($m: Int!, $n: Int!) {
  threads(first: $m) {
    totalCount
    nodes { id title messageCount messages(first: $n) { totalCount nodes { id text } } }
  }
}"""


async def seed(db: Database, count: int, messages: int) -> list[str]:
    """Threads with `messages` messages each, written in bulk."""
    ids = []
    for _ in range(count):
        new = NewThread(title="t", messages=tuple(new_message(f"m{n}") for n in range(messages)))
        thread = (await threads.create_thread(Runtime(db), caller=caller(), thread=new)).value
        ids.append(thread.id)
    return ids


async def commands_for(
    recorder: Recorder, api: Api, query: str, variables: dict[str, Any]
) -> tuple[int, dict[str, Any]]:
    recorder.commands.clear()
    data = await api.ok(query, variables)
    return len(recorder.commands), data


async def test_nested_lists_cost_constant_round_trips(recorded: tuple[Database, Recorder]) -> None:
    db, recorder = recorded
    await seed(db, 100, 8)
    api = Api(db)
    for m in (1, 10, 50, 100):
        used, data = await commands_for(recorder, api, THREADS_WITH_MESSAGES, {"m": m, "n": 5})
        nodes = data["threads"]["nodes"]
        assert len(nodes) == m and all(len(t["messages"]["nodes"]) == 5 for t in nodes)
        assert all(t["messageCount"] == t["messages"]["totalCount"] == 8 for t in nodes)
        # the counter document (read once: for the threads and for their total), the threads
        # (windows of time: at most WINDOW_STEPS), one union of message pages, one count by thread
        windows = thread_windows(recorder)
        assert 1 <= windows <= WINDOW_STEPS, windows
        assert used - windows == 3, (m, [next(iter(c)) for c in recorder.commands])
        counters = [c for c in recorder.commands if c.get("find") == store.THREAD_COUNTERS]
        assert len(counters) == 1
    without_counts = (
        "query($m: Int!) { threads(first: $m) { nodes { messages(first: 5) { nodes { id } } } } }"
    )
    used, _ = await commands_for(recorder, api, without_counts, {"m": 100})
    assert used - thread_windows(recorder) == 2


def thread_windows(recorder: Recorder) -> int:
    """The windows of time a thread list read (one aggregate each)."""
    return sum(1 for command in recorder.commands if command.get("aggregate") == store.THREADS)


async def test_messages_with_their_threads(recorded: tuple[Database, Recorder]) -> None:
    db, recorder = recorded
    thread_ids = await seed(db, 10, 10)
    message_ids = [d["_id"] async for d in db[store.MESSAGES].find({})]
    used, data = await commands_for(
        recorder,
        Api(db),
        """
        query($ids: [ID!]!) { nodes(ids: $ids) { ... on Message { id text thread { id title } } } }
        """,
        {"ids": message_ids},
    )
    assert len(data["nodes"]) == 100 and {n["thread"]["id"] for n in data["nodes"]} == set(
        thread_ids
    )
    assert used == 2, "one query for the messages, one for all their threads"
    used, _ = await commands_for(
        recorder,
        Api(db),
        """
        query($t: ID!) { thread(id: $t) { messages(first: 50) { nodes { id thread { title } } } } }
        """,
        {"t": thread_ids[0]},
    )
    assert used == 2, "the messages' thread comes from the request's cache"


async def test_one_http_request_costs_at_most_three_commands(
    recorded: tuple[Database, Recorder],
) -> None:
    db, recorder = recorded
    await seed(db, 50, 6)
    async with app_client(db) as client:
        client.headers["Authorization"] = f"Bearer {await api_key(db)}"
        recorder.commands.clear()
        response = await client.post(
            "/graphql",
            json={
                "query": "{ threads(first: 50) { nodes { title messages(first: 5) { nodes { text } } } } }"
            },
        )
        assert len(response.json()["data"]["threads"]["nodes"]) == 50
        names = [next(iter(c)) for c in recorder.commands]
        # the API key, the threads (counter document, windows), the message pages
        assert len(names) - thread_windows(recorder) == 3, names


async def test_a_warm_request_needs_no_key_lookup(recorded: tuple[Database, Recorder]) -> None:
    db, recorder = recorded
    await seed(db, 5, 2)
    async with app_client(db) as client:
        client.headers["Authorization"] = f"Bearer {await api_key(db)}"
        query = {"query": "{ threads(first: 5) { nodes { title } } }"}
        assert (await client.post("/graphql", json=query)).status_code == 200
        recorder.commands.clear()
        assert (await client.post("/graphql", json=query)).status_code == 200
        looked_up = [c for c in recorder.commands if store.API_KEYS in c.values()]
        assert recorder.commands and not looked_up, "the key is known for a second"


async def warm_writes(
    db: Database, recorder: Recorder, mutations: list[tuple[str, dict[str, Any]]]
) -> list[list[tuple[str, str]]]:
    """Each mutation's commands on the wire, (command, collection), over HTTP with the API key
    known (a first request looked it up)."""
    used = []
    async with app_client(db) as client:
        client.headers["Authorization"] = f"Bearer {await api_key(db)}"
        warm = await client.post("/graphql", json={"query": "{ inboxCursor }"})
        assert "errors" not in warm.json()
        for query, variables in mutations:
            recorder.commands.clear()
            answer = await client.post("/graphql", json={"query": query, "variables": variables})
            assert "errors" not in answer.json(), answer.json()
            used.append([(next(iter(c)), c[next(iter(c))]) for c in recorder.commands])
    return used


CREATE_MESSAGE = """mutation($t: ID!, $s: MessageStatus) {
  createMessage(input: {threadId: $t, role: ASSISTANT, content: "hi", status: $s})
  { message { id } } }"""


async def test_create_message_costs_its_writes_only(recorded: tuple[Database, Recorder]) -> None:
    """Warm: the thread's numbers with its state check and activity (one update: the instance
    knows the thread as it wrote it), then the message and the inbox's number together, then
    the event carrying its inbox entry. Four commands; the first write to the thread reads it
    first (five)."""
    db, recorder = recorded
    await seed(db, 1, 1)
    found = await db[store.THREADS].find_one({})
    assert found is not None
    mutation = (CREATE_MESSAGE, {"t": found["_id"]})
    first, names = await warm_writes(db, recorder, [mutation, mutation])
    assert first[:2] == [("find", store.THREADS), ("update", store.THREADS)], first
    assert len(first) == 5 and sorted(first[1:]) == sorted(names), first
    assert len(names) <= 4, names
    assert names[0] == ("update", store.THREADS)
    assert sorted(names[1:3]) == [
        ("findAndModify", store.INBOX_COUNTERS),
        ("insert", store.MESSAGES),
    ], names
    assert names[3] == ("insert", store.EVENTS), names


async def test_other_writes_cost_their_writes_only(recorded: tuple[Database, Recorder]) -> None:
    """Warm, each write's commands: its inbox entry rides on its event (one insert)."""
    db, recorder = recorded
    await seed(db, 1, 1)
    found = await db[store.THREADS].find_one({})
    assert found is not None
    thread = found["_id"]
    async with app_client(db) as client:
        client.headers["Authorization"] = f"Bearer {await api_key(db)}"
        started = await client.post(
            "/graphql",
            json={"query": CREATE_MESSAGE, "variables": {"t": thread, "s": "IN_PROGRESS"}},
        )
    message = started.json()["data"]["createMessage"]["message"]["id"]
    append = (
        'mutation($m: ID!) { appendMessageText(input: {id: $m, delta: "x"}) { message { id } } }'
    )
    rename = 'mutation($t: ID!) { updateThread(input: {id: $t, title: "r"}) { thread { id } } }'
    delete = "mutation($t: ID!) { deleteThread(input: {id: $t}) { deleted } }"
    create = 'mutation { createThread(input: {title: "new"}) { thread { id } } }'
    mutations = [(append, {"m": message}), (append, {"m": message})]
    mutations += [(rename, {"t": thread}), (delete, {"t": thread}), (create, {})]
    first, appended, renamed, deleted, created = await warm_writes(db, recorder, mutations)
    read, write = ("find", store.THREADS), ("update", store.THREADS)
    # the message read (for its thread), the thread's number, the append, its event; the first
    # append of the instance reads the thread and the message before writing each
    assert appended == [
        ("aggregate", store.MESSAGES),
        write,
        ("update", store.MESSAGES),
        ("insert", store.EVENTS),
    ], appended
    assert first == [*appended[:1], read, write, ("find", store.MESSAGES), *appended[2:]], first
    inbox = ("findAndModify", store.INBOX_COUNTERS)
    # the update (read, write), then its event's number (read, write) and the inbox's number
    # together, then the event
    assert len(renamed) == 6 and renamed[:2] == [read, write], renamed
    assert sorted(renamed[2:5]) == sorted([inbox, read, write]), renamed
    assert renamed[5] == ("insert", store.EVENTS), renamed
    # to the trash, the thread counted in its new lane (read, set, counter), the two numbers,
    # the event
    assert len(deleted) == 8 and inbox in deleted[4:7], deleted
    assert deleted[7] == ("insert", store.EVENTS), deleted
    # the thread, counted, then ThreadCreated: the inbox's number, then its event number 0
    assert created[-2:] == [("findAndModify", store.INBOX_COUNTERS), ("insert", store.EVENTS)]
