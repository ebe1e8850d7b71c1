"""The app over real HTTP on a loopback port, for clients that need a server (a browser, the
generated Python client): uvicorn runs in the test's event loop, on the test's database."""

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import uvicorn
from starlette.types import ASGIApp

from app.main import create_app
from app.settings import Settings
from app.store import Database
from scripts.embedded import free_port


@asynccontextmanager
async def live_server(db: Database, settings: Settings | None = None) -> AsyncIterator[str]:
    """The base URL of the app (in development unless `settings` say otherwise), serving until
    the block ends."""
    app = create_app(settings or Settings(app_env="development"), database=db)
    async with served(app) as base:
        yield base


@asynccontextmanager
async def served(app: ASGIApp) -> AsyncIterator[str]:
    """The base URL of any ASGI app, served by uvicorn on a free loopback port."""
    config = uvicorn.Config(app, host="127.0.0.1", port=free_port(), log_level="warning")
    server = uvicorn.Server(config)
    serving = asyncio.create_task(server.serve())
    while not server.started:
        if serving.done():
            serving.result()
            raise RuntimeError("uvicorn stopped before it started")
        await asyncio.sleep(0.01)
    try:
        yield f"http://127.0.0.1:{config.port}"
    finally:
        server.should_exit = True
        await serving
