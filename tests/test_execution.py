"""The lean executor answers exactly what graphql-core's own executor answers, data and errors
alike, while completing plain fields without graphql-core's per-field machinery."""

from enum import Enum
from typing import Any

import pytest
import strawberry
from strawberry.schema.schema import StrawberryGraphQLCoreExecutionContext

from app.graphql.execution import LeanExecution, inline_fields
from app.graphql.schema import schema as app_schema


@strawberry.enum
class Color(Enum):
    RED = "red"
    BLUE = "blue"


@strawberry.type
class Leaf:
    name: str
    size: int | None
    color: Color
    tags: list[str]


@strawberry.type
class Other:
    name: str


@strawberry.type
class Holder:
    leaf: Leaf
    maybe_leaf: Leaf | None
    leaves: list[Leaf]
    maybe_leaves: list[Leaf] | None

    @strawberry.field
    async def later(self) -> Leaf:
        return self.leaf

    @strawberry.field
    def fails(self) -> str:
        raise ValueError("resolver failed")


def leaf(name: Any = "a", size: Any = 1, color: Any = Color.RED) -> Leaf:
    return Leaf(name=name, size=size, color=color, tags=["x", "y"])


HOLDERS: dict[str, Any] = {
    "plain": Holder(leaf=leaf(), maybe_leaf=None, leaves=[leaf("b"), leaf("c")], maybe_leaves=[]),
    # a non-null leaf that is null, deep inside a list: the error nulls up to the nullable field
    "null_in_list": Holder(
        leaf=leaf(), maybe_leaf=leaf(), leaves=[leaf(), leaf(name=None)], maybe_leaves=None
    ),
    "null_leaf": Holder(leaf=leaf(name=None), maybe_leaf=leaf(), leaves=[], maybe_leaves=[]),
    "null_object": Holder(leaf=None, maybe_leaf=None, leaves=[], maybe_leaves=None),  # type: ignore[arg-type]
    "null_item": Holder(leaf=leaf(), maybe_leaf=None, leaves=[None], maybe_leaves=[None]),  # type: ignore[list-item]
    "bad_scalar": Holder(
        leaf=leaf(size="big"), maybe_leaf=leaf(size=2**40), leaves=[], maybe_leaves=[]
    ),
    "bad_enum": Holder(
        leaf=leaf(color="green"), maybe_leaf=leaf(color=Color.BLUE), leaves=[], maybe_leaves=[]
    ),
    "wrong_class": Holder(
        leaf=Other(name="o"),  # type: ignore[arg-type]
        maybe_leaf=leaf(),
        leaves=[leaf(), Other(name="p")],  # type: ignore[list-item]
        maybe_leaves=[Other(name="q")],  # type: ignore[list-item]
    ),
    "not_a_list": Holder(leaf=leaf(), maybe_leaf=None, leaves=(leaf(),), maybe_leaves="x"),  # type: ignore[arg-type]
    "missing": Holder(leaf=object(), maybe_leaf=None, leaves=[], maybe_leaves=None),  # type: ignore[arg-type]
}


@strawberry.type
class Query:
    @strawberry.field
    def holder(self, case: str) -> Holder | None:
        return HOLDERS[case]  # type: ignore[no-any-return]


QUERY = """query($case: String!) { holder(case: $case) {
  leaf { name size color tags }
  maybeLeaf { name size color __typename }
  leaves { name color n2: name }
  maybeLeaves { name }
  later { name color }
  skipped: leaf @skip(if: true) { name }
  included: leaf @include(if: true) { name }
  ... on Holder { leaf { size } }
} }"""


def _schema(executor: type) -> strawberry.Schema:
    return strawberry.Schema(query=Query, execution_context_class=executor)


def counted(monkeypatch: pytest.MonkeyPatch, method: str) -> list[str]:
    """The parent types `LeanExecution.<method>` is called for, from now on."""
    calls: list[str] = []
    original = getattr(LeanExecution, method)

    def counting(self: LeanExecution, parent_type: Any, *args: Any) -> Any:
        calls.append(parent_type.name)
        return original(self, parent_type, *args)

    monkeypatch.setattr(LeanExecution, method, counting)
    return calls


@pytest.mark.parametrize("case", sorted(HOLDERS))
async def test_same_answer_as_graphql_core(case: str) -> None:
    lean = await _schema(LeanExecution).execute(QUERY, {"case": case})
    stock = await _schema(StrawberryGraphQLCoreExecutionContext).execute(QUERY, {"case": case})
    assert lean.data == stock.data
    assert [(e.message, e.path) for e in lean.errors or []] == [
        (e.message, e.path) for e in stock.errors or []
    ]
    assert list(lean.data or {}) == list(stock.data or {})  # the order of keys too


async def test_resolver_errors_and_async_fields_keep_their_path() -> None:
    query = '{ holder(case: "plain") { fails leaf { name } later { name } } }'
    lean = await _schema(LeanExecution).execute(query)
    assert lean.data == {"holder": None}
    assert [e.path for e in lean.errors or []] == [["holder", "fails"]]


def test_the_app_schema_takes_the_inline_path() -> None:
    """If Strawberry changed how it marks plain fields, the inline path would silently vanish:
    the fields every page is made of must be on it."""
    types = app_schema._schema.type_map
    assert {"id", "role", "text", "createdAt", "metadata", "status"} <= set(
        inline_fields(types["Message"])  # type: ignore[arg-type]
    )
    assert {"cursor", "node"} <= set(inline_fields(types["MessageEdge"]))  # type: ignore[arg-type]
    assert {"edges", "nodes", "pageInfo"} <= set(
        inline_fields(types["MessageConnection"])  # type: ignore[arg-type]
    )
    assert "messages" not in inline_fields(types["Thread"])  # type: ignore[arg-type]
    assert app_schema.execution_context_class is LeanExecution


async def test_plain_fields_skip_graphql_cores_field_execution(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    calls = counted(monkeypatch, "execute_field")
    result = await _schema(LeanExecution).execute(QUERY, {"case": "plain"})
    assert not result.errors
    # resolvers (holder, later), a field with a directive (included), a list of scalars
    # (tags): every other field completes inline
    assert sorted(calls) == ["Holder", "Holder", "Leaf", "Query"], calls


async def test_plain_selections_are_built_without_executing_their_fields(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """A selection of plain fields only (at any depth, __typename included) is compiled: no
    object of it goes through field execution, while its answer stays graphql-core's."""
    types = counted(monkeypatch, "execute_fields")
    query = """{ holder(case: "null_in_list") {
      leaves { name color __typename }  maybeLeaf { n: name size }  leaf { color } } }"""
    lean = await _schema(LeanExecution).execute(query)
    assert sorted(types) == ["Holder", "Leaf", "Query"]  # the irregular item only
    stock = await _schema(StrawberryGraphQLCoreExecutionContext).execute(query)
    assert lean.data == stock.data
    assert [(e.message, e.path) for e in lean.errors or []] == [
        (e.message, e.path) for e in stock.errors or []
    ]
    types.clear()
    plain = '{ holder(case: "plain") { leaves { name __typename } leaf { name size } } }'
    assert (await _schema(LeanExecution).execute(plain)).data == {
        "holder": {
            "leaves": [{"name": "b", "__typename": "Leaf"}, {"name": "c", "__typename": "Leaf"}],
            "leaf": {"name": "a", "size": 1},
        }
    }
    assert sorted(types) == ["Holder", "Query"]
