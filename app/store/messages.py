"""Message documents: reads by id and the writes."""

from datetime import datetime
from typing import Any

from pymongo.errors import DuplicateKeyError

from app.domain import Message, MessageChanges, MessageStatus
from app.errors import NotFound
from app.store.codec import changes_doc, message_doc, message_from_doc, text_terms
from app.store.connection import Database, aggregate
from app.store.names import MESSAGES
from app.store.versioned import Images, find_one_and_update

IN_PROGRESS = MessageStatus.IN_PROGRESS.value


async def get_messages(db: Database, *, organization_id: str, ids: list[str]) -> dict[str, Message]:
    # Two stages: the embedded server's planner takes the by-id index only for a filter of
    # its fields; then what is in the trash is left out.
    scan = {"_id": {"$in": ids}, "organizationId": organization_id}
    docs = await aggregate(db, MESSAGES, [{"$match": scan}, {"$match": {"deletedAt": None}}])
    return {doc["_id"]: message_from_doc(doc) for doc in docs}


async def get_message(db: Database, *, organization_id: str, message_id: str) -> Message:
    found = await get_messages(db, organization_id=organization_id, ids=[message_id])
    if message_id not in found:
        raise NotFound(f"Message {message_id} not found.")
    return found[message_id]


def numbered(event: int, at: datetime) -> dict[str, Any]:
    """The update that records a write's event number in the message it changes (never back):
    what `record_missing` looks for after a crash."""
    return {"$max": {"lastEvent": event, "eventAt": at}}


def not_outnumbered(event: int) -> dict[str, Any]:
    """Only if no write with a later event number changed the message yet: the order of the
    writes is the order of their events."""
    return {"lastEvent": {"$not": {"$gt": event}}}


async def insert_message(db: Database, message: Message, *, event: int) -> bool:
    """Whether the message was written, with its MessageCreated's number: False if one with
    its id exists (a racing retry)."""
    numbers = {"createdEvent": event, "lastEvent": event, "eventAt": message.created_at}
    try:
        await db[MESSAGES].insert_one({**message_doc(message), **numbers})
    except DuplicateKeyError:
        return False
    return True


async def remove_message(db: Database, *, organization_id: str, message_id: str) -> bool:
    """Whether there was such a message."""
    deleted = await db[MESSAGES].delete_one({"_id": message_id, "organizationId": organization_id})
    return deleted.deleted_count > 0


async def update_message(
    db: Database,
    *,
    organization_id: str,
    message_id: str,
    changes: MessageChanges,
    event: int,
    at: datetime,
) -> Message:
    doc = await find_one_and_update(
        db,
        MESSAGES,
        {"_id": message_id, "organizationId": organization_id},
        {"$set": changes_doc(changes), **numbered(event, at)},
    )
    if doc is None:
        raise NotFound(f"Message {message_id} not found.")
    return message_from_doc(doc)


async def append_text(
    db: Database,
    *,
    organization_id: str,
    message_id: str,
    delta: str,
    max_length: int,
    event: int,
    at: datetime,
    images: Images | None = None,
) -> Message | None:
    """Append to a message in progress whose text stays within `max_length`, unless a write
    numbered after `event` got there first; None if not."""
    doc = await find_one_and_update(
        db,
        MESSAGES,
        {
            "_id": message_id,
            "organizationId": organization_id,
            "status": IN_PROGRESS,
            "length": {"$lte": max_length - len(delta)},
            **not_outnumbered(event),
        },
        {"$push": {"chunks": delta}, "$inc": {"length": len(delta)}, **numbered(event, at)},
        images=images,
    )
    return None if doc is None else message_from_doc(doc)


async def finish_message(
    db: Database,
    *,
    organization_id: str,
    message_id: str,
    status: MessageStatus,
    incomplete_reason: str | None,
    event: int,
    at: datetime,
) -> Message | None:
    """End a message in progress, with the search terms of its text; None if it is not in
    progress or a write numbered after `event` got there first. The text is read, then the
    message finished only if no text was appended since (else read again), so the terms are
    always those of the final text."""
    which = {"_id": message_id, "organizationId": organization_id, "status": IN_PROGRESS}
    while True:
        read = await db[MESSAGES].find_one({**which, **not_outnumbered(event)})
        if read is None:
            return None
        terms = text_terms(message_from_doc(read).text)
        doc = await find_one_and_update(
            db,
            MESSAGES,
            {**which, "length": read["length"], **not_outnumbered(event)},
            {
                "$set": {"status": status.value, "incompleteReason": incomplete_reason, **terms},
                **numbered(event, at),
            },
        )
        if doc is not None:
            return message_from_doc(doc)


async def outnumbered(db: Database, *, organization_id: str, message_id: str, event: int) -> bool:
    """Whether a write numbered after `event` changed the message."""
    found = await db[MESSAGES].find_one(
        {"_id": message_id, "organizationId": organization_id, "lastEvent": {"$gt": event}},
        {"_id": 1},
    )
    return found is not None
