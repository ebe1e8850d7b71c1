"""The domain in plain typed values: ids, states, the thread state machine, threads, messages and
their events. No I/O, no GraphQL, no storage names."""

import uuid
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field, fields
from datetime import UTC, datetime
from enum import Enum, StrEnum

from app.errors import Conflict

THREAD_PREFIX = "thread_"
MESSAGE_PREFIX = "message_"

Clock = Callable[[], datetime]
IdFactory = Callable[[str], str]
# A value is a string, or a list of strings (tags): a condition on it matches a list holding it.
Metadata = dict[str, str | list[str]]


def now() -> datetime:
    """The current UTC time at the millisecond precision MongoDB stores, without tzinfo."""
    moment = datetime.now(UTC).replace(tzinfo=None)
    return moment.replace(microsecond=moment.microsecond // 1000 * 1000)


def new_id(prefix: str) -> str:
    return f"{prefix}{uuid.uuid4()}"


@dataclass(frozen=True)
class Caller:
    """Who is asking: every read and write is scoped to the caller's organization."""

    organization_id: str
    user_id: str
    key_id: str


class ThreadState(StrEnum):
    ACTIVE = "active"
    LOCKED = "locked"
    ARCHIVED = "archived"


class ThreadStatus(StrEnum):
    INACTIVE = "inactive"
    STREAMING = "streaming"

    @classmethod
    def of(cls, messages_in_progress: int) -> "ThreadStatus":
        return cls.STREAMING if messages_in_progress else cls.INACTIVE


class Role(StrEnum):
    USER = "user"
    ASSISTANT = "assistant"
    SYSTEM = "system"


class MessageStatus(StrEnum):
    IN_PROGRESS = "in_progress"
    COMPLETED = "completed"
    INCOMPLETE = "incomplete"


class ImageDetail(StrEnum):
    AUTO = "auto"
    LOW = "low"
    HIGH = "high"


class EventType(StrEnum):
    MESSAGE_CREATED = "MessageCreated"
    MESSAGE_DELTA = "MessageDelta"
    MESSAGE_COMPLETED = "MessageCompleted"
    MESSAGE_UPDATED = "MessageUpdated"
    MESSAGE_DELETED = "MessageDeleted"
    MESSAGE_RESTORED = "MessageRestored"
    THREAD_UPDATED = "ThreadUpdated"
    THREAD_DELETED = "ThreadDeleted"
    THREAD_RESTORED = "ThreadRestored"


# The thread state machine: what each state allows, and where it may go.


class Action(StrEnum):
    """What a write does to a thread; the value completes "cannot …" in a refusal."""

    ADD_MESSAGE = "add messages"
    DELETE_MESSAGE = "delete its messages"
    CHANGE_MESSAGE = "change its messages"
    EDIT_MESSAGE = "edit its messages"  # replace a message's content (its metadata: CHANGE_)
    STREAM = "stream into its messages"
    CHANGE_THREAD = "change anything but its state"
    CHANGE_STATE = "change its state"


ACTIVE, LOCKED, ARCHIVED = ThreadState.ACTIVE, ThreadState.LOCKED, ThreadState.ARCHIVED
ALLOWED: Mapping[ThreadState, frozenset[Action]] = {
    ACTIVE: frozenset(Action),
    # A read-only conversation: its messages stay, its own fields change. A message already
    # streaming still finishes.
    LOCKED: frozenset(
        {Action.CHANGE_MESSAGE, Action.STREAM, Action.CHANGE_THREAD, Action.CHANGE_STATE}
    ),
    ARCHIVED: frozenset({Action.STREAM, Action.CHANGE_STATE}),
}
TRANSITIONS: Mapping[ThreadState, frozenset[ThreadState]] = {
    ACTIVE: frozenset({LOCKED, ARCHIVED}),
    LOCKED: frozenset({ACTIVE, ARCHIVED}),
    ARCHIVED: frozenset({ACTIVE, LOCKED}),
}
# What `threads` lists when no state is asked for.
LISTED_BY_DEFAULT = (ACTIVE, LOCKED)


def states_allowing(*actions: Action, to: ThreadState | None = None) -> tuple[ThreadState, ...]:
    """The states in which a thread allows all `actions` (and the move `to` a state)."""
    return tuple(
        state
        for state in ThreadState
        if set(actions) <= ALLOWED[state]
        and (to is None or to == state or to in TRANSITIONS[state])
    )


def refused(thread: "Thread", action: Action) -> Conflict:
    return Conflict(f"Thread {thread.id} is {thread.state}: cannot {action}.")


# Messages


@dataclass(frozen=True)
class FileCitation:
    text: str
    start_index: int
    end_index: int
    file_id: str


@dataclass(frozen=True)
class FilePath:
    text: str
    start_index: int
    end_index: int
    file_id: str


Annotation = FileCitation | FilePath


@dataclass(frozen=True)
class TextPart:
    value: str
    annotations: tuple[Annotation, ...] = ()


@dataclass(frozen=True)
class ImageFilePart:
    file_id: str
    detail: ImageDetail = ImageDetail.AUTO


@dataclass(frozen=True)
class ImageUrlPart:
    url: str
    detail: ImageDetail = ImageDetail.AUTO


ContentPart = TextPart | ImageFilePart | ImageUrlPart


def text_of(content: tuple[ContentPart, ...]) -> str:
    """A message's text: its text parts joined with a newline."""
    if len(content) == 1 and isinstance(content[0], TextPart):
        return content[0].value
    return "\n".join(part.value for part in content if isinstance(part, TextPart))


@dataclass(frozen=True)
class NewMessage:
    """A message to add. An IN_PROGRESS one has one text part, appended to until completed."""

    content: tuple[ContentPart, ...]
    role: Role = Role.USER
    status: MessageStatus = MessageStatus.COMPLETED
    metadata: Metadata = field(default_factory=dict)
    assistant_id: str | None = None
    run_id: str | None = None


@dataclass(frozen=True)
class Message:
    id: str
    organization_id: str
    user_id: str
    thread_id: str
    seq: int  # its place in the thread: 1, 2, ...
    created_at: datetime
    content: tuple[ContentPart, ...]
    role: Role
    status: MessageStatus
    metadata: Metadata
    assistant_id: str | None
    run_id: str | None
    incomplete_reason: str | None = None
    edited_at: datetime | None = None  # when its content was last replaced (None: never)
    version: int = 1  # its content's number: 1 as created, one more per edit

    @property
    def text(self) -> str:
        return text_of(self.content)

    @classmethod
    def new(
        cls, new: NewMessage, *, id: str, caller: Caller, thread_id: str, seq: int, at: datetime
    ) -> "Message":
        return cls(
            id=id,
            organization_id=caller.organization_id,
            user_id=caller.user_id,
            thread_id=thread_id,
            seq=seq,
            created_at=at,
            content=new.content,
            role=new.role,
            status=new.status,
            metadata=new.metadata,
            assistant_id=new.assistant_id,
            run_id=new.run_id,
        )


class Keep(Enum):
    """The value of a field a change leaves as it is."""

    KEEP = "keep"


KEEP = Keep.KEEP


def given(changes: object) -> dict[str, object]:
    """The fields a changes value sets, by name."""
    return {
        f.name: getattr(changes, f.name)
        for f in fields(changes)  # type: ignore[arg-type]
        if getattr(changes, f.name) is not KEEP
    }


@dataclass(frozen=True)
class MessageChanges:
    metadata: Metadata | Keep = KEEP
    content: tuple[ContentPart, ...] | Keep = KEEP  # an edit: the replaced version is kept


# Threads


@dataclass(frozen=True)
class ToolResources:
    code_interpreter_file_ids: tuple[str, ...] | None = None
    file_search_vector_store_ids: tuple[str, ...] | None = None


@dataclass(frozen=True)
class NewThread:
    title: str | None = None
    metadata: Metadata = field(default_factory=dict)
    tool_resources: ToolResources | None = None
    assistant_id: str | None = None
    visible_in_ui: bool = True
    messages: tuple[NewMessage, ...] = ()


@dataclass(frozen=True)
class ForkOrigin:
    """A fork's source thread and the last message copied from it (None if none was)."""

    thread_id: str
    message_id: str | None


@dataclass(frozen=True)
class Thread:
    id: str
    organization_id: str
    user_id: str
    created_at: datetime
    updated_at: datetime
    title: str | None
    metadata: Metadata
    tool_resources: ToolResources | None
    assistant_id: str | None
    visible_in_ui: bool
    state: ThreadState
    last_seq: int = 0  # the last message's number
    message_count: int | None = 0  # out of the trash (store/message_counts.py); None: not kept
    last_event: int = 0  # the last event's number
    deleted_at: datetime | None = None  # when it went to the trash
    forked_from: ForkOrigin | None = None

    @classmethod
    def new(cls, new: NewThread, *, id: str, caller: Caller, at: datetime) -> "Thread":
        return cls(
            id=id,
            organization_id=caller.organization_id,
            user_id=caller.user_id,
            created_at=at,
            updated_at=at,
            title=new.title,
            metadata=new.metadata,
            tool_resources=new.tool_resources,
            assistant_id=new.assistant_id,
            visible_in_ui=new.visible_in_ui,
            state=ACTIVE,
            last_seq=len(new.messages),
            message_count=len(new.messages),
        )


@dataclass(frozen=True)
class ThreadChanges:
    title: str | Keep | None = KEEP
    metadata: Metadata | Keep = KEEP
    tool_resources: ToolResources | Keep | None = KEEP
    assistant_id: str | Keep | None = KEEP
    visible_in_ui: bool | Keep = KEEP
    state: ThreadState | Keep = KEEP


# Reads


Pairs = tuple[tuple[str, str], ...]


def pairs(metadata: Mapping[str, str | list[str]] | None) -> Pairs:
    """Metadata conditions as a hashable value: one (key, string) per string that must be there
    (a list condition asks for each of its strings)."""
    found = {
        (key, item)
        for key, value in (metadata or {}).items()
        for item in ([value] if isinstance(value, str) else value)
    }
    return tuple(sorted(found))


class ThreadOrder(StrEnum):
    """What `threads` is ordered by: creation, or last activity (the inbox order)."""

    CREATED = "created"
    UPDATED = "updated"


@dataclass(frozen=True)
class ThreadQuery:
    """Which threads to list, in which order: every given condition holds."""

    organization_id: str
    order: ThreadOrder = ThreadOrder.CREATED
    metadata: Pairs = ()
    states: tuple[ThreadState, ...] = LISTED_BY_DEFAULT
    visible_in_ui: bool | None = None
    assistant_id: str | None = None
    user_id: str | None = None
    trashed: bool = False  # the trash instead of the live threads


@dataclass(frozen=True)
class MessageQuery:
    """Which of a thread's messages to list: every given condition holds."""

    organization_id: str
    thread_id: str
    metadata: Pairs = ()
    role: Role | None = None
    status: MessageStatus | None = None


# Events


@dataclass(frozen=True)
class Event:
    """Something that happened in a thread, numbered in the thread's log from 1."""

    organization_id: str
    thread_id: str
    seq: int
    type: EventType
    message: Message | None = None
    thread: Thread | None = None
    message_id: str | None = None
    delta: str | None = None
    offset: int | None = None  # where in the message's text the delta goes
