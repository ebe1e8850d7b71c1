"""Pages of messages of many threads, and their newest messages, reading just the numbers they
need: one command for every page of a request in the common case.

Messages are numbered densely in their thread, so a page is the size+1 numbers from where it
starts (`pagination.scan_range`). The embedded server's planner scans an index for `$in` on one
field only (`$in` on thread and number together, or an `$or` of ranges, scanned the whole
collection), so every message carries its thread and number as one value (`threadSeq`), and
one `$in` on (organization, threadSeq) reads the exact numbers of every thread at once: a number
with no message costs an index probe, not a document. A single range, on (organization, thread,
seq), is bounded at both ends. A page short of matches (the trash, a filter, numbers a crashed
write took) reads on beyond its range (`pagination.next_range`) in one more command for all such
pages, at most SEQ_STEPS ranges in all; order, cursors and page size are applied here.
"""

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from app.domain import Message, MessageQuery
from app.pagination import (
    SEQ_STEPS,
    SEQ_WIDEN,
    Page,
    PageRequest,
    SeqRange,
    next_range,
    outside_bound,
    scan_range,
    select,
)
from app.store.codec import message_from_doc, seq_key
from app.store.connection import Database, aggregate
from app.store.listings import Listing, listing_page, message_listing, thread_groups
from app.store.names import MESSAGES

# Longer ranges of several threads are read by thread: their numbers would make a large command.
MOST_KEYS = 1_000

Doc = dict[str, Any]


@dataclass(frozen=True)
class MessagePageQuery:
    """A page of one thread's messages; `last_seq` is the thread's last message number as
    read (it may have grown since)."""

    query: MessageQuery
    request: PageRequest
    last_seq: int


async def fetch_message_pages(
    db: Database, queries: Sequence[MessagePageQuery]
) -> list[Page[Message]]:
    """Pages of messages of many threads: each reads the size+1 numbers from where it starts,
    then, while short of matches, the ranges beyond (one command per round for all)."""
    listings = [message_listing(q.query) for q in queries]
    ranges = [scan_range(q.request, last=q.last_seq) for q in queries]
    covered = list(ranges)
    docs: list[list[Doc]] = [[] for _ in queries]
    pages: dict[int, Page[Message]] = {}
    pending = list(range(len(queries)))
    steps = 0
    while pending:
        steps += 1
        found = await read_ranges(db, [listings[n] for n in pending], [ranges[n] for n in pending])
        short = []
        for n, more in zip(pending, found, strict=True):
            docs[n] += more
            request = queries[n].request
            chosen = select(request, [doc["seq"] for doc in docs[n]])
            if covered[n].whole or len(chosen) >= request.wanted:
                pages[n] = listing_page(listings[n], request, [docs[n][i] for i in chosen])
                continue
            last = queries[n].last_seq
            ranges[n] = next_range(request, covered[n], found=len(chosen), steps=steps, last=last)
            low, high = min(covered[n].low, ranges[n].low), max(covered[n].high, ranges[n].high)
            covered[n] = SeqRange(low, high, ranges[n].whole)
            short.append(n)
        pending = short
    return [pages[n] for n in range(len(queries))]


async def last_messages(
    db: Database, *, organization_id: str, threads: Sequence[tuple[str, int]]
) -> list[Message | None]:
    """The newest live message of each (thread, last message number as read): the message of
    that number, all in one command; for a thread whose last message is in the trash (or not
    written yet), a page of one (one more command for all such threads)."""
    wanted = [(thread_id, last) for thread_id, last in threads if last]
    listings = [message_listing(MessageQuery(organization_id, t)) for t, _ in wanted]
    exact = [SeqRange(last, last, whole=False) for _, last in wanted]
    found = {
        key: message_from_doc(docs[0])
        for key, docs in zip(wanted, await read_ranges(db, listings, exact), strict=True)
        if docs
    }
    newest = PageRequest(size=1, forward=True, descending=True)
    missing = [
        MessagePageQuery(MessageQuery(organization_id, thread_id), newest, last)
        for thread_id, last in wanted
        if (thread_id, last) not in found
    ]
    pages = iter(await fetch_message_pages(db, missing) if missing else [])
    result: list[Message | None] = []
    for thread_id, last in threads:
        if not last:
            result.append(None)
        elif (thread_id, last) in found:
            result.append(found[thread_id, last])
        else:
            items = next(pages).items
            result.append(items[0] if items else None)
    return result


async def message_exists_outside(
    db: Database, query: MessageQuery, request: PageRequest, *, previous: bool
) -> bool:
    """Whether the thread has matching messages on the far side of the cursor the page was
    taken from (its own message included): ranges from the cursor, each SEQ_WIDEN times wider,
    the last open (an open range reaches the thread's end, which the embedded server scans)."""
    listing = message_listing(query)
    bound = outside_bound(request, previous=previous)
    cursor = bound.key[0]
    assert isinstance(cursor, int)
    near, width = cursor, 2
    for step in range(1, SEQ_STEPS + 1):
        far = near + width if bound.ascending else near - width
        seq: dict[str, int] = {"$gte": near} if bound.ascending else {"$lt": near + 1}
        if step < SEQ_STEPS:
            seq |= {"$lt": far} if bound.ascending else {"$gt": far}
        scan = {**listing.scan, "seq": seq}
        pipeline = [*Listing(MESSAGES, scan, listing.rest, listing.key).pipeline(), {"$limit": 1}]
        if await aggregate(db, MESSAGES, [*pipeline, {"$project": {"_id": 1}}]):
            return True
        if not bound.ascending and far < 1:
            return False
        near, width = far, width * SEQ_WIDEN
    return False


async def read_ranges(
    db: Database, listings: Sequence[Listing], ranges: Sequence[SeqRange]
) -> list[list[Doc]]:
    """The messages matching each message listing whose numbers are in its range: a range on
    (organization, thread, seq) for a listing alone in its group, else the exact numbers of all
    the group's ranges in one `$in` on (organization, threadSeq); ranges of more than MOST_KEYS
    numbers by thread, whole."""
    results: list[list[Doc]] = [[] for _ in listings]
    for members in thread_groups(listings):
        live = [n for n in members if ranges[n].low <= ranges[n].high]
        if not live:
            continue
        first = listings[live[0]]
        common = {k: v for k, v in first.scan.items() if k != "threadId"}
        scans: list[dict[str, Any]] = []
        if len(live) == 1:
            seq = {"$gte": ranges[live[0]].low, "$lt": ranges[live[0]].high + 1}
            scans.append({**first.scan, "seq": seq})
        else:
            keyed = [n for n in live if ranges[n].high - ranges[n].low < MOST_KEYS]
            whole = sorted({_thread(listings[n]) for n in live if n not in keyed})
            keys = [
                seq_key(_thread(listings[n]), seq)
                for n in keyed
                for seq in range(ranges[n].low, ranges[n].high + 1)
            ]
            if keys:
                scans.append({**common, "threadSeq": {"$in": list(dict.fromkeys(keys))}})
            if whole:
                scans.append({**common, "threadId": {"$in": whole}})
        by_thread: dict[str, dict[int, Doc]] = {}
        for scan in scans:
            pipeline = Listing(MESSAGES, scan, first.rest, first.key).pipeline()
            for doc in await aggregate(db, MESSAGES, pipeline):
                by_thread.setdefault(doc["threadId"], {})[doc["seq"]] = doc
        for n in live:
            low, high = ranges[n].low, ranges[n].high
            of_thread = by_thread.get(_thread(listings[n]), {})
            results[n] = [doc for seq, doc in of_thread.items() if low <= seq <= high]
    return results


def _thread(listing: Listing) -> str:
    return str(listing.scan["threadId"])
