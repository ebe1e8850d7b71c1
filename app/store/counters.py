"""Each organization's thread counts, in one counter document per organization, so that a
count of threads by state and visibility reads one document whatever the organization's size.

Every thread records the lane it is counted in (`countedAs`: live or in the trash, and its
state; "none" while hidden for creation or deletion). A write that moves a thread calls
`sync_thread_count`, which moves the recorded lane with a compare-and-set on the thread (so of
two racing writes each move is counted once), then `$inc`s the counter document. A crash between
those two leaves the counter off by one for that thread: `recount_threads` rebuilds both from the
threads themselves (at the first read of an organization without a counter document, and on
demand).
"""

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from app.domain import ThreadState
from app.store.connection import Database
from app.store.listings import TRASHED
from app.store.names import THREAD_COUNTERS, THREADS

NONE = "none"
_BATCH = 1_000
LIVE, TRASH = "live", "trash"


@dataclass(frozen=True)
class Tally:
    """An organization's threads by lane (`live.active`, `trash.archived`, ...), and when the
    oldest of them was created (None if it has none)."""

    lanes: dict[str, int]
    since: datetime | None

    def count(self, *, trashed: bool, states: tuple[ThreadState, ...]) -> int:
        prefix = TRASH if trashed else LIVE
        return sum(max(self.lanes.get(f"{prefix}.{state.value}", 0), 0) for state in states)

    @property
    def total(self) -> int:
        return sum(max(count, 0) for count in self.lanes.values())


def _lane(doc: dict[str, Any]) -> str:
    hidden = doc.get("hidden")
    if hidden is None:
        return f"{LIVE}.{doc['state']}"
    return f"{TRASH}.{doc['state']}" if hidden == TRASHED else NONE


def _tally(doc: dict[str, Any] | None) -> Tally | None:
    if doc is None or "recountedAt" not in doc:
        return None
    lanes = {
        f"{prefix}.{state}": int(count)
        for prefix in (LIVE, TRASH)
        for state, count in doc.get(prefix, {}).items()
    }
    return Tally(lanes, doc.get("since"))


async def sync_thread_count(
    db: Database, *, organization_id: str, thread_id: str, uncount: bool = False
) -> None:
    """Count the thread in the lane it is in now (none with `uncount`: before it goes for
    good)."""
    for _ in range(5):  # a racing write moved it meanwhile: read it again
        fields = {"hidden": 1, "state": 1, "countedAs": 1, "createdAt": 1}
        doc = await db[THREADS].find_one(
            {"_id": thread_id, "organizationId": organization_id}, fields
        )
        if doc is None:
            return
        old = doc.get("countedAs") or NONE
        new = NONE if uncount else _lane(doc)
        if old == new:
            return
        unchanged = {
            "_id": thread_id,
            "organizationId": organization_id,
            "hidden": doc.get("hidden"),
            "state": doc["state"],
            "countedAs": {"$in": [None, NONE]} if old == NONE else old,
        }
        moved = await db[THREADS].update_one(unchanged, {"$set": {"countedAs": new}})
        if moved.matched_count:
            change: dict[str, Any] = {
                "$inc": {lane: step for lane, step in ((old, -1), (new, 1)) if lane != NONE}
            }
            if new != NONE:
                change["$min"] = {"since": doc["createdAt"]}
            # A document this creates counts every thread: one an organization had before
            # counting began is counted by the migration that recounts them all.
            change["$setOnInsert"] = {"recountedAt": doc["createdAt"]}
            await db[THREAD_COUNTERS].update_one({"_id": organization_id}, change, upsert=True)
            return


async def thread_tally(db: Database, *, organization_id: str, now: datetime) -> Tally:
    """The organization's counts: its counter document, rebuilt first if it has none."""
    found = _tally(await db[THREAD_COUNTERS].find_one({"_id": organization_id}))
    if found is not None:
        return found
    return await recount_threads(db, organization_id=organization_id, now=now)


async def recount_threads(db: Database, *, organization_id: str, now: datetime) -> Tally:
    """Count the organization's threads from the threads themselves: each thread's recorded
    lane set to the one it is in, the counter document replaced by the counts. It reads every
    thread of the organization: a repair, not a read path (run once per organization, or when
    a crash may have left a count off). A write racing it may be off by one until the next."""
    lanes: dict[str, int] = {}
    since: datetime | None = None
    moved: dict[str, list[str]] = {}
    fields = {"hidden": 1, "state": 1, "createdAt": 1, "countedAs": 1}
    async for doc in db[THREADS].find({"organizationId": organization_id}, fields):
        lane = _lane(doc)
        if (doc.get("countedAs") or NONE) != lane:
            moved.setdefault(lane, []).append(doc["_id"])
        if lane != NONE:
            lanes[lane] = lanes.get(lane, 0) + 1
            since = doc["createdAt"] if since is None else min(since, doc["createdAt"])
    for lane, ids in moved.items():
        for start in range(0, len(ids), _BATCH):
            batch = {"organizationId": organization_id, "_id": {"$in": ids[start : start + _BATCH]}}
            await db[THREADS].update_many(batch, {"$set": {"countedAs": lane}})
    nested: dict[str, dict[str, int]] = {LIVE: {}, TRASH: {}}
    for lane, count in lanes.items():
        prefix, name = lane.split(".")
        nested[prefix][name] = count
    # No `since` without threads: `$min` on a stored null would keep the null.
    document = {**nested, "recountedAt": now} | ({} if since is None else {"since": since})
    await db[THREAD_COUNTERS].replace_one({"_id": organization_id}, document, upsert=True)
    return Tally(lanes, since)
