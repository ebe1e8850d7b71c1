"""No cache keeps an answer of /graphql (`Cache-Control: private, no-store`, over GET and POST,
errors and the GraphiQL page included), and answers over GZIP_MINIMUM_BYTES go gzipped to
clients that accept it."""

import gzip

import httpx
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import PlainTextResponse
from starlette.routing import Route

from app.http.browsers import GZIP_MINIMUM_BYTES, NO_STORE, NoStore
from app.store import Database
from tests.helpers.api import app_client

QUERY = "{ threads { totalCount } }"
# Introspection (on in development): an answer of several kilobytes that needs no data.
LARGE = "{ __schema { types { name description fields { name description } } } }"
GZIP = {"Accept-Encoding": "gzip"}
IDENTITY = {"Accept-Encoding": "identity"}


async def test_answers_of_graphql_are_never_stored(http: httpx.AsyncClient) -> None:
    answers = [
        await http.get("/graphql", params={"query": QUERY}),
        await http.post("/graphql", json={"query": QUERY}),
        await http.get("/graphql", params={"query": "mutation { x }"}),  # refused: 4xx
        await http.post("/graphql", json={"query": QUERY}, headers={"Authorization": "x"}),  # 401
        await http.get("/graphql", headers={"Accept": "text/html"}),  # GraphiQL
    ]
    assert [a.status_code // 100 * 100 for a in answers] == [200, 200, 400, 400, 200]
    assert answers[3].status_code == 401
    for answer in answers:
        assert answer.headers["cache-control"] == NO_STORE, answer.request


async def test_other_paths_keep_their_caching(http: httpx.AsyncClient) -> None:
    asset = await http.get("/graphql/static/graphiql@3.8.3/graphiql.min.css")
    assert asset.status_code == 200
    assert asset.headers.get("cache-control") != NO_STORE
    assert "cache-control" not in (await http.get("/healthz")).headers


async def test_large_answers_are_gzipped_for_clients_that_accept_it(
    http: httpx.AsyncClient,
) -> None:
    plain = await http.post("/graphql", json={"query": LARGE}, headers=IDENTITY)
    assert "content-encoding" not in plain.headers
    assert len(plain.content) > GZIP_MINIMUM_BYTES
    for request in (
        http.post("/graphql", json={"query": LARGE}, headers=GZIP),
        http.get("/graphql", params={"query": LARGE}, headers=GZIP),
    ):
        zipped = await request
        assert zipped.headers["content-encoding"] == "gzip"
        assert "accept-encoding" in zipped.headers["vary"].lower()
        assert int(zipped.headers["content-length"]) < len(plain.content) / 3
        assert zipped.json()["data"] == plain.json()["data"]  # httpx inflates it
        assert zipped.headers["cache-control"] == NO_STORE and zipped.headers["x-request-id"]
    small = await http.post("/graphql", json={"query": QUERY}, headers=GZIP)
    assert len(small.content) < GZIP_MINIMUM_BYTES and "content-encoding" not in small.headers


async def test_the_page_goes_gzipped_on_the_wire(db: Database) -> None:
    async with app_client(db) as client:
        headers = {"Accept": "text/html", **GZIP}
        async with client.stream("GET", "/graphql", headers=headers) as page:
            assert page.headers["content-encoding"] == "gzip"
            wire = b"".join([chunk async for chunk in page.aiter_raw()])
        assert b"GraphiQL" in gzip.decompress(wire) and b"GraphiQL" not in wire


async def test_an_answer_may_set_its_own_cache_control() -> None:
    async def own(request: Request) -> PlainTextResponse:
        return PlainTextResponse("x", headers={"Cache-Control": "private, no-cache"})

    async def plain(request: Request) -> PlainTextResponse:
        return PlainTextResponse("x")

    app = NoStore(Starlette(routes=[Route("/own", own), Route("/plain", plain)]), path="/own")
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://test") as client:
        assert (await client.get("/own")).headers["cache-control"] == "private, no-cache"
        assert "cache-control" not in (await client.get("/plain")).headers, "another path"
