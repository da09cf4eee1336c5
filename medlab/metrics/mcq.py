"""Multiple-choice accuracy for the public exam sets (CMB, CMExam, MedQA, PubMedQA).

``mcq_choice(value_or_text)`` reads the letters an answer chose: the ``answer`` field of a JSON
answer (``{"answer": "B"}``, the ``mcq`` schema), else the letters of free text written as an
answer (``B``, ``答案：B``, ``选B``, ``The answer is (C).``, ``AC`` for several). Prose that never
states a letter as its answer chooses nothing. ``mcq_correct`` is True when the chosen set of
letters equals the gold set (multiple-answer questions need every letter, no extra one), False
for a wrong or missing choice, None when the item has no gold answer.
"""

from __future__ import annotations

import re
import unicodedata
from typing import Any

# the whole answer is the choice, or it opens with one followed by punctuation ("B. 因为...")
_BARE = re.compile(
    r"^\s*[(（\[]?([A-J](?:\s*[,，、和与及&]?\s*[A-J])*)[)）\]]?\s*(?:[.。:：、,，;；]|$)"
)
_STATED = re.compile(
    r"(?:答案|正确答案|最佳答案|应选|选择|选项|选|"
    r"(?<![A-Za-z])(?i:answer(?:\s+is)?|correct\s+(?:answer|option)(?:\s+is)?|option))"
    r"\s*(?:是|为|應為|应为)?\s*[:：]?\s*[(（\[]?([A-J](?:\s*[,，、和与及&]\s*[A-J])*|[A-J]{1,5})(?![A-Za-z])",
)


def mcq_choice(value: Any) -> frozenset[str] | None:
    """The option letters an answer chose, or None when it states no choice."""
    if isinstance(value, dict):
        value = value.get("answer")
    if not isinstance(value, str):
        return None
    text = unicodedata.normalize("NFKC", value).strip()
    m = _BARE.match(text) or _STATED.search(text)
    if not m:
        return None
    return frozenset(re.findall(r"[A-J]", m.group(1)))


def mcq_correct(value: Any, gold: str | None) -> bool | None:
    if not gold:
        return None
    chosen = mcq_choice(value)
    return chosen is not None and chosen == frozenset(gold.upper())
