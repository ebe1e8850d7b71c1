"""Every MongoDB query, and the collection names. The only module that imports Motor.

Functions are keyword-only and take the caller's organization, which goes into every filter.
They return plain documents and raise errors.NotFound / errors.Conflict; they know nothing of
GraphQL. Standalone MongoDB has no multi-document transactions, so each write is one atomic
single-document (or single-filter) operation, ordered so that a crash between two of them
leaves nothing visible that is half-done; `finish_interrupted_writes` completes the rest.
"""

import asyncio
import hashlib
import json
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any, NotRequired, TypedDict, cast

from motor.motor_asyncio import AsyncIOMotorClient, AsyncIOMotorDatabase
from pymongo import ASCENDING, IndexModel, ReturnDocument
from pymongo.errors import ConnectionFailure, DuplicateKeyError, OperationFailure, PyMongoError
from pymongo.monitoring import (
    CommandFailedEvent,
    CommandListener,
    CommandStartedEvent,
    CommandSucceededEvent,
)

from app.errors import Conflict, InvalidInput, NotFound
from app.pagination import (
    NO_BOUNDS,
    Bounds,
    Key,
    Ordering,
    Page,
    PageRequest,
    outside_bounds,
    page_of,
    query_plan,
    scan_range,
    select,
)
from app.validation import MESSAGE_PREFIX, THREAD_PREFIX

Database = AsyncIOMotorDatabase[dict[str, Any]]

THREADS = "threads"
MESSAGES = "messages"
API_KEYS = "api_keys"
IDEMPOTENCY_KEYS = "idempotency_keys"
EVENTS = "events"
EVENT_TTL = timedelta(hours=24)
IDEMPOTENCY_TTL = timedelta(hours=24)
# How long a retried create waits for the first call's result to become visible.
REPLAY_WAIT = timedelta(seconds=5)
# Messages are read for pages in blocks of this many sequence numbers (`bucket`).
BUCKET = 32
BATCH_SIZE = 20_000

ACTIVE, LOCKED, ARCHIVED = "active", "locked", "archived"
IN_PROGRESS = "in_progress"
# A thread being created with its messages, or being deleted, is hidden until done.
CREATING, DELETING = "creating", "deleting"
VISIBLE: dict[str, Any] = {"hidden": None}

THREAD_ORDER = Ordering(kind="thread", fields=("createdAt", "_id"), types=(datetime, str))
MESSAGE_ORDER = Ordering(kind="message", fields=("seq",), types=(int,))


class ThreadDoc(TypedDict):
    _id: str
    organizationId: str
    userId: str
    createdAt: datetime
    updatedAt: datetime
    title: str | None
    metadata: dict[str, str]
    toolResources: dict[str, Any] | None
    assistantId: str | None
    visibleInUi: bool
    state: str
    seq: int  # the last message's sequence number
    eventSeq: NotRequired[int]  # the last event's number
    hidden: NotRequired[str]


class MessageDoc(TypedDict):
    _id: str
    organizationId: str
    userId: str
    threadId: str
    seq: int
    createdAt: datetime
    role: str
    content: list[dict[str, Any]]
    status: str
    assistantId: str | None
    runId: str | None
    metadata: dict[str, str]
    incompleteReason: NotRequired[str | None]


class ApiKeyDoc(TypedDict):
    _id: str
    organizationId: str
    userId: str
    name: str
    secretHash: str
    createdAt: datetime
    revokedAt: datetime | None


class NewMessage(TypedDict):
    role: str
    # A streamed message (status in_progress) has one text part, appended to until completed.
    status: NotRequired[str]
    content: list[dict[str, Any]]
    metadata: dict[str, str]
    assistantId: str | None
    runId: str | None


def open_database(
    uri: str, name: str, *, timeout_ms: int, listeners: Sequence[CommandListener] = ()
) -> Database:
    """A client whose every operation gives up after `timeout_ms` (MongoDB's timeoutMS)."""
    client: AsyncIOMotorClient[dict[str, Any]] = AsyncIOMotorClient(
        uri,
        timeoutMS=timeout_ms,
        serverSelectionTimeoutMS=timeout_ms,
        uuidRepresentation="standard",
        event_listeners=list(listeners),
    )
    return client[name]


def close_database(db: Database) -> None:
    db.client.close()


async def ping(db: Database) -> bool:
    try:
        await db.command("ping")
    except PyMongoError:
        return False
    return True


def is_unavailable(error: BaseException) -> bool:
    """Whether a driver error means the database cannot be reached (or did not answer in time)."""
    return isinstance(error, ConnectionFailure) or (
        isinstance(error, PyMongoError) and error.timeout
    )


class CommandCounter(CommandListener):
    """Calls `on_command` as each database command starts (in the caller's context)."""

    def __init__(self, on_command: Callable[[], None]) -> None:
        self.on_command = on_command

    def started(self, event: CommandStartedEvent) -> None:
        self.on_command()

    def succeeded(self, event: CommandSucceededEvent) -> None:
        pass

    def failed(self, event: CommandFailedEvent) -> None:
        pass


async def ensure_indexes(db: Database) -> None:
    # Lookups by id always name the organization, and for threads their visibility and state:
    # the embedded server's planner takes an index only when every filtered field is in it.
    await db[THREADS].create_indexes(
        [
            IndexModel(
                [
                    ("organizationId", ASCENDING),
                    ("_id", ASCENDING),
                    ("hidden", ASCENDING),
                    ("state", ASCENDING),
                ]
            ),
            IndexModel(
                [("organizationId", ASCENDING), ("createdAt", ASCENDING), ("_id", ASCENDING)]
            ),
            IndexModel(
                [
                    ("organizationId", ASCENDING),
                    ("userId", ASCENDING),
                    ("createdAt", ASCENDING),
                    ("_id", ASCENDING),
                ]
            ),
            IndexModel([("hidden", ASCENDING)], sparse=True),
        ]
    )
    await db[IDEMPOTENCY_KEYS].create_indexes(
        [
            IndexModel(
                [("createdAt", ASCENDING)], expireAfterSeconds=int(IDEMPOTENCY_TTL.total_seconds())
            )
        ]
    )
    await db[EVENTS].create_indexes(
        [
            IndexModel(
                [("organizationId", ASCENDING), ("threadId", ASCENDING), ("seq", ASCENDING)],
                unique=True,
            ),
            IndexModel(
                [("createdAt", ASCENDING)], expireAfterSeconds=int(EVENT_TTL.total_seconds())
            ),
        ]
    )
    await db[API_KEYS].create_indexes(
        [IndexModel([("organizationId", ASCENDING), ("createdAt", ASCENDING)])]
    )
    await db[MESSAGES].create_indexes(
        [
            IndexModel([("organizationId", ASCENDING), ("_id", ASCENDING)]),
            IndexModel([("organizationId", ASCENDING), ("bucket", ASCENDING)]),
            IndexModel(
                [("organizationId", ASCENDING), ("threadId", ASCENDING), ("seq", ASCENDING)],
                unique=True,
            ),
        ]
    )


async def create_api_key(
    db: Database, *, key_id: str, secret_hash: str, organization_id: str, user_id: str, name: str
) -> ApiKeyDoc:
    doc = ApiKeyDoc(
        _id=key_id,
        organizationId=organization_id,
        userId=user_id,
        name=name,
        secretHash=secret_hash,
        createdAt=now(),
        revokedAt=None,
    )
    await db[API_KEYS].insert_one(dict(doc))
    return doc


async def get_api_key(db: Database, *, key_id: str) -> ApiKeyDoc | None:
    """The key, unless it is unknown or revoked."""
    doc = await db[API_KEYS].find_one({"_id": key_id})
    return None if doc is None or doc["revokedAt"] is not None else cast(ApiKeyDoc, doc)


async def list_api_keys(db: Database, *, organization_id: str) -> list[ApiKeyDoc]:
    cursor = db[API_KEYS].find({"organizationId": organization_id}).sort("createdAt", ASCENDING)
    return cast(list[ApiKeyDoc], await cursor.to_list(None))


async def revoke_api_key(db: Database, *, key_id: str) -> bool:
    """Revoke the key; False if there is no such key. Revoking twice is harmless."""
    doc = await db[API_KEYS].find_one({"_id": key_id})
    if doc is None:
        return False
    if doc["revokedAt"] is None:
        await db[API_KEYS].update_one({"_id": key_id}, {"$set": {"revokedAt": now()}})
    return True


async def finish_interrupted_writes(db: Database, *, creating_older_than: timedelta) -> int:
    """Remove threads whose deletion was interrupted, or whose creation was long ago abandoned."""
    cutoff = now() - creating_older_than
    finished = 0
    async for doc in db[THREADS].find({"hidden": {"$in": [CREATING, DELETING]}}):
        if doc["hidden"] == CREATING and doc["createdAt"] > cutoff:
            continue
        await _remove_thread(db, organization_id=doc["organizationId"], thread_id=doc["_id"])
        finished += 1
    return finished


def now() -> datetime:
    """The current UTC time at the millisecond precision MongoDB stores, without tzinfo."""
    moment = datetime.now(UTC).replace(tzinfo=None)
    return moment.replace(microsecond=moment.microsecond // 1000 * 1000)


def new_id(prefix: str) -> str:
    return f"{prefix}{uuid.uuid4()}"


# Metadata is stored as a list of {k, v} pairs, so that any key (with dots, a leading `$`)
# is a plain value: never a path or an operator, and matchable with an index.
def _pairs(metadata: Mapping[str, str]) -> list[dict[str, str]]:
    return [{"k": key, "v": value} for key, value in metadata.items()]


def _metadata_filter(metadata: Mapping[str, str] | None) -> dict[str, Any]:
    return {"metadata": {"$all": _pairs(metadata)}} if metadata else {}


def _thread(doc: Mapping[str, Any]) -> ThreadDoc:
    return cast(ThreadDoc, {**doc, "metadata": {p["k"]: p["v"] for p in doc["metadata"]}})


def _message(doc: Mapping[str, Any]) -> MessageDoc:
    decoded = {**doc, "metadata": {p["k"]: p["v"] for p in doc["metadata"]}}
    if "chunks" in doc:  # streamed: its text is the chunks appended so far
        text = {"value": "".join(doc["chunks"]), "annotations": []}
        decoded["content"] = [{"type": "text", "text": text}]
    return cast(MessageDoc, decoded)


@dataclass(frozen=True)
class Listing:
    """A filtered, ordered set of documents that pages, counts and probes are taken from.

    `scan` holds equality conditions on the leading fields of an index that ends with the
    ordering's key; `rest` holds every other condition. Queries run as a `$match` of `scan` plus
    the key range, then a `$match` of `rest`: MongoDB merges the two, and the embedded server,
    whose planner takes an index only for a filter made of index-prefix fields, scans the index.
    """

    collection: str
    scan: dict[str, Any]
    rest: dict[str, Any]
    ordering: Ordering

    @property
    def key(self) -> str:
        """Equal for listings of the same documents."""
        return _digest([self.collection, self.scan, self.rest])

    def pipeline(self, bounds: Bounds = NO_BOUNDS) -> list[dict[str, Any]]:
        stages: list[dict[str, Any]] = [{"$match": {**self.scan, **bounds.range}}]
        rest = ([self.rest] if self.rest else []) + bounds.exact
        if rest:
            stages.append({"$match": rest[0] if len(rest) == 1 else {"$and": rest}})
        return stages


def thread_listing(
    *,
    organization_id: str,
    metadata: Mapping[str, str] | None = None,
    state: str | None = None,
    visible_in_ui: bool | None = None,
    assistant_id: str | None = None,
    user_id: str | None = None,
) -> Listing:
    scan: dict[str, Any] = {"organizationId": organization_id}
    if user_id is not None:
        scan["userId"] = user_id
    rest: dict[str, Any] = {**VISIBLE, "state": state or {"$in": [ACTIVE, LOCKED]}}
    if visible_in_ui is not None:
        rest["visibleInUi"] = visible_in_ui
    if assistant_id is not None:
        rest["assistantId"] = assistant_id
    return Listing(THREADS, scan, {**rest, **_metadata_filter(metadata)}, THREAD_ORDER)


def message_listing(
    *,
    organization_id: str,
    thread_id: str,
    metadata: Mapping[str, str] | None = None,
    role: str | None = None,
    status: str | None = None,
) -> Listing:
    rest: dict[str, Any] = {} if role is None else {"role": role}
    if status is not None:
        rest["status"] = status
    return Listing(
        MESSAGES,
        {"organizationId": organization_id, "threadId": thread_id},
        {**rest, **_metadata_filter(metadata)},
        MESSAGE_ORDER,
    )


async def _aggregate(db: Database, collection: str, pipeline: list[dict[str, Any]]) -> list[Any]:
    # One batch for every result the API asks for (the default first batch is 101 documents,
    # and each further batch is another round trip).
    return await db[collection].aggregate(pipeline, batchSize=BATCH_SIZE).to_list(None)


def _page_pipeline(listing: Listing, request: PageRequest) -> list[dict[str, Any]]:
    bounds, sort = query_plan(listing.ordering, request)
    return [*listing.pipeline(bounds), {"$sort": dict(sort)}, {"$limit": request.size + 1}]


def _page(listing: Listing, request: PageRequest, docs: list[dict[str, Any]]) -> Page[Any]:
    decode = _thread if listing.collection == THREADS else _message
    keys: list[Key] = [tuple(doc[name] for name in listing.ordering.fields) for doc in docs]
    return page_of(request, [decode(doc) for doc in docs], keys)


async def fetch_page(db: Database, listing: Listing, request: PageRequest) -> Page[Any]:
    docs = await _aggregate(db, listing.collection, _page_pipeline(listing, request))
    return _page(listing, request, docs)


@dataclass(frozen=True)
class MessagePageQuery:
    """A page of one thread's messages; `last_seq` is the thread's last sequence number as
    read (it may have grown since)."""

    listing: Listing
    request: PageRequest
    last_seq: int


async def fetch_message_pages(db: Database, queries: list[MessagePageQuery]) -> list[Page[Any]]:
    """Pages of messages of many threads in one command (two if a range falls short).

    Each page needs about three pages' worth of sequence numbers (`scan_range`); messages
    carry the key of their block of BUCKET numbers, so one `$in` on (organization, bucket)
    reads just those blocks for every thread at once, on any server. The rest (order, cursors,
    page size) is applied here. A page whose range held too few matches is read again whole.
    """
    ranges = [scan_range(q.request, last=q.last_seq, slack=BUCKET) for q in queries]
    blocks = [
        [_bucket(q.listing.scan["threadId"], seq) for seq in range(r.low, r.high + 1, BUCKET)]
        + [_bucket(q.listing.scan["threadId"], r.high)]
        for q, r in zip(queries, ranges, strict=True)
    ]
    found = await _messages_of(db, queries, "bucket", blocks)
    pages: dict[int, Page[Any]] = {}
    short: dict[int, list[str]] = {}
    for n, query in enumerate(queries):
        seq_range = ranges[n]
        docs = [d for d in found[n] if seq_range.low <= d["seq"] <= seq_range.high]
        chosen = select(query.request, [d["seq"] for d in docs])
        if seq_range.whole or len(chosen) > query.request.size:
            pages[n] = _page(query.listing, query.request, [docs[i] for i in chosen])
        else:
            short[n] = [query.listing.scan["threadId"]]
    if short:
        again = await _messages_of(
            db, [queries[n] for n in short], "threadId", list(short.values())
        )
        for n, docs in zip(short, again, strict=True):
            chosen = select(queries[n].request, [d["seq"] for d in docs])
            pages[n] = _page(queries[n].listing, queries[n].request, [docs[i] for i in chosen])
    return [pages[n] for n in range(len(queries))]


async def _messages_of(
    db: Database, queries: list[MessagePageQuery], field: str, values: list[list[Any]]
) -> list[list[dict[str, Any]]]:
    """The messages matching each query's filters whose `field` is among its `values`."""
    results: list[list[dict[str, Any]]] = [[] for _ in queries]
    for members, merged in _across_threads([q.listing for q in queries], field, values):
        by_thread: dict[str, list[dict[str, Any]]] = {}
        for doc in await _aggregate(db, MESSAGES, merged.pipeline()):
            by_thread.setdefault(doc["threadId"], []).append(doc)
        for n in members:
            results[n] = by_thread.get(queries[n].listing.scan["threadId"], [])
    return results


def _across_threads(
    listings: list[Listing], field: str, values: list[list[Any]]
) -> list[tuple[list[int], Listing]]:
    """Message listings that differ only in their thread, merged: for each group, its members'
    positions and one listing of the documents whose `field` is among all their `values`
    (one command per group, usually one in all)."""
    groups: dict[str, list[int]] = {}
    for n, listing in enumerate(listings):
        common = {k: v for k, v in listing.scan.items() if k != "threadId"}
        groups.setdefault(_digest([common, listing.rest]), []).append(n)
    merged = []
    for members in groups.values():
        first = listings[members[0]]
        common = {k: v for k, v in first.scan.items() if k != "threadId"}
        wanted = sorted({value for n in members for value in values[n]})
        scan = {**common, field: {"$in": wanted}}
        merged.append((members, Listing(MESSAGES, scan, first.rest, first.ordering)))
    return merged


def _bucket(thread_id: str, seq: int) -> str:
    return f"{thread_id}:{seq // BUCKET}"


async def count(db: Database, listing: Listing) -> int:
    rows = await _aggregate(
        db,
        listing.collection,
        [*listing.pipeline(), {"$group": {"_id": None, "count": {"$sum": 1}}}],
    )
    return int(rows[0]["count"]) if rows else 0


async def exists_outside(
    db: Database, listing: Listing, request: PageRequest, *, previous: bool
) -> bool:
    bounds = outside_bounds(listing.ordering, request, previous=previous)
    rows = await _aggregate(
        db, listing.collection, [*listing.pipeline(bounds), {"$limit": 1}, {"$project": {"_id": 1}}]
    )
    return bool(rows)


async def get_threads(
    db: Database, *, organization_id: str, ids: list[str]
) -> dict[str, ThreadDoc]:
    docs = await _aggregate(
        db,
        THREADS,
        [
            {"$match": {"organizationId": organization_id, "_id": {"$in": ids}}},
            {"$match": VISIBLE},
        ],
    )
    return {doc["_id"]: _thread(doc) for doc in docs}


async def get_messages(
    db: Database, *, organization_id: str, ids: list[str]
) -> dict[str, MessageDoc]:
    query = {"_id": {"$in": ids}, "organizationId": organization_id}
    docs = await db[MESSAGES].find(query).limit(len(ids)).to_list(None)
    return {doc["_id"]: _message(doc) for doc in docs}


async def count_all(db: Database, listings: list[Listing]) -> list[int]:
    """The counts of many listings: message listings that differ only in their thread are
    counted together, in one command grouped by thread."""
    counts: dict[int, int] = {}
    of_messages = [n for n, listing in enumerate(listings) if listing.collection == MESSAGES]
    for n, listing in enumerate(listings):
        if listing.collection != MESSAGES:
            counts[n] = await count(db, listing)
    chosen = [listings[n] for n in of_messages]
    threads = [[listing.scan["threadId"]] for listing in chosen]
    for members, merged in _across_threads(chosen, "threadId", threads):
        grouped = {"$group": {"_id": "$threadId", "count": {"$sum": 1}}}
        rows = await _aggregate(db, MESSAGES, [*merged.pipeline(), grouped])
        by_thread = {row["_id"]: row["count"] for row in rows}
        for member in members:
            counts[of_messages[member]] = by_thread.get(threads[member][0], 0)
    return [counts[n] for n in range(len(listings))]


def _message_doc(
    message: NewMessage,
    *,
    organization_id: str,
    user_id: str,
    thread_id: str,
    seq: int,
    created_at: datetime,
) -> dict[str, Any]:
    return {
        "_id": new_id(MESSAGE_PREFIX),
        "organizationId": organization_id,
        "userId": user_id,
        "threadId": thread_id,
        "seq": seq,
        "bucket": _bucket(thread_id, seq),
        "createdAt": created_at,
        "role": message["role"],
        "content": message["content"],
        "status": message.get("status", "completed"),
        "assistantId": message["assistantId"],
        "runId": message["runId"],
        "metadata": _pairs(message["metadata"]),
        **_stream(message),
    }


def _stream(message: NewMessage) -> dict[str, Any]:
    """The fields of a message still being written: its text as chunks, and their length."""
    if message.get("status", "completed") != IN_PROGRESS:
        return {}
    text = "".join(p["text"]["value"] for p in message["content"] if p["type"] == "text")
    return {"content": [], "chunks": [text] if text else [], "length": len(text)}


async def append_message_text(
    db: Database, *, organization_id: str, message_id: str, delta: str, max_length: int
) -> MessageDoc:
    """Append to a message in progress; CONFLICT once it is finished."""
    doc = await db[MESSAGES].find_one_and_update(
        {
            "_id": message_id,
            "organizationId": organization_id,
            "status": IN_PROGRESS,
            "length": {"$lte": max_length - len(delta)},
        },
        {"$push": {"chunks": delta}, "$inc": {"length": len(delta)}},
        return_document=ReturnDocument.AFTER,
    )
    if doc is None:
        found = await _message_or_raise(db, organization_id=organization_id, message_id=message_id)
        if found["status"] != IN_PROGRESS:
            raise Conflict(f"Message {message_id} is {found['status']}: it takes no more text.")
        raise InvalidInput("input.delta", f"A message holds at most {max_length:,} characters.")
    return _message(doc)


async def complete_message(
    db: Database,
    *,
    organization_id: str,
    message_id: str,
    status: str,
    incomplete_reason: str | None,
) -> MessageDoc:
    doc = await db[MESSAGES].find_one_and_update(
        {"_id": message_id, "organizationId": organization_id, "status": IN_PROGRESS},
        {"$set": {"status": status, "incompleteReason": incomplete_reason}},
        return_document=ReturnDocument.AFTER,
    )
    if doc is None:
        found = await _message_or_raise(db, organization_id=organization_id, message_id=message_id)
        raise Conflict(f"Message {message_id} is {found['status']} already.")
    return _message(doc)


@dataclass(frozen=True)
class Claim:
    """An idempotency key taken for a create: the id it makes, and how far it got."""

    key_id: str
    result_id: str
    done: bool


async def _claim(
    db: Database,
    *,
    organization_id: str,
    user_id: str,
    operation: str,
    key: str,
    request: Any,
    result_id: str,
) -> Claim:
    """Take `key` (in the caller's own namespace) for this create, or find the claim of the
    first call with it. The same key with another input is a CONFLICT. Keys expire after
    IDEMPOTENCY_TTL."""
    key_id = _digest([organization_id, user_id, operation, key])
    fingerprint = _digest(request)
    while True:
        try:
            await db[IDEMPOTENCY_KEYS].insert_one(
                {
                    "_id": key_id,
                    "organizationId": organization_id,
                    "fingerprint": fingerprint,
                    "resultId": result_id,
                    "done": False,
                    "createdAt": now(),
                }
            )
            return Claim(key_id, result_id, done=False)
        except DuplicateKeyError:
            first = await db[IDEMPOTENCY_KEYS].find_one({"_id": key_id})
        if first is not None:  # else it expired just now: take it
            break
    if first["fingerprint"] != fingerprint:
        raise Conflict(f"idempotencyKey {key!r} was used for a different {operation} input.")
    return Claim(key_id, first["resultId"], done=first["done"])


async def _done(db: Database, claim: Claim | None) -> None:
    if claim is not None and not claim.done:
        await db[IDEMPOTENCY_KEYS].update_one({"_id": claim.key_id}, {"$set": {"done": True}})


def _digest(value: Any) -> str:
    canonical = json.dumps(value, sort_keys=True, separators=(",", ":"), default=str)
    return hashlib.sha256(canonical.encode()).hexdigest()


async def _visible(found: Callable[[], Awaitable[Any]], what: str) -> Any:
    """What a racing first call with the same key is still creating, once it shows."""
    deadline = asyncio.get_running_loop().time() + REPLAY_WAIT.total_seconds()
    while (result := await found()) is None:
        if asyncio.get_running_loop().time() > deadline:
            raise Conflict(f"The first {what} with this idempotencyKey has not finished; retry.")
        await asyncio.sleep(0.05)
    return result


async def create_thread(
    db: Database,
    *,
    organization_id: str,
    user_id: str,
    title: str | None,
    metadata: Mapping[str, str],
    tool_resources: dict[str, Any] | None,
    assistant_id: str | None,
    visible_in_ui: bool,
    messages: list[NewMessage],
    idempotency_key: str | None = None,
) -> ThreadDoc:
    thread_id = new_id(THREAD_PREFIX)
    claim = None
    if idempotency_key is not None:
        request = [title, metadata, tool_resources, assistant_id, visible_in_ui, messages]
        claim = await _claim(
            db,
            organization_id=organization_id,
            user_id=user_id,
            operation="createThread",
            key=idempotency_key,
            request=request,
            result_id=thread_id,
        )
        thread_id = claim.result_id
        if claim.done:
            return await _thread_or_raise(db, organization_id=organization_id, thread_id=thread_id)
    created_at = now()
    doc: dict[str, Any] = {
        "_id": thread_id,
        "organizationId": organization_id,
        "userId": user_id,
        "createdAt": created_at,
        "updatedAt": created_at,
        "title": title,
        "metadata": _pairs(metadata),
        "toolResources": tool_resources,
        "assistantId": assistant_id,
        "visibleInUi": visible_in_ui,
        "state": ACTIVE,
        "seq": len(messages),
    }
    try:
        await _insert_thread(db, doc, messages)
    except DuplicateKeyError:  # a retry racing the first call with the same key
        found = await _visible(
            lambda: _thread_if_visible(db, organization_id=organization_id, thread_id=thread_id),
            "createThread",
        )
        return cast(ThreadDoc, found)
    await _done(db, claim)
    return _thread(doc)


async def _thread_if_visible(
    db: Database, *, organization_id: str, thread_id: str
) -> ThreadDoc | None:
    return (await get_threads(db, organization_id=organization_id, ids=[thread_id])).get(thread_id)


async def _insert_thread(db: Database, doc: dict[str, Any], messages: list[NewMessage]) -> None:
    if not messages:
        await db[THREADS].insert_one(doc)
        return
    # Hidden until all its messages are in: a crash leaves nothing visible, and the sweep
    # removes it.
    await db[THREADS].insert_one({**doc, "hidden": CREATING})
    organization_id, user_id, created_at = doc["organizationId"], doc["userId"], doc["createdAt"]
    await db[MESSAGES].insert_many(
        [
            _message_doc(
                message,
                organization_id=organization_id,
                user_id=user_id,
                thread_id=doc["_id"],
                seq=seq,
                created_at=created_at,
            )
            for seq, message in enumerate(messages, start=1)
        ]
    )
    await db[THREADS].update_one({"_id": doc["_id"]}, {"$unset": {"hidden": ""}})


async def _thread_or_raise(db: Database, *, organization_id: str, thread_id: str) -> ThreadDoc:
    found = await get_threads(db, organization_id=organization_id, ids=[thread_id])
    if thread_id not in found:
        raise NotFound(f"Thread {thread_id} not found.")
    return found[thread_id]


def _refuse(thread: ThreadDoc, action: str) -> Conflict:
    return Conflict(f"Thread {thread['_id']} is {thread['state']}: cannot {action}.")


async def update_thread(
    db: Database, *, organization_id: str, thread_id: str, changes: dict[str, Any]
) -> ThreadDoc:
    """Apply `changes` (stored field -> value). An ARCHIVED thread only takes a state change."""
    if not changes:
        return await _thread_or_raise(db, organization_id=organization_id, thread_id=thread_id)
    query: dict[str, Any] = {"_id": thread_id, "organizationId": organization_id, **VISIBLE}
    if set(changes) != {"state"}:
        query["state"] = {"$in": [ACTIVE, LOCKED]}
    stored = {**changes}
    if "metadata" in stored:
        stored["metadata"] = _pairs(stored["metadata"])
    doc = await db[THREADS].find_one_and_update(
        query,
        {"$set": stored, "$max": {"updatedAt": now()}},
        return_document=ReturnDocument.AFTER,
    )
    if doc is None:
        thread = await _thread_or_raise(db, organization_id=organization_id, thread_id=thread_id)
        raise _refuse(thread, "change anything but its state")
    return _thread(doc)


async def delete_thread(db: Database, *, organization_id: str, thread_id: str) -> None:
    hidden = await db[THREADS].update_one(
        {"_id": thread_id, "organizationId": organization_id, **VISIBLE},
        {"$set": {"hidden": DELETING}},
    )
    if hidden.matched_count == 0:
        raise NotFound(f"Thread {thread_id} not found.")
    await _remove_thread(db, organization_id=organization_id, thread_id=thread_id)


async def _remove_thread(db: Database, *, organization_id: str, thread_id: str) -> None:
    # Messages first: a crash in between leaves a hidden thread, never a message without one.
    await db[MESSAGES].delete_many({"organizationId": organization_id, "threadId": thread_id})
    await db[THREADS].delete_one({"_id": thread_id, "organizationId": organization_id})


async def create_message(
    db: Database,
    *,
    organization_id: str,
    user_id: str,
    thread_id: str,
    message: NewMessage,
    idempotency_key: str | None = None,
) -> tuple[MessageDoc, ThreadDoc]:
    message_id = new_id(MESSAGE_PREFIX)
    claim = None
    if idempotency_key is not None:
        claim = await _claim(
            db,
            organization_id=organization_id,
            user_id=user_id,
            operation="createMessage",
            key=idempotency_key,
            request=[thread_id, message],
            result_id=message_id,
        )
        message_id = claim.result_id
        if claim.done:
            return await _message_in_thread(
                db, organization_id=organization_id, message_id=message_id
            )
    thread_query = {"_id": thread_id, "organizationId": organization_id, **VISIBLE}
    # Taking the next sequence number is the atomic admission check on the thread's state.
    reserved = await db[THREADS].find_one_and_update(
        {**thread_query, "state": ACTIVE},
        {"$inc": {"seq": 1}},
        projection={"seq": 1},
        return_document=ReturnDocument.AFTER,
    )
    if reserved is None:
        thread = await _thread_or_raise(db, organization_id=organization_id, thread_id=thread_id)
        raise _refuse(thread, "add messages")
    doc = _message_doc(
        message,
        organization_id=organization_id,
        user_id=user_id,
        thread_id=thread_id,
        seq=reserved["seq"],
        created_at=now(),
    )
    doc["_id"] = message_id
    try:
        await db[MESSAGES].insert_one(doc)
    except DuplicateKeyError:  # a retry racing the first call with the same key
        return await _message_in_thread(db, organization_id=organization_id, message_id=message_id)
    thread_doc = await db[THREADS].find_one_and_update(
        thread_query,
        {"$max": {"updatedAt": doc["createdAt"]}},
        return_document=ReturnDocument.AFTER,
    )
    if thread_doc is None:
        # The thread was deleted meanwhile; its deletion may have run before our insert.
        await db[MESSAGES].delete_one({"_id": doc["_id"]})
        raise NotFound(f"Thread {thread_id} not found.")
    await _done(db, claim)
    return _message(doc), _thread(thread_doc)


async def _message_or_raise(db: Database, *, organization_id: str, message_id: str) -> MessageDoc:
    found = await get_messages(db, organization_id=organization_id, ids=[message_id])
    if message_id not in found:
        raise NotFound(f"Message {message_id} not found.")
    return found[message_id]


async def _message_in_thread(
    db: Database,
    *,
    organization_id: str,
    message_id: str,
    refused_states: tuple[str, ...] = (),
    action: str = "",
) -> tuple[MessageDoc, ThreadDoc]:
    """The message and its (visible) thread, whose state must not be among `refused_states`."""
    message = await _message_or_raise(db, organization_id=organization_id, message_id=message_id)
    threads = await get_threads(db, organization_id=organization_id, ids=[message["threadId"]])
    thread = threads.get(message["threadId"])
    if thread is None:
        raise NotFound(f"Message {message_id} not found.")
    if thread["state"] in refused_states:
        raise _refuse(thread, action)
    return message, thread


async def update_message(
    db: Database, *, organization_id: str, message_id: str, metadata: Mapping[str, str]
) -> MessageDoc:
    await _message_in_thread(
        db,
        organization_id=organization_id,
        message_id=message_id,
        refused_states=(ARCHIVED,),
        action="change its messages",
    )
    doc = await db[MESSAGES].find_one_and_update(
        {"_id": message_id, "organizationId": organization_id},
        {"$set": {"metadata": _pairs(metadata)}},
        return_document=ReturnDocument.AFTER,
    )
    if doc is None:
        raise NotFound(f"Message {message_id} not found.")
    return _message(doc)


async def delete_message(db: Database, *, organization_id: str, message_id: str) -> ThreadDoc:
    _, thread = await _message_in_thread(
        db,
        organization_id=organization_id,
        message_id=message_id,
        refused_states=(LOCKED, ARCHIVED),
        action="delete its messages",
    )
    deleted = await db[MESSAGES].delete_one({"_id": message_id, "organizationId": organization_id})
    if deleted.deleted_count == 0:
        raise NotFound(f"Message {message_id} not found.")
    thread_doc = await db[THREADS].find_one_and_update(
        {"_id": thread["_id"], "organizationId": organization_id},
        {"$max": {"updatedAt": now()}},
        return_document=ReturnDocument.AFTER,
    )
    return _thread(thread_doc) if thread_doc is not None else thread


class EventDoc(TypedDict):
    organizationId: str
    threadId: str
    seq: int
    type: str
    data: dict[str, Any]


async def record_event(
    db: Database,
    *,
    organization_id: str,
    thread_id: str,
    type: str,
    data: dict[str, Any],
    once: str | None = None,
) -> EventDoc | None:
    """Append an event to the thread's log (kept EVENT_TTL); None if the thread is gone, or if
    an event with the same `once` key was recorded already (a retried create).

    Message and thread snapshots in `data` are stored as documents are (metadata as pairs).
    The number is taken from the thread, then the event written: a crash in between leaves a
    gap in the numbers, which subscribers skip.
    """
    event_id = None if once is None else f"{thread_id}:{once}"
    if event_id is not None and await db[EVENTS].find_one({"_id": event_id}, {"_id": 1}):
        return None
    thread = await db[THREADS].find_one_and_update(
        {"_id": thread_id, "organizationId": organization_id},
        {"$inc": {"eventSeq": 1}},
        projection={"eventSeq": 1},
        return_document=ReturnDocument.AFTER,
    )
    if thread is None:
        return None
    stored = {key: _stored(value) for key, value in data.items()}
    event = EventDoc(
        organizationId=organization_id,
        threadId=thread_id,
        seq=thread["eventSeq"],
        type=type,
        data=stored,
    )
    stored_event: dict[str, Any] = {**event, "createdAt": now()}
    if event_id is not None:
        stored_event["_id"] = event_id
    try:
        await db[EVENTS].insert_one(stored_event)
    except DuplicateKeyError:  # the same retried create, racing
        return None
    return event


def _stored(value: Any) -> Any:
    if isinstance(value, dict) and isinstance(value.get("metadata"), dict):
        return {**value, "metadata": _pairs(value["metadata"])}
    return value


def event_data(event: Mapping[str, Any]) -> dict[str, Any]:
    """The event's data with its snapshots as the store returns documents."""
    data = dict(event["data"])
    for key, decode in (("message", _message), ("thread", _thread)):
        if key in data:
            data[key] = decode(data[key])
    return data


async def list_events(
    db: Database, *, organization_id: str, thread_id: str, after: int, until: int | None = None
) -> list[EventDoc]:
    """The thread's events numbered after `after` (and up to `until`), in order."""
    seqs: dict[str, int] = {"$gt": after} if until is None else {"$gt": after, "$lt": until + 1}
    scan = {"organizationId": organization_id, "threadId": thread_id, "seq": seqs}
    docs = await _aggregate(db, EVENTS, [{"$match": scan}, {"$sort": {"seq": 1}}])
    return cast(list[EventDoc], docs)


async def last_event(db: Database, *, organization_id: str, thread_id: str) -> int:
    """The number of the thread's last event (0 before any)."""
    found = await get_threads(db, organization_id=organization_id, ids=[thread_id])
    thread = found.get(thread_id)
    return thread.get("eventSeq", 0) if thread else 0


async def watch_events(db: Database, *, opened: Callable[[], None]) -> AsyncIterator[EventDoc]:
    """Every event written from now on, by any instance (a change stream); `opened` is called
    once the stream is open. Raises ChangeStreamsUnsupported where the server has none
    (standalone MongoDB, mongomock)."""
    if any(cls.__module__.startswith("mongomock") for cls in type(db).__mro__):
        raise ChangeStreamsUnsupported("mongomock-motor has no change streams")
    try:
        stream = db[EVENTS].watch([{"$match": {"operationType": "insert"}}], max_await_time_ms=500)
        async with stream:
            change = await stream.try_next()  # opens the stream
            opened()
            while True:
                if change is not None:
                    yield cast(EventDoc, change["fullDocument"])
                change = await stream.try_next()
    except (NotImplementedError, OperationFailure) as error:
        if isinstance(error, OperationFailure) and error.code not in (40573, 40324, 115):
            raise
        raise ChangeStreamsUnsupported(str(error)) from error


class ChangeStreamsUnsupported(Exception):
    pass
