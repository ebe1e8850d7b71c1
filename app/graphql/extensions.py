"""The schema's one extension and its steps: the parse cache, the query limits before
validation, the string rule, the response cap, error coding and result extensions."""

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
from strawberry.types import ExecutionContext
from strawberry.types.execution import ExecutionResult as StrawberryExecutionResult
from strawberry.types.execution import StreamExecutionResult
from strawberry.types.graphql import OperationType

from app import store
from app.errors import HTTP_STATUS, coded
from app.graphql import strings
from app.graphql.limits import Limits, check
from app.http.middleware import current_request

# Documents whose parse and validation are kept (each cache is a bounded LRU).
CACHE_SIZE = 256
# graphql-core's " Did you mean 'x', 'y', or 'z'?" (names hold no "?").
SUGGESTION = re.compile(r" Did you mean [^?]*\?")


def finish(run: ExecutionContext, *, development: bool) -> None:
    """After an operation: codes every error (the one place), sets the HTTP status for
    outages and records the operation for the request log. In production no message suggests
    names of the schema."""
    record = current_request.get()
    if record is not None:
        record.operation = run.operation_name
    result = run.result
    if result is None or not result.errors:
        return
    codes = code_errors(result, development=development)
    if record is not None:
        record.error_codes += codes
    status = max((HTTP_STATUS.get(code, 0) for code in codes), default=0)
    response = getattr(run.context, "response", None)
    if status and response is not None:
        response.status_code = status


def code_errors(result: Any, *, development: bool) -> list[str]:
    """Code the errors of a result (in place); their codes."""
    record = current_request.get()
    request_id = record.id if record is not None else None
    result.errors = [
        coded(error, request_id=request_id, unavailable=store.is_unavailable)
        for error in result.errors or []
    ]
    if not development:
        for error in result.errors:
            error.message = SUGGESTION.sub("", error.message)
    return [str((error.extensions or {}).get("code")) for error in result.errors]


def result_extensions(*, development: bool) -> dict[str, Any]:
    """The request id (and in development the database commands so far)."""
    record = current_request.get()
    if record is None:
        return {}
    if development:
        return {"requestId": record.id, "dbCommands": record.commands}
    return {"requestId": record.id}


def validate_within_limits(run: ExecutionContext, rules: "Rules") -> None:
    """Validation, after the query limits: an operation over a limit is refused before
    graphql-core's rules see it (some of them, such as overlapping fields, take time that grows
    much faster than the document). Validation results are cached per document; in production
    they suggest no names."""
    document = run.graphql_document
    if document is not None:
        parsed = Parsed.of(run.query, document)
        sizes = _sizes(run.variables or {})
        schema = run.schema._schema
        reason = _checked(schema, parsed, sizes, rules.limits)
        run.pre_execution_errors = (
            [GraphQLError(reason)]
            if reason is not None
            else _validate(schema, parsed, run.validation_rules, rules.production)
        )


@dataclass(frozen=True)
class Parsed:
    """A document as a cache key, by its text: hashing a DocumentNode walks its whole tree
    (20 µs for a page query)."""

    text: str
    document: DocumentNode = field(compare=False)

    @staticmethod
    def of(query: str | None, document: DocumentNode) -> "Parsed":
        return Parsed(query or str(id(document)), document)


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


def cap_response(run: ExecutionContext, max_bytes: int) -> None:
    """Answers an error instead of a result whose JSON would exceed `max_bytes`: the backstop
    of the node budget, for what it cannot foresee (long texts)."""
    result = run.result
    if not isinstance(result, GraphQLExecutionResult) or result.data is None:
        return
    size = len(orjson.dumps(result.data))
    if size > max_bytes:
        result.data = None
        result.errors = [
            GraphQLError(
                f"The answer would be {size:,} bytes; at most {max_bytes:,} are"
                " allowed. Ask for smaller pages or fewer fields."
            )
        ]


def refuse_strings(run: ExecutionContext) -> None:
    """Before an operation runs: refuses it, given a string the rule forbids
    (`strings.first_refusal`), with BAD_USER_INPUT and its path (its result set to that
    error). The document's walk is kept per document; only its variables are checked again."""
    document = run.graphql_document
    if run.result is None and document is not None:
        steps = _string_plan(run.schema._schema, Parsed.of(run.query, document), run.operation_name)
        refusal = strings.first_refusal(steps, run.variables or {})
        if refusal is not None:
            if run.operation_type is OperationType.SUBSCRIPTION:
                raise refusal  # a subscription's executing hook has no result to set
            error = GraphQLError(refusal.message, original_error=refusal)
            run.result = GraphQLExecutionResult(data=None, errors=[error])


@lru_cache(maxsize=CACHE_SIZE)
def _string_plan(
    schema: GraphQLSchema, parsed: Parsed, operation_name: str | None
) -> tuple[strings.Step, ...]:
    return strings.plan(schema, parsed.document, operation_name)


@lru_cache(maxsize=CACHE_SIZE)
def _parse(query: str, max_tokens: int | None) -> DocumentNode:
    return parse(query, max_tokens=max_tokens)


def cached_parse(run: ExecutionContext) -> None:
    """Strawberry's ParserCache, but leaving syntax errors to Strawberry's own parse (which
    reports them like any other error; ParserCache lets them escape the error mapping)."""
    if run.query:
        with suppress(GraphQLError):
            run.graphql_document = _parse(run.query, run.parse_options.get("max_tokens"))


@dataclass(frozen=True)
class Rules:
    """What every operation is held to, from the settings."""

    max_tokens: int
    validation_rules: tuple[type[ASTValidationRule], ...]
    limits: Limits
    max_bytes: int
    production: bool  # no names suggested in errors; no database commands in results


class OperationHooks(SchemaExtension):
    """Every step the schema adds to an operation, in one extension: Strawberry builds each
    extension anew for every operation and looks up each of its hooks, so steps kept as
    extensions of their own (seven) cost more than what most of them do.

    Around the operation: its parse limited to `max_tokens`, the extra validation rules, then
    `finish`. Parsing: `cached_parse`. Validation: `validate_within_limits`. Execution:
    `refuse_strings` before, `cap_response` after."""

    def __init__(self, *, rules: Rules) -> None:
        self.rules = rules

    def on_operation(self) -> Iterator[None]:
        run = self.execution_context
        run.parse_options["max_tokens"] = self.rules.max_tokens
        run.validation_rules = run.validation_rules + self.rules.validation_rules
        yield
        finish(run, development=not self.rules.production)

    def on_parse(self) -> Iterator[None]:
        cached_parse(self.execution_context)
        yield

    def on_validate(self) -> Iterator[None]:
        validate_within_limits(self.execution_context, self.rules)
        yield

    def on_execute(self) -> Iterator[None]:
        refuse_strings(self.execution_context)
        yield
        cap_response(self.execution_context, self.rules.max_bytes)

    def on_stream_result(self, result: StreamExecutionResult) -> Iterator[None]:
        """Each result a subscription sends."""
        if isinstance(result, StrawberryExecutionResult) and result.errors:
            code_errors(result, development=not self.rules.production)
        yield

    def get_results(self) -> dict[str, Any]:
        return result_extensions(development=not self.rules.production)
