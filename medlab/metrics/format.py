"""Format metrics: is the answer strict JSON, lenient JSON, valid against its schema, and which
violations does it have; plus ``prose``, the text the other text metrics read.

Parsing and schema checks are ``medlab.validate`` (json5 + jsonschema); this module only turns
them into per-sample metric values.
"""

from __future__ import annotations

import re
from functools import lru_cache
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from medlab.validate import ParseResult


def prose(text_or_value: Any) -> str:
    """The prose of an answer: summary + analysis + suggestions of a JSON answer (lenient
    parse), the raw text otherwise. Text without a ``{`` skips the parser (fast path)."""
    if isinstance(text_or_value, str) and "{" not in text_or_value:
        return text_or_value
    return (
        _prose_cached(text_or_value) if isinstance(text_or_value, str) else _answer(text_or_value)
    )


# the seams of JSON the parser could not read (效果一般", "analysis": ["咳嗽是…): a quote with
# JSON punctuation beside it
_JSON_SEAM = re.compile(r'"?\s*(?:[\[\]{},:]\s*)+"|"\s*(?:[\[\]{},:]\s*)+')


def seams_to_lines(text: str) -> str:
    """``text`` with each seam of broken JSON turned into a line break, so that what one string
    says (a hedge, a condition) never reaches into the next; text without a quote is returned
    as it is."""
    return _JSON_SEAM.sub("\n", text) if '"' in text else text


@lru_cache(maxsize=4096)
def _prose_cached(text: str) -> str:
    return _answer(text)


def _answer(value: Any) -> str:
    from medlab.validate import answer_text

    return answer_text(value)


def format_metrics(text: str, schema: str | None = None) -> dict[str, Any]:
    """``json_strict``, ``json_lenient`` (bools), ``schema_valid`` (bool, None without a
    schema), ``violations`` (list of violation codes; empty without a schema) and ``parsed``
    (the leniently parsed object or None)."""
    from medlab.validate import parse_json

    return format_of(parse_json(text), schema)


def format_of(parsed: ParseResult, schema: str | None = None) -> dict[str, Any]:
    """``format_metrics`` of an answer already parsed (``parse_json``): the violations are
    ``validate_answer``'s codes, read from that one parse."""
    from medlab.validate import schema_violations

    out: dict[str, Any] = {
        "json_strict": parsed.ok_strict,
        "json_lenient": parsed.ok_lenient,
        "schema_valid": None,
        "violations": [],
        "parsed": parsed.value if parsed.ok_lenient else None,
    }
    if schema is not None:
        if not parsed.ok_lenient:
            codes = ["invalid_json"]
        else:
            codes = [] if parsed.ok_strict else ["not_strict_json"]
            codes += [v.code for v in schema_violations(parsed.value, schema)]
        out["violations"] = codes
        # strictness is its own metric: a leniently recovered object can still fit the schema
        out["schema_valid"] = parsed.ok_lenient and not [c for c in codes if c != "not_strict_json"]
    return out
