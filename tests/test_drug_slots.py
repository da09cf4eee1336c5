"""The drug-slot model: items, shipped weights reproducible from the labelled answers, and what
it adds to the rules on lists it was never trained on (names and ordinary words)."""

from __future__ import annotations

import json
import math

import pytest
from scripts_loader import load_script

from medlab.metrics.drug_slots import MODEL_PATH, features, items, model, probability
from medlab.metrics.drugs import drug_mentions, rule_evidence


def _invented(text: str) -> list[str]:
    return [m.text for m in drug_mentions(text) if m.kind == "fabricated"]


def test_items_take_off_the_cue_and_deng_and_keep_the_separators() -> None:
    text = "止痛药包括：布洛芬、卡德司等。"
    found = [(it.start, it.end, it.cue, it.deng, it.before, it.after) for it in items(text)]
    names = {text[s:e]: (cue, deng, before, after) for s, e, cue, deng, before, after in found}
    assert names["止痛药包括"] == (False, False, "", "：")
    assert names["布洛芬"] == (False, False, "：", "、")
    assert names["卡德司"] == (False, True, "、", "")
    cue = items("可以服用痛舒宁来缓解，如米粥等")
    assert any(it.cue and text_of(it, "可以服用痛舒宁来缓解，如米粥等") == "米粥" for it in cue)


def test_an_item_ends_before_the_purpose_it_runs_on_into() -> None:
    text = "可以尝试使用维生素D或茶酚来降低血脂。"
    assert "茶酚" in [text_of(it, text) for it in items(text)]


def text_of(it, text: str) -> str:
    return text[it.start : it.end]


def test_a_clause_is_a_neighbour_not_an_item() -> None:
    text = "这些药物可以帮助缓解症状并且改善睡眠质量和日常生活中的疲劳感觉，如布洛芬"
    spans = [text_of(it, text) for it in items(text)]
    assert "布洛芬" in spans
    assert all(len(s) <= 24 for s in spans)


def test_features_cover_neither_lexicon_names_nor_what_the_rules_found() -> None:
    ev = rule_evidence("止咳药物包括：氨酚氨素、布洛芬、异氟和沙德司等。")
    names = {ev.norm[s:e] for s, e, _ in features(ev.norm, ev.company, ev.found)}
    assert "布洛芬" not in names and "止咳药物" not in names  # lexicon: a drug, a class
    assert "氨酚氨素" not in names  # found by the rules
    assert "沙德司" in names
    with_found = features(ev.norm, ev.company, ev.found, with_found=True)
    assert "氨酚氨素" in {ev.norm[s:e] for s, e, _ in with_found}
    f = dict(next(f for s, e, f in with_found if ev.norm[s:e] == "沙德司"))
    assert f.get("deng") == 1.0 and f.get("prev_invented") == 1.0


def test_an_item_that_is_a_whole_line_counts_the_drugs_of_the_lines_around_it() -> None:
    text = "常用的药包括：\n- 布洛芬\n- 沙德司\n- 阿司匹林\n\n注意：沙德司、休息都有帮助。"
    ev = rule_evidence(text)
    feats = {(s, ev.norm[s:e]): f for s, e, f in features(ev.norm, ev.company, ev.found)}
    line = feats[(text.index("沙德司"), "沙德司")]
    assert line["line_item"] == 1.0 and line["drugs_in_lines"] == 2.0  # 布洛芬, 阿司匹林
    inline = feats[(text.rindex("沙德司"), "沙德司")]
    assert "line_item" not in inline and "drugs_in_lines" not in inline


def test_the_shipped_model_is_well_formed() -> None:
    m = model()
    assert 0.0 < m["threshold"] < 1.0
    assert all(math.isfinite(w) for w in m["weights"].values())
    assert m["trained_on"]["answers"] > 1000
    # trained on dev and the read held-out batches only
    assert m["trained_on"]["splits"].startswith("dev + held-out ra-")
    assert probability({}, m) < m["threshold"]  # no evidence, no name


def test_the_shipped_model_is_reproducible_from_the_labelled_answers() -> None:
    pytest.importorskip("sklearn")
    train_drug_slots = load_script("train_drug_slots")
    shipped = json.loads(MODEL_PATH.read_text(encoding="utf-8"))
    rebuilt = train_drug_slots.build(shipped["trained_on"]["C"], report=lambda _: None)
    assert rebuilt["trained_on"]["sha256"] == shipped["trained_on"]["sha256"]
    assert rebuilt["threshold"] == shipped["threshold"]
    assert rebuilt["bias"] == pytest.approx(shipped["bias"], abs=1e-3)
    assert set(rebuilt["weights"]) == set(shipped["weights"])


# names the rules pass over in lists (none of them in the lexicon), found by the model
FOUND = [
    ("如果医生允许，可以尝试使用维生素D或茶酚来降低血脂。", "茶酚"),  # a real answer's
    ("可以使用胃黏膜保护剂，如硫糖铝、替加霉素等。", "替加霉素"),
    ("睡眠障碍药物：诺西林（诺西林）", "诺西林"),
    ("常用的药包括：\n- 布洛芬\n- 沙德司\n- 阿司匹林", "沙德司"),  # a list one item per line
]


@pytest.mark.parametrize(("text", "name"), FOUND)
def test_the_model_finds_names_the_rules_pass_over(text: str, name: str) -> None:
    assert name not in {m[3] for m in rule_evidence(text).found}
    rules_alone = drug_mentions(text, slots=False)
    assert name not in [m.text for m in rules_alone if m.kind == "fabricated"]
    assert name in _invented(text)


# ordinary words in the same places stay words; a real name cut short is no invented one
KEPT = [
    "可以吃一些清淡的食物，如米粥、面条、蔬菜等。",
    "常见原因包括压力、睡眠不足、饮食不当等。",
    "可以用布洛芬、对乙酰氨基酚，同时注意休息、多喝水。",
    "如北京、上海、广州等城市的医院都可以买到布洛芬。",
    "止痛药有布洛芬、阿司匹林、热敷、按摩等方法。",
    "抗焦虑药，如西咪替或布洛芬。",
    "可以这样做：\n- 多喝水\n- 布洛芬\n- 休息\n- 散步",
]


@pytest.mark.parametrize("text", KEPT)
def test_the_model_leaves_ordinary_words(text: str) -> None:
    assert _invented(text) == []
