"""A thread's count of its messages out of the trash (`messageCount`), kept on the thread so
that reading it reads no message. The write that numbers a message's creation, trashing or
restoring moves the count in the same update (`events.take_event_number`), before the message
write it counts, and marks when (`countedAt`). A write that then finds nothing to do (a racing
retry or delete) moves it back; one a crash cut short leaves it off, until
`settle_message_counts` recounts the thread, once no write that moved it can still be running."""

from datetime import datetime

from app.domain import MessageQuery
from app.store.connection import Database
from app.store.events import counted
from app.store.listings import count_listings
from app.store.names import THREADS


async def move_message_count(
    db: Database, *, organization_id: str, thread_id: str, by: int, at: datetime
) -> None:
    """Move the thread's count by `by`: to undo a move whose message write found nothing to do."""
    await db[THREADS].update_one(
        {"_id": thread_id, "organizationId": organization_id},
        {"$inc": {"messageCount": by}, "$set": counted(at)},
    )


async def settle_message_counts(db: Database, *, before: datetime) -> int:
    """Recount the messages of each thread whose count a write moved before `before` and none
    since (a write moving it meanwhile keeps the mark: the next pass recounts); how many counts
    were off."""
    off = 0
    marked = db[THREADS].find(
        {"countedAt": {"$lte": before}}, {"organizationId": 1, "countedAt": 1, "messageCount": 1}
    )
    async for doc in marked:
        query = MessageQuery(organization_id=doc["organizationId"], thread_id=doc["_id"])
        [count] = await count_listings(db, [query])
        settled = await db[THREADS].update_one(
            {
                "_id": doc["_id"],
                "organizationId": doc["organizationId"],
                "countedAt": doc["countedAt"],
            },
            {"$set": {"messageCount": count}, "$unset": {"countedAt": ""}},
        )
        if settled.modified_count and doc.get("messageCount") != count:
            off += 1
    return off
