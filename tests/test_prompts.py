"""The prompt registry: references, hashes, the lock of published versions, Jinja variables,
malformed front matter, diffs and the CLI."""

from __future__ import annotations

import hashlib
from pathlib import Path

import pytest

from medlab.cli import main as medlab_main
from medlab.prompts import (
    PromptError,
    PromptNotFoundError,
    check_lock,
    diff_prompts,
    list_prompts,
    load_prompt,
    lock_prompts,
    normalise,
    prompts_dir,
)
from medlab.prompts import main as prompts_main

SHIPPED = [
    "emr_extractor@v1",
    "gp_assistant@v1",
    "gp_assistant@v2",
    "gp_assistant@v3",
    "gp_assistant@v4",
    "gp_assistant_en@v1",
    "gp_assistant_en@v2",
    "mcq_answer@v1",
    "rubric_grader@v1",
]

FRONT = """---
name: demo
version: 1
date: 2026-11-26
description: 测试用提示词
language: zh
output_schema: consultation
parent: null
changelog: 首个版本。
{extra}---
{body}
"""


def write_prompt(
    root: Path,
    body: str = "你是一名全科医生助手。",
    extra: str = "",
    name: str = "demo",
    version: int = 1,
) -> Path:
    path = root / name / f"v{version}.md"
    path.parent.mkdir(parents=True, exist_ok=True)
    text = FRONT.replace("name: demo", f"name: {name}").replace("version: 1", f"version: {version}")
    path.write_text(text.format(extra=extra, body=body), encoding="utf-8")
    return path


@pytest.fixture
def tmp_prompts(tmp_path, monkeypatch):
    monkeypatch.setenv("MEDLAB_PROMPTS_DIR", str(tmp_path))
    return tmp_path


def test_shipped_prompts_are_listed_and_published():
    prompts = list_prompts()
    assert [p.ref for p in prompts] == SHIPPED
    assert all(p.published for p in prompts)
    assert check_lock() == []


def test_published_prompts_are_unchanged():
    """Fails when a published prompt file is edited: publish a new version instead."""
    problems = check_lock()
    assert problems == [], "\n".join(problems)


def test_references():
    latest = load_prompt("gp_assistant")
    assert (latest.ref, latest.version) == ("gp_assistant@v4", 4)
    assert load_prompt("gp_assistant@v1").version == 1
    assert load_prompt("gp_assistant@2").ref == "gp_assistant@v2"
    assert load_prompt(latest) is latest
    assert len({latest, load_prompt("gp_assistant@v4")}) == 1  # usable as a dict key
    assert load_prompt(str(latest.path)).sha256 == latest.sha256


@pytest.mark.parametrize(
    ("ref", "message"),
    [
        ("gp_assistent", "unknown prompt 'gp_assistent'.*gp_assistant \\(v1, v2, v3, v4\\)"),
        ("gp_assistant@v9", "no version v9; available: v1, v2, v3, v4"),
        ("gp assistant@1.0", "bad prompt reference"),
    ],
)
def test_unknown_prompts_list_what_exists(ref, message):
    with pytest.raises(PromptNotFoundError, match=message):
        load_prompt(ref)


def test_front_matter_of_shipped_prompts():
    by_ref = {p.ref: p for p in list_prompts()}
    assert by_ref["gp_assistant@v1"].meta["parent"] is None
    assert by_ref["gp_assistant@v2"].meta["parent"] == "gp_assistant@v1"
    assert by_ref["gp_assistant@v3"].meta["parent"] == "gp_assistant@v2"
    assert by_ref["emr_extractor@v1"].schema == "emr_extraction"
    assert {p.schema for r, p in by_ref.items() if r.startswith("gp_")} == {"consultation"}
    assert by_ref["gp_assistant_en@v1"].language == "en"
    assert by_ref["gp_assistant_en@v2"].meta["parent"] == "gp_assistant_en@v1"
    for p in by_ref.values():
        assert p.text == p.render() and "{{" not in p.text
        assert p.meta["changelog"]
        parent = p.meta["parent"]
        if parent:  # a version is never older than the one it derives from
            assert str(by_ref[parent].meta["date"]) <= str(p.meta["date"])


@pytest.mark.parametrize(
    ("ref", "phrases"),
    [
        (
            "gp_assistant@v1",
            ["资深全科医生助手", "疑似", "可能", "非甾体抗炎药", "立即就医", '"summary"'],
        ),
        ("gp_assistant@v2", ["如症状持续超过3天或加重", "危险信号", "居家护理", "拨打120"]),
        (
            "gp_assistant@v3",
            ["只能使用以下药物类别名称", "即使用户在问题中提到了某个药名", "礼貌拒绝"],
        ),
        ("gp_assistant@v4", ["危险信号", "拨打120", "只写类别", "不要代码块", "示例（轻症）"]),
        ("emr_extractor@v1", ["patient_age", "出院诊断", "最多 8 条", "整数"]),
        ("gp_assistant_en@v1", ["red flag", "seek medical care immediately", "more than 3 days"]),
        ("gp_assistant_en@v2", ["use only these class names", "Even if the user names a drug"]),
    ],
)
def test_prompts_say_what_their_version_promises(ref, phrases):
    text = load_prompt(ref).text
    for phrase in phrases:
        assert phrase in text, phrase


def test_sha256_covers_the_normalised_file(tmp_prompts):
    path = write_prompt(tmp_prompts)
    p = load_prompt("demo")
    assert p.sha256 == hashlib.sha256(normalise(path.read_text("utf-8")).encode()).hexdigest()
    assert load_prompt("demo@v1").sha256 == p.sha256
    path.write_bytes(path.read_bytes().replace(b"\n", b"  \r\n") + b"\r\n\r\n")
    assert load_prompt("demo").sha256 == p.sha256  # CRLF and trailing whitespace do not count
    path.write_text(
        path.read_text("utf-8").replace("changelog: 首个版本。", "changelog: 首版。"), "utf-8"
    )
    assert load_prompt("demo").sha256 != p.sha256  # the front matter counts


def test_lock_publishes_new_versions_and_refuses_edits(tmp_prompts):
    v1 = write_prompt(tmp_prompts)
    assert not load_prompt("demo").published
    assert lock_prompts() == ["demo@v1"]
    assert load_prompt("demo").published and check_lock() == []
    write_prompt(tmp_prompts, body="你是一名儿科医生助手。", extra="", version=2)
    assert lock_prompts() == ["demo@v2"]
    assert lock_prompts() == []
    v1.write_text(v1.read_text("utf-8").replace("全科", "儿科"), "utf-8")
    (problem,) = check_lock()
    assert "demo@v1" in problem and "changed after publication" in problem
    with pytest.warns(UserWarning, match="edited after it was published"):
        assert not load_prompt("demo@v1").published
    with pytest.raises(PromptError, match="immutable"):
        lock_prompts()
    assert prompts_main(["--check"]) == 1
    v1.unlink()
    assert "its file is gone" in check_lock()[0]


def test_variables_defaults_and_missing(tmp_prompts):
    write_prompt(
        tmp_prompts, body="患者{{ patient }}，最多列出{{ n }}条。", extra="variables:\n  n: 5\n"
    )
    p = load_prompt("demo")
    assert p.required_variables == ["patient"]
    assert p.text == p.template  # cannot render without the variable
    with pytest.raises(PromptError, match="demo@v1: missing variable\\(s\\) 'patient'"):
        p.render()
    assert p.render(patient="张某") == "患者张某，最多列出5条。"
    assert p.render(patient="张某", n=3) == "患者张某，最多列出3条。"
    with pytest.raises(PromptError, match="unknown variable\\(s\\) patinet"):
        p.render(patinet="张某")


def test_templates_run_sandboxed(tmp_prompts):
    write_prompt(tmp_prompts, body="{{ ''.__class__.__mro__[1].__subclasses__() }}")
    with pytest.raises(PromptError):
        load_prompt("demo")


@pytest.mark.parametrize(
    ("extra", "edit", "message"),
    [
        ("", ("changelog: 首个版本。\n", ""), "v1.md:9: front matter misses field 'changelog'"),
        ("", ("version: 1", "version: 2"), "v1.md:3: front matter field 'version' is 2"),
        ("", ("language: zh", "language: cn"), "v1.md:6: front matter field 'language' is 'cn'"),
        (
            "",
            ("output_schema: consultation", "output_schema: answer"),
            "v1.md:7: front matter field 'output_schema'",
        ),
        ("", ("date: 2026-11-26", "date: 26.11.2026"), "v1.md:4: front matter field 'date'"),
        ("", ("parent: null", "parent: v0"), "v1.md:8: front matter field 'parent'"),
        (
            "",
            ("name: demo", "name: other"),
            "v1.md:2: front matter field 'name' is 'other' but the folder is 'demo'",
        ),
        (
            "",
            ("description: 测试用提示词", "description: [未闭合"),
            "v1.md:6: malformed front matter: .* flow sequence at line 5",
        ),
        ("variables: [n]\n", ("", ""), "v1.md:10: front matter field 'variables'"),
        ("", ("---\nname", "name"), "v1.md:1: a prompt file starts with YAML front matter"),
    ],
)
def test_malformed_front_matter_names_file_line_and_field(tmp_prompts, extra, edit, message):
    path = write_prompt(tmp_prompts, extra=extra)
    path.write_text(path.read_text("utf-8").replace(*edit, 1), "utf-8")
    with pytest.raises(PromptError, match=message.replace("[", "\\[")):
        load_prompt("demo")


def test_diff_is_a_unified_diff_labelled_with_refs():
    diff = diff_prompts("gp_assistant@v1", "gp_assistant@v2")
    assert diff.startswith("--- gp_assistant@v1\n+++ gp_assistant@v2\n@@")
    assert "-version: 1\n+version: 2\n" in diff
    assert "+parent: gp_assistant@v1\n" in diff
    assert any(line.startswith("+") and "危险信号" in line for line in diff.splitlines())
    assert diff_prompts("gp_assistant@v2", "gp_assistant@v2") == ""


def test_cli(capsys):
    assert medlab_main(["prompts", "list"]) == 0
    out = capsys.readouterr().out
    assert [line.split()[0] for line in out.splitlines()] == SHIPPED and "published" in out
    assert medlab_main(["prompts", "diff", "gp_assistant@v3"]) == 0
    assert capsys.readouterr().out == diff_prompts("gp_assistant@v2", "gp_assistant@v3")
    assert medlab_main(["prompts", "show", "gp_assistant@v1"]) == 0
    assert load_prompt("gp_assistant@v1").text in capsys.readouterr().out
    assert medlab_main(["prompts", "show", "nope"]) == 2
    assert "unknown prompt 'nope'" in capsys.readouterr().err
    assert prompts_main(["--check"]) == 0


def test_repo_prompts_dir_is_found_relative_to_the_package(monkeypatch):
    monkeypatch.delenv("MEDLAB_PROMPTS_DIR", raising=False)
    assert prompts_dir() == Path(__file__).resolve().parents[1] / "prompts"
