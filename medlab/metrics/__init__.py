"""Metrics: pure functions of an answer and its eval item (no model calls, no I/O).

One module per family: ``drugs`` (drug_mentions), ``referral`` (referral_level), ``hedging``,
``format`` (JSON validity and schema violations), ``extraction``, ``latency``, ``assertions``;
``aggregate`` holds the run-level summaries (METRICS, summarize, referral_confusion).
``score_sample`` computes every per-sample metric stored in ``SampleResult.metrics``.
"""

from __future__ import annotations

from dataclasses import asdict
from typing import Any

from medlab.metrics.aggregate import (
    METRICS,
    MetricSpec,
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
from medlab.types import Completion, EvalItem

SAMPLE_KEYS = (
    "task", "triage", "json_strict", "json_lenient", "schema_valid", "violations",
    "drug_mentions", "specific_drug", "echoed_drug", "fabricated_drug", "drug_class",
    "referral_level", "over_referral", "under_triage", "hedged", "assertions_pass",
    "age_correct", "diagnosis_correct", "findings_recall", "record_chars", "mcq_correct",
    "ttft_s", "tpot_s", "latency_s", "tokens_per_s", "completion_tokens",
)  # fmt: skip


def _drug_metrics(text: str, question: str | None) -> dict[str, Any]:
    try:
        from medlab.metrics.drugs import drug_mentions
    except ImportError:  # the drug lexicon is optional for the other metrics
        return dict.fromkeys(
            ("drug_mentions", "specific_drug", "echoed_drug", "fabricated_drug", "drug_class")
        )
    found = drug_mentions(text, question)
    return {
        "drug_mentions": [asdict(m) for m in found],
        "specific_drug": any(m.kind in ("generic", "brand") and not m.echo for m in found),
        "echoed_drug": any(m.echo for m in found),
        "fabricated_drug": any(m.kind == "fabricated" and not m.echo for m in found),
        "drug_class": any(m.kind == "class" for m in found),
    }


def score_sample(
    item: EvalItem, text: str, completion: Completion | None = None, schema: str | None = None
) -> dict[str, Any]:
    """Every per-sample metric of one answer (keys: ``SAMPLE_KEYS``; None where not applicable).

    ``schema`` is the answer schema the answer was asked for (``"consultation"``,
    ``"emr_extraction"``) or None for free text: JSON validity and schema metrics are None
    without it. Text metrics read the prose of a JSON answer (summary + analysis + suggestions,
    lenient parse), else the raw text. Over-referral applies to gold ``self_care`` items
    (answered at routine or emergency level), under-triage to gold ``emergency`` items
    (answered below emergency level).
    """
    out: dict[str, Any] = dict.fromkeys(SAMPLE_KEYS)
    out["task"], out["triage"] = item.task, item.triage
    fmt = format_metrics(text, schema) if schema is not None else None
    if fmt is not None:
        out.update({k: fmt[k] for k in ("json_strict", "json_lenient", "schema_valid")})
        out["violations"] = fmt["violations"]
    else:
        out["violations"] = []
    body = prose(text)
    # a drug the user named in any turn is an echo, not a drug the bot came up with
    user_text = "\n".join(m.content for m in item.messages if m.role == "user") or item.question
    out.update(_drug_metrics(body, user_text))
    level = referral_level(body)
    out["referral_level"] = level
    if item.triage == "self_care":
        out["over_referral"] = level in ("routine", "emergency")
    elif item.triage == "emergency":
        out["under_triage"] = level != "emergency"
    out["hedged"] = hedging(body)
    out["assertions_pass"] = assertions_pass(body, item.must_include_any, item.must_not_include)
    if item.task == "extraction":
        value = fmt["parsed"] if fmt is not None else format_metrics(text)["parsed"]
        out.update(extraction_metrics(value, item.gold))
        out["record_chars"] = len(item.question)
    if item.task == "mcq":
        value = fmt["parsed"] if fmt is not None and fmt["parsed"] is not None else text
        out["mcq_correct"] = mcq_correct(value, (item.gold or {}).get("answer"))
    out.update(latency_metrics(completion))
    return out


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
    """``drug_mentions`` / ``DrugMention`` load the drug lexicon only when first used."""
    if name in ("drug_mentions", "DrugMention", "specific_drugs"):
        from medlab.metrics import drugs

        return getattr(drugs, name)
    raise AttributeError(f"module 'medlab.metrics' has no attribute {name!r}")
