"""Time windows of a newest-first scan: which range of times a page reads next. Pure: times in,
windows out; no I/O, no storage names.

A server that examines every index key in a scanned range, whatever the query's limit (the
embedded one does), reads a page in time proportional to the range, not to the page. So a
newest-first page reads bounded windows of time: the first just below where the page starts,
each next one older and GROWTH times as wide, until the page fills; the last one reaches the
floor (the oldest time anything can have), or has no low bound when none is known. A list
whose items come at a steady rate fills its page within about GROWTH pages' worth of items,
and a page never reads more than MAX_WINDOWS windows.
"""

from dataclasses import dataclass
from datetime import datetime, timedelta

START = timedelta(hours=1)  # the first window when nothing says better
GROWTH = 8  # each window is this many times as wide as the one before (newer than) it
MAX_WINDOWS = 7  # so from START the sixth reaches back 4.3 years, and the seventh has no end
MIN_WIDTH = timedelta(seconds=1)
MAX_START = timedelta(days=30)


@dataclass(frozen=True)
class Window:
    """The times from `low` (inclusive) to `high` (exclusive); None is no bound."""

    low: datetime | None
    high: datetime | None


def first_width(span: timedelta | None) -> timedelta:
    """The first window's width: START, or twice `span`, the time the previous page took to
    fill (so the next page most often fills in one window), kept within MIN_WIDTH..MAX_START
    as it comes from a client's cursor."""
    if span is None:
        return START
    return min(max(span * 2, MIN_WIDTH), MAX_START)


def anchor(high: datetime | None, now: datetime) -> datetime:
    """Where the first window's width is measured from: `high`, or `now` when `high` is later
    or None (nothing is newer than now but what a skewed clock wrote, which the first window
    takes in)."""
    return now if high is None else min(high, now)


def windows(
    *,
    high: datetime | None,
    now: datetime,
    floor: datetime | None,
    first: timedelta,
    count: int = MAX_WINDOWS,
    growth: int = GROWTH,
) -> list[Window]:
    """Up to `count` contiguous windows, newest first, together covering every time below
    `high` (None: every time) and at or above `floor` (None: no floor). The first reaches
    `first` below the anchor; each next one is `growth` times as wide; the last one ends at
    `floor`."""
    top = high
    width = first
    found: list[Window] = []
    try:
        low: datetime | None = anchor(high, now) - width
    except OverflowError:
        low = None
    while True:
        if low is None or len(found) == count - 1 or (floor is not None and low <= floor):
            found.append(Window(floor, top))
            return found
        found.append(Window(low, top))
        top = low
        try:
            width *= growth
            low = top - width
        except OverflowError:
            low = None
