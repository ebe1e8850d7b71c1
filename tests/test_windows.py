"""The windows a newest-first scan reads (app/windows.py): contiguous, growing, complete, few."""

import itertools
from datetime import datetime, timedelta

from app.windows import (
    GROWTH,
    MAX_START,
    MAX_WINDOWS,
    MIN_WIDTH,
    START,
    Window,
    anchor,
    first_width,
    windows,
)

NOW = datetime(2026, 6, 1, 12, 0)
HOUR = timedelta(hours=1)


def assert_contiguous(found: list[Window], high: datetime | None) -> None:
    assert found[0].high == high
    for newer, older in itertools.pairwise(found):
        assert newer.low is not None and older.high == newer.low, (newer, older)


def test_windows_grow_from_the_anchor_and_end_open() -> None:
    found = windows(high=None, now=NOW, floor=None, first=HOUR)
    assert len(found) == MAX_WINDOWS
    assert found[0] == Window(NOW - HOUR, None), "open above: a skewed clock's newer messages"
    assert found[1] == Window(NOW - 9 * HOUR, NOW - HOUR)
    assert found[2] == Window(NOW - 73 * HOUR, NOW - 9 * HOUR)
    assert_contiguous(found, None)
    widths = [w.high - w.low for w in found[1:-1] if w.high and w.low]
    assert all(b == a * GROWTH for a, b in itertools.pairwise(widths)), widths
    assert found[-1].low is None, "the last window reaches every older time"
    assert found[-2].low is not None and NOW - found[-2].low > timedelta(days=4 * 365)


def test_a_floor_ends_the_windows_early() -> None:
    floor = NOW - 20 * HOUR
    found = windows(high=None, now=NOW, floor=floor, first=HOUR)
    assert found == [
        Window(NOW - HOUR, None),
        Window(NOW - 9 * HOUR, NOW - HOUR),
        Window(floor, NOW - 9 * HOUR),
    ]
    assert windows(high=None, now=NOW, floor=NOW - HOUR, first=HOUR) == [Window(NOW - HOUR, None)]
    assert windows(high=None, now=NOW, floor=NOW, first=HOUR) == [Window(NOW, None)]


def test_windows_start_at_the_cursor() -> None:
    high = NOW - timedelta(days=3)
    found = windows(high=high, now=NOW, floor=None, first=2 * HOUR)
    assert found[0] == Window(high - 2 * HOUR, high)
    assert_contiguous(found, high)
    later = NOW + timedelta(days=3)  # a cursor, or createdBefore, after now
    assert anchor(later, NOW) == NOW
    found = windows(high=later, now=NOW, floor=None, first=HOUR)
    assert found[0] == Window(NOW - HOUR, later), "measured from now, ending at the cursor"
    assert_contiguous(found, later)


def test_windows_never_overflow_and_respect_the_count() -> None:
    found = windows(high=None, now=NOW, floor=None, first=MAX_START, count=50)
    assert len(found) < 50 and found[-1].low is None, "stops where time begins"
    assert_contiguous(found, None)
    assert windows(high=None, now=NOW, floor=None, first=HOUR, count=1) == [Window(None, None)]
    three = windows(high=NOW, now=NOW, floor=datetime(2000, 1, 1), first=HOUR, count=3)
    assert three[-1] == Window(datetime(2000, 1, 1), NOW - 9 * HOUR)


def test_first_width_from_the_previous_page() -> None:
    assert first_width(None) == START
    assert first_width(timedelta(minutes=10)) == timedelta(minutes=20), "twice the last span"
    assert first_width(timedelta(0)) == MIN_WIDTH, "never empty"
    assert first_width(timedelta(days=10_000)) == MAX_START, "a cursor cannot ask for it all"
