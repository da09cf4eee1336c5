"""A small bilingual knowledge base of conditions: retrieval, prompt grounding and cross-checks.

Each condition in ``medlab/knowledge/*.jsonl`` has Chinese and English names, aliases, symptoms,
red flags, the care level it requires (emergency | urgent | routine | self_care) and short
advice. Retrieval is BM25 (``rank-bm25``) over character bigrams for Chinese and lower-cased
words for English. ``cross_check`` flags an answer whose referral level is below what the
matched condition requires; a red flag named in the question raises the requirement to
emergency.
"""

from __future__ import annotations

import json
import os
import re
from dataclasses import asdict, dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any

from rank_bm25 import BM25Okapi

from medlab.levels import TRIAGE_LEVELS

KNOWLEDGE_DIR = Path(__file__).resolve().parent / "knowledge"
CARE_LEVELS = TRIAGE_LEVELS  # most urgent first
# the lowest answer referral level (metrics.referral_level) acceptable for each care level
MIN_ANSWER_LEVEL = {"emergency": "emergency", "urgent": "routine", "routine": "routine"}
_LEVEL_RANK = {"none": 0, "conditional": 1, "routine": 2, "emergency": 3}
_FIELDS = {
    "id": str,
    "name_zh": str,
    "name_en": str,
    "aliases_zh": list,
    "aliases_en": list,
    "symptoms_zh": list,
    "symptoms_en": list,
    "red_flags_zh": list,
    "red_flags_en": list,
    "care_level": str,
    "advice_zh": str,
    "advice_en": str,
}
_CJK = re.compile(r"[\u3400-\u9fff]+")
_WORD = re.compile(r"[a-z0-9]+")
_LABELS = {
    "zh": {
        "emergency": "需立即就医",
        "urgent": "需当天就医",
        "routine": "建议就诊",
        "self_care": "可居家观察",
    },
    "en": {
        "emergency": "emergency care now",
        "urgent": "same-day care",
        "routine": "see a doctor",
        "self_care": "self-care",
    },
}


def tokenize(text: str) -> list[str]:
    """BM25 tokens: character bigrams of each Chinese run (a lone character stays), English words."""
    tokens: list[str] = []
    for run in _CJK.findall(text):
        tokens.extend([run] if len(run) == 1 else [run[i : i + 2] for i in range(len(run) - 1)])
    tokens.extend(_WORD.findall(text.lower()))
    return tokens


def language_of(text: str) -> str:
    return "zh" if _CJK.search(text) else "en"


@dataclass(frozen=True)
class Condition:
    id: str
    name_zh: str
    name_en: str
    aliases_zh: list[str]
    aliases_en: list[str]
    symptoms_zh: list[str]
    symptoms_en: list[str]
    red_flags_zh: list[str]
    red_flags_en: list[str]
    care_level: str
    advice_zh: str
    advice_en: str

    def names(self) -> list[str]:
        return [self.name_zh, self.name_en, *self.aliases_zh, *self.aliases_en]

    def red_flags(self) -> list[str]:
        return [*self.red_flags_zh, *self.red_flags_en]

    def document(self) -> str:
        return " ".join([*self.names(), *self.symptoms_zh, *self.symptoms_en, *self.red_flags()])


@dataclass(frozen=True)
class Hit:
    """A retrieved condition: BM25 score, names/aliases and red flags found in the question."""

    condition: Condition
    score: float
    named: bool
    red_flags: tuple[str, ...]

    @property
    def required(self) -> str:
        return "emergency" if self.red_flags else self.condition.care_level


@dataclass(frozen=True)
class KBFlag:
    """An answer referral level below (under_referral) what a matched condition requires."""

    condition_id: str
    condition: str
    required: str  # care level the condition needs
    answer_level: str
    kind: str  # "under_referral"
    reason: str

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def _contains(text: str, phrase: str) -> bool:
    if _CJK.search(phrase):
        return phrase in text
    return re.search(rf"\b{re.escape(phrase.lower())}\b", text.lower()) is not None


def load_conditions(path: str | Path | None = None) -> list[Condition]:
    """Read and check every ``*.jsonl`` in the folder (or the one file) given."""
    root = Path(path or os.environ.get("MEDLAB_KNOWLEDGE_DIR") or KNOWLEDGE_DIR)
    files = sorted(root.glob("*.jsonl")) if root.is_dir() else [root]
    conditions: list[Condition] = []
    seen: set[str] = set()
    for file in files:
        for lineno, line in enumerate(file.read_text(encoding="utf-8").splitlines(), 1):
            if not line.strip():
                continue
            where = f"{file}:{lineno}"
            try:
                row = json.loads(line)
            except json.JSONDecodeError as e:
                raise ValueError(f"{where}: invalid JSON: {e}") from e
            for field, kind in _FIELDS.items():
                if not isinstance(row.get(field), kind):
                    raise ValueError(f"{where}: field {field!r} must be a {kind.__name__}")
            if row["care_level"] not in CARE_LEVELS:
                raise ValueError(f"{where}: field 'care_level' must be one of {CARE_LEVELS}")
            if row["id"] in seen:
                raise ValueError(f"{where}: field 'id' duplicates {row['id']!r}")
            seen.add(row["id"])
            conditions.append(Condition(**{k: row[k] for k in _FIELDS}))
    if not conditions:
        raise ValueError(f"{root}: no conditions found")
    return conditions


class KnowledgeBase:
    """BM25 retrieval over the conditions, grounding blocks and referral cross-checks."""

    def __init__(self, conditions: list[Condition] | None = None, min_score: float = 4.0):
        self.conditions = conditions if conditions is not None else load_conditions()
        self.min_score = min_score  # BM25 score a condition needs to match without being named
        self._bm25 = BM25Okapi([tokenize(c.document()) for c in self.conditions])

    def __len__(self) -> int:
        return len(self.conditions)

    def search(self, text: str, k: int = 3) -> list[Hit]:
        """The k best conditions for the text (score > 0), named ones first."""
        tokens = tokenize(text)
        if not tokens:
            return []
        scores = self._bm25.get_scores(tokens)
        hits = []
        for cond, score in zip(self.conditions, scores):
            named = any(_contains(text, n) for n in cond.names())
            if score <= 0 and not named:
                continue
            flags = tuple(f for f in cond.red_flags() if _contains(text, f))
            hits.append(Hit(cond, float(score), named, flags))
        hits.sort(key=lambda h: (h.named, h.score), reverse=True)
        return hits[:k]

    def match(self, question: str) -> list[Hit]:
        """Conditions the question is about: those named or whose red flags it mentions, and the
        best BM25 hit when it scores at least ``min_score``."""
        hits = self.search(question, k=5)
        matched = [h for h in hits if h.named or h.red_flags]
        best = max(hits, key=lambda h: h.score, default=None)
        if best is not None and best.score >= self.min_score and best not in matched:
            matched.append(best)
        return matched

    def required_level(self, question: str) -> str | None:
        """The highest care level any matched condition requires, or None when nothing matches."""
        levels = [h.required for h in self.match(question)]
        return min(levels, key=CARE_LEVELS.index) if levels else None

    def ground(self, question: str, k: int = 3) -> str:
        """A context block to append to the system prompt (empty when nothing is retrieved)."""
        lang = language_of(question)
        hits = [
            h
            for h in self.search(question, k=k)
            if h.named or h.red_flags or h.score >= self.min_score
        ]
        if not hits:
            return ""
        lines = [
            "参考资料（医学知识库）：" if lang == "zh" else "Reference notes (knowledge base):"
        ]
        for h in hits:
            c = h.condition
            name = c.name_zh if lang == "zh" else c.name_en
            flags = c.red_flags_zh if lang == "zh" else c.red_flags_en
            advice = c.advice_zh if lang == "zh" else c.advice_en
            label = _LABELS[lang][c.care_level]
            if lang == "zh":
                lines.append(f"- {name}（{label}）：危险信号：{'、'.join(flags)}。{advice}")
            else:
                lines.append(f"- {name} ({label}): red flags: {', '.join(flags)}. {advice}")
        return "\n".join(lines)

    def cross_check(self, question: str, answer_level: str) -> list[KBFlag]:
        """Flag the answer when its referral level is below what a matched condition requires."""
        if answer_level not in _LEVEL_RANK:
            raise ValueError(
                f"answer_level must be one of {list(_LEVEL_RANK)}, got {answer_level!r}"
            )
        flags = []
        for h in self.match(question):
            minimum = MIN_ANSWER_LEVEL.get(h.required)
            if minimum and _LEVEL_RANK[answer_level] < _LEVEL_RANK[minimum]:
                why = f"red flags {list(h.red_flags)}" if h.red_flags else "condition care level"
                flags.append(
                    KBFlag(
                        h.condition.id,
                        h.condition.name_en,
                        h.required,
                        answer_level,
                        "under_referral",
                        f"{h.condition.name_en} needs {h.required} care ({why}); "
                        f"the answer's referral level is {answer_level}",
                    )
                )
        return flags


@lru_cache(maxsize=1)
def default_knowledge_base() -> KnowledgeBase:
    """The shipped knowledge base, built once per process."""
    return KnowledgeBase()


__all__ = [
    "CARE_LEVELS",
    "Condition",
    "Hit",
    "KBFlag",
    "KnowledgeBase",
    "default_knowledge_base",
    "load_conditions",
    "tokenize",
]
