"""GraphiQL served by the app alone: Strawberry's page, its CDN URLs pointed at copies of the same
files under /graphql/static/. The copies live in app/static (package data, fetched from npm by
./scripts/vendor-graphiql); the page keeps its sha384 integrity hashes, so browsers check them."""

import base64
import hashlib
import re
from pathlib import Path

from starlette.routing import BaseRoute, Mount
from starlette.staticfiles import StaticFiles
from strawberry.http.ides import get_graphql_ide_html

CDN = "https://unpkg.com/"
STATIC_URL = "/graphql/static/"
STATIC_DIR = Path(__file__).parent.parent / "static"
# An asset of Strawberry's page: its path on the CDN (package@version/file) and integrity hash.
CDN_ASSET = re.compile(r'(?:src|href)="https://unpkg\.com/([^"]+)"\s+integrity="(sha384-[^"]+)"')
LOCAL_ASSET = re.compile(r'(?:src|href)="/graphql/static/([^"]+)"')
REMOTE_ASSET = re.compile(r'(?:src|href)="(?:https?:)?//')


def strawberry_page() -> str:
    return get_graphql_ide_html("graphiql")


def cdn_assets(page: str) -> dict[str, str]:
    """Path on the CDN (`graphiql@3.8.3/graphiql.min.js`) → integrity, for each asset of `page`."""
    return dict(CDN_ASSET.findall(page))


def integrity(data: bytes) -> str:
    """A Subresource Integrity value, as in the page."""
    return "sha384-" + base64.b64encode(hashlib.sha384(data).digest()).decode()


def page() -> str:
    """Strawberry's GraphiQL page, loading every asset from the app."""
    local = strawberry_page().replace(f'"{CDN}', f'"{STATIC_URL}')
    if REMOTE_ASSET.search(local):
        raise RuntimeError("Strawberry's GraphiQL page loads from a CDN unknown here")
    missing = [path for path in LOCAL_ASSET.findall(local) if not (STATIC_DIR / path).is_file()]
    if missing:
        raise RuntimeError(f"GraphiQL assets missing, run ./scripts/vendor-graphiql: {missing}")
    return local


def routes() -> list[BaseRoute]:
    """The static files of the page."""
    return [Mount(STATIC_URL.rstrip("/"), app=StaticFiles(directory=STATIC_DIR), name="graphiql")]
