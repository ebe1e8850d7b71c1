"""schema.graphql is exactly the schema the code builds, and every public item is described."""

from pathlib import Path

from graphql import GraphQLInputObjectType, GraphQLInterfaceType, GraphQLObjectType
from strawberry.printer import print_schema

from app.graphql.schema import schema

SCHEMA_FILE = Path(__file__).parent.parent / "schema.graphql"


def test_schema_file_is_current() -> None:
    assert SCHEMA_FILE.read_text(encoding="utf-8") == print_schema(schema) + "\n", (
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
