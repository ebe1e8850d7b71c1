"""Fork: a new thread holding copies of another thread's messages, up to one of them.

Decisions:
- The source may be in any state (ACTIVE, LOCKED, ARCHIVED): forking only reads it, and
  records no event on it. The fork is a new ACTIVE thread of the caller, in the caller's
  organization, with the source's title and metadata unless the fork gives its own, and the
  source's tool resources, assistant and UI visibility.
- Copies get new ids and the numbers 1..n in the source's order, and keep the source's
  content, role, metadata, assistant, run, status and `createdAt` (when each was written).
  Messages in the trash are not copied. A copy's edit history starts afresh: its content is
  its version 1 (it keeps `editedAt`, when that content was written).
- A message still IN_PROGRESS in the source is copied as INCOMPLETE with the text it has so
  far (`incompleteReason` "forked_in_progress"): nothing streams into the copy, whose writer
  knows only the source's message.
- The messages copied are those numbered up to the given message's (or the source's last
  number as read at the start); the copy is a batch of COPY_BATCH numbers at a time, so the
  work and the memory are bounded whatever the source's length.
- An `upToMessageId` that is not a message of the source (unknown, another thread's, another
  organization's) is BAD_USER_INPUT on that field: the input is wrong, the thread is there.
"""

from dataclasses import dataclass, replace

from app import store
from app.domain import (
    MESSAGE_PREFIX,
    THREAD_PREFIX,
    Caller,
    ForkOrigin,
    Message,
    MessageStatus,
    Metadata,
    NewThread,
    Thread,
)
from app.errors import Conflict, InvalidInput
from app.services.runtime import Runtime, Written, claim, log_creation

# Message numbers read (and copies inserted) per command.
COPY_BATCH = 1_000
FORKED_IN_PROGRESS = "forked_in_progress"


@dataclass(frozen=True)
class Fork:
    """A thread to fork: its messages up to `up_to_message_id` (all when None); `title` and
    `metadata` are the source's when None."""

    thread_id: str
    up_to_message_id: str | None = None
    title: str | None = None
    metadata: Metadata | None = None


async def fork_thread(
    rt: Runtime, *, caller: Caller, fork: Fork, idempotency_key: str | None = None
) -> Written[Thread]:
    """A new ACTIVE thread with copies of the source's messages; a retry with the same key
    returns it."""
    organization_id = caller.organization_id
    # Copies cannot be written twice alongside: a retry waits for the first call, or takes over
    # from it once its lease ran out (it is dead), removing what it left.
    claimed = await claim(
        rt,
        caller,
        "forkThread",
        idempotency_key,
        request=fork,
        new_id=rt.new_id(THREAD_PREFIX),
        exclusive=True,
    )
    fork_id = claimed.result_id
    if claimed.taken_over and not await store.clear_abandoned(
        rt.db,
        organization_id=organization_id,
        thread_id=fork_id,
        at=rt.clock(),
        stale_before=rt.clock() - rt.lease,
    ):
        await store.finish(rt.db, claimed)  # the first call made it, and died before this
        claimed = replace(claimed, done=True)
    if claimed.done:
        found = await store.get_thread(rt.db, organization_id=organization_id, thread_id=fork_id)
        return Written(found, event=0)
    source = await store.get_thread(
        rt.db, organization_id=organization_id, thread_id=fork.thread_id
    )
    last = await _last_number(rt, caller, source, fork.up_to_message_id)
    new = NewThread(
        title=source.title if fork.title is None else fork.title,
        metadata=source.metadata if fork.metadata is None else fork.metadata,
        tool_resources=source.tool_resources,
        assistant_id=source.assistant_id,
        visible_in_ui=source.visible_in_ui,
    )
    created = replace(
        Thread.new(new, id=fork_id, caller=caller, at=rt.clock()),
        forked_from=ForkOrigin(source.id, None),
    )
    if not await store.insert_hidden_thread(rt.db, created):  # the sweep's removal just ended
        raise Conflict("The first forkThread with this idempotencyKey has not finished; retry.")
    copied, last_copied = await _copy(rt, caller, source.id, fork_id, last)
    revealed = await store.reveal_fork(
        rt.db,
        organization_id=organization_id,
        thread_id=fork_id,
        last_seq=copied,
        origin=ForkOrigin(source.id, last_copied),
    )
    if revealed is None:  # abandoned for so long that a start-up sweep removed it meanwhile
        await store.discard_fork(rt.db, organization_id=organization_id, thread_id=fork_id)
        raise Conflict("The fork took too long and was abandoned; retry.")
    await store.sync_thread_count(rt.db, organization_id=organization_id, thread_id=fork_id)
    await log_creation(rt, caller, revealed)
    await store.finish(rt.db, claimed)
    return Written(revealed, event=0)


async def _last_number(
    rt: Runtime, caller: Caller, source: Thread, up_to_message_id: str | None
) -> int:
    """The number of the last message to copy."""
    if up_to_message_id is None:
        return source.last_seq
    found = await store.get_messages(
        rt.db, organization_id=caller.organization_id, ids=[up_to_message_id]
    )
    message = found.get(up_to_message_id)
    if message is None or message.thread_id != source.id:
        raise InvalidInput(
            "up_to_message_id", f"Message {up_to_message_id} is not in thread {source.id}."
        )
    return message.seq


async def _copy(
    rt: Runtime, caller: Caller, source_id: str, fork_id: str, last: int
) -> tuple[int, str | None]:
    """Copy the source's messages numbered 1..`last` into the fork, COPY_BATCH numbers at a
    time; how many were copied, and the id of the last one."""
    copied, last_copied = 0, None
    for start in range(1, last + 1, COPY_BATCH):
        batch = await store.messages_numbered(
            rt.db,
            organization_id=caller.organization_id,
            thread_id=source_id,
            start=start,
            stop=min(start + COPY_BATCH, last + 1),
        )
        copies = [
            _copy_of(message, id=rt.new_id(MESSAGE_PREFIX), caller=caller, fork_id=fork_id, seq=seq)
            for seq, message in enumerate(batch, start=copied + 1)
        ]
        await store.insert_messages(rt.db, copies)
        if batch:
            copied, last_copied = copied + len(batch), batch[-1].id
    return copied, last_copied


def _copy_of(message: Message, *, id: str, caller: Caller, fork_id: str, seq: int) -> Message:
    # A copy starts a history of its own: the revisions an edit kept stay with their message.
    copy = replace(message, id=id, user_id=caller.user_id, thread_id=fork_id, seq=seq, version=1)
    if message.status is MessageStatus.IN_PROGRESS:
        return replace(copy, status=MessageStatus.INCOMPLETE, incomplete_reason=FORKED_IN_PROGRESS)
    return copy
