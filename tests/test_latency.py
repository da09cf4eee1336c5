"""Latency metrics: TPOT, tokens/s and the distribution summary."""

from __future__ import annotations

import math

import pytest

from medlab.metrics.latency import latency_metrics, latency_stats, tokens_per_s, tpot
from medlab.types import Completion


@pytest.mark.parametrize(
    "latency,ttft,tokens,expected",
    [
        (2.0, 0.5, 16, 0.1),
        (1.0, 1.0, 2, 0.0),
        (1.0, 0.2, 1, None),
        (1.0, 0.2, 0, None),
        (1.0, None, 10, None),
        (None, 0.2, 10, None),
    ],
)
def test_tpot(latency, ttft, tokens, expected) -> None:
    got = tpot(latency, ttft, tokens)
    assert got == pytest.approx(expected) if expected is not None else got is None


@pytest.mark.parametrize(
    "tokens,latency,expected", [(100, 2.0, 50.0), (0, 1.0, 0.0), (10, 0.0, None), (None, 1.0, None)]
)
def test_tokens_per_s(tokens, latency, expected) -> None:
    assert tokens_per_s(tokens, latency) == expected


def test_latency_metrics_of_a_completion() -> None:
    c = Completion("x", prompt_tokens=20, completion_tokens=11, ttft_s=0.5, latency_s=1.5)
    assert latency_metrics(c) == {
        "ttft_s": 0.5,
        "tpot_s": pytest.approx(0.1),
        "latency_s": 1.5,
        "tokens_per_s": pytest.approx(11 / 1.5),
        "completion_tokens": 11,
    }
    assert set(latency_metrics(None).values()) == {None}


def test_latency_stats() -> None:
    stats = latency_stats([float(i) for i in range(1, 101)] + [None, math.nan])
    assert stats["n"] == 100
    assert stats["mean"] == pytest.approx(50.5)
    assert stats["p50"] == pytest.approx(50.5)
    assert stats["p90"] == pytest.approx(90.1)
    assert stats["p99"] == pytest.approx(99.01)


def test_latency_stats_empty() -> None:
    stats = latency_stats([None])
    assert stats["n"] == 0 and all(math.isnan(stats[k]) for k in ("mean", "p50", "p90", "p99"))
