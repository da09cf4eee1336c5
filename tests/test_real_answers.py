"""The hand-labelled real model answers are well formed (tests/data/real_answers/).

Integrity only — spans at their offsets, valid kinds and levels, the seeded split and the sizes
the datasheet states, every model, mode and language present. How well the detectors do on the
set is measured by ``benchmarks/detectors.py``, not here.
"""

from __future__ import annotations

import json
import re
from collections import Counter
from pathlib import Path

import pytest
from rapidfuzz.distance import Levenshtein
from real_answers import DIR, LANGUAGES, MODELS, MODES, RealAnswersError, check, load, split_of
from scripts_loader import load_script

from medlab.lexicon import drug_names

RECORDS = load()


def stated_counts() -> dict[str, int]:
    """The split sizes the datasheet (README.md beside the data) states in its table
    ``| split | answers |``."""
    text = (DIR / "README.md").read_text(encoding="utf-8")
    table = text.split("| split | answers |", 1)[1].split("\n\n", 1)[0]
    return {
        m[1]: int(m[2]) for m in re.finditer(r"^\| (dev|heldout|total) \| (\d+) \|", table, re.M)
    }


GOAL_ANSWERS, GOAL_HELDOUT = 300, 100  # issue 13


def test_the_set_covers_models_modes_and_languages() -> None:
    assert set(Counter(r["model"] for r in RECORDS)) == set(MODELS)
    assert set(Counter(r["mode"] for r in RECORDS)) == set(MODES)
    assert set(Counter(r["language"] for r in RECORDS)) == set(LANGUAGES)
    keys = {(r["model"], r["mode"], r["prompt"], r["item_id"]) for r in RECORDS}
    assert len(keys) == len(RECORDS), "an answer is labelled twice"


def test_the_set_reaches_its_size_goal() -> None:
    splits = Counter(r["split"] for r in RECORDS)
    assert len(RECORDS) >= GOAL_ANSWERS and splits["heldout"] >= GOAL_HELDOUT, splits


def test_split_sizes_are_those_the_datasheet_states() -> None:
    stated = stated_counts()
    counts = Counter(r["split"] for r in RECORDS)
    assert stated == {"dev": counts["dev"], "heldout": counts["heldout"], "total": len(RECORDS)}


def test_the_datasheet_counts_are_those_of_the_data() -> None:
    # every table of the "Counts" section, as scripts/label_real_answers.py counts prints it
    text = (DIR / "README.md").read_text(encoding="utf-8")
    section = text.split("## Counts\n", 1)[1].split("\n## ", 1)[0].strip()
    script = load_script("label_real_answers")
    assert section == script.counts()
    assert script.provenance() in text


def test_every_label_occurs() -> None:
    levels = Counter(r["labels"]["referral"] for r in RECORDS)
    hedged = Counter(r["labels"]["hedged"] for r in RECORDS)
    kinds = Counter(s["kind"] for r in RECORDS for s in r["labels"]["drugs"])
    assert all(levels[k] >= 5 for k in ("emergency", "routine", "conditional", "none")), levels
    assert all(hedged[k] >= 5 for k in (True, False, None)), hedged
    assert all(kinds[k] >= 3 for k in ("specific", "class", "fabricated", "echoed")), kinds


def test_echoed_drugs_were_named_in_the_question() -> None:
    # named as written (its first or last characters), garbled by one character (右氧氟沙星
    # after the user's 左氧氟沙星), or as the same drug under another name of the lexicon
    # (对乙酰氨基酚 after the user's 泰诺林)
    names = drug_names()
    for r in RECORDS:
        question = r["question"].casefold()
        for span in r["labels"]["drugs"]:
            text = span["text"].casefold()
            k = 4 if text.isascii() else 2
            if span["kind"] != "echoed" or text[:k] in question or text[-k:] in question:
                continue  # its head or tail as the user wrote it (硬症甘油 for 硝酸甘油)
            # garbled by one character, also with a form the user did not write (联花清瘟胶囊
            # after the user's 连花清瘟)
            core = re.sub(r"(?:胶囊|颗粒|口服液|糖浆|注射液|软膏|片)$", "", text)
            if any(
                Levenshtein.distance(name, question[i : i + len(name)]) <= 1
                for name in {text, core if len(core) >= 4 else text}
                for i in range(len(question))
            ):
                continue
            canonical = names.get(text, ("", None))[1]
            asked = {c for name, (_, c) in names.items() if len(name) > 1 and name in question}
            assert canonical in asked, f"{r['id']}: echoed {span['text']!r} not in the question"


def test_json_answers_are_kept_raw() -> None:
    """JSON-mode answers are stored as generated; most parse (a few were cut by the token limit)."""
    json_rows = [r for r in RECORDS if r["mode"] == "json"]
    parsed = 0
    for r in json_rows:
        try:
            json.loads(r["text"])
            parsed += 1
        except json.JSONDecodeError:
            pass
    assert json_rows and parsed >= len(json_rows) // 2


GOOD = {
    "id": "x-1", "model": "qwen2.5-0.5b", "mode": "free", "prompt": "gp_assistant@v1",
    "language": "zh", "item_id": "triage_zh-0001", "question": "头痛怎么办？",
    "text": "可以吃布洛芬。", "labels": {"drugs": [{"text": "布洛芬", "start": 3, "end": 6,
    "kind": "specific"}], "referral": "none", "hedged": None},
}  # fmt: skip
GOOD["split"] = split_of("qwen2.5-0.5b", "free", "gp_assistant@v1", "triage_zh-0001")


def _with(path: str, value: object) -> dict:
    rec = json.loads(json.dumps(GOOD))
    *parents, last = path.split(".")
    target = rec
    for p in parents:
        target = target[int(p)] if p.isdigit() else target[p]
    target[last] = value
    return rec


@pytest.mark.parametrize(
    "path,value,field",
    [
        ("labels.drugs.0.start", 2, "labels.drugs[0]"),
        ("labels.drugs.0.end", 99, "labels.drugs[0]"),
        ("labels.drugs.0.kind", "generic", "labels.drugs[0].kind"),
        ("labels.referral", "urgent", "labels.referral"),
        ("labels.hedged", "yes", "labels.hedged"),
        ("split", "dev" if GOOD["split"] == "heldout" else "heldout", "split"),
        ("mode", "structured", "mode"),
        ("model", "qwen2.5-7b", "model"),
        ("text", "", "text"),
    ],
)
def test_check_names_the_bad_field(path: str, value: object, field: str) -> None:
    assert check(GOOD) == []
    problems = check(_with(path, value))
    assert problems and problems[0].startswith(field + ":"), problems


def test_check_finds_overlapping_spans() -> None:
    rec = _with("labels.drugs", [dict(GOOD["labels"]["drugs"][0])] * 2)
    assert check(rec) == ["labels.drugs[1]: overlaps or precedes the span before it"]


def test_load_names_file_and_line(tmp_path: Path) -> None:
    bad = tmp_path / "answers.jsonl"
    bad.write_text(json.dumps(GOOD) + "\n" + json.dumps(_with("labels.referral", "x")) + "\n")
    with pytest.raises(RealAnswersError, match=r"answers\.jsonl:2: labels\.referral"):
        load(bad)
    bad.write_text(json.dumps(GOOD) + "\n" + json.dumps(GOOD) + "\n")
    with pytest.raises(RealAnswersError, match=r"answers\.jsonl:2: id: 'x-1' repeats"):
        load(bad)
    bad.write_text(json.dumps(GOOD) + "\n")
    assert [r["id"] for r in load(bad, split=GOOD["split"])] == ["x-1"]
    other = "dev" if GOOD["split"] == "heldout" else "heldout"
    assert load(bad, split=other) == []


def _label_script():
    return load_script("label_real_answers")


@pytest.mark.parametrize(
    "text,drugs,expected",
    [
        ("用头孢类抗生素，不要自己买头孢", [["头孢类抗生素", "class"], ["头孢", "class"]],
         [("头孢类抗生素", 1), ("头孢", 13)]),
        ("布洛芬（美林）或布洛芬", [["布洛芬", "specific"], ["美林", "specific"]],
         [("布洛芬", 0), ("美林", 4), ("布洛芬", 8)]),
        ("NSAIDs such as an NSAID", [["NSAID", "class"], ["NSAIDs", "class"]],
         [("NSAIDs", 0), ("NSAID", 18)]),
        ("aspirin, not aspiring", [["aspirin", "specific"]], [("aspirin", 0)]),
        ("吃布洛芬，再吃布洛芬", [["布洛芬", "echoed", [1]]], [("布洛芬", 7)]),
    ],
)  # fmt: skip
def test_the_label_script_turns_names_into_offsets(text, drugs, expected) -> None:
    found = _label_script().spans(text, drugs)
    assert [(s["text"], s["start"]) for s in found] == expected
    assert all(text[s["start"] : s["end"]] == s["text"] for s in found)


def test_the_label_script_refuses_a_name_not_in_the_answer() -> None:
    with pytest.raises(ValueError, match="not found"):
        _label_script().spans("多喝水", [["布洛芬", "specific"]])


def test_the_label_script_reads_greedy_and_sampled_runs(tmp_path: Path) -> None:
    script = load_script("label_real_answers")
    greedy = {"temperature": 0.0, "top_p": 0.9, "max_new_tokens": 160, "seed": 0}
    runs = {
        "greedy-free": (greedy, False),
        "greedy-json": (greedy, True),
        "sampled": ({**greedy, "temperature": 0.7}, False),
        "sampled-2": ({**greedy, "temperature": 0.7, "seed": 1}, False),
        "sampled-3": ({**greedy, "temperature": 0.7, "seed": 2}, False),
        "sampled-31": ({**greedy, "temperature": 0.7, "seed": 30}, False),  # no mode of the set
        "sampled-json": ({**greedy, "temperature": 0.7}, True),  # not a setting of the set
        "short": ({**greedy, "max_new_tokens": 96}, False),  # nor this
    }
    for name, (params, structured) in runs.items():
        (tmp_path / name).mkdir()
        config = {"model": "qwen2.5-0.5b", "repeats": 1, "params": params, "structured": structured}
        (tmp_path / name / "results.json").write_text(json.dumps({"config": config}))
    assert script.run_sources(tmp_path) == {
        "greedy-free": ("qwen2.5-0.5b", "free"),
        "greedy-json": ("qwen2.5-0.5b", "json"),
        "sampled": ("qwen2.5-0.5b", "sampled"),
        "sampled-2": ("qwen2.5-0.5b", "sampled-2"),
        "sampled-3": ("qwen2.5-0.5b", "sampled-3"),
    }
