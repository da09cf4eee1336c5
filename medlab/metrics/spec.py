"""``MetricSpec``: how one summary metric is read from the per-sample columns and shown.

Specs are declared by the task that scores them (:mod:`medlab.tasks`); aggregation
(:mod:`medlab.metrics.aggregate`), statistics, charts and the report read them.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Literal


@dataclass(frozen=True)
class MetricSpec:
    name: str  # the summary metric: "hedging_rate", "latency_s_p90"
    column: str  # per-sample column in SampleResult.metrics / samples_frame
    kind: Literal["binary", "continuous"]
    better: Literal["lower", "higher"] | None  # None: descriptive only
    stat: str = "mean"  # "mean" | "p50" | "p90" | "p99"
    failure: str | None = None  # report label of a sample whose column equals ``failure_if``
    failure_if: bool = True
    chart: bool = False  # one of the rate panels of ``charts.metric_bars``
    description: str = ""  # what a counted sample does, in words ("names a made-up drug")


def rate(
    name: str, column: str, better: Literal["lower", "higher"] | None, **kw: Any
) -> MetricSpec:
    """A binary rate: the share of True among the samples where ``column`` is not None."""
    return MetricSpec(name, column, "binary", better, **kw)
