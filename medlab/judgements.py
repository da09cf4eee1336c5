"""A run's rubric verdicts on disk: ``<run>/judgements.jsonl``, and the judged metrics they give.

:func:`medlab.judge.judge` appends one line per (sample, criterion) verdict: the sample key, the
criterion (text, points, tags, index and how many the rubric has), ``met`` (True / False, None
when the grader failed), the grader's reason, the grader fingerprint, the grader prompt's
sha256 and the sha256 of the answer text it graded. The file is only appended to; a later line
for the same sample, criterion and grader supersedes an earlier one (a retried failure).

:func:`attach_judged` adds ``rubric_score``, ``rubric_<tag>`` and ``rubric_met`` to the metrics
of each sample the current grader (the manifest's ``judge``) graded, so that judged metrics flow
into ``run.samples``, ``run.summary()``, ``compare()``, the charts and the report.
"""

from __future__ import annotations

import hashlib
from pathlib import Path
from typing import Any

from medlab.jsonl import append_jsonl, read_jsonl
from medlab.manifest import JudgeRecord
from medlab.types import SampleResult

JUDGEMENTS = "judgements.jsonl"


def text_sha256(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def read_judgements(run_dir: str | Path) -> list[dict[str, Any]]:
    """Every verdict line (a torn last line, from a killed judge, is ignored)."""
    return read_jsonl(Path(run_dir) / JUDGEMENTS)


def append_judgements(run_dir: str | Path, lines: list[dict[str, Any]]) -> None:
    """Append verdict lines, durable on return (after the torn line of a killed judge)."""
    append_jsonl(Path(run_dir) / JUDGEMENTS, lines)


def verdict_key(j: dict[str, Any]) -> tuple[Any, ...]:
    return (j["variant"], j["eval_set"], j["item_id"], j["repeat"], j["index"], j["grader"])


def current_verdicts(
    judgements: list[dict[str, Any]], grader: str | None, prompt_sha256: str | None = None
) -> dict[tuple[str, str, str, int], list[dict[str, Any]]]:
    """The latest verdict of each criterion by ``grader`` (and prompt), grouped per sample key
    and ordered by criterion index."""
    latest: dict[tuple[Any, ...], dict[str, Any]] = {}
    for j in judgements:
        if j.get("grader") == grader and (
            prompt_sha256 is None or j.get("prompt_sha256") == prompt_sha256
        ):
            latest[verdict_key(j)] = j
    out: dict[tuple[str, str, str, int], list[dict[str, Any]]] = {}
    for j in latest.values():
        out.setdefault((j["variant"], j["eval_set"], j["item_id"], j["repeat"]), []).append(j)
    for v in out.values():
        v.sort(key=lambda j: j["index"])
    return out


def sample_judged(verdicts: list[dict[str, Any]], text: str) -> dict[str, Any] | None:
    """Judged metrics of one sample from its verdicts (None when they graded another text)."""
    from medlab.metrics.rubric import Criterion, judged_metrics

    if not verdicts or any(v["text_sha256"] != text_sha256(text) for v in verdicts):
        return None
    n = verdicts[0]["n_criteria"]
    by_index = {v["index"]: v for v in verdicts}
    criteria, met = [], []
    for i in range(n):
        v = by_index.get(i)
        if v is None:
            return None  # a criterion not graded yet
        criteria.append(Criterion(v["criterion"], v["points"], tuple(v["tags"])))
        met.append(v["met"])
    return judged_metrics(criteria, met)


def attach_judged(
    records: list[SampleResult], run_dir: str | Path, judge: JudgeRecord | None
) -> None:
    """Add the current grader's (``judge``, the manifest's record) judged metrics to the
    records' metrics (in place)."""
    if judge is None or not judge.fingerprint or not (Path(run_dir) / JUDGEMENTS).exists():
        return
    verdicts = current_verdicts(read_judgements(run_dir), judge.fingerprint, judge.prompt_sha256)
    for r in records:
        judged = sample_judged(verdicts.get(r.key, []), r.text) if r.error is None else None
        if judged is not None:
            r.metrics = {**(r.metrics or {}), **judged}
