"""The per-request context: the database, the caller and the request's DataLoaders."""

from dataclasses import dataclass, fields
from typing import Any

import strawberry
from starlette.responses import Response
from strawberry.dataloader import DataLoader

from app import store
from app.auth import Caller
from app.pagination import Page
from app.realtime import EventHub
from app.store import Database, Listing, MessageDoc, MessagePageQuery, ThreadDoc


@dataclass
class Context:
    db: Database
    organization_id: str
    user_id: str
    key_id: str
    threads: DataLoader[str, ThreadDoc | None]
    messages: DataLoader[str, MessageDoc | None]
    message_pages: DataLoader[MessagePageQuery, Page[Any]]  # batched, not cached
    counts: DataLoader[Listing, int]
    # The HTTP response being prepared, whose status an outage sets (None outside HTTP).
    response: Response | None = None
    hub: EventHub | None = None
    # A WebSocket connection's: authenticated in connection_init, counting its subscriptions.
    connection_params: dict[str, object] | None = None
    authenticated: bool = True
    subscriptions: int = 0

    def changed(self, thread_id: str, thread: ThreadDoc | None) -> None:
        """Update what this request has cached about a thread it has just written to."""
        self.threads.prime(thread_id, thread, force=True)
        self.counts.clear_all()


Info = strawberry.Info[Context, None]


def build_context(
    db: Database, caller: Caller, response: Response | None = None, hub: EventHub | None = None
) -> Context:
    organization_id = caller.organization_id

    async def load_threads(ids: list[str]) -> list[ThreadDoc | None]:
        found = await store.get_threads(db, organization_id=organization_id, ids=ids)
        return [found.get(thread_id) for thread_id in ids]

    async def load_messages(ids: list[str]) -> list[MessageDoc | None]:
        found = await store.get_messages(db, organization_id=organization_id, ids=ids)
        return [found.get(message_id) for message_id in ids]

    async def load_message_pages(queries: list[MessagePageQuery]) -> list[Page[Any]]:
        return await store.fetch_message_pages(db, queries)

    async def load_counts(listings: list[Listing]) -> list[int]:
        return await store.count_all(db, listings)

    return Context(
        db=db,
        organization_id=organization_id,
        user_id=caller.user_id,
        key_id=caller.key_id,
        threads=DataLoader(load_fn=load_threads),
        messages=DataLoader(load_fn=load_messages),
        message_pages=DataLoader(load_fn=load_message_pages, cache=False),
        counts=DataLoader(load_fn=load_counts, cache_key_fn=lambda listing: listing.key),
        response=response,
        hub=hub,
    )


def bind(context: Context, caller: Caller) -> None:
    """Bind a WebSocket connection's context (made before connection_init named the caller) to
    the caller, keeping the connection's own state."""
    bound = build_context(context.db, caller, context.response, context.hub)
    for field in fields(Context):
        if field.name not in ("connection_params", "subscriptions"):
            setattr(context, field.name, getattr(bound, field.name))
