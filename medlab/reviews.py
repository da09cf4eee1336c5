"""Clinician reviews of a run's answers on disk: ``<run>/reviews.jsonl``, append-only.

Each line is one review of one answer by one reviewer: the sample key (variant, eval set, item
id, repeat), ``reviewer``, ``time`` (UTC), the sha256 of the answer text reviewed, and
``labels``: ``referral_level`` (emergency | routine | conditional | none), ``specific_drug``
and ``fabricated_drug`` (bool), ``hedged`` (True / False / None: no diagnostic claim),
``criteria`` (met / not met / None per rubric criterion, in rubric order) and ``comment``.
Nothing is ever overwritten: a reviewer who changes their mind appends a new line, and the
latest line of each (reviewer, sample) counts. Several reviewers share one file; each resumes
at the first answer they have not reviewed.
"""

from __future__ import annotations

from datetime import datetime, timezone
from pathlib import Path
from typing import Any

from medlab.jsonl import append_jsonl, read_jsonl
from medlab.levels import REFERRAL_LEVELS

REVIEWS = "reviews.jsonl"
LEVELS = REFERRAL_LEVELS
LABEL_KEYS = ("referral_level", "specific_drug", "fabricated_drug", "hedged", "criteria", "comment")

SampleKey = tuple[str, str, str, int]


def _check(review: dict[str, Any]) -> None:
    if not str(review.get("reviewer") or "").strip():
        raise ValueError("a review needs the reviewer's name")
    labels = review.get("labels") or {}
    unknown = sorted(set(labels) - set(LABEL_KEYS))
    if unknown:
        raise ValueError(f"unknown review label(s) {unknown}; known: {list(LABEL_KEYS)}")
    level = labels.get("referral_level")
    if level is not None and level not in LEVELS:
        raise ValueError(f"referral_level must be one of {LEVELS} or None, got {level!r}")


def append_review(
    run_dir: str | Path,
    key: SampleKey,
    reviewer: str,
    labels: dict[str, Any],
    text_sha256: str | None = None,
    criteria_tags: list[list[str]] | None = None,
) -> dict[str, Any]:
    """Append one review line (durable on return) and return it."""
    variant, eval_set, item_id, repeat = key
    review = {
        "variant": variant, "eval_set": eval_set, "item_id": item_id, "repeat": int(repeat),
        "reviewer": reviewer.strip(), "time": datetime.now(timezone.utc).isoformat(),
        "text_sha256": text_sha256, "labels": labels, "criteria_tags": criteria_tags or [],
    }  # fmt: skip
    _check(review)
    append_jsonl(Path(run_dir) / REVIEWS, [review])
    return review


def read_reviews(run_dir: str | Path) -> list[dict[str, Any]]:
    """Every review line in file order (a torn last line is ignored); a malformed line raises
    ValueError naming the file and line."""
    return read_jsonl(Path(run_dir) / REVIEWS)


def latest_reviews(run_dir: str | Path) -> dict[tuple[str, SampleKey], dict[str, Any]]:
    """The latest review of each (reviewer, sample key)."""
    out = {}
    for r in read_reviews(run_dir):
        out[(r["reviewer"], (r["variant"], r["eval_set"], r["item_id"], r["repeat"]))] = r
    return out


def reviewed_keys(run_dir: str | Path, reviewer: str) -> set[SampleKey]:
    return {k for (who, k) in latest_reviews(run_dir) if who == reviewer.strip()}
