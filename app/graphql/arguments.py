"""Field arguments converted once per distinct value, and input objects by a plan per type.

Strawberry converts a field's arguments (graphql-core's coerced values) into the resolver's
Python values on every call of the resolver: the inbox's `messages(first: 5)` 50 times a
request, 8 arguments each, a fifth of its execution. Arguments whose values are all hashable
(numbers, strings, enums, datetimes, null) convert to the same immutable values every time, so
their conversion is kept, by field and values, in a bounded cache shared by every request.

An input object, a list or a Metadata value (unhashable) is converted on every call, into new
objects, but by a plan made once per argument: Strawberry's `convert_argument` works out each
field's type, name and kind again for every value (25 calls and a seventh of the time of a
`threads(filter: …)` list). A plan does what it does, in the same order, with the same
results; a type it does not cover (an input that builds itself with `from_input`, `Maybe`,
`GlobalID`) keeps Strawberry's conversion.
"""

from collections import OrderedDict
from collections.abc import Callable, Hashable
from dataclasses import MISSING
from typing import Any

import strawberry.schema.schema_converter as converter
from strawberry.relay.types import GlobalID
from strawberry.scalars import is_scalar
from strawberry.types.arguments import convert_argument
from strawberry.types.arguments import convert_arguments as _convert
from strawberry.types.base import (
    StrawberryList,
    StrawberryMaybe,
    StrawberryOptional,
    has_object_definition,
)
from strawberry.types.enum import StrawberryEnumDefinition, has_enum_definition
from strawberry.types.lazy_type import LazyType
from strawberry.types.unset import UNSET

CACHE_SIZE = 4_096  # distinct (field, values) kept; the least recently used goes first

Convert = Callable[[Any], Any]

_converted: OrderedDict[Hashable, tuple[Any, dict[str, Any]]] = OrderedDict()
# by the id of an argument list: the list itself (its id is not reused meanwhile), the
# registry and config it was planned with, and each argument's name and plan
Plans = list[tuple[str, Any, Convert | None]]
_plans: dict[int, tuple[Any, Any, Any, Plans]] = {}


class Unplanned(Exception):
    """A type Strawberry's own conversion must handle."""


def convert_arguments(
    value: dict[str, Any], arguments: list[Any], *args: Any, **kwargs: Any
) -> dict[str, Any]:
    try:
        key: Hashable = (id(arguments), *value.items())
        found = _converted.get(key)
    except TypeError:  # an unhashable value: converted every time
        return _planned(value, arguments, *args, **kwargs)
    if found is None:
        # the field's argument list is kept with its entry: its id is not reused meanwhile
        found = _converted[key] = (arguments, _convert(value, arguments, *args, **kwargs))
        if len(_converted) > CACHE_SIZE:
            _converted.popitem(last=False)
    else:
        _converted.move_to_end(key)
    return dict(found[1])  # Strawberry adds `info` and the parent to what it gets


def _planned(
    value: dict[str, Any],
    arguments: list[Any],
    scalar_registry: Any,
    config: Any,
    info: Any = None,
) -> dict[str, Any]:
    """As Strawberry's `convert_arguments`, each argument by its plan where it has one."""
    entry = _plans.get(id(arguments))
    if entry is None or entry[1] is not scalar_registry or entry[2] is not config:
        entry = (arguments, scalar_registry, config, _plan(arguments, scalar_registry, config))
        _plans[id(arguments)] = entry
    kwargs: dict[str, Any] = {}
    for name, argument, plan in entry[3]:
        if name in value:
            kwargs[argument.python_name] = (
                plan(value[name])
                if plan is not None
                else convert_argument(
                    value[name], argument.type, scalar_registry, config, info, path=(name,)
                )
            )
    return kwargs


def _plan(arguments: list[Any], scalar_registry: Any, config: Any) -> Plans:
    planned: Plans = []
    for argument in arguments:
        try:
            plan: Convert | None = plan_for(argument.type, scalar_registry, config)
        except Unplanned:
            plan = None
        planned.append((config.name_converter.from_argument(argument), argument, plan))
    return planned


def plan_for(
    type_: Any, scalar_registry: Any, config: Any, seen: frozenset[int] = frozenset()
) -> Convert:
    """A function converting a value of `type_` as Strawberry's `convert_argument` does;
    raises Unplanned for a type it leaves to it. `seen`: the input types being planned (an
    input that holds itself is left to Strawberry)."""
    if isinstance(type_, StrawberryMaybe):
        raise Unplanned
    if isinstance(type_, StrawberryOptional):
        return plan_for(type_.of_type, scalar_registry, config, seen)
    if isinstance(type_, LazyType):
        return plan_for(type_.resolve_type(), scalar_registry, config, seen)
    if isinstance(type_, StrawberryList):
        if _is_leaf(type_.of_type, scalar_registry):
            # copied: graphql-core gives every request that omits a list the same default
            return _nullable(list)
        item = plan_for(type_.of_type, scalar_registry, config, seen)
        return _nullable(lambda items: [item(x) for x in items])
    if _is_leaf(type_, scalar_registry) or has_enum_definition(type_):
        return _nullable(lambda leaf: leaf)
    if has_object_definition(type_):
        if id(type_) in seen:
            raise Unplanned
        return _input_plan(type_, scalar_registry, config, seen | {id(type_)})
    raise Unplanned


def _input_plan(type_: Any, scalar_registry: Any, config: Any, seen: frozenset[int]) -> Convert:
    definition = type_.__strawberry_definition__
    if definition.from_input is not None:
        raise Unplanned
    # an input's fields with no default are None unless given (graphql-core has checked the
    # required ones are there)
    nulls = {
        f.python_name: None
        for f in definition.fields
        if definition.is_input and f.default_value is MISSING and f.default_factory is MISSING
    }
    fields = [
        (
            config.name_converter.from_field(f),
            f.python_name,
            plan_for(f.resolve_type(type_definition=definition), scalar_registry, config, seen),
        )
        for f in definition.fields
    ]

    def build(value: Any) -> Any:
        kwargs = dict(nulls)
        for name, python_name, plan in fields:
            if name in value:
                kwargs[python_name] = plan(value[name])
        return type_(**kwargs)

    return _nullable(build)


def _nullable(convert: Convert) -> Convert:
    """`convert` for a value, null and UNSET kept as they are (as for every Strawberry type)."""

    def converted(value: Any) -> Any:
        if value is None or value is UNSET:
            return value
        return convert(value)

    return converted


def _is_leaf(type_: Any, scalar_registry: Any) -> bool:
    """A scalar or an enum (optional or not): kept as given. `GlobalID` is left to Strawberry."""
    if isinstance(type_, StrawberryOptional):
        type_ = type_.of_type
    if isinstance(type_, LazyType):
        type_ = type_.resolve_type()
    if type_ is GlobalID:
        raise Unplanned
    return is_scalar(type_, scalar_registry) or isinstance(type_, StrawberryEnumDefinition)


def install() -> None:
    """Route Strawberry's conversion of resolver arguments through the cache (idempotent)."""
    converter.convert_arguments = convert_arguments  # type: ignore[attr-defined]
