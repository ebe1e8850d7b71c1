"""The error hierarchy, and the one place that maps errors to GraphQL error codes."""

import json
from collections.abc import Callable
from typing import ClassVar

from graphql import GraphQLError


class AppError(Exception):
    code: ClassVar[str] = "INTERNAL_SERVER_ERROR"

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


class InvalidInput(AppError):
    code = "BAD_USER_INPUT"

    def __init__(self, field: str, message: str) -> None:
        super().__init__(message)
        self.field = field


class NotFound(AppError):
    code = "NOT_FOUND"


class Conflict(AppError):
    code = "CONFLICT"


class Unauthenticated(AppError):
    code = "UNAUTHENTICATED"


class Forbidden(AppError):
    code = "FORBIDDEN"


class Unavailable(AppError):
    code = "SERVICE_UNAVAILABLE"


class DeadlineExceeded(AppError):
    code = "DEADLINE_EXCEEDED"


INTERNAL_MESSAGE = "Internal server error."
UNAVAILABLE_MESSAGE = "The database is unavailable; retry later."
# HTTP statuses of the codes that are not the client's fault, for the whole response.
HTTP_STATUS = {Unavailable.code: 503, DeadlineExceeded.code: 504}
# Codes of HTTP requests refused before GraphQL runs (app/http/endpoint.py): not a well-formed
# GraphQL-over-HTTP request (400), a method the request cannot use (405), an `Accept` that
# allows no media type of GraphQL answers (406). No resolver raises them, so no AppError has them.
BAD_REQUEST = "BAD_REQUEST"
METHOD_NOT_ALLOWED = "METHOD_NOT_ALLOWED"
NOT_ACCEPTABLE = "NOT_ACCEPTABLE"
# Refused at once (503 with Retry-After) because the instance has its most requests in flight.
OVERLOADED = "OVERLOADED"
# Codes of automatic persisted queries (app/http/persisted.py).
PERSISTED_QUERY_NOT_FOUND = "PERSISTED_QUERY_NOT_FOUND"
PERSISTED_QUERY_HASH_MISMATCH = "PERSISTED_QUERY_HASH_MISMATCH"
PERSISTED_QUERY_NOT_ALLOWED = "PERSISTED_QUERY_NOT_ALLOWED"
REQUEST_CODES = (
    BAD_REQUEST,
    METHOD_NOT_ALLOWED,
    NOT_ACCEPTABLE,
    OVERLOADED,
    PERSISTED_QUERY_NOT_FOUND,
    PERSISTED_QUERY_HASH_MISMATCH,
    PERSISTED_QUERY_NOT_ALLOWED,
)


def error_codes() -> set[str]:
    """Every `extensions.code` the API answers with (the generated clients list the same)."""

    def codes(error: type[AppError]) -> set[str]:
        return {error.code}.union(*(codes(sub) for sub in error.__subclasses__()))

    return codes(AppError) | set(REQUEST_CODES)


def cause_of(error: GraphQLError) -> BaseException | None:
    """The exception behind a GraphQL error, looking through graphql-core's wrapping."""
    cause: BaseException | None = error.original_error
    while isinstance(cause, GraphQLError):
        cause = cause.original_error
    return cause


def forget_frames(error: BaseException) -> None:
    """Drop the tracebacks of an error and of every error behind it, once it is logged: their
    frames hold the executor that holds the errors, a cycle that would keep every object of
    the request until the cyclic garbage collector ran."""
    pending: list[BaseException | None] = [error]
    seen: set[int] = set()
    while pending:
        current = pending.pop()
        if current is not None and id(current) not in seen:
            seen.add(id(current))
            current.__traceback__ = None
            behind = getattr(current, "original_error", None)
            pending += [current.__cause__, current.__context__, behind]


def app_error_of(error: GraphQLError) -> AppError | None:
    cause = cause_of(error)
    return cause if isinstance(cause, AppError) else None


def coded(
    error: GraphQLError,
    *,
    request_id: str | None = None,
    unavailable: Callable[[BaseException], bool] = lambda cause: False,
) -> GraphQLError:
    """The error as clients see it: always with `extensions.code`, never with internals.

    `unavailable` tells the database driver's connection errors from other exceptions.
    """
    cause = cause_of(error)
    app_error: AppError | None = app_error_of(error)
    if cause is not None and unavailable(cause):
        app_error = Unavailable(UNAVAILABLE_MESSAGE)
    if app_error is not None:
        extensions: dict[str, object] = {"code": app_error.code}
        if isinstance(app_error, InvalidInput):
            extensions["field"] = app_error.field
        message = app_error.message
    elif error.path is None:
        # Raised before execution: syntax, validation and variable coercion errors.
        extensions, message = {"code": "BAD_USER_INPUT"}, error.message
    else:
        extensions, message = {"code": "INTERNAL_SERVER_ERROR"}, INTERNAL_MESSAGE
        if request_id is not None:
            extensions["requestId"] = request_id
    return GraphQLError(
        message,
        nodes=error.nodes,
        source=error.source,
        positions=error.positions,
        path=error.path,
        original_error=None,
        extensions=extensions,
    )


def is_unexpected(error: GraphQLError) -> bool:
    """Whether the error is a fault of ours (to be logged), rather than an answer."""
    return error.path is not None and app_error_of(error) is None


def error_body(code: str, message: str, request_id: str | None) -> bytes:
    """A GraphQL-shaped response body for errors answered before GraphQL runs: a request error,
    so without `data` (GraphQL spec, "Response Format")."""
    body: dict[str, object] = {"errors": [{"message": message, "extensions": {"code": code}}]}
    if request_id is not None:
        body["extensions"] = {"requestId": request_id}
    return json.dumps(body).encode()
