"""The Starlette app. Run with `uvicorn app.main:create_app --factory`."""

import asyncio
import contextlib
import gc
import logging
from collections.abc import AsyncIterator, Awaitable, Callable
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
from app.http.sockets import SocketGuard
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
        hub = EventHub(
            queue_size=settings.subscriber_queue_size,
            queue_bytes=settings.subscriber_queue_bytes,
            max_per_key=settings.max_subscriptions_per_key,
            max_per_connection=settings.max_subscriptions_per_connection,
        )
        app.state.runtime = Runtime(
            db,
            publish=hub.published,
            publish_inbox=hub.published_inbox,
            lease=settings.create_lease,
            api_keys=KeyCache(seconds=settings.api_key_cache_seconds),
        )
        app.state.hub = hub
        app.state.started = asyncio.Event()
        # The API serves (and /readyz says 503) while the database is down at start-up.
        starting = asyncio.create_task(
            start_up(app.state.runtime, hub, settings, app.state.started)
        )
        # With the database up, serve once started (what tests and deploys expect); down, at once.
        if await answers(db, settings.readiness_timeout_seconds):
            with contextlib.suppress(TimeoutError):
                async with asyncio.timeout(settings.mongodb_timeout_ms / 1000 + 5):
                    await app.state.started.wait()
        if settings.gc_freeze:
            tune_garbage_collector(settings.gc_young_threshold)
        try:
            yield
        finally:
            starting.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await starting
            if database is None:
                store.close_database(db)

    async def home(request: Request) -> Response:
        return RedirectResponse("/graphql")

    async def healthz(request: Request) -> Response:
        return JSONResponse({"status": "ok"})

    async def readyz(request: Request) -> Response:
        if not request.app.state.started.is_set():
            return JSONResponse({"database": "starting"}, 503)
        ready = await answers(request.app.state.runtime.db, settings.readiness_timeout_seconds)
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
                max_in_flight=settings.max_requests_in_flight,
            ),
            Middleware(SocketGuard, max_message_bytes=settings.max_body_bytes),
        ],
        lifespan=lifespan,
    )


def tune_garbage_collector(young_threshold: int) -> None:
    gc.collect()
    gc.freeze()
    _, *older = gc.get_threshold()
    gc.set_threshold(young_threshold, *older)


async def answers(db: store.Database, seconds: float) -> bool:
    """Whether the database answers a ping within `seconds`."""
    try:
        async with asyncio.timeout(seconds):
            return await store.ping(db)
    except TimeoutError:
        return False


# Start-up waits between attempts while the database does not answer: 0.5 s, doubling to 10 s.
RETRY_FIRST_SECONDS, RETRY_MOST_SECONDS = 0.5, 10.0


async def start_up(
    runtime: Runtime, hub: EventHub, settings: Settings, started: asyncio.Event
) -> None:
    """Indexes, migrations and the sweep of interrupted writes, the event hub's watchers, the
    trash purge and the events a crash lost, each retried until the database answers; then
    `started` is set (/readyz reads it) and the periodic purge and sweeps run."""
    db = runtime.db
    retention = timedelta(days=settings.trash_retention_days)

    async def prepare() -> None:
        await store.ensure_indexes(db)
        await store.migrate(db, now=domain.now())
        await store.finish_interrupted_writes(db, creating_older_than=runtime.lease)

    async def purge() -> None:
        await trash.purge(runtime, deleted_before=runtime.clock() - retention)

    async def record_lost() -> None:  # no write of this instance is running yet
        since = runtime.clock() - store.EVENT_TTL
        await recovery.record_lost_events(runtime, since=since, grace=timedelta(0))

    await retried(prepare)
    ready = asyncio.Event()
    async with asyncio.TaskGroup() as tasks:
        tasks.create_task(hub.run(db, ready.set))
        await ready.wait()
        await retried(purge)
        await retried(record_lost)
        every = timedelta(seconds=settings.trash_purge_interval_seconds)
        tasks.create_task(trash.keep_purging(runtime, retention=retention, every=every))
        sweeps = timedelta(seconds=settings.recovery_interval_seconds)
        tasks.create_task(recovery.keep_recording_lost_events(runtime, every=sweeps))
        sweeps = timedelta(seconds=settings.interrupted_writes_interval_seconds)
        tasks.create_task(threads.keep_finishing(runtime, every=sweeps))
        started.set()


async def retried(step: Callable[[], Awaitable[None]]) -> None:
    """Runs `step` until it succeeds, waiting longer after each failure; an unavailable database
    is logged in one line, anything else with its traceback."""
    delay = RETRY_FIRST_SECONDS
    while True:
        try:
            await step()
            return
        except Exception as error:
            if store.is_unavailable(error):
                log.warning("Start-up: the database is unavailable; retrying in %.1f s.", delay)
            else:
                log.exception("Start-up failed; retrying in %.1f s.", delay)
        await asyncio.sleep(delay)
        delay = min(delay * 2, RETRY_MOST_SECONDS)
