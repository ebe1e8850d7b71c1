"""Pages and counts of thread and message lists, as bounded keyset range scans (pages and
probes of messages: store/message_pages.py).

The embedded server's planner does not stop a sorted, limited index scan at the limit, and
takes an index only for a filter made of index-prefix fields. So a list is a `$match` of
equality conditions on the leading fields of an index that ends with the order's key, plus a
range on the key; every other condition follows in a second `$match` (MongoDB merges them).
"""

import hashlib
import json
from collections.abc import Sequence
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from typing import Any

from app.domain import MessageQuery, ThreadOrder, ThreadQuery
from app.pagination import (
    Bound,
    Key,
    KeyValue,
    Page,
    PageRequest,
    TimeWindow,
    page_of,
    query_plan,
)
from app.store.codec import message_from_doc, metadata_term, thread_from_doc
from app.store.connection import Database, aggregate
from app.store.names import MESSAGES, THREADS

VISIBLE: dict[str, Any] = {"hidden": None}
# The `hidden` of a thread in the trash (store/trash.py).
TRASHED = "trashed"
THREAD_KEYS = {ThreadOrder.CREATED: ("createdAt", "_id"), ThreadOrder.UPDATED: ("updatedAt", "_id")}
MESSAGE_KEY = ("seq",)


@dataclass(frozen=True)
class Listing:
    """A query as filters: `scan` on index-prefix fields, `rest` for everything else."""

    collection: str
    scan: dict[str, Any]
    rest: dict[str, Any]
    key: tuple[str, ...]

    def pipeline(
        self, bounds: Sequence[Bound] = (), window: TimeWindow | None = None
    ) -> list[dict[str, Any]]:
        ranges: dict[str, dict[str, KeyValue]] = {}
        if window is not None:
            within = {"$gte": window.low, "$lt": window.high}
            range_: dict[str, KeyValue] = {op: at for op, at in within.items() if at}
            if range_:
                ranges[self.key[0]] = range_
        exact: list[Any] = []
        for bound in bounds:
            field, condition, rest = _bound_filter(self.key, bound)
            ranges[field] = _tighter(ranges.get(field, {}), condition)
            exact += rest
        stages: list[dict[str, Any]] = [{"$match": {**self.scan, **ranges}}]
        others = ([self.rest] if self.rest else []) + exact
        if others:
            stages.append({"$match": others[0] if len(others) == 1 else {"$and": others}})
        return stages


def _tighter(range_: dict[str, KeyValue], condition: dict[str, KeyValue]) -> dict[str, KeyValue]:
    """Both ranges on one field: the tighter bound on each side."""
    merged = dict(range_)
    for op, value in condition.items():
        if op not in merged:
            merged[op] = value
        elif op == "$lt":
            merged[op] = min(merged[op], value)
        else:
            merged[op] = max(merged[op], value)
    return merged


def _metadata_filter(
    metadata: Sequence[tuple[str, str]], *, scanned: str | None = None
) -> dict[str, Any]:
    """The metadata pairs as a condition on their terms, but for the one the scan matches."""
    terms = [term for key, value in metadata if (term := metadata_term(key, value)) != scanned]
    return {"metaTerms": {"$all": terms}} if terms else {}


def thread_listing(query: ThreadQuery, *, scan_term: str | None = None) -> Listing:
    """Scanned by (organization, user) or (organization, a metadata term: `scan_term`, else the
    first) when given, so that the index (..., order key) bounds the scan."""
    scan: dict[str, Any] = {"organizationId": query.organization_id}
    scanned = None
    if query.user_id is not None:
        scan["userId"] = query.user_id
    elif query.metadata:
        scanned = scan["metaTerms"] = scan_term or metadata_term(*query.metadata[0])
    states = [state.value for state in query.states]
    visibility = {"hidden": TRASHED} if query.trashed else VISIBLE
    rest: dict[str, Any] = {
        **visibility,
        "state": states[0] if len(states) == 1 else {"$in": states},
    }
    if query.visible_in_ui is not None:
        rest["visibleInUi"] = query.visible_in_ui
    if query.assistant_id is not None:
        rest["assistantId"] = query.assistant_id
    rest |= _metadata_filter(query.metadata, scanned=scanned)
    return Listing(THREADS, scan, rest, THREAD_KEYS[query.order])


def message_listing(query: MessageQuery) -> Listing:
    rest: dict[str, Any] = {"deletedAt": None}  # not in the trash
    if query.role is not None:
        rest["role"] = query.role.value
    if query.status is not None:
        rest["status"] = query.status.value
    scan = {"organizationId": query.organization_id, "threadId": query.thread_id}
    return Listing(MESSAGES, scan, {**rest, **_metadata_filter(query.metadata)}, MESSAGE_KEY)


def _listing(query: ThreadQuery | MessageQuery) -> Listing:
    return thread_listing(query) if isinstance(query, ThreadQuery) else message_listing(query)


def _bound_filter(
    fields: Sequence[str], bound: Bound
) -> tuple[str, dict[str, KeyValue], list[Any]]:
    """A bound as a range on the first key field, which an index on (..., first field) can
    scan, and the exact condition, needed when the key is compound."""
    bound = Bound(bound.key[: len(fields)], bound.ascending, bound.inclusive)
    if len(fields) == 1:
        return fields[0], _range(bound.key[0], bound.ascending, bound.inclusive), []
    range_ = _range(bound.key[0], bound.ascending, inclusive=True)
    return fields[0], range_, [_beyond(fields, bound)]


def _beyond(fields: Sequence[str], bound: Bound) -> Any:
    op = "$gt" if bound.ascending else "$lt"
    clauses: list[dict[str, Any]] = []
    for index, name in enumerate(fields):
        clause: dict[str, Any] = dict(zip(fields[:index], bound.key[:index], strict=True))
        clause[name] = {op: bound.key[index]}
        clauses.append(clause)
    if bound.inclusive:
        clauses.append(dict(zip(fields, bound.key, strict=True)))
    return clauses[0] if len(clauses) == 1 else {"$or": clauses}


def _range(value: KeyValue, ascending: bool, inclusive: bool) -> dict[str, KeyValue]:
    if ascending:
        return {"$gte" if inclusive else "$gt": value}
    # `$lte v` as `$lt` the next value: the embedded server drops the equal keys of `$lte` on
    # a field followed by others in a compound index.
    return {"$lt": _successor(value)} if inclusive else {"$lt": value}


def _successor(value: KeyValue) -> KeyValue:
    """The smallest stored value greater than `value` (datetimes are stored to the ms)."""
    if isinstance(value, datetime):
        return value + timedelta(milliseconds=1)
    if isinstance(value, int):
        return value + 1
    return value + "\x00"


def listing_page(listing: Listing, request: PageRequest, docs: list[dict[str, Any]]) -> Page[Any]:
    decode = thread_from_doc if listing.collection == THREADS else message_from_doc
    keys: list[Key] = [tuple(doc[name] for name in listing.key) for doc in docs]
    return page_of(request, [decode(doc) for doc in docs], keys)


async def fetch_listing_page(
    db: Database, query: ThreadQuery | MessageQuery, request: PageRequest, *, now: datetime
) -> Page[Any]:
    """A page of the list. By activity, a walk leaves out what moved after it started (a
    cursor carries that moment: `now` for the first page, or its newest item if later), so
    it never returns a thread twice; what moved is reported by the events."""
    listing = _listing(query)
    bounds, ascending = query_plan(request)
    sort = {"$sort": {name: 1 if ascending else -1 for name in listing.key}}
    activity = isinstance(query, ThreadQuery) and query.order is ThreadOrder.UPDATED
    cursor = request.after or request.before
    as_of = cursor[2] if activity and cursor else None
    if isinstance(as_of, datetime):  # as a bound, so that it also bounds the index scan
        bounds.append(Bound((as_of, "\uffff"), ascending=False, inclusive=True))
    pipeline = [*listing.pipeline(bounds), sort, {"$limit": request.wanted}]
    docs = await aggregate(db, listing.collection, pipeline)
    page = listing_page(listing, request, docs)
    if not activity:
        return page
    started = as_of or max([now, *(doc["updatedAt"] for doc in docs)])
    return replace(page, keys=[(*key, started) for key in page.keys])


def _across_threads(
    listings: list[Listing], field: str, values: list[list[Any]]
) -> list[tuple[list[int], Listing]]:
    """Message listings that differ only in their thread, merged: for each group, its members'
    positions and one listing of the documents whose `field` is among all their `values`
    (one command per group, usually one in all)."""
    merged = []
    for members in thread_groups(listings):
        first = listings[members[0]]
        common = {k: v for k, v in first.scan.items() if k != "threadId"}
        wanted = sorted({value for n in members for value in values[n]})
        scan = {**common, field: {"$in": wanted}}
        merged.append((members, Listing(MESSAGES, scan, first.rest, first.key)))
    return merged


def thread_groups(listings: Sequence[Listing]) -> list[list[int]]:
    """The positions of message listings that differ only in their thread, in groups."""
    groups: dict[str, list[int]] = {}
    for n, listing in enumerate(listings):
        common = {k: v for k, v in listing.scan.items() if k != "threadId"}
        groups.setdefault(_digest([common, listing.rest]), []).append(n)
    return list(groups.values())


def _digest(value: Any) -> str:
    canonical = json.dumps(value, sort_keys=True, separators=(",", ":"), default=str)
    return hashlib.sha256(canonical.encode()).hexdigest()


async def count_listings(db: Database, queries: Sequence[ThreadQuery | MessageQuery]) -> list[int]:
    """The counts of many lists: message lists that differ only in their thread are counted
    together, in one command grouped by thread."""
    counts: dict[int, int] = {}
    of_messages: list[int] = []
    for n, query in enumerate(queries):
        if isinstance(query, MessageQuery):
            of_messages.append(n)
        else:
            listing = thread_listing(query)
            counts[n] = await _count(db, listing)
    chosen = [message_listing(queries[n]) for n in of_messages]  # type: ignore[arg-type]
    threads = [[listing.scan["threadId"]] for listing in chosen]
    for members, merged in _across_threads(chosen, "threadId", threads):
        grouped = {"$group": {"_id": "$threadId", "count": {"$sum": 1}}}
        rows = await aggregate(db, MESSAGES, [*merged.pipeline(), grouped])
        by_thread = {row["_id"]: row["count"] for row in rows}
        for member in members:
            counts[of_messages[member]] = by_thread.get(threads[member][0], 0)
    return [counts[n] for n in range(len(queries))]


async def _count(db: Database, listing: Listing) -> int:
    grouped = {"$group": {"_id": None, "count": {"$sum": 1}}}
    rows = await aggregate(db, listing.collection, [*listing.pipeline(), grouped])
    return int(rows[0]["count"]) if rows else 0
