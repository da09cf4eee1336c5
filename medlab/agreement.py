"""How far each grader can be trusted: agreement between the rule detectors, the judge model
and human reviewers on the quantities two or more of them label.

- ``cohen_kappa(a, b)``: Cohen's kappa of two raters; ``fleiss_kappa(table)``: Fleiss' kappa of
  several raters from an items x categories count table. Both are the textbook formulas (a few
  lines each, checked against published worked examples in the tests).
- ``kappa_ci``: seeded percentile bootstrap over the rated units.
- ``run_labels(run)``: a long table [unit, quantity, rater, label] of every label a run holds:
  ``rules`` (the detectors' per-sample metrics), ``judge`` (verdicts of the current grader) and
  ``reviewer:<name>`` (the latest review of each reviewer, ``reviews.jsonl``).
- ``agreement(run)``: for every quantity labelled by two or more raters, Cohen's kappa of each
  pair and, with more than two raters, Fleiss' kappa over the units all of them labelled; with
  intervals, observed agreement and n. ``confusion(run, quantity, a, b)``: the cross-table.

Quantities: ``referral_level`` (4 levels), ``emergency_referral``, ``specific_drug``,
``hedged`` (binary) and ``criterion`` / ``criterion:<tag>`` (each rubric criterion's met / not
met, pooled over the criteria, and per tag).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from itertools import combinations
from typing import TYPE_CHECKING, Any

import numpy as np

from medlab.lazy import callable_module

if TYPE_CHECKING:
    import pandas as pd

    from medlab.records import RunResult

KAPPA_COLUMNS = ["quantity", "raters", "method", "n", "kappa", "ci_low", "ci_high", "agreement"]


def cohen_kappa(a: Sequence[Any], b: Sequence[Any]) -> float:
    """(p_o - p_e) / (1 - p_e) over paired labels; NaN when chance agreement is 1 (both raters
    used one and the same category) or there are no pairs."""
    if len(a) != len(b):
        raise ValueError(f"paired labels differ in length: {len(a)} vs {len(b)}")
    n = len(a)
    if n == 0:
        return math.nan
    cats = sorted({*a, *b}, key=str)
    idx = {c: i for i, c in enumerate(cats)}
    m = np.zeros((len(cats), len(cats)))
    for x, y in zip(a, b):
        m[idx[x], idx[y]] += 1
    p_o = np.trace(m) / n
    p_e = float((m.sum(1) / n) @ (m.sum(0) / n))
    return math.nan if p_e >= 1 else float((p_o - p_e) / (1 - p_e))


def fleiss_kappa(table: np.ndarray | Sequence[Sequence[int]]) -> float:
    """Fleiss' kappa from an items x categories table of counts (every row sums to the same
    number of raters, at least 2)."""
    t = np.asarray(table, dtype=float)
    if t.ndim != 2 or t.shape[0] == 0:
        return math.nan
    r = t.sum(1)
    if not np.all(r == r[0]) or r[0] < 2:
        raise ValueError("every item needs the same number of raters (at least 2)")
    n_items, k = t.shape[0], r[0]
    p_j = t.sum(0) / (n_items * k)
    p_i = ((t * t).sum(1) - k) / (k * (k - 1))
    p_bar, p_e = p_i.mean(), float((p_j**2).sum())
    return math.nan if p_e >= 1 else float((p_bar - p_e) / (1 - p_e))


def _fleiss_from_labels(rows: list[tuple[Any, ...]]) -> float:
    cats = sorted({x for r in rows for x in r}, key=str)
    table = [[r.count(c) for c in cats] for r in rows]
    return fleiss_kappa(table)


def kappa_ci(
    rows: list[tuple[Any, ...]], n_resamples: int = 1000, confidence: float = 0.95, seed: int = 0
) -> tuple[float, float]:
    """Bootstrap interval (units resampled) of Cohen's kappa (two labels per row) or Fleiss'
    kappa (more); resamples where kappa is undefined are left out."""
    if len(rows) < 2:
        return (math.nan, math.nan)
    rng = np.random.default_rng(seed)
    stat = (lambda rs: cohen_kappa([r[0] for r in rs], [r[1] for r in rs])) if len(rows[0]) == 2 \
        else _fleiss_from_labels  # fmt: skip
    vals = []
    for _ in range(n_resamples):
        v = stat([rows[i] for i in rng.integers(0, len(rows), len(rows))])
        if not math.isnan(v):
            vals.append(v)
    if not vals:
        return (math.nan, math.nan)
    alpha = (1 - confidence) / 2
    return (float(np.quantile(vals, alpha)), float(np.quantile(vals, 1 - alpha)))


# ---------------------------------------------------------------- the labels a run holds
def _rules(run: RunResult) -> list[tuple[Any, str, Any]]:
    out = []
    for r in run.records:
        if r.error is not None:
            continue
        m, u = r.metrics or {}, r.key
        if m.get("referral_level") is not None:
            out.append((u, "referral_level", m["referral_level"]))
            out.append((u, "emergency_referral", m["referral_level"] == "emergency"))
        if m.get("specific_drug") is not None:
            out.append((u, "specific_drug", bool(m["specific_drug"])))
        if m.get("hedged") is not None:
            out.append((u, "hedged", bool(m["hedged"])))
    return out


def judge_quantities(verdicts: list[dict[str, Any]]) -> dict[str, bool]:
    """What a sample's verdicts say about the detector quantities: an emergency referral (a
    positive ``emergency_referral`` criterion met), a specific drug (a negative
    ``no_specific_drug`` criterion met), a hedged diagnosis (a positive ``hedged_diagnosis``
    criterion met). A quantity is absent when no criterion speaks to it or one failed."""
    out: dict[str, bool] = {}
    rules = [
        ("emergency_referral", "emergency_referral", 1),
        ("specific_drug", "no_specific_drug", -1),
        ("hedged", "hedged_diagnosis", 1),
    ]
    for quantity, tag, sign in rules:
        vs = [v for v in verdicts if tag in v["tags"] and v["points"] * sign > 0]
        if vs and all(v["met"] is not None for v in vs):
            out[quantity] = any(v["met"] for v in vs)
    return out


def _judge(run: RunResult) -> list[tuple[Any, str, Any]]:
    from medlab.judgements import current_verdicts, read_judgements, text_sha256

    judged = run.manifest.judge if run.manifest else None
    if judged is None or not judged.fingerprint:
        return []
    verdicts = current_verdicts(read_judgements(run.path), judged.fingerprint,
                                judged.prompt_sha256)  # fmt: skip
    out = []
    for r in run.records:
        vs = [v for v in verdicts.get(r.key, []) if v["text_sha256"] == text_sha256(r.text)]
        for q, label in judge_quantities(vs).items():
            out.append((r.key, q, label))
        for v in vs:
            if v["met"] is not None:
                for tag in ("", *v["tags"]):
                    out.append(
                        ((*r.key, v["index"]), f"criterion{':' + tag if tag else ''}", v["met"])
                    )
    return out


def _reviewers(run: RunResult) -> list[tuple[Any, str, str, Any]]:
    from medlab.reviews import latest_reviews

    out = []
    for rev in latest_reviews(run.path).values():
        key = (rev["variant"], rev["eval_set"], rev["item_id"], rev["repeat"])
        rater = f"reviewer:{rev['reviewer']}"
        labels = rev.get("labels") or {}
        for q in ("referral_level", "specific_drug", "hedged"):
            if labels.get(q) is not None:
                out.append((key, q, rater, labels[q]))
        if labels.get("referral_level") is not None:
            out.append((key, "emergency_referral", rater, labels["referral_level"] == "emergency"))
        tags = rev.get("criteria_tags") or []
        for i, met in enumerate(labels.get("criteria") or []):
            if met is not None:
                for tag in ("", *(tags[i] if i < len(tags) else [])):
                    q = f"criterion{':' + tag if tag else ''}"
                    out.append(((*key, i), q, rater, bool(met)))
    return out


def run_labels(run: RunResult | str) -> pd.DataFrame:
    """Every label of the run: [unit, quantity, rater, label] (see the module docstring)."""
    import pandas as pd

    from medlab.records import load_run

    run = load_run(run) if isinstance(run, str) else run
    rows = [(u, q, "rules", x) for u, q, x in _rules(run)]
    rows += [(u, q, "judge", x) for u, q, x in _judge(run)]
    rows += _reviewers(run)
    rows = [("|".join(map(str, u)), q, r, x) for u, q, r, x in rows]
    return pd.DataFrame(rows, columns=["unit", "quantity", "rater", "label"])


def agreement_table(labels: pd.DataFrame, n_resamples: int = 1000, seed: int = 0) -> pd.DataFrame:
    """Kappa rows for a labels table [unit, quantity, rater, label] (see ``agreement``)."""
    import pandas as pd

    rows = []
    for quantity, part in labels.groupby("quantity", sort=False):
        wide = part.drop_duplicates(["unit", "rater"], keep="last").pivot(
            index="unit", columns="rater", values="label"
        )
        raters = [r for r in ("rules", "judge") if r in wide] + sorted(
            r for r in wide if r not in ("rules", "judge")
        )
        if len(raters) < 2:
            continue
        groups = [(f"{a} vs {b}", [a, b]) for a, b in combinations(raters, 2)]
        if len(raters) > 2:
            groups.append((f"all {len(raters)}", raters))
        for name, rs in groups:
            sub = wide[rs].dropna()
            units = [tuple(r) for r in sub.itertuples(index=False)]
            if not units:
                continue
            if len(rs) == 2:
                method, k = "cohen", cohen_kappa([u[0] for u in units], [u[1] for u in units])
            else:
                method, k = "fleiss", _fleiss_from_labels(units)
            low, high = kappa_ci(units, n_resamples=n_resamples, seed=seed)
            agree = float(np.mean([len(set(u)) == 1 for u in units]))
            rows.append((quantity, name, method, len(units), k, low, high, agree))
    return pd.DataFrame(rows, columns=KAPPA_COLUMNS)


def agreement(run: RunResult | str, n_resamples: int = 1000, seed: int = 0) -> pd.DataFrame:
    """For every quantity two or more of {rules, judge, reviewers} label: Cohen's kappa of each
    pair and Fleiss' kappa of all when more than two, with a bootstrap interval, observed
    agreement and the number of units. Columns: ``KAPPA_COLUMNS``."""
    return agreement_table(run_labels(run), n_resamples=n_resamples, seed=seed)


def confusion(run: RunResult | str | pd.DataFrame, quantity: str, a: str, b: str) -> pd.DataFrame:
    """Counts of rater ``a``'s labels (rows) x rater ``b``'s (columns) on the units both labelled."""
    import pandas as pd

    labels = run if isinstance(run, pd.DataFrame) else run_labels(run)
    part = labels[(labels["quantity"] == quantity) & labels["rater"].isin([a, b])]
    wide = part.drop_duplicates(["unit", "rater"], keep="last").pivot(
        index="unit", columns="rater", values="label"
    )
    if a not in wide or b not in wide:
        return pd.DataFrame()
    wide = wide[[a, b]].dropna()
    return pd.crosstab(wide[a].astype(str), wide[b].astype(str)).rename_axis(index=a, columns=b)


callable_module(__name__)  # medlab.agreement(...) even after `import medlab.agreement`
