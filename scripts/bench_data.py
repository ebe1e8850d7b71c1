"""The benchmark's data: one organization per size (1,000 / 10,000 / 100,000 threads) in one
database, seeded by bulk inserts of documents built by the app's own codec
(`app/store/codec.py`), so they stay valid when the stored layout changes; then each
organization's thread counters are rebuilt (`store.recount_threads`). The app's migrations run
first, on the empty database, as at a new deployment's first start: the documents seeded are
this version's, with nothing to migrate.

Per organization: threads created every 5 minutes back from now, titled "thread {n}", with
metadata {"tag": "a"} for odd n and {"tag": "b"} for even n. The newest READ_THREADS threads
hold 20 messages each (the inbox reads them; the newest, `nested`, holds 50); every other
thread holds one message, except the oldest (`long`, 10,000 messages) and the second oldest
(`write`, one message to start with: createMessage adds to it)."""

import asyncio
import time
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from typing import Any

from app import domain, store
from app.domain import Caller, Message, NewMessage, NewThread, Role, TextPart, Thread
from app.services import api_keys
from app.store import codec
from app.store.counters import LIVE, counted_as

USER = "user_bench"
META = "bench_meta"  # the seeded organizations and their keys (for BENCH_DATA_DIR reuse)
READ_THREADS = 60
READ_MESSAGES = 20
NESTED_MESSAGES = 50
LONG_MESSAGES = 10_000
SPACING = timedelta(minutes=5)
BATCH = 1_000


@dataclass(frozen=True)
class Org:
    size: int
    id: str
    key: str
    nested: str
    long: str
    write: str

    def as_doc(self) -> dict[str, Any]:
        return {"_id": self.id, **{k: v for k, v in self.__dict__.items() if k != "id"}}


def org_id(size: int) -> str:
    return f"org_bench_{size}"


def _message(caller: Caller, thread: Thread, seq: int, at: datetime) -> dict[str, Any]:
    text = f"message {seq} of {thread.title}"
    new = NewMessage(
        content=(TextPart(text),),
        role=Role.USER if seq % 2 else Role.ASSISTANT,
        metadata={"n": str(seq)},
    )
    message = Message.new(
        new,
        id=domain.new_id(domain.MESSAGE_PREFIX),
        caller=caller,
        thread_id=thread.id,
        seq=seq,
        at=at,
    )
    return codec.message_doc(message)


async def seed_org(db: store.Database, size: int, now: datetime, log: Any = print) -> Org:
    """Seed one organization of `size` threads; its description (with a new API key)."""
    organization = org_id(size)
    key = await api_keys.issue_key(db, organization_id=organization, user_id=USER, name="bench")
    caller = Caller(organization, USER, key.split("_")[1])
    threads: list[dict[str, Any]] = []
    messages: list[dict[str, Any]] = []
    ids: dict[str, str] = {}

    async def flush(final: bool = False) -> None:
        """Full batches (all that is left when `final`), threads and messages sent together."""
        nonlocal threads, messages
        writes = []
        if len(threads) >= BATCH or (final and threads):
            writes.append(db[store.THREADS].insert_many(threads, ordered=False))
            threads = []
        while len(messages) >= BATCH or (final and messages):
            writes.append(db[store.MESSAGES].insert_many(messages[:BATCH], ordered=False))
            messages = messages[BATCH:]
        await asyncio.gather(*writes)

    for n in range(size):
        created = now - SPACING * (n + 1)
        count = 1
        if n == 0:
            count = NESTED_MESSAGES
        elif n < READ_THREADS:
            count = READ_MESSAGES
        elif n == size - 1:
            count = LONG_MESSAGES
        new = NewThread(title=f"thread {n}", metadata={"tag": "a" if n % 2 else "b"})
        thread = Thread.new(new, id=domain.new_id(domain.THREAD_PREFIX), caller=caller, at=created)
        # Messages a second apart (the long thread's: a millisecond), the last one the
        # thread's activity.
        step = timedelta(milliseconds=1) if count == LONG_MESSAGES else timedelta(seconds=1)
        at = [created + step * seq for seq in range(1, count + 1)]
        thread = replace(thread, updated_at=at[-1], last_seq=count, message_count=count)
        # Counted already in the lane and under the terms recount_threads would give it, so
        # that the recount after seeding only reads (it still corrects any thread that differs).
        doc = codec.thread_doc(thread)
        terms = sorted(doc["metaTerms"])
        lane = counted_as(f"{LIVE}.{thread.state.value}", terms)
        threads.append({**doc, "countedAs": lane, "countedTerms": terms})
        messages += [_message(caller, thread, seq, at[seq - 1]) for seq in range(1, count + 1)]
        if n == 0:
            ids["nested"] = thread.id
        elif n == size - 2:
            ids["write"] = thread.id
        elif n == size - 1:
            ids["long"] = thread.id
        await flush()
        if n and n % 20_000 == 0:
            log(f"  {n:,} of {size:,} threads")
    await flush(final=True)
    await store.recount_threads(db, organization_id=organization, now=domain.now())
    org = Org(size=size, id=organization, key=key, **ids)
    await db[META].replace_one({"_id": organization}, org.as_doc(), upsert=True)
    return org


async def seeded(db: store.Database, sizes: list[int], log: Any = print) -> list[Org]:
    """The organizations of `sizes`, seeding those the database does not hold yet."""
    await store.ensure_indexes(db)
    await store.migrate(db, now=domain.now())
    orgs = []
    for size in sizes:
        doc = await db[META].find_one({"_id": org_id(size)})
        if doc is not None:
            orgs.append(Org(id=doc.pop("_id"), **doc))
            continue
        started = time.perf_counter()
        orgs.append(await seed_org(db, size, domain.now(), log))
        log(f"seeded {size:,} threads in {time.perf_counter() - started:,.1f} s")
    return orgs


def run_seed(uri: str, database: str, sizes: list[int], log: Any = print) -> list[Org]:
    async def go() -> list[Org]:
        db = store.open_database(uri, database, timeout_ms=120_000)
        try:
            return await seeded(db, sizes, log)
        finally:
            store.close_database(db)

    return asyncio.run(go())
