"""Extraction metrics: how well a structured record extraction matches the gold fields.

- ``age_correct``: the extracted ``patient_age`` equals the gold age exactly (an int, or a
  string holding one integer such as "45岁"; booleans are not ages).
- ``diagnosis_correct``: normalised match of the main (first) diagnosis. Both sides are
  NFKC-normalised, lower-cased, stripped of punctuation, whitespace and hedging prefixes (疑似,
  可能, 考虑, 初步诊断, 诊断为, suspected, possible, probable, likely); then equal, or one
  contains the other when the shorter has at least 2 characters and the longer is at most
  2 x the shorter + 4 characters (急性阑尾炎 and 急性化脓性阑尾炎 match 阑尾炎: the record's
  wording and the model's often differ only by a qualifier). An answer listing several
  diagnoses (高血压、2型糖尿病、冠心病) is judged by the first, and a pasted paragraph matches
  nothing. A gold diagnosis may be a list of accepted names.
- ``findings_recall``: share of gold key findings that some extracted finding covers, by fuzzy
  match (``rapidfuzz.fuzz.partial_ratio`` >= 80 on normalised strings). Only the first 10
  findings (the schema's maximum) count, and a finding counts only when it is a phrase of at
  most 3 x the gold finding + 10 characters, so pasting the record scores nothing.
  Character-level similarity is lenient with opposite wording (白细胞升高 vs 白细胞降低 scores
  75, 左/右 89) and strict with inserted words (白细胞计数升高 scores 75): treat it as a coarse
  recall.
An answer that does not parse scores False / 0.0 (a wrong answer); a field with no gold is None.
"""

from __future__ import annotations

import re
import unicodedata
from typing import Any

from rapidfuzz import fuzz

FINDING_THRESHOLD = 80.0
MAX_FINDINGS = 10  # the emr_extraction schema's maxItems
_LIST_SPLIT = re.compile(r"[、，,；;\n]|(?<!\d)\d+[.、)）]\s*")
_PREFIX = re.compile(
    r"^(?:初步诊断|临床诊断|诊断为|诊断|考虑为|考虑|疑似|可能为|可能是|可能|拟诊|"
    r"suspected|possible|probable|likely|presumed|provisional diagnosis|diagnosis)[:：\s]*",
    re.I,
)


def normalize(text: str) -> str:
    """NFKC, lower case, hedging prefixes removed, punctuation/symbols/whitespace dropped."""
    s = unicodedata.normalize("NFKC", str(text)).strip().lower()
    while True:
        stripped = _PREFIX.sub("", s, count=1).strip()
        if stripped == s:
            break
        s = stripped
    return "".join(ch for ch in s if unicodedata.category(ch)[0] not in "PSZ")


def parse_age(value: Any) -> int | None:
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value
    if isinstance(value, float) and value.is_integer():
        return int(value)
    if isinstance(value, str):
        nums = re.findall(r"\d+", unicodedata.normalize("NFKC", value))
        if len(nums) == 1:
            return int(nums[0])
    return None


def age_correct(pred: Any, gold: Any) -> bool | None:
    if gold is None:
        return None
    age = parse_age(pred)
    return age is not None and age == parse_age(gold)


def diagnosis_correct(pred: Any, gold: str | list[str] | None) -> bool | None:
    if gold is None:
        return None
    if not isinstance(pred, str) or not normalize(pred):
        return False
    parts = [normalize(x) for x in _LIST_SPLIT.split(unicodedata.normalize("NFKC", pred))]
    p = next((x for x in parts if x), "")
    for g in [gold] if isinstance(gold, str) else gold:
        n = normalize(g)
        if n and _same_diagnosis(p, n):
            return True
    return False


def _same_diagnosis(a: str, b: str) -> bool:
    short, long = sorted((a, b), key=len)
    return a == b or (len(short) >= 2 and short in long and len(long) <= 2 * len(short) + 4)


def findings_recall(
    pred: Any, gold: list[str] | None, threshold: float = FINDING_THRESHOLD
) -> float | None:
    if not gold:
        return None
    items = pred[:MAX_FINDINGS] if isinstance(pred, list) else []
    found = [x for x in (normalize(x) for x in items if isinstance(x, str)) if x]
    hits = 0
    for g in gold:
        n = normalize(g)
        phrases = [f for f in found if len(f) <= 3 * len(n) + 10]
        if any(fuzz.partial_ratio(n, f) >= threshold for f in phrases):
            hits += 1
    return hits / len(gold)


def extraction_metrics(value: Any, gold: dict[str, Any]) -> dict[str, Any]:
    """``age_correct``, ``diagnosis_correct``, ``findings_recall`` of a parsed answer."""
    v = value if isinstance(value, dict) else {}
    return {
        "age_correct": age_correct(v.get("patient_age"), gold.get("patient_age")),
        "diagnosis_correct": diagnosis_correct(v.get("diagnosis"), gold.get("diagnosis")),
        "findings_recall": findings_recall(v.get("key_findings"), gold.get("key_findings")),
    }
