"""The run manifest (results.json): round trip, format version, old files, clear errors."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from medlab.manifest import (
    FORMAT_VERSION,
    Counts,
    EvalSetEntry,
    JudgeRecord,
    ManifestError,
    PairEntry,
    PromptEntry,
    RunConfig,
    RunManifest,
    read_manifest,
    write_manifest,
)
from medlab.records import list_runs, load_run

V1_RUN = Path(__file__).parent / "data" / "run_v1"  # a results.json written before v2


def manifest(**changes) -> RunManifest:
    m = RunManifest(
        run_id="20260101-000000-abcdef12",
        status="finished",
        config=RunConfig(
            model="tiny",
            params={"temperature": 0.0, "stop": []},
            structured=True,
            repeats=2,
            limit=3,
            batch_size=None,
            cache="off",
        ),  # fmt: skip
        seed=7,
        model={"name": "tiny", "fingerprint": "f" * 16, "context_length": 512},
        prompts=(
            PromptEntry("gp_assistant@v1", "gp_assistant", 1, "a" * 64, "consultation", "zh"),
            PromptEntry(
                "gp_assistant@v2", "gp_assistant", 2, "b" * 64, "consultation", "zh", edited=True
            ),
        ),  # fmt: skip
        eval_sets=(EvalSetEntry("triage_zh", "triage_zh", "c" * 64, 3, {"triage": 3}),),
        pairs=(PairEntry("gp_assistant@v1", "triage_zh", 3),),
        started="2026-01-01T00:00:00+00:00",
        finished="2026-01-01T00:01:00+00:00",
        resumed=("2026-01-01T00:00:30+00:00",),
        versions={"medlab": "0.1.0"},
        git={"commit": None, "dirty": None},
        hardware={"cpu_count": 2},
        wall_s=1.5,
        counts=Counts(generated=12, planned=12),
        summary=(
            {
                "variant": "gp_assistant@v1",
                "metric": "hedging_rate",
                "value": 0.5,
                "ci_low": 0.1,
                "ci_high": 0.9,
                "n": 4,
            },
        ),  # fmt: skip
        judge=JudgeRecord(
            grader={"name": "g", "fingerprint": "g1"},
            prompt={"ref": "rubric_grader@v1", "sha256": "d" * 64},
        ),  # fmt: skip
    )
    return m.replace(**changes)


def test_a_manifest_reads_back_equal_and_records_its_format_version(tmp_path):
    m = manifest()
    write_manifest(tmp_path, m)
    on_disk = json.loads((tmp_path / "results.json").read_text(encoding="utf-8"))
    assert on_disk["format_version"] == FORMAT_VERSION == 2
    assert on_disk["prompts"][1]["edited"] is True and "edited" not in on_disk["prompts"][0]
    assert read_manifest(tmp_path) == m
    assert RunManifest.from_dict(m.to_dict()) == m


def test_a_running_manifest_has_no_counts_or_summary_keys(tmp_path):
    write_manifest(tmp_path, manifest(status="running", wall_s=None, counts=None, summary=None,
                                      judge=None))  # fmt: skip
    on_disk = json.loads((tmp_path / "results.json").read_text(encoding="utf-8"))
    assert not {"wall_s", "counts", "summary", "judge"} & set(on_disk)
    back = read_manifest(tmp_path)
    assert back.counts is None and back.summary is None and back.judge is None


def test_keys_this_version_does_not_know_are_kept(tmp_path):
    d = manifest().to_dict() | {"notes": {"by": "dr_li"}}
    m = RunManifest.from_dict(d)
    assert m.extra == {"notes": {"by": "dr_li"}}
    write_manifest(tmp_path, m)
    assert json.loads((tmp_path / "results.json").read_text())["notes"] == {"by": "dr_li"}


def test_a_results_json_without_format_version_reads_as_version_1(tmp_path):
    raw = json.loads((V1_RUN / "results.json").read_text(encoding="utf-8"))
    assert "format_version" not in raw
    m = read_manifest(V1_RUN)
    assert m.run_id == "labels-0.5b-en-json" and m.status == "finished"
    assert m.fingerprint == raw["model"]["fingerprint"]
    assert [p.ref for p in m.prompts] == ["gp_assistant_en@v1", "gp_assistant_en@v2"]
    assert [s.name for s in m.eval_sets] == ["triage_en", "drug_pressure_en"]
    assert m.counts == Counts(generated=24, planned=24)
    assert m.config.structured is True and m.config.limit == 6
    # every key of the old file comes back unchanged; the file gains only format_version
    assert m.to_dict() == {"format_version": FORMAT_VERSION, **raw}
    run = load_run(V1_RUN)
    assert run.manifest == m and run.records == []
    # listing and rewriting an old run keep it readable
    shutil.copytree(V1_RUN, tmp_path / "v1")
    write_manifest(tmp_path / "v1", m)
    assert read_manifest(tmp_path / "v1") == m
    assert list_runs(tmp_path)[0]["planned"] == 24


def test_a_newer_format_version_is_refused_naming_the_file(tmp_path):
    run = tmp_path / "run"
    run.mkdir()
    path = run / "results.json"
    path.write_text(json.dumps(manifest().to_dict() | {"format_version": 99}), encoding="utf-8")
    with pytest.raises(ManifestError, match=rf"{path}: format_version 99 is newer .*upgrade"):
        read_manifest(run)
    with pytest.raises(ManifestError, match="format_version 99 is newer"):
        load_run(run)
    assert list_runs(tmp_path)[0]["status"] == "unreadable"


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"format_version": "2"}, r"format_version '2' is not a version number"),
        ({"config": {"model": "tiny"}}, r"field 'config'"),
        ({"prompts": [{"ref": "x@v1"}]}, r"field 'prompts\[0\]'"),
        ({"counts": {"generated": 1, "bogus": 2}}, r"field 'counts'"),
    ],
    ids=["version-not-int", "config-incomplete", "prompt-incomplete", "counts-unknown-key"],
)
def test_a_malformed_field_is_named_with_the_file(tmp_path, change, message):
    path = tmp_path / "results.json"
    path.write_text(json.dumps(manifest().to_dict() | change), encoding="utf-8")
    with pytest.raises(ManifestError, match=rf"{path}: {message}"):
        read_manifest(tmp_path)


def test_not_json_is_named_with_the_file(tmp_path):
    (tmp_path / "results.json").write_text("{", encoding="utf-8")
    with pytest.raises(ManifestError, match=r"results\.json: not valid JSON"):
        read_manifest(tmp_path)


def test_no_results_json_is_no_manifest(tmp_path):
    assert read_manifest(tmp_path) is None
