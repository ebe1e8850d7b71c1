"""Compiled selections: a selection made only of plain fields, at any depth, as steps that build
each object's answer in one loop (see `execution`). The steps only read and coerce: a value they
do not build as is raises Irregular, and the object takes graphql-core's ordinary path."""

from collections.abc import Callable
from typing import Any

from graphql import Undefined

_ABSENT = object()

# A compiled selection: per field, its response name, attribute, coercion (a leaf) or steps
# (an object), whether it may be null, the object's class and whether it is a list of them.
Step = tuple[str, str, Callable[[Any], Any] | None, bool, "Steps | None", type | None, bool]
Steps = tuple[Step, ...]


LEAF = (None, None, False)  # a step's object steps, class and list flag, for a leaf


def named(name: str) -> Callable[[Any], str]:
    return lambda _: name


class Irregular(Exception):
    """A value the steps do not build: the object takes the ordinary path."""


def build(steps: Steps, source: Any) -> dict[str, Any]:
    answer: dict[str, Any] = {}
    for name, attribute, coerce, non_null, sub, object_class, is_list in steps:
        value = getattr(source, attribute, _ABSENT)
        if value is None:
            if non_null:
                raise Irregular
            answer[name] = None
        elif value is _ABSENT:
            raise Irregular
        elif coerce is not None:
            try:
                result = coerce(value)
            except Exception as error:
                raise Irregular from error
            if result is None or result is Undefined:
                raise Irregular
            answer[name] = result
        elif is_list:
            if type(value) is not list:
                raise Irregular
            answer[name] = [build_object(sub, object_class, item) for item in value]
        else:
            answer[name] = build_object(sub, object_class, value)
    return answer


def build_object(steps: Steps | None, object_class: type | None, value: Any) -> dict[str, Any]:
    if value is None or (object_class is not object and type(value) is not object_class):
        raise Irregular
    assert steps is not None
    return build(steps, value)
