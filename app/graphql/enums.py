"""The GraphQL enums, named after the domain's: `domain.Role[argument.name]` converts an argument
to the domain, and `MessageRole(domain_member)` converts back."""

from enum import Enum

import strawberry

from app import domain


@strawberry.enum(description="Who wrote a message.")
class MessageRole(Enum):
    USER = strawberry.enum_value(domain.Role.USER, description="The person in the conversation.")
    ASSISTANT = strawberry.enum_value(
        domain.Role.ASSISTANT, description="The assistant (a model) answering."
    )
    SYSTEM = strawberry.enum_value(
        domain.Role.SYSTEM, description="Instructions that set the assistant's behaviour."
    )


@strawberry.enum(description="The order of a list by creation time.")
class SortOrder(Enum):
    ASC = strawberry.enum_value("asc", description="Oldest first.")
    DESC = strawberry.enum_value("desc", description="Newest first.")


@strawberry.enum(description="What a list of threads is ordered by.")
class ThreadOrderBy(Enum):
    CREATED_AT = strawberry.enum_value(
        domain.ThreadOrder.CREATED, description="When the thread was created."
    )
    UPDATED_AT = strawberry.enum_value(
        domain.ThreadOrder.UPDATED,
        description="When the thread last changed (a message written, its title, metadata or"
        " state changed): the inbox order. A walk leaves out threads that move after it"
        " started, so it never returns one twice; threadEvents reports what moved.",
    )


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
    INACTIVE = strawberry.enum_value(
        domain.ThreadStatus.INACTIVE, description="No message of the thread is IN_PROGRESS."
    )
    STREAMING = strawberry.enum_value(
        domain.ThreadStatus.STREAMING,
        description="An assistant is writing a message into the thread (one is IN_PROGRESS).",
    )


@strawberry.enum(description="Whether a message is complete.")
class MessageStatus(Enum):
    IN_PROGRESS = strawberry.enum_value(
        domain.MessageStatus.IN_PROGRESS,
        description="Still being written: appendMessageText adds to it, completeMessage ends it.",
    )
    COMPLETED = strawberry.enum_value(
        domain.MessageStatus.COMPLETED, description="Whole: its writer finished it."
    )
    INCOMPLETE = strawberry.enum_value(
        domain.MessageStatus.INCOMPLETE,
        description="Ended before its writer finished it; `incompleteReason` says why.",
    )


@strawberry.enum(description="The detail level at which a model should look at an image.")
class ImageDetail(Enum):
    AUTO = strawberry.enum_value(
        domain.ImageDetail.AUTO, description="The model chooses the detail level."
    )
    LOW = strawberry.enum_value(
        domain.ImageDetail.LOW, description="A low-resolution view: faster and cheaper."
    )
    HIGH = strawberry.enum_value(
        domain.ImageDetail.HIGH, description="A high-resolution view, for fine detail."
    )
