"""The per-request context: the runtime, the caller and the request's DataLoaders (renewed for
each event a subscription delivers)."""

from dataclasses import dataclass, field

import strawberry
from starlette.responses import Response
from strawberry.dataloader import DataLoader

from app import store
from app.domain import Caller, Message, MessageQuery, Thread, ThreadQuery
from app.errors import Unauthenticated
from app.pagination import Page
from app.realtime import EventHub
from app.revisions import MessageRevision
from app.services.runtime import Runtime
from app.store import MessagePageQuery, RevisionNumbers


@dataclass
class Loaders:
    """Batched reads for one caller: each batch is one database command."""

    threads: DataLoader[str, Thread | None]
    messages: DataLoader[str, Message | None]
    message_pages: DataLoader[MessagePageQuery, Page[Message]]  # batched, not cached
    # A thread's newest message, by (thread id, its last message number as read).
    last_messages: DataLoader[tuple[str, int], Message | None]
    counts: DataLoader[ThreadQuery | MessageQuery, int]
    # The organization's thread counts, with those of the metadata terms a filter names (its
    # counter documents): read once for the request's thread lists and their totalCount.
    tallies: DataLoader[store.TallyKey, store.Tally]
    # Revisions by message and number: a version's content never changes, so cached.
    revisions: DataLoader[RevisionNumbers, list[MessageRevision]]

    @classmethod
    def of(cls, runtime: Runtime, organization_id: str) -> "Loaders":
        db = runtime.db

        async def load_threads(ids: list[str]) -> list[Thread | None]:
            found = await store.get_threads(db, organization_id=organization_id, ids=ids)
            return [found.get(thread_id) for thread_id in ids]

        async def load_messages(ids: list[str]) -> list[Message | None]:
            found = await store.get_messages(db, organization_id=organization_id, ids=ids)
            return [found.get(message_id) for message_id in ids]

        async def load_message_pages(queries: list[MessagePageQuery]) -> list[Page[Message]]:
            return await store.fetch_message_pages(db, queries)

        async def load_last_messages(threads: list[tuple[str, int]]) -> list[Message | None]:
            return await store.last_messages(db, organization_id=organization_id, threads=threads)

        async def load_tallies(keys: list[store.TallyKey]) -> list[store.Tally]:
            at = runtime.clock()
            return [
                await store.thread_tally(db, organization_id=organization, now=at, terms=terms)
                for organization, terms in keys
            ]

        tallies: DataLoader[store.TallyKey, store.Tally] = DataLoader(load_fn=load_tallies)

        async def load_counts(queries: list[ThreadQuery | MessageQuery]) -> list[int]:
            keys = {store.tally_key(q) for q in queries if isinstance(q, ThreadQuery)}
            read = {key: await tallies.load(key) for key in keys}
            return await store.count_all(db, queries, tallies=read)

        async def load_revisions(wanted: list[RevisionNumbers]) -> list[list[MessageRevision]]:
            return await store.get_revisions(db, organization_id=organization_id, wanted=wanted)

        return cls(
            threads=DataLoader(load_fn=load_threads),
            messages=DataLoader(load_fn=load_messages),
            message_pages=DataLoader(load_fn=load_message_pages, cache=False),
            last_messages=DataLoader(load_fn=load_last_messages, cache=False),
            counts=DataLoader(load_fn=load_counts),
            tallies=tallies,
            revisions=DataLoader(load_fn=load_revisions),
        )


@dataclass
class Context:
    runtime: Runtime
    # None on a WebSocket until its connection_init names the caller (`sign_in`).
    caller: Caller | None = None
    # The HTTP response being prepared, whose status an outage sets (None outside HTTP).
    response: Response | None = None
    hub: EventHub | None = None
    # A WebSocket connection's: its connection_init payload, and its subscriptions.
    connection_params: dict[str, object] | None = None
    subscriptions: int = 0
    _loaders: Loaders | None = field(default=None, repr=False)

    def __post_init__(self) -> None:
        if self.caller is not None:
            self.sign_in(self.caller)

    def sign_in(self, caller: Caller) -> None:
        self.caller = caller
        self.renew_loaders()

    def renew_loaders(self) -> None:
        """Forget what was read: a subscription's context outlives its events, each of which must
        show what is current when it is delivered."""
        if self.caller is not None:
            self._loaders = Loaders.of(self.runtime, self.caller.organization_id)

    @property
    def signed_in(self) -> Caller:
        if self.caller is None:
            raise Unauthenticated("Send your API key in connection_init.")
        return self.caller

    @property
    def loaders(self) -> Loaders:
        if self._loaders is None:
            raise Unauthenticated("Send your API key in connection_init.")
        return self._loaders

    def thread_changed(self, thread_id: str, thread: Thread | None) -> None:
        """Update what this request has cached about a thread it has just written to."""
        self.loaders.threads.prime(thread_id, thread, force=True)
        self.loaders.counts.clear_all()

    def message_changed(self, message_id: str, message: Message | None) -> None:
        self.loaders.messages.prime(message_id, message, force=True)
        self.loaders.counts.clear_all()


Info = strawberry.Info[Context, None]
