"""schema.graphql is exactly the schema the code builds, and every public item is described."""

from pathlib import Path

from graphql import (
    GraphQLEnumType,
    GraphQLInputObjectType,
    GraphQLInterfaceType,
    GraphQLObjectType,
    GraphQLScalarType,
    get_named_type,
    specified_scalar_types,
)

from app.graphql.schema import schema

SPECIFIED_SCALARS = set(specified_scalar_types)
SCHEMA_FILE = Path(__file__).parent.parent / "schema.graphql"


def test_schema_file_is_current() -> None:
    assert SCHEMA_FILE.read_text(encoding="utf-8") == schema.as_str() + "\n", (
        "schema.graphql is out of date: run ./scripts/export-schema"
    )


def test_every_type_and_field_is_described() -> None:
    missing = []
    for name, graphql_type in schema._schema.type_map.items():
        if name.startswith("__") or name in {"String", "Int", "Boolean", "ID", "Float"}:
            continue
        if not graphql_type.description:
            missing.append(name)
        if isinstance(graphql_type, GraphQLInputObjectType):
            missing += [
                f"{name}.{field}"
                for field, definition in graphql_type.fields.items()
                if not definition.description
            ]
        if isinstance(graphql_type, GraphQLObjectType | GraphQLInterfaceType):
            for field, definition in graphql_type.fields.items():
                if not definition.description:
                    missing.append(f"{name}.{field}")
                missing += [
                    f"{name}.{field}({arg})"
                    for arg, argument in definition.args.items()
                    if not argument.description
                ]
    assert missing == []


def test_what_codegen_users_see_is_complete() -> None:
    graphql_schema = schema._schema
    assert graphql_schema.description, "the schema has a description"
    undescribed_values = [
        f"{name}.{value}"
        for name, graphql_type in graphql_schema.type_map.items()
        if isinstance(graphql_type, GraphQLEnumType) and not name.startswith("__")
        for value, definition in graphql_type.values.items()
        if not definition.description
    ]
    assert undescribed_values == []
    custom_scalars = [
        graphql_type
        for name, graphql_type in graphql_schema.type_map.items()
        if isinstance(graphql_type, GraphQLScalarType) and name not in SPECIFIED_SCALARS
    ]
    assert {s.name for s in custom_scalars} == {"DateTime", "Metadata"}
    assert [s.name for s in custom_scalars if not s.specified_by_url] == []
    mutation = graphql_schema.mutation_type
    assert mutation is not None
    payloads = {name: get_named_type(field.type).name for name, field in mutation.fields.items()}
    assert payloads == {name: f"{name[0].upper()}{name[1:]}Payload" for name in payloads}, (
        "one payload type per mutation, named after it"
    )
