"""Extraction: a medical record (``question``, ``record_chars`` long) to extract into the
``emr_extraction`` schema, scored against ``gold`` age, diagnosis and key findings
(:mod:`medlab.metrics.extraction`).

An answer is JSON fields copied from a record, not advice: it is scored on its format, the
item's assertions (if any) and the fields; the drug, referral and hedging scorers of the
consultation tasks do not apply (their columns stay None, their rates leave it out)."""

from __future__ import annotations

from typing import Any

from medlab.metrics.extraction import extraction_metrics
from medlab.metrics.spec import MetricSpec, rate
from medlab.tasks.base import Answer, Scorer, Task, field_label
from medlab.tasks.common import ASSERTIONS, FORMAT, RUN_SCORERS
from medlab.types import EvalItem


def _score(item: EvalItem, answer: Answer) -> dict[str, Any]:
    return {**extraction_metrics(answer.value, item.gold), "record_chars": len(item.question)}


EXTRACTION = Scorer(
    "extraction",
    ("age_correct", "diagnosis_correct", "findings_recall", "record_chars"),
    _score,
    (
        rate("extraction_age_acc", "age_correct", "higher", description="extracts the right age"),
        rate(
            "extraction_diagnosis_acc",
            "diagnosis_correct",
            "higher",
            description="extracts the right diagnosis",
        ),
        MetricSpec("extraction_findings_recall", "findings_recall", "continuous", "higher"),
    ),
)


def length_band(n: int) -> str:
    return "<2k" if n < 2000 else "2k-10k" if n < 10000 else "10k-25k" if n < 25000 else ">=25k"


def _label(record: dict[str, Any], field: str) -> Any:
    return length_band(record["record_chars"]) if field == "length" else field_label(record, field)


TASK = Task(
    "extraction",
    label_fields=("length",),
    scorers=(FORMAT, ASSERTIONS, EXTRACTION, *RUN_SCORERS),
    answer_schema="emr_extraction",
    label=_label,
    description="structured extraction from medical records",
)
