"""Schema extensions: error coding and result extensions, the query limits before validation,
the response cap, the parse cache."""

import re
from collections.abc import Iterator
from contextlib import suppress
from dataclasses import dataclass, field
from functools import lru_cache
from typing import Any

import orjson
from graphql import ASTValidationRule, DocumentNode, GraphQLError, GraphQLSchema, parse, validate
from graphql import ExecutionResult as GraphQLExecutionResult
from strawberry.extensions import SchemaExtension
from strawberry.schema.validation_rules.maybe_null import MaybeNullValidationRule
from strawberry.schema.validation_rules.one_of import OneOfInputValidationRule
from strawberry.types.execution import ExecutionResult as StrawberryExecutionResult
from strawberry.types.execution import StreamExecutionResult

from app import store
from app.errors import HTTP_STATUS, coded
from app.graphql.limits import Limits, check
from app.http.middleware import current_request

# Documents whose parse and validation are kept (each cache is a bounded LRU).
CACHE_SIZE = 256
# graphql-core's " Did you mean 'x', 'y', or 'z'?" (names hold no "?").
SUGGESTION = re.compile(r" Did you mean [^?]*\?")


class FinishResult(SchemaExtension):
    """Codes every error (the one place), sets the HTTP status for outages, adds the request
    id (and in development the database commands so far) to the result and records the
    operation for the request log. In production no message suggests names of the schema."""

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
        if not self.development:
            for error in result.errors:
                error.message = SUGGESTION.sub("", error.message)
        return [str((error.extensions or {}).get("code")) for error in result.errors]

    def get_results(self) -> dict[str, Any]:
        record = current_request.get()
        if record is None:
            return {}
        if self.development:
            return {"requestId": record.id, "dbCommands": record.commands}
        return {"requestId": record.id}


class QueryLimits(SchemaExtension):
    """Validation, after the query limits: an operation over a limit is refused before
    graphql-core's rules see it (some of them, such as overlapping fields, take time that grows
    much faster than the document). Validation results are cached per document; in production
    they suggest no names."""

    def __init__(self, *, limits: Limits, hide_suggestions: bool) -> None:
        self.limits = limits
        self.hide_suggestions = hide_suggestions

    def on_validate(self) -> Iterator[None]:
        run = self.execution_context
        document = run.graphql_document
        if document is not None:
            parsed = Parsed(run.query or str(id(document)), document)
            sizes = _sizes(run.variables or {})
            reason = _checked(run.schema._schema, parsed, sizes, self.limits)
            run.pre_execution_errors = (
                [GraphQLError(reason)]
                if reason is not None
                else _validate(
                    run.schema._schema, parsed, run.validation_rules, self.hide_suggestions
                )
            )
        yield


@dataclass(frozen=True)
class Parsed:
    """A document as a cache key, by its text: hashing a DocumentNode walks its whole tree
    (20 µs for a page query)."""

    text: str
    document: DocumentNode = field(compare=False)


# A page size, a list's length (in a 1-tuple), or None for anything else.
Sizes = tuple[tuple[str, int | tuple[int] | None], ...]


def _sizes(variables: dict[str, Any]) -> Sizes:
    """What the limits read of the variables: a page size (an int) or a list's length, the rest
    alike (`check` reads a variable only as a list argument or a page size)."""
    sizes: list[tuple[str, int | tuple[int] | None]] = []
    for name, value in variables.items():
        if isinstance(value, int) and not isinstance(value, bool):
            sizes.append((name, value))
        elif isinstance(value, list):
            sizes.append((name, (len(value),)))
        else:
            sizes.append((name, None))
    return tuple(sizes)


@lru_cache(maxsize=CACHE_SIZE)
def _checked(schema: GraphQLSchema, parsed: Parsed, sizes: Sizes, limits: Limits) -> str | None:
    """`check`, per document and sizes: lists stand in for lists of their length."""
    variables = {
        name: [None] * size[0] if isinstance(size, tuple) else size for name, size in sizes
    }
    return check(schema, parsed.document, variables, limits)


@lru_cache(maxsize=CACHE_SIZE)
def _validate(
    schema: GraphQLSchema,
    parsed: Parsed,
    rules: tuple[type[ASTValidationRule], ...],
    hide_suggestions: bool,
) -> list[GraphQLError]:
    # `rules` hold graphql-core's; Strawberry adds these two (as its validate_document does).
    every = (*rules, MaybeNullValidationRule, OneOfInputValidationRule)
    return validate(schema, parsed.document, every, hide_suggestions=hide_suggestions)


class ResponseCap(SchemaExtension):
    """Answers an error instead of a result whose JSON would exceed `max_bytes`: the backstop
    of the node budget, for what it cannot foresee (long texts)."""

    def __init__(self, *, max_bytes: int) -> None:
        self.max_bytes = max_bytes

    def on_execute(self) -> Iterator[None]:
        yield
        result = self.execution_context.result
        if not isinstance(result, GraphQLExecutionResult) or result.data is None:
            return
        size = len(orjson.dumps(result.data))
        if size > self.max_bytes:
            result.data = None
            result.errors = [
                GraphQLError(
                    f"The answer would be {size:,} bytes; at most {self.max_bytes:,} are"
                    " allowed. Ask for smaller pages or fewer fields."
                )
            ]


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
