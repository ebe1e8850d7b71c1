"""Earlier versions of a message's content: what an edit keeps, and which of them a message
shows. Plain typed values, like app/domain.py (no I/O, no GraphQL, no storage names)."""

from dataclasses import dataclass
from datetime import datetime

from app.domain import ContentPart, Message, text_of

# How many earlier versions of a message's content are kept: the latest ones.
MAX_REVISIONS = 50


@dataclass(frozen=True)
class MessageRevision:
    """An earlier version of a message's content, kept when an edit replaced it. `number` is
    the message's version it was (1: as created); `created_at` is when that version was
    written: the message's creation for 1, the edit that wrote it for the others."""

    organization_id: str
    thread_id: str
    message_id: str
    number: int
    content: tuple[ContentPart, ...]
    created_at: datetime

    @property
    def text(self) -> str:
        return text_of(self.content)

    @classmethod
    def of(cls, message: Message) -> "MessageRevision":
        """The message's current version, as the revision an edit keeps."""
        return cls(
            organization_id=message.organization_id,
            thread_id=message.thread_id,
            message_id=message.id,
            number=message.version,
            content=message.content,
            created_at=message.edited_at or message.created_at,
        )


def kept_revisions(version: int) -> tuple[int, int]:
    """The numbers of the revisions a message of `version` shows: the latest MAX_REVISIONS
    before it (the range is empty for a message never edited)."""
    return max(1, version - MAX_REVISIONS), version - 1
