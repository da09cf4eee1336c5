"""The drug automata answer the name questions the detectors ask as the name table would."""

from __future__ import annotations

import random

import pytest

from medlab.lexicon import drug_classes, drug_names
from medlab.lexicon.evidence import common_zh
from medlab.metrics.drug_index import (
    completed_name,
    drug_name_starts_with,
    is_drug_name,
    misspelt_drug,
    normalize_text,
)


def test_every_lexicon_name_is_a_drug_name():
    names = drug_names()
    assert all(is_drug_name(n) for n in names)


def test_classes_words_and_stems_are_not_drug_names():
    for word in ["非甾体抗炎药", "抗生素", "头痛", "antihistamines", "他汀", "感冒", "the", "布洛"]:
        assert not is_drug_name(normalize_text(word)), word
    classes_not_names = [c for c in drug_classes() if c not in drug_names()]
    assert classes_not_names and not any(is_drug_name(c) for c in classes_not_names)


def test_brand_and_english_names_in_both_scripts():
    for word in [
        "布洛芬",
        "美林",
        "泰诺林",
        "ibuprofen",
        "advil",
        "tylenol",
        normalize_text("Advil"),
    ]:
        assert is_drug_name(word), word


def test_prefix_answers_as_a_scan_of_the_name_table():
    names = list(drug_names())
    rng = random.Random(13)
    prefixes = {n[:k] for n in rng.sample(names, 300) for k in (1, 2, 3) if len(n) > k}
    prefixes |= set(rng.sample(sorted(common_zh()), 300)) | {"布洛", "阿莫西", "tyl", "的了", "xq"}
    for p in sorted(prefixes):
        assert drug_name_starts_with(p) == any(n.startswith(p) for n in names), p
    assert drug_name_starts_with("布洛") and not drug_name_starts_with("的了")


def test_misspellings_of_a_like_sound_name_the_real_drug():
    assert misspelt_drug("奥米拉唑") == ("generic", "omeprazole")  # 美 mei / 米 mi
    assert misspelt_drug("布洛分") == ("generic", "ibuprofen")  # 芬 / 分, the same syllable
    assert misspelt_drug("奥米拉唑肠溶胶囊")[1] == "omeprazole"
    assert misspelt_drug("卡托普林") == ("generic", "captopril")  # 林 lin / 利 li


def test_other_sounds_lengths_and_scripts_are_not_misspellings():
    for word in [
        "卡司匹林",
        "卡托芬",
        "西洛芬",
        "西地地平",
        "洛司他汀",
        "西曲林",
        "氯胺",
        "布洛芬芬",
        "卡托普兰",  # 兰 lan / 利 li: one initial, other vowels
    ]:
        assert misspelt_drug(word) is None, word
    assert misspelt_drug("ibuprofem") is None  # English names are left to the lexicon


@pytest.mark.parametrize(
    ("prefix", "expected"),
    [
        ("西咪替", ("generic", "cimetidine")),  # 西咪替丁
        ("利巴韦", ("generic", "ribavirin")),  # 利巴韦林
        ("头孢克", None),  # 头孢克洛 and 头孢克肟
        ("卡托维", None),  # no drug starts so
    ],
)
def test_completed_name_is_the_one_drug_a_character_completes(prefix, expected):
    assert completed_name(prefix) == expected
