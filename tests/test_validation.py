"""The input rules: the pure ones, and the string rule on every string input of the schema."""

import json
import unicodedata
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import httpx
import hypothesis
import pytest
from graphql import (
    GraphQLEnumType,
    GraphQLInputObjectType,
    GraphQLInputType,
    GraphQLList,
    GraphQLNamedType,
    GraphQLNonNull,
    GraphQLObjectType,
    GraphQLOutputType,
    GraphQLScalarType,
    GraphQLSchema,
    Undefined,
    build_client_schema,
    get_introspection_query,
    get_named_type,
    is_abstract_type,
)
from hypothesis import strategies as st

from app import validation
from app.domain import Caller
from app.errors import InvalidInput
from app.graphql import extensions, strings
from app.graphql.context import Context
from app.graphql.schema import schema
from app.services.runtime import Runtime
from tests.helpers.api import Api


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


def test_unicode_string() -> None:
    text_ok = (
        "",
        "plain",
        "tab\tnew\nline\rcr",
        "bell \x07 esc \x1b del \x7f",
        "😀 ünï",
        "\U0010ffff",
    )
    for value in text_ok:
        assert validation.unicode_string(value, field="f") == value
    for value in ("tab\tnew\nline\rcr", "😀 ünï", "a.b", "$where"):
        assert validation.unicode_string(value, field="f", key=True) == value
    for value, reason in (
        ("\ud800", "U+D800"),
        ("pair reversed \ude00\ud83d", "U+DE00"),
        ("a\x00b", "NUL"),
        ("x" * 1_000_000 + "\x00", "NUL"),
    ):
        for key in (False, True):
            with pytest.raises(InvalidInput) as raised:
                validation.unicode_string(value, field="f", key=key)
            assert raised.value.field == "f" and reason in raised.value.message
    for control in [*range(1, 9), 0x0B, 0x0C, *range(0x0E, 0x20), *range(0x7F, 0xA0)]:
        with pytest.raises(InvalidInput) as raised:
            validation.unicode_string(f"k{chr(control)}", field="f", key=True)
        assert f"U+{control:04X}" in raised.value.message


def _breaks_rule(value: str, key: bool) -> bool:
    """The rule as documented, written out character by character."""
    return any(
        char == "\x00"
        or 0xD800 <= ord(char) <= 0xDFFF
        or (key and unicodedata.category(char) == "Cc" and char not in "\t\n\r")
        for char in value
    )


@hypothesis.settings(max_examples=500, deadline=None)
@hypothesis.given(
    value=st.one_of(
        st.text(st.characters(exclude_categories=()), max_size=30),
        st.text(
            st.sampled_from("\x00\x01\t\n\r\x1b\x7f\x85\x9f\ud800\udfff\u2028😀a"), max_size=10
        ),
    ),
    key=st.booleans(),
)
def test_unicode_string_is_the_documented_rule(value: str, key: bool) -> None:
    try:
        validation.unicode_string(value, field="f", key=key)
        refused = False
    except InvalidInput:
        refused = True
    assert refused == _breaks_rule(value, key)


# --- The string rule, on every String, ID and custom-scalar input of the schema ---------------

HOLE = "<hole>"
NOT_STRINGS = {"Int", "Float", "Boolean"}
DUMMIES: dict[str, Any] = {
    "String": "x",
    "ID": "thread_0b8f1c2e-6a4d-4f3b-9c1d-2e3f4a5b6c7d",
    "Int": 1,
    "Float": 1.0,
    "Boolean": True,
    "Metadata": {},
    "DateTime": "2026-01-01T00:00:00.000Z",
}


@dataclass(frozen=True)
class Target:
    """A string input: `field`'s argument `argument`, at `steps` inside it."""

    root: str  # query, mutation or subscription
    selection: str  # the operation's selection around `$v`, e.g. thread(id: $p0) { messages(after: $v) { __typename } }
    variables: str  # the operation's variable definitions but $v's
    given: dict[str, Any]  # their values
    argument: str
    argument_type: GraphQLInputType
    steps: tuple[str | int, ...]
    leaf: GraphQLScalarType

    @property
    def path(self) -> str:
        return ".".join([self.argument, *map(str, self.steps)])

    @property
    def is_key(self) -> bool:
        """The documented keys: ID, cursors, idempotency keys, `…Id(s)` (Metadata: its keys)."""
        name = next((s for s in reversed(self.steps) if isinstance(s, str)), self.argument)
        return (
            self.leaf.name == "ID"
            or name in {"after", "before", "idempotencyKey"}
            or name.endswith(("Id", "Ids"))
        )


def _skeleton(type_: GraphQLInputType) -> Any:
    """The smallest value of the type, every required field given."""
    if isinstance(type_, GraphQLNonNull):
        return _skeleton(type_.of_type)
    if isinstance(type_, GraphQLList):
        return [_skeleton(type_.of_type)]
    if isinstance(type_, GraphQLInputObjectType):
        if type_.is_one_of:
            name, field = next(iter(type_.fields.items()))
            return {name: _skeleton(field.type)}
        return {
            name: _skeleton(field.type)
            for name, field in type_.fields.items()
            if isinstance(field.type, GraphQLNonNull) and field.default_value is Undefined
        }
    if isinstance(type_, GraphQLEnumType):
        return next(iter(type_.values))
    return DUMMIES[type_.name]


def _place(type_: GraphQLInputType, steps: tuple[str | int, ...], value: Any) -> Any:
    """The skeleton of the type with `value` at `steps`."""
    if isinstance(type_, GraphQLNonNull):
        return _place(type_.of_type, steps, value)
    if not steps:
        return value
    if isinstance(type_, GraphQLList):
        return [_place(type_.of_type, steps[1:], value)]
    assert isinstance(type_, GraphQLInputObjectType)
    placed = {} if type_.is_one_of else _skeleton(type_)
    name = steps[0]
    assert isinstance(name, str)
    placed[name] = _place(type_.fields[name].type, steps[1:], value)
    return placed


def _leaves(
    type_: GraphQLInputType, steps: tuple[str | int, ...] = ()
) -> Iterator[tuple[tuple[str | int, ...], GraphQLScalarType]]:
    if isinstance(type_, GraphQLNonNull):
        yield from _leaves(type_.of_type, steps)
    elif isinstance(type_, GraphQLList):
        yield from _leaves(type_.of_type, (*steps, 0))
    elif isinstance(type_, GraphQLInputObjectType):
        for name, field in type_.fields.items():
            yield from _leaves(field.type, (*steps, name))
    elif isinstance(type_, GraphQLScalarType) and type_.name not in NOT_STRINGS:
        yield steps, type_


def _literal(type_: GraphQLInputType, value: Any) -> str:
    """The value written in GraphQL (JSON's string escapes are GraphQL's)."""
    if isinstance(type_, GraphQLNonNull):
        return _literal(type_.of_type, value)
    if isinstance(type_, GraphQLList):
        return "[" + ", ".join(_literal(type_.of_type, item) for item in value) + "]"
    if isinstance(type_, GraphQLInputObjectType):
        fields = (f"{name}: {_literal(type_.fields[name].type, v)}" for name, v in value.items())
        return "{" + ", ".join(fields) + "}"
    if isinstance(type_, GraphQLEnumType):
        return str(value)
    if isinstance(value, dict):
        return "{" + ", ".join(f"{k}: {_literal(type_, v)}" for k, v in value.items()) + "}"
    return json.dumps(value)


def _paths_to(schema: GraphQLSchema) -> dict[str, tuple[str, str, str, dict[str, Any]]]:
    """For every object type, how an operation reaches it: its root, the selection around a
    HOLE, variable definitions and values for the required arguments on the way."""
    found: dict[str, tuple[str, str, str, dict[str, Any]]] = {}
    queue: list[tuple[GraphQLNamedType, tuple[str, str, str, dict[str, Any]]]] = []
    for root, type_ in (
        ("query", schema.query_type),
        ("mutation", schema.mutation_type),
        ("subscription", schema.subscription_type),
    ):
        if type_ is not None and type_.name not in found:
            found[type_.name] = (root, HOLE, "", {})
            queue.append((type_, found[type_.name]))
    while queue:
        parent, (root, around, definitions, given) = queue.pop(0)
        targets = schema.get_possible_types(parent) if is_abstract_type(parent) else [parent]
        for target in targets:
            assert isinstance(target, GraphQLObjectType)
            spread = HOLE if target is parent else f"... on {target.name} {{ {HOLE} }}"
            for name, field in target.fields.items():
                child = get_named_type(field.type)
                if child.name in found or (
                    not isinstance(child, GraphQLObjectType) and not is_abstract_type(child)
                ):
                    continue
                more, values, arguments = definitions, dict(given), []
                for arg_name, arg in field.args.items():
                    if isinstance(arg.type, GraphQLNonNull) and arg.default_value is Undefined:
                        variable = f"p{len(values)}"
                        more += f", ${variable}: {arg.type}"
                        values[variable] = _skeleton(arg.type)
                        arguments.append(f"{arg_name}: ${variable}")
                call = f"{name}({', '.join(arguments)})" if arguments else name
                inner = around.replace(HOLE, spread.replace(HOLE, f"{call} {{ {HOLE} }}"))
                found[child.name] = (root, inner, more, values)
                queue.append((child, found[child.name]))
    return found


def _targets(introspected: dict[str, Any]) -> list[Target]:
    client = build_client_schema(introspected)  # type: ignore[arg-type]
    reach = _paths_to(client)
    targets = []
    for type_name, (root, around, definitions, given) in reach.items():
        type_ = client.get_type(type_name)
        if not isinstance(type_, GraphQLObjectType):
            continue
        for field_name, field in type_.fields.items():
            for argument, arg in field.args.items():
                for steps, leaf in _leaves(arg.type):
                    others, values = [], dict(given)
                    for other_name, other in field.args.items():
                        if (
                            other_name != argument
                            and isinstance(other.type, GraphQLNonNull)
                            and other.default_value is Undefined
                        ):
                            variable = f"p{len(values)}"
                            definitions_more = f", ${variable}: {other.type}"
                            values[variable] = _skeleton(other.type)
                            others.append((f"{other_name}: ${variable}", definitions_more))
                    call = ", ".join([f"{argument}: {{value}}", *(o[0] for o in others)])
                    selection = _selection_of(field.type)
                    inner = around.replace(HOLE, f"{field_name}({call}){selection}")
                    targets.append(
                        Target(
                            root=root,
                            selection=inner,
                            variables=definitions + "".join(o[1] for o in others),
                            given=values,
                            argument=argument,
                            argument_type=arg.type,
                            steps=steps,
                            leaf=leaf,
                        )
                    )
    return targets


def _selection_of(type_: GraphQLOutputType) -> str:
    named = get_named_type(type_)
    return (
        " { __typename }" if isinstance(named, GraphQLObjectType) or is_abstract_type(named) else ""
    )


async def _run(api: Api, target: Target, value: Any, *, literal: bool) -> list[dict[str, Any]]:
    """The errors of the target's operation, given `value` at the target's place."""
    placed = _place(target.argument_type, target.steps, value)
    if literal:
        selection = target.selection.replace("{value}", _literal(target.argument_type, placed))
        definitions, variables = target.variables, dict(target.given)
    else:
        selection = target.selection.replace("{value}", "$v")
        definitions = f", $v: {target.argument_type}{target.variables}"
        variables = {**target.given, "v": placed}
    head = f"{target.root}({definitions.lstrip(', ')})" if definitions else target.root
    document = f"{head} {{ {selection} }}"
    if target.root != "subscription":
        result = await api.run(document, variables)
        return [dict(error.formatted) for error in result.errors or []]
    caller = Caller(organization_id=api.organization_id, user_id=api.user_id, key_id="test")
    context = Context(runtime=Runtime(api.db), caller=caller)
    stream = await schema.subscribe(document, variable_values=variables, context_value=context)
    try:
        first = await anext(stream)
    finally:
        await stream.aclose()
    return [dict(error.formatted) for error in first.errors or []]


def _cases(target: Target) -> Iterator[tuple[Any, bool]]:
    """What the target must refuse, each with whether it is sent as a literal (a lone surrogate
    cannot be: GraphQL's syntax refuses it) or in a variable."""
    text_bad, key_bad = ["\ud800", "a\x00b"], ["\ud800", "a\x00b", "a\x1bb"]
    if target.leaf.name == "Metadata":
        for bad in text_bad:
            yield {"k": bad}, False
            yield {"k": ["ok", bad]}, False
        for bad in key_bad:
            yield {f"k{bad}": "v"}, False
        yield {"k": "a\x00b"}, True
        return
    for bad in key_bad if target.is_key else text_bad:
        yield bad, False
    yield "a\x00b", True


async def test_every_string_input_follows_the_rule(api: Api) -> None:
    """Every String, ID and custom-scalar argument and input field the schema has (found by
    introspection, so a new one is in) refuses a lone surrogate and NUL, and a key a control
    character: BAD_USER_INPUT naming its path, never INTERNAL_SERVER_ERROR."""
    introspection = await api.ok(get_introspection_query(one_of=True))
    targets = _targets(introspection)
    paths = {t.path for t in targets}
    assert {
        "filter.userId",
        "filter.assistantId",
        "filter.metadata",
        "input.metadata",
        "input.messages.0.content",
        "input.messages.0.contentParts.0.text",
        "input.messages.0.contentParts.0.imageUrl.url",
        "input.toolResources.codeInterpreter.fileIds.0",
        "input.idempotencyKey",
        "ids.0",
        "id",
        "after",
        "before",
        "threadId",
        "query",
        "filter.createdAfter",
    } <= paths, paths
    assert len(targets) >= 60
    wrong: list[tuple[object, ...]] = []
    checked = 0
    for target in targets:
        for value, literal in _cases(target):
            errors = await _run(api, target, value, literal=literal)
            checked += 1
            codes = [(e["extensions"].get("code"), e["extensions"].get("field")) for e in errors]
            if literal and target.leaf.name == "DateTime":
                # Parsed as the document is validated: not a DateTime, like any ill-typed literal.
                if codes != [("BAD_USER_INPUT", None)] or "'DateTime'" not in errors[0]["message"]:
                    wrong.append((target.selection, target.path, value, literal, errors))
            elif codes != [("BAD_USER_INPUT", target.path)]:
                wrong.append((target.selection, target.path, value, literal, errors))
    assert checked > 250
    assert not wrong, f"{len(wrong)} of {checked} not refused as they must be: {wrong}"


async def test_reported_inputs_are_refused_and_nothing_is_written(api: Api) -> None:
    threads = "query($f: ThreadFilter) { threads(filter: $f) { totalCount } }"
    for field in ("userId", "assistantId"):
        error = await api.error(threads, {"f": {field: "\ud800"}})
        assert error["extensions"] == {"code": "BAD_USER_INPUT", "field": f"filter.{field}"}
    create = "mutation($i: CreateThreadInput!) { createThread(input: $i) { thread { id } } }"
    for metadata in ({"a\x00b": "v"}, {"a\x1fb": "v"}, {"k": "a\x00b"}, {"k": ["a", "\udfff"]}):
        error = await api.error(create, {"i": {"metadata": metadata, "title": "t"}})
        assert error["extensions"] == {"code": "BAD_USER_INPUT", "field": "input.metadata"}
        assert "\\x" in error["message"] or "U+" in error["message"], error
    error = await api.error(create, {"i": {"messages": [{"content": "ok"}, {"content": "\x00"}]}})
    assert error["extensions"] == {"code": "BAD_USER_INPUT", "field": "input.messages.1.content"}
    error = await api.error(
        'query { ...F } fragment F on Query { nodes(ids: ["thread_\\u0000"]) { __typename } }'
    )
    assert error["extensions"] == {"code": "BAD_USER_INPUT", "field": "ids.0"}
    data = await api.ok("{ threads(filter: {deleted: false}) { totalCount } }")
    assert data["threads"]["totalCount"] == 0


async def test_text_keeps_what_the_rule_allows(api: Api) -> None:
    """Tab, newline and carriage return everywhere; other control characters in text; any
    Unicode scalar value, astral ones too."""
    metadata = {"tab\tkey\r\n": "bell \x07 esc \x1b", "😀 ünï": ["\U0010ffff", "a\u2028b"]}
    title = "a\tb\nc\rd \x7f \x9f 😀"
    create = """mutation($i: CreateThreadInput!) {
      createThread(input: $i) { thread { title metadata messages { nodes { text } } } } }"""
    messages = [{"content": "esc \x1b[31m red \U0001f600"}]
    data = await api.ok(create, {"i": {"title": title, "metadata": metadata, "messages": messages}})
    thread = data["createThread"]["thread"]
    assert thread["title"] == title and thread["metadata"] == metadata
    assert thread["messages"]["nodes"] == [{"text": messages[0]["content"]}]
    found = await api.ok(
        "query($m: Metadata) { threads(filter: {metadata: $m}) { totalCount } }",
        {"m": {"tab\tkey\r\n": "bell \x07 esc \x1b"}},
    )
    assert found["threads"]["totalCount"] == 1


async def test_json_escapes_over_http(http: httpx.AsyncClient) -> None:
    """A lone surrogate arrives as the JSON escape \\ud800 (Python's json decodes it into a str
    holding a surrogate): refused like in the schema, in both media types."""
    query = "query($f: ThreadFilter) { threads(filter: $f) { totalCount } }"
    body = json.dumps({"query": query, "variables": {"f": {"userId": "\ud800"}}})
    assert "\\ud800" in body
    for accept, status in (("application/json", 200), ("application/graphql-response+json", 400)):
        headers = {"Content-Type": "application/json", "Accept": accept}
        response = await http.post("/graphql", content=body.encode(), headers=headers)
        assert response.status_code == status, response.text
        errors = response.json()["errors"]
        assert [e["extensions"]["code"] for e in errors] == ["BAD_USER_INPUT"]
        assert errors[0]["extensions"]["field"] == "filter.userId"
    key = json.dumps(
        {
            "query": "mutation($i: CreateThreadInput!) { createThread(input: $i) { thread { id } } }",
            "variables": {"i": {"metadata": {"a\u0000b": "v"}}},
        }
    )
    response = await http.post(
        "/graphql", content=key, headers={"Content-Type": "application/json"}
    )
    assert response.json()["errors"][0]["extensions"] == {
        "code": "BAD_USER_INPUT",
        "field": "input.metadata",
    }


async def test_a_document_is_walked_once(api: Api, monkeypatch: pytest.MonkeyPatch) -> None:
    """The rule's walk of a document is done once, its literal strings checked then; what
    variables give is checked on every request: in a variable, and in a Metadata literal
    that holds a variable."""
    walks: list[object] = []
    walk = strings._Walk.operation

    def counted(self: Any, *args: Any) -> Any:
        walks.append(args)
        return walk(self, *args)

    monkeypatch.setattr(strings._Walk, "operation", counted)
    extensions._string_plan.cache_clear()
    by_variable = "query($f: ThreadFilter) { threads(filter: $f) { totalCount } }"
    in_scalar = "query($v: String) { threads(filter: {metadata: {k: $v}}) { totalCount } }"
    literal = '{ threads(filter: {userId: "a\\u0000b"}) { totalCount } }'
    for _ in range(2):
        assert (await api.ok(by_variable, {"f": {"userId": "u"}}))["threads"]["totalCount"] == 0
        error = await api.error(by_variable, {"f": {"userId": "\ud800"}})
        assert error["extensions"] == {"code": "BAD_USER_INPUT", "field": "filter.userId"}
        assert (await api.ok(in_scalar, {"v": "ok"}))["threads"]["totalCount"] == 0
        error = await api.error(in_scalar, {"v": "a\x00b"})
        assert error["extensions"] == {"code": "BAD_USER_INPUT", "field": "filter.metadata"}
        error = await api.error(literal)
        assert error["extensions"] == {"code": "BAD_USER_INPUT", "field": "filter.userId"}
    assert len(walks) == 3
