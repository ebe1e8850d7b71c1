"""Domain values of the live inbox: what happened to an organization's threads, numbered in the
organization's inbox log from 1 (the thread log's events are `domain.Event`)."""

from dataclasses import dataclass, replace
from enum import StrEnum

from app.domain import Thread


class InboxEventType(StrEnum):
    THREAD_CREATED = "ThreadCreated"
    THREAD_UPDATED = "ThreadUpdated"  # the thread itself, or its activity (a message write)
    THREAD_DELETED = "ThreadDeleted"  # to the trash, or for good
    THREAD_RESTORED = "ThreadRestored"


@dataclass(frozen=True)
class InboxEvent:
    """Something that happened to one of the organization's threads: `user_id` is the thread's
    creator (for `mine`); `thread` the thread after the change (None for ThreadDeleted)."""

    organization_id: str
    seq: int
    type: InboxEventType
    thread_id: str
    user_id: str
    thread: Thread | None = None

    @classmethod
    def showing(cls, thread: Thread, seq: int, type: InboxEventType) -> "InboxEvent":
        """The entry numbered `seq` that shows `thread` (as after the change)."""
        return cls(thread.organization_id, seq, type, thread.id, thread.user_id, thread)


def with_event(thread: Thread, event: int | None) -> Thread:
    """The thread as of the event a write recorded (what its inbox event shows)."""
    return thread if event is None else replace(thread, last_event=max(event, thread.last_event))
