"""The Starlette app. Run with `uvicorn app.main:create_app --factory`."""

import asyncio
import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import timedelta

import orjson
from starlette.applications import Starlette
from starlette.middleware import Middleware
from starlette.requests import Request
from starlette.responses import JSONResponse, RedirectResponse, Response
from starlette.routing import Route, WebSocketRoute
from starlette.websockets import WebSocket
from strawberry.asgi import GraphQL
from strawberry.exceptions import ConnectionRejectionError
from strawberry.subscriptions import GRAPHQL_TRANSPORT_WS_PROTOCOL
from strawberry.types.unset import UnsetType

from app import graphiql, store
from app.auth import Caller, RequireApiKey, authenticate
from app.context import Context, bind, build_context
from app.middleware import RequestGuard, count_command, log
from app.realtime import EventHub
from app.schema import QueryLimits, make_schema
from app.settings import Settings
from app.store import Database

# A thread whose creation has not finished after this long was abandoned by a crash.
ABANDONED_CREATE = timedelta(minutes=10)


class GraphQLApp(GraphQL[Context, None]):
    def encode_json(self, data: object) -> str:
        # orjson encodes the nested 50-message response in ~5 µs instead of ~80 µs. A str, not
        # bytes: WebSocket messages must go as text frames.
        return orjson.dumps(data).decode()

    async def get_context(
        self, request: Request | WebSocket, response: Response | WebSocket
    ) -> Context:
        database: Database = request.app.state.database
        hub: EventHub = request.app.state.hub
        if isinstance(request, WebSocket):  # the caller comes in connection_init
            context = build_context(database, Caller("", "", ""), None, hub)
            context.authenticated = False
            return context
        http_response = response if isinstance(response, Response) else None
        return build_context(database, request.scope["state"]["caller"], http_response, hub)

    async def on_ws_connect(self, context: Context) -> UnsetType | dict[str, object] | None:
        params = context.connection_params or {}
        header = params.get("Authorization", params.get("authorization"))
        caller = await authenticate(context.db, header if isinstance(header, str) else None)
        if caller is None:
            raise ConnectionRejectionError({"code": "UNAUTHENTICATED"})
        bind(context, caller)
        return None


def create_app(settings: Settings | None = None, *, database: Database | None = None) -> Starlette:
    settings = settings or Settings()
    development = not settings.production
    schema = make_schema(
        QueryLimits(
            max_depth=settings.max_query_depth,
            max_aliases=settings.max_query_aliases,
            max_tokens=settings.max_query_tokens,
            max_nodes=settings.max_query_nodes,
        ),
        production=settings.production,
        introspection=development or settings.graphql_introspection,
    )
    if not log.handlers:
        log.addHandler(logging.StreamHandler())
        log.setLevel(logging.INFO)

    @asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        db = (
            database
            if database is not None
            else store.open_database(
                settings.mongodb_uri,
                settings.mongodb_database,
                timeout_ms=settings.mongodb_timeout_ms,
                listeners=[store.CommandCounter(count_command)],
            )
        )
        try:
            await store.ensure_indexes(db)
            await store.finish_interrupted_writes(db, creating_older_than=ABANDONED_CREATE)
            app.state.database = db
            hub = EventHub(
                queue_size=settings.subscriber_queue_size,
                max_per_key=settings.max_subscriptions_per_key,
                max_per_connection=settings.max_subscriptions_per_connection,
            )
            ready = asyncio.Event()
            watcher = asyncio.create_task(hub.run(db, ready.set))
            await asyncio.wait_for(ready.wait(), timeout=settings.mongodb_timeout_ms / 1000 + 5)
            app.state.hub = hub
            yield
            watcher.cancel()
        finally:
            if database is None:
                store.close_database(db)

    async def home(request: Request) -> Response:
        return RedirectResponse("/graphql")

    async def healthz(request: Request) -> Response:
        return JSONResponse({"status": "ok"})

    async def readyz(request: Request) -> Response:
        ready = await store.ping(request.app.state.database)
        return JSONResponse({"database": "ok" if ready else "unavailable"}, 200 if ready else 503)

    graphql = GraphQLApp(
        schema, graphql_ide=None, subscription_protocols=(GRAPHQL_TRANSPORT_WS_PROTOCOL,)
    )
    page = graphiql.page() if development else None
    return Starlette(
        routes=[
            Route("/", home),
            Route("/healthz", healthz),
            Route("/readyz", readyz),
            Route("/graphql", RequireApiKey(graphql, page=page), methods=["GET", "POST"]),
            WebSocketRoute("/graphql", graphql),
            *(graphiql.routes() if development else []),
        ],
        middleware=[
            Middleware(
                RequestGuard,
                max_body_bytes=settings.max_body_bytes,
                deadline_seconds=settings.request_deadline_seconds,
            )
        ],
        lifespan=lifespan,
    )
