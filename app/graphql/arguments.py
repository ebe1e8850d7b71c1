"""Field arguments converted once per distinct value.

Strawberry converts a field's arguments (graphql-core's coerced values) into the resolver's
Python values on every call of the resolver: the inbox's `messages(first: 5)` 50 times a
request, 8 arguments each, a fifth of its execution. Arguments whose values are all hashable
(numbers, strings, enums, datetimes, null) convert to the same immutable values every time, so
their conversion is kept, by field and values, in a bounded cache shared by every request; an
input object, a list or a Metadata value (unhashable) is converted on every call, as before.
"""

from collections import OrderedDict
from collections.abc import Hashable
from typing import Any

import strawberry.schema.schema_converter as converter
from strawberry.types.arguments import convert_arguments as _convert

CACHE_SIZE = 4_096  # distinct (field, values) kept; the least recently used goes first

_converted: OrderedDict[Hashable, tuple[Any, dict[str, Any]]] = OrderedDict()


def convert_arguments(
    value: dict[str, Any], arguments: list[Any], *args: Any, **kwargs: Any
) -> dict[str, Any]:
    try:
        key: Hashable = (id(arguments), *value.items())
        found = _converted.get(key)
    except TypeError:  # an unhashable value: converted every time
        return _convert(value, arguments, *args, **kwargs)
    if found is None:
        # the field's argument list is kept with its entry: its id is not reused meanwhile
        found = _converted[key] = (arguments, _convert(value, arguments, *args, **kwargs))
        if len(_converted) > CACHE_SIZE:
            _converted.popitem(last=False)
    else:
        _converted.move_to_end(key)
    return dict(found[1])  # Strawberry adds `info` and the parent to what it gets


def install() -> None:
    """Route Strawberry's conversion of resolver arguments through the cache (idempotent)."""
    converter.convert_arguments = convert_arguments  # type: ignore[attr-defined]
