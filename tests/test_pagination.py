"""The pure paging rules and cursors."""

import base64
import json
from dataclasses import replace
from datetime import datetime, timedelta

import pytest

from app.errors import InvalidInput
from app.pagination import (
    DEFAULT_PAGE_SIZE,
    MESSAGE_ORDER,
    THREAD_ORDER,
    WINDOW_GROWTH,
    Bound,
    PageRequest,
    SeqRange,
    WindowWalk,
    decode_cursor,
    encode_cursor,
    next_range,
    outside_bound,
    page_of,
    page_request,
    query_plan,
    scan_range,
    select,
)


def request(**arguments: object) -> PageRequest:
    given: dict[str, object] = {
        "first": None,
        "after": None,
        "last": None,
        "before": None,
        "limit": None,
        "descending": True,
    }
    return page_request(MESSAGE_ORDER, **{**given, **arguments})  # type: ignore[arg-type]


def test_sizes() -> None:
    assert request().size == DEFAULT_PAGE_SIZE == 20 and request().forward is True
    assert request(first=1).size == 1 and request(limit=100).size == 100
    assert request(last=7).size == 7 and request(last=7).forward is False


@pytest.mark.parametrize(
    ("arguments", "field"),
    [
        ({"first": 0}, "first"),
        ({"first": 101}, "first"),
        ({"last": -1}, "last"),
        ({"last": 101}, "last"),
        ({"limit": 0}, "limit"),
        ({"first": 5, "last": 5}, "first"),
        ({"limit": 5, "last": 5}, "limit"),
        ({"limit": 5, "first": 5}, "limit"),
    ],
)
def test_size_rules(arguments: dict[str, object], field: str) -> None:
    with pytest.raises(InvalidInput) as raised:
        request(**arguments)
    assert raised.value.field == field


def test_cursors_round_trip() -> None:
    assert decode_cursor(encode_cursor(MESSAGE_ORDER, (42,)), MESSAGE_ORDER, field="after") == (42,)
    key = (datetime(2026, 11, 24, 9, 30, 0, 123000), "thread_x")
    assert decode_cursor(encode_cursor(THREAD_ORDER, key), THREAD_ORDER, field="after") == key


def _raw(value: object) -> str:
    return base64.urlsafe_b64encode(json.dumps(value).encode()).decode()


@pytest.mark.parametrize(
    "cursor",
    [
        "",
        "garbage",
        "!!!",
        _raw({"seq": 1}),
        _raw([2, "message", 1]),
        _raw([1, "thread", 1]),
        _raw([1, "message"]),
        _raw([1, "message", "1"]),
        _raw([1, "message", -1]),
        _raw([1, "message", True]),
        _raw([1, "message", 1.5]),
        _raw([1, "message", 2**70]),
        _raw([1, "message", 1, 2]),
        "A" * 600,
        encode_cursor(THREAD_ORDER, (datetime(2026, 1, 1), "t")),
    ],
)
def test_forged_cursors_are_refused(cursor: str) -> None:
    with pytest.raises(InvalidInput) as raised:
        request(after=cursor)
    assert raised.value.field == "after"


def test_thread_cursor_types_are_checked() -> None:
    for values in ([1, "thread", "x", "y"], [1, "thread", -5, "y"], [1, "thread", 1, ""]):
        with pytest.raises(InvalidInput) as raised:
            decode_cursor(_raw(values), THREAD_ORDER, field="before")
        assert raised.value.field == "before", values


def test_query_plans() -> None:
    five, nine = encode_cursor(MESSAGE_ORDER, (5,)), encode_cursor(MESSAGE_ORDER, (9,))
    # Newest first: the items after 5 are the smaller ones, read in descending order.
    assert query_plan(request(first=2, after=five)) == ([Bound((5,), ascending=False)], False)
    oldest_first = request(first=2, after=five, descending=False)
    assert query_plan(oldest_first) == ([Bound((5,), ascending=True)], True)
    # Paging backward reads from the `before` end, against the list's order.
    backward = request(last=2, before=nine)
    assert query_plan(backward) == ([Bound((9,), ascending=True)], True)
    assert query_plan(request()) == ([], False)


def test_outside_bounds() -> None:
    forward = request(first=2, after=encode_cursor(MESSAGE_ORDER, (5,)))
    assert outside_bound(forward, previous=True) == Bound((5,), ascending=True, inclusive=True)
    backward = request(last=2, before=encode_cursor(MESSAGE_ORDER, (9,)), descending=False)
    assert outside_bound(backward, previous=False) == Bound((9,), ascending=True, inclusive=True)


def test_page_flags() -> None:
    forward = request(first=2)
    page = page_of(forward, ["a", "b", "c"], [(1,), (2,), (3,)])
    assert page.items == ["a", "b"] and page.has_next is True and page.has_previous is False
    backward = request(last=2, before=encode_cursor(MESSAGE_ORDER, (9,)))
    page = page_of(backward, ["c", "b"], [(3,), (2,)])
    assert page.items == ["b", "c"] and page.has_previous is False and page.has_next is None


def test_scan_ranges() -> None:
    """The size+1 numbers from where the scan starts (size if it does not probe), none past the
    last as read."""
    ascending = request(first=5, descending=False)
    assert scan_range(ascending, last=100) == SeqRange(1, 6, False)
    assert scan_range(ascending, last=5) == SeqRange(1, 5, True)
    assert scan_range(request(first=5), last=100) == SeqRange(95, 100, False)
    assert scan_range(replace(request(first=5), probe=False), last=100) == SeqRange(96, 100, False)
    assert scan_range(request(first=5), last=5) == SeqRange(1, 5, True)
    assert scan_range(request(first=5), last=0) == SeqRange(1, 0, True)
    at_50, at_10 = encode_cursor(MESSAGE_ORDER, (50,)), encode_cursor(MESSAGE_ORDER, (10,))
    assert scan_range(request(first=5, after=at_50), last=100) == SeqRange(44, 49, False)
    assert scan_range(request(last=5, before=at_50), last=100) == SeqRange(51, 56, False)
    far = encode_cursor(MESSAGE_ORDER, (10**9,))  # past the last: from the last
    assert scan_range(request(first=5, after=far), last=100) == SeqRange(95, 100, False)
    # the page's other cursor ends the scan
    at_4, at_13 = encode_cursor(MESSAGE_ORDER, (4,)), encode_cursor(MESSAGE_ORDER, (13,))
    between = request(first=5, after=at_10, before=at_4)
    assert scan_range(between, last=100) == SeqRange(5, 9, True)
    between = request(first=5, after=at_10, before=at_13, descending=False)
    assert scan_range(between, last=100) == SeqRange(11, 12, True)


def test_next_ranges() -> None:
    """Beyond what was read: sized from the matches seen, or 8 times wider after none; the
    last step reads the rest."""
    newest = request(first=5)
    first = SeqRange(95, 100, False)
    assert next_range(newest, first, found=0, steps=1, last=100) == SeqRange(47, 94, False)
    assert next_range(newest, first, found=3, steps=1, last=100) == SeqRange(87, 94, False)
    assert next_range(newest, first, found=0, steps=3, last=100) == SeqRange(1, 94, True)
    oldest = request(first=5, descending=False)
    assert next_range(oldest, SeqRange(1, 6, False), found=0, steps=1, last=100) == (
        SeqRange(7, 54, False)
    )
    assert next_range(oldest, SeqRange(1, 6, False), found=0, steps=1, last=20) == (
        SeqRange(7, 20, True)
    )


def test_select_orders_and_bounds() -> None:
    seqs = [5, 1, 4, 2, 3, 9]
    assert [seqs[n] for n in select(request(first=2), seqs)] == [9, 5, 4]
    assert [seqs[n] for n in select(request(first=2, descending=False), seqs)] == [1, 2, 3]
    after = encode_cursor(MESSAGE_ORDER, (4,))
    assert [seqs[n] for n in select(request(first=5, after=after), seqs)] == [3, 2, 1]
    assert [seqs[n] for n in select(request(last=1, before=after), seqs)] == [5, 9]


def test_a_window_holding_an_outlier_widens_the_next_by_at_most_growth() -> None:
    """The first window of an inbox holds only the thread just written to; the threads below it
    come at the organization's rate. The next window is at most GROWTH times as wide (per item
    still needed) as the rate said, not sized from the one outlier (a scan of most of the list)."""
    now = datetime(2026, 11, 28, 12)
    walk = WindowWalk(now, descending=True, rate=1 / 60, end=now - timedelta(days=400))
    first = walk.next(50)
    assert first.high == now and first.low is not None
    width = (now - first.low).total_seconds()
    walk.saw(1)
    second = walk.next(49)
    assert second.high == first.low and second.low is not None
    assert (first.low - second.low).total_seconds() <= WINDOW_GROWTH * width * 49 / 50 * 1.001
    walk.saw(49)
    assert walk.found == 50


def test_a_window_as_dense_as_expected_keeps_its_rate() -> None:
    now = datetime(2026, 11, 28, 12)
    walk = WindowWalk(now, descending=True, rate=1.0)
    first = walk.next(10)
    walk.saw(4)  # 4 of the 12.5 expected: denser than GROWTH times less, so taken as seen
    second = walk.next(6)
    assert first.low is not None and second.low is not None
    assert (first.low - second.low).total_seconds() == pytest.approx(6 * 1.25 / (4 / 12.5))
