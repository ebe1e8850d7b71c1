"""The Starlette app. Run with `uvicorn app.main:create_app --factory`."""

import asyncio
import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import timedelta

from starlette.applications import Starlette
from starlette.middleware import Middleware
from starlette.middleware.cors import CORSMiddleware
from starlette.middleware.gzip import GZipMiddleware
from starlette.requests import Request
from starlette.responses import JSONResponse, RedirectResponse, Response
from starlette.routing import Route, WebSocketRoute
from strawberry.subscriptions import GRAPHQL_TRANSPORT_WS_PROTOCOL

from app import domain, store
from app.graphql.schema import make_schema
from app.http import browsers, graphiql
from app.http.auth import RequireApiKey
from app.http.endpoint import GraphQLEndpoint
from app.http.middleware import RequestGuard, count_command, log
from app.http.persisted import PersistedQueries
from app.realtime import EventHub
from app.services import recovery, threads, trash
from app.services.api_keys import KeyCache
from app.services.runtime import Runtime
from app.settings import Settings


def create_app(
    settings: Settings | None = None, *, database: store.Database | None = None
) -> Starlette:
    """The app; on `database` (which it then neither opens nor closes) when given."""
    settings = settings or Settings()
    development = not settings.production
    if not log.handlers:
        log.addHandler(logging.StreamHandler())
        log.setLevel(logging.INFO)

    @asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        db = (
            database
            if database is not None
            else store.open_database(
                settings.database_uri,
                settings.mongodb_database,
                timeout_ms=settings.mongodb_timeout_ms,
                listeners=[store.CommandCounter(count_command)],
            )
        )
        try:
            await store.ensure_indexes(db)
            await store.migrate(db, now=domain.now())
            lease = settings.create_lease
            await store.finish_interrupted_writes(db, creating_older_than=lease)
            hub = EventHub(
                queue_size=settings.subscriber_queue_size,
                max_per_key=settings.max_subscriptions_per_key,
                max_per_connection=settings.max_subscriptions_per_connection,
            )
            ready = asyncio.Event()
            watcher = asyncio.create_task(hub.run(db, ready.set))
            await asyncio.wait_for(ready.wait(), timeout=settings.mongodb_timeout_ms / 1000 + 5)
            runtime = Runtime(
                db,
                publish=hub.published,
                publish_inbox=hub.published_inbox,
                lease=lease,
                api_keys=KeyCache(seconds=settings.api_key_cache_seconds),
            )
            retention = timedelta(days=settings.trash_retention_days)
            await trash.purge(runtime, deleted_before=runtime.clock() - retention)
            # After a crash: the events it lost (no write of this instance is running yet).
            lost = runtime.clock() - store.EVENT_TTL
            await recovery.record_lost_events(runtime, since=lost, grace=timedelta(0))
            recording = asyncio.create_task(
                recovery.keep_recording_lost_events(
                    runtime, every=timedelta(seconds=settings.recovery_interval_seconds)
                )
            )
            every = timedelta(seconds=settings.trash_purge_interval_seconds)
            purging = asyncio.create_task(
                trash.keep_purging(runtime, retention=retention, every=every)
            )
            interval = timedelta(seconds=settings.interrupted_writes_interval_seconds)
            sweeping = asyncio.create_task(threads.keep_finishing(runtime, every=interval))
            app.state.runtime = runtime
            app.state.hub = hub
            yield
            watcher.cancel()
            purging.cancel()
            recording.cancel()
            sweeping.cancel()
        finally:
            if database is None:
                store.close_database(db)

    async def home(request: Request) -> Response:
        return RedirectResponse("/graphql")

    async def healthz(request: Request) -> Response:
        return JSONResponse({"status": "ok"})

    async def readyz(request: Request) -> Response:
        ready = await store.ping(request.app.state.runtime.db)
        return JSONResponse({"database": "ok" if ready else "unavailable"}, 200 if ready else 503)

    endpoint = GraphQLEndpoint(
        make_schema(settings),
        max_query_tokens=settings.max_query_tokens,
        graphql_ide=None,
        subscription_protocols=(GRAPHQL_TRANSPORT_WS_PROTOCOL,),
    )
    # Persisted queries and trusted documents (app/http/persisted.py), behind the key gate.
    persisted = PersistedQueries(endpoint, settings)
    page = graphiql.GraphiQLPage(key_file=settings.local_key_file) if development else None
    return Starlette(
        routes=[
            Route("/", home),
            Route("/healthz", healthz),
            Route("/readyz", readyz),
            # Every method: the endpoint answers the ones it does not take with a coded 405.
            Route("/graphql", RequireApiKey(persisted, page=page)),
            WebSocketRoute("/graphql", persisted),
            *(graphiql.routes() if development else []),
        ],
        # Outermost first. CORS answers preflights before the key gate and adds its headers to
        # every answer from below, errors included (app/http/browsers.py).
        middleware=[
            Middleware(CORSMiddleware, **browsers.cors_options(settings)),
            Middleware(GZipMiddleware, minimum_size=browsers.GZIP_MINIMUM_BYTES),
            Middleware(browsers.NoStore, path="/graphql"),
            Middleware(
                RequestGuard,
                max_body_bytes=settings.max_body_bytes,
                deadline_seconds=settings.request_deadline_seconds,
            ),
        ],
        lifespan=lifespan,
    )
