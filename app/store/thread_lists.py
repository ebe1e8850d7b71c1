"""Pages and counts of an organization's threads, costing what they return whatever the
organization's size.

A page reads windows of its order's time (pagination.WindowWalk), each a range bounded on both
ends of the index's time field, sized from the organization's rate of threads (its counter
document: how many, since when) and then from what the windows so far held. A count is the
counter documents' when the filter is one they keep (state, trash, and one metadata pair);
otherwise it is counted in such windows up to COUNT_LIMIT, beyond which it is a lower bound
(`AtLeast`).
"""

from collections.abc import Mapping, Sequence
from dataclasses import replace
from datetime import datetime, timedelta
from typing import Any

from app.domain import MessageQuery, ThreadOrder, ThreadQuery
from app.domain import now as clock_now
from app.pagination import (
    AtLeast,
    Bound,
    Page,
    PageRequest,
    WindowWalk,
    outside_bound,
    query_plan,
)
from app.store.codec import metadata_term
from app.store.connection import Database, aggregate
from app.store.counters import Tally, thread_tally
from app.store.listings import (
    Listing,
    count_listings,
    fetch_listing_page,
    listing_page,
    thread_listing,
)
from app.store.message_pages import message_exists_outside
from app.store.names import THREADS

COUNT_LIMIT = 1_000  # a count by windows is exact up to this many threads
_PROBE_RATE = 1.0  # threads per second a probe's first window is sized for
TallyKey = tuple[str, tuple[str, ...]]  # an organization, and metadata terms


def tally_key(query: ThreadQuery) -> TallyKey:
    """What a page or a count of the query reads of the counter documents: the organization's,
    and those of the metadata terms its filter holds."""
    terms = tuple(sorted({metadata_term(key, value) for key, value in query.metadata}))
    return query.organization_id, terms


def _counter(query: ThreadQuery, tally: Tally) -> Tally | None:
    """The tally that counts the query's threads exactly, if one does: the organization's for
    conditions on state and trash only, a metadata term's for one metadata pair besides."""
    others = (query.visible_in_ui, query.assistant_id, query.user_id)
    if any(value is not None for value in others) or len(query.metadata) > 1:
        return None
    return tally.of_term(metadata_term(*query.metadata[0])) if query.metadata else tally


def _by_term(query: ThreadQuery, tally: Tally) -> dict[str, int]:
    """How many threads hold each of the filter's terms whose count is kept, in the query's
    lanes."""
    held = {term: tally.of_term(term) for term in tally_key(query)[1]}
    return {
        term: counter.count(trashed=query.trashed, states=query.states)
        for term, counter in held.items()
        if counter is not None
    }


def _most(query: ThreadQuery, tally: Tally) -> int | None:
    """How many threads the query matches at most, as the counts tell (None: they do not)."""
    counter = _counter(query, tally)
    if counter is not None:
        return counter.count(trashed=query.trashed, states=query.states)
    return min(_by_term(query, tally).values(), default=None)


def _listing(query: ThreadQuery, tally: Tally) -> Listing:
    """The query's listing, scanned by its rarest metadata term when the counts tell which."""
    by_term = _by_term(query, tally)
    return thread_listing(query, scan_term=min(by_term, key=by_term.__getitem__, default=None))


def _rate(tally: Tally, most: int | None, now: datetime) -> float | None:
    """The expected matching threads per second, from at `most` so many (None: no thread, or
    no time to speak of)."""
    span = (now - tally.since).total_seconds() if tally.since else 0.0
    if span <= 0 or not tally.total:
        return None
    return max(tally.total if most is None else most, 1) / span


def _ms(value: Any) -> datetime:
    assert isinstance(value, datetime)
    return value


async def fetch_page(
    db: Database,
    query: ThreadQuery | MessageQuery,
    request: PageRequest,
    *,
    now: datetime,
    tally: Tally | None = None,
) -> Page[Any]:
    """A page of the list. By activity, a walk leaves out what moved after it started (a
    cursor carries that moment: `now` for the first page, or its newest item if later), so
    it never returns a thread twice; what moved is reported by the events."""
    if isinstance(query, MessageQuery):
        return await fetch_listing_page(db, query, request, now=now)
    bounds, ascending = query_plan(request)
    activity = query.order is ThreadOrder.UPDATED
    cursor = request.after or request.before
    as_of = cursor[2] if activity and cursor else None
    if isinstance(as_of, datetime):
        bounds.append(Bound((as_of, "\uffff"), ascending=False, inclusive=True))
    if tally is None:
        organization_id, terms = tally_key(query)
        tally = await thread_tally(db, organization_id=organization_id, now=now, terms=terms)
    listing = _listing(query, tally)
    sort = {"$sort": {name: 1 if ascending else -1 for name in listing.key}}
    docs: list[dict[str, Any]] = []
    most = _most(query, tally)
    if most != 0:
        start = request.after if request.forward else request.before
        if start is not None:
            at = _ms(start[0])
            edge = at if ascending else at + timedelta(milliseconds=1)
        else:
            edge = (tally.since or now) if ascending else now
        walk = WindowWalk(
            edge,
            descending=not ascending,
            rate=_rate(tally, most, now),
            end=now if ascending else tally.since,
            open_start=start is None,
        )
        while not walk.done and len(docs) < request.wanted:
            need = request.wanted - len(docs)
            window = walk.next(need)
            pipeline = [*listing.pipeline(bounds, window), sort, {"$limit": need}]
            found = await aggregate(db, THREADS, pipeline)
            docs += found
            walk.saw(len(found))
    page = listing_page(listing, request, docs)
    if not activity:
        return page
    started = as_of or max([now, *(doc["updatedAt"] for doc in docs)])
    return replace(page, keys=[(*key, started) for key in page.keys])


async def exists_outside(
    db: Database, query: ThreadQuery | MessageQuery, request: PageRequest, *, previous: bool
) -> bool:
    """Whether the list has items on the far side of the cursor the page was taken from: by
    windows from the cursor (its own item, if still there, is in the first)."""
    if isinstance(query, MessageQuery):
        return await message_exists_outside(db, query, request, previous=previous)
    listing = thread_listing(query)
    bound = outside_bound(request, previous=previous)
    at = _ms(bound.key[0])
    edge = at if bound.ascending else at + timedelta(milliseconds=1)
    walk = WindowWalk(edge, descending=not bound.ascending, rate=_PROBE_RATE)
    while not walk.done:
        window = walk.next(1)
        pipeline = [*listing.pipeline([bound], window), {"$limit": 1}, {"$project": {"_id": 1}}]
        if await aggregate(db, THREADS, pipeline):
            return True
        walk.saw(0)
    return False


async def count_all(
    db: Database,
    queries: Sequence[ThreadQuery | MessageQuery],
    *,
    now: datetime | None = None,
    tallies: Mapping[TallyKey, Tally] | None = None,
) -> list[int]:
    """The counts of many lists: of threads from the counter documents (`tallies`: those read
    already, by `tally_key`), or by windows (an `AtLeast` past COUNT_LIMIT); of messages as
    `count_listings` does."""
    now = now or clock_now()
    counts: dict[int, int] = {}
    tallies = dict(tallies or {})
    for n, query in enumerate(queries):
        if not isinstance(query, ThreadQuery):
            continue
        key = tally_key(query)
        if key not in tallies:
            tallies[key] = await thread_tally(db, organization_id=key[0], now=now, terms=key[1])
        tally = tallies[key]
        counter = _counter(query, tally)
        if counter is not None:
            counts[n] = counter.count(trashed=query.trashed, states=query.states)
        else:
            counts[n] = await _count_by_windows(db, query, tally, now)
    others = [n for n, query in enumerate(queries) if n not in counts]
    if others:
        found = await count_listings(db, [queries[n] for n in others])
        counts.update(zip(others, found, strict=True))
    return [counts[n] for n in range(len(queries))]


async def _count_by_windows(db: Database, query: ThreadQuery, tally: Tally, now: datetime) -> int:
    """Newest first, in windows that each hold about what is still to count, up to
    COUNT_LIMIT + 1: exact if the windows reach the oldest thread first."""
    most = _most(query, tally)
    if not tally.total or most == 0:
        return 0
    listing = _listing(query, tally)
    walk = WindowWalk(
        now,
        descending=True,
        rate=_rate(tally, most, now),
        end=tally.since,
        open_start=True,
        open_last=False,
    )
    total = 0
    while not walk.done and total <= COUNT_LIMIT:
        window = walk.next(COUNT_LIMIT + 1 - total)
        grouped = {"$group": {"_id": None, "count": {"$sum": 1}}}
        rows = await aggregate(db, THREADS, [*listing.pipeline([], window), grouped])
        found = int(rows[0]["count"]) if rows else 0
        total += found
        walk.saw(found)
    if total > COUNT_LIMIT:
        return AtLeast(COUNT_LIMIT)
    return total if walk.reached_end else AtLeast(total)
