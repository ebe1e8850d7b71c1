"""Input types, each turned into a checked domain value by its `to_domain` (or `to_changes`,
`to_query`). Input rules (app/validation.py) run here, where the argument path is known."""

from typing import Any, TypeVar

import strawberry
from strawberry import UNSET

from app import domain, validation
from app.domain import MessageChanges, NewMessage, NewThread, ThreadChanges, ThreadQuery
from app.errors import InvalidInput
from app.graphql.enums import MessageRole, MessageStatus, ThreadState
from app.graphql.parts import ContentPartInput, message_content
from app.graphql.scalars import Metadata
from app.services.forks import Fork

T = TypeVar("T")

IDEMPOTENCY_KEY = (
    f"Up to {validation.MAX_IDEMPOTENCY_KEY} characters of your choice. A retry with the same key"
    " and input returns the first result and writes nothing; the same key with another input is"
    " a CONFLICT. Kept 24 hours."
)


def _not_null(value: T | None, *, field: str) -> T:
    if value is None:
        raise InvalidInput(field, f"{field} cannot be null.")
    return value


def _metadata(value: Metadata | None, *, field: str) -> domain.Metadata:
    return {} if value is None else validation.metadata(value, field=field)


@strawberry.input(description="A message to add: give exactly one of content and contentParts.")
class MessageInput:
    role: MessageRole = strawberry.field(default=MessageRole.USER, description="Who wrote it.")
    content: str | None = strawberry.field(
        default=UNSET, description=f"Plain text, 1-{validation.MAX_CONTENT:,} characters."
    )
    content_parts: list[ContentPartInput] | None = strawberry.field(
        default=UNSET, description=f"Parts: text and images (1-{validation.MAX_CONTENT_PARTS})."
    )
    metadata: Metadata | None = strawberry.field(default=UNSET, description="Key-value pairs.")
    assistant_id: str | None = strawberry.field(default=UNSET, description="Writing assistant.")
    run_id: str | None = strawberry.field(default=UNSET, description="Writing run.")

    def to_domain(
        self, *, field: str, status: domain.MessageStatus = domain.MessageStatus.COMPLETED
    ) -> NewMessage:
        content = message_content(self.content, self.content_parts, field=field)
        assert content is not None
        return NewMessage(
            content=content,
            role=domain.Role[self.role.name],
            status=status,
            metadata=_metadata(self.metadata or None, field=f"{field}.metadata"),
            assistant_id=validation.reference(
                self.assistant_id or None, field=f"{field}.assistantId"
            ),
            run_id=validation.reference(self.run_id or None, field=f"{field}.runId"),
        )


@strawberry.input(description="Resources of the code interpreter tool.")
class CodeInterpreterInput:
    file_ids: list[str] = strawberry.field(
        description=f"At most {validation.MAX_FILE_IDS} file ids."
    )


@strawberry.input(description="Resources of the file search tool.")
class FileSearchInput:
    vector_store_ids: list[str] = strawberry.field(description="At most one vector store id.")


@strawberry.input(description="Resources for the assistant's tools.")
class ToolResourcesInput:
    code_interpreter: CodeInterpreterInput | None = strawberry.field(
        default=None, description="Code interpreter resources."
    )
    file_search: FileSearchInput | None = strawberry.field(
        default=None, description="File search resources."
    )

    def to_domain(self, *, field: str) -> domain.ToolResources:
        code = search = None
        if self.code_interpreter is not None:
            code = validation.references(
                self.code_interpreter.file_ids,
                field=f"{field}.codeInterpreter.fileIds",
                max_items=validation.MAX_FILE_IDS,
            )
        if self.file_search is not None:
            search = validation.references(
                self.file_search.vector_store_ids,
                field=f"{field}.fileSearch.vectorStoreIds",
                max_items=validation.MAX_VECTOR_STORE_IDS,
            )
        return domain.ToolResources(
            code_interpreter_file_ids=None if code is None else tuple(code),
            file_search_vector_store_ids=None if search is None else tuple(search),
        )


def _tool_resources(value: ToolResourcesInput | None, *, field: str) -> domain.ToolResources | None:
    return None if value is None else value.to_domain(field=field)


@strawberry.input(description="Which threads to list; every given condition must hold.")
class ThreadFilter:
    metadata: Metadata | None = strawberry.field(
        default=None, description="Threads having every one of these pairs."
    )
    state: ThreadState | None = strawberry.field(
        default=None, description="Threads in this state. Without it, all but ARCHIVED."
    )
    visible_in_ui: bool | None = strawberry.field(default=None, description="By UI visibility.")
    assistant_id: str | None = strawberry.field(default=None, description="By assistant.")
    user_id: str | None = strawberry.field(default=None, description="By creating user.")
    deleted: bool = strawberry.field(
        default=False,
        description="true lists the trash instead: deleted threads, restorable until purged"
        " (see `deletedAt`), in every state unless `state` is given.",
    )

    def to_query(
        self,
        *,
        organization_id: str,
        field: str,
        order: domain.ThreadOrder = domain.ThreadOrder.CREATED,
    ) -> ThreadQuery:
        if self.state is not None:
            states: tuple[domain.ThreadState, ...] = (domain.ThreadState[self.state.name],)
        else:
            states = tuple(domain.ThreadState) if self.deleted else domain.LISTED_BY_DEFAULT
        return ThreadQuery(
            organization_id=organization_id,
            order=order,
            trashed=self.deleted,
            metadata=domain.pairs(_metadata(self.metadata, field=f"{field}.metadata")),
            states=states,
            visible_in_ui=self.visible_in_ui,
            assistant_id=self.assistant_id,
            user_id=self.user_id,
        )


@strawberry.input(description="A new thread, optionally with its first messages.")
class CreateThreadInput:
    messages: list[MessageInput] | None = strawberry.field(
        default=None,
        description=f"Up to {validation.MAX_THREAD_MESSAGES} messages, kept in this order.",
    )
    metadata: Metadata | None = strawberry.field(default=None, description="Key-value pairs.")
    title: str | None = strawberry.field(
        default=None, description=f"At most {validation.MAX_TITLE} characters."
    )
    tool_resources: ToolResourcesInput | None = strawberry.field(
        default=None, description="Resources for the assistant's tools."
    )
    assistant_id: str | None = strawberry.field(default=None, description="Bound assistant.")
    visible_in_ui: bool = strawberry.field(default=True, description="Whether UIs list it.")
    idempotency_key: str | None = strawberry.field(default=None, description=IDEMPOTENCY_KEY)

    def to_domain(self) -> NewThread:
        messages = self.messages or []
        validation.count(messages, field="input.messages", max_items=validation.MAX_THREAD_MESSAGES)
        return NewThread(
            title=validation.title(self.title, field="input.title"),
            metadata=_metadata(self.metadata, field="input.metadata"),
            tool_resources=_tool_resources(self.tool_resources, field="input.toolResources"),
            assistant_id=validation.reference(self.assistant_id, field="input.assistantId"),
            visible_in_ui=self.visible_in_ui,
            messages=tuple(
                message.to_domain(field=f"input.messages.{index}")
                for index, message in enumerate(messages)
            ),
        )


def idempotency_key(value: str | None) -> str | None:
    return validation.idempotency_key(value, field="input.idempotencyKey")


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

    def to_changes(self) -> ThreadChanges:
        changes: dict[str, Any] = {}
        if self.title is not UNSET:
            changes["title"] = validation.title(self.title, field="input.title")
        if self.metadata is not UNSET:
            metadata = _not_null(self.metadata, field="input.metadata")
            changes["metadata"] = validation.metadata(metadata, field="input.metadata")
        if self.tool_resources is not UNSET:
            tools = _tool_resources(self.tool_resources, field="input.toolResources")
            changes["tool_resources"] = tools
        if self.assistant_id is not UNSET:
            assistant_id = validation.reference(self.assistant_id, field="input.assistantId")
            changes["assistant_id"] = assistant_id
        if self.visible_in_ui is not UNSET:
            changes["visible_in_ui"] = _not_null(self.visible_in_ui, field="input.visibleInUi")
        if self.state is not UNSET:
            changes["state"] = domain.ThreadState[_not_null(self.state, field="input.state").name]
        return ThreadChanges(**changes)


@strawberry.input(description="The thread to delete, with all its messages.")
class DeleteThreadInput:
    id: strawberry.ID = strawberry.field(description="The thread.")
    permanent: bool = strawberry.field(
        default=False,
        description="Remove it for good at once (from the trash too) instead of moving it to"
        " the trash.",
    )


@strawberry.input(description="A thread to bring back from the trash.")
class RestoreThreadInput:
    id: strawberry.ID = strawberry.field(description="The thread, in the trash.")


@strawberry.input(description="A message to bring back from the trash.")
class RestoreMessageInput:
    id: strawberry.ID = strawberry.field(description="The message, in the trash.")


@strawberry.input(description="A thread to fork: its messages are copied into a new thread.")
class ForkThreadInput:
    thread_id: strawberry.ID = strawberry.field(description="The thread to fork, in any state.")
    up_to_message_id: strawberry.ID | None = strawberry.field(
        default=None, description="The last message to copy (a message of the thread); all if null."
    )
    title: str | None = strawberry.field(
        default=None, description=f"At most {validation.MAX_TITLE} characters; null: the source's."
    )
    metadata: Metadata | None = strawberry.field(
        default=None, description="Key-value pairs; null: the source's."
    )
    idempotency_key: str | None = strawberry.field(default=None, description=IDEMPOTENCY_KEY)

    def to_domain(self) -> Fork:
        up_to = self.up_to_message_id
        return Fork(
            thread_id=validation.thread_id(self.thread_id, field="input.threadId"),
            up_to_message_id=None
            if up_to is None
            else validation.message_id(up_to, field="input.upToMessageId"),
            title=validation.title(self.title, field="input.title"),
            metadata=None
            if self.metadata is None
            else validation.metadata(self.metadata, field="input.metadata"),
        )


@strawberry.input(description="A message to add to a thread.")
class CreateMessageInput(MessageInput):
    thread_id: strawberry.ID = strawberry.field(description="The thread to add it to.")
    idempotency_key: str | None = strawberry.field(default=None, description=IDEMPOTENCY_KEY)
    status: MessageStatus = strawberry.field(
        default=MessageStatus.COMPLETED,
        description="IN_PROGRESS starts an ASSISTANT message that appendMessageText streams"
        " into (from `content`) and completeMessage finishes.",
    )

    def to_new_message(self) -> NewMessage:
        new = self.to_domain(field="input", status=domain.MessageStatus[self.status.name])
        if self.status is not MessageStatus.COMPLETED:
            streamed = self.status is MessageStatus.IN_PROGRESS
            if not streamed or self.role is not MessageRole.ASSISTANT or self.content_parts:
                raise InvalidInput(
                    "input.status",
                    "Only an ASSISTANT message with `content` can start IN_PROGRESS.",
                )
        return new


@strawberry.input(description="Text to append to a message in progress.")
class AppendMessageTextInput:
    id: strawberry.ID = strawberry.field(description="The message, IN_PROGRESS.")
    delta: str = strawberry.field(
        description=f"The text to append (1-{validation.MAX_CONTENT:,} characters)."
    )


@strawberry.input(description="How a message in progress ends.")
class CompleteMessageInput:
    id: strawberry.ID = strawberry.field(description="The message, IN_PROGRESS.")
    status: MessageStatus = strawberry.field(
        default=MessageStatus.COMPLETED, description="COMPLETED or INCOMPLETE."
    )
    incomplete_reason: str | None = strawberry.field(
        default=None,
        description=f"Why it is INCOMPLETE (at most {validation.MAX_REFERENCE} characters).",
    )


@strawberry.input(
    description="Changes to a message: absent fields stay. New content (at most one of content"
    " and contentParts) edits it, keeping the version it replaces in `revisions`."
)
class UpdateMessageInput:
    id: strawberry.ID = strawberry.field(description="The message.")
    metadata: Metadata | None = strawberry.field(
        default=UNSET, description="Replaces the whole map; {} clears it."
    )
    content: str | None = strawberry.field(
        default=UNSET,
        description=f"New plain text, 1-{validation.MAX_CONTENT:,} characters: an edit (ACTIVE"
        " threads; not while IN_PROGRESS).",
    )
    content_parts: list[ContentPartInput] | None = strawberry.field(
        default=UNSET,
        description=f"New parts (1-{validation.MAX_CONTENT_PARTS}) instead of `content`: an edit.",
    )

    def to_changes(self) -> MessageChanges:
        changes: dict[str, Any] = {}
        if self.metadata is not UNSET:
            metadata = _not_null(self.metadata, field="input.metadata")
            changes["metadata"] = validation.metadata(metadata, field="input.metadata")
        content = message_content(self.content, self.content_parts, field="input", required=False)
        if content is not None:
            changes["content"] = content
        return MessageChanges(**changes)


@strawberry.input(description="The message to delete.")
class DeleteMessageInput:
    id: strawberry.ID = strawberry.field(description="The message.")
