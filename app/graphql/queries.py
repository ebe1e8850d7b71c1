"""Reads."""

import asyncio
from typing import Annotated

import strawberry

from app import domain, store, validation
from app.graphql.connections import After, Before, Connection, First, Last, Limit, Order, connection
from app.graphql.context import Info
from app.graphql.enums import SortOrder, ThreadOrderBy
from app.graphql.inbox import inbox_cursor
from app.graphql.inputs import ThreadFilter
from app.graphql.search import SearchConnection, SearchFilter, search
from app.graphql.types import Message, Node, Thread
from app.pagination import THREAD_ACTIVITY_ORDER, THREAD_ORDER

ThreadIdArgument = Annotated[strawberry.ID, strawberry.argument(description="A thread id.")]
MessageIdArgument = Annotated[strawberry.ID, strawberry.argument(description="A message id.")]
NodeIdArgument = Annotated[
    strawberry.ID, strawberry.argument(description="A thread or message id.")
]


async def _thread(info: Info, thread_id: str) -> Thread | None:
    thread = await info.context.loaders.threads.load(thread_id)
    return None if thread is None else Thread.from_domain(thread)


async def _message(info: Info, message_id: str) -> Message | None:
    """The message, if its thread is visible."""
    message = await info.context.loaders.messages.load(message_id)
    if message is None or await info.context.loaders.threads.load(message.thread_id) is None:
        return None
    return Message.from_domain(message)


async def _node(info: Info, node_id: str) -> Node | None:
    if node_id.startswith(domain.MESSAGE_PREFIX):
        return await _message(info, node_id)
    return await _thread(info, node_id)


@strawberry.type(description="Reads.")
class Query:
    @strawberry.field(description="A thread by id; null if there is none.")
    async def thread(self, info: Info, id: ThreadIdArgument) -> Thread | None:
        return await _thread(info, validation.thread_id(id, field="id"))

    @strawberry.field(description="A message by id; null if there is none.")
    async def message(self, info: Info, id: MessageIdArgument) -> Message | None:
        return await _message(info, validation.message_id(id, field="id"))

    @strawberry.field(description="A thread or message by id; null if there is none.")
    async def node(self, info: Info, id: NodeIdArgument) -> Node | None:
        return await _node(info, validation.node_id(id, field="id"))

    @strawberry.field(
        description=f"Threads or messages by id (at most {validation.MAX_NODE_IDS}),"
        " null where none."
    )
    async def nodes(
        self,
        info: Info,
        ids: Annotated[
            list[strawberry.ID],
            strawberry.argument(description=f"Up to {validation.MAX_NODE_IDS} ids."),
        ],
    ) -> list[Node | None]:
        validation.count(ids, field="ids", max_items=validation.MAX_NODE_IDS)
        checked = [validation.node_id(i, field=f"ids.{n}") for n, i in enumerate(ids)]
        return list(await asyncio.gather(*(_node(info, node_id) for node_id in checked)))

    @strawberry.field(
        description="The cursor of your organization's latest inbox event as of this read:"
        " inboxEvents(after: inboxCursor) delivers every change after it, so reading it, then"
        " loading `threads`, then subscribing loses nothing."
    )
    async def inbox_cursor(self, info: Info) -> str:
        organization_id = info.context.signed_in.organization_id
        return inbox_cursor(
            await store.latest_inbox_event(info.context.runtime.db, organization_id=organization_id)
        )

    @strawberry.field(
        description="Your threads, newest first unless `order: ASC`: by creation, or by last"
        " activity with `orderBy: UPDATED_AT` (the inbox)."
    )
    async def threads(
        self,
        info: Info,
        first: First = None,
        after: After = None,
        last: Last = None,
        before: Before = None,
        limit: Limit = None,
        order: Order = SortOrder.DESC,
        filter: Annotated[
            ThreadFilter | None, strawberry.argument(description="Conditions on the threads.")
        ] = None,
        order_by: Annotated[
            ThreadOrderBy,
            strawberry.argument(description="Creation (the default) or last activity."),
        ] = ThreadOrderBy.CREATED_AT,
    ) -> Connection[Thread]:
        by = domain.ThreadOrder[order_by.name.removesuffix("_AT")]
        query = (filter or ThreadFilter()).to_query(
            organization_id=info.context.signed_in.organization_id, field="filter", order=by
        )
        return await connection(
            info,
            query,
            THREAD_ACTIVITY_ORDER if by is domain.ThreadOrder.UPDATED else THREAD_ORDER,
            Thread.from_domain,
            first=first,
            after=after,
            last=last,
            before=before,
            limit=limit,
            order=order,
        )

    @strawberry.field(
        description="Full-text search of your messages, newest first: every word of `query`"
        " must occur (whole words, any case and accents; the last word also as a prefix, for"
        " search as you type; CJK text by characters and pairs of characters). A thread whose"
        " title matches gives its first message. Messages in the trash or in hidden threads"
        " are never found."
    )
    async def search(
        self,
        info: Info,
        query: Annotated[
            str,
            strawberry.argument(
                description=f"Up to {validation.MAX_SEARCH_QUERY} characters and"
                f" {validation.MAX_SEARCH_TERMS} words; one of at least 2 characters."
            ),
        ],
        first: First = None,
        after: After = None,
        filter: Annotated[
            SearchFilter | None, strawberry.argument(description="Conditions on the messages.")
        ] = None,
    ) -> SearchConnection:
        return await search(info, query, first, after, filter)
