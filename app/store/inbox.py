"""Each organization's inbox log: what happened to its threads, numbered per organization from a
counter document. An entry is not a document of its own: it rides on the thread event it
belongs to (store/events.py, `inboxSeq` and `inbox`), so a write, its event and its inbox entry
are one insert, kept as long as the event (EVENT_TTL) and watched by the same change stream.
A ThreadCreated, which has no thread event, is the thread's event number 0 (`write_created`).

The collection `inbox_events` that older versions wrote is no longer read: the counter goes on,
so numbers stay continuous, but entries logged before the upgrade are not replayed."""

from pymongo import ASCENDING, ReturnDocument

from app.inbox import InboxEvent
from app.store.codec import inbox_from_doc
from app.store.connection import Database
from app.store.names import EVENTS, INBOX_COUNTERS

# The inbox log's index on the events (store/indexes.py).
INBOX_INDEX = [("organizationId", ASCENDING), ("inboxSeq", ASCENDING)]


async def take_inbox_number(db: Database, *, organization_id: str) -> int:
    """The organization's next inbox number. It is taken before the event that carries it is
    written: a crash in between, or an event that turns out to be logged already, leaves a gap
    in the numbers, which subscribers skip."""
    counter = None
    while counter is None:  # None: a racing upsert created the counter first (a real server)
        counter = await db[INBOX_COUNTERS].find_one_and_update(
            {"_id": organization_id},
            {"$inc": {"seq": 1}},
            upsert=True,
            return_document=ReturnDocument.AFTER,
        )
    return int(counter["seq"])


async def latest_inbox_event(db: Database, *, organization_id: str) -> int:
    """The number of the organization's latest inbox event (0 before the first)."""
    counter = await db[INBOX_COUNTERS].find_one({"_id": organization_id})
    return 0 if counter is None else int(counter["seq"])


async def list_inbox_events(
    db: Database, *, organization_id: str, after: int, until: int | None = None
) -> list[InboxEvent]:
    """The organization's inbox events numbered after `after` (and up to `until`), in order."""
    seqs: dict[str, int] = {"$gt": after} if until is None else {"$gt": after, "$lt": until + 1}
    fields = {"organizationId": 1, "threadId": 1, "inboxSeq": 1, "inbox": 1, "data.thread": 1}
    scan = db[EVENTS].find({"organizationId": organization_id, "inboxSeq": seqs}, fields)
    # The index is partial (only the events carrying an entry): named, as the embedded server's
    # planner does not see that the range implies its filter.
    ordered = scan.sort("inboxSeq", ASCENDING).hint(INBOX_INDEX)
    return [inbox_from_doc(doc) async for doc in ordered]
