"""Test data, written through the use cases."""

from dataclasses import replace
from typing import Any

from app import domain
from app.domain import Caller, Message, NewMessage, NewThread, TextPart, Thread, ThreadChanges
from app.services import messages, threads
from app.services.api_keys import LOCAL_ORGANIZATION, LOCAL_USER
from app.services.runtime import Runtime
from app.store import Database


def caller(organization_id: str = LOCAL_ORGANIZATION, user_id: str = LOCAL_USER) -> Caller:
    return Caller(organization_id=organization_id, user_id=user_id, key_id="test")


def new_message(
    text: str = "hello",
    *,
    role: str = "user",
    metadata: domain.Metadata | None = None,
) -> NewMessage:
    return NewMessage(content=(TextPart(text),), role=domain.Role(role), metadata=metadata or {})


async def make_thread(
    db: Database,
    *,
    organization_id: str = LOCAL_ORGANIZATION,
    user_id: str = LOCAL_USER,
    messages: int = 0,
    state: domain.ThreadState | None = None,
    runtime: Runtime | None = None,
    **fields: Any,
) -> Thread:
    """A thread with `messages` messages ("message 1", ...); `fields` as in NewThread."""
    new = replace(
        NewThread(messages=tuple(new_message(f"message {n}") for n in range(1, messages + 1))),
        **fields,
    )
    rt = runtime or Runtime(db)
    who = caller(organization_id, user_id)
    thread = (await threads.create_thread(rt, caller=who, thread=new)).value
    if state is not None:
        changes = ThreadChanges(state=state)
        written = await threads.update_thread(rt, caller=who, thread_id=thread.id, changes=changes)
        thread = written.value
    return thread


async def make_message(
    db: Database,
    thread_id: str,
    text: str = "hello",
    *,
    role: str = "user",
    metadata: domain.Metadata | None = None,
    organization_id: str = LOCAL_ORGANIZATION,
) -> Message:
    written = await messages.create_message(
        Runtime(db),
        caller=caller(organization_id),
        thread_id=thread_id,
        message=new_message(text, role=role, metadata=metadata),
    )
    message, _ = written.value
    return message
