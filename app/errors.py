"""The error hierarchy, and the one place that maps errors to GraphQL error codes."""

from collections.abc import Iterator
from typing import ClassVar

from graphql import GraphQLError
from strawberry.extensions import SchemaExtension


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


INTERNAL_MESSAGE = "Internal server error."


def app_error_of(error: GraphQLError) -> AppError | None:
    """The AppError behind a GraphQL error, looking through graphql-core's wrapping."""
    cause: BaseException | None = error.original_error
    while isinstance(cause, GraphQLError):
        cause = cause.original_error
    return cause if isinstance(cause, AppError) else None


def coded(error: GraphQLError) -> GraphQLError:
    """The error as clients see it: always with `extensions.code`, never with internals."""
    app_error = app_error_of(error)
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
    return error.path is not None and app_error_of(error) is None


class ErrorCodes(SchemaExtension):
    """Rewrites every error of a result into its coded, client-safe form."""

    def on_operation(self) -> Iterator[None]:
        yield
        result = self.execution_context.result
        if result is not None and result.errors:
            result.errors = [coded(error) for error in result.errors]
