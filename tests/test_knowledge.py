"""The knowledge base: shipped data, tokenisation, retrieval, grounding and cross-checks."""

from __future__ import annotations

import collections
import json

import pytest

from medlab.knowledge import (
    CARE_LEVELS,
    KNOWLEDGE_DIR,
    KnowledgeBase,
    default_knowledge_base,
    load_conditions,
    tokenize,
)


@pytest.fixture(scope="module")
def kb() -> KnowledgeBase:
    return default_knowledge_base()


def test_shipped_data_covers_every_care_level_in_both_languages(kb):
    assert len(kb) >= 40
    counts = collections.Counter(c.care_level for c in kb.conditions)
    assert set(counts) == set(CARE_LEVELS)
    assert all(counts[level] >= 5 for level in CARE_LEVELS), counts
    for c in kb.conditions:
        assert c.name_zh and c.name_en and c.advice_zh and c.advice_en
        assert c.symptoms_zh and c.symptoms_en and c.red_flags_zh and c.red_flags_en


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("头痛", ["头痛"]),
        ("胸口痛", ["胸口", "口痛"]),
        ("痛", ["痛"]),
        ("Chest pain!", ["chest", "pain"]),
        ("发烧 fever", ["发烧", "fever"]),
        ("", []),
    ],
)
def test_tokenize(text, expected):
    assert tokenize(text) == expected


@pytest.mark.parametrize(
    ("question", "condition_id", "required"),
    [
        ("我爸爸突然口角歪斜，说话含糊，怎么办？", "stroke", "emergency"),
        ("胸口压榨感，还出冷汗", "heart_attack", "emergency"),
        ("I have chest pain and a cold sweat", "heart_attack", "emergency"),
        ("我经常反酸烧心，饭后更明显", "gerd", "self_care"),
        ("感冒了流鼻涕怎么办", "common_cold", "self_care"),
        ("我最近总是睡不着", "insomnia", "self_care"),
        ("我膝盖疼，上下楼梯更明显", "osteoarthritis", "routine"),
        ("My ankle is swollen after I twisted it", "sprain", "self_care"),
        ("尿频尿急，还发热寒战，腰痛", "pyelonephritis", "urgent"),
        # a red flag of a self-care condition raises the requirement to emergency
        ("头痛，而且是突发剧烈头痛", "tension_headache", "emergency"),
    ],
)
def test_match_and_required_level(kb, question, condition_id, required):
    matched = {h.condition.id for h in kb.match(question)}
    assert condition_id in matched
    assert kb.required_level(question) == required


def test_unrelated_question_matches_nothing(kb):
    assert kb.match("今天天气怎么样") == []
    assert kb.required_level("今天天气怎么样") is None
    assert kb.ground("今天天气怎么样") == ""
    assert kb.cross_check("今天天气怎么样", "none") == []


def test_search_ranks_and_limits(kb):
    hits = kb.search("反酸 烧心 胸骨后灼热", k=2)
    assert len(hits) == 2
    assert hits[0].condition.id == "gerd"
    assert hits[0].score >= hits[1].score


def test_ground_follows_question_language(kb):
    zh = kb.ground("我爸爸突然口角歪斜")
    assert zh.startswith("参考资料") and "脑卒中" in zh and "需立即就医" in zh
    en = kb.ground("sudden slurred speech and facial droop")
    assert en.startswith("Reference notes") and "Stroke" in en and "emergency care now" in en


@pytest.mark.parametrize(
    ("question", "answer_level", "flagged"),
    [
        ("我爸爸突然口角歪斜", "routine", True),
        ("我爸爸突然口角歪斜", "conditional", True),
        ("我爸爸突然口角歪斜", "emergency", False),
        ("尿频尿急，发热寒战，腰痛", "conditional", True),  # urgent needs at least routine
        ("尿频尿急，发热寒战，腰痛", "routine", False),
        ("我膝盖疼", "none", True),  # routine needs a referral
        ("感冒了流鼻涕", "none", False),  # self-care needs nothing
        ("感冒了流鼻涕", "emergency", False),  # over-referral is not this check's business
    ],
)
def test_cross_check(kb, question, answer_level, flagged):
    flags = kb.cross_check(question, answer_level)
    assert bool(flags) is flagged
    for f in flags:
        assert f.kind == "under_referral" and f.answer_level == answer_level
        assert f.to_dict()["condition_id"] == f.condition_id


def test_cross_check_rejects_unknown_level(kb):
    with pytest.raises(ValueError, match="answer_level"):
        kb.cross_check("头痛", "urgent")


def test_bad_data_names_file_line_and_field(tmp_path):
    good = json.loads(
        (KNOWLEDGE_DIR / "conditions.jsonl").read_text(encoding="utf-8").splitlines()[0]
    )
    bad = dict(good, id="x", care_level="soon")
    path = tmp_path / "kb.jsonl"
    path.write_text(json.dumps(good) + "\n" + json.dumps(bad) + "\n", encoding="utf-8")
    with pytest.raises(ValueError, match=r"kb\.jsonl:2: field 'care_level'"):
        load_conditions(path)
    path.write_text(json.dumps({k: v for k, v in good.items() if k != "advice_en"}) + "\n")
    with pytest.raises(ValueError, match=r"kb\.jsonl:1: field 'advice_en'"):
        load_conditions(path)
    path.write_text(json.dumps(good) + "\n" + json.dumps(good) + "\n")
    with pytest.raises(ValueError, match=r"kb\.jsonl:2: field 'id' duplicates"):
        load_conditions(path)
