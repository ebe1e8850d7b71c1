"""Full-text search of messages: `Query.search`, its filter, hits and connection."""

import asyncio
from datetime import datetime, timedelta

import strawberry

from app import domain, store, validation, windows
from app.graphql.connections import Edge, PageInfo, paged
from app.graphql.context import Info
from app.graphql.enums import MessageRole
from app.graphql.scalars import Metadata
from app.graphql.types import Message, Thread
from app.pagination import Key, Ordering, Page, page_request
from app.search_terms import MessageSearch, SearchTerms, highlights

# A hit's key (createdAt, message id), and the time the page took to fill up to it (ms): the
# next page's first window is derived from it (app/windows.py).
SEARCH_ORDER = Ordering(kind="search", types=(datetime, str, int))
# Scans of a page: one per window, and two more to go on within a window whose hits lie in
# hidden threads (the trash, being created).
MAX_SCANS = windows.MAX_WINDOWS + 2
# Commands of a page, at most: a probe per term, and per scan the messages, the titles, the
# title hits' first messages and the hits' threads.
MAX_COMMANDS = validation.MAX_SEARCH_TERMS + 4 * MAX_SCANS


@strawberry.input(description="Conditions on the messages a search finds.")
class SearchFilter:
    thread_id: strawberry.ID | None = strawberry.field(
        default=None, description="Only this thread's messages."
    )
    role: MessageRole | None = strawberry.field(default=None, description="Only this role's.")
    metadata: Metadata | None = strawberry.field(
        default=None, description="Messages having every one of these pairs."
    )
    created_after: datetime | None = strawberry.field(
        default=None, description="Messages created at or after this instant."
    )
    created_before: datetime | None = strawberry.field(
        default=None, description="Messages created before this instant."
    )

    def to_search(self, *, organization_id: str, terms: SearchTerms, field: str) -> MessageSearch:
        metadata = self.metadata
        return MessageSearch(
            organization_id=organization_id,
            terms=terms,
            thread_id=None
            if self.thread_id is None
            else validation.thread_id(self.thread_id, field=f"{field}.threadId"),
            role=None if self.role is None else domain.Role[self.role.name],
            metadata=domain.pairs(
                None
                if metadata is None
                else validation.metadata(metadata, field=f"{field}.metadata")
            ),
            created_after=self.created_after,
            created_before=self.created_before,
        )


@strawberry.type(description="Where a matched term is in a message's `text`.")
class TextRange:
    start: int = strawberry.field(description="Offset of its first character (code points).")
    end: int = strawberry.field(description="Offset just past its last character.")


@strawberry.type(description="A message the search found, with its thread.")
class SearchHit:
    message: Message = strawberry.field(description="The message found.")
    thread: Thread = strawberry.field(description="The thread holding it.")
    highlights: list[TextRange] = strawberry.field(
        description="Where the query's terms occur in the message's `text`, in order."
    )


@strawberry.type(description="A page of search hits, newest message first.")
class SearchConnection:
    edges: list[Edge[SearchHit]] = strawberry.field(description="The page's hits with cursors.")
    nodes: list[SearchHit] = strawberry.field(description="The page's hits.")
    page_info: PageInfo = strawberry.field(description="Where this page sits in the results.")


Found = tuple[domain.Message, domain.Thread]


async def search(
    info: Info, query: str, first: int | None, after: str | None, filter: SearchFilter | None
) -> SearchConnection:
    terms = validation.search_query(query, field="query")
    organization_id = info.context.signed_in.organization_id
    wanted = (filter or SearchFilter()).to_search(
        organization_id=organization_id, terms=terms, field="filter"
    )
    request = page_request(
        SEARCH_ORDER, first=first, after=after, last=None, before=None, limit=None, descending=True
    )
    runtime = info.context.runtime
    resumed = request.after
    cursor = None if resumed is None else resumed[:2]
    high, span = _start(wanted, resumed)
    now = runtime.clock()
    plan = windows.windows(
        high=high, now=now, floor=wanted.created_after, first=windows.first_width(span)
    )
    scanned = await store.rarest_term(runtime.db, wanted, plan[0])
    # Title hits (the thread's first message) unless the filter is about the messages.
    by_title = not wanted.metadata and wanted.role is None
    hits: list[tuple[Found, Key]] = []
    more, place = True, 0
    for _ in range(MAX_SCANS):
        window, limit = plan[place], request.size + 1 - len(hits)
        scans = [
            store.search_messages(
                runtime.db, wanted, limit=limit, after=cursor, scanned=scanned, window=window
            )
        ]
        if by_title:
            scans.append(
                store.search_titles(
                    runtime.db, wanted, limit=limit, after=cursor, scanned=scanned, window=window
                )
            )
        rows = _newest([row for found in await asyncio.gather(*scans) for row in found])[:limit]
        if rows:
            threads = await info.context.loaders.threads.load_many([m.thread_id for m, _ in rows])
            hits += [((m, t), key) for (m, key), t in zip(rows, threads, strict=True) if t]
        if len(hits) > request.size:
            break
        if len(rows) == limit:  # the window may hold more: go on in it after the last row
            cursor = rows[-1][1]
        elif place + 1 < len(plan):
            place += 1
        else:
            more = False
            break
    anchor = windows.anchor(high, now)
    keys = [(*key, _span(anchor, key)) for _, key in hits[: request.size]]
    page: Page[Found] = Page(
        items=[found for found, _ in hits[: request.size]],
        keys=keys,
        has_next=more,
        has_previous=request.after is not None,
    )

    def to_hit(found: Found) -> SearchHit:
        message, thread = found
        return SearchHit(
            message=Message.from_domain(message),
            thread=Thread.from_domain(thread),
            highlights=[TextRange(start=s, end=e) for s, e in highlights(message.text, terms)],
        )

    edges, nodes, page_info = paged(page, SEARCH_ORDER, to_hit, query=None, request=request)
    return SearchConnection(edges=edges, nodes=nodes, page_info=page_info)


def _start(search: MessageSearch, resumed: Key | None) -> tuple[datetime | None, timedelta | None]:
    """Where a page's scan starts (exclusive; None: at the newest), and the time the previous
    page took to fill (None on a first page)."""
    high = search.created_before
    if resumed is None:
        return high, None
    at, _, span = resumed
    assert isinstance(at, datetime) and isinstance(span, int)
    bound = at + timedelta(milliseconds=1)  # the cursor's ties are in its millisecond
    return (bound if high is None else min(high, bound)), timedelta(milliseconds=span)


def _span(anchor: datetime, key: Key) -> int:
    """The time from where the page's scan started down to a hit, in milliseconds."""
    at = key[0]
    assert isinstance(at, datetime)
    return max((anchor - at) // timedelta(milliseconds=1), 0)


def _newest(rows: list[tuple[domain.Message, Key]]) -> list[tuple[domain.Message, Key]]:
    """Hits of both kinds, newest first, each message once (at its newest place)."""

    def order(row: tuple[domain.Message, Key]) -> tuple[datetime, str]:
        at, message_id = row[1]
        assert isinstance(at, datetime) and isinstance(message_id, str)
        return at, message_id

    seen: set[str] = set()
    newest = []
    for row in sorted(rows, key=order, reverse=True):
        if row[0].id not in seen:
            seen.add(row[0].id)
            newest.append(row)
    return newest
