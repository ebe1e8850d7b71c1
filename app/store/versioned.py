"""findAndModify's effect, in commands every server runs by index.

The embedded server answers a `findAndModify` that matches by scanning the collection up to
the document (it writes through a filter of `{_id, $and: [query]}`, which its planner cannot
take an index for): 0.75-1.45 s for a thread among 111,000, however selective the query. So
the writes that return the document after read it first (by index), then write it
only if it is still the one read: the write's filter pins every field of the collection's
by-id index to the value read (`BY_ID`), among them `rev`, which every write here and every
other write to a field these queries check (a message to the trash) moves. So the query still
holds when the write lands, and the image after is the one read with the update applied, here.

What no such write touches (the counters' bookkeeping, a recount of the messages, search terms)
may be newer in the database than in the image returned; none of it is in a domain value. A
write that loses a race reads again and retries: one of the racers always progresses.

`Images` keeps the documents as this instance last wrote them: a write whose document's image
satisfies its query tries the guarded write at once, with no read; a stale image costs only the
read it skipped (the guard finds the document changed). The writes of one instance to one
document take turns, each from the image the last one left: many concurrent writers to a
thread cost one command each, not a race that all but one lose and retry.
"""

import asyncio
from collections import OrderedDict
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import bson

from app.store.connection import Database
from app.store.names import MESSAGES, THREADS

Doc = dict[str, Any]
REVISION = "rev"  # how many writes that a query here checks changed the document
# The fields of each collection's by-id index after the organization and the id: pinned to equal
# values, the embedded server's planner takes that index (and MongoDB's the _id index). Among
# them the event numbers, which every write that numbers an event moves, whatever wrote it (an
# older version of the app too): so no number is ever taken twice.
BY_ID = {
    THREADS: ("hidden", "state", "countedAs", "eventSeq", REVISION),
    MESSAGES: ("version", "lastEvent", REVISION),
}


# How many images of each collection an instance keeps (a thread's is a few kB; a message's,
# kept while its text streams in, up to its longest text).
KEPT_IMAGES = {THREADS: 10_000, MESSAGES: 1_000}


class Images:
    """The documents as this instance last wrote them, the most recent of each collection."""

    def __init__(self) -> None:
        self._docs: dict[str, OrderedDict[Any, Doc]] = {name: OrderedDict() for name in KEPT_IMAGES}
        self._turns: dict[tuple[str, Any], tuple[asyncio.Lock, list[int]]] = {}

    @asynccontextmanager
    async def turn(self, collection: str, doc_id: Any) -> AsyncIterator[None]:
        """One write of this instance to the document at a time."""
        key = (collection, doc_id)
        lock, users = self._turns.setdefault(key, (asyncio.Lock(), [0]))
        users[0] += 1
        try:
            async with lock:
                yield
        finally:
            users[0] -= 1
            if not users[0]:
                del self._turns[key]

    def get(self, collection: str, doc_id: Any) -> Doc | None:
        return self._docs[collection].get(doc_id)

    def keep(self, collection: str, doc: Doc) -> None:
        docs = self._docs[collection]
        docs[doc["_id"]] = doc
        docs.move_to_end(doc["_id"])
        if len(docs) > KEPT_IMAGES[collection]:
            docs.popitem(last=False)

    def forget(self, collection: str, doc_id: Any) -> None:
        self._docs[collection].pop(doc_id, None)


async def find_one_and_update(
    db: Database, collection: str, query: Doc, update: Doc, *, images: Images | None = None
) -> Doc | None:
    """The one document `query` (with its `_id`) matches, after `update` (operators $set,
    $unset, $inc, $max and $push on top-level fields); None if none matches."""
    update = _normalized(update)
    revised = {**update, "$inc": {**update.get("$inc", {}), REVISION: 1}}
    if images is None:
        return await _written(db, collection, query, revised, None)
    async with images.turn(collection, query["_id"]):
        return await _written(db, collection, query, revised, images)


async def _written(
    db: Database, collection: str, query: Doc, revised: Doc, images: Images | None
) -> Doc | None:
    known = None if images is None else images.get(collection, query["_id"])
    while True:
        before = known if known is not None and satisfies(known, query) else None
        known = None
        if before is None:
            before = await db[collection].find_one(query)
        if before is None:
            if images is not None:
                images.forget(collection, query["_id"])
            return None
        written = await db[collection].update_one(unchanged(collection, before), revised)
        if written.matched_count:
            after = applied(before, revised)
            if images is not None:
                images.keep(collection, after)
            return after


def unchanged(collection: str, doc: Doc) -> Doc:
    """The filter of a write that lands only on `doc` as it was read: every field of the
    collection's by-id index pinned to the value read."""
    owned = {"organizationId": doc["organizationId"], "_id": doc["_id"]}
    return owned | {name: doc.get(name) for name in BY_ID[collection]}


def satisfies(doc: Doc, query: Doc) -> bool:
    """Whether `doc` matches `query`, for the conditions the writes here use (equality, $in,
    $lte, $not $gt); False for any other (the document is read then)."""
    for name, condition in query.items():
        value = doc.get(name)
        if not isinstance(condition, dict):
            if value != condition:
                return False
            continue
        for operator, operand in condition.items():
            if operator == "$in":
                holds = value in operand
            elif operator == "$lte":
                holds = value is not None and value <= operand
            elif operator == "$not" and list(operand) == ["$gt"]:
                holds = value is None or not value > operand["$gt"]
            else:
                return False
            if not holds:
                return False
    return True


def applied(doc: Doc, update: Doc) -> Doc:
    """`doc` after `update`, as the server applies it."""
    after = dict(doc)
    for operator, fields in update.items():
        for name, value in fields.items():
            if "." in name:
                raise ValueError(f"Only top-level fields are updated here, not {name!r}.")
            if operator == "$set":
                after[name] = value
            elif operator == "$unset":
                after.pop(name, None)
            elif operator == "$inc":
                after[name] = after.get(name, 0) + value
            elif operator == "$max":
                if after.get(name) is None or value > after[name]:
                    after[name] = value
            elif operator == "$push":
                after[name] = [*after.get(name, []), value]
            else:
                raise ValueError(f"The update operator {operator} is not applied here.")
    return after


def _normalized(update: Doc) -> Doc:
    """The update's values as the server stores them (tuples as lists, datetimes to the
    millisecond), so that the image after is what a read would return."""
    stored: Doc = bson.decode(bson.encode(update))
    return stored
