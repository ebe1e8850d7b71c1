"""The ASGI app over HTTP (httpx on the app, its lifespan running)."""

import httpx

from app.settings import Settings
from app.store import Database
from tests.helpers.api import app_client

QUERY = "{ threads { totalCount } }"


async def test_post_and_get_queries(http: httpx.AsyncClient) -> None:
    created = await http.post(
        "/graphql",
        json={
            "query": 'mutation { createThread(input: {title: "over http"}) { thread { id title } } }'
        },
    )
    assert created.status_code == 200
    assert created.json()["data"]["createThread"]["thread"]["title"] == "over http"
    listed = await http.get("/graphql", params={"query": QUERY})
    assert listed.json()["data"] == {"threads": {"totalCount": 1}}
    assert listed.json()["extensions"]["requestId"] == listed.headers["x-request-id"]


async def test_graphiql_in_development(http: httpx.AsyncClient) -> None:
    page = await http.get("/graphql", headers={"Accept": "text/html"})
    assert page.status_code == 200 and "graphiql" in page.text.lower()
    home = await http.get("/")
    assert home.status_code == 307 and home.headers["location"] == "/graphql"


async def test_no_mutation_over_get(http: httpx.AsyncClient) -> None:
    response = await http.get(
        "/graphql", params={"query": "mutation { createThread(input: {}) { thread { id } } }"}
    )
    # GraphQL over HTTP: a mutation over GET is 405 Method Not Allowed (it was 400).
    assert response.status_code == 405 and response.headers["allow"] == "POST"
    assert response.json()["errors"][0]["extensions"] == {"code": "METHOD_NOT_ALLOWED"}
    listed = await http.get("/graphql", params={"query": QUERY})
    assert listed.json()["data"]["threads"]["totalCount"] == 0


async def test_bad_requests_are_4xx(http: httpx.AsyncClient) -> None:
    for body in (b"{not json", b"[]", b'{"query": 1}', b'{"variables": {}}'):
        response = await http.post(
            "/graphql", content=body, headers={"Content-Type": "application/json"}
        )
        assert response.status_code == 400, (body, response.status_code)


async def test_errors_carry_codes_over_http(http: httpx.AsyncClient) -> None:
    response = await http.post("/graphql", json={"query": '{ thread(id: "nope") { id } }'})
    assert response.status_code == 200
    assert response.json()["errors"][0]["extensions"] == {"code": "BAD_USER_INPUT", "field": "id"}


async def test_no_graphiql_in_production(db: Database) -> None:
    async with app_client(db, Settings(app_env="production")) as client:
        page = await client.get("/graphql", headers={"Accept": "text/html"})
        assert page.status_code == 401, "no page: the request meets the key gate"
        assert "graphiql" not in page.text.lower()
