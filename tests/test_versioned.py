"""Writes that return the document after (store/versioned.py): the image returned is the one
stored, stale images are caught by the guard, and a lost race is retried."""

import asyncio
from collections import Counter
from datetime import datetime
from typing import Any

import pytest

from app import store
from app.store import Database, versioned

ORG = "org_local"
AT = datetime(2026, 11, 28, 12, 0, 0, 123456)  # microseconds: the server keeps milliseconds
UPDATES: list[dict[str, Any]] = [
    {"$set": {"title": "t", "metadata": [{"k": "a", "v": "b"}], "at": AT}},
    {"$unset": {"title": "", "absent": ""}},
    {"$inc": {"n": 2, "fresh": 1}},
    {"$max": {"at": AT, "n": 1, "fresh": 5}},
    {"$push": {"chunks": "x"}, "$inc": {"length": 1}},
    {"$set": {"state": "archived"}, "$max": {"updatedAt": AT}, "$unset": {"chunks": ""}},
]


async def seed(db: Database) -> dict[str, Any]:
    doc = {"_id": "t1", "organizationId": ORG, "title": "old", "n": 1, "chunks": ["a"]}
    doc |= {"length": 1, "state": "active", "updatedAt": datetime(2026, 1, 1)}
    await db[store.THREADS].insert_one(doc)
    return doc


@pytest.mark.parametrize("update", UPDATES)
async def test_the_image_after_is_the_one_stored(db: Database, update: dict[str, Any]) -> None:
    await seed(db)
    after = await versioned.find_one_and_update(
        db, store.THREADS, {"_id": "t1", "organizationId": ORG}, update
    )
    assert after == await db[store.THREADS].find_one({"_id": "t1"})


async def test_no_match_is_none_and_writes_nothing(db: Database) -> None:
    before = await seed(db)
    query = {"_id": "t1", "organizationId": ORG, "state": {"$in": ["archived"]}}
    assert await versioned.find_one_and_update(db, store.THREADS, query, {"$inc": {"n": 1}}) is None
    assert await db[store.THREADS].find_one({"_id": "t1"}) == before


async def test_a_stale_image_costs_a_read_not_a_wrong_write(db: Database) -> None:
    await seed(db)
    images = store.Images()
    query = {"_id": "t1", "organizationId": ORG, "state": {"$in": ["active"]}}
    await versioned.find_one_and_update(db, store.THREADS, query, {"$inc": {"n": 1}}, images=images)
    # Another instance archives the thread: this instance's image still shows it active.
    other = await versioned.find_one_and_update(
        db, store.THREADS, {"_id": "t1", "organizationId": ORG}, {"$set": {"state": "archived"}}
    )
    kept = images.get(store.THREADS, "t1")
    assert other is not None and kept is not None and kept["state"] == "active"
    assert (
        await versioned.find_one_and_update(
            db, store.THREADS, query, {"$inc": {"n": 1}}, images=images
        )
        is None
    )
    stored = await db[store.THREADS].find_one({"_id": "t1"})
    assert stored is not None and stored["n"] == 2, "the archived thread is not written"
    # Another instance renames it: the next write returns the rename too.
    await versioned.find_one_and_update(
        db, store.THREADS, {"_id": "t1", "organizationId": ORG}, {"$set": {"title": "new"}}
    )
    anywhere = {"_id": "t1", "organizationId": ORG}
    images.keep(store.THREADS, {**stored, "title": "stale"})
    after = await versioned.find_one_and_update(
        db, store.THREADS, anywhere, {"$inc": {"n": 1}}, images=images
    )
    assert after == await db[store.THREADS].find_one({"_id": "t1"})
    assert after is not None and after["title"] == "new"


async def test_a_fresh_image_saves_the_read(real_db: Database) -> None:
    db = real_db
    await seed(db)
    images = store.Images()
    query = {"_id": "t1", "organizationId": ORG}
    await versioned.find_one_and_update(db, store.THREADS, query, {"$inc": {"n": 1}}, images=images)
    reads: list[str] = []
    finds = type(db[store.THREADS]).find_one

    async def counted(self: Any, *args: Any, **kwargs: Any) -> Any:
        reads.append(self.name)
        return await finds(self, *args, **kwargs)

    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(type(db[store.THREADS]), "find_one", counted)
        after = await versioned.find_one_and_update(
            db, store.THREADS, query, {"$inc": {"n": 1}}, images=images
        )
    assert reads == [] and after is not None and after["n"] == 3


async def test_racing_writes_each_land_once(db: Database) -> None:
    await seed(db)
    query = {"_id": "t1", "organizationId": ORG}
    images = [store.Images() for _ in range(6)]

    async def bump(kept: store.Images) -> int:
        after = await versioned.find_one_and_update(
            db, store.THREADS, query, {"$inc": {"n": 1}}, images=kept
        )
        assert after is not None
        return int(after["n"])

    for _ in range(3):
        seen = await asyncio.gather(*(bump(kept) for kept in images))
        assert len(set(seen)) == len(seen), "each write saw its own number"
    stored = await db[store.THREADS].find_one({"_id": "t1"})
    assert stored is not None and stored["n"] == 1 + 18


def test_satisfies_reads_the_conditions_the_writes_use() -> None:
    doc = {"_id": "m", "status": "in_progress", "length": 3, "lastEvent": 4, "hidden": None}
    assert versioned.satisfies(doc, {"_id": "m", "hidden": None, "status": "in_progress"})
    assert versioned.satisfies(doc, {"length": {"$lte": 3}, "lastEvent": {"$not": {"$gt": 4}}})
    assert not versioned.satisfies(doc, {"length": {"$lte": 2}})
    assert not versioned.satisfies(doc, {"lastEvent": {"$not": {"$gt": 3}}})
    assert not versioned.satisfies(doc, {"status": {"$in": ["completed"]}})
    assert not versioned.satisfies(doc, {"length": {"$gte": 1}}), "unknown: read instead"
    assert versioned.satisfies({"_id": "m"}, {"lastEvent": {"$not": {"$gt": 1}}, "hidden": None})


async def test_numbers_taken_elsewhere_are_never_taken_again(db: Database) -> None:
    """A write that takes an event number without moving `rev` (an older version of the app)
    still makes a cached image stale: the event number is pinned too."""
    await seed(db)
    images = store.Images()
    query = {"_id": "t1", "organizationId": ORG}
    taken = {"$inc": {"eventSeq": 1, "seq": 1}}
    first = await versioned.find_one_and_update(db, store.THREADS, query, taken, images=images)
    await db[store.THREADS].update_one(query, taken)  # the older version's write
    second = await versioned.find_one_and_update(db, store.THREADS, query, taken, images=images)
    assert first is not None and second is not None
    assert (first["eventSeq"], second["eventSeq"]) == (1, 3)
    assert second == await db[store.THREADS].find_one(query)


async def test_an_instances_writes_to_one_document_take_turns(db: Database) -> None:
    """50 concurrent writes of one instance: one update each, no read, no lost race."""
    await seed(db)
    images = store.Images()
    query = {"_id": "t1", "organizationId": ORG}
    bump = {"$inc": {"n": 1}}
    await versioned.find_one_and_update(db, store.THREADS, query, bump, images=images)
    calls: Counter[str] = Counter()
    cls = type(db[store.THREADS])

    def counting(name: str) -> Any:
        original = getattr(cls, name)

        async def counted(self: Any, *args: Any, **kwargs: Any) -> Any:
            calls[name] += 1
            return await original(self, *args, **kwargs)

        return counted

    with pytest.MonkeyPatch.context() as patch:
        for name in ("find_one", "update_one"):
            patch.setattr(cls, name, counting(name))
        seen = await asyncio.gather(
            *(
                versioned.find_one_and_update(db, store.THREADS, query, bump, images=images)
                for _ in range(50)
            )
        )
    assert calls == {"update_one": 50}, calls
    assert sorted(after["n"] for after in seen if after is not None) == list(range(3, 53))
