"""Edits of a message's content, and the earlier versions they keep (`message_revisions`: one
document per kept version, numbered by the message's version it was).

A message's `version` (stored once edited) counts its contents: 1 as created, one more per
edit. The revisions a message shows are exactly the numbers `kept_revisions(version)`, the
latest MAX_REVISIONS below its version, so a page of them is a range of numbers and reads
never show a revision a crash left outside that range.
"""

from collections.abc import Sequence
from contextlib import suppress
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from pymongo.errors import DuplicateKeyError

from app.domain import Message, MessageChanges
from app.revisions import MessageRevision, kept_revisions
from app.store.codec import changes_doc, message_from_doc, revision_doc, revision_from_doc
from app.store.connection import Database, aggregate
from app.store.messages import numbered
from app.store.names import MESSAGES, REVISIONS
from app.store.versioned import find_one_and_update


async def edit_message(
    db: Database, *, message: Message, changes: MessageChanges, at: datetime, event: int
) -> Message | None:
    """Write `changes` (new content, maybe metadata) to `message` as read, keeping the version
    it had as a revision; the message after, or None if an edit got there first (read it again).

    Two writes, revision first, then the message (standalone MongoDB has no transactions):
    - Keeping the revision is an insert-if-absent under the unique (organization, message,
      number): version n's content never changes, so two edits racing from version n, or a
      retry after a crash, write the same document once.
    - The message moves from version n to n+1 only if it is still version n (a compare-and-set
      that orders racing edits: the loser reads again and keeps the winner's version).
    A crash between the two leaves revision n while the message is still version n: a copy of
    the current content, which no read shows (they stop below the version) and the next edit
    keeps as it is. Then the revisions that fall out of the window go; a crash before that
    leaves one too many, below the window, which no read shows and the next edit removes.
    Only a COMPLETED or INCOMPLETE message is edited, and a message never goes back to
    IN_PROGRESS, so the version check needs no status condition.
    """
    kept = revision_doc(MessageRevision.of(message))
    key = {name: kept.pop(name) for name in ("organizationId", "messageId", "number")}
    with suppress(DuplicateKeyError):  # a racing edit kept it at the same moment
        await db[REVISIONS].update_one(key, {"$setOnInsert": kept}, upsert=True)
    doc = await find_one_and_update(
        db,
        MESSAGES,
        {
            "_id": message.id,
            "organizationId": message.organization_id,
            # Unset until the first edit.
            "version": None if message.version == 1 else message.version,
        },
        {
            "$set": {**changes_doc(changes), "editedAt": at, "version": message.version + 1},
            "$unset": {"chunks": "", "length": ""},  # a streamed message's text, if any
            **numbered(event, at),
        },
    )
    if doc is None:
        return None
    edited = message_from_doc(doc)
    oldest, _ = kept_revisions(edited.version)
    if oldest > 1:
        await db[REVISIONS].delete_many(
            {
                "organizationId": message.organization_id,
                "messageId": message.id,
                "number": {"$lt": oldest},
            }
        )
    return edited


@dataclass(frozen=True)
class RevisionNumbers:
    """Which revisions of a message to read, in the order wanted."""

    message_id: str
    numbers: tuple[int, ...]


async def get_revisions(
    db: Database, *, organization_id: str, wanted: Sequence[RevisionNumbers]
) -> list[list[MessageRevision]]:
    """The revisions of many messages in one command (none if no numbers are wanted), in the
    order of `wanted`; a number that is not there (its message deleted meanwhile) is left out.

    The first `$match` is what an index scans: (organization, message) for many messages (a
    message holds at most MAX_REVISIONS), with the range of numbers for one; the exact
    numbers of each message follow in a second one.
    """
    asked = [w for w in wanted if w.numbers]
    if not asked:
        return [[] for _ in wanted]
    ids = sorted({w.message_id for w in asked})
    scan: dict[str, Any] = {"organizationId": organization_id}
    if len(ids) == 1:
        numbers = [n for w in asked for n in w.numbers]
        scan.update(messageId=ids[0], number={"$gte": min(numbers), "$lte": max(numbers)})
    else:
        scan["messageId"] = {"$in": ids}
    exact = [{"messageId": w.message_id, "number": {"$in": list(w.numbers)}} for w in asked]
    pipeline = [{"$match": scan}, {"$match": exact[0] if len(exact) == 1 else {"$or": exact}}]
    found: dict[tuple[str, int], MessageRevision] = {}
    for doc in await aggregate(db, REVISIONS, pipeline):
        revision = revision_from_doc(doc)
        found[revision.message_id, revision.number] = revision
    return [
        [found[w.message_id, n] for n in w.numbers if (w.message_id, n) in found] for w in wanted
    ]


async def remove_revisions(
    db: Database,
    *,
    organization_id: str,
    message_id: str | None = None,
    thread_id: str | None = None,
) -> None:
    """Remove the revisions of a message, or of every message of a thread."""
    assert (message_id is None) != (thread_id is None), "a message or a thread"
    which = {"messageId": message_id} if thread_id is None else {"threadId": thread_id}
    await db[REVISIONS].delete_many({"organizationId": organization_id, **which})
