"""The floor of any GraphQL server on this stack (`uvicorn scripts.bench_floor:floor --factory`,
the benchmark's `floor` peer, run when BENCH_PEERS names it): the API's own `schema.graphql`
served by graphql-core alone, over the hand-written endpoint's commands.

It does only what no GraphQL server can skip: each request's query parsed and validated
(cached by its text, so once), then executed by graphql-core with resolvers on four fields that
return plain dicts built from the hand-written reads (an inbox's last messages read ahead, in
the hand-written endpoint's one command); every other field is a dict key. No Strawberry, no
extensions, limits, logging or error mapping. What separates it from the hand-written endpoint
is the cost of GraphQL itself; what separates the API from it, the cost of the API's layers."""

from collections.abc import Callable
from functools import lru_cache
from inspect import isawaitable
from pathlib import Path
from typing import Any

import orjson
from graphql import (
    DocumentNode,
    FieldNode,
    GraphQLError,
    GraphQLObjectType,
    GraphQLSchema,
    build_schema,
    execute,
    parse,
    validate,
)
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from app import store
from app.pagination import MESSAGE_ORDER, THREAD_ORDER, decode_cursor, encode_cursor
from app.store import codec
from scripts.bench_peers import (
    Doc,
    Keys,
    Reads,
    create_message,
    json_response,
    last_messages,
    message_json,
    newest_threads,
    page_of_messages,
    served,
    thread_json,
)

SDL = Path(__file__).resolve().parent.parent / "schema.graphql"


def thread_node(doc: Doc) -> Doc:
    """Every field the scenarios select; the document kept for the thread's messages."""
    return thread_json(doc) | {"messageCount": doc["messageCount"], "doc": doc}


def message_node(doc: Doc) -> Doc:
    """Every field the scenarios select; the number kept for cursors."""
    return message_json(doc) | {"seq": doc["seq"]}


def connection(nodes: list[Doc], more: bool, cursor: Callable[[Doc], str]) -> Doc:
    """Edges (with their cursors) only if selected: built by the `edges` resolver."""
    end = cursor(nodes[-1]) if nodes else None
    page_info = {"hasNextPage": more, "endCursor": end, "hasPreviousPage": False}
    return {"nodes": nodes, "pageInfo": page_info, "cursor": cursor}


def edges(conn: Doc, info: Any) -> list[Doc]:
    return [{"cursor": conn["cursor"](node), "node": node} for node in conn["nodes"]]


def message_cursor(node: Doc) -> str:
    return encode_cursor(MESSAGE_ORDER, (node["seq"],))


def thread_cursor(node: Doc) -> str:
    doc = node["doc"]
    return encode_cursor(THREAD_ORDER, (doc["createdAt"], doc["_id"]))


async def thread(_: None, info: Any, id: str) -> Doc | None:
    reads: Reads = info.context["reads"]
    doc = await reads.thread(info.context["org"], id)
    return None if doc is None else thread_node(doc)


async def messages(
    parent: Doc,
    info: Any,
    first: int | None = None,
    after: str | None = None,
    order: str = "DESC",
    **unused: Any,
) -> Doc:
    if "last" in parent:  # read ahead with the threads
        return connection([message_node(d) for d in parent["last"]], False, message_cursor)
    ascending = order == "ASC"
    size = first or 20
    seq = decode_cursor(after, MESSAGE_ORDER, field="after")[0] if after else None
    assert seq is None or isinstance(seq, int)
    reads: Reads = info.context["reads"]
    found = await page_of_messages(
        reads, info.context["org"], parent["doc"], size, after=seq, ascending=ascending
    )
    return connection([message_node(d) for d in found[:size]], len(found) > size, message_cursor)


async def threads(
    _: None,
    info: Any,
    first: int | None = None,
    orderBy: str = "CREATED_AT",
    filter: Doc | None = None,
    **unused: Any,
) -> Doc:
    first = first or 20
    reads: Reads = info.context["reads"]
    org = info.context["org"]
    tags = list(((filter or {}).get("metadata") or {}).items())
    term = codec.metadata_term(*tags[0]) if tags else None
    tally = await reads.tally(org, term)
    scan: Doc = {"organizationId": org} | ({"metaTerms": term} if term else {})
    field = "updatedAt" if orderBy == "UPDATED_AT" else "createdAt"
    found = await newest_threads(reads, org, scan, field, first + 1, tally)
    docs = found[:first]
    nodes = [thread_node(d) for d in docs]
    size = _messages_read_ahead(info)
    if size:
        last = await last_messages(reads, org, docs, size)
        for node in nodes:
            node["last"] = last[node["id"]]
    result = connection(nodes, len(found) > first, thread_cursor)
    return result | {"totalCount": tally[0], "totalCountIsExact": True}


def _messages_read_ahead(info: Any) -> int:
    """The page size of `nodes { messages(first: N) }` when the list selects it, else 0."""
    for node in _fields(info.field_nodes[0], "nodes"):
        for sub in _fields(node, "messages"):
            sizes = [a.value.value for a in sub.arguments or () if a.name.value == "first"]
            return int(sizes[0]) if sizes else 20
    return 0


def _fields(node: Any, name: str) -> list[Any]:
    selections = node.selection_set.selections if node.selection_set else ()
    return [s for s in selections if isinstance(s, FieldNode) and s.name.value == name]


async def create(_: None, info: Any, input: Doc) -> Doc | None:
    written = await create_message(info.context["reads"], info.context["caller"], input)
    return written["createMessage"]  # type: ignore[no-any-return]


def floor_schema() -> GraphQLSchema:
    schema = build_schema(SDL.read_text())
    resolvers = {
        ("Query", "thread"): thread,
        ("Query", "threads"): threads,
        ("Thread", "messages"): messages,
        ("Mutation", "createMessage"): create,
        ("MessageConnection", "edges"): edges,
        ("ThreadConnection", "edges"): edges,
    }
    for (type_name, field_name), resolve in resolvers.items():
        object_type = schema.type_map[type_name]
        assert isinstance(object_type, GraphQLObjectType)
        object_type.fields[field_name].resolve = resolve
    return schema


def floor_app(db: store.Database, reads: Reads | None = None) -> Starlette:
    """POST /graphql {"query", "variables"} -> the API's JSON."""
    keys, reads, schema = Keys(db), reads or Reads(db), floor_schema()

    @lru_cache(maxsize=256)
    def document(query: str) -> tuple[DocumentNode, list[GraphQLError]]:
        node = parse(query)
        return node, validate(schema, node)

    async def endpoint(request: Request) -> Response:
        caller = await keys.caller(request)
        if caller is None:
            return json_response({"errors": [{"message": "no valid API key"}]}, 401)
        body = orjson.loads(await request.body())
        node, errors = document(body["query"])
        if errors:
            return json_response({"errors": [e.formatted for e in errors]}, 400)
        context = {"reads": reads, "org": caller.organization_id, "caller": caller}
        executed = execute(schema, node, None, context, body.get("variables"))
        result = await executed if isawaitable(executed) else executed
        answer: Doc = {"data": result.data}
        if result.errors:
            answer["errors"] = [e.formatted for e in result.errors]
        return json_response(answer)

    return Starlette(routes=[Route("/graphql", endpoint, methods=["POST"])])


def floor() -> Starlette:
    return served(floor_app)
