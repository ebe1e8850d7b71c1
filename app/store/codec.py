"""Documents <-> domain values: the one place that knows stored field names.

Metadata is stored as a list of {k, v} pairs, so that any key (with dots, a leading `$`) is a
plain value: never a path or an operator, and matchable with an index. A message still being
written keeps its text as appended chunks (and their total length) instead of content parts.
"""

import json
from collections.abc import Mapping
from enum import Enum
from typing import Any

from app.domain import (
    Annotation,
    ContentPart,
    Event,
    EventType,
    FileCitation,
    FilePath,
    ForkOrigin,
    ImageDetail,
    ImageFilePart,
    ImageUrlPart,
    Keep,
    Message,
    MessageChanges,
    MessageStatus,
    Role,
    TextPart,
    Thread,
    ThreadChanges,
    ThreadState,
    ToolResources,
    given,
    text_of,
)
from app.inbox import InboxEvent, InboxEventType
from app.revisions import MessageRevision
from app.search_terms import TERMS_VERSION, index_terms

Doc = dict[str, Any]

# The messages a thread being created holds until they are in (store/threads.py).
PENDING = "pendingMessages"


# A message's thread and number as one value (`threadSeq`): the key of a one-field `$in` that
# reads exact numbers of many threads at once (store/message_pages.py).
def seq_key(thread_id: str, seq: int) -> str:
    return f"{thread_id}:{seq}"


def keyed(doc: Doc) -> Doc:
    """A message document as this version stores it: an older one (held by a thread being
    created) had `bucket`, its block of 32 numbers, instead of `threadSeq`."""
    current = {name: value for name, value in doc.items() if name != "bucket"}
    return {**current, "threadSeq": seq_key(doc["threadId"], doc["seq"])}


def metadata_pairs(metadata: Mapping[str, str | list[str]]) -> list[dict[str, Any]]:
    return [{"k": key, "v": value} for key, value in metadata.items()]


def _metadata(pairs: list[dict[str, Any]]) -> dict[str, str | list[str]]:
    return {pair["k"]: pair["v"] for pair in pairs}


def metadata_term(key: str, value: str) -> str:
    """One (key, string) of metadata as one indexable string; a list value gives one per item,
    so a condition on a string matches a list that holds it."""
    return json.dumps([key, value], ensure_ascii=False, separators=(",", ":"))


def metadata_terms(metadata: Mapping[str, str | list[str]]) -> list[str]:
    return sorted(
        {
            metadata_term(key, item)
            for key, value in metadata.items()
            for item in ([value] if isinstance(value, str) else value)
        }
    )


def _tool_resources_doc(tools: ToolResources | None) -> Doc | None:
    if tools is None:
        return None
    code, search = tools.code_interpreter_file_ids, tools.file_search_vector_store_ids
    return {
        "codeInterpreter": None if code is None else {"fileIds": list(code)},
        "fileSearch": None if search is None else {"vectorStoreIds": list(search)},
    }


def _tool_resources(doc: Doc | None) -> ToolResources | None:
    if doc is None:
        return None
    code, search = doc.get("codeInterpreter"), doc.get("fileSearch")
    return ToolResources(
        code_interpreter_file_ids=None if code is None else tuple(code["fileIds"]),
        file_search_vector_store_ids=None if search is None else tuple(search["vectorStoreIds"]),
    )


def thread_doc(thread: Thread) -> Doc:
    return {
        "_id": thread.id,
        "organizationId": thread.organization_id,
        "userId": thread.user_id,
        "createdAt": thread.created_at,
        "updatedAt": thread.updated_at,
        "title": thread.title,
        "metadata": metadata_pairs(thread.metadata),
        "metaTerms": metadata_terms(thread.metadata),
        "titleTerms": index_terms(thread.title or ""),
        "termsVersion": TERMS_VERSION,  # the rules of its title terms (backfill_search)
        "toolResources": _tool_resources_doc(thread.tool_resources),
        "assistantId": thread.assistant_id,
        "visibleInUi": thread.visible_in_ui,
        "state": thread.state.value,
        "seq": thread.last_seq,
        "messageCount": thread.message_count,
        **fork_origin_doc(thread.forked_from),
    }


def fork_origin_doc(origin: ForkOrigin | None) -> Doc:
    """A fork's link to its source, stored only on forks."""
    if origin is None:
        return {}
    return {"forkedFrom": {"threadId": origin.thread_id, "messageId": origin.message_id}}


def _fork_origin(doc: Doc | None) -> ForkOrigin | None:
    return None if doc is None else ForkOrigin(doc["threadId"], doc["messageId"])


def thread_from_doc(doc: Mapping[str, Any]) -> Thread:
    return Thread(
        id=doc["_id"],
        organization_id=doc["organizationId"],
        user_id=doc["userId"],
        created_at=doc["createdAt"],
        updated_at=doc["updatedAt"],
        title=doc["title"],
        metadata=_metadata(doc["metadata"]),
        tool_resources=_tool_resources(doc["toolResources"]),
        assistant_id=doc["assistantId"],
        visible_in_ui=doc["visibleInUi"],
        state=ThreadState(doc["state"]),
        last_seq=doc["seq"],
        message_count=doc.get("messageCount"),
        last_event=doc.get("eventSeq", 0),
        deleted_at=doc.get("deletedAt"),
        forked_from=_fork_origin(doc.get("forkedFrom")),
    )


def changes_doc(changes: ThreadChanges | MessageChanges) -> Doc:
    """The stored fields a change sets: each field is stored under its camelCase name."""
    doc = {_camel(name): _value(name, value) for name, value in given(changes).items()}
    if isinstance(changes.metadata, dict):
        doc["metaTerms"] = metadata_terms(changes.metadata)
    if isinstance(changes, MessageChanges) and isinstance(changes.content, tuple):
        doc |= text_terms(text_of(changes.content))
    if isinstance(changes, ThreadChanges) and not isinstance(changes.title, Keep):
        doc |= title_terms(changes.title)
    return doc


def text_terms(text: str) -> Doc:
    """The stored search terms of a message's text (app/search_terms.py)."""
    return {"terms": index_terms(text), "termsVersion": TERMS_VERSION}


def title_terms(title: str | None) -> Doc:
    """The stored search terms of a thread's title."""
    return {"titleTerms": index_terms(title or ""), "termsVersion": TERMS_VERSION}


def _camel(name: str) -> str:
    first, *rest = name.split("_")
    return first + "".join(word.title() for word in rest)


def _value(name: str, value: Any) -> Any:
    if name == "metadata":
        return metadata_pairs(value)
    if name == "tool_resources":
        return _tool_resources_doc(value)
    if name == "content":
        return [_part_doc(part) for part in value]
    return value.value if isinstance(value, Enum) else value


def _annotation_doc(annotation: Annotation) -> Doc:
    kind = "fileCitation" if isinstance(annotation, FileCitation) else "filePath"
    return {
        "type": kind,
        "text": annotation.text,
        "startIndex": annotation.start_index,
        "endIndex": annotation.end_index,
        "fileId": annotation.file_id,
    }


def _annotation(doc: Doc) -> Annotation:
    kind = FileCitation if doc["type"] == "fileCitation" else FilePath
    return kind(
        text=doc["text"],
        start_index=doc["startIndex"],
        end_index=doc["endIndex"],
        file_id=doc["fileId"],
    )


def _part_doc(part: ContentPart) -> Doc:
    if isinstance(part, ImageFilePart):
        return {
            "type": "imageFile",
            "imageFile": {"fileId": part.file_id, "detail": part.detail.value},
        }
    if isinstance(part, ImageUrlPart):
        return {"type": "imageUrl", "imageUrl": {"url": part.url, "detail": part.detail.value}}
    annotations = [_annotation_doc(a) for a in part.annotations]
    return {"type": "text", "text": {"value": part.value, "annotations": annotations}}


def _part(doc: Doc) -> ContentPart:
    if doc["type"] == "imageFile":
        image = doc["imageFile"]
        return ImageFilePart(file_id=image["fileId"], detail=ImageDetail(image["detail"]))
    if doc["type"] == "imageUrl":
        image = doc["imageUrl"]
        return ImageUrlPart(url=image["url"], detail=ImageDetail(image["detail"]))
    text = doc["text"]
    return TextPart(text["value"], tuple(_annotation(a) for a in text["annotations"]))


def message_doc(message: Message) -> Doc:
    doc: Doc = {
        "_id": message.id,
        "organizationId": message.organization_id,
        "userId": message.user_id,
        "threadId": message.thread_id,
        "seq": message.seq,
        "threadSeq": seq_key(message.thread_id, message.seq),
        "createdAt": message.created_at,
        "role": message.role.value,
        "content": [_part_doc(part) for part in message.content],
        "status": message.status.value,
        "assistantId": message.assistant_id,
        "runId": message.run_id,
        "metadata": metadata_pairs(message.metadata),
        "metaTerms": metadata_terms(message.metadata),
        # Found by search once written: a message in progress when it is finished.
        "terms": [] if message.status is MessageStatus.IN_PROGRESS else index_terms(message.text),
        "termsVersion": TERMS_VERSION,
    }
    if message.incomplete_reason is not None:
        doc["incompleteReason"] = message.incomplete_reason
    if message.edited_at is not None:  # stored once edited (store/revisions.py)
        doc["editedAt"] = message.edited_at
    if message.version > 1:
        doc["version"] = message.version
    if message.status is MessageStatus.IN_PROGRESS:
        text = message.text
        doc.update(content=[], chunks=[text] if text else [], length=len(text))
    return doc


def message_from_doc(doc: Mapping[str, Any]) -> Message:
    if "chunks" in doc:  # streamed: its text is the chunks appended so far
        content: tuple[ContentPart, ...] = (TextPart("".join(doc["chunks"])),)
    else:
        content = tuple(_part(part) for part in doc["content"])
    return Message(
        id=doc["_id"],
        organization_id=doc["organizationId"],
        user_id=doc["userId"],
        thread_id=doc["threadId"],
        seq=doc["seq"],
        created_at=doc["createdAt"],
        content=content,
        role=Role(doc["role"]),
        status=MessageStatus(doc["status"]),
        metadata=_metadata(doc["metadata"]),
        assistant_id=doc["assistantId"],
        run_id=doc["runId"],
        incomplete_reason=doc.get("incompleteReason"),
        edited_at=doc.get("editedAt"),
        version=doc.get("version", 1),
    )


def revision_doc(revision: MessageRevision) -> Doc:
    """A kept version of a message's content; `_id` is the driver's."""
    return {
        "organizationId": revision.organization_id,
        "threadId": revision.thread_id,
        "messageId": revision.message_id,
        "number": revision.number,
        "content": [_part_doc(part) for part in revision.content],
        "createdAt": revision.created_at,
    }


def revision_from_doc(doc: Mapping[str, Any]) -> MessageRevision:
    return MessageRevision(
        organization_id=doc["organizationId"],
        thread_id=doc["threadId"],
        message_id=doc["messageId"],
        number=doc["number"],
        content=tuple(_part(part) for part in doc["content"]),
        created_at=doc["createdAt"],
    )


def event_data(event: Event) -> Doc:
    """What an event carries besides its number: snapshots stored as documents are."""
    data: Doc = {}
    if event.message is not None:
        data["message"] = message_doc(event.message)
        for name in ("terms", "termsVersion", "threadSeq"):  # for the messages collection only
            del data["message"][name]
    if event.thread is not None:
        data["thread"] = thread_doc(event.thread)
    if event.message_id is not None:
        data["messageId"] = event.message_id
    if event.delta is not None:
        data["delta"] = event.delta
    if event.offset is not None:
        data["offset"] = event.offset
    return data


def event_from_doc(doc: Mapping[str, Any]) -> Event:
    """Raises ValueError for an event type this version does not know."""
    data = doc["data"]
    return Event(
        organization_id=doc["organizationId"],
        thread_id=doc["threadId"],
        seq=doc["seq"],
        type=EventType(doc["type"]),
        message=message_from_doc(data["message"]) if "message" in data else None,
        thread=thread_from_doc(data["thread"]) if "thread" in data else None,
        message_id=data.get("messageId"),
        delta=data.get("delta"),
        offset=data.get("offset"),
    )


def inbox_entry_doc(entry: InboxEvent, *, data: Doc) -> Doc:
    """The inbox entry a thread event's document carries (`data`: the event's own): the
    organization's number (indexed) and what the inbox event says; its thread snapshot only
    when the event does not carry the same one."""
    inbox: Doc = {"type": entry.type.value, "userId": entry.user_id}
    if entry.thread is not None and (snapshot := thread_doc(entry.thread)) != data.get("thread"):
        inbox["thread"] = snapshot
    return {"inboxSeq": entry.seq, "inbox": inbox}


def inbox_from_doc(doc: Mapping[str, Any]) -> InboxEvent:
    """The inbox entry of an event's document (one with `inboxSeq`)."""
    inbox = doc["inbox"]
    thread = inbox.get("thread", doc.get("data", {}).get("thread"))
    return InboxEvent(
        organization_id=doc["organizationId"],
        seq=doc["inboxSeq"],
        type=InboxEventType(inbox["type"]),
        thread_id=doc["threadId"],
        user_id=inbox["userId"],
        thread=None if thread is None else thread_from_doc(thread),
    )
