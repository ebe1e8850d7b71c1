"""Changes to stored documents that older versions wrote, each run once (then marked done)."""

from datetime import datetime

from app.store.codec import metadata_terms
from app.store.connection import Database, aggregate
from app.store.counters import recount_threads
from app.store.names import MESSAGES, MIGRATIONS, THREADS

BUCKET_INDEX = "organizationId_1_bucket_1"  # of versions that read messages in blocks
# Indexes of older versions that newer ones of the same purpose replaced (store/indexes.py).
REPLACED_INDEXES = {
    THREADS: [
        "organizationId_1__id_1_hidden_1_state_1",
        "organizationId_1__id_1_hidden_1_state_1_countedAs_1",
    ],
    MESSAGES: ["organizationId_1__id_1_version_1"],
}


async def migrate(db: Database, *, now: datetime) -> int:
    """Run what has not run on this database yet; how many documents changed."""
    changed = 0
    if await db[MIGRATIONS].find_one({"_id": "metaTerms"}) is None:
        changed += await _metadata_terms(db)
        await db[MIGRATIONS].update_one(
            {"_id": "metaTerms"}, {"$set": {"doneAt": now}}, upsert=True
        )
    # The thread counters began, then the counts by metadata term: one recount of every
    # organization makes both (the threads' counted lanes and terms, the counter documents).
    counters = ("threadCounters", "termCounters")
    done = await db[MIGRATIONS].count_documents({"_id": {"$in": list(counters)}})
    if done < len(counters):
        for organization_id in await db[THREADS].distinct("organizationId"):
            await recount_threads(db, organization_id=organization_id, now=now)
        for name in counters:
            await db[MIGRATIONS].update_one({"_id": name}, {"$set": {"doneAt": now}}, upsert=True)
    if await db[MIGRATIONS].find_one({"_id": "threadSeq"}) is None:
        changed += await _thread_seq_keys(db)
        await db[MIGRATIONS].update_one(
            {"_id": "threadSeq"}, {"$set": {"doneAt": now}}, upsert=True
        )
    if await db[MIGRATIONS].find_one({"_id": "messageCount"}) is None:
        changed += await _message_counts(db)
        await db[MIGRATIONS].update_one(
            {"_id": "messageCount"}, {"$set": {"doneAt": now}}, upsert=True
        )
    await _drop_replaced_indexes(db)
    return changed


async def _drop_replaced_indexes(db: Database) -> None:
    for collection, names in REPLACED_INDEXES.items():
        present = await db[collection].index_information()
        for name in names:
            if name in present:
                await db[collection].drop_index(name)


async def _message_counts(db: Database) -> int:
    """Threads written before they kept their message count get it: one pass over the
    messages out of the trash, grouped by thread."""
    grouped = {"$group": {"_id": "$threadId", "count": {"$sum": 1}}}
    rows = await aggregate(db, MESSAGES, [{"$match": {"deletedAt": None}}, grouped])
    changed = 0
    for row in rows:
        done = await db[THREADS].update_one(
            {"_id": row["_id"], "messageCount": {"$exists": False}},
            {"$set": {"messageCount": row["count"]}},
        )
        changed += done.modified_count
    rest = await db[THREADS].update_many(
        {"messageCount": {"$exists": False}}, {"$set": {"messageCount": 0}}
    )
    return changed + rest.modified_count


async def _thread_seq_keys(db: Database) -> int:
    """Messages written when pages read blocks of 32 numbers (`bucket`) get the exact key of
    their number (`threadSeq`, codec.seq_key), in one command; the blocks' index goes."""
    key = {"$concat": ["$threadId", ":", {"$toString": "$seq"}]}
    done = await db[MESSAGES].update_many(
        {"threadSeq": {"$exists": False}},
        [{"$set": {"threadSeq": key}}, {"$project": {"bucket": 0}}],
    )
    if BUCKET_INDEX in await db[MESSAGES].index_information():
        await db[MESSAGES].drop_index(BUCKET_INDEX)
    return int(done.modified_count)


async def _metadata_terms(db: Database) -> int:
    """Threads and messages written before metadata filters used terms get theirs."""
    changed = 0
    for collection in (THREADS, MESSAGES):
        missing = db[collection].find({"metaTerms": {"$exists": False}}, {"metadata": 1})
        async for doc in missing:
            metadata = {pair["k"]: pair["v"] for pair in doc.get("metadata", [])}
            terms = metadata_terms(metadata)
            await db[collection].update_one({"_id": doc["_id"]}, {"$set": {"metaTerms": terms}})
            changed += 1
    return changed
