"""Input rules. Pure: every function returns the checked value or raises InvalidInput."""

import re
import uuid
from collections.abc import Mapping, Sequence
from urllib.parse import urlsplit

from app.domain import MESSAGE_PREFIX, THREAD_PREFIX
from app.errors import InvalidInput
from app.search_terms import SearchTerms, is_cjk, query_terms, search_terms

MAX_METADATA_PAIRS = 16
MAX_METADATA_KEY = 64
MAX_METADATA_VALUE = 512
MAX_METADATA_LIST = 32
MAX_TITLE = 200
MAX_CONTENT = 256_000
MAX_CONTENT_PARTS = 32
MAX_THREAD_MESSAGES = 100
MAX_FILE_IDS = 20
MAX_VECTOR_STORE_IDS = 1
MAX_REFERENCE = 128
MAX_URL = 2_048
MAX_NODE_IDS = 100
MAX_IDEMPOTENCY_KEY = 255
MAX_SEARCH_QUERY = 256
MAX_SEARCH_TERMS = 8


# Not text anywhere: NUL and UTF-16 surrogates (a str holds one only when it came from a lone
# surrogate escape such as the JSON "\ud800"; a valid pair decodes to one code point).
_NOT_TEXT = re.compile("[\x00\ud800-\udfff]")
# Not in a key either: the other C0 controls, DEL and the C1 controls; tab, LF and CR stay.
_NOT_KEY = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f\ud800-\udfff]")


def unicode_string(value: str, *, field: str, key: bool = False, what: str | None = None) -> str:
    """Unicode scalar values without NUL; a `key` (an id, cursor, idempotency or metadata key)
    without control characters other than tab, newline and carriage return either."""
    found = (_NOT_KEY if key else _NOT_TEXT).search(value)
    if found is None:
        return value
    name, point = what or field, ord(found.group())
    if 0xD800 <= point <= 0xDFFF:
        reason = f"a lone surrogate (U+{point:04X}); send valid Unicode text"
    elif point == 0:
        reason = "NUL (U+0000)"
    else:
        reason = f"a control character (U+{point:04X}), which keys and ids may not hold"
    raise InvalidInput(field, f"{name} must not contain {reason}.")


def text(
    value: str, *, field: str, max_length: int, min_length: int = 0, what: str | None = None
) -> str:
    """A string of `min_length`..`max_length` characters (code points) of Unicode text.

    `what` names the value in the message when it is a part of `field`.
    """
    name = what or field
    if len(value) < min_length:
        raise InvalidInput(field, f"{name} must have at least {min_length} character(s).")
    if len(value) > max_length:
        raise InvalidInput(field, f"{name} must have at most {max_length:,} characters.")
    return unicode_string(value, field=field, what=what)


def metadata(value: object, *, field: str) -> dict[str, str | list[str]]:
    """Up to 16 keys; each value a string or a list of up to 32 strings (tags, say)."""
    if not isinstance(value, Mapping):
        raise InvalidInput(field, f"{field} must be a JSON object of strings or lists of strings.")
    if len(value) > MAX_METADATA_PAIRS:
        raise InvalidInput(field, f"{field} may have at most {MAX_METADATA_PAIRS} keys.")
    checked: dict[str, str | list[str]] = {}
    for key, item in value.items():
        if not isinstance(key, str):
            raise InvalidInput(field, f"{field} keys must be strings.")
        text(
            key,
            field=field,
            what=f"{field} key {key[:70]!r}",
            min_length=1,
            max_length=MAX_METADATA_KEY,
        )
        what = f"{field} value of {key[:70]!r}"
        if isinstance(item, list):
            if len(item) > MAX_METADATA_LIST:
                raise InvalidInput(field, f"{what} may hold at most {MAX_METADATA_LIST} strings.")
            if not all(isinstance(element, str) for element in item):
                raise InvalidInput(field, f"{what} must be a string or a list of strings.")
            for element in item:
                text(element, field=field, what=what, max_length=MAX_METADATA_VALUE)
            checked[key] = list(item)
            continue
        if not isinstance(item, str):
            raise InvalidInput(field, f"{what} must be a string or a list of strings.")
        text(item, field=field, what=what, max_length=MAX_METADATA_VALUE)
        checked[key] = item
    return checked


def title(value: str | None, *, field: str) -> str | None:
    return None if value is None else text(value, field=field, max_length=MAX_TITLE)


def reference(value: str | None, *, field: str) -> str | None:
    """An id of something outside this API (assistant, run, file, vector store)."""
    if value is None:
        return None
    return text(value, field=field, min_length=1, max_length=MAX_REFERENCE)


def references(value: Sequence[str], *, field: str, max_items: int) -> list[str]:
    if len(value) > max_items:
        raise InvalidInput(field, f"{field} may hold at most {max_items} id(s).")
    return [text(item, field=field, min_length=1, max_length=MAX_REFERENCE) for item in value]


def idempotency_key(value: str | None, *, field: str) -> str | None:
    if value is None:
        return None
    return text(value, field=field, min_length=1, max_length=MAX_IDEMPOTENCY_KEY)


def content(value: str, *, field: str) -> str:
    return text(value, field=field, min_length=1, max_length=MAX_CONTENT)


def image_url(value: str, *, field: str) -> str:
    text(value, field=field, min_length=1, max_length=MAX_URL)
    parts = urlsplit(value)
    if parts.scheme not in ("http", "https") or not parts.netloc:
        raise InvalidInput(field, f"{field} must be an http or https URL.")
    return value


def object_id(value: str, *, prefix: str, field: str) -> str:
    """An id of this API: `prefix` followed by a UUID in canonical form."""
    rest = value[len(prefix) :] if value.startswith(prefix) else ""
    try:
        canonical = str(uuid.UUID(rest)) == rest
    except ValueError:
        canonical = False
    if not canonical:
        raise InvalidInput(field, f"{field} is not a valid {prefix.rstrip('_')} id.")
    return value


def thread_id(value: str, *, field: str) -> str:
    return object_id(value, prefix=THREAD_PREFIX, field=field)


def message_id(value: str, *, field: str) -> str:
    return object_id(value, prefix=MESSAGE_PREFIX, field=field)


def node_id(value: str, *, field: str) -> str:
    for prefix in (THREAD_PREFIX, MESSAGE_PREFIX):
        if value.startswith(prefix):
            return object_id(value, prefix=prefix, field=field)
    raise InvalidInput(field, f"{field} is not a valid thread or message id.")


def count(items: Sequence[object], *, field: str, max_items: int, min_items: int = 0) -> None:
    if not min_items <= len(items) <= max_items:
        raise InvalidInput(field, f"{field} must hold {min_items} to {max_items} item(s).")


def search_query(value: str, *, field: str) -> SearchTerms:
    """Up to 256 characters and 8 terms, one of at least 2 characters (or a CJK one)."""
    text(value, field=field, max_length=MAX_SEARCH_QUERY)
    terms = query_terms(value)
    if len(terms) > MAX_SEARCH_TERMS:
        raise InvalidInput(field, f"{field} may have at most {MAX_SEARCH_TERMS} terms.")
    if not any(len(term) > 1 or is_cjk(term[0]) for term in terms):
        raise InvalidInput(
            field, f"{field} needs a word of at least 2 characters (or a CJK character)."
        )
    return search_terms(terms)
