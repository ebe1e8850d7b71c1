"""Each organization's thread counts, in one counter document per organization, so that a
count of threads by state and visibility reads one document whatever the organization's size;
and the same counts of the threads holding each metadata term (codec.metadata_term), one
document per organization and term, so that a count under a filter on one metadata pair does
too.

Every thread records the lane it is counted in (`countedAs`: live or in the trash, and its
state; "none" while hidden for creation or deletion; with a digest of the terms it is counted
under, which `countedTerms` lists, so that one compare-and-set on a field of the thread's
by-id index covers both). A write that moves a thread or changes its metadata calls
`sync_thread_count`, which moves the recorded lane and terms with a compare-and-set on the
thread (so of two racing writes each move is counted once), then `$inc`s the
counter documents. A crash between those leaves the counts off by one for that thread:
`recount_threads` rebuilds them from the threads themselves (at the first read of an
organization without a counter document, by the migration that began the term counts, and on
demand).
"""

import hashlib
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from app.domain import ThreadState
from app.store.connection import Database
from app.store.listings import TRASHED
from app.store.names import THREAD_COUNTERS, THREADS
from app.store.versioned import BY_ID, unchanged

NONE = "none"
_BATCH = 1_000
LIVE, TRASH = "live", "trash"
# On an organization's counter document: since when its term counts count every thread.
TERMS_SINCE = "termsCountedAt"
# What of a thread decides where it is counted, and where it is.
_COUNTED_BY = dict.fromkeys(
    ("organizationId", "createdAt", "metaTerms", "countedTerms", *BY_ID[THREADS]), 1
)


@dataclass(frozen=True)
class Tally:
    """An organization's threads by lane (`live.active`, `trash.archived`, ...), when the
    oldest of them was created (None if it has none), and the lanes of the threads holding
    each term asked for (None: the organization's term counts are not kept yet)."""

    lanes: dict[str, int]
    since: datetime | None
    terms: Mapping[str, dict[str, int]] | None = None

    def count(self, *, trashed: bool, states: tuple[ThreadState, ...]) -> int:
        prefix = TRASH if trashed else LIVE
        return sum(max(self.lanes.get(f"{prefix}.{state.value}", 0), 0) for state in states)

    @property
    def total(self) -> int:
        return sum(max(count, 0) for count in self.lanes.values())

    def of_term(self, term: str) -> "Tally | None":
        """The tally of the threads holding `term` (None if not read or not kept)."""
        if self.terms is None or term not in self.terms:
            return None
        return Tally(self.terms[term], self.since)


_TERM = "\x1f"  # between an organization and a term, in a term's counter document's `_id`
_TERM_END = chr(ord(_TERM) + 1)  # past every term of an organization, in `_id` order


def term_id(organization_id: str, term: str) -> str:
    """The `_id` of the counter document of an organization's threads holding a term."""
    return f"{organization_id}{_TERM}{term}"


def counted_as(lane: str, terms: Sequence[str]) -> str:
    """What a thread counted in `lane` under `terms` records as `countedAs`."""
    if not terms:
        return lane
    return f"{lane}#{hashlib.blake2b(chr(10).join(terms).encode(), digest_size=8).hexdigest()}"


def _lane(doc: dict[str, Any]) -> str:
    hidden = doc.get("hidden")
    if hidden is None:
        return f"{LIVE}.{doc['state']}"
    return f"{TRASH}.{doc['state']}" if hidden == TRASHED else NONE


def _lanes(doc: dict[str, Any] | None) -> dict[str, int]:
    return {
        f"{prefix}.{state}": int(count)
        for prefix in (LIVE, TRASH)
        for state, count in (doc or {}).get(prefix, {}).items()
    }


def _nested(lanes: Mapping[str, int]) -> dict[str, dict[str, int]]:
    nested: dict[str, dict[str, int]] = {LIVE: {}, TRASH: {}}
    for lane, count in lanes.items():
        prefix, name = lane.split(".")
        nested[prefix][name] = count
    return nested


def _term_moves(
    old: str, old_terms: Iterable[str], new: str, new_terms: Iterable[str]
) -> dict[str, dict[str, int]]:
    """For each term whose counts change, the `$inc` of its lanes."""
    moves: dict[str, dict[str, int]] = {}
    for lane, terms, step in ((old, old_terms, -1), (new, new_terms, 1)):
        if lane == NONE:
            continue
        for term in terms:
            inc = moves.setdefault(term, {})
            inc[lane] = inc.get(lane, 0) + step
    nonzero = {term: {k: v for k, v in inc.items() if v} for term, inc in moves.items()}
    return {term: inc for term, inc in nonzero.items() if inc}


async def sync_thread_count(
    db: Database, *, organization_id: str, thread_id: str, uncount: bool = False
) -> None:
    """Count the thread in the lane it is in now, under the terms it holds now (nowhere with
    `uncount`: before it goes for good)."""
    for _ in range(5):  # a racing write moved it meanwhile: read it again
        doc = await db[THREADS].find_one(
            {"_id": thread_id, "organizationId": organization_id}, _COUNTED_BY
        )
        if doc is None:
            return
        recorded = doc.get("countedAs") or NONE
        old, old_terms = recorded.split("#")[0], doc.get("countedTerms") or []
        new = NONE if uncount else _lane(doc)
        new_terms = [] if new == NONE else sorted(doc.get("metaTerms") or [])
        if recorded == counted_as(new, new_terms):
            return
        # The thread as read, its revision included: a write in between (a recoloring back
        # and forth too) makes this one read again.
        counted = {"countedAs": counted_as(new, new_terms), "countedTerms": new_terms}
        moved = await db[THREADS].update_one(unchanged(THREADS, doc), {"$set": counted})
        if moved.matched_count:
            await _move(db, organization_id, doc, old, new)
            for term, inc in _term_moves(old, old_terms, new, new_terms).items():
                await db[THREAD_COUNTERS].update_one(
                    {"_id": term_id(organization_id, term)}, {"$inc": inc}, upsert=True
                )
            return


async def _move(
    db: Database, organization_id: str, doc: dict[str, Any], old: str, new: str
) -> None:
    """Move the thread between lanes in the organization's counter document."""
    if old == new:
        return
    change: dict[str, Any] = {
        "$inc": {lane: step for lane, step in ((old, -1), (new, 1)) if lane != NONE}
    }
    if new != NONE:
        change["$min"] = {"since": doc["createdAt"]}
    # A document this creates counts every thread: one an organization had before counting
    # began is counted by the migration that recounts them all.
    change["$setOnInsert"] = {"recountedAt": doc["createdAt"], TERMS_SINCE: doc["createdAt"]}
    await db[THREAD_COUNTERS].update_one({"_id": organization_id}, change, upsert=True)


async def thread_tally(
    db: Database, *, organization_id: str, now: datetime, terms: Sequence[str] = ()
) -> Tally:
    """The organization's counts, with those of the threads holding each of `terms`: its
    counter documents, in one read, rebuilt first if it has none."""
    ids = [organization_id, *(term_id(organization_id, term) for term in terms)]
    docs = await db[THREAD_COUNTERS].find({"_id": {"$in": ids}}).to_list(None)
    found = next((doc for doc in docs if doc["_id"] == organization_id), None)
    if found is None or "recountedAt" not in found:
        return await recount_threads(db, organization_id=organization_id, now=now, terms=terms)
    kept: dict[str, dict[str, int]] | None = None
    if TERMS_SINCE in found:
        by_id = {doc["_id"]: doc for doc in docs}
        kept = {term: _lanes(by_id.get(term_id(organization_id, term))) for term in terms}
    return Tally(_lanes(found), found.get("since"), kept)


async def recount_threads(
    db: Database, *, organization_id: str, now: datetime, terms: Sequence[str] = ()
) -> Tally:
    """Count the organization's threads from the threads themselves: each thread's recorded
    lane and terms set to those it is in, the counter documents replaced by the counts. It
    reads every thread of the organization: a repair, not a read path (run once per
    organization, or when a crash may have left a count off). A write racing it may be off by
    one until the next; a read racing it may find a term's count missing (none) meanwhile."""
    lanes: dict[str, int] = {}
    by_term: dict[str, dict[str, int]] = {}
    since: datetime | None = None
    moved: dict[tuple[str, tuple[str, ...]], list[str]] = {}
    async for doc in db[THREADS].find({"organizationId": organization_id}, _COUNTED_BY):
        lane = _lane(doc)
        held = () if lane == NONE else tuple(sorted(doc.get("metaTerms") or []))
        recorded = (doc.get("countedAs") or NONE, doc.get("countedTerms") or [])
        if recorded != (counted_as(lane, held), list(held)):
            moved.setdefault((lane, held), []).append(doc["_id"])
        if lane != NONE:
            lanes[lane] = lanes.get(lane, 0) + 1
            since = doc["createdAt"] if since is None else min(since, doc["createdAt"])
            for term in held:
                counts = by_term.setdefault(term, {})
                counts[lane] = counts.get(lane, 0) + 1
    for (lane, held), ids in moved.items():
        for start in range(0, len(ids), _BATCH):
            batch = {"organizationId": organization_id, "_id": {"$in": ids[start : start + _BATCH]}}
            counted = {"countedAs": counted_as(lane, held), "countedTerms": list(held)}
            await db[THREADS].update_many(batch, {"$set": counted})
    terms_of = {"$gte": term_id(organization_id, ""), "$lt": f"{organization_id}{_TERM_END}"}
    await db[THREAD_COUNTERS].delete_many({"_id": terms_of})
    docs = [{"_id": term_id(organization_id, t), **_nested(c)} for t, c in by_term.items()]
    for start in range(0, len(docs), _BATCH):
        await db[THREAD_COUNTERS].insert_many(docs[start : start + _BATCH])
    # No `since` without threads: `$min` on a stored null would keep the null.
    document = {**_nested(lanes), "recountedAt": now, TERMS_SINCE: now}
    document |= {} if since is None else {"since": since}
    await db[THREAD_COUNTERS].replace_one({"_id": organization_id}, document, upsert=True)
    return Tally(lanes, since, {term: by_term.get(term, {}) for term in terms})
