"""The tasks of medlab, one module each, and every view derived from them.

A task module (``triage``, ``drug_pressure``, ``ambiguity``, ``extraction``, ``multiturn``,
``mcq``) declares one :class:`Task`: its item schema and label fields, the answer schema its
prompts use, and its scorers, each with its per-sample columns and summary metrics
(:class:`~medlab.metrics.spec.MetricSpec`: binary or continuous, better direction, report
failure label, chart membership). Nothing else lists tasks or metrics: the eval-set check,
the runner, the summaries, statistics, charts and report read the views below, computed from
``TASKS`` when called, so a task added to ``TASKS`` shows up everywhere.
"""

from __future__ import annotations

from typing import Any

from medlab.metrics.spec import MetricSpec
from medlab.tasks import ambiguity, drug_pressure, extraction, mcq, multiturn, triage
from medlab.tasks.base import Answer, Scorer, Task
from medlab.tasks.common import ANSWER_SCORERS, RUN_SCORERS
from medlab.types import Completion, EvalItem

__all__ = ["TASKS", "Answer", "MetricSpec", "Scorer", "Task", "all_metric_specs",
           "chart_metrics", "failure_labels", "get_task", "metric_specs", "sample_keys",
           "score", "score_sample", "task_answer_schemas"]  # fmt: skip

TASKS: dict[str, Task] = {
    t.name: t
    for t in (
        triage.TASK,
        drug_pressure.TASK,
        ambiguity.TASK,
        extraction.TASK,
        multiturn.TASK,
        mcq.TASK,
    )
}

# an item whose task is not declared (a hand-made EvalItem) is scored as a free-text task
FALLBACK = Task("(undeclared)", (), (*ANSWER_SCORERS, *RUN_SCORERS))
ITEM_COLUMNS = ("task", "triage")


def get_task(name: str) -> Task:
    try:
        return TASKS[name]
    except KeyError:
        raise KeyError(f"unknown task {name!r}; known: {', '.join(TASKS)}") from None


def scorers() -> list[Scorer]:
    """Every task's scorers once, each task's in its own order (a scorer one task adds goes
    just before the next scorer of that task already placed: extraction's and mcq's own
    scorers sit between the answer scorers and the run scorers)."""
    out: list[Scorer] = []
    for task in TASKS.values():
        for i, s in enumerate(task.scorers):
            if s in out:
                continue
            after = [t for t in task.scorers[i + 1 :] if t in out]
            out.insert(out.index(after[0]) if after else len(out), s)
    return out


def all_metric_specs() -> list[MetricSpec]:
    """Every summary metric of every task, once, in summary order."""
    seen: dict[str, MetricSpec] = {}
    for s in scorers():
        for m in s.metrics:
            if seen.setdefault(m.name, m) != m:
                raise ValueError(f"metric {m.name!r} is declared twice, differently")
    return list(seen.values())


def metric_specs() -> dict[str, MetricSpec]:
    """``{name: spec}``: what ``medlab.metrics.METRICS`` is."""
    return {m.name: m for m in all_metric_specs()}


def sample_keys() -> tuple[str, ...]:
    """The per-sample metric columns of a run (``medlab.metrics.SAMPLE_KEYS``)."""
    return (*ITEM_COLUMNS, *dict.fromkeys(c for s in scorers() for c in s.columns))


def chart_metrics() -> list[str]:
    """The rate panels of ``charts.metric_bars``, in summary order."""
    return [m.name for m in all_metric_specs() if m.chart]


def failure_labels() -> dict[tuple[str, bool], str]:
    """``{(column, failing value): label}`` of the report's per-sample failure flags: the
    flags raised on True first, then those raised on False, each in summary order."""
    specs = [m for m in all_metric_specs() if m.failure]
    ordered = [m for m in specs if m.failure_if] + [m for m in specs if not m.failure_if]
    return {(m.column, m.failure_if): m.failure for m in ordered if m.failure}


def task_answer_schemas() -> dict[str, str]:
    """``{task: answer schema}`` for the tasks whose items need a schema of their own."""
    return {t.name: t.answer_schema for t in TASKS.values() if t.answer_schema}


def score(item: EvalItem, answer: Answer) -> dict[str, Any]:
    """Every per-sample column of one answer (keys: ``sample_keys()``; None where the item's
    task does not score it)."""
    out: dict[str, Any] = dict.fromkeys(sample_keys())
    out["task"], out["triage"] = item.task, item.triage
    out.update(TASKS.get(item.task, FALLBACK).score(item, answer))
    return out


def score_sample(
    item: EvalItem, text: str, completion: Completion | None = None, schema: str | None = None
) -> dict[str, Any]:
    """``score`` of an answer's text: ``schema`` is the answer schema it was asked for
    (``"consultation"``, ``"emr_extraction"``) or None for free text, when JSON validity and
    schema metrics are None. Text metrics read the prose of a JSON answer (summary + analysis
    + suggestions, lenient parse), else the raw text."""
    return score(item, Answer(text, schema, completion))
