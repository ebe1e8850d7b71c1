"""Schema extensions: error coding and result extensions, the node budget, the parse cache."""

from collections.abc import Iterator
from contextlib import suppress
from functools import lru_cache
from typing import Any

from graphql import DocumentNode, GraphQLError, parse
from graphql import ExecutionResult as GraphQLExecutionResult
from strawberry.extensions import SchemaExtension
from strawberry.types.execution import ExecutionResult as StrawberryExecutionResult
from strawberry.types.execution import StreamExecutionResult

from app import store
from app.errors import HTTP_STATUS, coded
from app.graphql.limits import largest_path
from app.http.middleware import current_request

# Documents whose parse and validation are kept (each cache is a bounded LRU).
CACHE_SIZE = 256


class FinishResult(SchemaExtension):
    """Codes every error (the one place), sets the HTTP status for outages, adds the request
    id (and in development the database commands so far) to the result and records the
    operation for the request log."""

    def __init__(self, *, development: bool = True) -> None:
        self.development = development

    def on_operation(self) -> Iterator[None]:
        yield
        record = current_request.get()
        run = self.execution_context
        if record is not None:
            record.operation = run.operation_name
        result = run.result
        if result is None or not result.errors:
            return
        codes = self._code(result)
        if record is not None:
            record.error_codes += codes
        status = max((HTTP_STATUS.get(code, 0) for code in codes), default=0)
        response = getattr(run.context, "response", None)
        if status and response is not None:
            response.status_code = status

    def on_stream_result(self, result: StreamExecutionResult) -> Iterator[None]:
        """Each result a subscription sends."""
        if isinstance(result, StrawberryExecutionResult) and result.errors:
            self._code(result)
        yield

    def _code(self, result: Any) -> list[str]:
        """Code the errors of a result (in place); their codes."""
        record = current_request.get()
        request_id = record.id if record is not None else None
        result.errors = [
            coded(error, request_id=request_id, unavailable=store.is_unavailable)
            for error in result.errors or []
        ]
        return [str((error.extensions or {}).get("code")) for error in result.errors]

    def get_results(self) -> dict[str, Any]:
        record = current_request.get()
        if record is None:
            return {}
        if self.development:
            return {"requestId": record.id, "dbCommands": record.commands}
        return {"requestId": record.id}


class NodeBudget(SchemaExtension):
    """Refuses, before it runs, an operation whose nested connections could return more than
    `max_nodes` nodes along one path (the product of their page sizes, 20 when not given)."""

    def __init__(self, *, max_nodes: int) -> None:
        self.max_nodes = max_nodes

    def on_execute(self) -> Iterator[None]:
        run = self.execution_context
        document = run.graphql_document
        largest = (
            0
            if document is None
            else largest_path(run.schema._schema, document, run.operation_name, run.variables)
        )
        if largest > self.max_nodes:
            message = (
                f"The query could return {largest:,} nodes along one path of nested connections;"
                f" at most {self.max_nodes:,} are allowed. Ask for smaller pages."
            )
            run.result = GraphQLExecutionResult(data=None, errors=[GraphQLError(message)])
        yield


@lru_cache(maxsize=CACHE_SIZE)
def _parse(query: str, max_tokens: int | None) -> DocumentNode:
    return parse(query, max_tokens=max_tokens)


class CachedParse(SchemaExtension):
    """Strawberry's ParserCache, but leaving syntax errors to Strawberry's own parse (which
    reports them like any other error; ParserCache lets them escape the error mapping)."""

    def on_parse(self) -> Iterator[None]:
        run = self.execution_context
        if run.query:
            with suppress(GraphQLError):
                run.graphql_document = _parse(run.query, run.parse_options.get("max_tokens"))
        yield
