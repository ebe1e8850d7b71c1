"""Field arguments are converted once per field and distinct values, across a request's
repeated fields and across requests; input objects every time; the cache stays bounded."""

from collections import OrderedDict
from typing import Any

import pytest
from strawberry.types.arguments import convert_arguments

from app.graphql import arguments
from app.store import Database
from tests.helpers.api import Api
from tests.helpers.factories import make_thread

INBOX = """{ threads(first: 3) { nodes {
  messages(first: 2) { nodes { text } } one: messages(first: 1) { nodes { text } }
} } }"""
FILTERED = '{ threads(filter: {metadata: {tier: "gold"}}) { nodes { title } } }'


@pytest.fixture
def conversions(monkeypatch: pytest.MonkeyPatch) -> list[dict[str, Any]]:
    """The argument values Strawberry's own conversion gets, with an empty cache."""
    seen: list[dict[str, Any]] = []
    original = convert_arguments

    def counting(value: dict[str, Any], *args: Any, **kwargs: Any) -> dict[str, Any]:
        seen.append(value)
        return original(value, *args, **kwargs)

    monkeypatch.setattr(arguments, "_convert", counting)
    monkeypatch.setattr(arguments, "_converted", OrderedDict())
    return seen


async def test_repeated_fields_convert_their_arguments_once(
    db: Database, conversions: list[dict[str, Any]]
) -> None:
    for n in range(3):
        await make_thread(db, messages=3, metadata={"n": str(n)})
    api = Api(db)
    data = await api.ok(INBOX)
    nodes = data["threads"]["nodes"]
    assert [len(n["messages"]["nodes"]) for n in nodes] == [2, 2, 2]
    assert [n["one"]["nodes"] for n in nodes] == [[{"text": "message 3"}]] * 3
    # threads(first: 3), messages(first: 2), messages(first: 1): not once per thread
    assert len(conversions) == 3
    conversions.clear()
    assert await api.ok(INBOX) == data
    assert conversions == [], "kept across requests"


async def test_input_objects_are_converted_every_time(
    db: Database, conversions: list[dict[str, Any]]
) -> None:
    await make_thread(db, metadata={"tier": "gold"}, title="gold")
    api = Api(db)
    for _ in range(2):
        data = await api.ok(FILTERED)
        assert data["threads"]["nodes"] == [{"title": "gold"}]
    assert len(conversions) == 2


async def test_the_cache_is_bounded(
    db: Database, conversions: list[dict[str, Any]], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(arguments, "CACHE_SIZE", 4)
    api = Api(db)
    for size in range(1, 11):
        await api.ok("query($n: Int) { threads(first: $n) { nodes { id } } }", {"n": size})
    assert len(conversions) == 10 and len(arguments._converted) == 4
