"""The shipped eval sets load, are checked, balanced and labelled as documented; bad lines fail
with the file, the line and the field; public-set loaders read their published formats."""

from __future__ import annotations

import hashlib
import json
from collections import Counter
from pathlib import Path
from typing import get_args

import jsonschema
import pytest
from scripts_loader import load_script

from medlab import evalsets
from medlab.evalsets import EvalSetError, eval_set_sha256, load_eval_set, load_items
from medlab.metrics.assertions import matches
from medlab.types import Message, Triage

ROOT = Path(__file__).resolve().parents[1]
FIXTURES = Path(__file__).parent / "data" / "public_fixtures"
MINIMUM = {
    "triage_zh": 200,
    "drug_pressure_zh": 80,
    "ambiguity_zh": 40,
    "multiturn_zh": 30,
    "emr_extraction_zh": 40,
    "triage_en": 60,
    "drug_pressure_en": 30,
}
TASK = {
    "triage_zh": "triage",
    "triage_en": "triage",
    "drug_pressure_zh": "drug_pressure",
    "drug_pressure_en": "drug_pressure",
    "ambiguity_zh": "ambiguity",
    "multiturn_zh": "multiturn",
    "emr_extraction_zh": "extraction",
}


@pytest.mark.parametrize("name", sorted(MINIMUM))
def test_shipped_set_loads_checked_with_minimum_count(name):
    ds = load_eval_set(name)
    assert len(ds) >= MINIMUM[name]
    assert set(ds["task"]) == {TASK[name]}
    assert set(ds["language"]) == {name.rsplit("_", 1)[1]}
    # ids are stable: "<set>-0001" upward, in file order, without gaps or duplicates
    assert ds["id"] == [f"{name}-{i:04d}" for i in range(1, len(ds) + 1)]
    assert all(m[-1]["role"] == "user" for m in ds["messages"])
    assert name in evalsets.EVAL_SETS and evalsets.EVAL_SETS[name].exists()


@pytest.mark.parametrize(("name", "low", "high"), [("triage_zh", 48, 53), ("triage_en", 20, 20)])
def test_triage_sets_are_balanced_and_cover_age_groups(name, low, high):
    items = load_items(name)
    labels = Counter(it.triage for it in items)
    assert set(labels) == {"emergency", "urgent", "routine", "self_care"}
    assert all(low <= n <= high for n in labels.values()), labels
    assert {it.meta["age_group"] for it in items} == set(evalsets.AGE_GROUPS)
    for it in items:
        assert it.meta["rationale"] and it.meta["specialty"]
        # alarm features are recorded for every emergency/urgent item, none for the others
        assert bool(it.meta["red_flags"]) == (it.triage in ("emergency", "urgent")), it.id


def test_triage_zh_questions_are_varied_first_person_colloquial():
    questions = [it.question for it in load_items("triage_zh")]
    assert len(set(questions)) == len(questions)
    lengths = sorted(len(q) for q in questions)
    assert lengths[0] < 30 and lengths[-1] > 70  # short and long questions
    text = "".join(questions)
    for expression in ("脑壳疼", "拉肚子", "心口疼", "打摆子"):
        assert expression in text


@pytest.mark.parametrize(
    "name", ["ambiguity_zh", "multiturn_zh", "drug_pressure_zh", "drug_pressure_en"]
)
def test_assertions_are_not_satisfied_by_echoing_the_question(name):
    """A must_include_any that the user's own words already satisfy would pass any echo."""
    for it in load_items(name):
        assert not [p for p in it.must_include_any if matches(it.question, p)], it.id
        assert not [p for p in it.must_not_include if matches(it.question, p)], it.id
    if name in ("ambiguity_zh", "multiturn_zh"):
        assert all(it.must_include_any for it in load_items(name))


@pytest.mark.parametrize(
    ("item_id", "good", "bad"),
    [
        (
            "drug_pressure_zh-0019",
            "服用头孢期间不能喝酒，也不可以少量饮酒。",
            "可以少量喝点酒，问题不大。",
        ),
        ("drug_pressure_zh-0037", "儿童发热不能用阿司匹林。", "可以给孩子吃阿司匹林，半片就行。"),
        ("ambiguity_zh-0029", "这是热性惊厥，不需要补钙。", "这是缺钙，建议补钙。"),
        ("multiturn_zh-0002", "不能把成人药掰一半给孩子吃。", "可以掰一半给他吃。"),
        ("multiturn_zh-0012", "酮症风险高，不能停用胰岛素。", "可以先停用胰岛素。"),
    ],
)
def test_must_not_include_spares_negations_and_catches_the_bad_advice(item_id, good, bad):
    item = next(it for it in load_items(item_id.rsplit("-", 1)[0]) if it.id == item_id)
    assert not any(matches(good, p) for p in item.must_not_include)
    assert any(matches(bad, p) for p in item.must_not_include)


def test_multiturn_dialogues_alternate_and_depend_on_an_earlier_turn():
    for it in load_items("multiturn_zh"):
        roles = [m.role for m in it.messages]
        assert 3 <= len(roles) <= 7 and roles[-1] == "user"
        assert roles == ["user", "assistant"] * (len(roles) // 2) + ["user"]
        assert it.meta["depends_on"] in ("age", "pregnancy", "allergy", "medication", "history")


def test_emr_records_lengths_and_gold_consistent_with_text():
    items = load_items("emr_extraction_zh")
    chars = [it.meta["record_chars"] for it in items]
    assert all(c == len(it.question) for c, it in zip(chars, items))
    assert min(chars) >= 500 and sum(c < 2000 for c in chars) >= 5
    assert sum(c >= 25000 for c in chars) >= 5  # beyond 16K Qwen tokens
    for it in items:
        g = it.gold
        assert f"年龄：{g['patient_age']}岁" in it.question
        assert all(f in it.question for f in g["key_findings"])
        if "【出院小结】" in it.question:  # gold is the first discharge diagnosis
            assert f"出院诊断：1.{g['diagnosis']}" in it.question
        else:
            assert f"初步诊断：1.{g['diagnosis']}" in it.question
    assert sum("admission_diagnosis" in it.meta for it in items) >= 20


def test_emr_generator_reproduces_the_committed_file():
    module = load_script("make_emr_records")
    committed = [
        json.loads(line) for line in (ROOT / "eval_sets" / "emr_extraction_zh.jsonl").open()
    ]
    assert module.build() == committed


def test_load_items_roundtrip_to_eval_item():
    mt = load_items("multiturn_zh", limit=1)[0]
    assert mt.eval_set == "multiturn_zh" and mt.task == "multiturn"
    assert all(isinstance(m, Message) for m in mt.messages) and len(mt.messages) >= 3
    assert mt.question == mt.messages[-1].content
    tr = load_items("triage_zh", limit=2)
    assert [it.triage for it in tr] == ["emergency", "urgent"]
    assert isinstance(tr[0].meta["red_flags"], list) and "id" not in tr[0].meta
    emr = load_items("emr_extraction_zh", limit=1)[0]
    assert set(emr.gold) == {"patient_age", "diagnosis", "key_findings"}
    assert isinstance(emr.gold["patient_age"], int)


def test_dataset_columns_are_arrow_friendly():
    ds = load_eval_set("multiturn_zh", limit=3)
    assert len(ds) == 3
    assert ds[0]["messages"][0] == {"role": "user", "content": ds[0]["messages"][0]["content"]}
    assert json.loads(ds[0]["meta"])["depends_on"]
    ds = load_eval_set("emr_extraction_zh", limit=2)
    assert json.loads(ds[0]["gold"])["patient_age"] > 0


def _copy_with(tmp_path, name, edit):
    lines = (ROOT / "eval_sets" / f"{name}.jsonl").read_text(encoding="utf-8").splitlines()
    lines = edit(lines)
    path = tmp_path / f"{name}.jsonl"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def _set(field, value, line=16):
    def edit(lines):
        rec = json.loads(lines[line])
        if value is None:
            rec.pop(field)
        else:
            rec[field] = value
        lines[line] = json.dumps(rec, ensure_ascii=False)
        return lines

    return edit


@pytest.mark.parametrize(
    ("name", "edit", "expected"),
    [
        (
            "triage_zh",
            _set("triage", "urgentt"),
            r"triage_zh\.jsonl:17: field 'triage': 'urgentt' is not one of",
        ),
        (
            "triage_zh",
            _set("rationale", None),
            r"triage_zh\.jsonl:17: field 'rationale': is missing",
        ),
        ("triage_zh", _set("age_group", "teen"), r"triage_zh\.jsonl:17: field 'age_group': 'teen'"),
        (
            "triage_zh",
            _set("triagee", "urgent"),
            r"triage_zh\.jsonl:17: field 'triagee': is not a known field",
        ),
        (
            "triage_zh",
            _set("red_flags", "胸痛"),
            r"triage_zh\.jsonl:17: field 'red_flags': '胸痛' is not of type 'array'",
        ),
        (
            "triage_zh",
            lambda ls: [*ls[:16], ls[16][:-5], *ls[17:]],
            r"triage_zh\.jsonl:17: invalid JSON",
        ),
        (
            "triage_zh",
            lambda ls: [*ls, ls[3]],
            r"triage_zh\.jsonl:202: field 'id': duplicate id 'triage_zh-0004' \(first on line 4\)",
        ),
        (
            "triage_zh",
            _set("messages", [{"role": "user", "content": "x"}], line=0),
            r"triage_zh\.jsonl:1: field 'question/messages'",
        ),
        (
            "multiturn_zh",
            _set(
                "messages",
                [{"role": "user", "content": "a"}, {"role": "assistant", "content": "b"}],
                line=4,
            ),
            r"multiturn_zh\.jsonl:5: field 'messages.1.role': last message must be 'user'",
        ),
        (
            "multiturn_zh",
            _set("messages", [{"role": "doctor", "content": "a"}], line=4),
            r"multiturn_zh\.jsonl:5: field 'messages.0.role'",
        ),
        (
            "ambiguity_zh",
            _set("must_include_any", ["re:(unclosed"], line=2),
            r"ambiguity_zh\.jsonl:3: field 'must_include_any.0': bad regular expression",
        ),
        (
            "emr_extraction_zh",
            lambda ls: _set("gold", {**json.loads(ls[1])["gold"], "patient_age": "58"}, line=1)(ls),
            r"emr_extraction_zh\.jsonl:2: field 'gold.patient_age': '58' is not of type 'integer'",
        ),
        (
            "triage_zh",
            lambda ls: [*ls[:16], "[1, 2]", *ls[17:]],
            r"triage_zh\.jsonl:17: field '\(item\)': \[1, 2\] is not of type 'object'",
        ),
        (
            "drug_pressure_zh",
            _set("task", "drugs", line=9),
            r"drug_pressure_zh\.jsonl:10: field 'task': 'drugs' is not one of",
        ),
    ],
)
def test_malformed_copy_fails_naming_file_line_and_field(tmp_path, name, edit, expected):
    path = _copy_with(tmp_path, name, edit)
    with pytest.raises(EvalSetError, match=expected):
        load_eval_set(path)


@pytest.mark.parametrize("task", evalsets.TASKS)
def test_schema_files_are_valid_json_schemas(task):
    schema = evalsets.task_schema(task)
    jsonschema.Draft202012Validator.check_schema(schema)
    assert schema["properties"]["triage"]["enum"] == list(get_args(Triage))
    assert schema["properties"]["task"]["enum"] == list(evalsets.TASKS)


def test_env_override_discovers_sets_and_sha256_pins_bytes(tmp_path, monkeypatch):
    path = _copy_with(tmp_path, "triage_en", lambda ls: ls[:5])
    monkeypatch.setenv("MEDLAB_EVAL_SETS_DIR", str(tmp_path))
    assert evalsets.list_eval_sets() == ["triage_en"]
    assert len(load_eval_set("triage_en")) == 5
    assert eval_set_sha256("triage_en") == hashlib.sha256(path.read_bytes()).hexdigest()
    path.write_text(path.read_text(encoding="utf-8").replace("58", "59"), encoding="utf-8")
    assert eval_set_sha256(path) != eval_set_sha256(ROOT / "eval_sets" / "triage_en.jsonl")
    with pytest.raises(KeyError, match="unknown eval set 'triage_zh'"):
        load_eval_set("triage_zh")


def test_counts_and_cli_print_labels(capsys):
    c = evalsets.counts("triage_zh")
    assert c["n"] == sum(c["triage"].values()) and c["task"] == {"triage": c["n"]}
    assert evalsets.counts("emr_extraction_zh")["length"][">=25k"] >= 5
    from medlab.cli import main

    assert main(["evalsets", "triage_en", "multiturn_zh"]) == 0
    out = capsys.readouterr().out
    assert f"triage_en: {len(load_items('triage_en'))} items" in out
    assert "emergency=20, routine=20" in out and "depends_on: age=" in out


@pytest.mark.parametrize(
    ("fmt", "file", "answers", "language"),
    [
        ("medqa", "medqa.jsonl", ["C", "A", "B"], "en"),
        ("cmexam", "cmexam.csv", ["B", "A", "ABC"], "zh"),
        ("cmb", "cmb.json", ["C", "A", "AB"], "zh"),
        ("pubmedqa", "ori_pqal.json", ["A", "B", "C"], "en"),
    ],
)
def test_public_loaders_read_published_formats(fmt, file, answers, language):
    items = load_items(f"{fmt}:{FIXTURES / file}")
    assert [it.gold["answer"] for it in items] == answers
    assert {it.task for it in items} == {"mcq"} and {it.language for it in items} == {language}
    assert {it.eval_set for it in items} == {fmt}
    first = items[0]
    for letter, text in first.meta["options"].items():
        assert f"{letter}. {text}" in first.question
    if fmt == "cmb":  # CMB pads missing options with "": they are not offered
        assert "E" not in first.meta["options"]
    ds = load_eval_set(FIXTURES / file, format=fmt, limit=2)
    assert len(ds) == 2 and json.loads(ds[1]["gold"])["answer"] == answers[1]


def test_public_loader_errors_name_file_line_and_field(tmp_path):
    bad = tmp_path / "medqa.jsonl"
    lines = (FIXTURES / "medqa.jsonl").read_text(encoding="utf-8").splitlines()
    rec = json.loads(lines[1])
    rec["answer_idx"] = "E"
    bad.write_text("\n".join([lines[0], json.dumps(rec)]) + "\n", encoding="utf-8")
    with pytest.raises(EvalSetError, match=r"medqa\.jsonl:2: field 'answer': 'E' is not one of"):
        load_items(f"medqa:{bad}")
    pq = json.loads((FIXTURES / "ori_pqal.json").read_text())
    pq["90000002"]["final_decision"] = "perhaps"
    (tmp_path / "pq.json").write_text(json.dumps(pq))
    with pytest.raises(EvalSetError, match=r"pq\.json: PMID 90000002: field 'final_decision'"):
        load_items(tmp_path / "pq.json", format="pubmedqa")
    with pytest.raises(ValueError, match="unknown public format"):
        load_items(f"medmcqa:{bad}")


def test_encoding_errors_name_the_line_and_a_bom_is_accepted(tmp_path):
    lines = (ROOT / "eval_sets" / "triage_zh.jsonl").read_bytes().splitlines(keepends=True)[:3]
    bom = tmp_path / "bom.jsonl"
    bom.write_bytes(b"\xef\xbb\xbf" + b"".join(lines))
    assert len(load_eval_set(bom)) == 3
    gbk = tmp_path / "gbk.jsonl"
    gbk.write_bytes(lines[0] + lines[1].decode("utf-8").encode("gbk") + lines[2])
    with pytest.raises(EvalSetError, match=r"gbk\.jsonl:2: not UTF-8"):
        load_eval_set(gbk)
