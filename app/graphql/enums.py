"""The GraphQL enums. Each value's Python value is the domain's member, so `.value` converts an
argument to the domain and `Enum(member)` converts back."""

from enum import Enum

import strawberry

from app import domain


@strawberry.enum(description="Who wrote a message.")
class MessageRole(Enum):
    USER = domain.Role.USER
    ASSISTANT = domain.Role.ASSISTANT
    SYSTEM = domain.Role.SYSTEM


@strawberry.enum(description="The order of a list by creation time.")
class SortOrder(Enum):
    ASC = strawberry.enum_value("asc", description="Oldest first.")
    DESC = strawberry.enum_value("desc", description="Newest first.")


@strawberry.enum(description="The lifecycle state of a thread.")
class ThreadState(Enum):
    ACTIVE = strawberry.enum_value(
        domain.ThreadState.ACTIVE, description="Takes new messages and changes."
    )
    LOCKED = strawberry.enum_value(
        domain.ThreadState.LOCKED,
        description="Read-only conversation: no new or deleted messages; the thread's own "
        "fields (title, metadata, state...) still change.",
    )
    ARCHIVED = strawberry.enum_value(
        domain.ThreadState.ARCHIVED,
        description="Kept but frozen: only `state` may change. Left out of `threads` unless "
        "`filter.state` asks for it.",
    )


@strawberry.enum(description="Whether an assistant is writing into the thread.")
class ThreadStatus(Enum):
    INACTIVE = domain.ThreadStatus.INACTIVE
    STREAMING = domain.ThreadStatus.STREAMING


@strawberry.enum(description="Whether a message is complete.")
class MessageStatus(Enum):
    IN_PROGRESS = domain.MessageStatus.IN_PROGRESS
    COMPLETED = domain.MessageStatus.COMPLETED
    INCOMPLETE = domain.MessageStatus.INCOMPLETE


@strawberry.enum(description="The detail level at which a model should look at an image.")
class ImageDetail(Enum):
    AUTO = domain.ImageDetail.AUTO
    LOW = domain.ImageDetail.LOW
    HIGH = domain.ImageDetail.HIGH
