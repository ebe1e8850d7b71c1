"""Full-text search rules: how text becomes index terms, how a query becomes conditions on them,
and where a query's terms occur in a text (highlights). Pure: no I/O, no storage names.

- A word is a run of Unicode letters, digits, combining marks and `_` (so punctuation,
  spaces and apostrophes separate words). Its term is the word case-folded, decomposed
  (NFKD) and stripped of combining marks: `Crème` and `CREME` are both `creme`.
- CJK text (Han, Hiragana, Katakana, Hangul), which has no spaces between words, is indexed
  as each single character and each pair of adjacent characters (bigrams), in NFKC form
  (so half-width and full-width kana are one, and marks such as dakuten stay). A query's CJK
  run of two or more characters asks for each of its bigrams; a single character asks for
  that character.
- A query matches a text holding every one of its terms; its last term may also be the
  start of a term (search as you type: `bee` finds `beef`).
- So that the prefix is an equality in the index, each word of 2 characters or more is also
  indexed by its prefixes of 2 to PREFIX_MAX characters, each marked with PREFIX_MARK (which no
  word holds, so a prefix term never equals a word's): `stew` adds `st*`, `ste*`, `stew*`. A
  query's last word of 2..PREFIX_MAX characters is that prefix term; a longer one is the
  prefix term of its first PREFIX_MAX characters, the rest checked against the words' terms;
  a one-character last word is only checked (another term is scanned). A CJK last term is
  itself (a CJK character or bigram is indexed as it is).
"""

import itertools
import re
import unicodedata
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime

from app.domain import Pairs, Role

MAX_TERM = 64  # longer terms are cut to this many characters, in the index and in queries
PREFIX_MAX = 12  # a word's prefixes are indexed up to this many characters
PREFIX_MARK = "*"  # ends a prefix term (no word holds it)
TERMS_VERSION = 2  # the rules stored terms follow: 2 added the prefix terms

_MARKS = "\u0300-\u036f\u1ab0-\u1aff\u1dc0-\u1dff\u20d0-\u20ff\ufe20-\ufe2f\u3099\u309a"
_WORD = re.compile(rf"[\w{_MARKS}]+")
_CJK = re.compile(
    "["
    "\u1100-\u11ff\u3040-\u30ff\u3130-\u318f\u31f0-\u31ff\u3400-\u4dbf\u4e00-\u9fff"
    "\ua960-\ua97f\uac00-\ud7af\ud7b0-\ud7ff\uf900-\ufaff\uff66-\uff9f\uffa0-\uffdc"
    "\U00020000-\U0003ffff"
    "]"
)


def is_cjk(char: str) -> bool:
    return _CJK.match(char) is not None


def fold(word: str) -> str:
    """A non-CJK word's term: case-folded, NFKD, without combining marks."""
    decomposed = unicodedata.normalize("NFKD", unicodedata.normalize("NFKD", word).casefold())
    return "".join(c for c in decomposed if not unicodedata.combining(c))[:MAX_TERM]


def _cjk_fold(char: str) -> str:
    return unicodedata.normalize("NFKC", char).casefold()


@dataclass(frozen=True)
class Token:
    """A term and where it is in the text (code point offsets, end exclusive)."""

    term: str
    start: int
    end: int
    cjk: bool = False


@dataclass(frozen=True)
class _Segment:
    """A word, or a CJK run: its characters' terms (one item for a word), and its offsets."""

    terms: tuple[str, ...]
    start: int
    end: int
    cjk: bool


def _segments(text: str) -> Iterator[_Segment]:
    for match in _WORD.finditer(text):
        run, base = match.group(), match.start()
        offset = 0
        for cjk, group in itertools.groupby(run, key=is_cjk):
            chars = "".join(group)
            start, offset = base + offset, offset + len(chars)
            if cjk:
                yield _Segment(tuple(_cjk_fold(c) for c in chars), start, start + len(chars), True)
            elif term := fold(chars):  # not marks alone (after a CJK character, say)
                yield _Segment((term,), start, start + len(chars), False)


def tokens(text: str) -> Iterator[Token]:
    """Every term of the text with its place: words, CJK characters and CJK bigrams."""
    for segment in _segments(text):
        if not segment.cjk:
            yield Token(segment.terms[0], segment.start, segment.end)
            continue
        chars = segment.terms
        for n, char in enumerate(chars):
            at = segment.start + n
            yield Token(char, at, at + 1, cjk=True)
            if n + 1 < len(chars):
                yield Token(char + chars[n + 1], at, at + 2, cjk=True)


def prefix_term(prefix: str) -> str:
    """The stored term of a prefix (of at least 2 characters; cut to PREFIX_MAX)."""
    return prefix[:PREFIX_MAX] + PREFIX_MARK


def index_terms(text: str) -> list[str]:
    """The terms a message's text is found by, each once, sorted: its words' and CJK terms,
    and each word's prefix terms."""
    found: set[str] = set()
    for token in tokens(text):
        found.add(token.term)
        if not token.cjk:
            word = token.term
            found.update(prefix_term(word[:n]) for n in range(2, min(len(word), PREFIX_MAX) + 1))
    return sorted(found)


@dataclass(frozen=True)
class SearchTerms:
    """What a query asks for: every `exact` term, and a term starting with `prefix`."""

    exact: tuple[str, ...]
    prefix: str

    @property
    def all(self) -> tuple[str, ...]:
        return (*self.exact, self.prefix)

    @property
    def prefix_scan(self) -> str | None:
        """The stored term every text starting a word with the prefix holds: its prefix term
        (of its first PREFIX_MAX characters), a CJK term itself; None for one character."""
        if is_cjk(self.prefix[0]):
            return self.prefix
        return prefix_term(self.prefix) if len(self.prefix) > 1 else None

    @property
    def prefix_checked(self) -> bool:
        """Whether `prefix_scan` alone does not settle the prefix (one character, or more than
        PREFIX_MAX): then a term starting with the prefix is checked too."""
        return self.prefix_scan is None or (
            not is_cjk(self.prefix[0]) and len(self.prefix) > PREFIX_MAX
        )

    @property
    def scannable(self) -> tuple[str, ...]:
        """The stored terms a text must hold, each an equality an index scan can start from."""
        scan = self.prefix_scan
        return tuple(dict.fromkeys((*self.exact, *(() if scan is None else (scan,)))))


def query_terms(query: str) -> list[str]:
    """A query's terms in order, each once: words, and each CJK run as its bigrams (or its one
    character). Words of one character are dropped, except the last (a prefix being typed)."""
    found: list[str] = []
    segments = list(_segments(query))
    for n, segment in enumerate(segments):
        if segment.cjk:
            chars = segment.terms
            pairs = [a + b for a, b in itertools.pairwise(chars)]
            found += pairs or list(chars)
        elif len(segment.terms[0]) > 1 or n == len(segments) - 1:
            found.append(segment.terms[0])
    return list(dict.fromkeys(found))


def search_terms(terms: list[str]) -> SearchTerms:
    """Terms (from `query_terms`, at least one) as conditions: the last one as a prefix."""
    *exact, prefix = terms
    return SearchTerms(exact=tuple(t for t in exact if t != prefix), prefix=prefix)


def prefix_end(prefix: str) -> str:
    """The least string greater than every string starting with `prefix` (in code point order,
    which is UTF-8 byte order: the order MongoDB compares strings in)."""
    last = ord(prefix[-1]) + 1
    if 0xD800 <= last <= 0xDFFF:  # surrogates are not characters
        last = 0xE000
    return prefix[:-1] + chr(min(last, 0x10FFFF))


def highlights(text: str, terms: SearchTerms) -> list[tuple[int, int]]:
    """Where the query's terms occur in `text`: (start, end) code point offsets, in order,
    overlapping ones merged. A word matches an exact term, or starts with the prefix; a CJK
    token matches a term equal to it."""
    exact = set(terms.exact)
    spans: list[tuple[int, int]] = []
    for token in tokens(text):
        if token.term in exact or token.term == terms.prefix:
            hit = True
        else:
            hit = not token.cjk and token.term.startswith(terms.prefix)
        if hit:
            spans.append((token.start, token.end))
    merged: list[tuple[int, int]] = []
    for start, end in sorted(spans):
        if merged and start < merged[-1][1]:
            merged[-1] = (merged[-1][0], max(end, merged[-1][1]))
        else:
            merged.append((start, end))
    return merged


@dataclass(frozen=True)
class MessageSearch:
    """A search of an organization's messages, newest first: every given condition holds."""

    organization_id: str
    terms: SearchTerms
    thread_id: str | None = None
    role: Role | None = None
    metadata: Pairs = ()
    created_after: datetime | None = None  # at or after
    created_before: datetime | None = None  # strictly before
