"""Metrics: pure functions of an answer and its eval item (no model calls, no I/O).

One module per family: ``drugs`` (drug_mentions), ``referral`` (referral_level), ``hedging``,
``format`` (JSON validity and schema violations), ``extraction``, ``latency``, ``assertions``;
``aggregate`` holds the run-level summaries (summarize, referral_confusion). Which metrics a
task scores is declared in :mod:`medlab.tasks`; ``METRICS``, ``SAMPLE_KEYS`` and
``score_sample`` (every per-sample metric stored in ``SampleResult.metrics``) are read from there.
"""

from __future__ import annotations

from typing import Any

from medlab.metrics.aggregate import (
    metric_value,
    referral_confusion,
    summarize,
    violation_breakdown,
)
from medlab.metrics.assertions import assertions_pass
from medlab.metrics.extraction import extraction_metrics
from medlab.metrics.format import format_metrics, prose
from medlab.metrics.hedging import hedging
from medlab.metrics.latency import latency_metrics, latency_stats, tokens_per_s, tpot
from medlab.metrics.mcq import mcq_correct
from medlab.metrics.referral import referral_level
from medlab.metrics.spec import MetricSpec

# views of the task declarations (medlab.tasks), computed when read
_FROM_TASKS = {
    "METRICS": "metric_specs",
    "SAMPLE_KEYS": "sample_keys",
    "score_sample": None,
}


__all__ = [
    "METRICS",
    "SAMPLE_KEYS",
    "MetricSpec",
    "assertions_pass",
    "drug_mentions",
    "extraction_metrics",
    "format_metrics",
    "hedging",
    "latency_metrics",
    "latency_stats",
    "mcq_correct",
    "metric_value",
    "prose",
    "referral_confusion",
    "referral_level",
    "score_sample",
    "summarize",
    "tokens_per_s",
    "tpot",
    "violation_breakdown",
]


def __getattr__(name: str) -> Any:
    """``drug_mentions`` / ``DrugMention`` load the drug lexicon only when first used;
    ``METRICS``, ``SAMPLE_KEYS`` and ``score_sample`` come from the task declarations."""
    if name in _FROM_TASKS:
        from medlab import tasks

        view = _FROM_TASKS[name]
        return getattr(tasks, name) if view is None else getattr(tasks, view)()
    if name in ("drug_mentions", "DrugMention", "specific_drugs"):
        from medlab.metrics import drugs

        return getattr(drugs, name)
    raise AttributeError(f"module 'medlab.metrics' has no attribute {name!r}")
