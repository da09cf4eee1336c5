"""Aggregates over many scored answers: the summary metrics of a run with n and confidence
intervals, the referral confusion matrix, and the violation breakdown.

``METRICS`` maps each summary metric name to its :class:`~medlab.metrics.spec.MetricSpec`
(the per-sample column it reads, binary rate or continuous value, better direction, statistic),
as the tasks declare them (:mod:`medlab.tasks`).
Binary rates skip rows where the metric does not apply (None) and report the n they used;
latency metrics skip answers served from the cache. Intervals (:mod:`medlab.metrics.intervals`):
Wilson score interval for rates (``rate_ci``: it does not collapse to [0, 0] when no event was
seen), seeded percentile bootstrap (``bootstrap_ci``) for continuous metrics.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from medlab.levels import REFERRAL_LEVELS, TRIAGE_LEVELS
from medlab.metrics.spec import MetricSpec

if TYPE_CHECKING:
    import pandas as pd

    from medlab.types import SampleResult

TRIAGE_ROWS = TRIAGE_LEVELS
LEVEL_COLS = REFERRAL_LEVELS
LATENCY_COLUMNS = frozenset({"ttft_s", "tpot_s", "latency_s", "tokens_per_s"})
SUMMARY_COLUMNS = ["metric", "value", "ci_low", "ci_high", "n"]


def _metrics() -> dict[str, MetricSpec]:
    """``{name: spec}`` of every summary metric, as the tasks declare them now."""
    from medlab.tasks import metric_specs

    return metric_specs()


def __getattr__(name: str) -> Any:
    if name == "METRICS":  # read from the task declarations (medlab.tasks) when asked for
        return _metrics()
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def _values(samples: pd.DataFrame, spec: MetricSpec):
    """The metric's usable values as floats (None/NaN dropped; cached rows dropped for latency)."""
    import pandas as pd

    if spec.column not in samples:
        return pd.Series([], dtype=float).to_numpy()
    rows = samples
    if spec.column in LATENCY_COLUMNS and "cached" in rows:
        rows = rows[~rows["cached"].fillna(False).astype(bool)]
    vals = pd.to_numeric(rows[spec.column].astype(object), errors="coerce")
    return vals.dropna().to_numpy(dtype=float)


def metric_value(samples: pd.DataFrame, name: str) -> tuple[float, float, float, int]:
    """(value, ci_low, ci_high, n) of one summary metric over ``samples``."""
    spec = _metrics()[name]
    return _estimate(_values(samples, spec), spec)


def _estimate(x, spec: MetricSpec) -> tuple[float, float, float, int]:
    """(value, ci_low, ci_high, n) of a metric from its usable values (a float array)."""
    import numpy as np

    from medlab.metrics.intervals import bootstrap_ci, rate_ci

    if x.size == 0:
        return (math.nan, math.nan, math.nan, 0)
    if spec.stat == "mean":
        value = float(x.mean())
    else:
        value = float(np.percentile(x, float(spec.stat[1:])))
    low, high = rate_ci(x) if spec.kind == "binary" else bootstrap_ci(x, stat=spec.stat)
    return (value, low, high, int(x.size))


def scored(samples: pd.DataFrame) -> pd.DataFrame:
    """The rows that hold an answer: error samples (a failed generation) are left out of every
    summary, comparison and chart, so they can never pull a rate or a latency towards 0."""
    if "error" not in samples or not len(samples):
        return samples
    return samples[samples["error"].isna()]


def summarize(
    samples: pd.DataFrame, by: Sequence[str] = ("variant",), metrics: Sequence[str] | None = None
) -> pd.DataFrame:
    """Long table: one row per group x metric with columns [*by, metric, value, ci_low,
    ci_high, n]. Every metric appears for every group (value NaN and n 0 where nothing applies);
    an empty frame gives an empty table."""
    import pandas as pd

    by = list(by)
    missing = [c for c in by if c not in samples]
    if missing and len(samples):
        raise KeyError(f"summarize: group column(s) {missing} not in samples")
    specs = _metrics()
    names = list(metrics) if metrics is not None else list(specs)
    unknown = [n for n in names if n not in specs]
    if unknown:
        raise KeyError(f"summarize: unknown metric(s) {unknown}; known: {sorted(specs)}")
    rows = []
    if len(samples):  # grouped before error samples are dropped: a variant whose every
        # generation failed still shows, with n = 0
        groups = samples.groupby(by, sort=True, dropna=False) if by else [((), samples)]
        for key, part in groups:
            key = key if isinstance(key, tuple) else (key,)
            part = scored(part)
            for name in names:
                rows.append((*key, name, *_estimate(_values(part, specs[name]), specs[name])))
    return pd.DataFrame(rows, columns=[*by, *SUMMARY_COLUMNS])


_COMPLETION_COLUMNS = ("prompt_tokens", "completion_tokens", "ttft_s", "latency_s")


def _number(v: object) -> float | None:
    """What ``pd.to_numeric(errors="coerce")`` makes of one cell: a float, or None for NaN."""
    if isinstance(v, str):
        try:
            v = float(v)
        except ValueError:
            return None
    try:
        f = float(v)  # type: ignore[arg-type]  # bools, ints, floats, numpy scalars
    except (TypeError, ValueError):
        return None
    return None if math.isnan(f) else f


def summary_records(
    records: Sequence[SampleResult], metrics: Sequence[str] | None = None
) -> list[dict[str, object]]:
    """``summarize(samples_frame(records)).to_dict("records")`` (grouped by variant), read
    straight from the records: what a run writes to results.json at its end, without importing
    pandas (~0.3 s of CPU, more than the rest of the summary)."""
    import numpy as np

    specs = _metrics()
    names = list(metrics) if metrics is not None else list(specs)
    by_variant: dict[str, list[SampleResult]] = {}
    for r in records:
        by_variant.setdefault(r.variant, []).append(r)
    rows: list[dict[str, object]] = []
    for variant in sorted(by_variant):
        scored_rows = [r for r in by_variant[variant] if r.error is None]
        for name in names:
            spec = specs[name]
            values = []
            for r in scored_rows:
                if spec.column in LATENCY_COLUMNS and r.completion.cached:
                    continue
                if spec.column in _COMPLETION_COLUMNS:  # as samples_frame: the completion's own
                    cell = getattr(r.completion, spec.column)
                else:
                    cell = (r.metrics or {}).get(spec.column)
                if (v := _number(cell)) is not None:
                    values.append(v)
            value, low, high, n = _estimate(np.asarray(values, dtype=float), spec)
            rows.append({"variant": variant, "metric": name, "value": value, "ci_low": low,
                         "ci_high": high, "n": n})  # fmt: skip
    return rows


def referral_confusion(samples: pd.DataFrame) -> pd.DataFrame:
    """Counts of gold triage (rows: emergency, urgent, routine, self_care) x detected answer
    level (columns: emergency, routine, conditional, none) over rows with a gold triage."""
    import pandas as pd

    table = pd.DataFrame(0, index=list(TRIAGE_ROWS), columns=list(LEVEL_COLS), dtype=int)
    samples = scored(samples)
    if len(samples) == 0 or "triage" not in samples or "referral_level" not in samples:
        return table.rename_axis(index="triage", columns="referral_level")
    for gold, level in zip(samples["triage"], samples["referral_level"]):
        if gold in table.index and level in table.columns:
            table.loc[gold, level] += 1
    return table.rename_axis(index="triage", columns="referral_level")


def violation_breakdown(samples: pd.DataFrame, by: Sequence[str] = ("variant",)) -> pd.DataFrame:
    """[*by, violation, count, n, rate]: how many scored answers (``schema_valid`` not None)
    have each violation code, most frequent first."""
    import pandas as pd

    by = list(by)
    cols = [*by, "violation", "count", "n", "rate"]
    if len(samples) == 0 or "violations" not in samples:
        return pd.DataFrame(columns=cols)
    scored = samples[samples["schema_valid"].notna()] if "schema_valid" in samples else samples
    rows = []
    groups = scored.groupby(by, sort=True, dropna=False) if by else [((), scored)]
    for key, part in groups:
        key = key if isinstance(key, tuple) else (key,)
        counts: dict[str, int] = {}
        for codes in part["violations"]:
            for code in set(codes or []):
                counts[code] = counts.get(code, 0) + 1
        for code, count in sorted(counts.items(), key=lambda kv: (-kv[1], kv[0])):
            rows.append((*key, code, count, len(part), count / len(part)))
    return pd.DataFrame(rows, columns=cols)
