"""Every request body, however broken, gets an answer over real HTTP in the GraphQL error shape
with a stable code: 400 (413 when too large), never a 500 and never a dropped connection."""

import json
import re
from collections.abc import AsyncIterator

import httpx
import pytest

from app.http.endpoint import MAX_JSON_DEPTH
from app.settings import Settings
from app.store import Database
from tests.helpers.api import api_key
from tests.helpers.live import live_server

COUNT = "{ threads { totalCount } }"
FIRST = "query($n: Int) { threads(first: $n) { totalCount } }"
JSON = "application/json"


def body(**fields: object) -> bytes:
    return json.dumps(fields).encode()


def nested(opening: str, closing: str, levels: int) -> bytes:
    return (opening * levels + closing * levels).encode()


LIMIT = Settings().max_body_bytes
# (case, body, Content-Type (None: no header), status, code; None: no error)
CORPUS: list[tuple[str, bytes, str | None, int, str | None]] = [
    ("null", b"null", JSON, 400, "BAD_REQUEST"),
    ("a string", b'"str"', JSON, 400, "BAD_REQUEST"),
    ("an integer", b"123", JSON, 400, "BAD_REQUEST"),
    ("a negative float", b"-1.5", JSON, 400, "BAD_REQUEST"),
    ("true", b"true", JSON, 400, "BAD_REQUEST"),
    ("false", b"false", JSON, 400, "BAD_REQUEST"),
    ("empty array", b"[]", JSON, 400, "BAD_REQUEST"),
    ("a batch", json.dumps([{"query": COUNT}] * 2).encode(), JSON, 400, "BAD_REQUEST"),
    ("array of numbers", b"[1, 2]", JSON, 400, "BAD_REQUEST"),
    ("empty object", b"{}", JSON, 400, "BAD_REQUEST"),
    ("empty body", b"", JSON, 400, "BAD_REQUEST"),
    ("whitespace only", b" \r\n\t ", JSON, 400, "BAD_REQUEST"),
    ("truncated after a key", b'{"query": ', JSON, 400, "BAD_REQUEST"),
    ("truncated before the brace", body(query=COUNT)[:-1], JSON, 400, "BAD_REQUEST"),
    ("unterminated string", b'{"query": "{ threads', JSON, 400, "BAD_REQUEST"),
    ("trailing garbage", body(query=COUNT) + b" x", JSON, 400, "BAD_REQUEST"),
    ("two objects", body(query=COUNT) * 2, JSON, 400, "BAD_REQUEST"),
    ("single quotes", b"{'query': '{ threads { totalCount } }'}", JSON, 400, "BAD_REQUEST"),
    ("raw control character", b'{"query": "{ threads\x00 }"}', JSON, 400, "BAD_REQUEST"),
    ("not UTF-8", b'{"query": "\xff\xfe"}', JSON, 400, "BAD_REQUEST"),
    ("UTF-16 with a BOM", body(query=COUNT).decode().encode("utf-16"), JSON, 400, "BAD_REQUEST"),
    ("UTF-8 with a BOM", b"\xef\xbb\xbf" + body(query=COUNT), JSON, 400, "BAD_REQUEST"),
    ("charset latin-1", body(query=COUNT), f"{JSON}; charset=latin-1", 400, "BAD_REQUEST"),
    ("charset utf-16", body(query=COUNT), f"{JSON}; charset=utf-16", 400, "BAD_REQUEST"),
    ("charset UTF-8 is fine", body(query=COUNT), f"{JSON}; charset=UTF-8", 200, None),
    ("text/plain", body(query=COUNT), "text/plain", 400, "BAD_REQUEST"),
    ("no Content-Type", body(query=COUNT), None, 400, "BAD_REQUEST"),
    ("form", b"query=%7B%20threads%20%7D", "application/x-www-form-urlencoded", 400, "BAD_REQUEST"),
    ("multipart", b"--x\r\n\r\n--x--", "multipart/form-data; boundary=x", 400, "BAD_REQUEST"),
    ("application/graphql", COUNT.encode(), "application/graphql", 400, "BAD_REQUEST"),
    ("a huge exponent", b"1e999999", JSON, 400, "BAD_REQUEST"),
    ("a 5,000-digit number", b"9" * 5000, JSON, 400, "BAD_REQUEST"),
    (
        "a 5,000-digit variable",
        b'{"query": "' + FIRST.encode() + b'", "variables": {"n": ' + b"9" * 5000 + b"}}",
        JSON,
        400,
        "BAD_REQUEST",
    ),
    (
        "an infinite variable",
        body(query=FIRST, variables={"n": 1e999}),
        JSON,
        200,
        "BAD_USER_INPUT",
    ),
    (
        "a NaN variable",
        b'{"query": "' + FIRST.encode() + b'", "variables": {"n": NaN}}',
        JSON,
        200,
        "BAD_USER_INPUT",
    ),
    ("a float for Int", body(query=FIRST, variables={"n": 1.5}), JSON, 200, "BAD_USER_INPUT"),
    ("arrays past the depth", nested("[", "]", MAX_JSON_DEPTH + 1), JSON, 400, "BAD_REQUEST"),
    ("unclosed arrays", b"[" * 100_000, JSON, 400, "BAD_REQUEST"),
    ("objects 40,000 deep", b'{"a":' * 40_000 + b"1" + b"}" * 40_000, JSON, 400, "BAD_REQUEST"),
    (
        "variables past the depth",
        b'{"query": "{ __typename }", "variables": {"v": '
        + nested("[", "]", MAX_JSON_DEPTH)
        + b"}}",
        JSON,
        400,
        "BAD_REQUEST",
    ),
    (
        "brackets inside a string",
        body(query="{ __typename } # " + "[" * 10_000),
        JSON,
        200,
        None,
    ),
    ("query a number", b'{"query": 1}', JSON, 400, "BAD_REQUEST"),
    ("query null", b'{"query": null}', JSON, 400, "BAD_REQUEST"),
    ("query an object", b'{"query": {"a": 1}}', JSON, 400, "BAD_REQUEST"),
    ("variables a string", body(query=COUNT, variables="{}"), JSON, 400, "BAD_REQUEST"),
    ("variables an array", body(query=COUNT, variables=[]), JSON, 400, "BAD_REQUEST"),
    ("extensions a string", body(query=COUNT, extensions="x"), JSON, 400, "BAD_REQUEST"),
    ("operationName a number", body(query=COUNT, operationName=1), JSON, 400, "BAD_REQUEST"),
    ("a subscription", body(query="subscription { __typename }"), JSON, 400, "BAD_REQUEST"),
    ("a syntax error", body(query="{ threads {"), JSON, 200, "BAD_USER_INPUT"),
    (
        "duplicate keys, the last valid",
        b'{"query": 1, "query": "' + COUNT.encode() + b'"}',
        JSON,
        200,
        None,
    ),
    ("over the body limit", body(query=COUNT, pad="x" * LIMIT), JSON, 413, "BAD_USER_INPUT"),
    ("a well-formed query", body(query=COUNT), JSON, 200, None),
]


@pytest.fixture
async def client(db: Database) -> AsyncIterator[httpx.AsyncClient]:
    headers = {"Authorization": f"Bearer {await api_key(db)}"}
    async with (
        live_server(db) as base,
        httpx.AsyncClient(base_url=base, headers=headers) as client,
    ):
        yield client


def test_the_corpus_is_large_and_distinct() -> None:
    assert len(CORPUS) >= 40
    assert len({case for case, *_ in CORPUS}) == len(CORPUS)
    assert len({(b, t) for _, b, t, *_ in CORPUS}) == len(CORPUS)


async def test_hostile_bodies(client: httpx.AsyncClient) -> None:
    """One server, every body in turn: each answered, none breaking the next."""
    wrong = []
    for case, content, content_type, status, code in CORPUS:
        headers = {} if content_type is None else {"Content-Type": content_type}
        try:
            response = await client.post("/graphql", content=content, headers=headers)
        except httpx.HTTPError as error:  # a dropped connection, no answer
            wrong.append((case, repr(error)))
            continue
        assert "Traceback" not in response.text, case
        assert response.headers["content-type"] == f"{JSON}; charset=utf-8", case
        answer = response.json()
        codes = [error["extensions"]["code"] for error in answer.get("errors", [])]
        if response.status_code != status or codes != ([] if code is None else [code]):
            wrong.append((case, f"{response.status_code} {codes}"))
        assert re.fullmatch(r"[0-9a-f]{32}", answer["extensions"]["requestId"]), case
    assert not wrong, wrong
