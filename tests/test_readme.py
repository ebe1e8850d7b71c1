"""The GraphQL examples of the README and the docs run as written against `./scripts/serve --demo`
(and every setting is in .env.example and docs/operations.md).

Every ```graphql block of DOCS is sent over HTTP, in the order of its file, to one server that
./scripts/serve starts on free ports, with its own data directory and the demo threads, using
the local development key it writes. A response must carry no `errors`, and no field the
example selects may be null or an empty list (the demo data has a value for each) unless the
example says so.

An HTML comment right before a block (GitHub does not render it) says more, as JSON:

    <!-- example: {"variables": {"id": "@CreateThread.createThread.thread.id"}} -->

- "variables": sent with the block. A string "@Name.path" stands for the value at `path` (keys
  and list indexes, separated by dots) in the data of the earlier block of the same file whose
  operation is named `Name`.
- "empty": names of fields that may be null or an empty list.
- "skip": why the block is not run here; the docs say so next to it. Only subscriptions may be
  skipped: they need a WebSocket (tests/test_realtime.py runs them).
"""

import json
import re
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest
from graphql import OperationDefinitionNode, OperationType, parse

from app.settings import Settings
from tests.helpers.serve import serving

pytestmark = [pytest.mark.slow]

ROOT = Path(__file__).resolve().parent.parent
DOCS = ["README.md", "docs/api.md", "docs/realtime.md"]
BLOCK = re.compile(
    r"(?:<!-- example: (?P<options>\{.*?\}) -->\s*\n)?```graphql\n(?P<body>.*?)```", re.S
)
OPTIONS = {"variables", "empty", "skip"}


@dataclass(frozen=True)
class Example:
    file: str
    line: int
    name: str
    operation: OperationType
    document: str
    variables: dict[str, Any]
    empty: frozenset[str]
    skip: str | None

    def __str__(self) -> str:
        return f"{self.file}:{self.line} {self.name}"


def examples(file: str) -> list[Example]:
    text = (ROOT / file).read_text()
    found = []
    for match in BLOCK.finditer(text):
        options = json.loads(match["options"] or "{}")
        assert set(options) <= OPTIONS, f"{file}: unknown example options {set(options) - OPTIONS}"
        (definition,) = parse(match["body"]).definitions
        assert isinstance(definition, OperationDefinitionNode)
        line = text.count("\n", 0, match.start("body"))
        found.append(
            Example(
                file=file,
                line=line,
                name=definition.name.value if definition.name else f"line {line}",
                operation=definition.operation,
                document=match["body"],
                variables=options.get("variables", {}),
                empty=frozenset(options.get("empty", [])),
                skip=options.get("skip"),
            )
        )
    commented = text.count("<!-- example:")
    assert commented == sum(1 for m in BLOCK.finditer(text) if m["options"]), (
        f"{file}: an `<!-- example: … -->` comment is not right before a ```graphql block"
    )
    return found


ALL_EXAMPLES = [example for file in DOCS for example in examples(file)]
# Subscriptions need a WebSocket: tests/test_realtime.py runs the README's, which every other
# subscription example must be (test_every_doc_has_examples).
EXAMPLES = [example for example in ALL_EXAMPLES if example.skip is None]


def blanks(value: Any, path: str = "") -> Iterator[tuple[str, str]]:
    """(path, field name) of every null and every empty list in a response's data."""
    items = value.items() if isinstance(value, dict) else enumerate(value)
    for key, item in items:
        here = f"{path}.{key}" if path else str(key)
        if item is None or item == []:
            yield here, str(key)
        elif isinstance(item, dict | list):
            yield from blanks(item, here)


def resolve(value: Any, results: dict[tuple[str, str], Any], file: str) -> Any:
    """`value` with every "@Name.path" replaced by that value of an earlier result."""
    if isinstance(value, dict):
        return {key: resolve(item, results, file) for key, item in value.items()}
    if isinstance(value, list):
        return [resolve(item, results, file) for item in value]
    if not (isinstance(value, str) and value.startswith("@")):
        return value
    name, *path = value[1:].split(".")
    assert (file, name) in results, f"{value}: no earlier example {name} in {file} has run"
    found = results[file, name]
    for step in path:
        found = found[int(step)] if isinstance(found, list) else found[step]
    assert found is not None, f"{value} is null"
    return found


@pytest.fixture(scope="module")
def client(tmp_path_factory: pytest.TempPathFactory) -> Iterator[httpx.Client]:
    """An HTTP client with the local key, for `./scripts/serve --demo` on free ports."""
    with serving(tmp_path_factory.mktemp("serve"), "--demo") as (http, _):
        yield http


@pytest.fixture(scope="module")
def results() -> dict[tuple[str, str], Any]:
    """The data of every example run so far, by file and operation name."""
    return {}


def test_every_doc_has_examples() -> None:
    for file in DOCS:
        assert any(example.file == file for example in EXAMPLES), f"{file} has no GraphQL example"
    names = [(example.file, example.name) for example in EXAMPLES]
    assert len(names) == len(set(names)), "operation names are unique within a file"
    (readme_subscription,) = [
        e.document
        for e in ALL_EXAMPLES
        if e.file == "README.md" and e.operation is OperationType.SUBSCRIPTION
    ]
    for example in ALL_EXAMPLES:
        if example.skip is not None:
            assert example.operation is OperationType.SUBSCRIPTION, (
                f"{example}: only subscriptions are left to tests/test_realtime.py"
            )
            assert example.document == readme_subscription, (
                f"{example}: tests/test_realtime.py runs only the README's subscription"
            )


def test_every_setting_is_documented() -> None:
    example_env = (ROOT / ".env.example").read_text()
    operations = (ROOT / "docs" / "operations.md").read_text()
    for name in Settings.model_fields:
        assert f"# {name.upper()}=" in example_env, f"{name.upper()} is not in .env.example"
        assert f"`{name.upper()}`" in operations, f"{name.upper()} is not in docs/operations.md"


@pytest.mark.parametrize("example", EXAMPLES, ids=str)
def test_example_runs_as_written(
    example: Example, client: httpx.Client, results: dict[tuple[str, str], Any]
) -> None:
    variables = resolve(example.variables, results, example.file)
    response = client.post("/graphql", json={"query": example.document, "variables": variables})
    assert response.status_code == 200, response.text
    body = response.json()
    assert "errors" not in body, body["errors"]
    data = body["data"]
    results[example.file, example.name] = data
    missing = [path for path, name in blanks(data) if name not in example.empty]
    assert not missing, f"null or empty where the demo data has a value: {missing}\n{data}"
