"""The pure input rules."""

import pytest

from app import validation
from app.errors import InvalidInput


def test_metadata_limits() -> None:
    at_limit = {f"k{n:02d}" + "x" * 61: "v" * 512 for n in range(16)}
    assert validation.metadata(at_limit, field="m") == at_limit
    for bad in (
        {f"k{n}": "v" for n in range(17)},
        {"k" * 65: "v"},
        {"k": "v" * 513},
        {"": "v"},
        {"k": 1},
        {"k": None},
        {"k": "\ud800"},
        {"\udfff": "v"},
        ["k", "v"],
        "k=v",
    ):
        with pytest.raises(InvalidInput) as raised:
            validation.metadata(bad, field="input.metadata")
        assert raised.value.field == "input.metadata"


def test_text_limits() -> None:
    assert validation.title("t" * 200, field="t") == "t" * 200
    assert validation.content("c" * 256_000, field="c") == "c" * 256_000
    for check, value in (
        (validation.title, "t" * 201),
        (validation.content, ""),
        (validation.content, "c" * 256_001),
        (validation.content, "lone \ud83d surrogate"),
        (validation.reference, ""),
        (validation.reference, "r" * 129),
    ):
        with pytest.raises(InvalidInput) as raised:
            check(value, field="f")
        assert raised.value.field == "f", (check, value)


def test_references() -> None:
    assert validation.references(["a"] * 20, field="f", max_items=20) == ["a"] * 20
    with pytest.raises(InvalidInput) as too_many:
        validation.references(["a"] * 21, field="f", max_items=20)
    assert too_many.value.field == "f"
    with pytest.raises(InvalidInput) as empty:
        validation.references([""], field="f", max_items=20)
    assert empty.value.field == "f"


def test_image_urls() -> None:
    assert (
        validation.image_url("https://example.com/a.png", field="u") == "https://example.com/a.png"
    )
    for bad in (
        "javascript:alert(1)",
        "file:///etc/passwd",
        "https://",
        "x" * 10,
        "https://a/" + "x" * 2048,
    ):
        with pytest.raises(InvalidInput) as raised:
            validation.image_url(bad, field="u")
        assert raised.value.field == "u", bad


def test_ids() -> None:
    good = "thread_0b8f1c2e-6a4d-4f3b-9c1d-2e3f4a5b6c7d"
    assert validation.thread_id(good, field="id") == good
    assert validation.node_id(good, field="id") == good
    for bad in (
        "thread_",
        "thread_123",
        "thread_0B8F1C2E-6A4D-4F3B-9C1D-2E3F4A5B6C7D",
        "message_0b8f1c2e-6a4d-4f3b-9c1d-2e3f4a5b6c7d",
        "0b8f1c2e-6a4d-4f3b-9c1d-2e3f4a5b6c7d",
        "thread_{0b8f1c2e-6a4d-4f3b-9c1d-2e3f4a5b6c7d}",
        good + " ",
        "thread_\x00",
    ):
        with pytest.raises(InvalidInput) as raised:
            validation.thread_id(bad, field="id")
        assert raised.value.field == "id", bad
