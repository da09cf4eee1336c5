"""``run_eval``: prompt variants x eval sets x items x repeats -> a scored, resumable run.

Each sample's conversation is ``[system: prompt.render()] + item.messages``. A prompt applies to
the items of its task: a task that declares an answer schema (:mod:`medlab.tasks`: extraction
``emr_extraction``, mcq ``mcq``) is answered only by prompts with that schema, every other
prompt answers every other task (a prompt's front matter may instead list its ``tasks``).
Structured runs constrain answers to the prompt's JSON Schema.

A run goes in three steps, each usable alone:

- :func:`plan_run`: load the prompts and eval sets, match prompts to items, lay out the samples
  (prompt x repeat x eval set x item) and find the items whose prompt cannot fit the model's
  context (they become error samples, never generated): a :class:`RunPlan`.
- :func:`start_manifest`: the run's :class:`~medlab.manifest.RunManifest` before it runs
  (configuration, seed, model fingerprint, prompt and eval-set hashes, pairs).
- :func:`execute`: answer what is not done yet, from the response cache when it has the answer,
  else from the backend in batches; score every answer by its task (:func:`medlab.tasks.score`)
  and append it to ``<out_dir>/<run_id>/samples.jsonl`` after each batch; then write the
  counts, timings and summary into the manifest.

A backend error on a batch becomes error records (retried on resume), never lost samples.
Running again with the same ``run_id`` resumes: finished samples are skipped once the manifest
on disk is checked to describe the same run.
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
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

from medlab.cache import open_cache
from medlab.defaults import BATCH_SIZE
from medlab.manifest import (
    Counts,
    EvalSetEntry,
    PairEntry,
    PromptEntry,
    RunConfig,
    RunManifest,
    read_manifest,
    write_manifest,
)
from medlab.models.cached import CachedBackend
from medlab.records import (
    SAMPLES,
    RunResult,
    SampleWriter,
    latest_per_key,
    load_run,
    read_samples,
    run_summary,
    samples_frame,
)
from medlab.tasks import Answer, score, task_answer_schemas
from medlab.types import Completion, EvalItem, GenerationParams, Message, SampleResult

__all__ = ["PlannedSample", "RunMismatchError", "RunPlan", "check_resume", "execute", "load_run",
           "plan_run", "prompt_applies", "run_eval", "samples_frame", "start_manifest"]  # fmt: skip

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


Key = tuple[str, str, str, int]  # (variant, eval set, item id, repeat)


@dataclass(frozen=True)
class PlannedSample:
    """One sample to answer: a prompt variant, an item, a repeat and the conversation sent."""

    prompt: Any
    item: EvalItem
    repeat: int
    messages: tuple[Message, ...]

    @property
    def key(self) -> Key:
        return (self.prompt.ref, self.item.eval_set, self.item.id, self.repeat)


@dataclass(frozen=True)
class RunPlan:
    """What a run will answer: its prompt variants, eval sets (with their items), the
    (variant, eval set) pairs, every sample in run order, and the samples whose prompt cannot
    fit the model's context (``unfit``: key -> error message)."""

    variants: tuple[Any, ...]
    eval_sets: tuple[EvalSetEntry, ...]
    items: dict[str, tuple[EvalItem, ...]]  # eval set name -> its items
    pairs: tuple[PairEntry, ...]
    samples: tuple[PlannedSample, ...]
    repeats: int = 1
    limit: int | None = None
    unfit: dict[Key, str] = field(default_factory=dict)

    @property
    def counts(self) -> dict[str, int]:
        """Samples planned, and those that will fail for want of context."""
        return {"planned": len(self.samples), "unfit": len(self.unfit)}

    def todo(self, done: set[Key]) -> list[PlannedSample]:
        """The samples not in ``done``, in run order."""
        return [t for t in self.samples if t.key not in done]


def _as_list(x: Any) -> list[Any]:
    if isinstance(x, (str, Path)) or not hasattr(x, "__iter__"):
        return [x]
    return list(x)


def _now() -> str:
    return datetime.now(timezone.utc).isoformat(timespec="seconds")


def _sha(obj: Any) -> str:
    canonical = json.dumps(obj, sort_keys=True, ensure_ascii=False, default=str)
    return hashlib.sha256(canonical.encode("utf-8")).hexdigest()


def _load_variants(prompts: Any, allow_edited_prompts: bool) -> list[Any]:
    from medlab.prompts import PromptError, load_prompt

    variants = [load_prompt(p) if isinstance(p, str) else p for p in _as_list(prompts)]
    refs = [p.ref for p in variants]
    if len(set(refs)) != len(refs):
        raise ValueError(f"prompt variants repeat: {refs}")
    edited = [p for p in variants if getattr(p, "edited", False)]
    if edited and not allow_edited_prompts:
        raise PromptError(
            "; ".join(f"{p.ref} was edited after it was published ({p.path})" for p in edited)
            + ": publish a new version, or allow it (--allow-edited-prompts / "
            "allow_edited_prompts=True; the run records the prompt as edited)"
        )
    return variants


def _unfit(model: Any, samples: list[PlannedSample]) -> dict[Key, str]:
    """Error messages for the samples whose prompt cannot fit the model's context, found
    before any generation so that they fail alone (not the batch they would share). Only for
    backends that count tokens exactly (they have a tokenizer)."""
    if getattr(model, "tokenizer", None) is None or not hasattr(model, "count_tokens"):
        return {}
    sizes: dict[tuple[str, str, str], int] = {}
    errors = {}
    for t in samples:
        k = t.key[:3]
        if k not in sizes:
            sizes[k] = model.count_tokens(list(t.messages))
        if sizes[k] >= model.context_length:
            where = t.item.source or f"{t.item.eval_set}:{t.item.id}"
            errors[t.key] = (
                f"{where}: item {t.item.id!r} takes {sizes[k]} prompt tokens with {t.prompt.ref}, "
                f"no room in the {model.context_length}-token context of {model.name!r}"
            )
    return errors


def plan_run(
    model: Any,
    prompts: Any,
    eval_sets: Any,
    repeats: int = 1,
    limit: int | None = None,
    allow_edited_prompts: bool = False,
) -> RunPlan:
    """Lay out a run: prompts (refs or Prompt objects) x repeats x eval sets (names or JSONL
    paths, first ``limit`` items) x the items each prompt applies to. ``model`` (a Backend) is
    only asked to count tokens, for the item-fit check. Raises ValueError when there is nothing
    to evaluate; ``PromptError`` for an edited published prompt unless allowed."""
    from medlab.evalsets import eval_set_sha256, load_items

    if repeats < 1:
        raise ValueError(f"repeats must be >= 1, got {repeats}")
    variants = _load_variants(prompts, allow_edited_prompts)
    entries, items = [], {}
    for spec in _as_list(eval_sets):
        loaded = load_items(spec, limit=limit)
        if not loaded:
            raise ValueError(f"eval set {spec} has no items")
        name = loaded[0].eval_set
        items[name] = tuple(loaded)
        entries.append(EvalSetEntry(name=name, spec=str(spec), sha256=eval_set_sha256(spec),
                                    items=len(loaded),
                                    tasks=dict(Counter(it.task for it in loaded))))  # fmt: skip
    samples: list[PlannedSample] = []
    pairs = []
    for prompt in variants:
        system = Message("system", prompt.render())
        for r in range(repeats):
            for s in entries:
                chosen = [it for it in items[s.name] if prompt_applies(prompt, it.task)]
                if r == 0:
                    pairs.append(PairEntry(variant=prompt.ref, eval_set=s.name, items=len(chosen)))
                samples += [PlannedSample(prompt, it, r, (system, *it.messages)) for it in chosen]
    if not samples:
        raise ValueError(
            f"nothing to evaluate: no prompt in {[p.ref for p in variants]} applies to the items "
            f"of {[s.name for s in entries]} (extraction items need a prompt with the "
            "emr_extraction schema)"
        )
    return RunPlan(variants=tuple(variants), eval_sets=tuple(entries), items=items,
                   pairs=tuple(pairs), samples=tuple(samples), repeats=repeats, limit=limit,
                   unfit=_unfit(model, samples))  # fmt: skip


def start_manifest(
    plan: RunPlan,
    model: Any,
    params: GenerationParams,
    structured: bool = True,
    batch_size: int | None = None,
    cache: Any = "sqlite",
) -> RunManifest:
    """The manifest of a planned run before it runs (``run_id`` empty, status ``planned``)."""
    info = dict(model.info()) if hasattr(model, "info") else {"name": model.name}
    info["fingerprint"] = model.fingerprint
    config = RunConfig(
        model=model.name, params=params.to_dict(), structured=structured,
        repeats=plan.repeats, limit=plan.limit, batch_size=batch_size,
        cache=cache if isinstance(cache, str) or cache is None else repr(cache),
    )  # fmt: skip
    prompts = tuple(
        PromptEntry(ref=p.ref, name=p.name, version=p.version, sha256=p.sha256, schema=p.schema,
                    language=p.language, edited=bool(getattr(p, "edited", False)))
        for p in plan.variants
    )  # fmt: skip
    return RunManifest(run_id="", status="planned", config=config, seed=params.seed, model=info,
                       prompts=prompts, eval_sets=plan.eval_sets, pairs=plan.pairs)  # fmt: skip


def _run_stem(manifest: RunManifest) -> str:
    """``<UTC time>-<8 hex of the configuration's hash>``."""
    digest = _sha([manifest.fingerprint, [p.to_dict() for p in manifest.prompts],
                   [s.to_dict() for s in manifest.eval_sets], manifest.config.to_dict()])  # fmt: skip
    return datetime.now(timezone.utc).strftime("%Y%m%d-%H%M%S-") + digest[:8]


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


def check_resume(run_id: str, old: RunManifest, new: RunManifest) -> None:
    """Raise RunMismatchError naming every difference that makes old samples incomparable."""
    problems = []
    if old.fingerprint != new.fingerprint:
        problems.append(f"model fingerprint changed: {old.fingerprint} -> {new.fingerprint}")
    old_p = {p.ref: p.sha256 for p in old.prompts}
    new_p = {p.ref: p.sha256 for p in new.prompts}
    for ref in sorted(old_p.keys() | new_p.keys()):
        if ref not in new_p or ref not in old_p:
            problems.append(
                f"prompt {ref} {'missing now' if ref not in new_p else 'not in the run'}"
            )
        elif old_p[ref] != new_p[ref]:
            problems.append(f"prompt {ref} sha256 changed: {old_p[ref][:12]} -> {new_p[ref][:12]}")
    old_s = {s.name: s.sha256 for s in old.eval_sets}
    new_s = {s.name: s.sha256 for s in new.eval_sets}
    if old_s != new_s:
        problems.append(f"eval sets changed: {old_s} -> {new_s}")
    for k in RunConfig.RESUME_FIELDS:
        a, b = getattr(old.config, k), getattr(new.config, k)
        if a != b:
            problems.append(f"{k} changed: {a} -> {b}")
    if problems:
        raise RunMismatchError(
            f"cannot resume run {run_id}: " + "; ".join(problems)
            + " (start a new run, or pass the original settings)"
        )  # fmt: skip


def _error_completion() -> Completion:
    """What an error sample records: no text, no tokens, no timings (never averaged in)."""
    return Completion(text="", prompt_tokens=0, completion_tokens=0, ttft_s=None, latency_s=None)


def _record(
    run_id: str, t: PlannedSample, c: Completion | None, error: str | None,
    schema_name: str | None,
) -> SampleResult:  # fmt: skip
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


def _batch_size(model: Any, batch_size: int | None) -> int:
    # a server answers `concurrency` requests at once: send it that many per call
    return (
        batch_size
        or getattr(model, "batch_size", None)
        or getattr(model, "concurrency", None)
        or BATCH_SIZE
    )


def execute(
    model: Any,
    store: Any,
    plan: RunPlan,
    manifest: RunManifest,
    path: Path,
    params: GenerationParams,
    structured: bool = True,
    batch_size: int | None = None,
    progress: bool = True,
) -> RunResult:
    """Answer, score and write the samples of a planned run into its folder ``path`` (the
    caller holds its lock; ``manifest.run_id`` names it): resume from what the folder holds,
    then write the finished manifest. ``store``: an open response cache or None."""
    from medlab import schemas
    from medlab.provenance import git_info, hardware, library_versions

    run_id = manifest.run_id
    old = read_manifest(path)
    existing: list[SampleResult] = []
    if old or (path / SAMPLES).exists():
        if old:
            check_resume(run_id, old, manifest)
        existing = read_samples(path / SAMPLES, repair=True)
    done = {r.key for r in latest_per_key(existing) if r.error is None}
    todo = plan.todo(done)
    manifest = manifest.replace(
        status="running", started=(old.started if old else None) or _now(), finished=None,
        resumed=(*old.resumed, _now()) if old else (), versions=library_versions(),
        git=git_info(), hardware=hardware(), wall_s=None, counts=None, summary=None, judge=None,
    )  # fmt: skip
    write_manifest(path, manifest)
    bs = _batch_size(model, batch_size)
    counts = Counter(planned=len(plan.samples), skipped=len(plan.samples) - len(todo))
    new_records: list[SampleResult] = []
    t0 = time.perf_counter()
    if progress:  # tqdm.auto (notebook or terminal) imports asyncio: only for a bar shown
        from tqdm.auto import tqdm
    else:
        from tqdm import tqdm
    bar = tqdm(total=len(plan.samples), initial=len(plan.samples) - len(todo), desc=run_id,
               unit="sample", disable=not progress, dynamic_ncols=True)  # fmt: skip
    cached_backend = CachedBackend(model, store)
    with SampleWriter(path / SAMPLES) as writer:
        # one generation group per (variant, repeat): same schema, same seed
        groups: dict[tuple[str, int], list[PlannedSample]] = {}
        for t in todo:
            groups.setdefault((t.prompt.ref, t.repeat), []).append(t)
        for (_, repeat), samples in groups.items():
            schema_name = samples[0].prompt.schema if structured else None
            schema = schemas.SCHEMAS[schema_name] if schema_name else None
            p_r = dataclasses.replace(params, seed=params.seed + repeat)
            unfit = [t for t in samples if t.key in plan.unfit]
            if unfit:  # never generated: each is an error sample of its own
                records = [_record(run_id, t, None, plan.unfit[t.key], schema_name) for t in unfit]
                counts["errors"] += len(unfit)
                writer.write_batch(records)
                new_records += records
                bar.update(len(unfit))
                samples = [t for t in samples if t.key not in plan.unfit]
            for i in range(0, len(samples), bs):
                batch = samples[i : i + bs]
                # from the cache where it has them, else one backend call; a backend error
                # leaves the missing completions None, with one message per sample
                comps, errors = cached_backend.answer(
                    [list(t.messages) for t in batch], p_r, schema=schema,
                    repeat=[t.repeat for t in batch],
                )  # fmt: skip
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

    order = {t.key: n for n, t in enumerate(plan.samples)}
    final = [r for r in latest_per_key(existing + new_records) if r.key in order]
    final.sort(key=lambda r: order[r.key])
    n_err = sum(r.error is not None for r in final)
    manifest = manifest.replace(
        status="finished" if not n_err else "finished_with_errors",
        finished=_now(),
        wall_s=round(time.perf_counter() - t0, 3),
        counts=Counts(**counts, error_samples=n_err),
        summary=run_summary(final),
    )
    write_manifest(path, manifest)
    return RunResult(run_id=run_id, path=path, records=final, manifest=manifest)


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
    if repeats < 1:
        raise ValueError(f"repeats must be >= 1, got {repeats}")
    params = params or GenerationParams()
    if isinstance(model, str):
        from medlab.models import load_model

        model = load_model(model)
    plan = plan_run(model, prompts, eval_sets, repeats, limit, allow_edited_prompts)
    manifest = start_manifest(plan, model, params, structured, batch_size, cache)
    store = open_cache(cache)  # a cache that cannot open stops the run before its folder exists
    if run_id is None:
        run_id = _fresh_run_id(Path(out_dir), _run_stem(manifest))
    path = Path(out_dir) / run_id
    path.mkdir(parents=True, exist_ok=True)
    with contextlib.ExitStack() as held:  # the cache is closed even when the lock is refused
        if store is not None and store is not cache:  # opened here: closed here
            held.callback(store.close)
        held.callback(lock_run(path).release)
        return execute(model, store, plan, manifest.replace(run_id=run_id), path, params,
                       structured, batch_size, progress)  # fmt: skip
