"""Fuzzing the served API over real HTTP (./scripts/serve --demo): schemathesis's GraphQL mode
over every query and mutation, and a corpus of hostile strings (lone surrogates, NUL, control
characters, huge strings) against the string rule. No answer may be a 5xx or carry
INTERNAL_SERVER_ERROR, and the server's log must hold no stack trace."""

import json
import random
import time
import unicodedata
from collections import Counter
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
import schemathesis
from graphql import (
    ArgumentNode,
    NameNode,
    ObjectFieldNode,
    StringValueNode,
    Visitor,
    parse,
    print_ast,
    visit,
)
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from schemathesis import GenerationMode
from schemathesis.core.result import Ok
from schemathesis.graphql import nodes

from tests.helpers.serve import serving

pytestmark = [pytest.mark.slow]

# Each fuzz run stays well inside a minute on this machine (measured: see the test's output).
SCHEMATHESIS_EXAMPLES = 600
CORPUS_EXAMPLES = 600
BUDGET_SECONDS = 60


@pytest.fixture(scope="module")
def served(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[httpx.Client, str, Path]]:
    data_dir = tmp_path_factory.mktemp("fuzz")
    with serving(data_dir, "--demo") as (http, key):
        yield http, key, data_dir / "serve.log"


def _post(http: httpx.Client, body: dict[str, Any]) -> httpx.Response:
    # json.dumps escapes a lone surrogate as \ud800 (httpx's own encoder would fail on it).
    return http.post(
        "/graphql", content=json.dumps(body), headers={"Content-Type": "application/json"}
    )


def _codes(response: httpx.Response) -> list[str]:
    try:
        body = response.json()
    except ValueError:
        return []
    errors = body.get("errors") if isinstance(body, dict) else None
    return [str((e.get("extensions") or {}).get("code")) for e in errors or []]


def _assert_no_fault(response: httpx.Response, what: object) -> None:
    assert response.status_code < 500, (what, response.status_code, response.text[:500])
    assert "INTERNAL_SERVER_ERROR" not in _codes(response), (what, response.text[:500])
    assert "Traceback" not in response.text, (what, response.text[:500])


def _metadata_literals() -> st.SearchStrategy[Any]:
    names = st.from_regex(r"[_A-Za-z][_0-9A-Za-z]{0,70}", fullmatch=True)
    strings = st.text(max_size=600).map(nodes.String)
    lists = st.lists(strings, max_size=40).map(lambda items: nodes.List(list(items)))
    values = st.one_of(strings, lists)
    fields = st.lists(st.tuples(names, values), max_size=20, unique_by=lambda pair: pair[0])
    return fields.map(
        lambda pairs: nodes.Object(
            [ObjectFieldNode(name=NameNode(value=name), value=value) for name, value in pairs]
        )
    )


ID_NAMES = {"id", "threadId", "upToMessageId"}


class _RealIds(Visitor):
    """Puts ids of existing threads and messages where generated ids go, so that writes and
    reads get past the id checks."""

    def __init__(self, ids: list[str], chance: random.Random) -> None:
        super().__init__()
        self.ids, self.chance = ids, chance

    def _swap(self, node: Any) -> Any:
        if node.name.value in ID_NAMES and isinstance(node.value, StringValueNode):
            return node.__class__(
                name=node.name, value=StringValueNode(value=self.chance.choice(self.ids))
            )
        return None

    def enter_argument(self, node: ArgumentNode, *_: object) -> Any:
        return self._swap(node)

    def enter_object_field(self, node: ObjectFieldNode, *_: object) -> Any:
        return self._swap(node)


def _existing_ids(http: httpx.Client) -> list[str]:
    query = "{ threads(first: 20) { nodes { id messages(first: 5) { nodes { id } } } } }"
    threads = _post(http, {"query": query}).json()["data"]["threads"]["nodes"]
    return [t["id"] for t in threads] + [m["id"] for t in threads for m in t["messages"]["nodes"]]


def test_schemathesis_finds_no_server_error(served: tuple[httpx.Client, str, Path]) -> None:
    http, key, log = served
    schemathesis.graphql.scalar("Metadata", _metadata_literals())
    schema = schemathesis.graphql.from_url(
        str(http.base_url.join("/graphql")), headers={"Authorization": f"Bearer {key}"}
    )
    operations = []
    for result in schema.get_all_operations():
        assert isinstance(result, Ok), result
        operations.append(result.ok())
    labels = {operation.label for operation in operations}
    assert {
        "Query.threads",
        "Query.search",
        "Mutation.createThread",
        "Mutation.forkThread",
    } <= labels
    strategies = [
        operation.as_strategy(generation_mode=mode)
        for operation in operations
        for mode in (GenerationMode.POSITIVE, GenerationMode.NEGATIVE)
    ]
    ids = _existing_ids(http)
    assert len(ids) > 5
    seen: Counter[str] = Counter()
    started = time.monotonic()

    @settings(
        max_examples=SCHEMATHESIS_EXAMPLES,
        deadline=None,
        database=None,
        suppress_health_check=list(HealthCheck),
    )
    @given(case=st.one_of(strategies), chance=st.randoms(use_true_random=False))
    def fuzz(case: Any, chance: random.Random) -> None:
        body = dict(case.body) if isinstance(case.body, dict) else {"query": case.body}
        if chance.random() < 0.7:
            body["query"] = print_ast(visit(parse(body["query"]), _RealIds(ids, chance)))
        response = _post(http, body)
        seen[f"{response.status_code} {','.join(sorted(set(_codes(response)))) or 'ok'}"] += 1
        _assert_no_fault(response, (case.operation.label, body))

    fuzz()
    elapsed = time.monotonic() - started
    print(f"schemathesis: {sum(seen.values())} requests in {elapsed:.1f} s: {dict(seen)}")
    assert elapsed < BUDGET_SECONDS
    assert sum(seen.values()) >= SCHEMATHESIS_EXAMPLES / 2
    assert "Traceback" not in log.read_text()


# Where a corpus string goes: the operation, how the string is placed in its variables, the
# path a refusal names, and whether the place is a key.
PLACES: list[tuple[str, Any, str, bool]] = [
    (
        "mutation($i: CreateThreadInput!) { createThread(input: $i) { thread { id } } }",
        lambda s: {"i": {"title": s}},
        "input.title",
        False,
    ),
    (
        "mutation($i: CreateThreadInput!) { createThread(input: $i) { thread { id } } }",
        lambda s: {"i": {"metadata": {"k": s}}},
        "input.metadata",
        False,
    ),
    (
        "mutation($i: CreateThreadInput!) { createThread(input: $i) { thread { id } } }",
        lambda s: {"i": {"metadata": {s or "k": "v"}}},
        "input.metadata",
        True,
    ),
    (
        "mutation($i: CreateThreadInput!) { createThread(input: $i) { thread { id } } }",
        lambda s: {"i": {"messages": [{"content": s or "c"}], "idempotencyKey": None}},
        "input.messages.0.content",
        False,
    ),
    (
        "mutation($i: CreateThreadInput!) { createThread(input: $i) { thread { id } } }",
        lambda s: {"i": {"idempotencyKey": s or "k"}},
        "input.idempotencyKey",
        True,
    ),
    (
        "query($f: ThreadFilter) { threads(filter: $f) { totalCount } }",
        lambda s: {"f": {"userId": s}},
        "filter.userId",
        True,
    ),
    (
        "query($f: ThreadFilter) { threads(filter: $f) { totalCount } }",
        lambda s: {"f": {"assistantId": s}},
        "filter.assistantId",
        True,
    ),
    ("query($a: String) { threads(after: $a) { totalCount } }", lambda s: {"a": s}, "after", True),
    ("query($id: ID!) { node(id: $id) { id } }", lambda s: {"id": s}, "id", True),
    (
        "query($q: String!) { search(query: $q) { nodes { message { id } } } }",
        lambda s: {"q": s},
        "query",
        False,
    ),
]


def _breaks_rule(value: str, key: bool) -> bool:
    """The rule as documented, written out character by character."""
    for char in value:
        point = ord(char)
        if char == "\x00" or 0xD800 <= point <= 0xDFFF:
            return True
        if key and unicodedata.category(char) == "Cc" and char not in "\t\n\r":
            return True
    return False


HOSTILE = "\x00\x01\t\n\r\x0b\x1b\x7f\x85\x9f\ud800\udbff\udc00\udfff\u2028\ufeff\U0001f600a.$é"
CORPUS = st.one_of(
    st.text(alphabet=st.characters(exclude_categories=()), max_size=40),
    st.text(alphabet=st.sampled_from(HOSTILE), max_size=20),
    st.builds(
        lambda unit, times, tail: unit * times + tail,
        st.text(alphabet=st.sampled_from("ab 😀"), min_size=1, max_size=3),
        st.integers(10_000, 120_000),
        st.text(alphabet=st.sampled_from(HOSTILE), max_size=2),
    ),
)


def test_hostile_strings_follow_the_rule(served: tuple[httpx.Client, str, Path]) -> None:
    """Each string, at each kind of place: refused with the place's path if and only if it
    breaks the rule; never a fault (huge ones may meet the body or length limits)."""
    http, _, log = served
    seen: Counter[str] = Counter()
    started = time.monotonic()

    @settings(
        max_examples=CORPUS_EXAMPLES,
        deadline=None,
        database=None,
        suppress_health_check=list(HealthCheck),
    )
    @given(value=CORPUS, place=st.sampled_from(PLACES))
    def corpus(value: str, place: tuple[str, Any, str, bool]) -> None:
        query, variables, path, key = place
        response = _post(http, {"query": query, "variables": variables(value)})
        _assert_no_fault(response, (path, value[:100]))
        refused = response.status_code == 200 and any(
            (e.get("extensions") or {}).get("field") == path and "must not contain" in e["message"]
            for e in response.json().get("errors") or []
        )
        # As the server reads it: JSON joins an escaped high and low surrogate into one character.
        breaks = _breaks_rule(json.loads(json.dumps(value)), key)
        seen[
            f"{response.status_code} {'refused' if refused else 'passed'} {'bad' if breaks else 'ok'}"
        ] += 1
        if response.status_code == 413:
            return  # past the body limit: never read, so neither refused nor let through
        assert refused == breaks, (path, value[:100], response.text[:500])

    corpus()
    elapsed = time.monotonic() - started
    print(f"corpus: {sum(seen.values())} requests in {elapsed:.1f} s: {dict(seen)}")
    assert elapsed < BUDGET_SECONDS
    assert "Traceback" not in log.read_text()


def test_lone_surrogates_anywhere_in_the_body(served: tuple[httpx.Client, str, Path]) -> None:
    """A lone surrogate (the JSON escape \\ud800) in each part of a request body: refused or
    ignored, never a fault; where it reaches an argument, refused with its path."""
    http, _, log = served
    bad = "\ud800"
    threads = "query($f: ThreadFilter) { threads(filter: $f) { totalCount } }"
    bodies: list[tuple[dict[str, Any], str | None]] = [
        ({"query": threads, "variables": {"f": {"userId": bad}}}, "filter.userId"),
        ({"query": threads, "variables": {"f": {"metadata": {bad: "v"}}}}, "filter.metadata"),
        ({"query": threads, "variables": {"f": {f"x{bad}": 1}}}, "filter"),
        (
            {
                "query": "query($o: SortOrder!) { threads(order: $o) { totalCount } }",
                "variables": {"o": bad},
            },
            "order",
        ),
        ({"query": "query A { threads { totalCount } }", "operationName": f"A{bad}"}, None),
        ({"query": "{ threads { totalCount } }", "variables": {f"x{bad}": bad}}, None),
        ({"query": "{ threads { totalCount } }", "extensions": {f"k{bad}": bad}}, None),
        ({"query": f'{{ threads(after: "{bad}") {{ totalCount }} }}'}, None),
        ({"query": f"# {bad}\n{{ threads {{ totalCount }} }}"}, None),
        ({"extensions": {"persistedQuery": {"version": 1, "sha256Hash": bad}}}, None),
    ]
    for body, path in bodies:
        response = _post(http, body)
        _assert_no_fault(response, body)
        if path is not None:
            errors = response.json()["errors"]
            assert [e["extensions"] for e in errors] == [{"code": "BAD_USER_INPUT", "field": path}]
    assert "Traceback" not in log.read_text()
