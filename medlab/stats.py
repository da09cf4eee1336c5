"""Statistics for prompt A/B tests: intervals on every number, paired tests on the same items.

- ``bootstrap_ci``, ``rate_ci``: the percentile bootstrap and Wilson intervals of
  :mod:`medlab.metrics.intervals` (re-exported here; the summary of a run uses them too).
- ``mcnemar_exact``: exact McNemar test (binomial test on the discordant pairs) for binary
  metrics of two variants answering the same items.
- ``paired_bootstrap``: paired difference of means with a bootstrap interval and a paired
  permutation-test p-value (scipy.stats.permutation_test) for continuous metrics.
- ``holm``: Holm step-down correction across the metrics of one comparison.
- ``min_detectable_effect``: the smallest difference in a rate a set of n items can detect.
- ``compare(run, a, b)``: all of the above for every metric of a run.

``scipy.stats`` is imported by the tests that need it, not with the module: it costs ~0.6 s of
CPU, and a run's summary (``bootstrap_ci``, ``rate_ci``) is numpy and closed forms only.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from statistics import NormalDist
from typing import TYPE_CHECKING, Any

import numpy as np

from medlab.metrics.intervals import bootstrap_ci, rate_ci

if TYPE_CHECKING:
    import pandas as pd

    from medlab.records import RunResult

__all__ = ["bootstrap_ci", "compare", "holm", "mcnemar_exact", "min_detectable_effect",
           "paired_bootstrap", "rate_ci"]  # fmt: skip


def mcnemar_exact(a: Sequence[bool], b: Sequence[bool]) -> dict[str, float]:
    """Exact McNemar test on paired binary outcomes (two-sided).

    ``b_only``: pairs where only B is true; ``a_only``: only A. Under H0 the discordant
    pairs split 50/50, so p is a binomial test of a_only out of a_only + b_only.
    """
    av, bv = np.asarray(a, dtype=bool), np.asarray(b, dtype=bool)
    if av.shape != bv.shape:
        raise ValueError(f"paired vectors differ in length: {av.size} vs {bv.size}")
    a_only = int(np.sum(av & ~bv))
    b_only = int(np.sum(~av & bv))
    n_disc = a_only + b_only
    if n_disc == 0:
        return {"a_only": a_only, "b_only": b_only, "p": 1.0}
    from scipy import stats as sps

    p = float(sps.binomtest(a_only, n_disc, 0.5).pvalue)
    return {"a_only": a_only, "b_only": b_only, "p": p}


def paired_bootstrap(
    a: Sequence[float],
    b: Sequence[float],
    confidence: float = 0.95,
    n_resamples: int = 2000,
    seed: int = 0,
) -> dict[str, float]:
    """Mean of the paired differences ``b - a`` with a bootstrap interval and a two-sided
    paired permutation p-value (sign flips of the differences)."""
    av, bv = np.asarray(a, dtype=float), np.asarray(b, dtype=float)
    if av.shape != bv.shape:
        raise ValueError(f"paired vectors differ in length: {av.size} vs {bv.size}")
    d = bv - av
    d = d[~np.isnan(d)]
    if d.size == 0:
        return {"diff": math.nan, "ci_low": math.nan, "ci_high": math.nan, "p": math.nan}
    low, high = bootstrap_ci(d, "mean", confidence, n_resamples, seed)
    if np.all(d == 0) or d.size == 1:  # one pair: its two sign flips tie, so p = 1
        p = 1.0
    else:
        from scipy import stats as sps

        res = sps.permutation_test(
            (d,),
            lambda x, axis=-1: np.mean(x, axis=axis),
            permutation_type="samples",
            n_resamples=n_resamples,
            vectorized=True,
            alternative="two-sided",
            rng=np.random.default_rng(seed),
        )
        p = float(res.pvalue)
    return {"diff": float(d.mean()), "ci_low": low, "ci_high": high, "p": p}


def holm(pvalues: Sequence[float]) -> np.ndarray:
    """Holm step-down adjusted p-values (NaN stays NaN and does not count as a test)."""
    p = np.asarray(pvalues, dtype=float)
    out = np.full_like(p, np.nan)
    ok = np.flatnonzero(~np.isnan(p))
    m = ok.size
    if m == 0:
        return out
    order = ok[np.argsort(p[ok], kind="stable")]
    running = 0.0
    for rank, idx in enumerate(order):
        running = max(running, min(1.0, (m - rank) * p[idx]))
        out[idx] = running
    return out


def min_detectable_effect(
    n: int, baseline: float = 0.5, alpha: float = 0.05, power: float = 0.8
) -> float:
    """Smallest absolute difference in a rate detectable between two variants on ``n`` items
    each (two-sided normal approximation). Paired designs with correlated answers detect
    smaller effects, so this is a conservative guide to a set's resolution."""
    if n <= 0:
        return math.nan
    z = NormalDist().inv_cdf(1 - alpha / 2) + NormalDist().inv_cdf(power)
    return float(z * math.sqrt(2 * baseline * (1 - baseline) / n))


def _paired_frame(
    samples: pd.DataFrame, a: str, b: str, keep: Callable[[pd.DataFrame], pd.DataFrame]
) -> pd.DataFrame:
    """Rows of ``a`` and ``b`` side by side per item; ``keep`` filters the rows after the
    variants are checked (a variant whose every sample failed is in the run, with no pairs)."""
    keys = ["eval_set", "item_id", "repeat"]
    missing = [v for v in (a, b) if v not in set(samples["variant"])]
    if missing:
        raise ValueError(
            f"variant(s) {missing} not in this run; it has {sorted(set(samples['variant']))}"
        )
    samples = keep(samples)
    left = samples[samples["variant"] == a].set_index(keys)
    right = samples[samples["variant"] == b].set_index(keys)
    return left.merge(
        right, how="inner", left_index=True, right_index=True, suffixes=("__a", "__b")
    )


def compare(
    run: RunResult | pd.DataFrame,
    a: str,
    b: str,
    metrics: Sequence[str] | None = None,
    alpha: float = 0.05,
    n_resamples: int = 2000,
    seed: int = 0,
) -> pd.DataFrame:
    """Paired comparison of variants ``a`` and ``b`` on the items both answered.

    One row per metric: metric, a, b, diff (b - a), ci_low, ci_high, p, p_holm, significant,
    n (paired items), test, better (which variant the difference favours, if significant).
    Latency metrics skip pairs where either answer came from the cache. With several repeats
    the unit is the item: each item's repeats are averaged per variant and compared with the
    paired permutation test (McNemar assumes independent pairs, which repeats are not).
    """
    import pandas as pd

    from medlab.metrics import METRICS
    from medlab.metrics.aggregate import LATENCY_COLUMNS, scored

    samples = run if isinstance(run, pd.DataFrame) else run.samples
    paired = _paired_frame(samples, a, b, keep=scored)
    rows = []
    for name, spec in METRICS.items():
        if spec.stat != "mean" or (metrics is not None and name not in metrics):
            continue
        ca, cb = f"{spec.column}__a", f"{spec.column}__b"
        if ca not in paired or cb not in paired:
            continue
        sub = paired[[ca, cb]].copy()
        if spec.column in LATENCY_COLUMNS and "cached__a" in paired:
            sub = sub[~(paired["cached__a"].astype(bool) | paired["cached__b"].astype(bool))]
        sub = sub.dropna().astype(float)
        repeated = sub.index.get_level_values("repeat").nunique() > 1
        if repeated:  # repeats of one item are not independent: the item is the unit
            sub = sub.groupby(level=["eval_set", "item_id"]).mean()
        n = len(sub)
        if n == 0:
            continue
        va, vb = sub[ca].to_numpy(), sub[cb].to_numpy()
        pb = paired_bootstrap(va, vb, n_resamples=n_resamples, seed=seed)
        if spec.kind == "binary" and not repeated:
            test, p = "mcnemar_exact", mcnemar_exact(va > 0.5, vb > 0.5)["p"]
        else:
            test, p = "paired_permutation", pb["p"]
        rows.append(
            {
                "metric": name,
                "a": float(va.mean()),
                "b": float(vb.mean()),
                "diff": pb["diff"],
                "ci_low": pb["ci_low"],
                "ci_high": pb["ci_high"],
                "p": p,
                "n": n,
                "test": test,
                "_better": spec.better,
            }
        )
    cols = ["metric", "a", "b", "diff", "ci_low", "ci_high", "p", "p_holm", "significant", "n",
            "test", "better"]  # fmt: skip
    if not rows:
        return pd.DataFrame(columns=cols)
    df = pd.DataFrame(rows)
    df["p_holm"] = holm(df["p"].to_numpy())
    df["significant"] = df["p_holm"] < alpha
    df["better"] = [_favours(r, a, b) for r in df.to_dict("records")]
    return df[cols]


def _favours(row: dict[str, Any], a: str, b: str) -> str | None:
    if not row["significant"] or row["_better"] is None or row["diff"] == 0:
        return None
    b_higher = row["diff"] > 0
    return b if b_higher == (row["_better"] == "higher") else a
