"""Clients of the API: through `schema.execute` (most tests), and over HTTP in process."""

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from typing import Any

import httpx
from strawberry.types import ExecutionResult

from app import domain, store
from app.domain import Caller, Clock
from app.graphql.context import Context
from app.graphql.schema import schema
from app.main import create_app
from app.services.api_keys import LOCAL_ORGANIZATION, LOCAL_USER, issue_key
from app.services.runtime import Runtime
from app.settings import Settings


class GraphQLErrorResult(AssertionError):
    pass


@dataclass
class Api:
    """Runs operations through `schema.execute`, as one organization and user."""

    db: store.Database
    organization_id: str = LOCAL_ORGANIZATION
    user_id: str = LOCAL_USER
    clock: Clock = domain.now
    results: list[ExecutionResult] = field(default_factory=list)
    # What the API's one runtime keeps across requests: the documents it last wrote.
    images: store.Images = field(default_factory=store.Images)

    async def run(self, query: str, variables: dict[str, Any] | None = None) -> ExecutionResult:
        caller = Caller(organization_id=self.organization_id, user_id=self.user_id, key_id="test")
        runtime = Runtime(self.db, clock=self.clock, images=self.images)
        context = Context(runtime=runtime, caller=caller)
        return await schema.execute(query, variable_values=variables, context_value=context)

    async def ok(self, query: str, variables: dict[str, Any] | None = None) -> dict[str, Any]:
        result = await self.run(query, variables)
        if result.errors:
            raise GraphQLErrorResult([e.formatted for e in result.errors])
        assert result.data is not None
        return result.data

    async def error(self, query: str, variables: dict[str, Any] | None = None) -> dict[str, Any]:
        """The one error the operation must produce, as a client sees it."""
        result = await self.run(query, variables)
        assert result.errors, f"expected an error, got {result.data}"
        assert len(result.errors) == 1, [e.formatted for e in result.errors]
        return dict(result.errors[0].formatted)


async def api_key(
    db: store.Database, organization_id: str = LOCAL_ORGANIZATION, user_id: str = LOCAL_USER
) -> str:
    return await issue_key(db, organization_id=organization_id, user_id=user_id, name="test")


@asynccontextmanager
async def app_client(
    db: store.Database, settings: Settings | None = None
) -> AsyncIterator[httpx.AsyncClient]:
    """An HTTP client on the ASGI app, its lifespan running, on the test database."""
    app = create_app(settings or Settings(app_env="development"), database=db)
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://test") as client:
            yield client
