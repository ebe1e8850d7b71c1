"""The query limits, measured before validation in time linear in the document's size.

Each fragment is measured once, in an order where the fragments it spreads come first, and
its figures are reused wherever it is spread: a spread adds them, it is never walked again.
The walk keeps its own stack, so no nesting or chain of fragments can exhaust Python's.
Pure: it reads the parsed document, the variables and the schema, before anything runs.
"""

from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any

from graphql import (
    DocumentNode,
    FieldNode,
    FragmentDefinitionNode,
    FragmentSpreadNode,
    GraphQLField,
    GraphQLInterfaceType,
    GraphQLList,
    GraphQLNamedType,
    GraphQLObjectType,
    GraphQLSchema,
    GraphQLUnionType,
    InlineFragmentNode,
    ListValueNode,
    OperationDefinitionNode,
    SelectionNode,
    SelectionSetNode,
    ValueNode,
    VariableNode,
    get_named_type,
    get_nullable_type,
    value_from_ast_untyped,
)

from app.pagination import DEFAULT_PAGE_SIZE
from app.validation import MAX_CONTENT_PARTS

PAGE_SIZE_ARGUMENTS = ("first", "last", "limit")
# The introspection entry points: their depth is the schema's, not the client's.
INTROSPECTION = ("__schema", "__type")
# Lists that are neither a page nor one item per element of an argument (a message's content
# parts, a part's annotations, a hit's highlights): counted at the largest a message holds.
UNPAGED_LIST_SIZE = MAX_CONTENT_PARTS


# Pairs of fields sharing a response name where graphql-core's overlapping-fields rule merges
# them (every pair is compared, each in microseconds): the bound of that rule's time.
MAX_REPEATED_PAIRS = 10_000


@dataclass(frozen=True)
class Limits:
    depth: int
    aliases: int
    selections: int
    nodes: int
    repeated_pairs: int = MAX_REPEATED_PAIRS


@dataclass
class Measure:
    """The figures of a selection set, fragments expanded.

    `nodes` counts the objects the answer can hold (each item of a list once); `per_item` is
    what the selection set adds for each item of a page when it is a connection's (its
    `nodes` and `edges`), multiplied by the page size where the connection is selected.
    """

    depth: int = 0
    aliases: int = 0
    selections: int = 0
    nodes: int = 0
    per_item: int = 0

    def add(self, other: "Measure") -> None:
        self.depth = max(self.depth, other.depth)
        self.aliases += other.aliases
        self.selections += other.selections
        self.nodes += other.nodes
        self.per_item += other.per_item


def refusal(limits: Limits, measure: Measure) -> str | None:
    """Why the operation breaks a limit, or None."""
    if measure.depth > limits.depth:
        return f"The query is {measure.depth} fields deep; at most {limits.depth} are allowed."
    if measure.aliases > limits.aliases:
        return (
            f"The query has {measure.aliases:,} aliases (fragments expanded); at most"
            f" {limits.aliases:,} are allowed."
        )
    if measure.selections > limits.selections:
        return (
            f"The query selects {measure.selections:,} fields (fragments expanded); at most"
            f" {limits.selections:,} are allowed."
        )
    if measure.nodes > limits.nodes:
        return (
            f"The query could return {measure.nodes:,} nodes (each item of every list, times"
            f" the lists around it); at most {limits.nodes:,} are allowed. Ask for smaller"
            " pages or fewer fields."
        )
    return None


def check(
    schema: GraphQLSchema,
    document: DocumentNode,
    variables: Mapping[str, Any] | None,
    limits: Limits,
) -> str | None:
    """Why the document breaks a limit (its worst operation or fragment), or None."""
    fragments = {
        d.name.value: d for d in document.definitions if isinstance(d, FragmentDefinitionNode)
    }
    order, unmeasurable = _dependencies_first(fragments)
    if unmeasurable is not None:
        return unmeasurable
    measured: dict[str, Measure] = {}
    for name in order:
        fragment = fragments[name]
        parent = schema.get_type(fragment.type_condition.name.value)
        measure = _measure(schema, fragment.selection_set, parent, measured, {})
        measured[name] = measure
        # Depth and nodes are the operations' (introspection's fragments nest deep, and only
        # an operation knows the pages a fragment is spread in); these bound validation.
        reason = refusal(limits, Measure(aliases=measure.aliases, selections=measure.selections))
        if reason is not None:
            return reason
    for definition in (d for d in document.definitions if isinstance(d, OperationDefinitionNode)):
        given = {**_defaults(definition), **(variables or {})}
        root = schema.get_root_type(definition.operation)
        reason = refusal(limits, _measure(schema, definition.selection_set, root, measured, given))
        if reason is not None:
            return reason
    operations = [d for d in document.definitions if isinstance(d, OperationDefinitionNode)]
    pairs = repeated_pairs(fragments, order, operations)
    if pairs > limits.repeated_pairs:
        return (
            f"The query repeats fields {pairs:,} times over (pairs of fields with one response"
            f" name in one place, fragments merged); at most {limits.repeated_pairs:,} are"
            " allowed."
        )
    return None


def _dependencies_first(
    fragments: Mapping[str, FragmentDefinitionNode],
) -> tuple[list[str], str | None]:
    """The fragments' names, each after the fragments it spreads; or why there is no such order
    (validation's own message: a cycle, or an unknown fragment)."""
    spreads = {name: _spreads(fragment.selection_set) for name, fragment in fragments.items()}
    order: list[str] = []
    state: dict[str, bool] = {}  # False while on the stack, True when placed
    for start in fragments:
        if start in state:
            continue
        state[start] = False
        stack = [(start, iter(spreads[start]))]
        while stack:
            name, pending = stack[-1]
            target = next(pending, None)
            if target is None:
                stack.pop()
                state[name] = True
                order.append(name)
            elif target not in fragments:
                return order, f"Unknown fragment '{target}'."
            elif target not in state:
                state[target] = False
                stack.append((target, iter(spreads[target])))
            elif not state[target]:
                return order, f"Cannot spread fragment '{target}' within itself."
    return order, None


def _spreads(selection_set: SelectionSetNode) -> list[str]:
    names: list[str] = []
    stack = [selection_set]
    while stack:
        for selection in stack.pop().selections:
            if isinstance(selection, FragmentSpreadNode):
                names.append(selection.name.value)
            elif isinstance(selection, FieldNode | InlineFragmentNode) and selection.selection_set:
                stack.append(selection.selection_set)
    return list(dict.fromkeys(names))


@dataclass
class _Frame:
    """A selection set being measured: what is left of it, and how it joins its parent."""

    pending: Iterator[SelectionNode]
    parent: GraphQLNamedType | None
    join: Callable[[Measure, Measure], None]
    measure: Measure = field(default_factory=Measure)


def _measure(
    schema: GraphQLSchema,
    selection_set: SelectionSetNode,
    parent: GraphQLNamedType | None,
    fragments: Mapping[str, Measure],
    variables: Mapping[str, Any],
) -> Measure:
    top = _Frame(iter(selection_set.selections), parent, Measure.add)
    stack = [top]
    while stack:
        frame = stack[-1]
        selection = next(frame.pending, None)
        if selection is None:
            stack.pop()
            if stack:
                frame.join(stack[-1].measure, frame.measure)
        elif isinstance(selection, FragmentSpreadNode):
            # Absent: unknown, or in a cycle; validation refuses both.
            frame.measure.add(fragments.get(selection.name.value, Measure()))
        elif isinstance(selection, InlineFragmentNode):
            condition = selection.type_condition
            target = schema.get_type(condition.name.value) if condition else frame.parent
            stack.append(_Frame(iter(selection.selection_set.selections), target, Measure.add))
        elif isinstance(selection, FieldNode):
            join = _field_join(schema, selection, frame.parent, variables)
            if selection.selection_set is None:
                join(frame.measure, Measure())
            else:
                child = _field_of(frame.parent, selection.name.value)
                target = get_named_type(child.type) if child is not None else None
                stack.append(_Frame(iter(selection.selection_set.selections), target, join))
    return top.measure


def _field_of(parent: GraphQLNamedType | None, name: str) -> GraphQLField | None:
    if isinstance(parent, GraphQLObjectType | GraphQLInterfaceType):
        found: GraphQLField | None = parent.fields.get(name)
        return found
    return None


def _field_join(
    schema: GraphQLSchema,
    node: FieldNode,
    parent: GraphQLNamedType | None,
    variables: Mapping[str, Any],
) -> Callable[[Measure, Measure], None]:
    """How a field's selection set adds to its parent's figures."""
    name = node.name.value
    definition = _field_of(parent, name)
    counted_deep = name not in INTROSPECTION
    aliased = int(node.alias is not None and node.alias.value != name)
    composite = definition is not None and isinstance(
        get_named_type(definition.type), GraphQLObjectType | GraphQLInterfaceType | GraphQLUnionType
    )
    page = _page_size(node, variables) if _is_connection(definition) else 0
    listed = definition is not None and _is_list(definition)
    size = _list_size(node, definition, variables) if definition is not None and listed else 1
    # A connection's `nodes` and `edges` hold a page, whose size the connection's field gives.
    per_item = size is None and _is_connection_type(parent)
    if size is None and not per_item:
        size = UNPAGED_LIST_SIZE

    def join(into: Measure, child: Measure) -> None:
        if counted_deep:
            into.depth = max(into.depth, 1 + child.depth)
        into.aliases += aliased + child.aliases
        into.selections += 1 + child.selections
        if not composite:
            return
        objects = 1 + child.nodes + child.per_item * page
        if per_item:
            into.per_item += objects
        else:
            into.nodes += (size or 0) * objects

    return join


def _is_list(definition: GraphQLField | None) -> bool:
    return definition is not None and isinstance(get_nullable_type(definition.type), GraphQLList)


def _is_connection_type(named: GraphQLNamedType | None) -> bool:
    return named is not None and named.name.endswith("Connection")


def _is_connection(definition: GraphQLField | None) -> bool:
    return definition is not None and _is_connection_type(get_named_type(definition.type))


def _list_size(
    node: FieldNode, definition: GraphQLField, variables: Mapping[str, Any]
) -> int | None:
    """The items a list field holds by its own arguments: one per element of its list argument
    (`nodes(ids:)`), or its page size; None when no argument says."""
    for argument in node.arguments or ():
        declared = definition.args.get(argument.name.value)
        if declared is not None and isinstance(get_nullable_type(declared.type), GraphQLList):
            value = _value(argument.value, variables)
            return len(value) if isinstance(value, list) else 1
    if any(a.name.value in PAGE_SIZE_ARGUMENTS for a in node.arguments or ()):
        return _page_size(node, variables)
    return None


def _page_size(node: FieldNode, variables: Mapping[str, Any]) -> int:
    sizes = [
        _value(argument.value, variables)
        for argument in node.arguments or ()
        if argument.name.value in PAGE_SIZE_ARGUMENTS
    ]
    given = [s for s in sizes if isinstance(s, int) and not isinstance(s, bool)]
    return max(1, *given) if given else DEFAULT_PAGE_SIZE


def _value(node: ValueNode, variables: Mapping[str, Any]) -> Any:
    if isinstance(node, VariableNode):
        return variables.get(node.name.value)
    if isinstance(node, ListValueNode):
        return list(node.values)
    return value_from_ast_untyped(node, dict(variables))


def _defaults(operation: OperationDefinitionNode) -> dict[str, Any]:
    return {
        d.variable.name.value: value_from_ast_untyped(d.default_value)
        for d in operation.variable_definitions or ()
        if d.default_value is not None
    }


# Fields by response name, each with how many fields were merged there and what is below.
Tree = dict[str, tuple[list[int], "Tree"]]


def repeated_pairs(
    fragments: Mapping[str, FragmentDefinitionNode],
    order: list[str],
    operations: list[OperationDefinitionNode],
) -> int:
    """Pairs of fields merged under one response name, summed over every place of every
    definition (fragments in `order`, each after the fragments it spreads)."""
    trees: dict[str, Tree] = {}
    for name in order:
        trees[name] = _merge_fields(fragments[name].selection_set, trees)
    tops = [*trees.values(), *(_merge_fields(o.selection_set, trees) for o in operations)]
    return sum(_pairs(tree) for tree in tops)


def _merge_fields(selection_set: SelectionSetNode, fragments: Mapping[str, Tree]) -> Tree:
    top: Tree = {}
    stack: list[tuple[SelectionSetNode, Tree]] = [(selection_set, top)]
    while stack:
        selections, into = stack.pop()
        for selection in selections.selections:
            if isinstance(selection, FieldNode):
                name = (selection.alias or selection.name).value
                count, below = into.setdefault(name, ([0], {}))
                count[0] += 1
                if selection.selection_set is not None:
                    stack.append((selection.selection_set, below))
            elif isinstance(selection, InlineFragmentNode):
                stack.append((selection.selection_set, into))
            elif isinstance(selection, FragmentSpreadNode):
                _merge_tree(into, fragments.get(selection.name.value, {}))
    return top


def _merge_tree(into: Tree, tree: Tree) -> None:
    stack = [(into, tree)]
    while stack:
        target, source = stack.pop()
        for name, (count, below) in source.items():
            merged, merged_below = target.setdefault(name, ([0], {}))
            merged[0] += count[0]
            stack.append((merged_below, below))


def _pairs(tree: Tree) -> int:
    pairs = 0
    stack = [tree]
    while stack:
        for (count,), below in stack.pop().values():
            pairs += count * (count - 1) // 2
            stack.append(below)
    return pairs
