"""The benchmark's peers besides the API, each a Starlette app served by uvicorn on its own
(`uvicorn scripts.bench_peers:handwritten --factory`, `:rest`, `:naive`), on the database of
BENCH_MONGODB_URI / BENCH_DATABASE, with the API's keys (looked up, then cached a second, as
the API does).

- `handwritten`: POST /graphql with a scenario's name and variables: the JSON the API answers
  for that scenario's query, from the optimal commands for this server, written by someone who
  knows it — scans bounded on both ends of their sort key, one command where one suffices,
  independent commands sent together.
- `rest`: OpenAI/DashScope's Threads API: GET /v1/threads/{id}, GET /v1/threads/{id}/messages
  (limit, order, after), POST /v1/threads/{id}/messages, and a thread list GET /v1/threads
  (limit, order, order_by, metadata[key], include_total); the same queries as `handwritten`.
- `naive`: the naive Strawberry schema (scripts/bench_naive.py), which takes a new message's
  numbers with findAndModify, as the driver's documentation suggests."""

import asyncio
import os
from collections.abc import Awaitable, Callable
from contextlib import asynccontextmanager
from datetime import UTC, datetime, timedelta
from typing import Any

import orjson
from pymongo import ReturnDocument
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from app import domain, store
from app.domain import Caller, Event, EventType, Message, NewMessage, Role, TextPart
from app.pagination import MESSAGE_ORDER, THREAD_ORDER, encode_cursor
from app.services import api_keys
from app.store import codec

COUNT_LIMIT = 1_000  # the API's totalCount under a metadata filter is exact up to this many
NOT_LISTED = {"$ne": "archived"}  # threads lists leave archived threads out by default
WINDOW_MARGIN, WINDOW_GROWTH, WINDOWS = 1.25, 8, 4
Doc = dict[str, Any]
# Not in the trash. The server's planner takes an index only for a filter made of the index's
# fields: conditions on other fields go in a second $match.
LIVE: Doc = {"deletedAt": None}


def iso(value: datetime) -> str:
    moment = value.astimezone(UTC) if value.tzinfo else value
    return moment.strftime("%Y-%m-%dT%H:%M:%S.") + f"{moment.microsecond // 1000:03d}Z"


def now() -> datetime:
    return datetime.now(UTC).replace(tzinfo=None)


class Reads:
    """Every command the hand-written endpoint and the REST peer send."""

    def __init__(self, db: store.Database) -> None:
        self.db = db

    async def thread(self, org: str, thread_id: str) -> Doc | None:
        query = {"organizationId": org, "_id": thread_id, "hidden": None}  # all indexed
        doc: Doc | None = await self.db[store.THREADS].find_one(query)
        return doc

    async def message(self, org: str, message_id: str) -> Doc | None:
        doc: Doc | None = await self.db[store.MESSAGES].find_one(
            {"organizationId": org, "_id": message_id}, {"threadId": 1, "seq": 1}
        )
        return doc

    async def messages(
        self, org: str, thread_id: str, low: int, high: int, *, ascending: bool, limit: int
    ) -> list[Doc]:
        scan = {"organizationId": org, "threadId": thread_id, "seq": {"$gte": low, "$lte": high}}
        pipeline: list[Doc] = [
            {"$match": scan},
            {"$match": LIVE},
            {"$sort": {"seq": 1 if ascending else -1}},
            {"$limit": limit},
        ]
        docs: list[Doc] = await self.db[store.MESSAGES].aggregate(pipeline).to_list(None)
        return docs

    async def numbered(self, org: str, keys: list[str]) -> list[Doc]:
        scan = {"organizationId": org, "threadSeq": {"$in": keys}}
        pipeline: list[Doc] = [{"$match": scan}, {"$match": LIVE}]
        docs: list[Doc] = await self.db[store.MESSAGES].aggregate(pipeline).to_list(None)
        return docs

    async def tally(self, org: str, term: str | None = None) -> tuple[int, datetime | None]:
        """How many live threads the organization has (with `term`: how many listed ones hold
        it), and since when: its counter documents, in one read."""
        ids = [org] + ([store.term_id(org, term)] if term else [])
        docs = await self.db[store.THREAD_COUNTERS].find({"_id": {"$in": ids}}).to_list(None)
        by_id = {doc["_id"]: doc for doc in docs}
        if org not in by_id:
            return 0, None
        since = by_id[org].get("since")
        if term is None:
            return sum(by_id[org].get("live", {}).values()), since
        live = by_id.get(ids[-1], {}).get("live", {})
        return sum(n for state, n in live.items() if state != "archived"), since

    async def window(
        self, scan: Doc, field: str, low: datetime | None, high: datetime | None, limit: int
    ) -> list[Doc]:
        bounds = {"$gte": low} if low else {}
        bounds |= {"$lt": high} if high else {}
        pipeline: list[Doc] = [
            {"$match": {**scan, **({field: bounds} if bounds else {})}},
            {"$match": {"hidden": None, "state": NOT_LISTED}},
            {"$sort": {field: -1, "_id": -1}},
            {"$limit": limit},
        ]
        cursor = self.db[store.THREADS].aggregate(pipeline)
        docs: list[Doc] = await cursor.to_list(None)
        return docs

    async def window_count(self, scan: Doc, low: datetime, high: datetime | None) -> int:
        bounds: Doc = {"$gte": low} | ({"$lt": high} if high else {})
        pipeline: list[Doc] = [
            {"$match": {**scan, "createdAt": bounds}},
            {"$match": {"hidden": None, "state": NOT_LISTED}},
            {"$group": {"_id": None, "n": {"$sum": 1}}},
        ]
        rows = await self.db[store.THREADS].aggregate(pipeline).to_list(None)
        return int(rows[0]["n"]) if rows else 0


# Reads composed: each the fewest commands for what it answers.
async def newest_threads(
    reads: Reads, org: str, scan: Doc, field: str, need: int, tally: tuple[int, datetime | None]
) -> list[Doc]:
    """The `need` newest threads by `field` matching `scan`, in windows of time bounded on both
    ends, sized from the organization's rate of threads."""
    total, since = tally
    at = now()
    span = (at - since).total_seconds() if since else 0
    rate = total / span if total and span > 0 else None
    docs: list[Doc] = []
    high: datetime | None = None
    for step in range(WINDOWS):
        missing = need - len(docs)
        last = step == WINDOWS - 1 or rate is None
        seconds = WINDOW_MARGIN * missing / rate if rate else 0
        low = None if last else (high or at) - timedelta(seconds=seconds)
        docs += await reads.window(scan, field, low, high, missing)
        if len(docs) >= need or low is None or (since and low <= since):
            break
        high = low
        if rate:
            rate /= WINDOW_GROWTH
    return docs


async def count_threads(reads: Reads, scan: Doc, tally: tuple[int, datetime | None]) -> int:
    """Threads matching `scan`, counted newest first in windows, up to COUNT_LIMIT + 1."""
    total, since = tally
    if not total or since is None:
        return 0
    high = now()
    rate = total / max((high - since).total_seconds(), 1)
    counted = 0
    while counted <= COUNT_LIMIT:
        seconds = WINDOW_MARGIN * (COUNT_LIMIT + 1 - counted) / rate
        low = max(high - timedelta(seconds=seconds), since)
        counted += await reads.window_count(scan, low, high)
        if low <= since:
            break
        high = low
    return counted


async def page_of_messages(
    reads: Reads, org: str, thread: Doc, size: int, *, after: int | None, ascending: bool
) -> list[Doc]:
    """Up to size + 1 messages from `after` (a sequence number), by a range of numbers that
    widens only if deleted messages leave it short."""
    last = thread["seq"]
    found: list[Doc] = []
    span = size + 1
    while True:
        if ascending:
            low = (after or 0) + 1
            high = low + span - 1
        else:
            high = (after - 1) if after else last
            low = max(high - span + 1, 1)
        found = await reads.messages(
            org, thread["_id"], low, high, ascending=ascending, limit=size + 1
        )
        if len(found) > size or (high >= last if ascending else low <= 1):
            return found
        span *= 4


async def last_messages(reads: Reads, org: str, threads: list[Doc], n: int) -> dict[str, list[Doc]]:
    """The last `n` messages of each thread, newest first: in one command, by their thread and
    number (`threadSeq`); a thread whose numbers fall short (deletions) is read again."""
    wanted = {
        codec.seq_key(t["_id"], seq)
        for t in threads
        for seq in range(max(1, t["seq"] - n + 1), t["seq"] + 1)
    }
    by_thread: dict[str, list[Doc]] = {t["_id"]: [] for t in threads}
    for doc in await reads.numbered(org, sorted(wanted)):
        if doc["threadId"] in by_thread:
            by_thread[doc["threadId"]].append(doc)
    for t in threads:
        docs = sorted(by_thread[t["_id"]], key=lambda d: -d["seq"])[:n]
        if len(docs) < n and (not docs or docs[-1]["seq"] > 1):
            low = docs[-1]["seq"] if docs else t["seq"] + 1
            docs += await reads.messages(
                org, t["_id"], 1, low - 1, ascending=False, limit=n - len(docs)
            )
        by_thread[t["_id"]] = docs
    return by_thread


def message_text(doc: Doc) -> str:
    return codec.message_from_doc(doc).text


def thread_json(doc: Doc) -> Doc:
    """A thread's fields as thread + 50 selects them (its messages and count aside)."""
    return {
        "id": doc["_id"],
        "title": doc["title"],
        "createdAt": iso(doc["createdAt"]),
        "updatedAt": iso(doc["updatedAt"]),
        "metadata": {p["k"]: p["v"] for p in doc["metadata"]},
    }


def message_json(doc: Doc) -> Doc:
    """A message's fields as thread + 50 selects them."""
    return {
        "id": doc["_id"],
        "role": doc["role"].upper(),
        "text": message_text(doc),
        "createdAt": iso(doc["createdAt"]),
        "metadata": {p["k"]: p["v"] for p in doc["metadata"]},
        "status": doc["status"].upper(),
    }


# The hand-written endpoint: one handler per scenario, answering its GraphQL query's JSON.
async def thread50(reads: Reads, org: str, v: Doc) -> Doc:
    thread = await reads.thread(org, v["id"])
    if thread is None:
        return {"thread": None}
    page = await page_of_messages(reads, org, thread, 50, after=None, ascending=False)
    count = thread["messageCount"]  # kept on the thread by the writes
    cursors = [encode_cursor(MESSAGE_ORDER, (d["seq"],)) for d in page[:50]]
    edges = [
        {"cursor": cursor, "node": message_json(d)}
        for cursor, d in zip(cursors, page, strict=False)
    ]
    return {
        "thread": {
            **thread_json(thread),
            "messageCount": count,
            "messages": {
                "edges": edges,
                "pageInfo": {
                    "hasNextPage": len(page) > 50,
                    "endCursor": cursors[-1] if cursors else None,
                },
            },
        }
    }


async def inbox(reads: Reads, org: str, v: Doc) -> Doc:
    tally = await reads.tally(org)
    scan = {"organizationId": org}
    threads = (await newest_threads(reads, org, scan, "updatedAt", 51, tally))[:50]
    last = await last_messages(reads, org, threads, 5)
    nodes = [
        {
            "id": t["_id"],
            "title": t["title"],
            "updatedAt": iso(t["updatedAt"]),
            "messages": {
                "nodes": [
                    {
                        "id": d["_id"],
                        "role": d["role"].upper(),
                        "text": message_text(d),
                        "createdAt": iso(d["createdAt"]),
                    }
                    for d in last[t["_id"]]
                ]
            },
        }
        for t in threads
    ]
    return {"threads": {"nodes": nodes}}


async def page(reads: Reads, org: str, v: Doc) -> Doc:
    after = v.get("afterSeq")
    thread = await reads.thread(org, v["id"])
    if thread is None:
        return {"thread": None}
    found = await page_of_messages(reads, org, thread, 100, after=after, ascending=True)
    items = found[:100]
    return {
        "thread": {
            "messages": {
                "nodes": [{"id": d["_id"], "text": message_text(d)} for d in items],
                "pageInfo": {
                    "hasNextPage": len(found) > 100,
                    "endCursor": (
                        encode_cursor(MESSAGE_ORDER, (items[-1]["seq"],)) if items else None
                    ),
                },
            }
        }
    }


async def filtered(reads: Reads, org: str, v: Doc, *, counted: bool) -> Doc:
    term = codec.metadata_term("tag", v["tag"])
    tally = await reads.tally(org, term)  # the count of the threads holding the term
    scan = {"organizationId": org, "metaTerms": term}
    threads = await newest_threads(reads, org, scan, "createdAt", 21, tally)
    count = tally[0]
    items = threads[:20]
    connection: Doc = {
        "nodes": [
            {"id": t["_id"], "title": t["title"], "createdAt": iso(t["createdAt"])} for t in items
        ],
        "pageInfo": {
            "hasNextPage": len(threads) > 20,
            "endCursor": (
                encode_cursor(THREAD_ORDER, (items[-1]["createdAt"], items[-1]["_id"]))
                if items
                else None
            ),
        },
    }
    if counted:  # kept exactly for one metadata pair
        connection["totalCount"] = count
        connection["totalCountIsExact"] = True
    return {"threads": connection}


async def write_message(
    db: store.Database,
    caller: Caller,
    thread_id: str,
    text: str,
    role: str,
    *,
    event: bool,
    naive: bool = False,
) -> tuple[Doc, Message] | None:
    """The thread's next numbers and activity, then the message (and, with `event`, its
    MessageCreated for subscribers, sent together with it). The numbers: read, then taken in a
    write that lands only if no one took them since. The embedded server answers a matching
    findAndModify by scanning the whole collection; `naive` sends one all the same, as the
    driver's documentation suggests."""
    at = now()
    owned: Doc = {"_id": thread_id, "organizationId": caller.organization_id}
    owned |= {"hidden": None, "state": "active"}
    taking = {"$inc": {"eventSeq": 1, "seq": 1}, "$max": {"updatedAt": at}}
    thread: Doc | None
    if naive:
        thread = await db[store.THREADS].find_one_and_update(
            owned, taking, return_document=ReturnDocument.AFTER
        )
    else:
        while True:
            thread = await db[store.THREADS].find_one(owned, {"eventSeq": 1, "seq": 1})
            if thread is None:
                break
            numbers = {"eventSeq": thread.get("eventSeq"), "seq": thread.get("seq")}
            taken = await db[store.THREADS].update_one({**owned, **numbers}, taking)
            if taken.matched_count:
                thread = {name: (number or 0) + 1 for name, number in numbers.items()}
                break
    if thread is None:
        return None
    new = NewMessage(content=(TextPart(text),), role=Role(role))
    message = Message.new(
        new,
        id=domain.new_id(domain.MESSAGE_PREFIX),
        caller=caller,
        thread_id=thread_id,
        seq=thread["seq"],
        at=at,
    )
    numbers = {"createdEvent": thread["eventSeq"], "lastEvent": thread["eventSeq"], "eventAt": at}
    writes: list[Awaitable[Any]] = [
        db[store.MESSAGES].insert_one({**codec.message_doc(message), **numbers})
    ]
    if event:
        logged = Event(
            caller.organization_id,
            thread_id,
            thread["eventSeq"],
            EventType.MESSAGE_CREATED,
            message=message,
        )
        writes.append(store.write_event(db, logged, at=at))
    await asyncio.gather(*writes)
    return thread, message


async def create_message(reads: Reads, caller: Caller, v: Doc) -> Doc:
    written = await write_message(reads.db, caller, v["threadId"], v["content"], "user", event=True)
    if written is None:
        return {"createMessage": None}
    _, m = written
    return {
        "createMessage": {
            "message": {
                "id": m.id,
                "role": m.role.value.upper(),
                "text": m.text,
                "createdAt": iso(m.created_at),
            }
        }
    }


Handler = Callable[[Reads, str, Doc], Awaitable[Doc]]
HANDLERS: dict[str, Handler] = {
    "thread50": thread50,
    "inbox": inbox,
    "page": page,
    "filtered": lambda r, o, v: filtered(r, o, v, counted=False),
    "filtered_count": lambda r, o, v: filtered(r, o, v, counted=True),
}


def _database() -> store.Database:
    return store.open_database(
        os.environ["BENCH_MONGODB_URI"],
        os.environ.get("BENCH_DATABASE", "bench"),
        timeout_ms=60_000,
    )


class Keys:
    def __init__(self, db: store.Database) -> None:
        self.db, self.cache = db, api_keys.KeyCache(seconds=1.0)

    async def caller(self, request: Request) -> Caller | None:
        header = request.headers.get("authorization")
        return await api_keys.authenticate(self.db, header, cache=self.cache)


def json_response(body: Any, status: int = 200) -> Response:
    return Response(orjson.dumps(body), status, media_type="application/json")


def handwritten_app(db: store.Database, reads: Reads | None = None) -> Starlette:
    """POST /graphql {"scenario", "variables"} -> {"data": ...}: the API's JSON."""
    keys, reads = Keys(db), reads or Reads(db)

    async def endpoint(request: Request) -> Response:
        caller = await keys.caller(request)
        if caller is None:
            return json_response({"errors": [{"message": "no valid API key"}]}, 401)
        body = orjson.loads(await request.body())
        scenario, variables = body["scenario"], body.get("variables", {})
        if scenario == "create":
            data = await create_message(reads, caller, variables)
        else:
            data = await HANDLERS[scenario](reads, caller.organization_id, variables)
        return json_response({"data": data})

    return Starlette(routes=[Route("/graphql", endpoint, methods=["POST"])])


# The REST peer
def rest_thread(doc: Doc, count: int | None = None) -> Doc:
    body = {
        "id": doc["_id"],
        "object": "thread",
        "created_at": int(doc["createdAt"].replace(tzinfo=UTC).timestamp()),
        "title": doc["title"],
        "metadata": {p["k"]: p["v"] for p in doc["metadata"]},
    }
    return body if count is None else {**body, "message_count": count}


def rest_message(doc: Doc) -> Doc:
    return {
        "id": doc["_id"],
        "object": "thread.message",
        "created_at": int(doc["createdAt"].replace(tzinfo=UTC).timestamp()),
        "thread_id": doc["threadId"],
        "role": doc["role"],
        "content": [{"type": "text", "text": {"value": message_text(doc), "annotations": []}}],
        "metadata": {p["k"]: p["v"] for p in doc["metadata"]},
    }


def rest_list(items: list[Doc], more: bool, **extra: Any) -> Doc:
    return {
        "object": "list",
        "data": items,
        "first_id": items[0]["id"] if items else None,
        "last_id": items[-1]["id"] if items else None,
        "has_more": more,
        **extra,
    }


def rest_app(db: store.Database) -> Starlette:
    keys, reads = Keys(db), Reads(db)
    missing = json_response({"error": {"message": "No thread found."}}, 404)

    async def get_thread(request: Request) -> Response:
        caller = await keys.caller(request)
        if caller is None:
            return json_response({"error": {"message": "no valid API key"}}, 401)
        org, thread_id = caller.organization_id, request.path_params["id"]
        thread = await reads.thread(org, thread_id)
        if thread is None:
            return missing
        return json_response(rest_thread(thread, thread["messageCount"]))

    async def messages(request: Request) -> Response:
        caller = await keys.caller(request)
        if caller is None:
            return json_response({"error": {"message": "no valid API key"}}, 401)
        org, thread_id = caller.organization_id, request.path_params["id"]
        if request.method == "POST":
            body = orjson.loads(await request.body())
            written = await write_message(
                db, caller, thread_id, body["content"], body.get("role", "user"), event=False
            )
            if written is None:
                return missing
            return json_response(rest_message(codec.message_doc(written[1])))
        limit = min(int(request.query_params.get("limit", "20")), 100)
        ascending = request.query_params.get("order", "desc") == "asc"
        after_id = request.query_params.get("after")
        thread, after = await asyncio.gather(
            reads.thread(org, thread_id),
            reads.message(org, after_id) if after_id else asyncio.sleep(0, None),
        )
        if thread is None:
            return missing
        after_seq = after["seq"] if after else None
        found = await page_of_messages(
            reads, org, thread, limit, after=after_seq, ascending=ascending
        )
        return json_response(
            rest_list([rest_message(d) for d in found[:limit]], len(found) > limit)
        )

    async def list_threads(request: Request) -> Response:
        caller = await keys.caller(request)
        if caller is None:
            return json_response({"error": {"message": "no valid API key"}}, 401)
        org, params = caller.organization_id, request.query_params
        limit = min(int(params.get("limit", "20")), 100)
        field = "updatedAt" if params.get("order_by") == "updated_at" else "createdAt"
        scan: Doc = {"organizationId": org}
        tags = [(k[9:-1], v) for k, v in params.items() if k.startswith("metadata[")]
        if tags:
            scan["metaTerms"] = codec.metadata_term(*tags[0])
        term = scan["metaTerms"] if len(tags) == 1 else None
        tally = await reads.tally(org, term)  # with one tag, its threads' count
        total = params.get("include_total") == "true"
        counted = term is not None or not tags
        threads, count = await asyncio.gather(
            newest_threads(reads, org, scan, field, limit + 1, tally),
            count_threads(reads, scan, tally) if total and not counted else asyncio.sleep(0, 0),
        )
        exact = counted or count <= COUNT_LIMIT
        extra = {"total": tally[0] if counted else min(count, COUNT_LIMIT), "total_is_exact": exact}
        items = [rest_thread(t) for t in threads[:limit]]
        return json_response(rest_list(items, len(threads) > limit, **(extra if total else {})))

    return Starlette(
        routes=[
            Route("/v1/threads", list_threads),
            Route("/v1/threads/{id}", get_thread),
            Route("/v1/threads/{id}/messages", messages, methods=["GET", "POST"]),
        ]
    )


def served(make: Callable[[store.Database], Starlette]) -> Starlette:
    """The app `make` builds on a database opened at start-up and closed at shutdown."""
    db = _database()

    @asynccontextmanager
    async def lifespan(app: Starlette) -> Any:
        yield
        store.close_database(db)

    app = make(db)
    app.router.lifespan_context = lifespan
    return app


def handwritten() -> Starlette:
    return served(handwritten_app)


def rest() -> Starlette:
    return served(rest_app)


def naive() -> Starlette:
    from scripts import bench_naive  # which imports this module

    return served(bench_naive.naive_app)
