"""The string rule, applied once to every string an operation is given, before it runs.

Every string reached through the operation's arguments — literal or in variables, in input
objects at any depth, in lists, in custom scalars (a Metadata object's keys and values, a
DateTime) — must be Unicode scalar values without NUL; keys must hold no control character
but tab, newline and carriage return either (`validation.unicode_string`). Keys are ID values,
the cursors `after` and `before`, `idempotencyKey`, every argument or field named `…Id` or
`…Ids` (ids of this API and of others: `assistantId`, `userId`, `fileIds`), Metadata keys and
the names of input object fields. Paths follow the arguments: `input.messages.0.content`.
"""

from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from graphql import (
    DirectiveNode,
    DocumentNode,
    FieldNode,
    FragmentDefinitionNode,
    FragmentSpreadNode,
    GraphQLID,
    GraphQLInputObjectType,
    GraphQLInputType,
    GraphQLList,
    GraphQLNamedType,
    GraphQLNonNull,
    GraphQLScalarType,
    GraphQLSchema,
    InlineFragmentNode,
    ListValueNode,
    ObjectValueNode,
    OperationDefinitionNode,
    SelectionSetNode,
    StringValueNode,
    ValueNode,
    VariableNode,
    get_operation_ast,
    is_composite_type,
    is_specified_scalar_type,
    value_from_ast_untyped,
)
from graphql.language.ast import ArgumentNode

from app.errors import InvalidInput
from app.validation import unicode_string

KEY_NAMES = frozenset({"after", "before", "idempotencyKey"})
Check = tuple[str, str, bool, str | None]  # value, path, is a key, what the message calls it


@dataclass(frozen=True, slots=True)
class Variable:
    """A variable where the operation uses it: its values are checked on every request."""

    name: str
    type: GraphQLInputType
    path: str
    key: bool


@dataclass(frozen=True, slots=True)
class ScalarLiteral:
    """A custom scalar written in the document with variables in it."""

    node: ValueNode
    path: str


Step = InvalidInput | Variable | ScalarLiteral


def plan(
    schema: GraphQLSchema, document: DocumentNode, operation_name: str | None
) -> tuple[Step, ...]:
    """The operation's steps in the order of its arguments: the refusal of each literal string
    that breaks the rule (those that keep it are gone), each variable, each scalar literal with
    variables. The same for every request of the document (kept by the schema's extension)."""
    operation = get_operation_ast(document, operation_name)
    root = None if operation is None else schema.get_root_type(operation.operation)
    if operation is None or root is None:
        return ()
    fragments = {
        d.name.value: d for d in document.definitions if isinstance(d, FragmentDefinitionNode)
    }
    steps: list[Step] = []
    for item in _Walk(schema, fragments).operation(operation, root):
        if not isinstance(item, tuple):
            steps.append(item)
            continue
        value, path, is_key, what = item
        try:
            unicode_string(value, field=path, key=is_key, what=what)
        except InvalidInput as refusal:
            steps.append(refusal.with_traceback(None))
    return tuple(steps)


def first_refusal(steps: Sequence[Step], variables: Mapping[str, Any]) -> InvalidInput | None:
    """The first string of an operation that breaks the rule, as the error to answer: by its
    steps (`plan`), with the request's variables."""
    for step in steps:
        if isinstance(step, InvalidInput):
            return InvalidInput(step.field, step.message)  # each request raises its own
        if isinstance(step, Variable):
            if step.name not in variables:
                continue
            checks = _given(variables[step.name], step.type, step.path, step.key)
        else:
            checks = _json(value_from_ast_untyped(step.node, dict(variables)), step.path)
        for value, path, key, what in checks:
            try:
                unicode_string(value, field=path, key=key, what=what)
            except InvalidInput as refusal:
                return refusal
    return None


def _is_key(name: str, type_: GraphQLInputType) -> bool:
    while isinstance(type_, GraphQLNonNull | GraphQLList):
        type_ = type_.of_type
    return type_ is GraphQLID or name in KEY_NAMES or name.endswith(("Id", "Ids"))


class _Walk:
    """The operation's strings, as the document has them: its literal strings as checks, its
    variables and its scalar literals holding variables as steps for each request."""

    def __init__(
        self, schema: GraphQLSchema, fragments: Mapping[str, FragmentDefinitionNode]
    ) -> None:
        self.schema, self.fragments = schema, fragments

    def operation(
        self, operation: OperationDefinitionNode, root: GraphQLNamedType
    ) -> Iterator[Check | Step]:
        yield from self._directives(operation.directives)
        yield from self._selections(operation.selection_set, root, set())

    def _selections(
        self, selections: SelectionSetNode | None, parent: GraphQLNamedType, seen: set[str]
    ) -> Iterator[Check | Step]:
        for selection in selections.selections if selections else ():
            yield from self._directives(selection.directives)
            if isinstance(selection, FieldNode):
                field = (
                    self.schema.get_field(parent, selection.name.value)
                    if is_composite_type(parent)
                    else None
                )
                if field is None:
                    continue
                yield from self._arguments(selection.arguments, field.args)
                child = field.type
                while isinstance(child, GraphQLNonNull | GraphQLList):
                    child = child.of_type
                yield from self._selections(selection.selection_set, child, seen)
            elif isinstance(selection, InlineFragmentNode):
                condition = selection.type_condition
                target = self.schema.get_type(condition.name.value) if condition else parent
                yield from self._selections(selection.selection_set, target or parent, seen)
            elif isinstance(selection, FragmentSpreadNode):
                name = selection.name.value
                fragment = self.fragments.get(name)
                if fragment is None or name in seen:
                    continue
                seen.add(name)
                yield from self._directives(fragment.directives)
                target = self.schema.get_type(fragment.type_condition.name.value) or parent
                yield from self._selections(fragment.selection_set, target, seen)

    def _directives(self, directives: tuple[DirectiveNode, ...] | None) -> Iterator[Check | Step]:
        for directive in directives or ():
            definition = self.schema.get_directive(directive.name.value)
            if definition is not None:
                yield from self._arguments(directive.arguments, definition.args)

    def _arguments(
        self, arguments: tuple[ArgumentNode, ...] | None, definitions: Mapping[str, Any]
    ) -> Iterator[Check | Step]:
        for argument in arguments or ():
            name = argument.name.value
            definition = definitions.get(name)
            if definition is not None:
                key = _is_key(name, definition.type)
                yield from self._literal(argument.value, definition.type, name, key)

    def _literal(
        self, node: ValueNode, type_: GraphQLInputType, path: str, key: bool
    ) -> Iterator[Check | Step]:
        """A value as written in the document."""
        if isinstance(node, VariableNode):
            yield Variable(node.name.value, type_, path, key)
            return
        if isinstance(type_, GraphQLNonNull):
            type_ = type_.of_type
        if isinstance(type_, GraphQLList):
            items = node.values if isinstance(node, ListValueNode) else None
            if items is None:
                yield from self._literal(node, type_.of_type, path, key)
            for index, item in enumerate(items or ()):
                yield from self._literal(item, type_.of_type, f"{path}.{index}", key)
        elif isinstance(type_, GraphQLInputObjectType):
            for field in node.fields if isinstance(node, ObjectValueNode) else ():
                name = field.name.value
                definition = type_.fields.get(name)
                if definition is not None:
                    child_key = _is_key(name, definition.type)
                    yield from self._literal(
                        field.value, definition.type, f"{path}.{name}", child_key
                    )
        elif isinstance(type_, GraphQLScalarType) and not is_specified_scalar_type(type_):
            if _holds_variables(node):
                yield ScalarLiteral(node, path)
            else:
                yield from _json(value_from_ast_untyped(node), path)
        elif isinstance(node, StringValueNode):
            yield node.value, path, key, None


def _holds_variables(node: ValueNode) -> bool:
    if isinstance(node, VariableNode):
        return True
    if isinstance(node, ListValueNode):
        return any(_holds_variables(item) for item in node.values)
    if isinstance(node, ObjectValueNode):
        return any(_holds_variables(field.value) for field in node.fields)
    return False


def _given(value: Any, type_: GraphQLInputType, path: str, key: bool) -> Iterator[Check]:
    """A value given in the variables (raw JSON; ill-typed ones are left to coercion)."""
    if isinstance(type_, GraphQLNonNull):
        type_ = type_.of_type
    if isinstance(type_, GraphQLList):
        if isinstance(value, list):
            for index, item in enumerate(value):
                yield from _given(item, type_.of_type, f"{path}.{index}", key)
        else:
            yield from _given(value, type_.of_type, path, key)
    elif isinstance(type_, GraphQLInputObjectType):
        for name, item in value.items() if isinstance(value, dict) else ():
            yield name, path, True, f"{path} field name {name[:70]!r}"
            definition = type_.fields.get(name)
            if definition is not None:
                child_key = _is_key(name, definition.type)
                yield from _given(item, definition.type, f"{path}.{name}", child_key)
    elif isinstance(type_, GraphQLScalarType) and not is_specified_scalar_type(type_):
        yield from _json(value, path)
    elif isinstance(value, str):
        yield value, path, key, None


def _json(value: object, path: str) -> Iterator[Check]:
    """Every string of a custom scalar's JSON value: object keys as keys, the rest as text.
    Iterative, as the value may nest as deep as the JSON parser allowed."""
    stack: list[tuple[object, str | None]] = [(value, None)]
    while stack:
        item, owner = stack.pop()
        if isinstance(item, str):
            yield item, path, False, None if owner is None else f"{path} value of {owner}"
        elif isinstance(item, dict):
            for name, inner in item.items():
                if isinstance(name, str):
                    shown = repr(name[:70])
                    yield name, path, True, f"{path} key {shown}"
                    stack.append((inner, shown))
        elif isinstance(item, list):
            stack.extend((inner, owner) for inner in reversed(item))
