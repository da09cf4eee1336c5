"""drug_mentions: hard labelled cases in Chinese and English, offsets, echoes (speed is
measured by benchmarks/scoring.py, not here)."""

from __future__ import annotations

import pytest

from medlab.metrics.drugs import DrugMention, drug_mentions, normalize_text, specific_drugs

# (answer text, expected [(surface, kind)]) in order of appearance.
CASES = [
    # Traditional Chinese and Hong Kong / Taiwan names (offsets still point into the original)
    ("可以食必理痛（即撲熱息痛）", [("必理痛", "brand"), ("撲熱息痛", "generic")]),
    ("阿斯匹靈要飯後吃", [("阿斯匹靈", "generic")]),
    ("a course of ferrous sulphate tablets", [("ferrous sulphate", "generic")]),
    # Chinese brands that real consultations use
    ("孩子发烧可以用美林或者泰诺林", [("美林", "brand"), ("泰诺林", "brand")]),
    ("腹泻可以吃思密达，再配合妈咪爱调节肠道菌群", [("思密达", "brand"), ("妈咪爱", "brand")]),
    ("来一片芬必得就好", [("芬必得", "brand")]),
    ("吗丁啉可以促进胃动力", [("吗丁啉", "brand")]),
    (
        "息斯敏和开瑞坦都是抗过敏药",
        [("息斯敏", "brand"), ("开瑞坦", "brand"), ("抗过敏药", "class")],
    ),
    ("布洛芬混悬液（美林）", [("布洛芬混悬液", "generic"), ("美林", "brand")]),
    # English brands and generics, case-insensitive, word boundaries
    ("You can take Advil or Tylenol for the pain.", [("Advil", "brand"), ("Tylenol", "brand")]),
    ("Acetaminophen (Tylenol) 500 mg", [("Acetaminophen", "generic"), ("Tylenol", "brand")]),
    ("metformin 500mg bid", [("metformin", "generic")]),
    (
        "NSAIDs such as ibuprofen can irritate the stomach",
        [("NSAIDs", "class"), ("ibuprofen", "generic")],
    ),
    ("He is aspirin-sensitive", [("aspirin", "generic")]),
    ("cefixime and ceftriaxone", [("cefixime", "generic"), ("ceftriaxone", "generic")]),
    # Chinese generics, with dosage forms
    ("不要吃布洛芬", [("布洛芬", "generic")]),  # negated: still a mention
    ("可以试试褪黑素补充剂", [("褪黑素", "generic")]),  # melatonin, seen in a 1.5B answer
    ("吃了头孢克洛能喝酒吗", [("头孢克洛", "generic")]),
    ("奥美拉唑肠溶胶囊每日一次", [("奥美拉唑肠溶胶囊", "generic")]),
    ("硝苯地平控释片每日一片", [("硝苯地平控释片", "generic")]),
    ("阿奇霉素和利伐沙班", [("阿奇霉素", "generic"), ("利伐沙班", "generic")]),
    ("连花清瘟胶囊和双黄连口服液", [("连花清瘟胶囊", "generic"), ("双黄连口服液", "generic")]),
    # classes containing drug-like words: the longest match is the class
    ("建议使用头孢类抗生素治疗", [("头孢类抗生素", "class")]),
    ("青霉素类抗生素过敏者慎用", [("青霉素类抗生素", "class")]),
    ("他汀类药物可以降低胆固醇", [("他汀类药物", "class")]),
    ("可以短期使用质子泵抑制剂(PPI)", [("质子泵抑制剂", "class"), ("PPI", "class")]),
    ("可以短期使用质子泵抑制剂（PPI）", [("质子泵抑制剂", "class"), ("PPI", "class")]),
    ("使用β受体阻滞剂或β-受体阻滞剂", [("β受体阻滞剂", "class"), ("β-受体阻滞剂", "class")]),
    ("beta blockers and ACE inhibitors", [("beta blockers", "class"), ("ACE inhibitors", "class")]),
    ("可以吃点退烧药或解热镇痛药", [("退烧药", "class"), ("解热镇痛药", "class")]),
    ("口服补液盐预防脱水，益生菌调节肠道", [("口服补液盐", "class"), ("益生菌", "class")]),
    ("补充维生素C和维生素D", [("维生素C", "class"), ("维生素D", "class")]),
    ("维C泡腾片", [("维C", "class")]),
    ("头孢和酒不能一起", [("头孢", "class")]),
    ("抗生素对病毒感冒无效", [("抗生素", "class")]),
    # non-drug words with drug-like substrings
    ("林区的空气很好", []),
    ("心情安定下来就好，保持情绪安定", []),
    ("aspiring doctors should rest", []),
    ("iron deficiency anemia is common", []),
    ("Helpful advice: get some rest and ask for help", []),
    ("可定期复查血脂", []),  # 可定 is a brand name, but not here
    ("找个好医生看看", []),  # 好医生 is a brand name, but not here
    ("多吃苹果，喝牛奶，可以喝点生姜红糖水，加点大枣和蜂蜜", []),
    ("感冒发烧咳嗽，记得戴口罩", []),
    ("黄曲霉素超标", []),
    ("口腔溃疡和荨麻疹都很常见，慢性支气管炎要戒烟", []),  # diseases named like patent medicines
    (
        "可以口服补液盐III，或者服用硫酸氢氯吡格雷片",
        [("口服补液盐III", "generic"), ("硫酸氢氯吡格雷片", "generic")],
    ),
    ("Aloe vera gel helps sunburn; vitamin B12 is low", [("vitamin B12", "class")]),
    ("He said cholesterol is high; oxygen therapy helps", []),
    ("地平线上，普利策奖得主卡洛尔医生", []),
    # fabricated: INN stems, in no lexicon
    ("医生可能会开卡美拉唑", [("卡美拉唑", "fabricated")]),
    ("可以试试泽伐他汀", [("泽伐他汀", "fabricated")]),
    (
        "Some doctors prescribe fantoprazole or zelvastatin.",
        [("fantoprazole", "fabricated"), ("zelvastatin", "fabricated")],
    ),
    ("ceftrazolam 250 mg", [("ceftrazolam", "fabricated")]),
    ("建议服用洛美沙坦片", [("洛美沙坦", "fabricated")]),
    ("PD-1单抗治疗，不是卡美单抗", [("单抗", "class"), ("卡美单抗", "fabricated")]),  # class stem
    ("主治医生李德韦建议，其他定期检查", []),  # 1-character stem 韦, 他定 in 其他定期
    # mixed scripts and full width
    ("布洛芬（ibuprofen）每次200mg", [("布洛芬", "generic"), ("ibuprofen", "generic")]),
    ("ＩＢＵＰＲＯＦＥＮ　４００ｍｇ", [("ＩＢＵＰＲＯＦＥＮ", "generic")]),
    ("ＡＤＶＩＬ和布洛芬", [("ＡＤＶＩＬ", "brand"), ("布洛芬", "generic")]),
    # British approved names and UK brands, colloquial Chinese names
    ("Aciclovir cream or Piriton", [("Aciclovir", "generic"), ("Piriton", "brand")]),
    ("Use your adrenaline auto-injector", [("adrenaline", "generic")]),
    ("可以用扑尔敏止痒", [("扑尔敏", "generic")]),
    # everyday phrases, lab values and tests that contain a name
    ("You may feel a rush of adrenaline", []),
    ("Your uric acid level is high", []),
    ("要尽快克服焦虑，表达喜悦", []),
    ("用小苏打水漱口", []),
    ("做个口服葡萄糖耐量试验", []),
    # product classes
    ("Take iron tablets with orange juice", [("iron tablets", "class")]),
    ("抗蛇毒血清需要在医院注射", [("抗蛇毒血清", "class")]),
    # a target with a form is a class, a real compound product no class (复方降压片 is 复方利血平)
    ("可以吃降压片，或者复方降压片", [("降压片", "class"), ("复方降压片", "generic")]),
    # an action, and a complaint with its relief, are no products; the products stay
    ("甘草具有清热止咳作用", []),
    ("可以用清热止咳颗粒", [("清热止咳颗粒", "generic")]),
    ("使用鼻塞通鼻膏、鼻塞通鼻喷雾", []),
    ("宝宝可以用鼻塞通气液", [("鼻塞通", "generic")]),
]


@pytest.mark.parametrize(("text", "expected"), CASES, ids=[c[0][:24] for c in CASES])
def test_mentions(text, expected):
    mentions = drug_mentions(text)
    assert [(m.text, m.kind) for m in mentions] == expected
    for m in mentions:
        assert text[m.start : m.end] == m.text


@pytest.mark.parametrize(
    ("text", "canonical"),
    [
        ("布洛芬", "ibuprofen"),
        ("美林", "ibuprofen"),
        ("芬必得", "ibuprofen"),
        ("Advil", "ibuprofen"),
        ("ibuprofen", "ibuprofen"),
        ("泰诺林", "acetaminophen"),
        ("对乙酰氨基酚", "acetaminophen"),
        ("Tylenol", "acetaminophen"),
        ("盐酸二甲双胍", "metformin"),
        ("思密达", drug_mentions("蒙脱石散")[0].canonical),
        ("β受体阻滞剂", "beta_blocker"),
        ("beta-blockers", "beta_blocker"),
    ],
)
def test_canonical_is_shared_across_languages_and_brands(text, canonical):
    assert [m.canonical for m in drug_mentions(text)] == [canonical]


def test_mixed_chinese_english_gives_two_mentions_of_one_drug():
    text = "可服用布洛芬（ibuprofen）退热"
    a, b = drug_mentions(text)
    assert (a.text, b.text) == ("布洛芬", "ibuprofen")
    assert a.canonical == b.canonical == "ibuprofen"
    assert (a.start, a.end, b.start, b.end) == (3, 6, 7, 16)


def test_offsets_survive_full_width_and_emoji():
    text = "😊注意：Ｔｙｌｅｎｏｌ，每次１片；或者美林。"
    mentions = drug_mentions(text)
    assert [m.text for m in mentions] == ["Ｔｙｌｅｎｏｌ", "美林"]
    assert all(text[m.start : m.end] == m.text for m in mentions)
    assert len(normalize_text(text)) == len(text)


@pytest.mark.parametrize(
    ("question", "answer", "echo"),
    [
        ("我能吃布洛芬吗？", "布洛芬可以短期使用。", [True]),
        ("孩子发烧能用美林吗", "可以用布洛芬混悬液", [True]),  # same canonical, other name
        ("Can I take Advil?", "Ibuprofen is fine short term.", [True]),
        ("我能吃布洛芬吗？", "也可以用对乙酰氨基酚。", [False]),
        ("头痛怎么办", "可以吃布洛芬", [False]),
        ("我在吃卡美拉唑", "卡美拉唑不是已知药物", [True]),
        ("复方甘草片能长期吃吗？", "甘草片不宜长期服用", [True]),  # its everyday short name
    ],
)
def test_echo_marks_drugs_the_user_named(question, answer, echo):
    assert [m.echo for m in drug_mentions(answer, question=question)] == echo


def test_specific_drugs_keeps_generic_and_brand_not_echoed():
    text = "可以用布洛芬或美林，也可以用非甾体抗炎药，别用卡美拉唑"
    assert [m.text for m in specific_drugs(text)] == ["布洛芬", "美林"]
    assert [m.text for m in specific_drugs(text, question="布洛芬能吃吗")] == []


def test_mention_is_a_frozen_dataclass():
    m = drug_mentions("布洛芬")[0]
    assert isinstance(m, DrugMention)
    assert m == DrugMention("布洛芬", 0, 3, "generic", "ibuprofen", False)
    assert hash(m) == hash(DrugMention("布洛芬", 0, 3, "generic", "ibuprofen", False))
    with pytest.raises(AttributeError):
        m.kind = "class"  # type: ignore[misc]


def test_empty_and_plain_text():
    assert drug_mentions("") == []
    assert drug_mentions("多喝水，注意休息。") == []
