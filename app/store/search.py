"""Full-text search of messages (the rules are app/search_terms.py): bounded index range scans.

A message stores its text's `terms`, with its words' prefix terms (store/codec.py, on every
write path); the multikey index (organization, terms, createdAt, _id) serves a page as range
scans, each an equality on one stored term (a word's, or the prefix term of the query's last
word) and a range on createdAt bounded at both ends: a window of time (app/windows.py), cut
at the cursor. The embedded server examines every key of a scanned range whatever the
`$limit`, so a scan open at its low end would read every older holder of the term; a window
reads only the holders in it. The other terms, the rest of a prefix longer than PREFIX_MAX or
of one character (with `$elemMatch`, as a range on an array may match two different
elements), the trash and the filters are checked in a second `$match`. No `$regex`, no
collection scan.

The term scanned is the rarest near where the page starts: each term is counted, up to
PROBE_LIMIT, within the page's first window only (one command per term, at most
MAX_SEARCH_TERMS, sent together). A count over all time would examine every holder of a common
term (what made a page's time grow with the tenant); in the first window a probe examines no
more keys than the page's own first scan, and that window is where the page's hits are read
first. A term absent from it says nothing about older messages, so no term rules the search
out; on a tie (none of them there, say) a word beats a prefix term and a longer word a
shorter one, as likelier to be rare.
"""

import asyncio
from datetime import datetime, timedelta
from typing import Any

from app.domain import Message
from app.pagination import Key
from app.search_terms import TERMS_VERSION, MessageSearch, prefix_end
from app.store.codec import message_from_doc, metadata_term, seq_key, text_terms, title_terms
from app.store.connection import Database, aggregate
from app.store.listings import VISIBLE
from app.store.names import MESSAGES, MIGRATIONS, THREADS
from app.windows import Window

PROBE_LIMIT = 200  # a term is counted up to this many messages to find the rarest
TIES = 8  # title hits read beyond a page, for threads created in the cursor's millisecond
FIRST_NUMBERS = 8  # a title hit's message is the first live one among its thread's first numbers
Scanned = str  # the stored term a page's index scan is an equality on


async def _probe(
    db: Database, organization_id: str, scanned: Scanned, created: dict[str, datetime]
) -> int:
    scan: dict[str, Any] = {"organizationId": organization_id, "terms": scanned}
    if created:
        scan["createdAt"] = created
    pipeline: list[dict[str, Any]] = [
        {"$match": scan},
        {"$limit": PROBE_LIMIT},
        {"$project": {"_id": 1}},
    ]
    return len({doc["_id"] for doc in await aggregate(db, MESSAGES, pipeline)})


async def rarest_term(db: Database, search: MessageSearch, window: Window) -> Scanned:
    """The stored term to scan: the one fewest messages in `window` hold (on a tie, a word
    rather than a prefix term, the longer, the first). No command for a one-term query."""
    candidates = search.terms.scannable
    if len(candidates) == 1:
        return candidates[0]
    created = _created(search, None, window)
    counts = await asyncio.gather(
        *(_probe(db, search.organization_id, scanned, created) for scanned in candidates)
    )

    def rarity(n: int) -> tuple[int, bool, int, int]:
        term = candidates[n]
        return counts[n], term == search.terms.prefix_scan, -len(term), n

    return candidates[min(range(len(candidates)), key=rarity)]


def _created(search: MessageSearch, after: Key | None, window: Window) -> dict[str, datetime]:
    """The range of createdAt a scan reads: the window, within the filter's range and up to
    the cursor's (`$lt` the next millisecond rather than `$lte`: the embedded server drops the
    equal keys of `$lte` on a field followed by others in a compound index)."""
    lows = [at for at in (search.created_after, window.low) if at is not None]
    highs = [at for at in (search.created_before, window.high) if at is not None]
    if after is not None:
        at = after[0]
        assert isinstance(at, datetime)
        highs.append(at + timedelta(milliseconds=1))
    created: dict[str, datetime] = {}
    if lows:
        created["$gte"] = max(lows)
    if highs:
        created["$lt"] = min(highs)
    return created


def _terms_stages(
    search: MessageSearch, field: str, scanned: Scanned, created: dict[str, datetime]
) -> tuple[dict[str, Any], list[dict[str, Any]]]:
    """The index scan of `field` (terms or title terms) and the conditions checked after."""
    scan: dict[str, Any] = {"organizationId": search.organization_id, field: scanned}
    if created:
        scan["createdAt"] = created
    rest: list[dict[str, Any]] = []
    others = [term for term in search.terms.scannable if term != scanned]
    if others:
        rest.append({field: {"$all": others}})
    if search.terms.prefix_checked:  # a word starting with all of the prefix
        prefix = search.terms.prefix
        rest.append({field: {"$elemMatch": {"$gte": prefix, "$lt": prefix_end(prefix)}}})
    return scan, rest


def search_pipeline(
    search: MessageSearch, scanned: Scanned, *, limit: int, after: Key | None, window: Window
) -> list[dict[str, Any]]:
    """Newest first: the first `$match` is an index range, the second checks the rest."""
    scan, rest = _terms_stages(search, "terms", scanned, _created(search, after, window))
    rest.append({"deletedAt": None})  # not in the trash
    if after is not None:
        at, message_id = after
        rest.append(
            {"$or": [{"createdAt": {"$lt": at}}, {"createdAt": at, "_id": {"$lt": message_id}}]}
        )
    if search.thread_id is not None:
        rest.append({"threadId": search.thread_id})
    if search.role is not None:
        rest.append({"role": search.role.value})
    if search.metadata:
        rest.append({"metaTerms": {"$all": [metadata_term(k, v) for k, v in search.metadata]}})
    return [
        {"$match": scan},
        {"$match": {"$and": rest}},
        {"$sort": {"createdAt": -1, "_id": -1}},
        {"$limit": limit},
    ]


async def search_titles(
    db: Database,
    search: MessageSearch,
    *,
    limit: int,
    after: Key | None,
    scanned: Scanned,
    window: Window,
) -> list[tuple[Message, Key]]:
    """The first messages of up to `limit` visible threads created in `window` whose title
    matches, newest thread first, each keyed by (the thread's createdAt, the message's id),
    after the cursor `after`: the threads by the (organization, title terms, createdAt, id)
    index, then, if any, their first messages: the first FIRST_NUMBERS numbers of each, by the
    (organization, threadSeq) index. A thread whose first messages are all in the trash is left
    out."""
    scan, rest = _terms_stages(search, "titleTerms", scanned, _created(search, after, window))
    rest.append(VISIBLE)
    if search.thread_id is not None:
        rest.append({"_id": search.thread_id})
    pipeline: list[dict[str, Any]] = [
        {"$match": scan},
        {"$match": {"$and": rest}},
        {"$sort": {"createdAt": -1, "_id": -1}},
        {"$limit": limit + TIES},
        {"$project": {"createdAt": 1}},
    ]
    threads = await aggregate(db, THREADS, pipeline)
    if not threads:
        return []
    first_keys = [seq_key(doc["_id"], n) for doc in threads for n in range(1, FIRST_NUMBERS + 1)]
    scan = {"organizationId": search.organization_id, "threadSeq": {"$in": first_keys}}
    firsts: dict[str, dict[str, Any]] = {}
    for doc in await aggregate(db, MESSAGES, [{"$match": scan}, {"$match": {"deletedAt": None}}]):
        if doc["seq"] < firsts.get(doc["threadId"], {"seq": 2**62})["seq"]:
            firsts[doc["threadId"]] = doc
    found: list[tuple[Message, Key]] = [
        (message_from_doc(firsts[t["_id"]]), (t["createdAt"], firsts[t["_id"]]["_id"]))
        for t in threads
        if t["_id"] in firsts
    ]
    found = [hit for hit in found if after is None or _before(hit[1], after)]
    return sorted(found, key=lambda hit: _sortable(hit[1]), reverse=True)[:limit]


def _sortable(key: Key) -> tuple[datetime, str]:
    at, message_id = key
    assert isinstance(at, datetime) and isinstance(message_id, str)
    return at, message_id


def _before(key: Key, cursor: Key) -> bool:
    return _sortable(key) < _sortable(cursor)


async def search_messages(
    db: Database,
    search: MessageSearch,
    *,
    limit: int,
    after: Key | None,
    scanned: Scanned,
    window: Window,
) -> list[tuple[Message, Key]]:
    """Up to `limit` matching messages created in `window` after the cursor `after`, newest
    first, with their keys (createdAt, id): one command."""
    pipeline = search_pipeline(search, scanned, limit=limit, after=after, window=window)
    found: dict[str, tuple[Message, Key]] = {}
    for doc in await aggregate(db, MESSAGES, pipeline):  # a multikey scan may repeat one
        found.setdefault(doc["_id"], (message_from_doc(doc), (doc["createdAt"], doc["_id"])))
    return list(found.values())


async def backfill_terms(
    db: Database, *, threads: bool, after: str | None, batch: int
) -> tuple[int, str | None]:
    """Write the search terms of up to `batch` messages (or the title terms of threads) that
    have none or older ones (a `termsVersion` below TERMS_VERSION), in `_id` order after
    `after`: how many were written, and the last `_id` looked at (None when done). A message
    in progress gets them at completion. Idempotent."""
    collection, field = (THREADS, "titleTerms") if threads else (MESSAGES, "terms")
    scan: dict[str, Any] = {} if after is None else {"_id": {"$gt": after}}
    pipeline: list[dict[str, Any]] = [{"$match": scan}, {"$sort": {"_id": 1}}, {"$limit": batch}]
    docs = await aggregate(db, collection, pipeline)
    written = 0
    for doc in docs:
        current = field in doc and doc.get("termsVersion", 1) >= TERMS_VERSION
        if current or "chunks" in doc:
            continue
        text = doc.get("title") if threads else message_from_doc(doc).text
        terms = title_terms(text) if threads else text_terms(text or "")
        unchanged = {"termsVersion": doc.get("termsVersion"), field: doc.get(field)}
        await db[collection].update_one({"_id": doc["_id"], **unchanged}, {"$set": terms})
        written += 1
    return written, (docs[-1]["_id"] if len(docs) == batch else None)


def _progress_id(threads: bool) -> str:
    return "searchTerms:threads" if threads else "searchTerms:messages"


async def backfill_progress(db: Database, *, threads: bool) -> str | None:
    """Where an interrupted backfill stopped: the last `_id` it finished (None: from the start)."""
    doc = await db[MIGRATIONS].find_one({"_id": _progress_id(threads)})
    return None if doc is None else doc["after"]


async def mark_backfill_progress(db: Database, *, threads: bool, after: str | None) -> None:
    """Remember the last `_id` done; None when the pass is over (a next run starts afresh)."""
    if after is None:
        await db[MIGRATIONS].delete_one({"_id": _progress_id(threads)})
    else:
        await db[MIGRATIONS].update_one(
            {"_id": _progress_id(threads)}, {"$set": {"after": after}}, upsert=True
        )
