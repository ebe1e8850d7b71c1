"""Test data, written through the store."""

from typing import Any

from app import store
from app.auth import LOCAL_ORGANIZATION, LOCAL_USER
from app.store import Database, MessageDoc, NewMessage, ThreadDoc
from app.types import text_part


def new_message(
    text: str = "hello", *, role: str = "user", metadata: dict[str, str] | None = None
) -> NewMessage:
    return NewMessage(
        role=role, content=[text_part(text)], metadata=metadata or {}, assistantId=None, runId=None
    )


async def make_thread(
    db: Database,
    *,
    organization_id: str = LOCAL_ORGANIZATION,
    user_id: str = LOCAL_USER,
    messages: int = 0,
    title: str | None = None,
    metadata: dict[str, str] | None = None,
    **fields: Any,
) -> ThreadDoc:
    thread = await store.create_thread(
        db,
        organization_id=organization_id,
        user_id=user_id,
        title=title,
        metadata=metadata or {},
        tool_resources=fields.get("tool_resources"),
        assistant_id=fields.get("assistant_id"),
        visible_in_ui=fields.get("visible_in_ui", True),
        messages=[new_message(f"message {n}") for n in range(1, messages + 1)],
    )
    if "state" in fields:
        thread = await store.update_thread(
            db,
            organization_id=organization_id,
            thread_id=thread["_id"],
            changes={"state": fields["state"]},
        )
    return thread


async def make_message(
    db: Database,
    thread_id: str,
    text: str = "hello",
    *,
    role: str = "user",
    metadata: dict[str, str] | None = None,
    organization_id: str = LOCAL_ORGANIZATION,
) -> MessageDoc:
    message, _ = await store.create_message(
        db,
        organization_id=organization_id,
        user_id=LOCAL_USER,
        thread_id=thread_id,
        message=new_message(text, role=role, metadata=metadata),
    )
    return message
