"""The naive peer of the benchmark: the same reads answered the way Strawberry's docs start out —
stock `relay.ListConnection` (offset cursors, slicing what a resolver yields), a query per
field, no DataLoaders — on the same documents, through the stored layout (`app/store/codec.py`
decodes them). Served by `naive_app` (stock `strawberry.asgi.GraphQL`) with the same API keys.
Its documents use `edges { node }` (the stock connection has no `nodes`). Its filters are what
the indexes hold (organization, thread, a metadata term); the rest (trash, state) is checked in
Python, as a developer would write it without knowing the planner."""

from collections.abc import AsyncIterable, AsyncIterator, Awaitable
from datetime import datetime
from enum import Enum
from typing import Any, Self, cast

import strawberry
from cross_web import HTTPException
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route
from starlette.websockets import WebSocket
from strawberry import relay
from strawberry.asgi import GraphQL
from strawberry.scalars import JSON
from strawberry.types import Info

from app import store
from app.services import api_keys
from app.store import codec
from scripts import bench_peers

THREAD_FIELDS = {
    "_id": 1,
    "title": 1,
    "createdAt": 1,
    "updatedAt": 1,
    "metadata": 1,
    "hidden": 1,
    "state": 1,
}


def _db(info: Info) -> store.Database:
    db: store.Database = info.context["db"]
    return db


def _org(info: Info) -> str:
    org: str = info.context["org"]
    return org


@strawberry.enum
class NaiveRole(Enum):
    USER = "user"
    ASSISTANT = "assistant"


@strawberry.enum
class NaiveStatus(Enum):
    IN_PROGRESS = "in_progress"
    COMPLETED = "completed"
    INCOMPLETE = "incomplete"


@strawberry.enum
class SortOrder(Enum):
    ASC = "asc"
    DESC = "desc"


@strawberry.enum
class ThreadOrderBy(Enum):
    CREATED_AT = "createdAt"
    UPDATED_AT = "updatedAt"


@strawberry.input
class NaiveFilter:
    metadata: JSON | None = None


@strawberry.type
class NaiveMessage:
    id: str
    role: NaiveRole
    text: str
    created_at: datetime
    metadata: Any = strawberry.field(graphql_type=JSON)
    status: NaiveStatus = NaiveStatus.COMPLETED

    @classmethod
    def of(cls, doc: dict[str, Any]) -> Self:
        message = codec.message_from_doc(doc)
        return cls(
            id=message.id,
            role=NaiveRole(message.role.value),
            text=message.text,
            created_at=message.created_at,
            metadata=message.metadata,
            status=NaiveStatus(message.status.value),
        )


@strawberry.type
class NaiveThread:
    id: str
    title: str | None
    created_at: datetime
    updated_at: datetime
    metadata: Any = strawberry.field(graphql_type=JSON)

    @classmethod
    def of(cls, doc: dict[str, Any]) -> Self:
        pairs = doc.get("metadata", [])
        return cls(
            id=doc["_id"],
            title=doc.get("title"),
            created_at=doc["createdAt"],
            updated_at=doc["updatedAt"],
            metadata={pair["k"]: pair["v"] for pair in pairs},
        )

    @strawberry.field
    async def message_count(self, info: Info) -> int:
        query = {"organizationId": _org(info), "threadId": self.id}
        return int(await _db(info)[store.MESSAGES].count_documents(query))

    # The stock connection is typed for relay.Node types but serves any type.
    @relay.connection(relay.ListConnection[NaiveMessage])  # type: ignore[type-var]
    async def messages(
        self, info: Info, order: SortOrder = SortOrder.DESC
    ) -> AsyncIterator[NaiveMessage]:
        query = {"organizationId": _org(info), "threadId": self.id}
        cursor = _db(info)[store.MESSAGES].find(query)
        cursor = cursor.sort("seq", 1 if order is SortOrder.ASC else -1)

        async def nodes() -> AsyncIterator[NaiveMessage]:
            async for doc in cursor:
                if doc.get("deletedAt") is None:
                    yield NaiveMessage.of(doc)

        return nodes()


def _threads_filter(org: str, filter: NaiveFilter | None) -> dict[str, Any]:
    query: dict[str, Any] = {"organizationId": org}
    metadata = cast(dict[str, str], (filter.metadata if filter else None) or {})
    terms = [codec.metadata_term(key, value) for key, value in metadata.items()]
    if terms:
        query["metaTerms"] = terms[0] if len(terms) == 1 else {"$all": terms}
    return query


@strawberry.type
class ThreadConnection(relay.ListConnection[NaiveThread]):  # type: ignore[type-var]
    """The stock connection, and the count a naive schema adds: count_documents when asked."""

    @strawberry.field
    async def total_count(self, info: Info) -> int:
        query = getattr(self, "bench_query", {})
        return int(await _db(info)[store.THREADS].count_documents(query))

    @strawberry.field
    def total_count_is_exact(self) -> bool:
        return True

    @classmethod
    def resolve_connection(cls, nodes: Any, *, info: Info, **kwargs: Any) -> Any:
        resolved = super().resolve_connection(nodes, info=info, **kwargs)
        query = getattr(nodes, "bench_query", {})

        async def with_query(awaitable: Awaitable[Any]) -> Any:
            connection = await awaitable
            connection.__dict__["bench_query"] = query
            return connection

        if isinstance(resolved, Awaitable):
            return with_query(resolved)
        resolved.__dict__["bench_query"] = query
        return resolved


class _Threads(AsyncIterable[NaiveThread]):
    """The threads a query yields, carrying the query for totalCount."""

    def __init__(self, db: store.Database, query: dict[str, Any], order: str, sort: int):
        self.bench_query = query
        self.cursor = db[store.THREADS].find(query, THREAD_FIELDS).sort([(order, sort)])

    def __aiter__(self) -> AsyncIterator[NaiveThread]:
        return self._nodes()

    async def _nodes(self) -> AsyncIterator[NaiveThread]:
        async for doc in self.cursor:
            if doc.get("hidden") is None and doc.get("state") != "archived":
                yield NaiveThread.of(doc)


@strawberry.type
class NaiveQuery:
    @strawberry.field
    async def thread(self, info: Info, id: strawberry.ID) -> NaiveThread | None:
        query = {"_id": id, "organizationId": _org(info)}
        doc = await _db(info)[store.THREADS].find_one(query, THREAD_FIELDS)
        return None if doc is None or doc.get("hidden") else NaiveThread.of(doc)

    @relay.connection(ThreadConnection)
    async def threads(
        self,
        info: Info,
        filter: NaiveFilter | None = None,
        order_by: ThreadOrderBy = ThreadOrderBy.CREATED_AT,
        order: SortOrder = SortOrder.DESC,
    ) -> AsyncIterable[NaiveThread]:
        query = _threads_filter(_org(info), filter)
        return _Threads(_db(info), query, order_by.value, 1 if order is SortOrder.ASC else -1)


@strawberry.input
class NaiveCreateMessageInput:
    thread_id: strawberry.ID
    content: str
    role: NaiveRole = NaiveRole.USER


@strawberry.type
class NaiveCreateMessagePayload:
    message: NaiveMessage


@strawberry.type
class NaiveMutation:
    @strawberry.mutation
    async def create_message(
        self, info: Info, input: NaiveCreateMessageInput
    ) -> NaiveCreateMessagePayload | None:
        caller = info.context["caller"]
        written = await bench_peers.write_message(
            _db(info),
            caller,
            input.thread_id,
            input.content,
            input.role.value,
            event=False,
            naive=True,
        )
        if written is None:
            return None
        return NaiveCreateMessagePayload(message=NaiveMessage.of(codec.message_doc(written[1])))


schema = strawberry.Schema(query=NaiveQuery, mutation=NaiveMutation)


class NaiveGraphQL(GraphQL[dict[str, Any], None]):
    def __init__(self, db: store.Database) -> None:
        super().__init__(schema, graphql_ide=None)
        self.db = db
        self.keys = api_keys.KeyCache(seconds=1.0)

    async def get_context(
        self, request: Request | WebSocket, response: Response | WebSocket
    ) -> dict[str, Any]:
        caller = await api_keys.authenticate(
            self.db, request.headers.get("authorization"), cache=self.keys
        )
        if caller is None:
            raise HTTPException(401, "no valid API key")
        return {"db": self.db, "org": caller.organization_id, "caller": caller}


def naive_app(db: store.Database) -> Starlette:
    return Starlette(routes=[Route("/graphql", NaiveGraphQL(db), methods=["GET", "POST"])])
