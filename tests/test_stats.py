"""Statistics checked against scipy and textbook values on known vectors."""

from __future__ import annotations

import math

import numpy as np
import pytest
from scipy import stats as sps

from medlab.stats import (
    bootstrap_ci,
    holm,
    mcnemar_exact,
    min_detectable_effect,
    paired_bootstrap,
    rate_ci,
)


@pytest.mark.parametrize(
    ("a_only", "b_only", "expected"),
    [
        (1, 9, 0.021484375),  # 2 * P(X <= 1), X ~ Bin(10, 0.5) = 2 * 11/1024
        (7, 1, 0.0703125),  # 2 * 9/256
        (5, 5, 1.0),
        (0, 0, 1.0),  # no discordant pair: no evidence of a difference
        (0, 6, 0.03125),
    ],
)
def test_mcnemar_exact_matches_binomial(a_only, b_only, expected):
    both, neither = 13, 4
    a = [1] * a_only + [0] * b_only + [1] * both + [0] * neither
    b = [0] * a_only + [1] * b_only + [1] * both + [0] * neither
    res = mcnemar_exact(a, b)
    assert (res["a_only"], res["b_only"]) == (a_only, b_only)
    assert res["p"] == pytest.approx(expected)
    if a_only + b_only:
        assert res["p"] == pytest.approx(sps.binomtest(a_only, a_only + b_only).pvalue)


def test_mcnemar_rejects_unpaired_lengths():
    with pytest.raises(ValueError, match="differ in length"):
        mcnemar_exact([1, 0], [1])


def test_holm_matches_hand_computed_example():
    # sorted: .005*4=.02, .01*3=.03, .03*2=.06, .04*1 -> monotone .06
    adj = holm([0.01, 0.04, 0.03, 0.005])
    assert adj == pytest.approx([0.03, 0.06, 0.06, 0.02])


def test_holm_caps_at_one_and_ignores_nan():
    adj = holm([0.6, np.nan, 0.9])
    assert adj[0] == pytest.approx(1.0) and adj[2] == pytest.approx(1.0)
    assert math.isnan(adj[1])


def test_bootstrap_ci_close_to_t_interval_and_seeded():
    x = np.random.default_rng(1).normal(10, 2, 400)
    low, high = bootstrap_ci(x, seed=3)
    t_low, t_high = sps.t.interval(0.95, len(x) - 1, loc=x.mean(), scale=sps.sem(x))
    assert low == pytest.approx(t_low, abs=0.05) and high == pytest.approx(t_high, abs=0.05)
    assert bootstrap_ci(x, seed=3) == (low, high)
    assert bootstrap_ci(x, seed=4) != (low, high)


def test_bootstrap_ci_edge_cases():
    assert all(math.isnan(v) for v in bootstrap_ci([]))
    assert bootstrap_ci([None, 2.0, np.nan]) == (2.0, 2.0)
    low, high = bootstrap_ci(list(range(100)), stat="p90")
    assert low < np.percentile(range(100), 90) < high


def test_rate_ci_is_wilson_and_not_degenerate_at_zero():
    low, high = rate_ci([0] * 20)
    z2 = sps.norm.ppf(0.975) ** 2
    assert low == 0.0 and high == pytest.approx(z2 / (20 + z2))
    low, high = rate_ci([1, 0, 0, 1, 1, 1, 0, 1, 1, 1])
    p, n, z = 0.7, 10, sps.norm.ppf(0.975)
    centre = (p + z * z / (2 * n)) / (1 + z * z / n)
    half = z * math.sqrt(p * (1 - p) / n + z * z / (4 * n * n)) / (1 + z * z / n)
    assert (low, high) == pytest.approx((centre - half, centre + half))


def test_paired_bootstrap_exact_permutation_p_and_interval():
    a = [1.0, 2.0, 3.0, 4.0, 5.0]
    b = [2.0, 3.0, 4.0, 5.0, 7.0]
    res = paired_bootstrap(a, b)
    assert res["diff"] == pytest.approx(1.2)
    assert res["p"] == pytest.approx(2 / 32)  # all 2^5 sign flips enumerated
    assert res["ci_low"] <= 1.2 <= res["ci_high"]


def test_paired_bootstrap_agrees_with_paired_t_test_on_large_sample():
    rng = np.random.default_rng(7)
    a = rng.normal(1.0, 0.3, 300)
    b = a + rng.normal(0.05, 0.2, 300)
    res = paired_bootstrap(a, b, n_resamples=4000)
    t = sps.ttest_rel(b, a)
    assert res["p"] == pytest.approx(t.pvalue, abs=0.01)
    assert res["diff"] == pytest.approx(float(np.mean(b - a)))


def test_paired_bootstrap_no_difference():
    res = paired_bootstrap([1.0, 2.0], [1.0, 2.0])
    assert res == {"diff": 0.0, "ci_low": 0.0, "ci_high": 0.0, "p": 1.0}


def test_min_detectable_effect_has_the_requested_power():
    n, p0 = 60, 0.2
    mde = min_detectable_effect(n, baseline=p0)
    se = math.sqrt(2 * p0 * (1 - p0) / n)
    power = 1 - sps.norm.cdf(sps.norm.ppf(0.975) - mde / se)
    assert power == pytest.approx(0.8, abs=1e-6)
    assert min_detectable_effect(4 * n, baseline=p0) == pytest.approx(mde / 2)


def _samples(a_flags, b_flags, a_lat, b_lat, cached_b=None):
    import pandas as pd

    rows = []
    for variant, flags, lat in (("p@v1", a_flags, a_lat), ("p@v2", b_flags, b_lat)):
        for i, (flag, t) in enumerate(zip(flags, lat)):
            cached = bool(cached_b and variant == "p@v2" and i in cached_b)
            rows.append(
                {"variant": variant, "eval_set": "s", "item_id": f"i{i}", "repeat": 0,
                 "over_referral": flag, "specific_drug": None, "latency_s": t, "cached": cached}
            )  # fmt: skip
    return pd.DataFrame(rows)


def test_compare_pairs_items_and_uses_mcnemar_for_rates():
    from medlab.stats import compare

    a = [True] * 14 + [False] * 6
    b = [False] * 12 + [True] * 2 + [False] * 6  # B fixes 12 over-referrals, breaks none
    df = compare(_samples(a, b, [1.0] * 20, [1.0] * 20), "p@v1", "p@v2").set_index("metric")
    row = df.loc["over_referral_rate"]
    assert row["test"] == "mcnemar_exact" and row["n"] == 20
    assert row["a"] == pytest.approx(0.7) and row["b"] == pytest.approx(0.1)
    assert row["diff"] == pytest.approx(-0.6)
    assert row["p"] == pytest.approx(sps.binomtest(12, 12).pvalue)
    assert row["significant"] and row["better"] == "p@v2"
    assert "specific_drug_rate" not in df.index  # no scorable pairs


def test_compare_latency_skips_cached_pairs_and_holm_adjusts():
    from medlab.stats import compare

    a_lat = [1.0 + 0.01 * i for i in range(20)]
    b_lat = [t + 0.5 for t in a_lat]
    df = compare(
        _samples([False] * 20, [False] * 20, a_lat, b_lat, cached_b={0, 1, 2}), "p@v1", "p@v2"
    ).set_index("metric")
    row = df.loc["latency_s_mean"]
    assert row["n"] == 17 and row["diff"] == pytest.approx(0.5)
    assert row["better"] == "p@v1"  # B is slower
    assert (df["p_holm"] >= df["p"] - 1e-12).all()


def test_compare_unknown_variant_is_a_clear_error():
    from medlab.stats import compare

    with pytest.raises(ValueError, match="not in this run"):
        compare(_samples([True], [False], [1.0], [1.0]), "p@v1", "p@v9")


def test_compare_with_repeats_uses_the_item_as_unit():
    import pandas as pd

    from medlab.stats import compare

    one = _samples([True] * 6 + [False] * 4, [False] * 10, [1.0] * 10, [1.0] * 10)
    three = pd.concat([one.assign(repeat=r) for r in range(3)], ignore_index=True)
    row = compare(three, "p@v1", "p@v2").set_index("metric").loc["over_referral_rate"]
    assert row["n"] == 10  # items, not items x repeats
    assert row["test"] == "paired_permutation"
    # identical repeats carry no extra evidence: the same p as one repeat compared as means
    single = compare(one, "p@v1", "p@v2", metrics=["over_referral_rate"]).iloc[0]
    assert row["diff"] == pytest.approx(single["diff"]) == pytest.approx(-0.6)
    assert row["p"] > single["p"] * 0.5  # not the 3x-inflated evidence of 30 "pairs"


def test_error_samples_stay_out_of_comparisons_and_summaries():
    from medlab.metrics import summarize
    from medlab.stats import compare

    df = _samples([True, False, True], [False, False, False], [2.0, 2.0, 2.0], [1.0, 1.0, 1.0])
    df["error"] = None
    df = df.astype({"over_referral": object, "latency_s": object})
    failed = df.index[(df["variant"] == "p@v2") & (df["item_id"] == "i2")]
    # a failed generation as older records store it: latency 0.0, which must not count
    df.loc[failed, ["error", "over_referral", "latency_s"]] = ["TimeoutError", None, 0.0]
    row = compare(df, "p@v1", "p@v2").set_index("metric").loc["latency_s_mean"]
    assert row["n"] == 2 and row["b"] == pytest.approx(1.0)
    summary = summarize(df).set_index(["variant", "metric"])
    assert summary.loc[("p@v2", "latency_s_mean"), "n"] == 2
    assert summary.loc[("p@v2", "latency_s_mean"), "value"] == pytest.approx(1.0)
    assert summary.loc[("p@v2", "over_referral_rate"), "n"] == 2


def test_paired_bootstrap_on_a_single_pair_is_not_significant():
    res = paired_bootstrap([0.2], [0.9])
    assert res["diff"] == pytest.approx(0.7) and res["p"] == 1.0


def test_a_variant_whose_every_generation_failed_has_no_pairs_and_n_zero():
    from medlab.metrics import summarize
    from medlab.stats import compare

    df = _samples([True, False], [False, True], [1.0, 1.0], [1.0, 1.0])
    df["error"] = [None, None, "TimeoutError", "TimeoutError"]  # every p@v2 sample failed
    assert compare(df, "p@v1", "p@v2").empty
    summary = summarize(df).set_index(["variant", "metric"])
    assert summary.loc[("p@v2", "over_referral_rate"), "n"] == 0
    assert summary.loc[("p@v1", "over_referral_rate"), "n"] == 2


@pytest.mark.parametrize(
    "values, stat",
    [
        (np.random.default_rng(5).normal(1.0, 0.3, 48), "mean"),
        (np.random.default_rng(6).exponential(0.2, 17), "p90"),
        ([0.1, 0.1, 0.4], "p50"),
        (list(range(100)), "p99"),
    ],
)
def test_bootstrap_ci_is_scipys_percentile_bootstrap(values, stat):
    fn = {"mean": np.mean, "p50": 50, "p90": 90, "p99": 99}[stat]
    statistic = fn if callable(fn) else (lambda s, axis=-1, q=fn: np.percentile(s, q, axis=axis))
    ref = sps.bootstrap((np.asarray(values, dtype=float),), statistic, n_resamples=2000,
                        method="percentile", vectorized=True, rng=np.random.default_rng(0))  # fmt: skip
    ci = ref.confidence_interval
    assert bootstrap_ci(values, stat=stat) == pytest.approx((ci.low, ci.high), rel=1e-12)


@pytest.mark.parametrize("k, n", [(0, 1), (0, 20), (1, 2), (7, 10), (20, 20), (13, 48)])
def test_rate_ci_is_scipys_wilson_interval(k, n):
    ref = sps.binomtest(k, n).proportion_ci(confidence_level=0.95, method="wilson")
    assert rate_ci([1] * k + [0] * (n - k)) == pytest.approx((ref.low, ref.high), rel=1e-12)


def test_min_detectable_effect_uses_normal_quantiles():
    z = sps.norm.ppf(0.975) + sps.norm.ppf(0.8)
    assert min_detectable_effect(100) == pytest.approx(z * math.sqrt(2 * 0.25 / 100))
