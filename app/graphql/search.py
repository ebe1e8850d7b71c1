"""Full-text search of messages: `Query.search`, its filter, hits and connection."""

from datetime import datetime

import strawberry

from app import domain, store, validation
from app.graphql.connections import Edge, PageInfo, paged
from app.graphql.context import Info
from app.graphql.enums import MessageRole
from app.graphql.scalars import Metadata
from app.graphql.types import Message, Thread
from app.pagination import Key, Ordering, Page, page_request
from app.search_terms import MessageSearch, SearchTerms, highlights

SEARCH_ORDER = Ordering(kind="search", types=(datetime, str))
# Pages whose hits all lie in hidden threads (the trash, being created) are skipped, up to
# this many scans per page.
MAX_SCANS = 3


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
    db = info.context.runtime.db
    hits: list[tuple[Found, Key]] = []
    more = False
    scanned = await store.rarest_term(db, wanted)  # None: some term is in no message's text
    # Title hits (the thread's first message) unless the filter is about the messages.
    by_title = not wanted.metadata and wanted.role is None
    title_scan = terms.scannable[0]
    cursor = request.after
    for _ in range(MAX_SCANS if scanned or by_title else 0):
        limit = request.size + 1
        rows: list[tuple[domain.Message, Key]] = []
        if scanned:
            rows += await store.search_messages(
                db, wanted, limit=limit, after=cursor, scanned=scanned
            )
        if by_title:
            rows += await store.search_titles(
                db, wanted, limit=limit, after=cursor, scanned=scanned or title_scan
            )
        rows = _newest(rows)[:limit]
        threads = await info.context.loaders.threads.load_many([m.thread_id for m, _ in rows])
        hits += [((m, t), key) for (m, key), t in zip(rows, threads, strict=True) if t]
        more = len(rows) > request.size
        if len(hits) > request.size or not more:
            break
        cursor = rows[-1][1]
    page: Page[Found] = Page(
        items=[found for found, _ in hits[: request.size]],
        keys=[key for _, key in hits[: request.size]],
        has_next=more or len(hits) > request.size,
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
