"""Load a few demo threads for the local organization, once (skipped when they are there)."""

import asyncio

from app import store
from app.domain import (
    Caller,
    MessageChanges,
    MessageQuery,
    Metadata,
    NewMessage,
    NewThread,
    Role,
    TextPart,
    Thread,
    ThreadQuery,
    pairs,
)
from app.pagination import PageRequest
from app.services import forks, messages, threads, trash
from app.services.api_keys import LOCAL_ORGANIZATION, LOCAL_USER
from app.services.forks import Fork
from app.services.runtime import Runtime
from app.settings import Settings

DEMO = {"demo": "true"}

THREADS: list[tuple[str, Metadata, list[tuple[str, str]]]] = [
    (
        "Beef and potato stew",
        {"category": "cooking", "tags": ["recipe", "dinner"]},
        [
            ("user", "How do I make a delicious beef and potato stew?"),
            ("assistant", "Brown the beef, add onions, potatoes and stock, then simmer 2 hours."),
            ("user", "Can I use a pressure cooker?"),
            ("assistant", "Yes: 35 minutes at high pressure, then a natural release."),
        ],
    ),
    (
        "How does AI work?",
        {"category": "learning", "priority": "low"},
        [
            ("user", "How does AI work? Explain it in simple terms."),
            ("assistant", "It learns patterns from many examples and uses them to predict."),
        ],
    ),
    ("Support ticket 4711", {"category": "support", "priority": "high"}, []),
    ("Old shopping list", {"category": "errands"}, [("user", "Milk, eggs, flour.")]),
]


async def main() -> None:
    settings = Settings()
    db = store.open_database(settings.database_uri, settings.mongodb_database, timeout_ms=5_000)
    try:
        await store.ensure_indexes(db)
        demo = ThreadQuery(organization_id=LOCAL_ORGANIZATION, metadata=pairs(DEMO))
        if (await store.count_all(db, [demo]))[0]:
            print("Demo threads are already loaded.")
            return
        caller = Caller(organization_id=LOCAL_ORGANIZATION, user_id=LOCAL_USER, key_id="demo")
        rt = Runtime(db)
        made = []
        for title, metadata, messages in THREADS:
            thread = NewThread(
                title=title,
                metadata={**metadata, **DEMO},
                messages=tuple(
                    NewMessage(content=(TextPart(text),), role=Role(role))
                    for role, text in messages
                ),
            )
            made.append((await threads.create_thread(rt, caller=caller, thread=thread)).value)
        stew, ai, _, shopping = made
        await show_the_chat_features(rt, caller, stew, ai, shopping)
        print(f"Loaded {len(THREADS)} demo threads (one in the trash, one forked, one edited).")
    finally:
        store.close_database(db)


async def show_the_chat_features(
    rt: Runtime, caller: Caller, stew: Thread, ai: Thread, shopping: Thread
) -> None:
    """An edited answer (with its earlier version kept), a fork, and a thread in the trash."""
    page = await store.fetch_page(
        rt.db,
        MessageQuery(organization_id=caller.organization_id, thread_id=stew.id),
        PageRequest(size=2, forward=True, descending=False),
        now=rt.clock(),
    )
    answer = page.items[1]
    edited = "Brown the beef, add onions, potatoes and stock, simmer 2 hours; salt at the end."
    changes = MessageChanges(content=(TextPart(edited),))
    await messages.update_message(rt, caller=caller, message_id=answer.id, changes=changes)
    fork = Fork(thread_id=ai.id, title="How does AI work? (a second try)")
    await forks.fork_thread(rt, caller=caller, fork=fork)
    await trash.delete_thread(rt, caller=caller, thread_id=shopping.id)


if __name__ == "__main__":
    asyncio.run(main())
