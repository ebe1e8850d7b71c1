"""Load a few demo threads for the local organization, once (skipped when they are there)."""

import asyncio

from app import store
from app.domain import Caller, NewMessage, NewThread, Role, TextPart, ThreadQuery, pairs
from app.services import threads
from app.services.api_keys import LOCAL_ORGANIZATION, LOCAL_USER
from app.services.runtime import Runtime
from app.settings import Settings

DEMO = {"demo": "true"}

THREADS: list[tuple[str, dict[str, str], list[tuple[str, str]]]] = [
    (
        "Beef and potato stew",
        {"category": "cooking"},
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
        for title, metadata, messages in THREADS:
            thread = NewThread(
                title=title,
                metadata={**metadata, **DEMO},
                messages=tuple(
                    NewMessage(content=(TextPart(text),), role=Role(role))
                    for role, text in messages
                ),
            )
            await threads.create_thread(Runtime(db), caller=caller, thread=thread)
        print(f"Loaded {len(THREADS)} demo threads.")
    finally:
        store.close_database(db)


if __name__ == "__main__":
    asyncio.run(main())
