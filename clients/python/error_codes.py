"""The `extensions.code` of the API's errors, and how to read them from the client's exceptions."""

import enum
from typing import Any

from .exceptions import GraphQLClientError, GraphQLClientGraphQLMultiError, GraphQLClientHttpError


class ErrorCode(enum.StrEnum):
    BAD_USER_INPUT = "BAD_USER_INPUT"
    NOT_FOUND = "NOT_FOUND"
    CONFLICT = "CONFLICT"
    UNAUTHENTICATED = "UNAUTHENTICATED"
    FORBIDDEN = "FORBIDDEN"
    SERVICE_UNAVAILABLE = "SERVICE_UNAVAILABLE"
    DEADLINE_EXCEEDED = "DEADLINE_EXCEEDED"
    INTERNAL_SERVER_ERROR = "INTERNAL_SERVER_ERROR"
    BAD_REQUEST = "BAD_REQUEST"
    METHOD_NOT_ALLOWED = "METHOD_NOT_ALLOWED"
    NOT_ACCEPTABLE = "NOT_ACCEPTABLE"
    OVERLOADED = "OVERLOADED"
    PERSISTED_QUERY_NOT_FOUND = "PERSISTED_QUERY_NOT_FOUND"
    PERSISTED_QUERY_HASH_MISMATCH = "PERSISTED_QUERY_HASH_MISMATCH"
    PERSISTED_QUERY_NOT_ALLOWED = "PERSISTED_QUERY_NOT_ALLOWED"


def error_codes(error: GraphQLClientError) -> list[ErrorCode]:
    """The codes of a GraphQL error response, or of an HTTP error's body (401, 503, 504)."""
    errors: list[dict[str, Any]]
    if isinstance(error, GraphQLClientGraphQLMultiError):
        errors = [{"extensions": e.extensions or {}} for e in error.errors]
    elif isinstance(error, GraphQLClientHttpError) and hasattr(error.response, "json"):
        errors = error.response.json().get("errors", [])
    else:
        errors = []
    return [ErrorCode(e["extensions"]["code"]) for e in errors]
