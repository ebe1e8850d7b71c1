"""Pages of other origins may call the API only from the origins CORS_ORIGINS allows (in
development, when unset, the usual local dev servers; in production none): preflights are
answered before the key gate, errors carry the CORS headers too, and a real browser reads a
cross-origin answer from an allowed origin and is refused one from any other."""

import asyncio
from typing import Any

import httpx
import pytest
from pydantic import ValidationError
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import HTMLResponse
from starlette.routing import Route

from app import store
from app.settings import DEV_CORS_ORIGINS, Settings
from app.store import Database
from tests.helpers.api import api_key, app_client
from tests.helpers.browser import browser
from tests.helpers.live import live_server, served

FRONTEND = "http://localhost:5173"
QUERY = "{ threads { totalCount } }"
CREATE = 'mutation { createThread(input: {title: "from a page"}) { thread { title } } }'


def preflight(origin: str, headers: str = "authorization,content-type") -> dict[str, str]:
    return {
        "Origin": origin,
        "Access-Control-Request-Method": "POST",
        "Access-Control-Request-Headers": headers,
    }


def listed(value: str | None) -> set[str]:
    return {item.strip().lower() for item in (value or "").split(",") if item.strip()}


def test_the_origins_setting(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("CORS_ORIGINS", raising=False)
    assert Settings(app_env="development").allowed_origins == list(DEV_CORS_ORIGINS)
    assert FRONTEND in DEV_CORS_ORIGINS and "http://127.0.0.1:3000" in DEV_CORS_ORIGINS
    assert Settings(app_env="production").allowed_origins == []
    monkeypatch.setenv("CORS_ORIGINS", "https://app.example.com/, http://localhost:4200")
    expected = ["https://app.example.com", "http://localhost:4200"]
    assert Settings(app_env="production").allowed_origins == expected
    assert Settings(app_env="development").allowed_origins == expected, "set: only these"
    monkeypatch.setenv("CORS_ORIGINS", "")
    assert Settings(app_env="development").allowed_origins == [], "set empty: none"
    for wrong in ("app.example.com", "https://app.example.com/path", "null"):
        monkeypatch.setenv("CORS_ORIGINS", wrong)
        with pytest.raises(ValidationError, match="scheme://host"):
            Settings()
    monkeypatch.setenv("CORS_ORIGINS", "*")
    assert Settings().allowed_origins == ["*"]
    with pytest.raises(ValidationError, match="not \\*"):
        Settings(cors_allow_credentials=True)
    assert Settings(app_env="development").cors_allow_credentials is False


async def test_a_preflight_from_an_allowed_origin_needs_no_key(db: Database) -> None:
    async with app_client(db) as client:  # development: the local dev servers allowed
        response = await client.options("/graphql", headers=preflight(FRONTEND))
        assert response.status_code == 200, response.text
        headers = response.headers
        assert headers["access-control-allow-origin"] == FRONTEND
        assert listed(headers["access-control-allow-methods"]) == {"get", "post", "options"}
        assert {"authorization", "content-type", "x-request-id"} <= listed(
            headers["access-control-allow-headers"]
        )
        assert headers["access-control-max-age"] == "600"
        assert "access-control-allow-credentials" not in headers, "credentials are off"
        assert "origin" in listed(headers.get("vary"))
        for method in ("PUT", "DELETE"):
            refused = await client.options(
                "/graphql", headers={**preflight(FRONTEND), "Access-Control-Request-Method": method}
            )
            assert refused.status_code == 400
        odd_header = await client.options("/graphql", headers=preflight(FRONTEND, "x-other"))
        assert odd_header.status_code == 400


async def test_a_preflight_from_another_origin_gets_no_cors_headers(db: Database) -> None:
    async with app_client(db) as client:
        for origin in ("https://evil.example", "http://localhost:5174", "null"):
            response = await client.options("/graphql", headers=preflight(origin))
            assert "access-control-allow-origin" not in response.headers, origin
            assert response.status_code == 400


async def test_production_allows_no_origin_unless_set(db: Database) -> None:
    async with app_client(db, Settings(app_env="production")) as client:
        client.headers["Authorization"] = f"Bearer {await api_key(db)}"
        response = await client.options("/graphql", headers=preflight(FRONTEND))
        assert "access-control-allow-origin" not in response.headers
        answer = await client.post("/graphql", json={"query": QUERY}, headers={"Origin": FRONTEND})
        assert answer.status_code == 200
        assert "access-control-allow-origin" not in answer.headers
    settings = Settings(app_env="production", cors_origins=["https://app.example.com"])
    async with app_client(db, settings) as client:
        allowed = await client.options("/graphql", headers=preflight("https://app.example.com"))
        assert allowed.headers["access-control-allow-origin"] == "https://app.example.com"
        refused = await client.options("/graphql", headers=preflight(FRONTEND))
        assert "access-control-allow-origin" not in refused.headers


async def test_answers_to_an_allowed_origin_carry_cors_headers(
    db: Database, monkeypatch: pytest.MonkeyPatch
) -> None:
    settings = Settings(app_env="development", request_deadline_seconds=0.5, max_body_bytes=2000)
    async with app_client(db, settings) as client:
        key = await api_key(db)
        origin = {"Origin": FRONTEND}
        authorized = {**origin, "Authorization": f"Bearer {key}"}

        def readable(response: httpx.Response, status: int) -> None:
            assert response.status_code == status, response.text
            assert response.headers["access-control-allow-origin"] == FRONTEND
            assert listed(response.headers["access-control-expose-headers"]) == {"x-request-id"}
            assert response.headers["x-request-id"]

        readable(await client.post("/graphql", json={"query": QUERY}, headers=authorized), 200)
        readable(await client.get("/graphql", params={"query": QUERY}, headers=authorized), 200)
        unauthenticated = await client.post("/graphql", json={"query": QUERY}, headers=origin)
        readable(unauthenticated, 401)
        assert unauthenticated.json()["errors"][0]["extensions"]["code"] == "UNAUTHENTICATED"
        too_large = {"query": QUERY, "variables": {"pad": "x" * 3000}}
        readable(await client.post("/graphql", json=too_large, headers=authorized), 413)

        async def slow(*args: object, **kwargs: object) -> Any:
            await asyncio.sleep(5)

        monkeypatch.setattr(store, "fetch_page", slow)
        late = await client.post(
            "/graphql", json={"query": "{ threads { nodes { id } } }"}, headers=authorized
        )
        readable(late, 504)
        assert late.json()["errors"][0]["extensions"]["code"] == "DEADLINE_EXCEEDED"
        elsewhere = await client.post(
            "/graphql", json={"query": QUERY}, headers={"Origin": "https://evil.example"}
        )
        assert elsewhere.status_code == 401
        assert "access-control-allow-origin" not in elsewhere.headers


async def test_credentials_only_when_set(db: Database) -> None:
    settings = Settings(app_env="development", cors_allow_credentials=True)
    async with app_client(db, settings) as client:
        response = await client.options("/graphql", headers=preflight(FRONTEND))
        assert response.headers["access-control-allow-credentials"] == "true"
        assert response.headers["access-control-allow-origin"] == FRONTEND


# In the browser: a page of one loopback origin calls the API on another, with fetch.
FRONTEND_PAGE = "<!doctype html><title>A frontend</title><p>A frontend on its own port.</p>"
FETCH = """const [url, key, query, done] = arguments;
fetch(url, {
  method: "POST",
  headers: {"Authorization": "Bearer " + key, "Content-Type": "application/json"},
  body: JSON.stringify({query}),
}).then(
  async (response) => done({
    status: response.status,
    requestId: response.headers.get("X-Request-Id"),
    body: await response.json(),
  }),
  (error) => done({error: error.name, message: String(error.message)}),
);"""


async def frontend_page(request: Request) -> HTMLResponse:
    return HTMLResponse(FRONTEND_PAGE)


def fetch_from_page(page: str, api: str, calls: list[tuple[str, str]]) -> list[dict[str, Any]]:
    """Opens `page` in Chromium and runs, from it, fetch POSTs of (key, query) to `api`."""
    with browser() as driver:
        driver.get(page)
        assert driver.execute_script("return location.origin") == page
        return [driver.execute_async_script(FETCH, f"{api}/graphql", *call) for call in calls]


@pytest.mark.slow
@pytest.mark.browser
async def test_a_browser_reads_the_api_from_an_allowed_origin(real_db: Database) -> None:
    key = await api_key(real_db)
    async with served(Starlette(routes=[Route("/", frontend_page)])) as page:
        settings = Settings(app_env="development", cors_origins=[page])
        async with live_server(real_db, settings) as api:
            assert page.rsplit(":", 1)[1] != api.rsplit(":", 1)[1], "two origins"
            created, listing, refused = await asyncio.to_thread(
                fetch_from_page, page, api, [(key, CREATE), (key, QUERY), ("sk_wrong", QUERY)]
            )
    assert created["status"] == 200, created
    assert created["body"]["data"] == {"createThread": {"thread": {"title": "from a page"}}}
    assert listing["body"] == {
        "data": {"threads": {"totalCount": 1}},
        "extensions": listing["body"]["extensions"],
    }
    assert listing["requestId"] == listing["body"]["extensions"]["requestId"], "exposed"
    assert refused["status"] == 401, "the error is readable too"
    assert refused["body"]["errors"][0]["extensions"]["code"] == "UNAUTHENTICATED"


@pytest.mark.slow
@pytest.mark.browser
async def test_a_browser_refuses_the_api_to_another_origin(real_db: Database) -> None:
    key = await api_key(real_db)
    # Development's defaults allow the local dev servers' ports, not this page's.
    development = Settings(app_env="development")
    async with (
        served(Starlette(routes=[Route("/", frontend_page)])) as page,
        live_server(real_db, development) as api,
    ):
        assert page not in development.allowed_origins
        (refused,) = await asyncio.to_thread(fetch_from_page, page, api, [(key, CREATE)])
        async with httpx.AsyncClient(headers={"Authorization": f"Bearer {key}"}) as http:
            answer = await http.post(f"{api}/graphql", json={"query": QUERY})
    assert refused["error"] == "TypeError", refused
    assert answer.json()["data"] == {"threads": {"totalCount": 0}}, "the POST was never sent"
