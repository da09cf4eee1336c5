"""Multiple choice: an exam question with options and a gold ``answer`` (one letter or
several), answered in the ``mcq`` schema; public sets (CMB, CMExam, MedQA, PubMedQA) load as
this task (:mod:`medlab.evalsets_public`).

An answer is a letter: it is scored on its format, the item's assertions (if any) and
correctness; the drug, referral and hedging scorers of the consultation tasks do not apply
(their columns stay None, their rates leave it out)."""

from __future__ import annotations

from typing import Any

from medlab.metrics.mcq import mcq_correct
from medlab.metrics.spec import rate
from medlab.tasks.base import Answer, Scorer, Task
from medlab.tasks.common import ASSERTIONS, FORMAT, RUN_SCORERS
from medlab.types import EvalItem


def _score(item: EvalItem, answer: Answer) -> dict[str, Any]:
    """The JSON ``answer`` field when the answer was asked for JSON and parsed, else the
    letters its text states."""
    value = answer.value if answer.schema is not None and answer.value is not None else answer.text
    return {"mcq_correct": mcq_correct(value, (item.gold or {}).get("answer"))}


MCQ = Scorer("mcq", ("mcq_correct",), _score, (
    rate("mcq_accuracy", "mcq_correct", "higher", chart=True,
         description="picks the right option(s)"),
))  # fmt: skip

TASK = Task(
    "mcq",
    label_fields=("answer",),
    scorers=(FORMAT, ASSERTIONS, MCQ, *RUN_SCORERS),
    answer_schema="mcq",
    label=lambda record, field: (
        (record.get("gold") or {}).get("answer") if field == "answer" else record.get(field)
    ),
    description="multiple-choice exam questions",
)
