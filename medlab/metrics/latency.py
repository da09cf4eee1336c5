"""Latency metrics of one answer and their distribution over many.

- TTFT: time to the first token (from the backend; None when it could not be measured).
- TPOT: time per output token after the first, ``(latency - ttft) / (tokens - 1)``; None with
  fewer than 2 tokens or no TTFT.
- tokens/s: ``completion_tokens / latency`` (end-to-end, the user's view).
Answers served from the cache are excluded from latency summaries (``summarize`` does that):
their timings measure the cache, not the model.
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from typing import Any


def tpot(latency_s: float | None, ttft_s: float | None, tokens: int | None) -> float | None:
    if latency_s is None or ttft_s is None or tokens is None or tokens < 2:
        return None
    return max(latency_s - ttft_s, 0.0) / (tokens - 1)


def tokens_per_s(tokens: int | None, latency_s: float | None) -> float | None:
    if tokens is None or latency_s is None or latency_s <= 0:
        return None
    return tokens / latency_s


def latency_metrics(completion: Any) -> dict[str, Any]:
    """Per-sample timing keys of a Completion (all None without one)."""
    if completion is None:
        return dict.fromkeys(("ttft_s", "tpot_s", "latency_s", "tokens_per_s", "completion_tokens"))
    lat, ttft, n = completion.latency_s, completion.ttft_s, completion.completion_tokens
    return {
        "ttft_s": ttft,
        "tpot_s": tpot(lat, ttft, n),
        "latency_s": lat,
        "tokens_per_s": tokens_per_s(n, lat),
        "completion_tokens": n,
    }


def latency_stats(values: Iterable[float | None]) -> dict[str, float]:
    """mean, p50, p90, p99 and n of the non-missing values (NaN statistics when n == 0)."""
    import numpy as np  # here, not at the top: every eval-set check imports this module

    arr = np.asarray([v for v in values if v is not None], dtype=float)
    arr = arr[~np.isnan(arr)]
    if arr.size == 0:
        return {"mean": math.nan, "p50": math.nan, "p90": math.nan, "p99": math.nan, "n": 0}
    p50, p90, p99 = np.percentile(arr, [50, 90, 99])
    return {"mean": float(arr.mean()), "p50": float(p50), "p90": float(p90), "p99": float(p99),
            "n": int(arr.size)}  # fmt: skip
