"""What a use case runs with, and the event every write records."""

from collections.abc import Callable
from dataclasses import dataclass

from app import domain, store
from app.domain import Caller, Clock, Event, EventType, IdFactory, Message, Thread


def _nowhere(event: Event) -> None:
    pass


@dataclass(frozen=True)
class Runtime:
    """The database, the clock and the id factory a use case uses, and where the events it
    records are published on this instance (the event hub)."""

    db: store.Database
    clock: Clock = domain.now
    new_id: IdFactory = domain.new_id
    publish: Callable[[Event], None] = _nowhere


async def record(
    rt: Runtime,
    caller: Caller,
    thread_id: str,
    type: EventType,
    *,
    message: Message | None = None,
    thread: Thread | None = None,
    message_id: str | None = None,
    delta: str | None = None,
    once: str | None = None,
) -> None:
    """Log the event for the thread's subscribers (`once`: only if not logged already)."""
    event = await store.record_event(
        rt.db,
        organization_id=caller.organization_id,
        thread_id=thread_id,
        type=type,
        at=rt.clock(),
        message=message,
        thread=thread,
        message_id=message_id,
        delta=delta,
        once=once,
    )
    if event is not None:
        rt.publish(event)
