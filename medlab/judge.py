"""Rubric grading by a judge model: any backend grades each answer of a run against each
criterion of its item's rubric, HealthBench style.

The grader sees the conversation (without the chatbot's system prompt), the answer and one
criterion with its points, under a versioned grader prompt (``prompts/rubric_grader``; its
front matter's ``user_template`` lays out the user turn), and answers with a JSON verdict
``{"met": bool, "reason": str}`` constrained to the ``rubric_verdict`` schema. Verdicts go
through the response cache and are appended to ``<run>/judgements.jsonl`` after each batch, so
a killed judge resumes where it stopped; ``results.json`` records the grader's fingerprint, the
grader prompt's sha256 and the summary with the judged metrics (``rubric_score`` and
``rubric_<tag>``, see :mod:`medlab.metrics.rubric`). Grading a finished run never generates its
answers again.
"""

from __future__ import annotations

import logging
import re
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

from tqdm.auto import tqdm

from medlab.cache import open_cache
from medlab.judgements import append_judgements, read_judgements, text_sha256, verdict_key
from medlab.lazy import callable_module
from medlab.manifest import RESULTS, JudgeRecord, RunManifest
from medlab.metrics.rubric import Criterion, parse_rubric
from medlab.models.cached import CachedBackend
from medlab.records import RunResult
from medlab.types import GenerationParams, Message

__all__ = ["GRADER_PROMPT", "Verdict", "grade", "grader_messages", "judge", "parse_verdict"]

log = logging.getLogger(__name__)

GRADER_PROMPT = "rubric_grader@v1"
GRADER_PARAMS = GenerationParams(temperature=0.0, max_new_tokens=64)


@dataclass(frozen=True)
class Verdict:
    met: bool | None  # None: the grader failed or its answer did not parse
    reason: str
    error: str | None = None
    cached: bool = False


def _conversation_text(messages: list[Message] | list[dict[str, str]]) -> str:
    roles = {"user": "用户", "assistant": "助手"}
    lines = []
    for m in messages:
        m = Message.coerce(m)
        if m.role != "system":
            lines.append(f"{roles[m.role]}：{m.content}")
    return "\n".join(lines)


def grader_messages(
    prompt: Any,
    conversation: list[Message] | list[dict[str, str]],
    answer: str,
    criterion: Criterion,
) -> list[Message]:
    """The grader's conversation: the grader prompt as system, the filled ``user_template``."""
    template = prompt.meta.get("user_template")
    if not template:
        raise ValueError(f"{prompt.ref}: a grader prompt needs 'user_template' in its front matter")
    user = (
        template.replace("<<conversation>>", _conversation_text(conversation))
        .replace("<<answer>>", answer)
        .replace("<<criterion>>", str(criterion))
    )
    return [Message("system", prompt.text), Message("user", user.strip())]


def parse_verdict(text: str) -> Verdict:
    """A Verdict from the grader's text (lenient JSON: fences and prose around it are fine)."""
    from medlab.validate import parse_json

    res = parse_json(text)
    value = res.value if res.ok_lenient else None
    if not isinstance(value, dict) or not isinstance(value.get("met"), bool):
        cut = _CUT_VERDICT.match(text)  # the decision came first, then the budget ran out
        if cut:
            return Verdict(cut.group(1) == "true", "(reason cut off)")
        return Verdict(None, "", f"unparseable verdict: {text[:120]!r}")
    return Verdict(value["met"], str(value.get("reason", "")))


_CUT_VERDICT = re.compile(r'\s*\{\s*"met"\s*:\s*(true|false)\b(?![^{}]*\})')


def grade(
    grader: Any,
    tasks: list[tuple[list[Any], str, Criterion]],
    prompt: str | Any = GRADER_PROMPT,
    params: GenerationParams | None = None,
    cache: Any = "sqlite",
    constrained: bool = True,
    batch_size: int | None = None,
    progress: bool = True,
    on_batch: Any = None,
) -> list[Verdict]:
    """Verdicts for ``(conversation, answer, criterion)`` tasks, in order.

    ``on_batch(indices, verdicts)`` is called after each batch (how :func:`judge` writes as it
    goes). A backend error fails only the verdicts of its batch (met None, with the error).
    """
    from medlab.prompts import load_prompt
    from medlab.schemas import SCHEMAS

    prompt = load_prompt(prompt) if isinstance(prompt, str) else prompt
    params = params or GRADER_PARAMS
    schema = SCHEMAS[prompt.schema] if constrained and prompt.schema else None
    bs = (
        batch_size
        or getattr(grader, "batch_size", None)
        or getattr(grader, "concurrency", None)
        or 8
    )
    store = open_cache(cache)
    cached = CachedBackend(grader, store)
    out: list[Verdict] = []
    bar = tqdm(
        total=len(tasks), desc="judge", unit="verdict", disable=not progress, dynamic_ncols=True
    )
    try:
        for start in range(0, len(tasks), bs):
            batch = tasks[start : start + bs]
            convs = [grader_messages(prompt, c, a, k) for c, a, k in batch]
            # failed requests are recorded as failed verdicts, retried on resume
            comps, errors = cached.answer(convs, params, schema=schema)
            verdicts = []
            for c, err in zip(comps, errors):
                if c is None:
                    verdicts.append(Verdict(None, "", err or "no answer from the grader"))
                else:
                    v = parse_verdict(c.text)
                    verdicts.append(Verdict(v.met, v.reason, v.error, bool(c.cached)))
            out += verdicts
            if on_batch is not None:
                on_batch(range(start, start + len(batch)), verdicts)
            bar.update(len(batch))
    finally:
        bar.close()
        if store is not None and store is not cache:  # opened here: closed here
            store.close()
    return out


def _now() -> str:
    return datetime.now(timezone.utc).isoformat(timespec="seconds")


def run_items(
    manifest: RunManifest | None, eval_sets: dict[str, Any] | None
) -> dict[tuple[str, str], Any]:
    """The run's eval items by (set name, item id), read from the specs its manifest records
    (or ``eval_sets``: {set name: name or path} to read rubrics from elsewhere)."""
    from medlab.evalsets import eval_set_sha256, load_items

    out = {}
    for s in manifest.eval_sets if manifest else ():
        spec = (eval_sets or {}).get(s.name) or s.spec or s.name
        if not Path(str(spec)).exists() and s.name != spec:
            spec = s.name  # a relative path from elsewhere: the set of that name
        try:
            items = load_items(spec)
        except FileNotFoundError:
            log.warning("eval set %s not found: its samples are not graded", spec)
            continue
        if eval_set_sha256(spec) != s.sha256:
            log.info("%s changed since the run (rubrics added?): questions are checked", spec)
        out.update({(s.name, it.id): it for it in items})
    return out


def judge(
    run: RunResult | str | Path,
    grader: Any,
    prompt: str = GRADER_PROMPT,
    params: GenerationParams | None = None,
    cache: Any = "sqlite",
    constrained: bool = True,
    limit: int | None = None,
    eval_sets: dict[str, Any] | None = None,
    batch_size: int | None = None,
    progress: bool = True,
) -> RunResult:
    """Grade every answer of a finished run against its item's rubric; return the run with
    the judged metrics (see the module docstring).

    ``grader``: a Backend or a ``load_model`` name; ``limit``: grade the first N answers only.
    Answers whose item has no rubric, error samples and answers to a question that is no
    longer the item's are skipped (counted in the manifest's ``judge.counts``).
    """
    from medlab.metrics.format import prose
    from medlab.prompts import load_prompt
    from medlab.records import load_run, read_manifest, run_summary, write_manifest
    from medlab.runner import lock_run

    if isinstance(grader, str):
        from medlab.models import load_model

        grader = load_model(grader)
    run = run if isinstance(run, RunResult) else load_run(run)
    path = Path(run.path)
    if run.manifest is None:
        raise FileNotFoundError(f"{path / RESULTS}: the run has no manifest to judge")
    prompt_obj = load_prompt(prompt)
    params = params or GRADER_PARAMS
    items = run_items(run.manifest, eval_sets)
    counts = {"samples": 0, "no_rubric": 0, "errors": 0, "stale": 0}
    tasks, meta = [], []
    for r in run.records[:limit] if limit else run.records:
        if r.error is not None:
            counts["errors"] += 1
            continue
        item = items.get((r.eval_set, r.item_id))
        if item is None or not item.rubric:
            counts["no_rubric"] += 1
            continue
        conversation = [m for m in r.messages if m["role"] != "system"]
        if conversation != [m.to_dict() for m in item.messages]:
            counts["stale"] += 1  # the item's question changed since the answer was generated
            continue
        answer = prose(r.text) if r.parsed is not None else r.text
        criteria = parse_rubric(item.rubric, item.source or f"{r.eval_set}:{r.item_id}")
        counts["samples"] += 1
        for i, c in enumerate(criteria):
            tasks.append((conversation, answer, c))
            meta.append(
                {
                    "variant": r.variant, "eval_set": r.eval_set, "item_id": r.item_id,
                    "repeat": r.repeat, "index": i, "n_criteria": len(criteria),
                    "criterion": c.criterion, "points": c.points, "tags": list(c.tags),
                    "grader": grader.fingerprint, "prompt": prompt_obj.ref,
                    "prompt_sha256": prompt_obj.sha256, "text_sha256": text_sha256(r.text),
                }
            )  # fmt: skip
    lock = lock_run(path)  # RunLockedError while a run_eval or another judge writes the run
    try:
        done = {
            (verdict_key(j), j.get("text_sha256"))
            for j in read_judgements(path)
            if j.get("met") is not None and j.get("prompt_sha256") == prompt_obj.sha256
        }
        todo = [n for n, m in enumerate(meta) if (verdict_key(m), m["text_sha256"]) not in done]
        counts |= {"criteria": len(meta), "skipped_done": len(meta) - len(todo)}

        def write(indices: range, verdicts: list[Verdict]) -> None:
            lines = []
            for k, v in zip(indices, verdicts):
                lines.append(
                    meta[todo[k]] | {"met": v.met, "reason": v.reason, "error": v.error,
                                     "cached": v.cached, "time": _now()}
                )  # fmt: skip
            append_judgements(path, lines)

        verdicts = grade(grader, [tasks[n] for n in todo], prompt_obj, params, cache, constrained,
                         batch_size, progress, on_batch=write)  # fmt: skip
        counts["failed"] = sum(v.met is None for v in verdicts)
        info = dict(grader.info()) if hasattr(grader, "info") else {"name": grader.name}
        info["fingerprint"] = grader.fingerprint
        manifest = read_manifest(path) or run.manifest
        judged_by = JudgeRecord(
            grader=info,
            prompt={"ref": prompt_obj.ref, "sha256": prompt_obj.sha256},
            params=params.to_dict(),
            constrained=constrained,
            limit=limit,
            counts=counts,
            finished=_now(),
        )
        write_manifest(path, manifest.replace(judge=judged_by))
        judged = load_run(path)  # with the judged metrics attached
        judged.manifest = manifest.replace(judge=judged_by, summary=run_summary(judged.records))
        write_manifest(path, judged.manifest)
        return judged
    finally:
        lock.release()


callable_module(__name__)  # medlab.judge(...) even after `import medlab.judge`
