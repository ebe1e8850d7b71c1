"""Paging rules and keyset cursors. Pure: no I/O, no storage names.

A list is ordered by a key of one or more values (unique within the list). A cursor is the
key of an item, so inserting or deleting items never shifts a page: a page is "the N items
after this key", never "items N to 2N"."""

import base64
import binascii
import json
import math
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Generic, TypeVar

import orjson

from app.errors import InvalidInput

DEFAULT_PAGE_SIZE = 20
MAX_PAGE_SIZE = 100
CURSOR_VERSION = 1

KeyValue = int | str | datetime
Key = tuple[KeyValue, ...]
T = TypeVar("T")

_EPOCH = datetime(1970, 1, 1)
_MAX_MS = 253_402_300_799_999  # 9999-12-31T23:59:59.999Z


@dataclass(frozen=True)
class Ordering:
    """How a list is ordered: its cursor kind and the types of its key's values."""

    kind: str
    types: tuple[type[int] | type[str] | type[datetime], ...]


# Threads by (creation time, id) or by (last activity, id, as of when the walk started);
# messages and events by their number in the thread.
THREAD_ORDER = Ordering(kind="thread", types=(datetime, str))
THREAD_ACTIVITY_ORDER = Ordering(kind="thread-activity", types=(datetime, str, datetime))
MESSAGE_ORDER = Ordering(kind="message", types=(int,))
EVENT_ORDER = Ordering(kind="event", types=(int,))
INBOX_ORDER = Ordering(kind="inbox", types=(int,))  # inbox events, by their organization's number


@dataclass(frozen=True)
class PageRequest:
    size: int
    forward: bool
    descending: bool
    after: Key | None = None
    before: Key | None = None
    probe: bool = True  # read the item past the page (whether more follow): if the query asks

    @property
    def wanted(self) -> int:
        return self.size + 1 if self.probe else self.size


@dataclass(frozen=True)
class Page(Generic[T]):
    items: list[T]
    keys: list[Key]
    # None when the answer needs another query: it is computed only if a client asks.
    has_next: bool | None
    has_previous: bool | None


def page_request(
    ordering: Ordering,
    *,
    first: int | None,
    after: str | None,
    last: int | None,
    before: str | None,
    limit: int | None,
    descending: bool,
    probe: bool = True,
) -> PageRequest:
    if limit is not None:
        if first is not None:
            raise InvalidInput("limit", "Give either first or limit, not both.")
        first, first_name = limit, "limit"
    else:
        first_name = "first"
    if first is not None and last is not None:
        raise InvalidInput(first_name, f"Give either {first_name} or last, not both.")
    for name, size in ((first_name, first), ("last", last)):
        if size is not None and not 1 <= size <= MAX_PAGE_SIZE:
            raise InvalidInput(name, f"{name} must be between 1 and {MAX_PAGE_SIZE}.")
    return PageRequest(
        size=last or first or DEFAULT_PAGE_SIZE,
        forward=last is None,
        descending=descending,
        after=None if after is None else decode_cursor(after, ordering, field="after"),
        before=None if before is None else decode_cursor(before, ordering, field="before"),
        probe=probe,
    )


def encode_cursor(ordering: Ordering, key: Key) -> str:
    values = [_ms(value) if isinstance(value, datetime) else value for value in key]
    raw = orjson.dumps([CURSOR_VERSION, ordering.kind, *values])
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def decode_cursor(cursor: str, ordering: Ordering, *, field: str) -> Key:
    invalid = InvalidInput(field, f"{field} is not a valid cursor for this list.")
    if len(cursor) > 512:
        raise invalid
    try:
        raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4))
        decoded = json.loads(raw)
    except (ValueError, binascii.Error):
        raise invalid from None
    if not isinstance(decoded, list) or decoded[:2] != [CURSOR_VERSION, ordering.kind]:
        raise invalid
    values = decoded[2:]
    if len(values) != len(ordering.types):
        raise invalid
    key = [
        _key_value(value, expected) for value, expected in zip(values, ordering.types, strict=True)
    ]
    if any(value is None for value in key):
        raise invalid
    return tuple(value for value in key if value is not None)


def _key_value(value: object, expected: type) -> KeyValue | None:
    """The cursor value as a key value of the expected type, or None if it is not one."""
    if expected is str and isinstance(value, str) and 0 < len(value) <= 128:
        return value
    if type(value) is not int or value < 0:
        return None
    if expected is int and value < 2**62:
        return value
    if expected is datetime and value <= _MAX_MS:
        return _EPOCH + timedelta(milliseconds=value)
    return None


def _ms(value: datetime) -> int:
    naive = value.astimezone(UTC).replace(tzinfo=None) if value.tzinfo else value
    return (naive - _EPOCH) // timedelta(milliseconds=1)


@dataclass(frozen=True)
class Bound:
    """The items whose key comes after `key` in the given direction (greater when `ascending`),
    and `key` itself when `inclusive`. The store turns it into a filter."""

    key: Key
    ascending: bool
    inclusive: bool = False


def query_plan(request: PageRequest) -> tuple[list[Bound], bool]:
    """The key bounds of the query that fetches a page (limit `wanted`), and whether it scans
    the key in ascending order."""
    ascending = not request.descending
    found: list[Bound] = []
    if request.after is not None:
        found.append(Bound(request.after, ascending=ascending))
    if request.before is not None:
        found.append(Bound(request.before, ascending=not ascending))
    return found, ascending if request.forward else not ascending


@dataclass(frozen=True)
class SeqRange:
    """Sequence numbers `low`..`high` to read for a page (none if `low` > `high`); `whole` when
    no item of the page can lie beyond them."""

    low: int
    high: int
    whole: bool


# Ranges of a page keyed by a dense sequence number. A range is followed, while the page is
# short, by the next one beyond it: sized from the matches seen so far, or, when it held none,
# this many times all the numbers read so far; the last of SEQ_STEPS ranges reads all the rest.
SEQ_WIDEN = 8
SEQ_MARGIN = 1.25
SEQ_STEPS = 4


def scan_range(request: PageRequest, *, last: int) -> SeqRange:
    """What to read first for a page of a list keyed by a dense sequence number 1..`last` (few
    gaps): the `wanted` numbers from where the scan starts. Every item beyond the range comes
    after every item in it, so a range holding that many matches holds the page; one holding
    fewer is `whole` only if it reaches the end of the keys (or the page's other cursor), else
    `next_range` reads on. None past `last` (written since) is read: the list as of `last`."""
    key = request.after if request.forward else request.before
    start = key[0] if key else None
    assert start is None or isinstance(start, int)
    need = request.wanted
    if _ascending_scan(request):
        origin = start or 0
        return _clipped(request, origin + 1, origin + need, last=last)
    # The need numbers below `start` (or the newest end), none past `last`.
    high = last if start is None else min(start - 1, last)
    below = last + 1 if start is None else min(start, last + 1)
    return _clipped(request, below - need, high, last=last)


def next_range(
    request: PageRequest, covered: SeqRange, *, found: int, steps: int, last: int
) -> SeqRange:
    """The range beyond `covered` (all read so far, in `steps` ranges), which held `found` of
    the `wanted` matching items the page needs."""
    span = covered.high - covered.low + 1
    needed = request.wanted - found
    width = math.ceil(needed * span / found * SEQ_MARGIN) if found else SEQ_WIDEN * span
    width = max(width, needed)
    if steps + 1 >= SEQ_STEPS:
        width = 2**62
    if _ascending_scan(request):
        low = covered.high + 1
        return _clipped(request, low, low + width - 1, last=last)
    high = covered.low - 1
    return _clipped(request, high - width + 1, high, last=last)


def _ascending_scan(request: PageRequest) -> bool:
    return request.forward != request.descending


def _clipped(request: PageRequest, low: int, high: int, *, last: int) -> SeqRange:
    """`low`..`high`, `whole` and cut short if it reaches the end of the scan: the page's other
    cursor, the first number (descending) or `last` (ascending)."""
    far = request.before if request.forward else request.after
    end = far[0] if far else None
    assert end is None or isinstance(end, int)
    if _ascending_scan(request):
        ceiling = last if end is None else min(last, end - 1)
        if high >= ceiling:
            return SeqRange(low, ceiling, whole=True)
        return SeqRange(low, high, whole=False)
    floor = 1 if end is None else max(1, end + 1)
    if low <= floor:
        return SeqRange(floor, high, whole=True)
    return SeqRange(low, high, whole=False)


def select(request: PageRequest, seqs: list[int]) -> list[int]:
    """The positions of what `query_plan` would fetch (at most `wanted`, in scan order) among
    items of a single-number key, read in any order and already filtered."""
    ascending = not request.descending
    low, high = 0, 2**63
    for key, upper in ((request.after, not ascending), (request.before, ascending)):
        if key is not None:
            value = key[0]
            assert isinstance(value, int)
            if upper:
                high = min(high, value)
            else:
                low = max(low, value)
    scan_ascending = ascending == request.forward
    chosen = sorted(
        (n for n, seq in enumerate(seqs) if low < seq < high),
        key=lambda n: seqs[n],
        reverse=not scan_ascending,
    )
    return chosen[: request.wanted]


def page_of(request: PageRequest, items: list[T], keys: list[Key]) -> Page[T]:
    """The page from the items fetched by `query_plan` (at most `wanted`, in scan order)."""
    more = len(items) > request.size if request.probe else None
    items, keys = items[: request.size], keys[: request.size]
    if request.forward:
        return Page(items, keys, has_next=more, has_previous=None if request.after else False)
    items.reverse()
    keys.reverse()
    return Page(items, keys, has_next=None if request.before else False, has_previous=more)


def outside_bound(request: PageRequest, *, previous: bool) -> Bound:
    """The items on the far side of the cursor the client paged from.

    `previous`: items at or before `after` (for hasPreviousPage when paging forward);
    otherwise items at or after `before` (for hasNextPage when paging backward).
    """
    ascending = not request.descending
    key = request.after if previous else request.before
    assert key is not None
    return Bound(key, ascending=ascending != previous, inclusive=True)


def numbered_page(request: PageRequest, *, low: int, high: int) -> Page[int]:
    """The page of a short list whose items are exactly the numbers `low`..`high` (none if
    `low` > `high`): which numbers it holds, and whether others precede or follow it, need no
    query, so `has_next` and `has_previous` are both known."""
    ascending = not request.descending

    def follows(number: int, key: Key) -> bool:
        """Whether `number` comes after the item of `key` in the list's order."""
        value = key[0]
        assert isinstance(value, int)
        return number > value if ascending else number < value

    def precedes(number: int, key: Key) -> bool:
        value = key[0]
        assert isinstance(value, int)
        return number < value if ascending else number > value

    after, before = request.after, request.before
    numbers = list(range(low, high + 1) if ascending else range(high, low - 1, -1))
    window = [
        n
        for n in numbers
        if (after is None or follows(n, after)) and (before is None or precedes(n, before))
    ]
    if request.forward:
        items, more = window[: request.size], len(window) > request.size
        earlier = after is not None and any(not follows(n, after) for n in numbers)
        return Page(items, [(n,) for n in items], has_next=more, has_previous=earlier)
    items, more = window[-request.size :], len(window) > request.size
    later = before is not None and any(not precedes(n, before) for n in numbers)
    return Page(items, [(n,) for n in items], has_next=later, has_previous=more)


# Windows of a time-keyed scan: a server that examines every index key of a scanned range (the
# embedded one does) reads a page of a list keyed by a time in bounded windows, each sized from
# the rate at which the list's items come, until the page fills. The last one is open-ended.

WINDOW_STEPS = 4  # windows read per page at most
WINDOW_MARGIN = 1.25  # a window is sized to hold this many times what is still needed
WINDOW_GROWTH = 8  # after a window, the rate is at most this many times lower
_MAX_SECONDS = 3e9  # about 95 years: wider is no window


@dataclass(frozen=True)
class TimeWindow:
    """The times from `low` (inclusive) to `high` (exclusive); None is no bound."""

    low: datetime | None
    high: datetime | None


@dataclass
class WindowWalk:
    """Successive windows moving away from `edge`: toward older times when `descending`.

    `open_start`: the first window also takes in everything on the near side of `edge` (a first
    page: what a skewed clock dated after now, or before the oldest item). `rate`: the expected
    matching items per second (None: unknown, so the first window is the last). `end`: no
    item lies beyond it (the oldest item's time descending, now ascending), so a window
    reaching it is the last."""

    edge: datetime
    descending: bool
    rate: float | None
    end: datetime | None = None
    open_start: bool = False
    open_last: bool = True  # False: after WINDOW_STEPS windows, stop short of the end
    steps: int = 0
    found: int = 0
    covered: float = 0.0  # seconds the windows so far spanned
    done: bool = False
    reached_end: bool = False  # the windows so far cover every time on the walk's side

    def next(self, need: int) -> TimeWindow:
        """The next window, expected to hold `need` more matching items."""
        self.steps += 1
        if self.covered > 0:
            # what the windows held, but at most GROWTH times sparser than the last window's
            # rate: a window of one fresh outlier (or none) must not widen the next to a scan
            self.rate = max(self.found / self.covered, (self.rate or 0) / WINDOW_GROWTH)
        seconds = _MAX_SECONDS if not self.rate else need * WINDOW_MARGIN / self.rate
        seconds = min(max(seconds, 0.001), _MAX_SECONDS)
        far: datetime | None
        try:
            delta = timedelta(seconds=seconds)
            far = self.edge - delta if self.descending else self.edge + delta
        except OverflowError:
            far = None
        beyond_end = far is not None and self.end is not None
        if beyond_end and (far <= self.end if self.descending else far >= self.end):  # type: ignore[operator]
            far = None
        if self.open_last and (self.steps >= WINDOW_STEPS or seconds >= _MAX_SECONDS):
            far = None
        near = None if self.open_start and self.steps == 1 else self.edge
        self.done = far is None or self.steps >= WINDOW_STEPS
        self.reached_end = far is None
        if far is not None:
            self.covered += abs((far - self.edge).total_seconds())
            self.edge = far
        return TimeWindow(far, near) if self.descending else TimeWindow(near, far)

    def saw(self, count: int) -> None:
        """`count` matching items were in the last window."""
        self.found += count


class AtLeast(int):
    """A count that is only a lower bound: counting stopped before the end of the list."""
