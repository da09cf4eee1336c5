"""The two intervals every summary number carries, numpy and closed forms only.

- ``bootstrap_ci``: seeded percentile bootstrap interval for a mean or percentile (the same
  resamples and quantiles as ``scipy.stats.bootstrap(method="percentile")``, in numpy).
- ``rate_ci``: Wilson score interval for a rate; unlike the bootstrap it does not collapse to
  [0, 0] when no event was observed (0 of 20 is not proof of a rate of 0).

They live below :mod:`medlab.stats` (which re-exports them and adds the paired tests) so that
:mod:`medlab.metrics.aggregate` can put an interval on every metric without importing upward.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from statistics import NormalDist
from typing import Any

import numpy as np

_STATS: dict[str, Callable[..., Any]] = {
    "mean": np.mean,
    "p50": lambda x, axis=-1: np.percentile(x, 50, axis=axis),
    "p90": lambda x, axis=-1: np.percentile(x, 90, axis=axis),
    "p99": lambda x, axis=-1: np.percentile(x, 99, axis=axis),
}


def _clean(values: Sequence[float] | np.ndarray) -> np.ndarray:
    arr = np.asarray([np.nan if v is None else v for v in values], dtype=float)
    return arr[~np.isnan(arr)]


def bootstrap_ci(
    values: Sequence[float] | np.ndarray,
    stat: str | Callable[..., Any] = "mean",
    confidence: float = 0.95,
    n_resamples: int = 2000,
    seed: int = 0,
) -> tuple[float, float]:
    """Percentile bootstrap interval of ``stat`` over ``values`` (None/NaN dropped).

    Returns (nan, nan) for no values and (v, v) when every value is the same.
    """
    x = _clean(values)
    if x.size == 0:
        return (math.nan, math.nan)
    fn = _STATS[stat] if isinstance(stat, str) else stat
    if x.size == 1 or np.all(x == x[0]):
        v = float(fn(x, axis=-1))
        return (v, v)
    # scipy.stats.bootstrap's percentile method, without importing scipy.stats: one batch of
    # n_resamples index rows drawn from the generator, the statistic per row, two quantiles
    rows = np.random.default_rng(seed).integers(0, x.size, (n_resamples, x.size))
    theta = fn(x[rows], axis=-1)
    alpha = (1 - confidence) / 2
    low, high = np.quantile(theta, [alpha, 1 - alpha])
    return (float(low), float(high))


def rate_ci(values: Sequence[float] | np.ndarray, confidence: float = 0.95) -> tuple[float, float]:
    """Wilson score interval for the share of true values (None/NaN dropped)."""
    x = _clean(values)
    n = x.size
    if n == 0:
        return (math.nan, math.nan)
    # scipy.stats.binomtest(k, n).proportion_ci(method="wilson"): Newcombe (1998), method 3
    k = int(x.sum())
    p, z = k / n, NormalDist().inv_cdf(0.5 + 0.5 * confidence)
    denom = 2 * (n + z**2)
    centre = (2 * n * p + z**2) / denom
    delta = z / denom * math.sqrt(4 * n * p * (1 - p) + z**2)
    return (0.0 if k == 0 else centre - delta, 1.0 if k == n else centre + delta)
