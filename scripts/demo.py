"""Load a few demo threads for the local organization, once (skipped when they are there)."""

import asyncio

from app import store
from app.auth import LOCAL_ORGANIZATION, LOCAL_USER
from app.settings import Settings
from app.types import text_part

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
    db = store.open_database(settings.mongodb_uri, settings.mongodb_database, timeout_ms=5_000)
    try:
        await store.ensure_indexes(db)
        listing = store.thread_listing(organization_id=LOCAL_ORGANIZATION, metadata=DEMO)
        if await store.count(db, listing):
            print("Demo threads are already loaded.")
            return
        for title, metadata, messages in THREADS:
            await store.create_thread(
                db,
                organization_id=LOCAL_ORGANIZATION,
                user_id=LOCAL_USER,
                title=title,
                metadata={**metadata, **DEMO},
                tool_resources=None,
                assistant_id=None,
                visible_in_ui=True,
                messages=[
                    store.NewMessage(
                        role=role,
                        content=[text_part(text)],
                        metadata={},
                        assistantId=None,
                        runId=None,
                    )
                    for role, text in messages
                ],
            )
        print(f"Loaded {len(THREADS)} demo threads.")
    finally:
        store.close_database(db)


if __name__ == "__main__":
    asyncio.run(main())
