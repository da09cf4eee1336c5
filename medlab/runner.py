"""``run_eval``: prompt variants x eval sets x items x repeats -> a scored, resumable run.

Each sample's conversation is ``[system: prompt.render()] + item.messages``. A prompt applies to
the items of its task: a task that declares an answer schema (:mod:`medlab.tasks`: extraction
``emr_extraction``, mcq ``mcq``) is answered only by prompts with that schema, every other
prompt answers every other task (a prompt's front matter may instead list its ``tasks``).
Structured runs constrain answers to the prompt's JSON Schema.

Answers come from the response cache when it has them, else from the backend in batches; every
answer is scored by its task (:func:`medlab.tasks.score`) and appended to
``<out_dir>/<run_id>/samples.jsonl`` after each batch. A backend error on a batch becomes error
records (retried on resume), never lost samples. Running again with the same ``run_id`` resumes:
finished samples are skipped once the configuration is checked to be the same.
"""

from __future__ import annotations

import contextlib
import dataclasses
import hashlib
import itertools
import json
import logging
import time
from collections import Counter
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

from medlab.cache import open_cache
from medlab.defaults import BATCH_SIZE
from medlab.models.cached import CachedBackend
from medlab.records import (
    SAMPLES,
    RunResult,
    SampleWriter,
    latest_per_key,
    load_run,
    read_results,
    read_samples,
    samples_frame,
    write_results,
)
from medlab.tasks import Answer, score, task_answer_schemas
from medlab.types import Completion, EvalItem, GenerationParams, Message, SampleResult

__all__ = ["run_eval", "load_run", "samples_frame", "prompt_applies", "RunMismatchError"]

log = logging.getLogger(__name__)


class RunMismatchError(ValueError):
    """Resuming a run with a different model, prompt, eval set or configuration."""


class RunLockedError(RuntimeError):
    """Another process is writing the same run folder (two ``--resume`` of one run)."""


def lock_run(path: Path) -> Any:
    """Acquire ``<run>/.lock`` (a FileLock; ``release()`` it) for a process that writes the run
    folder (``run_eval``, ``medlab.judge``): a second writer fails at once, naming the run."""
    from filelock import FileLock, Timeout

    lock = FileLock(path / ".lock", timeout=0)
    try:
        lock.acquire()
    except Timeout:
        raise RunLockedError(
            f"run {path.name} is being written by another process ({path / '.lock'} is held); "
            "wait for it to finish, or start a new run"
        ) from None
    return lock


def _too_long(model: Any, plan: list[_Task]) -> dict[tuple[str, str, str, int], str]:
    """Error messages for the samples whose prompt cannot fit the model's context, found
    before any generation so that they fail alone (not the batch they would share). Only for
    backends that count tokens exactly (they have a tokenizer)."""
    if getattr(model, "tokenizer", None) is None or not hasattr(model, "count_tokens"):
        return {}
    sizes: dict[tuple[str, str, str], int] = {}
    errors = {}
    for t in plan:
        k = t.key[:3]
        if k not in sizes:
            sizes[k] = model.count_tokens(t.messages)
        if sizes[k] >= model.context_length:
            where = t.item.source or f"{t.item.eval_set}:{t.item.id}"
            errors[t.key] = (
                f"{where}: item {t.item.id!r} takes {sizes[k]} prompt tokens with {t.prompt.ref}, "
                f"no room in the {model.context_length}-token context of {model.name!r}"
            )
    return errors


@dataclass
class _Task:
    prompt: Any
    item: EvalItem
    repeat: int
    messages: list[Message]

    @property
    def key(self) -> tuple[str, str, str, int]:
        return (self.prompt.ref, self.item.eval_set, self.item.id, self.repeat)


def __getattr__(name: str) -> dict[str, str]:
    if name == "TASK_SCHEMAS":  # tasks with an answer shape of their own (medlab.tasks)
        return task_answer_schemas()
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def prompt_applies(prompt: Any, task: str) -> bool:
    """Whether a prompt variant answers items of this task (see the module docstring)."""
    tasks = (getattr(prompt, "meta", None) or {}).get("tasks")
    if tasks:
        return task in tasks
    schemas = task_answer_schemas()
    if task in schemas:
        return prompt.schema == schemas[task]
    return prompt.schema not in schemas.values()


def _as_list(x: Any) -> list[Any]:
    if isinstance(x, (str, Path)) or not hasattr(x, "__iter__"):
        return [x]
    return list(x)


def _now() -> str:
    return datetime.now(timezone.utc).isoformat(timespec="seconds")


def _sha(obj: Any) -> str:
    canonical = json.dumps(obj, sort_keys=True, ensure_ascii=False, default=str)
    return hashlib.sha256(canonical.encode("utf-8")).hexdigest()


def _fresh_run_id(out_dir: Path, stem: str) -> str:
    """``stem``, or ``stem-2``, ``stem-3``, ...: the first whose folder this call creates.

    The same configuration started twice within one second (two processes, or a notebook
    cell run twice) gets two runs, never one run resumed by surprise.
    """
    out_dir.mkdir(parents=True, exist_ok=True)
    for i in itertools.count(1):
        run_id = stem if i == 1 else f"{stem}-{i}"
        try:
            (out_dir / run_id).mkdir()
            return run_id
        except FileExistsError:
            continue
    raise AssertionError("unreachable")


def _check_resume(run_id: str, old: dict[str, Any], new: dict[str, Any]) -> None:
    """Raise RunMismatchError naming every difference that makes old samples incomparable."""
    problems = []
    fp_old, fp_new = old["model"].get("fingerprint"), new["model"].get("fingerprint")
    if fp_old != fp_new:
        problems.append(f"model fingerprint changed: {fp_old} -> {fp_new}")
    old_p = {p["ref"]: p["sha256"] for p in old.get("prompts", [])}
    new_p = {p["ref"]: p["sha256"] for p in new["prompts"]}
    for ref in sorted(old_p.keys() | new_p.keys()):
        if ref not in new_p or ref not in old_p:
            problems.append(
                f"prompt {ref} {'missing now' if ref not in new_p else 'not in the run'}"
            )
        elif old_p[ref] != new_p[ref]:
            problems.append(f"prompt {ref} sha256 changed: {old_p[ref][:12]} -> {new_p[ref][:12]}")
    old_s = {s["name"]: s["sha256"] for s in old.get("eval_sets", [])}
    new_s = {s["name"]: s["sha256"] for s in new["eval_sets"]}
    if old_s != new_s:
        problems.append(f"eval sets changed: {old_s} -> {new_s}")
    for k in ("params", "structured", "repeats", "limit"):
        if old["config"].get(k) != new["config"].get(k):
            problems.append(f"{k} changed: {old['config'].get(k)} -> {new['config'].get(k)}")
    if problems:
        raise RunMismatchError(
            f"cannot resume run {run_id}: " + "; ".join(problems)
            + " (start a new run, or pass the original settings)"
        )  # fmt: skip


def _summaries(records: list[SampleResult]) -> dict[str, Any]:
    """Summary metrics with CIs per variant (error samples left out). Per-set summaries are one
    call away: ``summarize(run.samples, by=("variant", "eval_set"))``. Read from the records
    (the same rows as ``summarize``), so that a run does not wait for pandas to import."""
    from medlab.metrics.aggregate import summary_records

    return {"summary": summary_records(records)}


def _error_completion() -> Completion:
    """What an error sample records: no text, no tokens, no timings (never averaged in)."""
    return Completion(text="", prompt_tokens=0, completion_tokens=0, ttft_s=None, latency_s=None)


def _answer(
    model: Any, store: Any, batch: list[_Task], params: GenerationParams, schema_name: str | None
) -> tuple[list[Completion | None], list[str | None]]:
    """Completions for a batch: from the cache where it has them, else from one backend call
    (:class:`medlab.models.cached.CachedBackend`).

    A backend error leaves the missing completions None, with one error message per sample
    (a ``BatchError`` fails only the requests it names).
    """
    from medlab.schemas import SCHEMAS

    schema = SCHEMAS[schema_name] if schema_name else None
    return CachedBackend(model, store).answer(
        [t.messages for t in batch], params, schema=schema, repeat=[t.repeat for t in batch]
    )


def _record(
    run_id: str, t: _Task, c: Completion | None, error: str | None, schema_name: str | None
) -> SampleResult:
    """The scored sample record of one answer (an error record when there is none)."""
    rec = SampleResult(
        run_id=run_id, variant=t.prompt.ref, prompt_sha256=t.prompt.sha256,
        eval_set=t.item.eval_set, item_id=t.item.id, repeat=t.repeat,
        messages=[m.to_dict() for m in t.messages], text="", parsed=None,
        completion=_error_completion(), error=error,
    )  # fmt: skip
    if c is not None:
        rec.text, rec.completion, rec.error = c.text, c, None
        answer = Answer(c.text, schema_name, c)  # parsed once, for the record and every metric
        rec.parsed = answer.parse.value if schema_name else None
        rec.metrics = score(t.item, answer)
    return rec


def run_eval(
    model: Any,
    prompts: Any,
    eval_sets: Any,
    params: GenerationParams | None = None,
    structured: bool = True,
    repeats: int = 1,
    limit: int | None = None,
    cache: Any = "sqlite",
    out_dir: str | Path = "runs",
    run_id: str | None = None,
    batch_size: int | None = None,
    progress: bool = True,
    allow_edited_prompts: bool = False,
) -> RunResult:
    """Evaluate prompt variants on eval sets; write and return the run (see module docstring).

    ``model``: a Backend or a name for ``load_model``; ``prompts``: refs (``"gp_assistant@v2"``)
    or Prompt objects; ``eval_sets``: names or JSONL paths. Repeat ``r`` samples with seed
    ``params.seed + r``. ``cache``: ``"sqlite"``, ``"off"``, a path or a ``redis://`` URL (the
    run opens and closes that cache), or an open cache object (the caller's: left open).
    A published prompt edited after publication is refused unless ``allow_edited_prompts``
    (the run then records it as edited). A second process writing the same run gets
    ``RunLockedError``.
    """
    from medlab.evalsets import eval_set_sha256, load_items
    from medlab.prompts import load_prompt

    if repeats < 1:
        raise ValueError(f"repeats must be >= 1, got {repeats}")
    params = params or GenerationParams()
    if isinstance(model, str):
        from medlab.models import load_model

        model = load_model(model)
    variants = [load_prompt(p) if isinstance(p, str) else p for p in _as_list(prompts)]
    refs = [p.ref for p in variants]
    if len(set(refs)) != len(refs):
        raise ValueError(f"prompt variants repeat: {refs}")
    edited = [p for p in variants if getattr(p, "edited", False)]
    if edited and not allow_edited_prompts:
        from medlab.prompts import PromptError

        raise PromptError(
            "; ".join(f"{p.ref} was edited after it was published ({p.path})" for p in edited)
            + ": publish a new version, or allow it (--allow-edited-prompts / "
            "allow_edited_prompts=True; the run records the prompt as edited)"
        )
    sets = []
    for spec in _as_list(eval_sets):
        items = load_items(spec, limit=limit)
        if not items:
            raise ValueError(f"eval set {spec} has no items")
        name = items[0].eval_set if items else Path(str(spec)).stem
        sets.append(
            {"spec": str(spec), "name": name, "items": items, "sha256": eval_set_sha256(spec)}
        )

    plan: list[_Task] = []
    pairs = []
    for prompt in variants:
        system = Message("system", prompt.render())
        for r in range(repeats):
            for s in sets:
                chosen = [it for it in s["items"] if prompt_applies(prompt, it.task)]
                if r == 0:
                    pairs.append(
                        {"variant": prompt.ref, "eval_set": s["name"], "items": len(chosen)}
                    )
                plan += [_Task(prompt, it, r, [system, *it.messages]) for it in chosen]
    if not plan:
        raise ValueError(
            f"nothing to evaluate: no prompt in {refs} applies to the items of "
            f"{[s['name'] for s in sets]} (extraction items need a prompt with the emr_extraction schema)"
        )

    info = dict(model.info()) if hasattr(model, "info") else {"name": model.name}
    info["fingerprint"] = model.fingerprint
    config = {
        "model": model.name, "params": params.to_dict(), "structured": structured,
        "repeats": repeats, "limit": limit, "batch_size": batch_size,
        "cache": cache if isinstance(cache, str) or cache is None else repr(cache),
    }  # fmt: skip
    results: dict[str, Any] = {
        "config": config,
        "seed": params.seed,
        "model": info,
        "prompts": [
            {
                "ref": p.ref,
                "name": p.name,
                "version": p.version,
                "sha256": p.sha256,
                "schema": p.schema,
                "language": p.language,
                **({"edited": True} if getattr(p, "edited", False) else {}),
            }
            for p in variants
        ],  # fmt: skip
        "eval_sets": [
            {
                "name": s["name"],
                "spec": s["spec"],
                "sha256": s["sha256"],
                "items": len(s["items"]),
                "tasks": dict(Counter(it.task for it in s["items"])),
            }
            for s in sets
        ],  # fmt: skip
        "pairs": pairs,
    }
    store = open_cache(cache)  # a cache that cannot open stops the run before its folder exists
    if run_id is None:
        digest = _sha([info["fingerprint"], results["prompts"], results["eval_sets"], config])
        stem = datetime.now(timezone.utc).strftime("%Y%m%d-%H%M%S-") + digest[:8]
        run_id = _fresh_run_id(Path(out_dir), stem)
    path = Path(out_dir) / run_id
    path.mkdir(parents=True, exist_ok=True)
    with contextlib.ExitStack() as held:  # the cache is closed even when the lock is refused
        if store is not None and store is not cache:  # opened here: closed here
            held.callback(store.close)
        held.callback(lock_run(path).release)
        return _run(model, store, plan, results, path, run_id, params, structured, batch_size,
                    progress)  # fmt: skip


def _run(
    model: Any, store: Any, plan: list[_Task], results: dict[str, Any], path: Path, run_id: str,
    params: GenerationParams, structured: bool, batch_size: int | None, progress: bool,
) -> RunResult:  # fmt: skip
    """Generate, score and write the samples of a planned run (its folder locked)."""
    from medlab.provenance import git_info, hardware, library_versions

    old = read_results(path)
    existing: list[SampleResult] = []
    if old or (path / SAMPLES).exists():
        if old:
            _check_resume(run_id, old, results)
        existing = read_samples(path / SAMPLES, repair=True)
    done = {r.key for r in latest_per_key(existing) if r.error is None}
    todo = [t for t in plan if t.key not in done]
    results = {
        "run_id": run_id, "status": "running",
        "started": old.get("started") or _now(), "finished": None,
        "resumed": [*old.get("resumed", []), _now()] if old else [], **results,
        "versions": library_versions(), "git": git_info(), "hardware": hardware(),
    }  # fmt: skip
    write_results(path, results)
    too_long = _too_long(model, todo)
    # a server answers `concurrency` requests at once: send it that many per call
    bs = (
        batch_size
        or getattr(model, "batch_size", None)
        or getattr(model, "concurrency", None)
        or BATCH_SIZE
    )
    counts = Counter(planned=len(plan), skipped=len(plan) - len(todo))
    new_records: list[SampleResult] = []
    t0 = time.perf_counter()
    if progress:  # tqdm.auto (notebook or terminal) imports asyncio: only for a bar shown
        from tqdm.auto import tqdm
    else:
        from tqdm import tqdm
    bar = tqdm(total=len(plan), initial=len(plan) - len(todo), desc=run_id, unit="sample",
               disable=not progress, dynamic_ncols=True)  # fmt: skip
    with SampleWriter(path / SAMPLES) as writer:
        # one generation group per (variant, repeat): same schema, same seed
        groups: dict[tuple[str, int], list[_Task]] = {}
        for t in todo:
            groups.setdefault((t.prompt.ref, t.repeat), []).append(t)
        for (_, repeat), tasks in groups.items():
            schema_name = tasks[0].prompt.schema if structured else None
            p_r = dataclasses.replace(params, seed=params.seed + repeat)
            unfit = [t for t in tasks if t.key in too_long]
            if unfit:  # never generated: each is an error sample of its own
                records = [_record(run_id, t, None, too_long[t.key], schema_name) for t in unfit]
                counts["errors"] += len(unfit)
                writer.write_batch(records)
                new_records += records
                bar.update(len(unfit))
                tasks = [t for t in tasks if t.key not in too_long]
            for i in range(0, len(tasks), bs):
                batch = tasks[i : i + bs]
                comps, errors = _answer(model, store, batch, p_r, schema_name)
                records = [
                    _record(run_id, t, c, e, schema_name) for t, c, e in zip(batch, comps, errors)
                ]
                for c in comps:
                    counts["errors" if c is None else "cached" if c.cached else "generated"] += 1
                writer.write_batch(records)
                new_records += records
                bar.update(len(batch))
                bar.set_postfix(cached=counts["cached"], errors=counts["errors"], refresh=False)
    bar.close()

    order = {t.key: n for n, t in enumerate(plan)}
    final = [r for r in latest_per_key(existing + new_records) if r.key in order]
    final.sort(key=lambda r: order[r.key])
    n_err = sum(r.error is not None for r in final)
    results.update(
        status="finished" if not n_err else "finished_with_errors",
        finished=_now(),
        wall_s=round(time.perf_counter() - t0, 3),
        counts={"errors": 0, "cached": 0, "generated": 0, **counts, "error_samples": n_err},
        **_summaries(final),
    )
    write_results(path, results)
    return RunResult(run_id=run_id, path=path, records=final, results=results)
