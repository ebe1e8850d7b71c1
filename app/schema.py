"""The schema: queries and mutations wiring input rules, the store and the types together.

Export target: `app.schema:schema`.
"""

import asyncio
from collections.abc import AsyncGenerator, Callable, Iterator
from contextlib import suppress
from dataclasses import dataclass
from functools import lru_cache, partial
from typing import Annotated, Any, TypeVar

import strawberry
from graphql import (
    ASTValidationRule,
    DocumentNode,
    GraphQLError,
    NoSchemaIntrospectionCustomRule,
    parse,
)
from graphql import (
    ExecutionResult as GraphQLExecutionResult,
)
from strawberry import UNSET
from strawberry.extensions import (
    AddValidationRules,
    MaxTokensLimiter,
    SchemaExtension,
    ValidationCache,
    max_aliases,
    query_depth_limiter,
)
from strawberry.schema.config import StrawberryConfig
from strawberry.types import ExecutionContext
from strawberry.types.execution import ExecutionResult as StrawberryExecutionResult
from strawberry.types.execution import StreamExecutionResult

from app import realtime, store, validation
from app.context import Info
from app.errors import (
    HTTP_STATUS,
    Forbidden,
    InvalidInput,
    NotFound,
    Unauthenticated,
    coded,
    is_unexpected,
)
from app.limits import largest_path
from app.middleware import current_request
from app.pagination import decode_cursor
from app.types import (
    EVENT_ORDER,
    SCALARS,
    After,
    Before,
    Connection,
    First,
    Last,
    Limit,
    Message,
    MessageInput,
    MessageRole,
    MessageStatus,
    Metadata,
    Node,
    Order,
    SortOrder,
    Thread,
    ThreadEvent,
    ThreadFilter,
    ThreadState,
    ToolResourcesInput,
    connection,
    event_from_doc,
    optional_metadata,
)

T = TypeVar("T")

ThreadIdArgument = Annotated[strawberry.ID, strawberry.argument(description="A thread id.")]
MessageIdArgument = Annotated[strawberry.ID, strawberry.argument(description="A message id.")]
NodeIdArgument = Annotated[
    strawberry.ID, strawberry.argument(description="A thread or message id.")
]


def _not_null(value: T | None, *, field: str) -> T:
    if value is None:
        raise InvalidInput(field, f"{field} cannot be null.")
    return value


async def _visible_message(info: Info, message_id: str) -> Message | None:
    doc = await info.context.messages.load(message_id)
    if doc is None or await info.context.threads.load(doc["threadId"]) is None:
        return None
    return Message.from_doc(doc)


async def _node(info: Info, node_id: str) -> Node | None:
    if node_id.startswith(validation.MESSAGE_PREFIX):
        return await _visible_message(info, node_id)
    doc = await info.context.threads.load(node_id)
    return None if doc is None else Thread.from_doc(doc)


@strawberry.type(description="Reads.")
class Query:
    @strawberry.field(description="A thread by id; null if there is none.")
    async def thread(self, info: Info, id: ThreadIdArgument) -> Thread | None:
        doc = await info.context.threads.load(validation.thread_id(id, field="id"))
        return None if doc is None else Thread.from_doc(doc)

    @strawberry.field(description="A message by id; null if there is none.")
    async def message(self, info: Info, id: MessageIdArgument) -> Message | None:
        return await _visible_message(info, validation.message_id(id, field="id"))

    @strawberry.field(description="A thread or message by id; null if there is none.")
    async def node(self, info: Info, id: NodeIdArgument) -> Node | None:
        return await _node(info, validation.node_id(id, field="id"))

    @strawberry.field(description="Threads or messages by id (at most 100), null where none.")
    async def nodes(
        self,
        info: Info,
        ids: Annotated[list[strawberry.ID], strawberry.argument(description="Up to 100 ids.")],
    ) -> list[Node | None]:
        validation.count(ids, field="ids", max_items=validation.MAX_NODE_IDS)
        checked = [validation.node_id(i, field=f"ids.{n}") for n, i in enumerate(ids)]
        return list(await asyncio.gather(*(_node(info, node_id) for node_id in checked)))

    @strawberry.field(description="Your threads, newest first unless `order: ASC`.")
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
    ) -> Connection[Thread]:
        conditions = filter or ThreadFilter()
        listing = store.thread_listing(
            organization_id=info.context.organization_id,
            metadata=optional_metadata(conditions.metadata, field="filter.metadata"),
            state=None if conditions.state is None else str(conditions.state.value),
            visible_in_ui=conditions.visible_in_ui,
            assistant_id=conditions.assistant_id,
            user_id=conditions.user_id,
        )
        return await connection(
            info,
            listing,
            Thread.from_doc,
            first=first,
            after=after,
            last=last,
            before=before,
            limit=limit,
            order=order,
        )


IDEMPOTENCY_KEY = (
    "Up to 255 characters of your choice. A retry with the same key and input returns the first"
    " result and writes nothing; the same key with another input is a CONFLICT. Kept 24 hours."
)


@strawberry.input(description="A new thread, optionally with its first messages.")
class CreateThreadInput:
    messages: list[MessageInput] | None = strawberry.field(
        default=None, description="Up to 100 messages, kept in this order."
    )
    metadata: Metadata | None = strawberry.field(default=None, description="Key-value pairs.")
    title: str | None = strawberry.field(default=None, description="At most 200 characters.")
    tool_resources: ToolResourcesInput | None = strawberry.field(
        default=None, description="Resources for the assistant's tools."
    )
    assistant_id: str | None = strawberry.field(default=None, description="Bound assistant.")
    visible_in_ui: bool = strawberry.field(default=True, description="Whether UIs list it.")
    idempotency_key: str | None = strawberry.field(default=None, description=IDEMPOTENCY_KEY)


@strawberry.input(description="Changes to a thread: absent fields stay, null clears.")
class UpdateThreadInput:
    id: strawberry.ID = strawberry.field(description="The thread.")
    title: str | None = strawberry.field(default=UNSET, description="New title; null clears.")
    metadata: Metadata | None = strawberry.field(
        default=UNSET, description="Replaces the whole map; {} clears it."
    )
    tool_resources: ToolResourcesInput | None = strawberry.field(
        default=UNSET, description="Replaces the tool resources; null clears."
    )
    assistant_id: str | None = strawberry.field(default=UNSET, description="null unbinds.")
    visible_in_ui: bool | None = strawberry.field(default=UNSET, description="UI visibility.")
    state: ThreadState | None = strawberry.field(default=UNSET, description="Lifecycle state.")


@strawberry.input(description="The thread to delete, with all its messages.")
class DeleteThreadInput:
    id: strawberry.ID = strawberry.field(description="The thread.")


@strawberry.input(description="A message to add to a thread.")
class CreateMessageInput(MessageInput):
    thread_id: strawberry.ID = strawberry.field(description="The thread to add it to.")
    idempotency_key: str | None = strawberry.field(default=None, description=IDEMPOTENCY_KEY)
    status: MessageStatus = strawberry.field(
        default=MessageStatus.COMPLETED,
        description="IN_PROGRESS starts an ASSISTANT message that appendMessageText streams"
        " into (from `content`) and completeMessage finishes.",
    )


@strawberry.input(description="Text to append to a message in progress.")
class AppendMessageTextInput:
    id: strawberry.ID = strawberry.field(description="The message, IN_PROGRESS.")
    delta: str = strawberry.field(description="The text to append (1-256,000 characters).")


@strawberry.input(description="How a message in progress ends.")
class CompleteMessageInput:
    id: strawberry.ID = strawberry.field(description="The message, IN_PROGRESS.")
    status: MessageStatus = strawberry.field(
        default=MessageStatus.COMPLETED, description="COMPLETED or INCOMPLETE."
    )
    incomplete_reason: str | None = strawberry.field(
        default=None, description="Why it is INCOMPLETE (at most 128 characters)."
    )


@strawberry.type(description="The message after the change.")
class StreamedMessagePayload:
    message: Message = strawberry.field(description="The message after the change.")


@strawberry.input(description="New metadata for a message.")
class UpdateMessageInput:
    id: strawberry.ID = strawberry.field(description="The message.")
    metadata: Metadata = strawberry.field(description="Replaces the whole map; {} clears it.")


@strawberry.input(description="The message to delete.")
class DeleteMessageInput:
    id: strawberry.ID = strawberry.field(description="The message.")


@strawberry.type(description="The created thread.")
class CreateThreadPayload:
    thread: Thread = strawberry.field(description="The new thread.")


@strawberry.type(description="The updated thread.")
class UpdateThreadPayload:
    thread: Thread = strawberry.field(description="The thread after the change.")


@strawberry.type(description="What was deleted.")
class DeleteThreadPayload:
    id: strawberry.ID = strawberry.field(description="The deleted thread's id.")
    deleted: bool = strawberry.field(description="Always true: failures are errors.")


@strawberry.type(description="The created message and its thread.")
class CreateMessagePayload:
    message: Message = strawberry.field(description="The new message.")
    thread: Thread = strawberry.field(description="Its thread, after the change.")


@strawberry.type(description="The updated message.")
class UpdateMessagePayload:
    message: Message = strawberry.field(description="The message after the change.")


@strawberry.type(description="What was deleted, and the thread it was in.")
class DeleteMessagePayload:
    id: strawberry.ID = strawberry.field(description="The deleted message's id.")
    deleted: bool = strawberry.field(description="Always true: failures are errors.")
    thread: Thread = strawberry.field(description="Its thread, after the change.")


async def _emit(
    info: Info, thread_id: str, kind: str, *, once: str | None = None, **data: Any
) -> None:
    """Log the event for the thread's subscribers (this instance's, where no change stream)."""
    event = await store.record_event(
        info.context.db,
        organization_id=info.context.organization_id,
        thread_id=thread_id,
        type=kind,
        data=data,
        once=once,
    )
    if info.context.hub is not None:
        info.context.hub.published(event)


def _thread_changes(change: UpdateThreadInput) -> dict[str, Any]:
    changes: dict[str, Any] = {}
    if change.title is not UNSET:
        changes["title"] = validation.title(change.title, field="input.title")
    if change.metadata is not UNSET:
        metadata = _not_null(change.metadata, field="input.metadata")
        changes["metadata"] = validation.metadata(metadata, field="input.metadata")
    if change.tool_resources is not UNSET:
        tools = change.tool_resources
        changes["toolResources"] = (
            None if tools is None else tools.to_doc(field="input.toolResources")
        )
    if change.assistant_id is not UNSET:
        changes["assistantId"] = validation.reference(
            change.assistant_id, field="input.assistantId"
        )
    if change.visible_in_ui is not UNSET:
        changes["visibleInUi"] = _not_null(change.visible_in_ui, field="input.visibleInUi")
    if change.state is not UNSET:
        changes["state"] = _not_null(change.state, field="input.state").value
    return changes


INPUT = strawberry.argument(description="What to write.")


@strawberry.type(description="Writes. Each takes one input object and returns a payload.")
class Mutation:
    @strawberry.mutation(description="Create a thread, with up to 100 first messages.")
    async def create_thread(
        self, info: Info, input: Annotated[CreateThreadInput, INPUT]
    ) -> CreateThreadPayload:
        messages = input.messages or []
        validation.count(messages, field="input.messages", max_items=validation.MAX_THREAD_MESSAGES)
        doc = await store.create_thread(
            info.context.db,
            organization_id=info.context.organization_id,
            user_id=info.context.user_id,
            title=validation.title(input.title, field="input.title"),
            metadata=optional_metadata(input.metadata, field="input.metadata") or {},
            tool_resources=None
            if input.tool_resources is None
            else input.tool_resources.to_doc(field="input.toolResources"),
            assistant_id=validation.reference(input.assistant_id, field="input.assistantId"),
            visible_in_ui=input.visible_in_ui,
            messages=[
                message.to_new_message(field=f"input.messages.{index}")
                for index, message in enumerate(messages)
            ],
            idempotency_key=validation.idempotency_key(
                input.idempotency_key, field="input.idempotencyKey"
            ),
        )
        return CreateThreadPayload(thread=Thread.from_doc(doc))

    @strawberry.mutation(description="Change a thread. ARCHIVED threads only take `state`.")
    async def update_thread(
        self, info: Info, input: Annotated[UpdateThreadInput, INPUT]
    ) -> UpdateThreadPayload:
        thread_id = validation.thread_id(input.id, field="input.id")
        doc = await store.update_thread(
            info.context.db,
            organization_id=info.context.organization_id,
            thread_id=thread_id,
            changes=_thread_changes(input),
        )
        info.context.changed(thread_id, doc)
        await _emit(info, thread_id, "ThreadUpdated", thread=doc)
        return UpdateThreadPayload(thread=Thread.from_doc(doc))

    @strawberry.mutation(description="Delete a thread and all its messages, in any state.")
    async def delete_thread(
        self, info: Info, input: Annotated[DeleteThreadInput, INPUT]
    ) -> DeleteThreadPayload:
        thread_id = validation.thread_id(input.id, field="input.id")
        # Recorded first: the thread's log is numbered from the thread, which then goes.
        await _emit(info, thread_id, realtime.THREAD_DELETED)
        await store.delete_thread(
            info.context.db, organization_id=info.context.organization_id, thread_id=thread_id
        )
        info.context.changed(thread_id, None)
        return DeleteThreadPayload(id=strawberry.ID(thread_id), deleted=True)

    @strawberry.mutation(description="Add a message to an ACTIVE thread.")
    async def create_message(
        self, info: Info, input: Annotated[CreateMessageInput, INPUT]
    ) -> CreateMessagePayload:
        thread_id = validation.thread_id(input.thread_id, field="input.threadId")
        new_message = input.to_new_message(field="input")
        if input.status is not MessageStatus.COMPLETED:
            streamed = input.status is MessageStatus.IN_PROGRESS
            if not streamed or input.role is not MessageRole.ASSISTANT or input.content_parts:
                raise InvalidInput(
                    "input.status",
                    "Only an ASSISTANT message with `content` can start IN_PROGRESS.",
                )
            new_message["status"] = store.IN_PROGRESS
        message, thread = await store.create_message(
            info.context.db,
            organization_id=info.context.organization_id,
            user_id=info.context.user_id,
            thread_id=thread_id,
            message=new_message,
            idempotency_key=validation.idempotency_key(
                input.idempotency_key, field="input.idempotencyKey"
            ),
        )
        info.context.changed(thread_id, thread)
        await _emit(info, thread_id, "MessageCreated", once=message["_id"], message=message)
        return CreateMessagePayload(
            message=Message.from_doc(message), thread=Thread.from_doc(thread)
        )

    @strawberry.mutation(description="Replace a message's metadata (not in ARCHIVED threads).")
    async def update_message(
        self, info: Info, input: Annotated[UpdateMessageInput, INPUT]
    ) -> UpdateMessagePayload:
        doc = await store.update_message(
            info.context.db,
            organization_id=info.context.organization_id,
            message_id=validation.message_id(input.id, field="input.id"),
            metadata=validation.metadata(input.metadata, field="input.metadata"),
        )
        info.context.messages.prime(doc["_id"], doc, force=True)
        await _emit(info, doc["threadId"], "MessageUpdated", message=doc)
        return UpdateMessagePayload(message=Message.from_doc(doc))

    @strawberry.mutation(description="Append text to an IN_PROGRESS message (CONFLICT after).")
    async def append_message_text(
        self, info: Info, input: Annotated[AppendMessageTextInput, INPUT]
    ) -> StreamedMessagePayload:
        message_id = validation.message_id(input.id, field="input.id")
        doc = await store.append_message_text(
            info.context.db,
            organization_id=info.context.organization_id,
            message_id=message_id,
            delta=validation.content(input.delta, field="input.delta"),
            max_length=validation.MAX_CONTENT,
        )
        info.context.messages.prime(message_id, doc, force=True)
        await _emit(info, doc["threadId"], "MessageDelta", messageId=message_id, delta=input.delta)
        return StreamedMessagePayload(message=Message.from_doc(doc))

    @strawberry.mutation(description="Finish an IN_PROGRESS message: COMPLETED or INCOMPLETE.")
    async def complete_message(
        self, info: Info, input: Annotated[CompleteMessageInput, INPUT]
    ) -> StreamedMessagePayload:
        if input.status is MessageStatus.IN_PROGRESS:
            raise InvalidInput("input.status", "A message ends COMPLETED or INCOMPLETE.")
        message_id = validation.message_id(input.id, field="input.id")
        doc = await store.complete_message(
            info.context.db,
            organization_id=info.context.organization_id,
            message_id=message_id,
            status=input.status.value,
            incomplete_reason=validation.reference(
                input.incomplete_reason, field="input.incompleteReason"
            ),
        )
        info.context.messages.prime(message_id, doc, force=True)
        info.context.counts.clear_all()
        await _emit(info, doc["threadId"], "MessageCompleted", message=doc)
        return StreamedMessagePayload(message=Message.from_doc(doc))

    @strawberry.mutation(description="Delete a message from an ACTIVE thread.")
    async def delete_message(
        self, info: Info, input: Annotated[DeleteMessageInput, INPUT]
    ) -> DeleteMessagePayload:
        message_id = validation.message_id(input.id, field="input.id")
        thread = await store.delete_message(
            info.context.db, organization_id=info.context.organization_id, message_id=message_id
        )
        info.context.messages.prime(message_id, None, force=True)
        info.context.changed(thread["_id"], thread)
        await _emit(info, thread["_id"], "MessageDeleted", messageId=message_id)
        return DeleteMessagePayload(
            id=strawberry.ID(message_id), deleted=True, thread=Thread.from_doc(thread)
        )


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
        context = info.context
        if not context.authenticated or context.hub is None:
            raise Unauthenticated("Send your API key in connection_init.")
        checked = validation.thread_id(thread_id, field="threadId")
        start = None if after is None else decode_cursor(after, EVENT_ORDER, field="after")[0]
        if await context.threads.load(checked) is None:
            raise NotFound(f"Thread {checked} not found.")
        most = context.hub.max_per_connection
        if context.subscriptions >= most:
            raise Forbidden(f"A connection may hold at most {most} subscriptions.")
        context.subscriptions += 1
        try:
            events = realtime.thread_events(
                context.db,
                context.hub,
                organization_id=context.organization_id,
                thread_id=checked,
                key_id=context.key_id,
                after=start if isinstance(start, int) else None,
            )
            async for event in events:
                yield event_from_doc(event)
        finally:
            context.subscriptions -= 1


class ThreadsSchema(strawberry.Schema):
    def process_errors(
        self, errors: list[GraphQLError], execution_context: ExecutionContext | None = None
    ) -> None:
        """Log only what is unexpected: client errors are answers, not incidents."""
        unexpected = [error for error in errors if is_unexpected(error)]
        if unexpected:
            super().process_errors(unexpected, execution_context)


class FinishResult(SchemaExtension):
    """Codes every error (the one place), sets the HTTP status for outages, adds the request
    id (and in development the database commands so far) to the result and records the
    operation for the request log."""

    def on_operation(self) -> Iterator[None]:
        yield
        record = current_request.get()
        run = self.execution_context
        if record is not None:
            record.operation = run.operation_name
        result = run.result
        if result is None or not result.errors:
            return
        codes = self._code(result)
        if record is not None:
            record.error_codes += codes
        status = max((HTTP_STATUS.get(code, 0) for code in codes), default=0)
        response = getattr(run.context, "response", None)
        if status and response is not None:
            response.status_code = status

    def on_stream_result(self, result: StreamExecutionResult) -> Iterator[None]:
        """Each result a subscription sends."""
        if isinstance(result, StrawberryExecutionResult) and result.errors:
            self._code(result)
        yield

    def _code(self, result: Any) -> list[str]:
        """Code the errors of a result (in place); their codes."""
        record = current_request.get()
        request_id = record.id if record is not None else None
        result.errors = [
            coded(error, request_id=request_id, unavailable=store.is_unavailable)
            for error in result.errors or []
        ]
        return [str((error.extensions or {}).get("code")) for error in result.errors]

    def __init__(self, *, development: bool = True) -> None:
        self.development = development

    def get_results(self) -> dict[str, Any]:
        record = current_request.get()
        if record is None:
            return {}
        if self.development:
            return {"requestId": record.id, "dbCommands": record.commands}
        return {"requestId": record.id}


class NodeBudget(SchemaExtension):
    """Refuses, before it runs, an operation whose nested connections could return more than
    `max_nodes` nodes along one path (the product of their page sizes, 20 when not given)."""

    def __init__(self, *, max_nodes: int) -> None:
        self.max_nodes = max_nodes

    def on_execute(self) -> Iterator[None]:
        run = self.execution_context
        document = run.graphql_document
        largest = (
            0
            if document is None
            else largest_path(run.schema._schema, document, run.operation_name, run.variables)
        )
        if largest > self.max_nodes:
            message = (
                f"The query could return {largest:,} nodes along one path of nested connections;"
                f" at most {self.max_nodes:,} are allowed. Ask for smaller pages."
            )
            run.result = GraphQLExecutionResult(data=None, errors=[GraphQLError(message)])
        yield


# Documents whose parse and validation are kept (each cache is a bounded LRU).
CACHE_SIZE = 256


@lru_cache(maxsize=CACHE_SIZE)
def _parse(query: str, max_tokens: int | None) -> DocumentNode:
    return parse(query, max_tokens=max_tokens)


class CachedParse(SchemaExtension):
    """Strawberry's ParserCache, but leaving syntax errors to Strawberry's own parse (which
    reports them like any other error; ParserCache lets them escape the error mapping)."""

    def on_parse(self) -> Iterator[None]:
        run = self.execution_context
        if run.query:
            with suppress(GraphQLError):
                run.graphql_document = _parse(run.query, run.parse_options.get("max_tokens"))
        yield


@dataclass(frozen=True)
class QueryLimits:
    max_depth: int = 10
    max_aliases: int = 30
    max_tokens: int = 3_000
    max_nodes: int = 50_000


def make_schema(
    limits: QueryLimits = QueryLimits(), *, production: bool = False, introspection: bool = True
) -> ThreadsSchema:
    # Rule classes made once, so that the validation cache (keyed by them) hits.
    rules: list[type[ASTValidationRule]] = [
        query_depth_limiter.create_validator(limits.max_depth, should_ignore=None),
        max_aliases.create_validator(limits.max_aliases),
    ]
    if not introspection:
        rules.append(NoSchemaIntrospectionCustomRule)
    extensions: list[Callable[[], SchemaExtension]] = [
        partial(MaxTokensLimiter, max_token_count=limits.max_tokens),
        CachedParse,
        partial(AddValidationRules, rules),
        partial(ValidationCache, maxsize=CACHE_SIZE),
        partial(NodeBudget, max_nodes=limits.max_nodes),
        partial(FinishResult, development=not production),
    ]
    return ThreadsSchema(
        query=Query,
        mutation=Mutation,
        subscription=Subscription,
        types=[Thread, Message],
        extensions=extensions,
        config=StrawberryConfig(scalar_map=SCALARS, disable_field_suggestions=production),
    )


# The development schema: what `schema.graphql` is exported from and tests execute against.
schema = make_schema()
