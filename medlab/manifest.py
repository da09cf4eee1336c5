"""The run manifest: what ``<run>/results.json`` records about a run, as typed, frozen values.

:class:`RunManifest` holds the run id and status, the configuration and seed, the model's
info and fingerprint, the prompts and eval sets with their sha256, the (variant, eval set)
pairs, library versions, git commit, hardware, counts, timings, the summary and, once the run
is judged, the grader's record. This module alone reads and writes ``results.json``
(atomically: a temporary file, then a rename); everything else goes through
:func:`read_manifest` and :func:`write_manifest`.

``format_version`` says how the file is laid out. A file written before the field existed
reads as version 1 (its keys are those of version 2, less ``format_version``); a file from a
newer medlab is refused with an error naming it. Keys this version does not know are kept in
``extra`` and written back unchanged.
"""

from __future__ import annotations

import dataclasses
import json
import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from medlab.runfiles import dumps

__all__ = ["FORMAT_VERSION", "RESULTS", "Counts", "EvalSetEntry", "JudgeRecord", "ManifestError", "PairEntry",
           "PromptEntry", "RunConfig", "RunManifest", "read_manifest", "read_results",
           "write_manifest", "write_results"]  # fmt: skip

RESULTS = "results.json"
FORMAT_VERSION = 2  # 1: results.json before format_version was written (same keys otherwise)


class ManifestError(ValueError):
    """A results.json this medlab cannot read: not JSON, a newer format, a malformed field."""


@dataclass(frozen=True)
class PromptEntry:
    """One prompt variant of the run; ``edited``: changed after it was published."""

    ref: str
    name: str
    version: Any
    sha256: str
    schema: str | None = None
    language: str | None = None
    edited: bool = False

    def to_dict(self) -> dict[str, Any]:
        d = dataclasses.asdict(self)
        if not self.edited:
            del d["edited"]
        return d


@dataclass(frozen=True)
class EvalSetEntry:
    """One eval set: its name, how it was named or located (``spec``), its sha256, its item
    count (after ``limit``) and items per task."""

    name: str
    spec: str
    sha256: str | None
    items: int
    tasks: dict[str, int] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        return dataclasses.asdict(self)


@dataclass(frozen=True)
class PairEntry:
    """How many items of ``eval_set`` the prompt ``variant`` answers (per repeat)."""

    variant: str
    eval_set: str
    items: int

    def to_dict(self) -> dict[str, Any]:
        return dataclasses.asdict(self)


@dataclass(frozen=True)
class RunConfig:
    """The settings a resumed run must share with its start (``batch_size`` and ``cache``
    excepted): generation ``params`` as ``GenerationParams.to_dict()``."""

    model: str
    params: dict[str, Any]
    structured: bool
    repeats: int
    limit: int | None = None
    batch_size: int | None = None
    cache: str | None = None

    RESUME_FIELDS = ("params", "structured", "repeats", "limit")

    def to_dict(self) -> dict[str, Any]:
        return dataclasses.asdict(self)


@dataclass(frozen=True)
class Counts:
    """Samples planned; skipped (finished before a resume); answered this time from the cache
    or the backend, or failed (``errors``); and error samples in the final records."""

    errors: int = 0
    cached: int = 0
    generated: int = 0
    planned: int = 0
    skipped: int = 0
    error_samples: int = 0

    def to_dict(self) -> dict[str, int]:
        return dataclasses.asdict(self)


@dataclass(frozen=True)
class JudgeRecord:
    """How the run was last judged (:mod:`medlab.judge`): the grader's info (with its
    ``fingerprint``), the grader prompt, its generation params, and what was graded."""

    grader: dict[str, Any]
    prompt: dict[str, Any]  # {"ref", "sha256"}
    params: dict[str, Any] = field(default_factory=dict)
    constrained: bool = True
    limit: int | None = None
    counts: dict[str, int] = field(default_factory=dict)
    finished: str | None = None

    @property
    def fingerprint(self) -> str | None:
        """The grader's fingerprint: the verdicts that count are this grader's."""
        return self.grader.get("fingerprint")

    @property
    def prompt_sha256(self) -> str | None:
        return self.prompt.get("sha256")

    def to_dict(self) -> dict[str, Any]:
        return dataclasses.asdict(self)


@dataclass(frozen=True)
class RunManifest:
    """Everything ``results.json`` says about a run (see the module docstring). ``model``,
    ``versions``, ``git``, ``hardware`` and ``judge`` are the free-form records of their
    producers (``Backend.info()``, :mod:`medlab.provenance`); ``wall_s``,
    ``counts`` and ``summary`` are None until the run ends."""

    run_id: str
    status: str
    config: RunConfig
    seed: int | None
    model: dict[str, Any]
    prompts: tuple[PromptEntry, ...]
    eval_sets: tuple[EvalSetEntry, ...]
    pairs: tuple[PairEntry, ...] = ()
    started: str | None = None
    finished: str | None = None
    resumed: tuple[str, ...] = ()
    versions: dict[str, Any] = field(default_factory=dict)
    git: dict[str, Any] = field(default_factory=dict)
    hardware: dict[str, Any] = field(default_factory=dict)
    wall_s: float | None = None
    counts: Counts | None = None
    summary: tuple[dict[str, Any], ...] | None = None
    judge: JudgeRecord | None = None
    extra: dict[str, Any] = field(default_factory=dict)
    format_version: int = FORMAT_VERSION

    @property
    def fingerprint(self) -> str | None:
        return self.model.get("fingerprint")

    def replace(self, **changes: Any) -> RunManifest:
        return dataclasses.replace(self, **changes)

    def to_dict(self) -> dict[str, Any]:
        """The results.json object (keys in the order the file has always had them)."""
        d: dict[str, Any] = {
            "format_version": self.format_version, "run_id": self.run_id,
            "status": self.status, "started": self.started, "finished": self.finished,
            "resumed": list(self.resumed), "config": self.config.to_dict(), "seed": self.seed,
            "model": dict(self.model), "prompts": [p.to_dict() for p in self.prompts],
            "eval_sets": [s.to_dict() for s in self.eval_sets],
            "pairs": [p.to_dict() for p in self.pairs], "versions": dict(self.versions),
            "git": dict(self.git), "hardware": dict(self.hardware),
        }  # fmt: skip
        if self.wall_s is not None:
            d["wall_s"] = self.wall_s
        if self.counts is not None:
            d["counts"] = self.counts.to_dict()
        if self.summary is not None:
            d["summary"] = [dict(r) for r in self.summary]
        if self.judge is not None:
            d["judge"] = self.judge.to_dict()
        return {**d, **{k: v for k, v in self.extra.items() if k not in d}}

    @classmethod
    def from_dict(
        cls, d: Mapping[str, Any], source: str = RESULTS, run_id: str | None = None
    ) -> RunManifest:
        """Read a results.json object (``source`` names it in errors; ``run_id``: the id when
        the object has none)."""
        if not isinstance(d, Mapping):
            raise ManifestError(f"{source}: not a JSON object")
        version = d.get("format_version", 1)
        if not isinstance(version, int) or isinstance(version, bool) or version < 1:
            raise ManifestError(f"{source}: format_version {version!r} is not a version number")
        if version > FORMAT_VERSION:
            raise ManifestError(
                f"{source}: format_version {version} is newer than this medlab reads "
                f"(up to {FORMAT_VERSION}); upgrade medlab to read this run"
            )

        def part(key: str, build: Any, value: Any) -> Any:
            try:
                return build(value)
            except (KeyError, TypeError, ValueError, AttributeError) as e:
                raise ManifestError(f"{source}: field {key!r}: {e!r}") from e

        def entries(key: str, kind: type) -> tuple[Any, ...]:
            return tuple(
                part(f"{key}[{i}]", lambda v, k=kind: k(**v), v)
                for i, v in enumerate(d.get(key) or [])
            )

        known = {f.name for f in dataclasses.fields(cls)} - {"extra"}
        counts, summary, judge = d.get("counts"), d.get("summary"), d.get("judge")
        return cls(
            run_id=d.get("run_id") or run_id or "",
            status=d.get("status", "unknown"),
            config=part("config", lambda v: RunConfig(**v), d.get("config") or {}),
            seed=d.get("seed"),
            model=dict(d.get("model") or {}),
            prompts=entries("prompts", PromptEntry),
            eval_sets=entries("eval_sets", EvalSetEntry),
            pairs=entries("pairs", PairEntry),
            started=d.get("started"),
            finished=d.get("finished"),
            resumed=tuple(d.get("resumed") or ()),
            versions=dict(d.get("versions") or {}),
            git=dict(d.get("git") or {}),
            hardware=dict(d.get("hardware") or {}),
            wall_s=d.get("wall_s"),
            counts=None if counts is None else part("counts", lambda v: Counts(**v), counts),
            summary=None if summary is None else tuple(dict(r) for r in summary),
            judge=None if judge is None else part("judge", lambda v: JudgeRecord(**v), judge),
            extra={k: v for k, v in d.items() if k not in known},
            format_version=FORMAT_VERSION,  # read in this version's shape: written back as it
        )


def write_manifest(run_dir: str | Path, manifest: RunManifest) -> Path:
    """Replace ``<run_dir>/results.json`` atomically with ``manifest``."""
    path = Path(run_dir) / RESULTS
    tmp = path.with_suffix(".json.tmp")
    tmp.write_text(dumps(manifest.to_dict(), indent=2) + "\n", encoding="utf-8")
    os.replace(tmp, path)
    return path


def read_manifest(run_dir: str | Path) -> RunManifest | None:
    """The manifest in ``<run_dir>/results.json``; None when there is no such file."""
    path = Path(run_dir) / RESULTS
    if not path.exists():
        return None
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except ValueError as e:
        raise ManifestError(f"{path}: not valid JSON ({e})") from e
    return RunManifest.from_dict(data, source=str(path), run_id=Path(run_dir).name)


def read_results(run_dir: str | Path) -> dict[str, Any]:
    """results.json as a plain dict (``{}`` when absent), read through :func:`read_manifest`."""
    manifest = read_manifest(run_dir)
    return manifest.to_dict() if manifest else {}


def write_results(run_dir: str | Path, results: Mapping[str, Any]) -> Path:
    """Write a plain results dict, checked by reading it as a :class:`RunManifest`."""
    return write_manifest(run_dir, RunManifest.from_dict(results, source=str(run_dir)))
