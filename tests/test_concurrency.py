"""Concurrent writes over the real wire protocol keep every invariant."""

import asyncio
import random

import pytest

from app import store
from app.store import Database
from tests.helpers.api import Api
from tests.helpers.factories import make_thread

pytestmark = [pytest.mark.slow]

CREATE = "mutation($t: ID!, $n: String!) { createMessage(input: {threadId: $t, content: $n}) { message { id } } }"
DELETE = "mutation($m: ID!) { deleteMessage(input: {id: $m}) { deleted } }"
COUNT = "query($t: ID!) { thread(id: $t) { messageCount messages(first: 100, order: ASC) { totalCount } } }"


async def test_creates_and_deletes_racing_on_one_thread(real_db: Database) -> None:
    api = Api(real_db)
    thread = await make_thread(real_db, messages=80)
    existing = [d["_id"] async for d in real_db[store.MESSAGES].find({"threadId": thread.id})]
    targets = random.Random(7).choices(existing, k=100)  # some deleted twice
    results = await asyncio.gather(
        *(api.run(CREATE, {"t": thread.id, "n": f"new {n}"}) for n in range(200)),
        *(api.run(DELETE, {"m": message_id}) for message_id in targets),
    )
    codes = [[e.formatted["extensions"]["code"] for e in r.errors or []] for r in results]
    deleted = len(set(targets))
    assert codes[:200] == [[]] * 200, "every create succeeds"
    # Only a second delete of one message fails.
    assert sorted(codes[200:]) == [[]] * deleted + [["NOT_FOUND"]] * (100 - deleted)
    live = {"threadId": thread.id, "deletedAt": None}  # the deleted ones are in the trash
    real = await real_db[store.MESSAGES].count_documents(live)
    assert real == 80 + 200 - deleted
    data = (await api.ok(COUNT, {"t": thread.id}))["thread"]
    assert data["messageCount"] == data["messages"]["totalCount"] == real
    seqs = [d["seq"] async for d in real_db[store.MESSAGES].find({"threadId": thread.id})]
    assert len(set(seqs)) == len(seqs), "the order is total"
    stored = await real_db[store.THREADS].find_one({"_id": thread.id})
    assert stored is not None and max(seqs) <= stored["seq"]


async def test_deleting_a_thread_while_messages_are_created_leaves_no_orphan(
    real_db: Database,
) -> None:
    api = Api(real_db)
    for attempt in range(3):
        thread = await make_thread(real_db, messages=5)
        creates = [api.run(CREATE, {"t": thread.id, "n": f"m{n}"}) for n in range(60)]
        delete = api.run(
            "mutation($t: ID!) { deleteThread(input: {id: $t, permanent: true}) { deleted } }",
            {"t": thread.id},
        )
        results = await asyncio.gather(*creates[:30], delete, *creates[30:])
        assert results[30].data == {"deleteThread": {"deleted": True}}, (attempt, results[30])
        for result in results:
            codes = {e.formatted["extensions"]["code"] for e in result.errors or []}
            assert codes <= {"NOT_FOUND"}, result.errors
        assert await real_db[store.MESSAGES].count_documents({"threadId": thread.id}) == 0
        assert await real_db[store.THREADS].count_documents({"_id": thread.id}) == 0
