"""What a use case runs with, and the event every write records."""

from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from contextvars import ContextVar
from dataclasses import dataclass, field
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
from app.inbox import InboxEvent, InboxEventType, with_event
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
    # The documents as this instance last wrote them: writes to them skip their first read.
    images: store.Images = field(default_factory=store.Images)


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


async def log(rt: Runtime, event: Event, *, inbox: InboxEvent | None = None) -> None:
    """Write the numbered event to the thread's log, carrying its `inbox` entry, and publish
    both unless it was there."""
    if await store.write_event(rt.db, event, at=rt.clock(), inbox=inbox):
        publish(rt, [store.Logged(event, inbox)])


async def record(
    rt: Runtime, caller: Caller, thread_id: str, type: EventType, *, thread: Thread | None = None
) -> int | None:
    """Number and log an event of the thread itself, with the inbox's event of the same name:
    its number (None if the thread is gone)."""
    logged = await store.record_event(
        rt.db,
        organization_id=caller.organization_id,
        thread_id=thread_id,
        type=type,
        at=rt.clock(),
        thread=thread,
    )
    if logged is None:
        return None
    publish(rt, [logged])
    return logged.event.seq


def publish(rt: Runtime, logged: list[store.Logged]) -> None:
    """Publish logged events, and the inbox entries they carry, on this instance."""
    for event, inbox in logged:
        rt.publish(event)
        if inbox is not None:
            rt.publish_inbox(inbox)


async def number(
    rt: Runtime, caller: Caller, message: Message, *, touch: bool = True, count: int = 0
) -> tuple[Thread, int]:
    """Number the event of a write of `message`, moving its thread's `updatedAt` (`touch`) and
    message count (by `count`): the thread after, and the number (NOT_FOUND for the message if
    its thread went meanwhile)."""
    taken = await store.take_event_number(
        rt.db,
        organization_id=caller.organization_id,
        thread_id=message.thread_id,
        at=rt.clock(),
        touch=touch,
        count=count,
        images=rt.images,
    )
    if taken is None:
        raise NotFound(f"Message {message.id} not found.")
    thread, seq, _ = taken
    return thread, seq


async def uncount(rt: Runtime, caller: Caller, thread_id: str, *, by: int) -> None:
    """Move back by `by` the thread's message count that numbering a write moved (`number`),
    the write having found nothing to do (a racing delete, restore or retry)."""
    await store.move_message_count(
        rt.db, organization_id=caller.organization_id, thread_id=thread_id, by=by, at=rt.clock()
    )


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
    rt: Runtime, caller: Caller, thread: Thread, event: Event, *, inbox_seq: int | None = None
) -> Thread:
    """Log a message write's numbered event carrying the inbox's ThreadUpdated (the thread as
    of that event, under `inbox_seq` if taken already): the thread after. One insert, so the
    inbox shows every logged write, and a retry that logs nothing logs no inbox event either."""
    after = with_event(thread, event.seq)
    if inbox_seq is None:
        inbox_seq = await store.take_inbox_number(rt.db, organization_id=caller.organization_id)
    inbox = InboxEvent.showing(after, inbox_seq, InboxEventType.THREAD_UPDATED)
    await log(rt, event, inbox=inbox)
    return after


async def log_creation(rt: Runtime, caller: Caller, thread: Thread) -> None:
    """Log the inbox's ThreadCreated for a new thread (or fork), once whatever retries."""
    seq = await store.take_inbox_number(rt.db, organization_id=caller.organization_id)
    inbox = InboxEvent.showing(thread, seq, InboxEventType.THREAD_CREATED)
    if await store.write_created(rt.db, inbox, at=rt.clock()):
        rt.publish_inbox(inbox)
