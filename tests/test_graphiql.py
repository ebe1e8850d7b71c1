"""GraphiQL works offline: its page loads every asset from the app (the files Strawberry's page
names, byte for byte), they ship in the wheel, and headless Chromium, with every request off
this machine blocked, runs a query in it and a subscription that shows a message as it streams.
GRAPHIQL_SCREENSHOT=path and GRAPHIQL_SUBSCRIPTION_SCREENSHOT=path save what the browser shows
(./scripts/screenshot writes docs/graphiql.png; with --subscription, graphiql-subscription.png)."""

import asyncio
import json
import os
import re
import shutil
import subprocess
import sys
import time
import zipfile
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager, suppress
from pathlib import Path
from typing import Any, cast

import httpx
import pytest
from selenium import webdriver
from selenium.common.exceptions import TimeoutException
from selenium.webdriver.common.by import By
from selenium.webdriver.support.ui import WebDriverWait

from app.http import graphiql
from app.http.graphiql import (
    DEFAULT_QUERY,
    LOCAL_ASSET,
    STATIC_DIR,
    cdn_assets,
    integrity,
    page_with_defaults,
    strawberry_page,
)
from app.main import create_app
from app.pagination import EVENT_ORDER, encode_cursor
from app.services.api_keys import revoke_key
from app.settings import Settings
from app.store import Database
from tests.helpers.api import Api, api_key, app_client
from tests.helpers.backends import ROOT_DIR
from tests.helpers.browser import browser
from tests.helpers.live import live_server

PINS = json.loads((STATIC_DIR / "integrity.json").read_text())

CREATE = """mutation {
  createThread(input: {title: "Beef stew", metadata: {category: "cooking"}, messages: [
    {content: "How do I make a beef and potato stew?"}
    {role: ASSISTANT, content: "Brown the beef, add potatoes and stock, simmer 2 hours."}
  ]}) { thread { id } }
}"""
INBOX = """query Inbox {
  threads(first: 10, filter: {metadata: {category: "cooking"}}) {
    totalCount
    nodes {
      title
      messageCount
      messages(last: 5, order: ASC) {
        nodes { role text }
      }
    }
  }
}"""


def test_the_pinned_assets_are_the_pages_and_match_their_hashes() -> None:
    pinned = cdn_assets(strawberry_page())
    assert pinned == PINS, "Strawberry's page changed: run ./scripts/vendor-graphiql"
    assert len(PINS) == 7
    for path, expected in PINS.items():
        assert integrity((STATIC_DIR / path).read_bytes()) == expected, path


async def test_the_page_loads_every_asset_from_the_app(db: Database) -> None:
    async with app_client(db) as client:
        page = (await client.get("/graphql", headers={"Accept": "text/html"})).text
        assert "unpkg" not in page and "https://" not in page
        assert sorted(LOCAL_ASSET.findall(page)) == sorted(PINS)
        for path, expected in PINS.items():
            assert f'/graphql/static/{path}"\n      integrity="{expected}"' in page
            response = await client.get(f"/graphql/static/{path}")
            assert response.status_code == 200 and integrity(response.content) == expected


async def test_no_graphiql_assets_in_production(db: Database) -> None:
    async with app_client(db, Settings(app_env="production")) as client:
        path = next(iter(PINS))
        assert (await client.get(f"/graphql/static/{path}")).status_code == 404


def test_the_app_refuses_a_page_whose_assets_are_missing(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setattr(graphiql, "STATIC_DIR", tmp_path)
    with pytest.raises(RuntimeError, match="vendor-graphiql"):
        graphiql.page()
    cdn = strawberry_page().replace("https://unpkg.com/", "https://cdn.example/")
    monkeypatch.setattr(graphiql, "strawberry_page", lambda: cdn)
    with pytest.raises(RuntimeError, match="CDN"):
        graphiql.page()


# In development a browser on this machine gets the page with the local key and a first query.
DEFAULTS = re.compile(r'<script type="application/json" id="graphiql-defaults">(.*?)</script>')
LOOPBACK = ("127.0.0.1", 50123)


def defaults_in(page: str) -> Any:
    """The defaults the page opens with, or None for the plain page."""
    found = DEFAULTS.search(page)
    return None if found is None else json.loads(found[1])


def local_defaults(key: str) -> dict[str, str]:
    return {
        "query": DEFAULT_QUERY,
        "headers": json.dumps({"Authorization": f"Bearer {key}"}, indent=2),
    }


def with_local_key(data_dir: Path, key: str) -> Settings:
    """Development settings whose local key file (as ./scripts/serve writes it) holds `key`."""
    settings = Settings(app_env="development", data_dir=data_dir)
    settings.local_key_file.write_text(key + "\n")
    return settings


@asynccontextmanager
async def page_client(
    db: Database, settings: Settings, client: tuple[str, int] = LOOPBACK
) -> AsyncIterator[httpx.AsyncClient]:
    """An HTTP client on the app that connects from `client`, asking for the page by default."""
    app = create_app(settings, database=db)
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app, client=client)
        base = "http://127.0.0.1:8000"
        async with httpx.AsyncClient(transport=transport, base_url=base) as http:
            http.headers["Accept"] = "text/html"
            yield http


async def test_a_local_browser_gets_the_local_key_and_a_first_query(
    db: Database, tmp_path: Path
) -> None:
    key = await api_key(db)
    settings = with_local_key(tmp_path, key)
    for client, host in [
        (LOOPBACK, "127.0.0.1:8000"),
        (LOOPBACK, "localhost:8000"),
        (("::1", 50123), "[::1]:8000"),
    ]:
        async with page_client(db, settings, client) as http:
            page = (await http.get("/graphql", headers={"Host": host})).text
            assert defaults_in(page) == local_defaults(key), (client, host)
            assert sorted(LOCAL_ASSET.findall(page)) == sorted(PINS), "integrity kept"
            for path, expected in PINS.items():
                assert f'/graphql/static/{path}"\n      integrity="{expected}"' in page
    plain = graphiql.page()
    assert defaults_in(plain) is None
    async with page_client(db, settings, ("192.168.1.7", 50123)) as http:
        assert (await http.get("/graphql")).text == plain, "not from this machine"
    async with page_client(db, settings) as http:
        for headers in (
            {"Host": "rebound.example:8000"},  # a name made to resolve to 127.0.0.1
            {"Origin": "http://localhost:5173"},  # a script of another origin
            {"X-Forwarded-For": "203.0.113.9"},  # through a proxy on this machine
            {"Forwarded": "for=203.0.113.9"},
        ):
            page = (await http.get("/graphql", headers=headers)).text
            assert page == plain and key not in page, headers
    production = Settings(app_env="production", data_dir=tmp_path)
    async with page_client(db, production) as http:
        refused = await http.get("/graphql")
        assert refused.status_code == 401 and key not in refused.text


async def test_no_defaults_without_a_valid_local_key(db: Database, tmp_path: Path) -> None:
    plain = graphiql.page()
    settings = Settings(app_env="development", data_dir=tmp_path)
    assert not settings.local_key_file.exists()
    async with page_client(db, settings) as http:
        assert (await http.get("/graphql")).text == plain, "no key file"
        for kept in ("", "sk_0123456789abcdef_" + "x" * 43):  # empty; of another database
            settings.local_key_file.write_text(kept)
            assert (await http.get("/graphql")).text == plain, kept
        key = await api_key(db)
        settings.local_key_file.write_text(key)
        assert defaults_in((await http.get("/graphql")).text) == local_defaults(key)
        await revoke_key(db, key_id=key.split("_")[1])
        assert (await http.get("/graphql")).text == plain, "revoked"


def test_the_defaults_cannot_break_out_of_the_page() -> None:
    plain = graphiql.page()
    hostile = "</script><script>alert(1)</script><!-- & \u2028 '\" ${x}`"
    page = page_with_defaults(plain, query=hostile, headers={"Authorization": hostile})
    found = DEFAULTS.search(page)
    assert found is not None
    assert not set("<>&") & set(found[1])
    assert json.loads(found[1]) == {
        "query": hostile,
        "headers": json.dumps({"Authorization": hostile}, indent=2),
    }
    assert page.count("<script") == plain.count("<script") + 1
    assert page.count("</script>") == plain.count("</script>") + 1


async def test_the_default_query_runs(api: Api) -> None:
    data = await api.ok(DEFAULT_QUERY)
    assert data == {"threads": {"totalCount": 0, "nodes": []}}


@pytest.mark.slow
def test_the_wheel_carries_the_assets(tmp_path: Path) -> None:
    source = tmp_path / "source"  # a copy, so that the build leaves nothing in the work tree
    shutil.copytree(ROOT_DIR / "app", source / "app", ignore=shutil.ignore_patterns("__pycache__"))
    for name in ("pyproject.toml", "README.md"):
        shutil.copy(ROOT_DIR / name, source)
    pip = [sys.executable, "-m", "pip", "--disable-pip-version-check", "--quiet"]
    wheel = ["wheel", "--no-deps", "--no-build-isolation", "--wheel-dir", str(tmp_path)]
    subprocess.run([*pip, *wheel, str(source)], check=True)
    (built,) = tmp_path.glob("*.whl")
    with zipfile.ZipFile(built) as archive:
        for path, expected in PINS.items():
            assert integrity(archive.read(f"app/static/{path}")) == expected, path


def requested_urls(driver: webdriver.Chrome) -> list[str]:
    get_log = cast(Callable[[str], list[dict[str, str]]], driver.get_log)  # untyped in Selenium
    messages = [json.loads(entry["message"])["message"] for entry in get_log("performance")]
    return [
        m["params"]["request"]["url"]
        for m in messages
        if m["method"] == "Network.requestWillBeSent"
    ]


def editor(driver: webdriver.Chrome, selector: str, value: str | None = None) -> str:
    """Sets (when given) and reads the text of the CodeMirror editor under `selector`."""
    script = """const cm = document.querySelector(arguments[0] + ' .CodeMirror').CodeMirror;
        if (arguments[1] !== null) cm.setValue(arguments[1]);
        return cm.getValue();"""
    return str(driver.execute_script(script, selector, value))


def run_query(driver: webdriver.Chrome, base: str, key: str, query: str) -> None:
    """Opens GraphiQL, puts the key in the Headers pane and runs `query`, as a person would."""
    driver.get(f"{base}/graphql")
    WebDriverWait(driver, 30).until(
        lambda d: len(d.find_elements(By.CSS_SELECTOR, ".CodeMirror")) == 4
    )
    driver.find_element(By.XPATH, "//button[normalize-space()='Headers']").click()
    headers = json.dumps({"Authorization": f"Bearer {key}"})
    editor(driver, ".graphiql-editor-tool .graphiql-editor:not(.hidden)", headers)
    driver.find_element(By.CSS_SELECTOR, "[aria-label='Re-fetch GraphQL schema']").click()
    editor(driver, ".graphiql-query-editor", query)
    driver.find_element(By.CSS_SELECTOR, ".graphiql-execute-button").click()


def save_screenshot(driver: webdriver.Chrome, screenshot: Path) -> None:
    time.sleep(0.3)  # let the response pane's highlighting settle for the picture
    driver.save_screenshot(str(screenshot))
    assert screenshot.stat().st_size > 10_000


def run_in_graphiql(base: str, key: str, screenshot: Path) -> tuple[dict[str, Any], list[str]]:
    """Runs INBOX in GraphiQL as a person would; returns the result shown and every URL requested."""
    with browser() as driver:
        run_query(driver, base, key, INBOX)
        WebDriverWait(driver, 30).until(lambda d: '"totalCount"' in editor(d, ".graphiql-response"))
        shown = json.loads(editor(driver, ".graphiql-response"))
        save_screenshot(driver, screenshot)
        urls = requested_urls(driver)
        outside = driver.execute_async_script(
            """fetch('https://unpkg.com/react@18.2.0/package.json')
                .then(() => arguments[0]('reached'), () => arguments[0]('blocked'))"""
        )
        assert outside == "blocked", "the browser reached the internet"
        return shown, urls


@pytest.mark.slow
@pytest.mark.browser
async def test_graphiql_runs_a_query_with_the_network_cut_off(
    real_db: Database, tmp_path: Path
) -> None:
    key = await api_key(real_db)
    screenshot = Path(os.environ.get("GRAPHIQL_SCREENSHOT") or tmp_path / "graphiql.png")
    async with live_server(real_db) as base:
        async with httpx.AsyncClient(headers={"Authorization": f"Bearer {key}"}) as http:
            await http.post(f"{base}/graphql", json={"query": CREATE})
            expected = (await http.post(f"{base}/graphql", json={"query": INBOX})).json()
        shown, urls = await asyncio.to_thread(run_in_graphiql, base, key, screenshot)
    assert shown["data"] == expected["data"]
    assert shown["data"]["threads"]["nodes"][0]["messageCount"] == 2
    network = [url for url in urls if url.startswith(("http:", "https:", "ws:", "wss:"))]
    assert all(url.startswith(f"{base}/") for url in network), network
    assert {f"{base}/graphql/static/{path}" for path in PINS} <= set(network)


def open_and_run(base: str) -> tuple[str, str, dict[str, Any]]:
    """Opens GraphiQL and, touching nothing else, clicks Run once; returns the query editor's
    text, the Headers pane's and the result shown."""
    with browser() as driver:
        driver.get(f"{base}/graphql")
        WebDriverWait(driver, 30).until(
            lambda d: len(d.find_elements(By.CSS_SELECTOR, ".CodeMirror")) == 4
        )
        query = editor(driver, ".graphiql-query-editor")
        # The Headers pane is the one shown, since it holds something and Variables nothing.
        headers = editor(driver, ".graphiql-editor-tool .graphiql-editor:not(.hidden)")
        driver.find_element(By.CSS_SELECTOR, ".graphiql-execute-button").click()
        WebDriverWait(driver, 30).until(lambda d: '"totalCount"' in editor(d, ".graphiql-response"))
        return query, headers, json.loads(editor(driver, ".graphiql-response"))


@pytest.mark.slow
@pytest.mark.browser
async def test_graphiql_opens_ready_to_run_with_the_local_key(
    real_db: Database, tmp_path: Path
) -> None:
    key = await api_key(real_db)
    async with live_server(real_db, with_local_key(tmp_path, key)) as base:
        async with httpx.AsyncClient(headers={"Authorization": f"Bearer {key}"}) as http:
            await http.post(f"{base}/graphql", json={"query": CREATE})
            expected = (await http.post(f"{base}/graphql", json={"query": DEFAULT_QUERY})).json()
        query, headers, shown = await asyncio.to_thread(open_and_run, base)
    assert query == DEFAULT_QUERY
    assert json.loads(headers) == {"Authorization": f"Bearer {key}"}
    assert shown["data"] == expected["data"]
    assert shown["data"]["threads"]["nodes"][0]["messageCount"] == 2


STREAM = """subscription Stream {
  threadEvents(
    threadId: "%s"
    after: "%s"
  ) {
    __typename
    ... on MessageCreated { message { role text status } }
    ... on MessageDelta { delta }
    ... on MessageCompleted { message { role text status } }
  }
}"""
NEW_THREAD = 'mutation { createThread(input: {title: "Stream"}) { thread { id } } }'
START = """mutation($t: ID!) { createMessage(input: {threadId: $t, role: ASSISTANT, content: "Hel",
  status: IN_PROGRESS}) { message { id } } }"""
APPEND = "mutation($m: ID!, $d: String!) { appendMessageText(input: {id: $m, delta: $d}) { message { id } } }"
COMPLETE = "mutation($m: ID!) { completeMessage(input: {id: $m}) { message { id } } }"


def shows(driver: webdriver.Chrome, typename: str, **fields: object) -> None:
    """Waits until GraphiQL's response pane shows this event as the subscription's latest result."""
    expected = {"threadEvents": {"__typename": typename, **fields}}

    def data(d: webdriver.Chrome) -> object:
        try:
            return json.loads(editor(d, ".graphiql-response")).get("data")
        except ValueError:
            return None

    with suppress(TimeoutException):
        WebDriverWait(driver, 15).until(lambda d: data(d) == expected)
    assert data(driver) == expected


@pytest.mark.slow
@pytest.mark.browser
async def test_graphiql_shows_a_subscription_while_a_message_streams(
    real_db: Database, tmp_path: Path
) -> None:
    key = await api_key(real_db)
    screenshot = Path(os.environ.get("GRAPHIQL_SUBSCRIPTION_SCREENSHOT") or tmp_path / "s.png")
    headers = {"Authorization": f"Bearer {key}"}
    async with live_server(real_db) as base, httpx.AsyncClient(headers=headers) as http:

        async def write(query: str, **variables: str) -> Any:
            request = {"query": query, "variables": variables}
            body = (await http.post(f"{base}/graphql", json=request)).json()
            assert "errors" not in body, body
            return next(iter(body["data"].values()))

        thread_id = (await write(NEW_THREAD))["thread"]["id"]
        # From the thread's first event on, so that none is lost if the server subscribes late.
        stream = STREAM % (thread_id, encode_cursor(EVENT_ORDER, (0,)))
        with browser() as driver:  # driven from a thread: uvicorn serves on this event loop
            await asyncio.to_thread(run_query, driver, base, key, stream)
            message_id = (await write(START, t=thread_id))["message"]["id"]
            message = {"role": "ASSISTANT", "text": "Hel", "status": "IN_PROGRESS"}
            await asyncio.to_thread(shows, driver, "MessageCreated", message=message)
            for delta in ("lo, ", "world"):
                await write(APPEND, m=message_id, d=delta)
                await asyncio.to_thread(shows, driver, "MessageDelta", delta=delta)
            await write(COMPLETE, m=message_id)
            message |= {"text": "Hello, world", "status": "COMPLETED"}
            await asyncio.to_thread(shows, driver, "MessageCompleted", message=message)
            await asyncio.to_thread(save_screenshot, driver, screenshot)
