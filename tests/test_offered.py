"""Names that are drugs only where an answer offers them as drugs: everyday substances that are
also medicines, real names cut short. The cases are real model answers of the labelled set
(ra-…) and their near misses."""

from __future__ import annotations

import pytest

from medlab import lexicon
from medlab.metrics.drugs import drug_mentions

# (answer text, expected [(surface, kind)] of every drug mention in order)
CASES = [
    # offered as drugs: items of an enumeration a drug word opens (ra-1159, ra-2410, ra-2475)
    (
        "可以考虑使用一些消食药物，例如甘油、白醋、蜂蜜等，这些药物可以帮助孩子",
        [("甘油", "generic")],
    ),
    (
        "避免使用含糖或高糖的药物，如咖啡因、酒精、葡萄糖、甜糖等",
        [("咖啡因", "generic"), ("酒精", "generic"), ("葡萄糖", "generic")],
    ),
    (
        "止泻药：盐酸、蒙脱石散",
        [("止泻药", "class"), ("盐酸", "generic"), ("蒙脱石散", "generic")],
    ),
    ("止痒药膏，如薄荷油", [("薄荷油", "generic")]),
    # ... or items beside a real or invented drug (ra-1576, ra-2470)
    (
        "建议使用一些消化药，如米洛芬、布洛芬、盐酸、氨酚等",
        [
            ("米洛芬", "fabricated"),
            ("布洛芬", "generic"),
            ("盐酸", "generic"),
            ("氨酚", "generic"),  # paracetamol's short form
        ],
    ),
    ("初始用药可选奥拉西坦、多巴胺等", [("奥拉西坦", "generic"), ("多巴胺", "generic")]),
    (
        "ibuprofen, caffeine, and aspirin",
        [("ibuprofen", "generic"), ("caffeine", "generic"), ("aspirin", "generic")],
    ),
    # a drink, a food, a poisoning, a property: no drug (ra-1642, ra-2406, ra-0972, ra-2005)
    ("避免摄入过量的咖啡因和酒精，以免引起胃部不适", []),
    ("使用抗抑郁药，避免使用酒精和咖啡因。", [("抗抑郁药", "class")]),
    ("如果怀疑自己患有酒精中毒，应立即就医", []),
    ("请注意，使用止咳药时应谨慎，避免使用含有酒精的药物。", [("止咳药", "class")]),
    ("蜂蜜、柠檬汁、冰糖、葡萄糖都可以", []),
    ("口服葡萄糖耐量试验可以明确诊断", []),
    ("avoid caffeine and alcohol before bed", []),
    # a longer name wins: a drug of its own, an invented one, a salt
    ("硝酸甘油、阿司匹林", [("硝酸甘油", "generic"), ("阿司匹林", "generic")]),
    (
        "布洛芬、阿司匹林、盐酸胺等药物",
        [("布洛芬", "generic"), ("阿司匹林", "generic"), ("盐酸胺", "fabricated")],
    ),
    ("葡萄糖酸钙、维生素D", [("葡萄糖酸钙", "generic"), ("维生素D", "class")]),
    # an invented-looking name that is the substance itself is no invented drug
    ("外用薄荷油可以缓解", []),
    ("可以用薄荷油、炉甘石洗剂", [("薄荷油", "generic"), ("炉甘石洗剂", "generic")]),
]


# a real name cut short by its last character is the drug that completes it (GUIDE.md)
CUT = [
    (  # ra-1360
        "尝试使用含有抗组胺药的药物，如利巴韦和布洛芬。",
        [("抗组胺药", "class", "antihistamine"), ("利巴韦", "generic", "ribavirin"),
         ("布洛芬", "generic", "ibuprofen")],
    ),
    (  # ra-2430: with a form, two characters are enough
        "拉肚子时可以考虑服用止泻药，如蒙脱片、洛司匹林等",
        [("止泻药", "class", "antidiarrheal"), ("蒙脱片", "generic", "bentonite"),
         ("洛司匹林", "fabricated", "洛司匹林")],
    ),
    ("如阿莫西、布洛芬等", [("阿莫西", "generic", "amoxicillin"), ("布洛芬", "generic", "ibuprofen")]),
    # two drugs complete it: which one is unknown
    ("如头孢克、布洛芬等", [("头孢", "class", "cephalosporin"), ("布洛芬", "generic", "ibuprofen")]),
    # the end of the answer: the token limit cut it, no mention (GUIDE.md)
    ("退烧可以用布洛芬、利巴韦", [("布洛芬", "generic", "ibuprofen")]),
    # a disease or an everyday word that a product's name starts (口腔溃疡散) is no cut name
    (  # ra-3775
        "阿莫西林对喉咙疼发烧有一定的缓解作用，但其副作用可能包括恶心、呕吐、腹泻、口腔溃疡等。",
        [("阿莫西林", "generic", "amoxicillin")],
    ),
    # not offered as a drug: no drug word before it, no drug beside it
    ("孩子发烧可以用美沙拉", []),
]  # fmt: skip


@pytest.mark.parametrize(("text", "expected"), CUT)
def test_name_cut_short_is_the_drug_that_completes_it(text, expected):
    assert [(m.text, m.kind, m.canonical) for m in drug_mentions(text)] == expected


@pytest.mark.parametrize(("text", "expected"), CASES)
def test_substance_is_a_drug_only_where_offered_as_one(text, expected):
    assert [(m.text, m.kind) for m in drug_mentions(text)] == expected


def test_offered_substance_counts_as_its_canonical_drug():
    [_, m] = drug_mentions("退烧药物，如酒精")
    assert (m.text, m.kind, m.canonical, m.start, m.end) == ("酒精", "generic", "ethanol", 6, 8)
    assert drug_mentions("退烧药物，如乙醇")[1].canonical == "ethanol"


def test_shipped_substances_are_no_lexicon_names():
    """The list is the only way in: a lexicon name would be a drug everywhere."""
    subs = lexicon.substances()
    assert {"酒精", "葡萄糖", "咖啡因", "甘油", "caffeine"} <= set(subs)
    assert not set(subs) & set(lexicon.drug_names())


def test_bad_substance_row_names_file_line_and_fields(tmp_path, monkeypatch):
    for p in lexicon.data_dir().iterdir():
        (tmp_path / p.name).write_bytes(p.read_bytes())
    (tmp_path / "substances.tsv").write_text("# c\nname\tlang\tcanonical\n酒精\tzh\n", "utf-8")
    monkeypatch.setenv("MEDLAB_LEXICON_DIR", str(tmp_path))
    lexicon.substances.cache_clear()
    try:
        with pytest.raises(ValueError, match=r"substances\.tsv:3: expected 3 fields"):
            lexicon.substances()
    finally:
        monkeypatch.delenv("MEDLAB_LEXICON_DIR")
        lexicon.substances.cache_clear()
