"""Execution that completes plain fields inline.

Most fields of an answer are attributes of a domain-built object (a message's `id`, an edge's
`node`), which graphql-core executes as full fields (a path, a resolve info, Strawberry's
resolver, value completion through half a dozen calls): about 2 µs apiece, most of the cost of
a large answer. Here a field with no resolver, arguments, directives or extensions is read in
place: a scalar or enum is coerced there, an object (or list of objects) of its type's own
class has its subfields executed directly, with graphql-core's error handling. A selection made
only of such fields, at any depth, is compiled once per request into steps that build each
object's answer in one loop. A value unusual in any way (absent, null where not allowed, of
another class, refused by its coercion) takes the ordinary path, whole, and its error.
"""

from collections.abc import Awaitable, Callable
from contextlib import suppress
from dataclasses import dataclass
from typing import Any

from graphql import (
    GraphQLEnumType,
    GraphQLField,
    GraphQLID,
    GraphQLLeafType,
    GraphQLList,
    GraphQLNonNull,
    GraphQLObjectType,
    GraphQLOutputType,
    GraphQLString,
    Undefined,
    is_leaf_type,
)
from graphql.execution.collect_fields import FieldDetailsList, GroupedFieldSet
from graphql.pyutils import Path, gather_with_cancel
from strawberry.schema.schema import StrawberryGraphQLCoreExecutionContext
from strawberry.schema.schema_converter import GraphQLCoreConverter
from strawberry.types.base import StrawberryObjectDefinition
from strawberry.types.field import StrawberryField

from app.graphql.steps import LEAF, Irregular, Step, Steps, build, named

_ABSENT = object()
_PLANS = "_inline_fields"
_DEFINITION = GraphQLCoreConverter.DEFINITION_BACKREF


@dataclass(frozen=True, slots=True)
class Inline:
    """How to complete one plain field: a leaf's coercion, or the object type (and its class)
    whose subfields to execute, for one object or a list of them."""

    attribute: str
    field_type: GraphQLOutputType
    non_null: bool
    coerce: Callable[[Any], Any] | None = None
    object_type: GraphQLObjectType | None = None
    object_class: type | None = None
    item_type: GraphQLOutputType | None = None  # of a list


def _coercion(leaf_type: GraphQLLeafType) -> Callable[[Any], Any]:
    if leaf_type is GraphQLString or leaf_type is GraphQLID:

        def coerce_text(value: Any) -> Any:
            return value if type(value) is str else leaf_type.coerce_output_value(value)

        return coerce_text
    members = getattr(leaf_type, "wrapped_cls", None)
    if isinstance(leaf_type, GraphQLEnumType) and members is not None:
        # Strawberry's members are singletons: by identity, with no Enum hash or `.value` call.
        names = {
            id(member): name
            for member in members
            for name, definition in leaf_type.values.items()
            if definition.value == member.value
        }

        def coerce_enum(value: Any) -> Any:
            name = names.get(id(value)) if type(value) is members else None
            return name if name is not None else leaf_type.coerce_output_value(value)

        return coerce_enum
    return leaf_type.coerce_output_value


def _object_class(object_type: GraphQLObjectType) -> type | None:
    """The one class whose instances the type's `is_type_of` accepts for sure: `object` when
    the type has no `is_type_of` (graphql-core then checks nothing), None when unknown."""
    if object_type.is_type_of is None:
        return object
    definition = (object_type.extensions or {}).get(_DEFINITION)
    if not isinstance(definition, StrawberryObjectDefinition) or definition.is_graphql_generic:
        return None
    return definition.origin


def _inline(field: GraphQLField) -> Inline | None:
    strawberry_field = (field.extensions or {}).get(_DEFINITION)
    if not isinstance(strawberry_field, StrawberryField) or field.args:
        return None
    if not strawberry_field.is_basic_field or strawberry_field.default_resolver is not getattr:
        return None
    if not getattr(field.resolve, "_is_default", False):
        return None
    non_null = isinstance(field.type, GraphQLNonNull)
    inner = field.type.of_type if isinstance(field.type, GraphQLNonNull) else field.type
    attribute = strawberry_field.python_name
    if is_leaf_type(inner):
        return Inline(attribute, field.type, non_null, coerce=_coercion(inner))
    item_type = None
    if isinstance(inner, GraphQLList):  # of non-null objects only
        item_type = inner.of_type
        if not isinstance(item_type, GraphQLNonNull):
            return None
        inner = item_type.of_type
    if not isinstance(inner, GraphQLObjectType):
        return None
    object_class = _object_class(inner)
    if object_class is None:
        return None
    return Inline(attribute, field.type, non_null, None, inner, object_class, item_type)


def inline_fields(object_type: GraphQLObjectType) -> dict[str, Inline]:
    """The plain fields of a type, by field name (computed once per type)."""
    plans: dict[str, Inline] | None = object_type.__dict__.get(_PLANS)
    if plans is None:
        plans = {}
        for name, field in object_type.fields.items():
            plan = _inline(field)
            if plan is not None:
                plans[name] = plan
        setattr(object_type, _PLANS, plans)
    return plans


Planned = list[tuple[str, FieldDetailsList, Inline | None]]


class LeanExecution(StrawberryGraphQLCoreExecutionContext):
    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        # by the identity of a grouped field set, which graphql-core memoizes per selection
        self._planned: dict[int, tuple[GroupedFieldSet, Planned]] = {}
        # by an object type and the identity of the field details it is selected by
        self._steps: dict[tuple[GraphQLObjectType, int], tuple[FieldDetailsList, Steps | None]] = {}

    def build_response(self, data: dict[str, Any] | None) -> Any:
        # graphql-core's executor refers to itself (its helpers are its bound methods): kept,
        # every object of the request would wait for the cyclic garbage collector.
        response = super().build_response(data)
        del self.async_helpers
        return response

    def _plan(self, parent_type: GraphQLObjectType, grouped_field_set: GroupedFieldSet) -> Planned:
        found = self._planned.get(id(grouped_field_set))
        if found is not None:
            return found[1]
        plans = inline_fields(parent_type)
        planned: Planned = []
        for response_name, field_details_list in grouped_field_set.items():
            node = field_details_list[0].node
            plan = None if node.directives else plans.get(node.name.value)
            planned.append((response_name, field_details_list, plan))
        self._planned[id(grouped_field_set)] = (grouped_field_set, planned)
        return planned

    def _compiled(
        self, object_type: GraphQLObjectType, field_details_list: FieldDetailsList
    ) -> Steps | None:
        """The steps that build the object's selection, or None if a field of it (at any
        depth) is not plain, or something in it is deferred."""
        key = (object_type, id(field_details_list))
        found = self._steps.get(key)
        if found is not None:
            return found[1]
        grouped_field_set, defer_usages, _ = self.collect_subfields(object_type, field_details_list)
        steps: list[Step] | None = None if defer_usages else []
        for response_name, field_details, plan in self._plan(object_type, grouped_field_set):
            node = field_details[0].node
            if steps is not None and node.name.value == "__typename" and not node.directives:
                steps.append((response_name, "__class__", named(object_type.name), True, *LEAF))
                continue
            if steps is None or plan is None:
                steps = None
                break
            sub = None
            if plan.coerce is None:
                assert plan.object_type is not None
                sub = self._compiled(plan.object_type, field_details)
                if sub is None:
                    steps = None
                    break
            is_list = plan.item_type is not None
            steps.append(
                (
                    response_name,
                    plan.attribute,
                    plan.coerce,
                    plan.non_null,
                    sub,
                    plan.object_class,
                    is_list,
                )
            )
        compiled = None if steps is None else tuple(steps)
        self._steps[key] = (field_details_list, compiled)
        return compiled

    def execute_fields(
        self,
        parent_type: GraphQLObjectType,
        source_value: Any,
        path: Path | None,
        grouped_field_set: GroupedFieldSet,
        position_context: Any,
    ) -> Any:
        if self.middleware_manager is not None and self.middleware_manager.middlewares:
            return super().execute_fields(
                parent_type, source_value, path, grouped_field_set, position_context
            )
        results: dict[str, Any] = {}
        awaitable_fields: list[str] = []
        is_awaitable = self.is_awaitable
        try:
            for response_name, field_details_list, plan in self._plan(
                parent_type, grouped_field_set
            ):
                result: Any = Undefined
                if plan is not None:
                    coerce = plan.coerce
                    value: Any = getattr(source_value, plan.attribute, _ABSENT)
                    if value is None:
                        if not plan.non_null:
                            results[response_name] = None
                            continue
                    elif value is _ABSENT:
                        pass
                    elif coerce is not None:
                        try:
                            result = coerce(value)
                        except Exception:  # the ordinary path raises it as the field's error
                            result = Undefined
                        if result is not None and result is not Undefined:
                            results[response_name] = result
                            continue
                        result = Undefined
                    else:
                        field_path = Path(path, response_name, parent_type.name)
                        result = self._inline(
                            plan, value, field_details_list, field_path, position_context
                        )
                if result is Undefined:
                    field_path = Path(path, response_name, parent_type.name)
                    result = self.execute_field(
                        parent_type, source_value, field_details_list, field_path, position_context
                    )
                if result is not Undefined:
                    results[response_name] = result
                    if is_awaitable(result):
                        awaitable_fields.append(response_name)
        except Exception:
            if awaitable_fields:
                self.settle_in_background([results[name] for name in awaitable_fields])
            raise
        if not awaitable_fields:
            return results
        return _gathered(results, awaitable_fields)

    def _inline(
        self,
        plan: Inline,
        value: Any,
        field_details_list: FieldDetailsList,
        field_path: Path,
        position_context: Any,
    ) -> Any:
        """An object field (or a list of objects) completed in place, or Undefined for the
        ordinary path."""
        object_class = plan.object_class
        if plan.item_type is not None:
            if type(value) is not list:
                return Undefined
            if object_class is object:
                if any(item is None for item in value):
                    return Undefined
            elif any(type(item) is not object_class for item in value):
                return Undefined
        elif object_class is not object and type(value) is not object_class:
            return Undefined
        if position_context is None and plan.item_type is None:
            assert plan.object_type is not None
            steps = self._compiled(plan.object_type, field_details_list)
            if steps is not None:
                with suppress(Irregular):
                    return build(steps, value)
        complete = self._objects if plan.item_type is not None else self._object
        return self._guarded(
            complete, plan, value, field_details_list, field_path, position_context, plan.field_type
        )

    def _guarded(
        self,
        complete: Callable[[Inline, Any, FieldDetailsList, Path, Any], Any],
        plan: Inline,
        value: Any,
        field_details_list: FieldDetailsList,
        path: Path,
        position_context: Any,
        return_type: GraphQLOutputType,
    ) -> Any:
        """`complete`'s result, an error raised or awaited being the field's (or item's), as
        graphql-core handles one: reported, and null in its place."""
        try:
            completed = complete(plan, value, field_details_list, path, position_context)
        except Exception as raw_error:
            self.handle_field_error(raw_error, return_type, field_details_list, path)
            return None
        if self.is_awaitable(completed):
            return self._settled(completed, return_type, field_details_list, path)
        return completed

    def _object(
        self,
        plan: Inline,
        value: Any,
        field_details_list: FieldDetailsList,
        path: Path,
        position_context: Any,
    ) -> Any:
        object_type = plan.object_type
        assert object_type is not None
        grouped_field_set, defer_usages, _ = self.collect_subfields(object_type, field_details_list)
        if position_context is None and not defer_usages:
            return self.execute_fields(object_type, value, path, grouped_field_set, None)
        return self.execute_collected_subfields(
            object_type, value, path, grouped_field_set, defer_usages, position_context
        )

    def _objects(
        self,
        plan: Inline,
        items: list[Any],
        field_details_list: FieldDetailsList,
        path: Path,
        position_context: Any,
    ) -> Any:
        """As graphql-core's `complete_iterable_value` for non-null object items."""
        item_type = plan.item_type
        assert item_type is not None and plan.object_type is not None
        in_place = position_context is None
        steps = self._compiled(plan.object_type, field_details_list) if in_place else None
        completed: list[Any] = []
        awaitable_indices: list[int] = []
        for index, item in enumerate(items):
            if steps is not None:
                try:
                    completed.append(build(steps, item))
                    continue
                except Irregular:
                    pass
            item_path = path.add_key(index, None)
            result = self._guarded(
                self._object, plan, item, field_details_list, item_path, position_context, item_type
            )
            if self.is_awaitable(result):
                awaitable_indices.append(index)
            completed.append(result)
        if not awaitable_indices:
            return completed
        return _gathered_items(completed, awaitable_indices)

    async def _settled(
        self,
        completed: Awaitable[Any],
        return_type: GraphQLOutputType,
        field_details_list: FieldDetailsList,
        path: Path,
    ) -> Any:
        try:
            return await completed
        except Exception as raw_error:
            self.handle_field_error(raw_error, return_type, field_details_list, path)
            return None


async def _gathered(results: dict[str, Any], pending: list[str]) -> dict[str, Any]:
    """The results with their awaitable fields awaited, together, as graphql-core does."""
    if len(pending) == 1:
        results[pending[0]] = await results[pending[0]]
    else:
        awaited = await gather_with_cancel(*(results[name] for name in pending))
        results.update(zip(pending, awaited, strict=True))
    return results


async def _gathered_items(items: list[Any], pending: list[int]) -> list[Any]:
    awaited = await gather_with_cancel(*(items[index] for index in pending))
    for index, value in zip(pending, awaited, strict=True):
        items[index] = value
    return items
