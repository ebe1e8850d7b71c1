"""What a use case runs with, and the event every write records."""

from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from contextvars import ContextVar
from dataclasses import dataclass, field, replace
from datetime import timedelta
from typing import Any, Generic, TypeVar

from app import domain, store
from app.domain import (
    ALLOWED,
    Action,
    Caller,
    Clock,
    Event,
    EventType,
    IdFactory,
    Message,
    Thread,
    refused,
)
from app.errors import Conflict, Forbidden, InvalidInput, NotFound
from app.inbox import InboxEvent, InboxEventType
from app.services.api_keys import KeyCache

T = TypeVar("T")


@dataclass(frozen=True)
class Written(Generic[T]):
    """What a write returns: its result, and the number of the thread event it recorded (0
    for a new thread, which has none yet; None if the thread went meanwhile). Subscribing
    after that number delivers exactly what happens after the write."""

    value: T
    event: int | None


def _nowhere(event: Event) -> None:
    pass


def _no_inbox(event: InboxEvent) -> None:
    pass


@dataclass(frozen=True)
class Runtime:
    """The database, the clock and the id factory a use case uses, where the events it records
    are published on this instance (the event hub): thread events and inbox events, the lease
    of a create, and the API keys this instance looked up lately."""

    db: store.Database
    clock: Clock = domain.now
    new_id: IdFactory = domain.new_id
    publish: Callable[[Event], None] = _nowhere
    publish_inbox: Callable[[InboxEvent], None] = _no_inbox
    # How long a create may run (the request deadline and a margin): its idempotency key's lease.
    lease: timedelta = store.LEASE
    api_keys: KeyCache = field(default_factory=KeyCache)


def with_event(thread: Thread, event: int | None) -> Thread:
    """The thread as of the event a write recorded."""
    return thread if event is None else replace(thread, last_event=max(event, thread.last_event))


async def claim(
    rt: Runtime,
    caller: Caller,
    operation: str,
    key: str | None,
    *,
    request: Any,
    new_id: str,
    exclusive: bool = False,
) -> store.Claim:
    """The id a create makes: `new_id`, or, for a retry with the same idempotency `key` (in the
    caller's own namespace), the first call's, `done` once that call finished. The key is
    claimed before any write, so a crash after it leaves the retry to finish the create (a
    claim outliving its lease is taken over); within `keys_released_if_refused`, a refused
    create gives the key back. `exclusive`: never alongside a live first call."""
    if key is None:
        return store.Claim(key_id=None, result_id=new_id, done=False)
    claimed = await store.claim(
        rt.db,
        organization_id=caller.organization_id,
        user_id=caller.user_id,
        operation=operation,
        key=key,
        request=request,
        result_id=new_id,
        clock=rt.clock,
        lease=rt.lease,
        exclusive=exclusive,
    )
    if (scope := _claims.get()) is not None:
        scope.append(claimed)
    return claimed


_claims: ContextVar[list[store.Claim] | None] = ContextVar("claims", default=None)


@asynccontextmanager
async def keys_released_if_refused(rt: Runtime) -> AsyncIterator[None]:
    """Release the idempotency keys claimed within when the create is refused (BAD_USER_INPUT,
    NOT_FOUND, CONFLICT, FORBIDDEN): it saves no result, so a retry with corrected input may
    use the key. A create that failed otherwise keeps it, for its retry to finish."""
    claims: list[store.Claim] = []
    token = _claims.set(claims)
    try:
        yield
    except (InvalidInput, NotFound, Conflict, Forbidden):
        for claimed in claims:
            await store.release(rt.db, claimed)
        raise
    finally:
        _claims.reset(token)


async def log(rt: Runtime, event: Event) -> None:
    """Write the numbered event to the thread's log, and publish it unless it was there."""
    if await store.write_event(rt.db, event, at=rt.clock()):
        rt.publish(event)


async def record(
    rt: Runtime, caller: Caller, thread_id: str, type: EventType, *, thread: Thread | None = None
) -> int | None:
    """Number and log an event of the thread itself; its number (None if the thread is gone)."""
    event = await store.record_event(
        rt.db,
        organization_id=caller.organization_id,
        thread_id=thread_id,
        type=type,
        at=rt.clock(),
        thread=thread,
    )
    if event is None:
        return None
    rt.publish(event)
    return event.seq


async def number(
    rt: Runtime, caller: Caller, message: Message, *, touch: bool = True
) -> tuple[Thread, int]:
    """Number the event of a write of `message`, moving its thread's `updatedAt` (`touch`): the
    thread after, and the number (NOT_FOUND for the message if its thread went meanwhile)."""
    taken = await store.take_event_number(
        rt.db,
        organization_id=caller.organization_id,
        thread_id=message.thread_id,
        at=rt.clock(),
        touch=touch,
    )
    if taken is None:
        raise NotFound(f"Message {message.id} not found.")
    thread, seq, _ = taken
    return thread, seq


async def thread_of(rt: Runtime, caller: Caller, message: Message, *actions: Action) -> Thread:
    """The message's visible thread, whose state must allow each of `actions` (NOT_FOUND for
    the message when the thread is hidden)."""
    threads = await store.get_threads(
        rt.db, organization_id=caller.organization_id, ids=[message.thread_id]
    )
    thread = threads.get(message.thread_id)
    if thread is None:
        raise NotFound(f"Message {message.id} not found.")
    for action in actions:
        if action not in ALLOWED[thread.state]:
            raise refused(thread, action)
    return thread


async def message_written(
    rt: Runtime,
    caller: Caller,
    thread: Thread,
    event: Event,
    *,
    once: str | None = None,
) -> Thread:
    """Log a message write's numbered event, then the inbox's ThreadUpdated with the thread as
    of that event: the thread after."""
    await log(rt, event)
    after = with_event(thread, event.seq)
    await inbox(rt, caller, thread.id, InboxEventType.THREAD_UPDATED, thread=after, once=once)
    return after


async def inbox(
    rt: Runtime,
    caller: Caller,
    thread_id: str,
    type: InboxEventType,
    *,
    thread: Thread | None = None,
    once: str | None = None,
) -> None:
    """Log what happened to the thread in the organization's inbox (`thread`: the thread after
    the change; `once`: only if not logged already), after the thread's own event. Two
    writes: a crash between them leaves the thread's event without its inbox event, so inbox
    subscribers see that change with the thread's next one (which carries the thread as it is
    then); nothing is shown twice."""
    recorded = await store.record_inbox_event(
        rt.db,
        organization_id=caller.organization_id,
        thread_id=thread_id,
        type=type,
        at=rt.clock(),
        thread=thread,
        once=once,
    )
    if recorded is not None and recorded[1]:
        rt.publish_inbox(recorded[0])
