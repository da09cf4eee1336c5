"""The drug policy post-check: parsing and schema violations plus the drug names an answer gives.

The chatbot's rule is "drug classes only": a generic, brand or invented drug name in any string
of the answer is a ``drug:<kind>`` violation (``kind``: generic | brand | fabricated), even when
the user named it first (the message says it was echoed). :func:`validate_answer` is
``medlab.validate_answer``: :func:`medlab.validate.validate_answer` (parsing and schema) plus,
with ``drug_policy=True``, :func:`drug_violations`. :func:`validate_medical_response` mirrors the
reference post-check for migrating users. This sits above :mod:`medlab.validate` because it
needs the drug detector (:mod:`medlab.metrics.drugs`).
"""

from __future__ import annotations

import json
from typing import Any

from medlab import validate
from medlab.metrics.drugs import drug_mentions
from medlab.validate import Violation, answer_text, parse_json


def drug_violations(value: Any, question: str | None = None) -> list[Violation]:
    """``drug:<kind>`` for every generic, brand or fabricated drug name in the answer's strings
    (drug classes are allowed; a name the user wrote is still a violation)."""
    leaves = [([], value)] if isinstance(value, str) else list(validate._string_leaves(value, []))
    found = []
    for path, s in leaves:
        for m in drug_mentions(s, question=question):
            if m.kind != "class":
                echo = " (echoed from the question)" if getattr(m, "echo", False) else ""
                found.append(
                    Violation(
                        f"drug:{m.kind}",
                        validate._where(path),
                        f"names a {m.kind} drug {m.text!r}{echo}",
                    )
                )
    return found


def validate_answer(
    text_or_obj: str | dict[str, Any],
    schema: str | dict[str, Any] = "consultation",
    *,
    drug_policy: bool = False,
    question: str | None = None,
) -> list[Violation]:
    """Every violation of an answer: parsing, schema, and (``drug_policy=True``) drug names.

    ``question`` is the user's message: a drug name it holds is reported as echoed.
    """
    found = validate.validate_answer(text_or_obj, schema)
    if not drug_policy or [v for v in found if v.code == "invalid_json"]:
        return found
    value = text_or_obj
    if isinstance(text_or_obj, str):
        value = parse_json(text_or_obj).value
    return found + drug_violations(value, question)


def validate_medical_response(
    output: str | dict[str, Any],
    forbidden: list[str] | None = None,
    *,
    lenient: bool = False,
) -> dict[str, Any]:
    """The reference post-check: returns the parsed answer; raises ``KeyError`` on a missing
    field and ``ValueError`` on a forbidden drug name (a name in ``forbidden`` or, by default,
    any generic, brand or fabricated drug found by the detector) or on output that is not JSON
    (``json.JSONDecodeError`` is a ``ValueError``, as with the reference's ``json.loads``)."""
    if isinstance(output, dict):
        data = output
    elif lenient:
        parsed = parse_json(output)
        if not parsed.ok_lenient:
            raise ValueError(f"answer is not JSON: {parsed.error}")
        data = parsed.value or {}
    else:
        data = json.loads(output)
        if not isinstance(data, dict):
            raise ValueError(f"answer is a JSON {type(data).__name__}, expected an object")
    for key in ("summary", "analysis", "suggestions"):
        if key not in data:
            raise KeyError(key)
    text = answer_text(data)
    for name in forbidden or []:
        if name in text:
            raise ValueError(f"answer names a forbidden drug: {name!r}")
    if forbidden is None:
        bad = drug_violations(data)
        if bad:
            raise ValueError(f"answer names a forbidden drug: {bad[0].message} at {bad[0].path}")
    return data
