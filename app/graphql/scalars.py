"""The custom scalars: DateTime and Metadata."""

from datetime import UTC, datetime
from typing import NewType

import strawberry
from strawberry.types.scalar import ScalarDefinition

from app.validation import (
    MAX_METADATA_KEY,
    MAX_METADATA_LIST,
    MAX_METADATA_PAIRS,
    MAX_METADATA_VALUE,
)

Metadata = NewType("Metadata", dict[str, str | list[str]])


def serialize_datetime(value: datetime) -> str:
    moment = value.astimezone(UTC).replace(tzinfo=None) if value.tzinfo else value
    return moment.isoformat(timespec="milliseconds") + "Z"


# Scalar parsers raise ValueError: graphql-core reports it with the variable's path.
def _parse_datetime(value: object) -> datetime:
    if not isinstance(value, str):
        raise ValueError("A DateTime must be an ISO-8601 string.")
    parsed = datetime.fromisoformat(value)
    return parsed.astimezone(UTC).replace(tzinfo=None) if parsed.tzinfo else parsed


def _parse_metadata(value: object) -> dict[str, object]:
    # Shape only; the limits are checked where the field path is known (validation.metadata).
    if not isinstance(value, dict):
        raise ValueError("Metadata must be a JSON object of strings or lists of strings.")
    return value


SCALARS: dict[object, ScalarDefinition] = {
    datetime: strawberry.scalar(
        name="DateTime",
        description=(
            "An instant in UTC, as ISO-8601 with milliseconds: 2026-11-24T09:30:00.000Z."
            " Codegen: map to string."
        ),
        serialize=serialize_datetime,
        parse_value=_parse_datetime,
        specified_by_url="https://datatracker.ietf.org/doc/html/rfc3339",
    ),
    Metadata: strawberry.scalar(
        name="Metadata",
        description=(
            f"A JSON object whose values are strings or lists of strings (tags): at most"
            f" {MAX_METADATA_PAIRS} keys, each key 1-{MAX_METADATA_KEY} characters, each string at"
            f" most {MAX_METADATA_VALUE} characters, each list at most {MAX_METADATA_LIST}"
            " strings. Keys are stored and returned literally (dots and a leading $ included). As"
            " a filter, a string matches a value equal to it or a list holding it; a list"
            " matches when every one of its strings does. Codegen: map to"
            " Record<string, string | string[]>."
        ),
        serialize=dict,
        parse_value=_parse_metadata,
        specified_by_url="https://datatracker.ietf.org/doc/html/rfc8259#section-4",
    ),
}
