"""The GraphQL endpoint: Strawberry's ASGI app with the context of each request, speaking
GraphQL over HTTP (docs/api.md#graphql-over-http).

Strawberry parses and runs; the hooks below add the spec's rules. `parse_http_body` takes only
a well-formed request (a JSON object, or GET parameters, with a string `query` and optional
object `variables` and `extensions`); `execute_operation` picks the operation first (one, or the
one `operationName` names) and refuses a subscription, or a mutation over GET (405);
`get_sub_response` picks the media type by `Accept` (406 when it allows none); in
`application/graphql-response+json`, `process_result` leaves `data` out of request errors and
`create_response` makes them 400 (`application/json` keeps the legacy 200 and `"data": null`).
Every refusal is a `RequestError`, and `__call__` turns it, and any HTTPException Strawberry
raises with its plain-text reason, into one coded JSON error body (`middleware.send_error`).
"""

import json
import re
from functools import lru_cache
from typing import Any

import orjson
from cross_web import AsyncHTTPRequestAdapter, HTTPException
from graphql import GraphQLError, OperationDefinitionNode, OperationType, parse
from starlette.requests import Request
from starlette.responses import Response
from starlette.types import Receive, Scope, Send
from starlette.websockets import WebSocket
from strawberry.asgi import GraphQL
from strawberry.exceptions import ConnectionRejectionError
from strawberry.http import GraphQLHTTPResponse, GraphQLRequestData
from strawberry.http.base import BaseRequestProtocol
from strawberry.http.parse_content_type import parse_content_type
from strawberry.schema.base import BaseSchema
from strawberry.types import ExecutionResult, SubscriptionExecutionResult
from strawberry.types.unset import UnsetType

from app.errors import BAD_REQUEST, METHOD_NOT_ALLOWED, NOT_ACCEPTABLE, AppError, NotFound
from app.graphql.context import Context
from app.http.media import GRAPHQL_RESPONSE, JSON, content_type, negotiate
from app.http.middleware import current_request, send_error
from app.services.api_keys import authenticate
from app.settings import Settings

DEFAULT_MAX_QUERY_TOKENS: int = Settings.model_fields["max_query_tokens"].default
SUBSCRIPTIONS_OVER_HTTP = (
    "Subscriptions do not run over HTTP: open a WebSocket to /graphql with the"
    " graphql-transport-ws protocol (docs/realtime.md)."
)
NO_PAGE = "No page here (production): send a GraphQL query."
NOT_AN_OBJECT = (
    'The body must be a JSON object: {"query": ..., "variables": ..., "operationName": ...}.'
)


class RequestError(Exception):
    """A request refused before GraphQL runs: its HTTP status and the error's code."""

    def __init__(self, status: int, code: str, message: str, *, allow: str | None = None) -> None:
        super().__init__(message)
        self.status, self.code, self.message, self.allow = status, code, message, allow


def bad_request(message: str) -> RequestError:
    return RequestError(400, BAD_REQUEST, message)


class GraphQLEndpoint(GraphQL[Context, None]):
    def __init__(
        self,
        schema: BaseSchema,
        *,
        max_query_tokens: int = DEFAULT_MAX_QUERY_TOKENS,
        **options: Any,
    ) -> None:
        """`max_query_tokens` (the schema's own limit) bounds the parse that picks the
        operation; `options` are Strawberry's."""
        super().__init__(schema, **options)
        self.max_query_tokens = max_query_tokens

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await super().__call__(scope, receive, send)
            return
        try:
            response = await self.run(Request(scope, receive))
        except HTTPException as error:  # Strawberry's own refusals, in plain text
            await refuse(send, translated(error))
        except RequestError as error:
            await refuse(send, error)
        else:
            await response(scope, receive, send)

    async def get_sub_response(self, request: Request | WebSocket) -> Response:
        """Also where the media type of the answer is chosen (406 when `Accept` allows none)."""
        sub_response = await super().get_sub_response(request)
        media_type = accepted(request)
        method = str(request.scope.get("method", ""))
        accept = request.headers.get("accept", "")
        if media_type is None and not wants_page(method, request.query_params, accept):
            raise RequestError(
                406, NOT_ACCEPTABLE, f"Accept {GRAPHQL_RESPONSE} or {JSON} (or send no Accept)."
            )
        sub_response.media_type = media_type or JSON
        return sub_response

    def should_render_graphql_ide(self, request: BaseRequestProtocol) -> bool:
        """A browser's page request only: a GET without a query that accepts `text/html` (and
        then 404, as the page is served by auth.py, in development). `*/*` alone asks for
        GraphQL, so it gets 400 for the missing query."""
        return wants_page(request.method, request.query_params, request.headers.get("accept", ""))

    def parse_json(self, data: str | bytes) -> Any:
        try:
            text = data.decode() if isinstance(data, bytes) else data
        except UnicodeDecodeError as error:
            raise bad_request("The request body is not UTF-8.") from error
        if too_deep(text):
            raise bad_request(f"The request body's JSON nests deeper than {MAX_JSON_DEPTH} levels.")
        try:
            return self.decode_json(text)
        except (ValueError, RecursionError) as error:
            raise bad_request("The request body is not valid JSON.") from error

    async def parse_http_body(
        self, request: AsyncHTTPRequestAdapter
    ) -> GraphQLRequestData | list[GraphQLRequestData]:
        """Only a well-formed GraphQL-over-HTTP request (no batches: batching is off)."""
        if request.method == "GET":
            try:
                params = self.parse_query_params(request.query_params)
            except RequestError as error:
                raise bad_request(
                    "The `variables` and `extensions` parameters must be JSON objects."
                ) from error
            return request_data({key: value for key, value in params.items() if value != ""})
        media_type, parameters = parse_content_type(request.content_type or "")
        if media_type.lower() != JSON:
            raise bad_request(f"Send the request as JSON, with `Content-Type: {JSON}`.")
        if parameters.get("charset", "utf-8").lower() not in ("utf-8", "utf8"):
            raise bad_request("Send the request body in UTF-8 (`charset=utf-8`, or none).")
        return request_data(self.parse_json(await request.get_body()))

    async def execute_operation(
        self,
        request: Request,
        request_adapter: AsyncHTTPRequestAdapter,
        request_data: GraphQLRequestData | list[GraphQLRequestData],
        context: Context,
        root_value: None,
        sub_response: Response,
    ) -> ExecutionResult | list[ExecutionResult] | SubscriptionExecutionResult:
        if isinstance(request_data, GraphQLRequestData) and request_data.query is not None:
            check_operation(
                request_data.query,
                request_data.operation_name,
                request_adapter.method,
                self.max_query_tokens,
            )
        return await super().execute_operation(
            request=request,
            request_adapter=request_adapter,
            request_data=request_data,
            context=context,
            root_value=root_value,
            sub_response=sub_response,
        )

    async def process_result(
        self, request: Request, result: ExecutionResult
    ) -> GraphQLHTTPResponse:
        """In `application/graphql-response+json`, a request error (raised before execution:
        syntax, validation, variables, limits) has no `data` entry; a field error keeps it, null
        or not. `application/json` keeps Strawberry's legacy `"data": null`."""
        response = await super().process_result(request, result)
        if (
            accepted(request) == GRAPHQL_RESPONSE
            and result.data is None
            and result.errors
            and all(error.path is None for error in result.errors)
        ):
            del response["data"]
        return response

    def create_response(
        self,
        response_data: GraphQLHTTPResponse | list[GraphQLHTTPResponse],
        sub_response: Response,
    ) -> Response:
        """In the chosen media type; in `application/graphql-response+json` a request error is
        400 (unless an outage set 503), in `application/json` every answer stays 200."""
        response = super().create_response(response_data, sub_response)
        media_type = sub_response.media_type or JSON
        response.headers["content-type"] = content_type(media_type)
        if (
            media_type == GRAPHQL_RESPONSE
            and not sub_response.status_code
            and isinstance(response_data, dict)
            and "data" not in response_data
        ):
            response.status_code = 400
        return response

    def encode_json(self, data: object) -> str:
        # orjson encodes the nested 50-message response in ~5 µs instead of ~80 µs. A str, not
        # bytes: WebSocket messages must go as text frames.
        return orjson.dumps(data).decode()

    async def get_context(
        self, request: Request | WebSocket, response: Response | WebSocket
    ) -> Context:
        state = request.app.state
        if isinstance(request, WebSocket):  # the caller comes in connection_init
            return Context(runtime=state.runtime, hub=state.hub)
        return Context(
            runtime=state.runtime,
            caller=request.scope["state"]["caller"],
            response=response if isinstance(response, Response) else None,
            hub=state.hub,
        )

    async def on_ws_connect(self, context: Context) -> UnsetType | dict[str, object] | None:
        params = context.connection_params or {}
        header = params.get("Authorization", params.get("authorization"))
        caller = await authenticate(
            context.runtime.db,
            header if isinstance(header, str) else None,
            cache=context.runtime.api_keys,
        )
        if caller is None:
            raise ConnectionRejectionError({"code": "UNAUTHENTICATED"})
        context.sign_in(caller)
        return None


# Deeper JSON is refused before it is parsed (no input of the schema nests a tenth as deep;
# json.loads itself would recurse up to 1,000 levels).
MAX_JSON_DEPTH = 128
NESTING = re.compile(rb'[\[\]{}]|"(?:[^"\\]|\\.)*"')


def too_deep(text: str) -> bool:
    """Whether the JSON text nests arrays and objects deeper than MAX_JSON_DEPTH, counted by a
    scan of its brackets outside strings (so json.loads never recurses that deep)."""
    if text.count("[") + text.count("{") <= MAX_JSON_DEPTH:
        return False
    depth = 0
    for token in NESTING.finditer(text.encode()):
        bracket = token[0]
        if bracket in (b"[", b"{"):
            depth += 1
            if depth > MAX_JSON_DEPTH:
                return True
        elif bracket in (b"]", b"}"):
            depth -= 1
    return False


def accepted(request: Request | WebSocket) -> str | None:
    """The media type to answer `request` in (None: `Accept` allows none we have)."""
    return negotiate(", ".join(request.headers.getlist("accept")))


def wants_page(method: str, query_params: Any, accept: str) -> bool:
    """A browser asking for the GraphiQL page: GET, no `query`, `text/html` accepted."""
    return method == "GET" and query_params.get("query") is None and "text/html" in accept


def request_data(data: object) -> GraphQLRequestData:
    """The parameters of a well-formed request, or a 400 naming what is wrong. Null (and, in a
    GET, empty) parameters count as absent; `operationName` "" too."""
    if isinstance(data, list):
        raise bad_request("Batching is off: send one operation per request.")
    if not isinstance(data, dict):
        raise bad_request(NOT_AN_OBJECT)
    query, operation_name = data.get("query"), data.get("operationName")
    if query is None or query == "":
        raise bad_request("No query: send the GraphQL document in `query`.")
    if not isinstance(query, str):
        raise bad_request("`query` must be a string.")
    if operation_name is not None and not isinstance(operation_name, str):
        raise bad_request("`operationName` must be a string or null.")
    for name in ("variables", "extensions"):
        if data.get(name) is not None and not isinstance(data[name], dict):
            raise bad_request(f"`{name}` must be an object or null.")
    return GraphQLRequestData(
        query=query,
        variables=data.get("variables"),
        operation_name=operation_name or None,
        extensions=data.get("extensions"),
    )


def check_operation(query: str, operation_name: str | None, method: str, max_tokens: int) -> None:
    """Picks the operation to run as GraphQL's GetOperation() does (Strawberry would run the
    first of several) and refuses what HTTP cannot run. A document that does not parse is
    left to GraphQL, which reports it like any syntax error."""
    operations = operations_of(query, max_tokens)
    if operations is None:
        return
    if operation_name is None:
        if len(operations) > 1:
            raise bad_request(
                f"The document has {len(operations)} operations: name the one to run in"
                " `operationName`."
            )
        chosen = operations[0][1] if operations else None
    else:
        chosen = next((kind for name, kind in operations if name == operation_name), None)
        if chosen is None:
            raise bad_request(
                f"The document has no operation named {json.dumps(operation_name[:100])}."
            )
    if chosen is None:
        raise bad_request("The document has no operation to run.")
    if chosen == OperationType.SUBSCRIPTION:
        raise bad_request(SUBSCRIPTIONS_OVER_HTTP)
    if chosen == OperationType.MUTATION and method == "GET":
        raise RequestError(
            405, METHOD_NOT_ALLOWED, "Mutations need POST: GET runs queries only.", allow="POST"
        )


Operations = tuple[tuple[str | None, OperationType], ...]
# Documents up to this long are remembered (256 of them): the cache holds at most ~5 MB.
CACHED_QUERY_CHARS = 20_000


def operations_of(query: str, max_tokens: int) -> Operations | None:
    """The name and kind of each operation of the document; None when it does not parse."""
    if len(query) <= CACHED_QUERY_CHARS:
        return _cached_operations_of(query, max_tokens)
    return _operations_of(query, max_tokens)


def _operations_of(query: str, max_tokens: int) -> Operations | None:
    try:
        document = parse(query, no_location=True, max_tokens=max_tokens)
    except (GraphQLError, RecursionError):
        return None
    return tuple(
        (None if d.name is None else d.name.value, d.operation)
        for d in document.definitions
        if isinstance(d, OperationDefinitionNode)
    )


_cached_operations_of = lru_cache(maxsize=256)(_operations_of)


def translated(error: HTTPException) -> RequestError:
    """Strawberry's HTTPException (plain text) as a coded request error."""
    if error.status_code == 405:
        message = "Use POST, or GET for queries."
        return RequestError(405, METHOD_NOT_ALLOWED, message, allow="GET, POST")
    if error.status_code == 404:
        return RequestError(404, NotFound.code, NO_PAGE)
    code = BAD_REQUEST if error.status_code < 500 else AppError.code
    return RequestError(error.status_code, code, error.reason)


async def refuse(send: Send, error: RequestError) -> None:
    record = current_request.get()
    if record is not None:
        record.error_codes.append(error.code)
    headers = () if error.allow is None else ((b"allow", error.allow.encode()),)
    await send_error(
        send,
        error.status,
        error.code,
        error.message,
        request_id=None if record is None else record.id,
        headers=headers,
    )
