"""The domain's values and rules, and their stored form: pure, no database."""

from dataclasses import replace
from datetime import datetime
from itertools import count

import pytest
from mongomock_motor import AsyncMongoMockClient

from app import domain
from app.domain import (
    ACTIVE,
    ARCHIVED,
    LOCKED,
    Action,
    EventType,
    ImageDetail,
    ImageUrlPart,
    Message,
    MessageStatus,
    Role,
    TextPart,
    Thread,
    ThreadChanges,
    ThreadStatus,
    states_allowing,
)
from app.services import threads
from app.services.runtime import Runtime
from app.store import codec
from tests.helpers.factories import caller, new_message

AT = datetime(2026, 11, 28, 9, 30, 0, 123000)


def test_the_state_machine() -> None:
    assert states_allowing(Action.ADD_MESSAGE) == (ACTIVE,)
    assert states_allowing(Action.DELETE_MESSAGE) == (ACTIVE,)
    assert states_allowing(Action.CHANGE_THREAD) == (ACTIVE, LOCKED)
    assert states_allowing(Action.CHANGE_MESSAGE) == (ACTIVE, LOCKED)
    assert states_allowing(Action.CHANGE_STATE, to=ACTIVE) == (ACTIVE, LOCKED, ARCHIVED)
    assert states_allowing(Action.CHANGE_THREAD, Action.CHANGE_STATE, to=ARCHIVED) == (
        ACTIVE,
        LOCKED,
    )
    thread = _thread(state=LOCKED)
    refusal = domain.refused(thread, Action.ADD_MESSAGE)
    assert refusal.code == "CONFLICT"
    assert refusal.message == f"Thread {thread.id} is locked: cannot add messages."


def test_derived_values() -> None:
    parts = (TextPart("a"), ImageUrlPart("https://x.test/i.png"), TextPart("b"))
    assert domain.text_of(parts) == "a\nb"
    assert ThreadStatus.of(0) is ThreadStatus.INACTIVE
    assert ThreadStatus.of(2) is ThreadStatus.STREAMING
    assert domain.given(ThreadChanges(title=None, state=ARCHIVED)) == {
        "title": None,
        "state": ARCHIVED,
    }


def _thread(state: domain.ThreadState = ACTIVE) -> Thread:
    new = domain.NewThread(title="t", metadata={"a.b": "1", "$x": "2"})
    return replace(Thread.new(new, id="thread_1", caller=caller(), at=AT), state=state)


def _message(status: MessageStatus = MessageStatus.COMPLETED) -> Message:
    new = domain.NewMessage(
        content=(TextPart("hi", (domain.FileCitation("hi", 0, 2, "file_1"),)),)
        if status is MessageStatus.COMPLETED
        else (TextPart("Hel"),),
        role=Role.ASSISTANT,
        status=status,
        metadata={"k": "v"},
    )
    return Message.new(new, id="message_1", caller=caller(), thread_id="thread_1", seq=3, at=AT)


@pytest.mark.parametrize("status", [MessageStatus.COMPLETED, MessageStatus.IN_PROGRESS])
def test_documents_round_trip(status: MessageStatus) -> None:
    message = _message(status)
    assert codec.message_from_doc(codec.message_doc(message)) == message
    thread = _thread()
    assert codec.thread_from_doc(codec.thread_doc(thread)) == thread
    image = ImageUrlPart("https://x.test/i.png", ImageDetail.HIGH)
    with_image = replace(message, content=(image,))
    if status is MessageStatus.COMPLETED:
        assert codec.message_from_doc(codec.message_doc(with_image)) == with_image


def test_events_round_trip_and_unknown_types_are_refused() -> None:
    event = domain.Event("org", "thread_1", 7, EventType.MESSAGE_CREATED, message=_message())
    doc = {
        "organizationId": "org",
        "threadId": "thread_1",
        "seq": 7,
        "type": event.type.value,
        "data": codec.event_data(event),
    }
    assert codec.event_from_doc(doc) == event
    with pytest.raises(ValueError, match="ThreadExploded"):
        codec.event_from_doc({**doc, "type": "ThreadExploded"})


async def test_clock_and_ids_are_the_runtimes() -> None:
    numbers = count(1)
    rt = Runtime(
        AsyncMongoMockClient()["domain"],
        clock=lambda: AT,
        new_id=lambda prefix: f"{prefix}{next(numbers)}",
    )
    new = domain.NewThread(messages=(new_message("one"), new_message("two")))
    thread = (await threads.create_thread(rt, caller=caller(), thread=new)).value
    assert (thread.id, thread.created_at, thread.updated_at) == ("thread_1", AT, AT)
    found = await rt.db["messages"].find({}, {"_id": 1}).sort("seq", 1).to_list(None)
    assert [doc["_id"] for doc in found] == ["message_2", "message_3"]
