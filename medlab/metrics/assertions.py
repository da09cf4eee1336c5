"""Item assertions: strings an answer must (or must not) contain.

An eval item may carry ``must_include_any`` (the answer passes if it contains at least one)
and ``must_not_include`` (it fails if it contains any). A string starting with ``re:`` is a
regular expression (Python ``re``, searched anywhere); others are literal substrings. Both are
matched case-insensitively after NFKC normalisation (全角 letters and digits fold to ASCII).
The result is None when the item has neither list.
"""

from __future__ import annotations

import re
import unicodedata
from functools import lru_cache


@lru_cache(maxsize=4096)
def compile_assertion(pattern: str) -> re.Pattern[str]:
    """The compiled matcher of one assertion string; a bad regex raises ValueError naming it."""
    if pattern.startswith("re:"):
        try:
            return re.compile(unicodedata.normalize("NFKC", pattern[3:]), re.I)
        except re.error as exc:
            raise ValueError(f"invalid regular expression in assertion {pattern!r}: {exc}") from exc
    return re.compile(re.escape(unicodedata.normalize("NFKC", pattern)), re.I)


def matches(text: str, pattern: str) -> bool:
    return compile_assertion(pattern).search(unicodedata.normalize("NFKC", text)) is not None


def assertions_pass(
    text: str, must_include_any: list[str] | None = None, must_not_include: list[str] | None = None
) -> bool | None:
    """True when the answer contains one of ``must_include_any`` (if given) and none of
    ``must_not_include``; None when both are empty."""
    if not must_include_any and not must_not_include:
        return None
    norm = unicodedata.normalize("NFKC", text)
    if must_include_any and not any(compile_assertion(p).search(norm) for p in must_include_any):
        return False
    return not any(compile_assertion(p).search(norm) for p in must_not_include or [])
