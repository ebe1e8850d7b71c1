"""The object types, each built from a domain value by its `from_domain` mapper."""

from datetime import datetime
from typing import Annotated, Any, Optional, cast

import strawberry

from app import domain, store, validation
from app.errors import NotFound
from app.graphql.connections import After, Before, Connection, First, Last, Limit, Order, connection
from app.graphql.content import MessageContent, content_from_domain
from app.graphql.context import Info
from app.graphql.enums import MessageRole, MessageStatus, SortOrder, ThreadState, ThreadStatus
from app.graphql.revisions import MessageRevisionConnection, revision_connection
from app.graphql.scalars import Metadata
from app.pagination import EVENT_ORDER, MESSAGE_ORDER, Page, PageRequest, encode_cursor
from app.revisions import MAX_REVISIONS

# The GraphQL member of each domain member (an Enum call costs a chain of lookups).
_ROLES = {role: MessageRole[role.name] for role in domain.Role}
_STATUSES = {status: MessageStatus[status.name] for status in domain.MessageStatus}
_STATES = {state: ThreadState[state.name] for state in domain.ThreadState}


@strawberry.interface(description="An object with an id, fetchable with `node` and `nodes`.")
class Node:
    id: strawberry.ID = strawberry.field(description="The id: `thread_<uuid>` or `message_<uuid>`.")


@strawberry.type(description="Tools' resources available to the thread's runs.")
class CodeInterpreterResources:
    file_ids: list[str] = strawberry.field(description="Files the code interpreter can use.")


@strawberry.type(description="Vector stores that file search can use.")
class FileSearchResources:
    vector_store_ids: list[str] = strawberry.field(description="At most one vector store id.")


@strawberry.type(description="Resources made available to the assistant's tools in this thread.")
class ToolResources:
    code_interpreter: CodeInterpreterResources | None = strawberry.field(
        description="Resources of the code interpreter tool."
    )
    file_search: FileSearchResources | None = strawberry.field(
        description="Resources of the file search tool."
    )

    @classmethod
    def from_domain(cls, tools: domain.ToolResources) -> "ToolResources":
        code, search = tools.code_interpreter_file_ids, tools.file_search_vector_store_ids
        return cls(
            code_interpreter=None if code is None else CodeInterpreterResources(file_ids=[*code]),
            file_search=None if search is None else FileSearchResources(vector_store_ids=[*search]),
        )


def metadata_argument(value: Metadata | None, *, field: str) -> domain.Pairs:
    return domain.pairs(None if value is None else validation.metadata(value, field=field))


@strawberry.type(description="A conversation: an ordered list of messages with its settings.")
class Thread(Node):
    created_at: datetime = strawberry.field(description="When the thread was created.")
    updated_at: datetime = strawberry.field(
        description="When the thread last changed, a new or deleted message included."
    )
    title: str | None = strawberry.field(
        description=f"Display name, at most {validation.MAX_TITLE} characters."
    )
    metadata: Metadata = strawberry.field(description="Your key-value pairs for the thread.")
    tool_resources: ToolResources | None = strawberry.field(
        description="Resources for the assistant's tools."
    )
    assistant_id: str | None = strawberry.field(description="The assistant bound to the thread.")
    organization_id: str = strawberry.field(description="The organization owning the thread.")
    user_id: str = strawberry.field(description="The user who created the thread.")
    visible_in_ui: bool = strawberry.field(description="Whether UIs should list the thread.")
    state: ThreadState = strawberry.field(description="Lifecycle state; ACTIVE by default.")
    deleted_at: datetime | None = strawberry.field(
        description="When the thread went to the trash: null unless it is there"
        " (`threads(filter: {deleted: true})`)."
    )
    last_event: strawberry.Private[int]
    last_seq: strawberry.Private[int]
    kept_count: strawberry.Private[int | None]  # its messages, as the writes keep them
    origin: strawberry.Private[domain.ForkOrigin | None]

    @classmethod
    def from_domain(cls, thread: domain.Thread) -> "Thread":
        tools = thread.tool_resources
        return cls(
            id=strawberry.ID(thread.id),
            created_at=thread.created_at,
            updated_at=thread.updated_at,
            title=thread.title,
            metadata=Metadata(thread.metadata),
            tool_resources=None if tools is None else ToolResources.from_domain(tools),
            assistant_id=thread.assistant_id,
            organization_id=thread.organization_id,
            user_id=thread.user_id,
            visible_in_ui=thread.visible_in_ui,
            state=_STATES[thread.state],
            deleted_at=thread.deleted_at,
            last_event=thread.last_event,
            last_seq=thread.last_seq,
            kept_count=thread.message_count,
            origin=thread.forked_from,
        )

    @strawberry.field(
        description="The cursor of the thread's latest event as of this read: threadEvents(after:"
        " eventCursor) delivers what happens after it, so loading then subscribing loses nothing."
    )
    def event_cursor(self) -> str:
        return encode_cursor(EVENT_ORDER, (self.last_event,))

    @strawberry.field(description="What the thread was forked from; null if it is no fork.")
    def forked_from(self) -> Optional["ForkOrigin"]:
        origin = self.origin
        if origin is None:
            return None
        message_id = None if origin.message_id is None else strawberry.ID(origin.message_id)
        return ForkOrigin(thread_id=strawberry.ID(origin.thread_id), message_id=message_id)

    def _messages(self, info: Info, **conditions: Any) -> domain.MessageQuery:
        organization_id = info.context.signed_in.organization_id
        return domain.MessageQuery(organization_id=organization_id, thread_id=self.id, **conditions)

    @strawberry.field(description="STREAMING while any of its messages is IN_PROGRESS.")
    async def status(self, info: Info) -> ThreadStatus:
        writing = self._messages(info, status=domain.MessageStatus.IN_PROGRESS)
        count = await info.context.loaders.counts.load(writing)
        return ThreadStatus(domain.ThreadStatus.of(count))

    @strawberry.field(
        description="The thread's newest message, null when it has none: the inbox preview."
        " Read for every thread of a page in one batch."
    )
    async def last_message(self, info: Info) -> Optional["Message"]:
        newest = await info.context.loaders.last_messages.load((self.id, self.last_seq))
        return None if newest is None else Message.from_domain(newest)

    @strawberry.field(description="How many messages the thread holds (not in the trash).")
    def message_count(self, info: Info) -> int:
        if self.kept_count is not None:  # as the writes keep it: nothing to await
            return self.kept_count
        # a future, which the executor awaits; an async resolver would cost a task every time
        return cast(int, info.context.loaders.counts.load(self._messages(info)))

    @strawberry.field(description="The thread's messages, newest first unless `order: ASC`.")
    async def messages(
        self,
        info: Info,
        first: First = None,
        after: After = None,
        last: Last = None,
        before: Before = None,
        limit: Limit = None,
        order: Order = SortOrder.DESC,
        metadata: Annotated[
            Metadata | None,
            strawberry.argument(description="Only messages having every one of these pairs."),
        ] = None,
        role: Annotated[
            MessageRole | None, strawberry.argument(description="Only messages of this role.")
        ] = None,
    ) -> Connection["Message"]:
        query = self._messages(
            info,
            metadata=metadata_argument(metadata, field="metadata"),
            role=None if role is None else domain.Role[role.name],
        )

        async def fetch(request: PageRequest) -> Page[Any]:
            page_query = store.MessagePageQuery(query, request, self.last_seq)
            return await info.context.loaders.message_pages.load(page_query)

        return await connection(
            info,
            query,
            MESSAGE_ORDER,
            Message.from_domain,
            first=first,
            after=after,
            last=last,
            before=before,
            limit=limit,
            order=order,
            fetch=fetch,
        )


@strawberry.type(description="One turn of a conversation.")
class Message(Node):
    created_at: datetime = strawberry.field(description="When the message was created.")
    thread_id: strawberry.ID = strawberry.field(description="The thread holding the message.")
    role: MessageRole = strawberry.field(description="Who wrote the message.")
    content: list[MessageContent] = strawberry.field(description="The parts of the message.")
    text: str = strawberry.field(
        description="All text parts joined with a newline, for simple clients."
    )
    status: MessageStatus = strawberry.field(description="Whether the message is complete.")
    assistant_id: str | None = strawberry.field(description="The assistant that wrote it.")
    run_id: str | None = strawberry.field(description="The run that wrote it.")
    incomplete_reason: str | None = strawberry.field(
        description="Why an INCOMPLETE message stopped, as its writer said."
    )
    metadata: Metadata = strawberry.field(description="Your key-value pairs for the message.")
    edited_at: datetime | None = strawberry.field(
        description="When its content was last edited (updateMessage); null until then."
    )
    version: strawberry.Private[int]

    @classmethod
    def from_domain(cls, message: domain.Message) -> "Message":
        return cls(
            id=strawberry.ID(message.id),
            created_at=message.created_at,
            thread_id=strawberry.ID(message.thread_id),
            role=_ROLES[message.role],
            content=[content_from_domain(part) for part in message.content],
            text=message.text,
            status=_STATUSES[message.status],
            assistant_id=message.assistant_id,
            run_id=message.run_id,
            incomplete_reason=message.incomplete_reason,
            metadata=Metadata(message.metadata),
            edited_at=message.edited_at,
            version=message.version,
        )

    @strawberry.field(description="The thread holding the message.")
    async def thread(self, info: Info) -> Thread:
        thread = await info.context.loaders.threads.load(self.thread_id)
        if thread is None:
            raise NotFound(f"Thread {self.thread_id} not found.")
        return Thread.from_domain(thread)

    @strawberry.field(
        description=f"Its earlier versions, which edits replaced, newest first (the latest"
        f" {MAX_REVISIONS} are kept). Read for every message of a page in one batch."
    )
    async def revisions(
        self,
        info: Info,
        first: First = None,
        after: After = None,
        last: Last = None,
        before: Before = None,
    ) -> MessageRevisionConnection:
        return await revision_connection(
            info,
            message_id=self.id,
            version=self.version,
            first=first,
            after=after,
            last=last,
            before=before,
        )


@strawberry.type(description="Where a fork (forkThread) came from.")
class ForkOrigin:
    thread_id: strawberry.ID = strawberry.field(description="The id of the thread forked.")
    message_id: strawberry.ID | None = strawberry.field(
        description="The id of the last message copied from it; null if it had none."
    )

    @strawberry.field(description="The thread forked; null once it is deleted.")
    async def thread(self, info: Info) -> Thread | None:
        thread = await info.context.loaders.threads.load(self.thread_id)
        return None if thread is None else Thread.from_domain(thread)

    @strawberry.field(description="The last message copied; null once it or its thread is deleted.")
    async def message(self, info: Info) -> Message | None:
        if self.message_id is None:
            return None
        loaders = info.context.loaders
        message = await loaders.messages.load(self.message_id)
        if message is None or await loaders.threads.load(message.thread_id) is None:
            return None
        return Message.from_domain(message)
