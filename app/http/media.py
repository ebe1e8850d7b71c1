"""The media types of GraphQL over HTTP answers, and the choice between them by `Accept`.

`application/graphql-response+json` when the client's `Accept` prefers it (then request errors
are 4xx and carry no `data`), else `application/json`, the legacy type (always 200 for a
well-formed request); None when `Accept` allows neither (406).
"""

from functools import lru_cache

GRAPHQL_RESPONSE = "application/graphql-response+json"
JSON = "application/json"
CANDIDATES = (GRAPHQL_RESPONSE, JSON)
# How closely a media range names a type: `*/*`, `application/*`, the type itself.
ANY, SUBTYPES, EXACT = 0, 1, 2


def content_type(media_type: str) -> str:
    """The `Content-Type` of an answer in `media_type` (always UTF-8)."""
    return f"{media_type}; charset=utf-8"


def _specificity(media_range: str, media_type: str) -> int | None:
    if media_range == media_type:
        return EXACT
    if media_range == "application/*":
        return SUBTYPES
    if media_range == "*/*":
        return ANY
    return None


@lru_cache(maxsize=256)
def negotiate(accept: str) -> str | None:
    """The media type to answer in, for the value of the `Accept` header(s) ("" when absent).

    Each candidate takes the quality of the most specific range that matches it (RFC 9110
    12.5.1). The higher quality wins; at equal quality the more specific match, and when both
    are named outright, `application/graphql-response+json`. Matched only by wildcards
    (`*/*`, `application/*`), the answer is `application/json`, as it is with no `Accept`.
    """
    if not accept.strip():
        return JSON
    # candidate -> (quality, specificity) of its most specific matching range
    best: dict[str, tuple[float, int]] = {}
    for media_range in accept.split(","):
        name, *parameters = (part.strip() for part in media_range.split(";"))
        quality = _quality(parameters)
        if quality is None:
            continue
        for candidate in CANDIDATES:
            specificity = _specificity(name.lower(), candidate)
            if specificity is not None and specificity > best.get(candidate, (0.0, -1))[1]:
                best[candidate] = (quality, specificity)
    modern, legacy = best.get(GRAPHQL_RESPONSE, (0.0, -1)), best.get(JSON, (0.0, -1))
    if modern[0] <= 0 and legacy[0] <= 0:
        return None
    if modern[0] != legacy[0]:
        return GRAPHQL_RESPONSE if modern[0] > legacy[0] else JSON
    if modern[1] != legacy[1]:
        return GRAPHQL_RESPONSE if modern[1] > legacy[1] else JSON
    return GRAPHQL_RESPONSE if modern[1] == EXACT else JSON


def _quality(parameters: list[str]) -> float | None:
    """The `q` of a media range (1 when absent); None when malformed (the range is ignored)."""
    for parameter in parameters:
        key, _, value = parameter.partition("=")
        if key.strip().lower() == "q":
            try:
                quality = float(value.strip())
            except ValueError:
                return None
            return quality if 0 <= quality <= 1 else None
    return 1.0
