"""GraphiQL served by the app alone: Strawberry's page, its CDN URLs pointed at copies of the same
files under /graphql/static/. The copies live in app/static (package data, fetched from npm by
./scripts/vendor-graphiql); the page keeps its sha384 integrity hashes, so browsers check them.

In development, a browser on this machine gets the page ready to run: the local development key
(which ./scripts/serve keeps in Settings.local_key_file) in its Headers pane and the inbox query
in its editor (`GraphiQLPage`, `local_browser`)."""

import base64
import hashlib
import json
import re
from pathlib import Path
from urllib.parse import urlsplit

from starlette.datastructures import Headers
from starlette.routing import BaseRoute, Mount
from starlette.staticfiles import StaticFiles
from starlette.types import Scope
from strawberry.http.ides import get_graphql_ide_html

from app import store
from app.services.api_keys import authenticate

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


# The first query a newcomer sees (the README's inbox, over every thread).
DEFAULT_QUERY = """# Your ten latest threads, each with its last five messages.
# Your local API key is in the Headers tab below.
# Press ▶ (Ctrl-Enter) to run; more examples in docs/api.md.
query Inbox {
  threads(first: 10) {
    totalCount
    nodes {
      id
      title
      updatedAt
      messageCount
      messages(last: 5, order: ASC) {
        nodes { id role text createdAt }
      }
    }
  }
}
"""
LOOPBACK_ADDRESSES = frozenset({"127.0.0.1", "::1", "::ffff:127.0.0.1"})
LOOPBACK_NAMES = frozenset({"localhost", "127.0.0.1", "::1"})
# Strawberry's page script, and what the page with defaults has instead: the defaults come from
# a JSON data block, and URL parameters (a shared link) still win over them.
DEFAULTS_ELEMENT = "graphiql-defaults"
PAGE_EDITS = {
    "<script>\n      const EXAMPLE_QUERY = ": (
        '<script type="application/json" id="%s">%s</script>\n    <script>\n'
        '      const DEFAULTS = JSON.parse(document.getElementById("%s").textContent);\n'
        "      const EXAMPLE_QUERY = "
    ),
    "parameters.q || EXAMPLE_QUERY": "parameters.q || DEFAULTS.query",
    "React.useState(parameters.headers)": "React.useState(parameters.headers || DEFAULTS.headers)",
}


def json_in_html(value: object) -> str:
    """`value` as JSON that is inert inside an HTML element: no `<`, `>` or `&` in it."""
    text = json.dumps(value)
    return text.replace("<", "\\u003c").replace(">", "\\u003e").replace("&", "\\u0026")


def page_with_defaults(plain: str, *, query: str, headers: dict[str, str]) -> str:
    """`plain` (the page) opening with `query` in its editor and `headers` in its Headers pane."""
    defaults = json_in_html({"query": query, "headers": json.dumps(headers, indent=2)})
    for old, new in PAGE_EDITS.items():
        if plain.count(old) != 1:
            raise RuntimeError(f"Strawberry's GraphiQL page changed: no single {old!r} in it")
        if old.startswith("<script>"):
            new = new % (DEFAULTS_ELEMENT, defaults, DEFAULTS_ELEMENT)
        plain = plain.replace(old, new)
    return plain


def local_browser(scope: Scope) -> bool:
    """Whether the request comes from a browser on this machine, asking for the page itself:
    from a loopback address, to a loopback name (not a name that was made to resolve here, as
    a DNS rebinding attack does), not through a proxy, and not a script of another origin
    (whose requests carry an Origin header; a page the browser navigates to gets none)."""
    client = scope.get("client")
    if client is None or client[0] not in LOOPBACK_ADDRESSES:
        return False
    headers = Headers(scope=scope)
    if any(name in headers for name in ("origin", "forwarded", "x-forwarded-for")):
        return False
    return urlsplit("//" + headers.get("host", "")).hostname in LOOPBACK_NAMES


def read_key(path: Path) -> str | None:
    try:
        key = path.read_text().strip()
    except OSError:
        return None
    return key or None


class GraphiQLPage:
    """The page to serve (development only): with the local development key in `key_file`
    and DEFAULT_QUERY to a `local_browser` when the key is valid, else the plain page."""

    def __init__(self, *, key_file: Path | None) -> None:
        self.plain = page()
        self.key_file = key_file
        page_with_defaults(self.plain, query="", headers={})  # fails now if the page changed

    async def render(self, scope: Scope) -> str:
        if self.key_file is None or not local_browser(scope):
            return self.plain
        key = read_key(self.key_file)
        if key is None:
            return self.plain
        header = f"Bearer {key}"
        try:
            valid = await authenticate(scope["app"].state.runtime.db, header) is not None
        except Exception as error:
            if not store.is_unavailable(error):
                raise
            valid = False
        if not valid:  # a key of another database, or revoked: the plain page
            return self.plain
        return page_with_defaults(
            self.plain, query=DEFAULT_QUERY, headers={"Authorization": header}
        )
