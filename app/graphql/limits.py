"""The node budget: the product of the page sizes along each path of nested connections.

Pure: it reads the parsed document, the variables and the schema, before anything runs.
"""

from collections.abc import Mapping
from typing import Any

from graphql import (
    DocumentNode,
    FieldNode,
    FragmentDefinitionNode,
    FragmentSpreadNode,
    GraphQLNamedType,
    GraphQLSchema,
    InlineFragmentNode,
    IntValueNode,
    OperationDefinitionNode,
    SelectionSetNode,
    VariableNode,
    get_named_type,
)
from graphql.type import GraphQLInterfaceType, GraphQLObjectType

from app.pagination import DEFAULT_PAGE_SIZE

PAGE_SIZE_ARGUMENTS = ("first", "last", "limit")


def largest_path(
    schema: GraphQLSchema,
    document: DocumentNode,
    operation_name: str | None,
    variables: Mapping[str, Any] | None,
) -> int:
    """The largest product of connection page sizes along one path of the operation to run
    (0 if the document does not name one operation: graphql-core reports that)."""
    definitions = document.definitions
    operations = [
        d
        for d in definitions
        if isinstance(d, OperationDefinitionNode)
        and (operation_name is None or (d.name is not None and d.name.value == operation_name))
    ]
    fragments = {d.name.value: d for d in definitions if isinstance(d, FragmentDefinitionNode)}
    root = schema.get_root_type(operations[0].operation) if len(operations) == 1 else None
    if root is None:
        return 0
    selections = operations[0].selection_set
    return _walk(schema, root, selections, fragments, variables or {}, frozenset())


def _walk(
    schema: GraphQLSchema,
    parent: GraphQLNamedType,
    selections: SelectionSetNode | None,
    fragments: Mapping[str, FragmentDefinitionNode],
    variables: Mapping[str, Any],
    seen: frozenset[str],
) -> int:
    largest = 1
    for selection in selections.selections if selections else ():
        if isinstance(selection, FieldNode):
            if not isinstance(parent, GraphQLObjectType | GraphQLInterfaceType):
                continue
            field = parent.fields.get(selection.name.value)
            if field is None:
                continue
            child = get_named_type(field.type)
            size = _page_size(selection, variables) if child.name.endswith("Connection") else 1
            below = _walk(schema, child, selection.selection_set, fragments, variables, seen)
            largest = max(largest, size * below)
        elif isinstance(selection, InlineFragmentNode):
            condition = selection.type_condition
            target = schema.get_type(condition.name.value) if condition else parent
            below = _walk(
                schema, target or parent, selection.selection_set, fragments, variables, seen
            )
            largest = max(largest, below)
        elif isinstance(selection, FragmentSpreadNode):
            name = selection.name.value
            fragment = fragments.get(name)
            if fragment is None or name in seen:
                continue
            target = schema.get_type(fragment.type_condition.name.value) or parent
            below = _walk(
                schema, target, fragment.selection_set, fragments, variables, seen | {name}
            )
            largest = max(largest, below)
    return largest


def _page_size(field: FieldNode, variables: Mapping[str, Any]) -> int:
    for argument in field.arguments or ():
        if argument.name.value not in PAGE_SIZE_ARGUMENTS:
            continue
        value = argument.value
        if isinstance(value, IntValueNode):
            return max(int(value.value), 1)
        if isinstance(value, VariableNode):
            given = variables.get(value.name.value)
            if isinstance(given, int) and not isinstance(given, bool):
                return max(given, 1)
    return DEFAULT_PAGE_SIZE
