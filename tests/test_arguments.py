"""Field arguments are converted once per field and distinct values, across a request's
repeated fields and across requests; input objects every time, by a plan per argument that
converts exactly as Strawberry does; the cache stays bounded."""

from collections import OrderedDict
from datetime import datetime
from typing import Any

import pytest
from strawberry.types.arguments import convert_arguments
from strawberry.types.base import StrawberryList, StrawberryOptional, has_object_definition
from strawberry.types.enum import StrawberryEnumDefinition, has_enum_definition
from strawberry.types.lazy_type import LazyType

from app.graphql import arguments
from app.graphql.scalars import Metadata
from app.graphql.schema import schema
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
    db: Database, conversions: list[dict[str, Any]], monkeypatch: pytest.MonkeyPatch
) -> None:
    planned: list[dict[str, Any]] = []
    original = arguments._planned

    def counting(value: dict[str, Any], *args: Any, **kwargs: Any) -> dict[str, Any]:
        planned.append(value)
        return original(value, *args, **kwargs)

    monkeypatch.setattr(arguments, "_planned", counting)
    await make_thread(db, metadata={"tier": "gold"}, title="gold")
    api = Api(db)
    for _ in range(2):
        data = await api.ok(FILTERED)
        assert data["threads"]["nodes"] == [{"title": "gold"}]
    assert conversions == [] and len(planned) == 2


def sample(type_: Any, one: int = 0, *, sparse: bool = False) -> Any:
    """A coerced value of a Strawberry argument type, every field of an input object set (of a
    @oneOf, the field `one`; `sparse`: only the field `one`, the others left to defaults)."""
    if isinstance(type_, StrawberryOptional):
        return sample(type_.of_type, one, sparse=sparse)
    if isinstance(type_, LazyType):
        return sample(type_.resolve_type(), one, sparse=sparse)
    if isinstance(type_, StrawberryList):
        return [sample(type_.of_type, one, sparse=sparse), sample(type_.of_type, one + 1)]
    if isinstance(type_, StrawberryEnumDefinition):
        type_ = type_.wrapped_cls
    if has_enum_definition(type_):
        members = list(type_)  # type: ignore[call-overload]
        return members[one % len(members)]
    if has_object_definition(type_):
        definition = type_.__strawberry_definition__
        fields = definition.fields
        if definition.is_one_of or sparse:
            fields = [fields[one % len(fields)]]
        return {
            schema.config.name_converter.from_field(f): sample(
                f.resolve_type(type_definition=definition), one, sparse=sparse
            )
            for f in fields
        }
    leaves: dict[Any, Any] = {
        str: "text",
        int: 3,
        float: 0.5,
        bool: True,
        datetime: datetime(2026, 1, 2, 3, 4, 5),
        Metadata: {"tier": "gold", "tags": ["a", "b"]},
    }
    for kind, value in leaves.items():
        if type_ is kind or getattr(type_, "__supertype__", None) is kind:
            return value
    raise AssertionError(f"no sample for {type_!r}")


def fields_with_arguments() -> list[tuple[str, Any]]:
    found = []
    for name, concrete in schema.schema_converter.type_map.items():
        for field in getattr(concrete.definition, "fields", None) or []:
            if getattr(field, "arguments", None):
                found.append((f"{name}.{field.python_name}", field.arguments))
    return found


@pytest.mark.parametrize("one", [0, 1, 2])
def test_a_planned_conversion_is_strawberry_s_in_new_objects(one: int) -> None:
    """Every argument of every field, each input object's fields all set (a @oneOf's in turn),
    then one of them only, then each argument null and absent: the plan gives what Strawberry's conversion gives, and
    new input objects and lists on every call (no request gets another's; a scalar's value is
    passed on as graphql-core gave it, as Strawberry does)."""
    registry, config = schema.schema_converter.scalar_registry, schema.config
    checked = set()
    for name, field_arguments in fields_with_arguments():
        named = [(config.name_converter.from_argument(a), a) for a in field_arguments]
        names = [n for n, _ in named]
        full = {n: sample(a.type, one) for n, a in named}
        sparse = {n: sample(a.type, one, sparse=True) for n, a in named}
        variants = [full, sparse, {}] + [{**full, n: None} for n in names]
        for value in variants:
            ours = arguments._planned(value, field_arguments, registry, config)
            assert ours == convert_arguments(value, field_arguments, registry, config), name
            again = arguments._planned(value, field_arguments, registry, config)
            for key, converted in ours.items():
                if isinstance(converted, list) or has_object_definition(type(converted)):
                    assert again[key] is not converted, f"{name}({key}) shared"
        checked.add(name)
    assert {"Query.threads", "Mutation.create_message", "Thread.messages"} <= checked
    planned = [plan for _, _, plan in arguments._plans[id(schema_field("Query", "threads"))][3]]
    assert all(plan is not None for plan in planned), "the list's arguments are planned"


def schema_field(type_name: str, field_name: str) -> Any:
    fields = getattr(schema.schema_converter.type_map[type_name].definition, "fields", [])
    return next(f for f in fields if f.python_name == field_name).arguments


async def test_the_cache_is_bounded(
    db: Database, conversions: list[dict[str, Any]], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(arguments, "CACHE_SIZE", 4)
    api = Api(db)
    for size in range(1, 11):
        await api.ok("query($n: Int) { threads(first: $n) { nodes { id } } }", {"n": size})
    assert len(conversions) == 10 and len(arguments._converted) == 4
