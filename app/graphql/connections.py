"""Relay cursor connections: paging arguments, PageInfo, edges, and the page a query asks for."""

from collections.abc import Awaitable, Callable
from typing import Annotated, Any, Generic, TypeVar, cast

import strawberry
from graphql import FieldNode, FragmentDefinitionNode, FragmentSpreadNode, InlineFragmentNode
from strawberry import Private

from app import store
from app.domain import MessageQuery, ThreadQuery
from app.graphql.context import Info
from app.graphql.enums import SortOrder
from app.pagination import (
    DEFAULT_PAGE_SIZE,
    MAX_PAGE_SIZE,
    AtLeast,
    Ordering,
    Page,
    PageRequest,
    encode_cursor,
    page_request,
)

Query = ThreadQuery | MessageQuery
NodeT = TypeVar("NodeT")

# Paging arguments, shared by every connection field.
First = Annotated[
    int | None,
    strawberry.argument(
        description=f"Page size from the start (1-{MAX_PAGE_SIZE}; default {DEFAULT_PAGE_SIZE})."
    ),
]
After = Annotated[str | None, strawberry.argument(description="Return items after this cursor.")]
Last = Annotated[
    int | None, strawberry.argument(description=f"Page size from the end (1-{MAX_PAGE_SIZE}).")
]
Before = Annotated[str | None, strawberry.argument(description="Return items before this cursor.")]
Limit = Annotated[
    int | None, strawberry.argument(description="Synonym of `first`, as in the REST APIs.")
]
Order = Annotated[
    SortOrder,
    strawberry.argument(description="The direction of the list's order; newest first by default."),
]


@strawberry.type(description="Where a page sits in its list (Relay cursor connections).")
class PageInfo:
    start_cursor: str | None = strawberry.field(description="Cursor of the page's first item.")
    end_cursor: str | None = strawberry.field(description="Cursor of the page's last item.")
    page: Private[Page[Any]]
    query: Private[Query | None]  # None for a page that knows both answers
    request: Private[PageRequest]

    def _known_or_probe(self, info: Info, known: bool | None, *, previous: bool) -> bool:
        """The page's answer; only when it has none, a coroutine probing the list (which the
        executor awaits): an async resolver would cost a task for an answer already known."""
        if known is not None:
            return known
        assert self.query is not None, "a page without a query knows both answers"
        db = info.context.runtime.db
        probe = store.exists_outside(db, self.query, self.request, previous=previous)
        return cast(bool, probe)

    @strawberry.field(description="Whether items follow this page in the list's order.")
    def has_next_page(self, info: Info) -> bool:
        return self._known_or_probe(info, self.page.has_next, previous=False)

    @strawberry.field(description="Whether items precede this page in the list's order.")
    def has_previous_page(self, info: Info) -> bool:
        return self._known_or_probe(info, self.page.has_previous, previous=True)


@strawberry.type(description="An item of a page, with the cursor to page from it.")
class Edge(Generic[NodeT]):
    cursor: str = strawberry.field(description="Opaque cursor of this item.")
    node: NodeT = strawberry.field(description="The item.")


@strawberry.type(description="A page of a list: edges with cursors, or just the nodes.")
class Connection(Generic[NodeT]):
    edges: list[Edge[NodeT]] = strawberry.field(description="The page's items with cursors.")
    nodes: list[NodeT] = strawberry.field(description="The page's items.")
    page_info: PageInfo = strawberry.field(description="Where this page sits in the list.")
    query: Private[Query]

    @strawberry.field(
        description="How many items the whole filtered list holds; for threads filtered by"
        " other than state, the trash and one metadata pair, counted up to"
        f" {store.COUNT_LIMIT:,} (see totalCountIsExact)."
    )
    async def total_count(self, info: Info) -> int:
        return int(await info.context.loaders.counts.load(self.query))

    @strawberry.field(
        description="False when totalCount is only a lower bound: the list holds more than"
        f" {store.COUNT_LIMIT:,} threads (or more than could be counted within that many)."
    )
    async def total_count_is_exact(self, info: Info) -> bool:
        return not isinstance(await info.context.loaders.counts.load(self.query), AtLeast)


async def connection(
    info: Info,
    query: Query,
    ordering: Ordering,
    to_node: Callable[[Any], NodeT],
    *,
    first: int | None,
    after: str | None,
    last: int | None,
    before: str | None,
    limit: int | None,
    order: SortOrder,
    fetch: Callable[[PageRequest], Awaitable[Page[Any]]] | None = None,
) -> Connection[NodeT]:
    """The page the paging arguments ask for: by `fetch`, or a query of its own."""
    fields = selected(info)
    request = page_request(
        ordering,
        first=first,
        after=after,
        last=last,
        before=before,
        limit=limit,
        descending=order is SortOrder.DESC,
        probe="pageInfo" in fields,
    )
    if fetch is None:
        runtime = info.context.runtime
        tally = None
        if isinstance(query, ThreadQuery):
            tally = await info.context.loaders.tallies.load(store.tally_key(query))
        page: Page[Any] = await store.fetch_page(
            runtime.db, query, request, now=runtime.clock(), tally=tally
        )
    else:
        page = await fetch(request)
    edges, nodes, page_info = paged(
        page, ordering, to_node, query=query, request=request, with_edges="edges" in fields
    )
    return Connection(edges=edges, nodes=nodes, page_info=page_info, query=query)


def selected(info: Info) -> frozenset[str]:
    """The names of the fields selected on the connection, under any alias, fragment or
    directive: its page reads the item past it (whether more follow) only for `pageInfo`, and
    builds edges (a cursor each) only for `edges`."""
    raw = info._raw_info
    selections = [
        s for node in raw.field_nodes if node.selection_set for s in node.selection_set.selections
    ]
    names: set[str] = set()
    seen: set[str] = set()
    while selections:
        selection = selections.pop()
        if isinstance(selection, FieldNode):
            names.add(selection.name.value)
            continue
        fragment: FragmentDefinitionNode | InlineFragmentNode
        if isinstance(selection, FragmentSpreadNode):
            name = selection.name.value
            if name in seen or name not in raw.fragments:
                continue
            seen.add(name)
            fragment = raw.fragments[name]
        else:
            assert isinstance(selection, InlineFragmentNode)
            fragment = selection
        selections.extend(fragment.selection_set.selections)
    return frozenset(names)


def paged(
    page: Page[Any],
    ordering: Ordering,
    to_node: Callable[[Any], NodeT],
    *,
    query: Query | None,
    request: PageRequest,
    with_edges: bool = True,
) -> tuple[list[Edge[NodeT]], list[NodeT], PageInfo]:
    """A page's edges, nodes and PageInfo: what every connection is made of. Without
    `with_edges` (edges not selected) the edges are left empty, and no cursor but the page's
    first and last is encoded."""
    nodes = [to_node(item) for item in page.items]
    keys = page.keys if with_edges else page.keys[:1] + page.keys[-1:]
    cursors = [encode_cursor(ordering, key) for key in keys]
    pairs = zip(cursors, nodes, strict=True) if with_edges else ()
    edges = [Edge(cursor=c, node=n) for c, n in pairs]
    info = PageInfo(
        start_cursor=cursors[0] if cursors else None,
        end_cursor=cursors[-1] if cursors else None,
        page=page,
        query=query,
        request=request,
    )
    return edges, nodes, info
