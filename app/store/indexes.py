"""Every index, with the queries it serves."""

from pymongo import ASCENDING, IndexModel

from app.store.connection import Database
from app.store.events import EVENT_TTL
from app.store.idempotency import IDEMPOTENCY_TTL
from app.store.inbox import INBOX_INDEX
from app.store.names import (
    API_KEYS,
    EVENTS,
    IDEMPOTENCY_KEYS,
    MESSAGES,
    PERSISTED_QUERIES,
    REVISIONS,
    THREADS,
)
from app.store.versioned import BY_ID


def _index(*fields: str, **options: object) -> IndexModel:
    return IndexModel([(name, ASCENDING) for name in fields], **options)


async def ensure_indexes(db: Database) -> None:
    # Lookups by id always name the organization, and for threads their visibility and state:
    # the embedded server's planner takes an index only when every filtered field is in it.
    await db[THREADS].create_indexes(
        [
            # by id; updates (store/versioned.py); the compare-and-set of a thread's counted
            # lane (store/counters.py)
            _index("organizationId", "_id", *BY_ID[THREADS]),
            _index("organizationId", "createdAt", "_id"),  # threads(...)
            _index("organizationId", "updatedAt", "_id"),  # threads(orderBy: UPDATED_AT)
            _index("organizationId", "userId", "createdAt", "_id"),  # threads(filter: {userId})
            _index("organizationId", "userId", "updatedAt", "_id"),
            _index("organizationId", "metaTerms", "createdAt", "_id"),  # filter: {metadata}
            _index("organizationId", "metaTerms", "updatedAt", "_id"),
            _index("organizationId", "titleTerms", "createdAt", "_id"),  # search by title
            _index("hidden", "deletedAt", sparse=True),  # the start-up sweep, the trash's purge
            _index("threadEvent.at", sparse=True),  # writes whose event a crash lost
            _index("countedAt", sparse=True),  # message counts to settle (message_counts.py)
        ]
    )
    await db[MESSAGES].create_indexes(
        [
            # by id; an edit's version check; updates (store/versioned.py)
            _index("organizationId", "_id", *BY_ID[MESSAGES]),
            # message pages of many threads: exact numbers (store/message_pages.py)
            _index("organizationId", "threadSeq"),
            _index("organizationId", "_id", "deletedAt"),  # to the trash, once
            _index("deletedAt", sparse=True),  # the trash's purge
            _index("eventAt", sparse=True),  # writes whose event a crash lost (record_missing)
            _index("organizationId", "threadId", "seq", unique=True),  # one thread's messages
            # search: a term (or a prefix's range of terms), newest first (store/search.py)
            _index("organizationId", "terms", "createdAt", "_id"),
        ]
    )
    await db[REVISIONS].create_indexes(
        [
            # A message's revisions (pages, the edit that keeps one, dropping the oldest)
            _index("organizationId", "messageId", "number", unique=True),
            _index("organizationId", "threadId"),  # a deleted thread's
        ]
    )
    await db[EVENTS].create_indexes(
        [
            _index("organizationId", "threadId", "seq", unique=True),  # replay after a cursor
            # inboxEvents: replay after a cursor, over the events that carry an inbox entry
            IndexModel(INBOX_INDEX, partialFilterExpression={"inboxSeq": {"$exists": True}}),
            _index("createdAt", expireAfterSeconds=int(EVENT_TTL.total_seconds())),
        ]
    )
    await db[API_KEYS].create_indexes([_index("organizationId", "createdAt")])  # apikey list
    await db[IDEMPOTENCY_KEYS].create_indexes(
        [_index("createdAt", expireAfterSeconds=int(IDEMPOTENCY_TTL.total_seconds()))]
    )
    await db[PERSISTED_QUERIES].create_indexes(
        [
            _index("organizationId", "expiresAt"),  # an organization's registrations (its cap)
            _index("expiresAt", expireAfterSeconds=0),  # registrations expire; trusted never
            _index("trusted", sparse=True),  # the trusted documents (register-documents)
        ]
    )
