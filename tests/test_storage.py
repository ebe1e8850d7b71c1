"""Every query the API sends uses an index and none skips: checked with explain() on real
servers, for the commands recorded while a workload of every operation runs."""

from datetime import datetime, timedelta
from typing import Any

from app import store
from app.domain import MessageQuery, ThreadQuery, now
from app.pagination import Bound
from app.store import Database
from app.store.listings import message_listing, thread_listing
from tests.helpers.api import Api
from tests.helpers.backends import Recorder
from tests.helpers.factories import make_thread

READS_AND_WRITES = {"find", "aggregate", "findAndModify", "update", "delete", "count", "distinct"}


def find_equivalents(command: dict[str, Any]) -> list[dict[str, Any]]:
    """The find(s) that select what the command selects.

    The embedded server's explain of update and delete reports a placeholder plan, so those are
    explained through the find of the same filter (what the server plans for them as well).
    """
    name = next(iter(command))
    collection = command[name]
    if name == "find":
        return [
            {
                "find": collection,
                "filter": command.get("filter", {}),
                "sort": command.get("sort", {}),
                **({"hint": command["hint"]} if "hint" in command else {}),
            }
        ]
    if name == "aggregate":
        return [{"find": collection, "filter": command["pipeline"][0]["$match"]}]
    if name == "findAndModify":
        return [{"find": collection, "filter": command["query"]}]
    if name == "update":
        return [{"find": collection, "filter": u["q"]} for u in command["updates"]]
    if name == "delete":
        return [{"find": collection, "filter": d["q"]} for d in command["deletes"]]
    raise AssertionError(f"unexpected command {name}")


def stages(plan: Any) -> list[str]:
    found: list[str] = []
    if isinstance(plan, dict):
        if "stage" in plan:
            found.append(plan["stage"])
        for value in plan.values():
            found += stages(value)
    elif isinstance(plan, list):
        for value in plan:
            found += stages(value)
    return found


async def run_every_operation(api: Api, db: Database) -> None:
    thread = (
        await api.ok(
            'mutation { createThread(input: {title: "t", metadata: {k: "v"}, messages: '
            '[{content: "a"}, {content: "b", metadata: {m: "1"}}]}) { thread { id } } }'
        )
    )["createThread"]["thread"]["id"]
    await make_thread(db, user_id="other", metadata={"k": "v"})
    created = await api.ok(
        'mutation($t: ID!) { createMessage(input: {threadId: $t, content: "c", role: ASSISTANT})'
        " { message { id thread { id } } thread { messageCount } } }",
        {"t": thread},
    )
    message = created["createMessage"]["message"]["id"]
    page = """
      query($t: ID!, $after: String, $before: String) {
        thread(id: $t) {
          messageCount
          a: messages(first: 1, after: $after, order: ASC) {
            totalCount pageInfo { hasNextPage hasPreviousPage endCursor } }
          b: messages(last: 1, before: $before, metadata: {m: "1"}, role: USER) {
            totalCount pageInfo { hasNextPage hasPreviousPage startCursor } }
        }
        threads(first: 1) { totalCount pageInfo { endCursor } }
      }"""
    first = (await api.ok(page, {"t": thread}))["thread"]
    await api.ok(
        page,
        {
            "t": thread,
            "after": first["a"]["pageInfo"]["endCursor"],
            "before": first["b"]["pageInfo"]["startCursor"],
        },
    )
    after = await api.ok("{ threads(first: 1) { pageInfo { endCursor } } }")
    for filter_ in (
        '{metadata: {k: "v"}}',
        "{state: ARCHIVED}",
        "{visibleInUi: true}",
        '{assistantId: "a"}',
        '{userId: "other"}',
    ):
        await api.ok(
            f"query($a: String) {{ threads(filter: {filter_}, after: $a, order: ASC) "
            "{ totalCount pageInfo { hasPreviousPage } } "
            f"b: threads(filter: {filter_}, last: 1, before: $a) {{ pageInfo {{ hasNextPage }} }} }}",
            {"a": after["threads"]["pageInfo"]["endCursor"]},
        )
    await api.ok(
        "query($ids: [ID!]!) { nodes(ids: $ids) { id } message(id: $m) { id } }".replace(
            "$ids: [ID!]!", "$ids: [ID!]!, $m: ID!"
        ),
        {"ids": [thread, message], "m": message},
    )
    await api.ok(
        "mutation($m: ID!) { updateMessage(input: {id: $m, metadata: {}}) { message { id } } }",
        {"m": message},
    )
    await api.ok(
        "mutation($t: ID!) { updateThread(input: {id: $t, state: LOCKED}) { thread { id } } }",
        {"t": thread},
    )
    await api.ok(
        "mutation($t: ID!) { updateThread(input: {id: $t, state: ACTIVE}) { thread { id } } }",
        {"t": thread},
    )
    await api.ok("mutation($m: ID!) { deleteMessage(input: {id: $m}) { deleted } }", {"m": message})
    await api.ok("mutation($t: ID!) { deleteThread(input: {id: $t}) { deleted } }", {"t": thread})
    await api.ok(
        "mutation($t: ID!) { restoreThread(input: {id: $t}) { thread { id } } }", {"t": thread}
    )
    await api.ok(
        "mutation($m: ID!) { restoreMessage(input: {id: $m}) { message { id } } }", {"m": message}
    )
    await api.ok('{ threads(orderBy: UPDATED_AT, filter: {metadata: {k: "v"}}) { totalCount } }')
    await api.ok("{ threads(filter: {deleted: true}) { totalCount } }")
    await api.ok(
        "mutation($t: ID!) { deleteThread(input: {id: $t, permanent: true}) { deleted } }",
        {"t": thread},
    )
    await store.purge_trash(db, deleted_before=now())
    await store.finish_interrupted_writes(db, creating_older_than=timedelta(0))


async def test_every_query_uses_an_index(recorded: tuple[Database, Recorder]) -> None:
    db, recorder = recorded
    await run_every_operation(Api(db), db)
    # the replays of subscriptions: the inbox's entries ride on the events (a partial index)
    inbox = await store.list_inbox_events(db, organization_id="org_local", after=1, until=40)
    assert len(inbox) >= 10 and all(e.organization_id == "org_local" for e in inbox)
    assert await store.list_events(db, organization_id="org_local", thread_id="t", after=0) == []
    commands = [c for c in recorder.commands if next(iter(c)) in READS_AND_WRITES]
    names = {next(iter(c)) for c in commands}
    assert {"find", "aggregate", "findAndModify", "update", "delete"} <= names
    # The embedded server scans the whole collection for a findAndModify that matches (or an
    # update whose filter has $and or $or): never on the collections that grow.
    for command in commands:
        name = next(iter(command))
        if command[name] in (store.THREADS, store.MESSAGES):
            assert name != "findAndModify", command
            for write in command.get("updates", []):
                assert not {"$and", "$or"} & set(write["q"]), command
    for command in commands:
        assert "skip" not in command, command
        for find in find_equivalents(command):
            explained = await db.command({"explain": find, "verbosity": "queryPlanner"})
            plan = explained["queryPlanner"]["winningPlan"]
            assert "COLLSCAN" not in stages(plan), (command, plan)
            assert "IXSCAN" in stages(plan) or "IDHACK" in stages(plan), (command, plan)


async def test_indexes_exist(db: Database) -> None:
    threads = await db[store.THREADS].index_information()
    messages = await db[store.MESSAGES].index_information()
    keys = [list(index["key"]) for index in threads.values()]
    assert [("organizationId", 1), ("createdAt", 1), ("_id", 1)] in keys
    unique = [list(index["key"]) for index in messages.values() if index.get("unique")]
    assert unique == [[("organizationId", 1), ("threadId", 1), ("seq", 1)]]


def test_keyset_bounds_become_index_ranges() -> None:
    messages = message_listing(MessageQuery(organization_id="o", thread_id="t"))
    scan = {"organizationId": "o", "threadId": "t"}
    live = {"$match": {"deletedAt": None}}
    assert messages.pipeline([Bound((5,), ascending=True)]) == [
        {"$match": {**scan, "seq": {"$gt": 5}}},
        live,
    ]
    # `$lte 5` as `$lt 6`: the embedded server drops equal keys of `$lte` in compound indexes.
    inclusive = Bound((5,), ascending=False, inclusive=True)
    assert messages.pipeline([inclusive]) == [{"$match": {**scan, "seq": {"$lt": 6}}}, live]
    at = datetime(2026, 1, 1)
    threads = thread_listing(ThreadQuery(organization_id="o"))
    scan_stage, rest_stage = threads.pipeline([Bound((at, "b"), ascending=False)])
    assert scan_stage == {
        "$match": {"organizationId": "o", "createdAt": {"$lt": at + timedelta(milliseconds=1)}}
    }
    exact = {"$or": [{"createdAt": {"$lt": at}}, {"createdAt": at, "_id": {"$lt": "b"}}]}
    assert exact in rest_stage["$match"]["$and"]
