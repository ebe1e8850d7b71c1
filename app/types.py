"""GraphQL types, built from stored documents by one `from_doc` mapper per type."""

from collections.abc import Awaitable, Callable
from datetime import UTC, datetime
from enum import Enum
from typing import Annotated, Any, Generic, NewType, TypeVar

import strawberry
from strawberry import UNSET, Private
from strawberry.types.scalar import ScalarDefinition

from app import store, validation
from app.context import Info
from app.errors import InvalidInput, NotFound
from app.pagination import Ordering, Page, PageRequest, encode_cursor, page_request

Metadata = NewType("Metadata", dict[str, str])


def serialize_datetime(value: datetime) -> str:
    moment = value.astimezone(UTC) if value.tzinfo else value
    return moment.strftime("%Y-%m-%dT%H:%M:%S.") + f"{moment.microsecond // 1000:03d}Z"


# Scalar parsers raise ValueError: graphql-core reports it with the variable's path.
def _parse_datetime(value: object) -> datetime:
    if not isinstance(value, str):
        raise ValueError("A DateTime must be an ISO-8601 string.")
    parsed = datetime.fromisoformat(value)
    return parsed.astimezone(UTC).replace(tzinfo=None) if parsed.tzinfo else parsed


def _parse_metadata(value: object) -> dict[str, object]:
    # Shape only; the limits are checked where the field path is known (validation.metadata).
    if not isinstance(value, dict):
        raise ValueError("Metadata must be a JSON object of string values.")
    return value


SCALARS: dict[object, ScalarDefinition] = {
    datetime: strawberry.scalar(
        name="DateTime",
        description=(
            "An instant in UTC, as ISO-8601 with milliseconds: 2026-11-24T09:30:00.000Z."
            " Codegen: map to string."
        ),
        serialize=serialize_datetime,
        parse_value=_parse_datetime,
    ),
    Metadata: strawberry.scalar(
        name="Metadata",
        description=(
            "A JSON object of string values: at most 16 keys, each key 1-64 characters, each "
            "value at most 512 characters. Keys are stored and returned literally (dots and a "
            "leading $ included). Codegen: map to Record<string, string>."
        ),
        serialize=dict,
        parse_value=_parse_metadata,
    ),
}


@strawberry.enum(description="Who wrote a message.")
class MessageRole(Enum):
    USER = "user"
    ASSISTANT = "assistant"
    SYSTEM = "system"


@strawberry.enum(description="The order of a list by creation time.")
class SortOrder(Enum):
    ASC = strawberry.enum_value("asc", description="Oldest first.")
    DESC = strawberry.enum_value("desc", description="Newest first.")


@strawberry.enum(description="The lifecycle state of a thread.")
class ThreadState(Enum):
    ACTIVE = strawberry.enum_value(store.ACTIVE, description="Takes new messages and changes.")
    LOCKED = strawberry.enum_value(
        store.LOCKED,
        description="Read-only conversation: no new or deleted messages; the thread's own "
        "fields (title, metadata, state...) still change.",
    )
    ARCHIVED = strawberry.enum_value(
        store.ARCHIVED,
        description="Kept but frozen: only `state` may change. Left out of `threads` unless "
        "`filter.state` asks for it.",
    )


@strawberry.enum(description="Whether an assistant is writing into the thread.")
class ThreadStatus(Enum):
    INACTIVE = "inactive"
    STREAMING = "streaming"


@strawberry.enum(description="Whether a message is complete.")
class MessageStatus(Enum):
    IN_PROGRESS = "in_progress"
    COMPLETED = "completed"
    INCOMPLETE = "incomplete"


@strawberry.enum(description="The detail level at which a model should look at an image.")
class ImageDetail(Enum):
    AUTO = "auto"
    LOW = "low"
    HIGH = "high"


@strawberry.interface(description="An object with an id, fetchable with `node` and `nodes`.")
class Node:
    id: strawberry.ID = strawberry.field(description="The id: `thread_<uuid>` or `message_<uuid>`.")


# Paging arguments, shared by every connection field.
First = Annotated[
    int | None, strawberry.argument(description="Page size from the start (1-100; default 20).")
]
After = Annotated[str | None, strawberry.argument(description="Return items after this cursor.")]
Last = Annotated[int | None, strawberry.argument(description="Page size from the end (1-100).")]
Before = Annotated[str | None, strawberry.argument(description="Return items before this cursor.")]
Limit = Annotated[
    int | None, strawberry.argument(description="Synonym of `first`, as in the REST APIs.")
]
Order = Annotated[
    SortOrder,
    strawberry.argument(description="Creation order of the list; newest first by default."),
]

NodeT = TypeVar("NodeT")


@strawberry.type(description="Where a page sits in its list (Relay cursor connections).")
class PageInfo:
    start_cursor: str | None = strawberry.field(description="Cursor of the page's first item.")
    end_cursor: str | None = strawberry.field(description="Cursor of the page's last item.")
    page: Private[Page[Any]]
    listing: Private[store.Listing]
    request: Private[PageRequest]

    async def _known_or_probe(self, info: Info, known: bool | None, *, previous: bool) -> bool:
        if known is not None:
            return known
        return await store.exists_outside(
            info.context.db, self.listing, self.request, previous=previous
        )

    @strawberry.field(description="Whether items follow this page in the list's order.")
    async def has_next_page(self, info: Info) -> bool:
        return await self._known_or_probe(info, self.page.has_next, previous=False)

    @strawberry.field(description="Whether items precede this page in the list's order.")
    async def has_previous_page(self, info: Info) -> bool:
        return await self._known_or_probe(info, self.page.has_previous, previous=True)


@strawberry.type(description="An item of a page, with the cursor to page from it.")
class Edge(Generic[NodeT]):
    cursor: str = strawberry.field(description="Opaque cursor of this item.")
    node: NodeT = strawberry.field(description="The item.")


@strawberry.type(description="A page of a list: edges with cursors, or just the nodes.")
class Connection(Generic[NodeT]):
    edges: list[Edge[NodeT]] = strawberry.field(description="The page's items with cursors.")
    nodes: list[NodeT] = strawberry.field(description="The page's items.")
    page_info: PageInfo = strawberry.field(description="Where this page sits in the list.")
    listing: Private[store.Listing]

    @strawberry.field(description="How many items the whole filtered list holds (one count).")
    async def total_count(self, info: Info) -> int:
        return await info.context.counts.load(self.listing)

    @classmethod
    def of(
        cls,
        page: Page[Any],
        listing: store.Listing,
        request: PageRequest,
        to_node: Callable[[Any], NodeT],
    ) -> "Connection[NodeT]":
        ordering: Ordering = listing.ordering
        cursors = [encode_cursor(ordering, key) for key in page.keys]
        nodes = [to_node(doc) for doc in page.items]
        return cls(
            edges=[Edge(cursor=c, node=n) for c, n in zip(cursors, nodes, strict=True)],
            nodes=nodes,
            page_info=PageInfo(
                start_cursor=cursors[0] if cursors else None,
                end_cursor=cursors[-1] if cursors else None,
                page=page,
                listing=listing,
                request=request,
            ),
            listing=listing,
        )


async def connection(
    info: Info,
    listing: store.Listing,
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
    request = page_request(
        listing.ordering,
        first=first,
        after=after,
        last=last,
        before=before,
        limit=limit,
        descending=order is SortOrder.DESC,
    )
    if fetch is None:
        page = await store.fetch_page(info.context.db, listing, request)
    else:
        page = await fetch(request)
    return Connection.of(page, listing, request, to_node)


def optional_metadata(value: Metadata | None, *, field: str) -> dict[str, str] | None:
    return None if value is None else validation.metadata(value, field=field)


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
    def from_doc(cls, doc: dict[str, Any]) -> "ToolResources":
        code = doc.get("codeInterpreter")
        search = doc.get("fileSearch")
        return cls(
            code_interpreter=None
            if code is None
            else CodeInterpreterResources(file_ids=code["fileIds"]),
            file_search=None
            if search is None
            else FileSearchResources(vector_store_ids=search["vectorStoreIds"]),
        )


@strawberry.type(description="A conversation: an ordered list of messages with its settings.")
class Thread(Node):
    created_at: datetime = strawberry.field(description="When the thread was created.")
    updated_at: datetime = strawberry.field(
        description="When the thread last changed, a new or deleted message included."
    )
    title: str | None = strawberry.field(description="Display name, at most 200 characters.")
    metadata: Metadata = strawberry.field(description="Your key-value pairs for the thread.")
    tool_resources: ToolResources | None = strawberry.field(
        description="Resources for the assistant's tools."
    )
    assistant_id: str | None = strawberry.field(description="The assistant bound to the thread.")
    organization_id: str = strawberry.field(description="The organization owning the thread.")
    user_id: str = strawberry.field(description="The user who created the thread.")
    visible_in_ui: bool = strawberry.field(description="Whether UIs should list the thread.")
    state: ThreadState = strawberry.field(description="Lifecycle state; ACTIVE by default.")
    last_seq: Private[int]

    @classmethod
    def from_doc(cls, doc: store.ThreadDoc) -> "Thread":
        tools = doc["toolResources"]
        return cls(
            id=strawberry.ID(doc["_id"]),
            created_at=doc["createdAt"],
            updated_at=doc["updatedAt"],
            title=doc["title"],
            metadata=Metadata(doc["metadata"]),
            tool_resources=None if tools is None else ToolResources.from_doc(tools),
            assistant_id=doc["assistantId"],
            organization_id=doc["organizationId"],
            user_id=doc["userId"],
            visible_in_ui=doc["visibleInUi"],
            state=ThreadState(doc["state"]),
            last_seq=doc["seq"],
        )

    @strawberry.field(description="STREAMING while any of its messages is IN_PROGRESS.")
    async def status(self, info: Info) -> ThreadStatus:
        listing = store.message_listing(
            organization_id=info.context.organization_id,
            thread_id=self.id,
            status=store.IN_PROGRESS,
        )
        writing = await info.context.counts.load(listing)
        return ThreadStatus.STREAMING if writing else ThreadStatus.INACTIVE

    @strawberry.field(description="How many messages the thread holds.")
    async def message_count(self, info: Info) -> int:
        listing = store.message_listing(
            organization_id=info.context.organization_id, thread_id=self.id
        )
        return await info.context.counts.load(listing)

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
        listing = store.message_listing(
            organization_id=info.context.organization_id,
            thread_id=self.id,
            metadata=optional_metadata(metadata, field="metadata"),
            role=None if role is None else role.value,
        )

        def fetch(request: PageRequest) -> Awaitable[Page[Any]]:
            query = store.MessagePageQuery(listing, request, self.last_seq)
            return info.context.message_pages.load(query)

        return await connection(
            info,
            listing,
            Message.from_doc,
            first=first,
            after=after,
            last=last,
            before=before,
            limit=limit,
            order=order,
            fetch=fetch,
        )


@strawberry.type(description="A span of text that cites a file.")
class FileCitationAnnotation:
    text: str = strawberry.field(description="The text in the message that is annotated.")
    start_index: int = strawberry.field(description="Start of the span in the text value.")
    end_index: int = strawberry.field(description="End of the span in the text value.")
    file_id: str = strawberry.field(description="The cited file.")


@strawberry.type(description="A span of text that is a path to a generated file.")
class FilePathAnnotation:
    text: str = strawberry.field(description="The text in the message that is annotated.")
    start_index: int = strawberry.field(description="Start of the span in the text value.")
    end_index: int = strawberry.field(description="End of the span in the text value.")
    file_id: str = strawberry.field(description="The generated file.")


Annotation = Annotated[
    FileCitationAnnotation | FilePathAnnotation,
    strawberry.union("Annotation", description="A note on a span of a text part."),
]


@strawberry.type(description="Text with its annotations.")
class Text:
    value: str = strawberry.field(description="The text.")
    annotations: list[Annotation] = strawberry.field(description="Notes on spans of the text.")


@strawberry.type(description="A text part of a message.")
class TextContent:
    text: Text = strawberry.field(description="The text.")


@strawberry.type(description="An uploaded image file.")
class ImageFile:
    file_id: str = strawberry.field(description="The file id.")
    detail: ImageDetail = strawberry.field(description="Detail level for the model.")


@strawberry.type(description="An image file part of a message.")
class ImageFileContent:
    image_file: ImageFile = strawberry.field(description="The image file.")


@strawberry.type(description="An image on the web.")
class ImageUrl:
    url: str = strawberry.field(description="The http(s) URL of the image.")
    detail: ImageDetail = strawberry.field(description="Detail level for the model.")


@strawberry.type(description="An image URL part of a message.")
class ImageUrlContent:
    image_url: ImageUrl = strawberry.field(description="The image URL.")


MessageContent = Annotated[
    TextContent | ImageFileContent | ImageUrlContent,
    strawberry.union("MessageContent", description="A part of a message's content."),
]

_ANNOTATIONS: dict[str, type[FileCitationAnnotation] | type[FilePathAnnotation]] = {
    "fileCitation": FileCitationAnnotation,
    "filePath": FilePathAnnotation,
}


def content_from_doc(part: dict[str, Any]) -> TextContent | ImageFileContent | ImageUrlContent:
    if part["type"] == "imageFile":
        image = part["imageFile"]
        detail = ImageDetail(image["detail"])
        return ImageFileContent(image_file=ImageFile(file_id=image["fileId"], detail=detail))
    if part["type"] == "imageUrl":
        image = part["imageUrl"]
        detail = ImageDetail(image["detail"])
        return ImageUrlContent(image_url=ImageUrl(url=image["url"], detail=detail))
    annotations: list[FileCitationAnnotation | FilePathAnnotation] = [
        _ANNOTATIONS[a["type"]](
            text=a["text"],
            start_index=a["startIndex"],
            end_index=a["endIndex"],
            file_id=a["fileId"],
        )
        for a in part["text"]["annotations"]
    ]
    return TextContent(text=Text(value=part["text"]["value"], annotations=annotations))


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

    @classmethod
    def from_doc(cls, doc: store.MessageDoc) -> "Message":
        parts = doc["content"]
        return cls(
            id=strawberry.ID(doc["_id"]),
            created_at=doc["createdAt"],
            thread_id=strawberry.ID(doc["threadId"]),
            role=MessageRole(doc["role"]),
            content=[content_from_doc(part) for part in parts],
            text="\n".join(p["text"]["value"] for p in parts if p["type"] == "text"),
            status=MessageStatus(doc["status"]),
            assistant_id=doc["assistantId"],
            run_id=doc["runId"],
            incomplete_reason=doc.get("incompleteReason"),
            metadata=Metadata(doc["metadata"]),
        )

    @strawberry.field(description="The thread holding the message.")
    async def thread(self, info: Info) -> Thread:
        doc = await info.context.threads.load(self.thread_id)
        if doc is None:
            raise NotFound(f"Thread {self.thread_id} not found.")
        return Thread.from_doc(doc)


# Inputs


@strawberry.input(description="An image on the web.")
class ImageUrlInput:
    url: str = strawberry.field(description="An http(s) URL, at most 2,048 characters.")
    detail: ImageDetail = strawberry.field(default=ImageDetail.AUTO, description="Detail level.")


@strawberry.input(description="An uploaded image file.")
class ImageFileInput:
    file_id: str = strawberry.field(description="The file id.")
    detail: ImageDetail = strawberry.field(default=ImageDetail.AUTO, description="Detail level.")


@strawberry.input(one_of=True, description="One part of a message: exactly one field is set.")
class ContentPartInput:
    text: str | None = strawberry.field(default=UNSET, description="A text part.")
    image_url: ImageUrlInput | None = strawberry.field(default=UNSET, description="An image URL.")
    image_file: ImageFileInput | None = strawberry.field(
        default=UNSET, description="An image file."
    )

    def to_doc(self, *, field: str) -> dict[str, Any]:
        if self.image_url:
            url = validation.image_url(self.image_url.url, field=f"{field}.imageUrl.url")
            return {
                "type": "imageUrl",
                "imageUrl": {"url": url, "detail": self.image_url.detail.value},
            }
        if self.image_file:
            file_id = validation.reference(
                self.image_file.file_id, field=f"{field}.imageFile.fileId"
            )
            return {
                "type": "imageFile",
                "imageFile": {"fileId": file_id, "detail": self.image_file.detail.value},
            }
        assert isinstance(self.text, str)  # @oneOf: exactly one is set
        return text_part(validation.content(self.text, field=f"{field}.text"))


def text_part(value: str) -> dict[str, Any]:
    return {"type": "text", "text": {"value": value, "annotations": []}}


@strawberry.input(description="A message to add: give exactly one of content and contentParts.")
class MessageInput:
    role: MessageRole = strawberry.field(default=MessageRole.USER, description="Who wrote it.")
    content: str | None = strawberry.field(
        default=UNSET, description="Plain text, 1-256,000 characters."
    )
    content_parts: list[ContentPartInput] | None = strawberry.field(
        default=UNSET, description="Parts: text and images (1-32)."
    )
    metadata: Metadata | None = strawberry.field(default=UNSET, description="Key-value pairs.")
    assistant_id: str | None = strawberry.field(default=UNSET, description="Writing assistant.")
    run_id: str | None = strawberry.field(default=UNSET, description="Writing run.")

    def to_new_message(self, *, field: str) -> store.NewMessage:
        has_text, has_parts = isinstance(self.content, str), isinstance(self.content_parts, list)
        if has_text == has_parts:
            raise InvalidInput(field, f"{field} needs exactly one of content and contentParts.")
        if isinstance(self.content, str):
            parts = [text_part(validation.content(self.content, field=f"{field}.content"))]
        else:
            assert isinstance(self.content_parts, list)
            validation.count(
                self.content_parts,
                field=f"{field}.contentParts",
                min_items=1,
                max_items=validation.MAX_CONTENT_PARTS,
            )
            parts = [
                part.to_doc(field=f"{field}.contentParts.{index}")
                for index, part in enumerate(self.content_parts)
            ]
        total = sum(len(p["text"]["value"]) for p in parts if p["type"] == "text")
        if total > validation.MAX_CONTENT:
            raise InvalidInput(field, f"{field} text must total at most 256,000 characters.")
        return store.NewMessage(
            role=self.role.value,
            content=parts,
            metadata=optional_metadata(self.metadata or None, field=f"{field}.metadata") or {},
            assistantId=validation.reference(
                self.assistant_id or None, field=f"{field}.assistantId"
            ),
            runId=validation.reference(self.run_id or None, field=f"{field}.runId"),
        )


@strawberry.input(description="Resources of the code interpreter tool.")
class CodeInterpreterInput:
    file_ids: list[str] = strawberry.field(description="At most 20 file ids.")


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

    def to_doc(self, *, field: str) -> dict[str, Any]:
        doc: dict[str, Any] = {"codeInterpreter": None, "fileSearch": None}
        if self.code_interpreter is not None:
            ids = validation.references(
                self.code_interpreter.file_ids,
                field=f"{field}.codeInterpreter.fileIds",
                max_items=validation.MAX_FILE_IDS,
            )
            doc["codeInterpreter"] = {"fileIds": ids}
        if self.file_search is not None:
            ids = validation.references(
                self.file_search.vector_store_ids,
                field=f"{field}.fileSearch.vectorStoreIds",
                max_items=validation.MAX_VECTOR_STORE_IDS,
            )
            doc["fileSearch"] = {"vectorStoreIds": ids}
        return doc


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


# Events of a thread, for subscriptions


EVENT_ORDER = Ordering(kind="event", fields=("seq",), types=(int,))


def event_cursor() -> Any:
    return strawberry.field(description="Pass to threadEvents(after:) to resume after this.")


@strawberry.type(description="A message was added.")
class MessageCreated:
    cursor: str = event_cursor()
    message: Message = strawberry.field(description="The message as created.")


@strawberry.type(description="Text was appended to a message in progress.")
class MessageDelta:
    cursor: str = event_cursor()
    message_id: strawberry.ID = strawberry.field(description="The message.")
    delta: str = strawberry.field(description="The text appended.")


@strawberry.type(description="A message in progress was finished.")
class MessageCompleted:
    cursor: str = event_cursor()
    message: Message = strawberry.field(description="The finished message.")


@strawberry.type(description="A message's metadata changed.")
class MessageUpdated:
    cursor: str = event_cursor()
    message: Message = strawberry.field(description="The message after the change.")


@strawberry.type(description="A message was deleted.")
class MessageDeleted:
    cursor: str = event_cursor()
    message_id: strawberry.ID = strawberry.field(description="The deleted message.")


@strawberry.type(description="The thread itself changed.")
class ThreadUpdated:
    cursor: str = event_cursor()
    thread: Thread = strawberry.field(description="The thread after the change.")


@strawberry.type(description="The thread was deleted; the subscription ends after this.")
class ThreadDeleted:
    cursor: str = event_cursor()
    thread_id: strawberry.ID = strawberry.field(description="The deleted thread.")


ThreadEvent = Annotated[
    MessageCreated
    | MessageDelta
    | MessageCompleted
    | MessageUpdated
    | MessageDeleted
    | ThreadUpdated
    | ThreadDeleted,
    strawberry.union("ThreadEvent", description="Something that happened in a thread."),
]


def event_from_doc(event: store.EventDoc) -> Any:
    cursor = encode_cursor(EVENT_ORDER, (event["seq"],))
    data = store.event_data(event)
    kind = event["type"]
    if kind in ("MessageCreated", "MessageCompleted", "MessageUpdated"):
        message_event = {
            "MessageCreated": MessageCreated,
            "MessageCompleted": MessageCompleted,
            "MessageUpdated": MessageUpdated,
        }[kind]
        return message_event(cursor=cursor, message=Message.from_doc(data["message"]))
    if kind == "MessageDelta":
        return MessageDelta(
            cursor=cursor, message_id=strawberry.ID(data["messageId"]), delta=data["delta"]
        )
    if kind == "MessageDeleted":
        return MessageDeleted(cursor=cursor, message_id=strawberry.ID(data["messageId"]))
    if kind == "ThreadUpdated":
        return ThreadUpdated(cursor=cursor, thread=Thread.from_doc(data["thread"]))
    return ThreadDeleted(cursor=cursor, thread_id=strawberry.ID(event["threadId"]))
