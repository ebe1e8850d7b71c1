"""Live events, over graphql-transport-ws."""

from collections.abc import AsyncGenerator, Iterator
from contextlib import contextmanager
from typing import Annotated

import strawberry

from app import realtime, validation
from app.domain import Caller
from app.errors import Forbidden, NotFound, Unauthenticated
from app.graphql.context import Context, Info
from app.graphql.events import ThreadEvent, event_from_domain
from app.graphql.inbox import InboxEvent, inbox_event_from_domain
from app.graphql.queries import ThreadIdArgument
from app.pagination import EVENT_ORDER, INBOX_ORDER, decode_cursor
from app.realtime import EventHub


def _signed_in(info: Info) -> tuple[Context, Caller, EventHub]:
    context = info.context
    if context.caller is None or context.hub is None:
        raise Unauthenticated("Send your API key in connection_init.")
    return context, context.caller, context.hub


@contextmanager
def _counted(context: Context, hub: EventHub) -> Iterator[None]:
    """Count a subscription against its connection's limit while it runs."""
    most = hub.max_per_connection
    if context.subscriptions >= most:
        raise Forbidden(f"A connection may hold at most {most} subscriptions.")
    context.subscriptions += 1
    try:
        yield
    finally:
        context.subscriptions -= 1


@strawberry.type(description="Live events, over graphql-transport-ws.")
class Subscription:
    @strawberry.subscription(
        description="The thread's events as they happen; with `after` (an event's cursor) first"
        " the ones since then, so a client that reconnects loses nothing. Ends after"
        " ThreadDeleted."
    )
    async def thread_events(
        self,
        info: Info,
        thread_id: ThreadIdArgument,
        after: Annotated[
            str | None, strawberry.argument(description="Replay the events after this cursor.")
        ] = None,
    ) -> AsyncGenerator[ThreadEvent, None]:
        context, caller, hub = _signed_in(info)
        checked = validation.thread_id(thread_id, field="threadId")
        start = None if after is None else decode_cursor(after, EVENT_ORDER, field="after")[0]
        if await context.loaders.threads.load(checked) is None:
            raise NotFound(f"Thread {checked} not found.")
        with _counted(context, hub):
            events = realtime.thread_events(
                context.runtime.db,
                hub,
                organization_id=caller.organization_id,
                thread_id=checked,
                key_id=caller.key_id,
                after=start if isinstance(start, int) else None,
            )
            async for event in events:
                context.renew_loaders()  # its nested fields read as of this event
                yield event_from_domain(event)

    @strawberry.subscription(
        description="The live inbox: what happens to your organization's threads (with `mine`,"
        " only the threads you created) as it happens; with `after` (an event's cursor, or"
        " Query.inboxCursor) first the ones since then, so a client that reconnects or has just"
        " loaded the threads loses nothing and gets nothing twice."
    )
    async def inbox_events(
        self,
        info: Info,
        after: Annotated[
            str | None,
            strawberry.argument(description="Replay the inbox events after this cursor."),
        ] = None,
        mine: Annotated[
            bool, strawberry.argument(description="Only the threads you created.")
        ] = False,
    ) -> AsyncGenerator[InboxEvent, None]:
        context, caller, hub = _signed_in(info)
        start = None if after is None else decode_cursor(after, INBOX_ORDER, field="after")[0]
        with _counted(context, hub):
            events = realtime.inbox_events(
                context.runtime.db,
                hub,
                organization_id=caller.organization_id,
                key_id=caller.key_id,
                after=start if isinstance(start, int) else None,
                user_id=caller.user_id if mine else None,
            )
            async for event in events:
                context.renew_loaders()
                yield inbox_event_from_domain(event)
