"""The Starlette app. Run with `uvicorn app.main:create_app --factory`."""

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import timedelta

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response
from starlette.routing import Route
from starlette.websockets import WebSocket
from strawberry.asgi import GraphQL
from strawberry.http.ides import get_graphql_ide_html

from app import store
from app.auth import RequireApiKey
from app.context import Context, build_context
from app.schema import schema
from app.settings import Settings
from app.store import Database

# A thread whose creation has not finished after this long was abandoned by a crash.
ABANDONED_CREATE = timedelta(minutes=10)


class GraphQLApp(GraphQL[Context, None]):
    async def get_context(
        self, request: Request | WebSocket, response: Response | WebSocket
    ) -> Context:
        database: Database = request.app.state.database
        return build_context(database, request.scope["state"]["caller"])


def create_app(settings: Settings | None = None, *, database: Database | None = None) -> Starlette:
    settings = settings or Settings()
    development = settings.app_env == "development"

    @asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        db = (
            database
            if database is not None
            else store.open_database(
                settings.mongodb_uri,
                settings.mongodb_database,
                timeout_ms=settings.mongodb_timeout_ms,
            )
        )
        try:
            await store.ensure_indexes(db)
            await store.finish_interrupted_writes(db, creating_older_than=ABANDONED_CREATE)
            app.state.database = db
            yield
        finally:
            if database is None:
                store.close_database(db)

    async def home(request: Request) -> Response:
        return RedirectResponse("/graphql")

    graphql = GraphQLApp(schema, graphql_ide=None)
    page = get_graphql_ide_html("graphiql") if development else None
    return Starlette(
        routes=[
            Route("/", home),
            Route("/graphql", RequireApiKey(graphql, page=page), methods=["GET", "POST"]),
        ],
        lifespan=lifespan,
    )
