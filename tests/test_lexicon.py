"""Lexicon data files, the curation rules and the build script (offline, on small inputs)."""

from __future__ import annotations

import gzip
import io
import os
import pickle
from collections import Counter
from pathlib import Path

import pytest
from scripts_loader import load_script

import medlab.lexicon as lexicon
from medlab.lexicon.curate import en_generic, normalize, reject_reason, zh_generics

ROOT = Path(__file__).resolve().parents[1]


def _load_build_script():
    return load_script("build_lexicon")


@pytest.mark.parametrize(
    ("product", "generics"),
    [
        ("布洛芬缓释胶囊", ["布洛芬"]),
        ("盐酸二甲双胍缓释片", ["盐酸二甲双胍", "二甲双胍"]),
        ("注射用美洛西林钠", ["美洛西林钠", "美洛西林"]),
        ("对乙酰氨基酚口服混悬液", ["对乙酰氨基酚"]),
        ("蒙脱石散", ["蒙脱石"]),
        ("阿托伐他汀钙片", ["阿托伐他汀钙", "阿托伐他汀"]),
        ("双氯芬酸钠肠溶片", ["双氯芬酸钠", "双氯芬酸"]),
        ("磷酸奥司他韦胶囊", ["磷酸奥司他韦", "奥司他韦"]),
        ("氯化钠注射液", ["氯化钠"]),  # 钠 is not a salt suffix here
        ("碳酸氢钠片", ["碳酸氢钠"]),
        ("硫酸亚铁片", ["硫酸亚铁"]),  # 亚铁 alone is too short to be a name
        ("复方氨基酸注射液（18AA—II）", ["复方氨基酸"]),
        ("阿莫西林颗粒 0.125g", ["阿莫西林"]),
        ("硫酸氢氯吡格雷片", ["硫酸氢氯吡格雷", "氯吡格雷"]),
        ("草酸艾司西酞普兰片", ["草酸艾司西酞普兰", "艾司西酞普兰"]),
        ("达比加群酯胶囊", ["达比加群酯", "达比加群"]),
        ("双氯芬酸二乙胺乳胶剂", ["双氯芬酸二乙胺"]),
    ],
)
def test_zh_generics(product, generics):
    assert zh_generics(product) == generics


@pytest.mark.parametrize(
    ("product", "generic"),
    [
        ("Ibuprofen Suspension Drops", "ibuprofen"),
        ("Metformin Hydrochloride Sustained—release Tablets", "metformin"),
        ("Pantoprazole Sodium for Injection", "pantoprazole"),
        ("Amoxicillin Capsules", "amoxicillin"),
        ("Valsartan And Hydrochlorothiazid Capsules", "valsartan and hydrochlorothiazid"),
    ],
)
def test_en_generic(product, generic):
    assert en_generic(product) == generic


STOP = lexicon.stoplist()
KEEP = lexicon.keeplist()
COMMON = {
    "好": 50000,
    "医生": 20000,
    "美林": 48,
    "清热": 3000,
    "解毒": 3000,
    "安定": 1278,
    "help": 1000,
}


@pytest.mark.parametrize(
    ("name", "lang", "kwargs", "reason"),
    [
        ("感冒", "zh", {}, "stoplist"),
        ("咳嗽", "zh", {}, "stoplist"),
        ("发烧", "zh", {}, "stoplist"),
        ("口罩", "zh", {}, "stoplist"),
        ("牛奶", "zh", {}, "stoplist"),
        ("苹果", "zh", {}, "stoplist"),
        ("生姜", "zh", {}, "stoplist"),
        ("蜂蜜", "zh", {}, "stoplist"),
        ("advice", "en", {}, "stoplist"),
        ("iron", "en", {}, "stoplist"),
        ("片", "zh", {}, "too-short"),
        ("南元", "zh", {"min_len": 3}, "too-short"),
        ("0号", "zh", {}, "not-cjk"),
        ("好医生", "zh", {"common": COMMON}, "common-compound"),
        ("医生好", "zh", {"common": COMMON}, "common-compound"),
        ("口腔溃疡", "zh", {"min_len": 3, "disease_check": True}, "disease"),
        ("荨麻疹", "zh", {"min_len": 3, "disease_check": True}, "disease"),
        ("小儿腹泻", "zh", {"min_len": 3, "disease_check": True}, "disease"),
        ("连花清瘟", "zh", {"min_len": 3, "disease_check": True}, None),
        ("help", "en", {"common": COMMON}, "stoplist"),
        ("&lt;ref name=&quot;x&quot; /&gt;", "en", {}, "markup"),
        ("{{cite web", "en", {}, "markup"),
        ("abc", "en", {}, "too-short"),
        ("aspirin", "en", {"common": {"aspirin": 1000}}, None),  # reviewed keep list
        ("美林", "zh", {"common": COMMON, "min_len": 3}, None),  # reviewed keep list
        ("布洛芬", "zh", {"common": COMMON}, None),
        ("ibuprofen", "en", {"common": COMMON}, None),
    ],
)
def test_reject_reason(name, lang, kwargs, reason):
    assert reject_reason(name, lang, STOP, KEEP, **kwargs) == reason


def test_shipped_lexicon_has_what_consultations_name_and_not_everyday_words():
    names = lexicon.drug_names()
    for name in ["布洛芬", "阿莫西林", "奥美拉唑", "头孢克洛", "思密达", "妈咪爱", "美林", "泰诺林",
                 "aspirin", "ibuprofen", "advil", "tylenol", "omeprazole"]:  # fmt: skip
        assert name in names, name
    for word in ["感冒", "咳嗽", "发烧", "口罩", "牛奶", "苹果", "生姜", "大枣", "蜂蜜", "维c", "维生素",
                 "advice", "help", "iron", "water", "安定", "上清", "可定", "好医生", "口腔溃疡",
                 "荨麻疹", "气管炎", "小儿腹泻", "aloe vera"]:  # fmt: skip
        assert word not in names, word
    assert names["美林"] == ("brand", "ibuprofen")
    assert names["布洛芬"] == ("generic", "ibuprofen")
    kinds = Counter(kind for kind, _ in names.values())
    assert kinds["generic"] > 20000 and kinds["brand"] > 3000
    assert all(len(n) >= 2 for n in names)


def test_classes_are_curated_and_never_drug_names():
    classes = lexicon.drug_classes()
    assert len(classes) >= 150
    assert len(set(classes.values())) >= 50
    for name in ["非甾体抗炎药", "质子泵抑制剂", "头孢类抗生素", "β受体阻滞剂", "β-受体阻滞剂",
                 "beta blockers", "抗组胺药", "钙通道阻滞剂", "他汀类药物", "nsaids", "ppis",
                 "ace inhibitors", "antihistamines", "口服补液盐", "退烧药", "解热镇痛药", "止咳药",
                 "益生菌", "青霉素类"]:  # fmt: skip
        assert name in classes, name
    assert classes["β受体阻滞剂"] == classes["beta blockers"]
    assert not set(classes) & set(lexicon.drug_names())


def test_inn_stems_cover_both_languages():
    stems = lexicon.inn_stems()
    en = {s.stem for s in stems if s.lang == "en"}
    zh = {s.stem for s in stems if s.lang == "zh"}
    assert {"pril", "sartan", "vastatin", "olol", "dipine", "prazole", "oxacin", "cillin", "mab",
            "tinib", "cef", "conazole", "vir", "gliptin", "gliflozin", "tidine", "setron"} <= en  # fmt: skip
    assert {"普利", "沙坦", "伐他汀", "洛尔", "地平", "拉唑", "沙星", "西林", "单抗", "替尼", "康唑",
            "韦", "格列汀", "格列净", "替丁", "司琼"} <= zh  # fmt: skip
    assert "WHO/EMP/RHT/TSN/2018.1" in (lexicon.data_dir() / "inn_stems.tsv").read_text("utf-8")


def test_shipped_files_are_compact():
    total = sum(p.stat().st_size for p in lexicon.data_dir().iterdir())
    assert total < 3 * 1024 * 1024


@pytest.fixture
def lexicon_dir(tmp_path, monkeypatch):
    for p in lexicon.data_dir().iterdir():
        (tmp_path / p.name).write_bytes(p.read_bytes())
    monkeypatch.setenv("MEDLAB_LEXICON_DIR", str(tmp_path))
    caches = [
        lexicon.drug_names,
        lexicon.drug_classes,
        lexicon.inn_stems,
        lexicon.stoplist,
        lexicon.keeplist,
    ]
    for fn in caches:
        fn.cache_clear()
    yield tmp_path
    monkeypatch.delenv("MEDLAB_LEXICON_DIR")
    for fn in caches:
        fn.cache_clear()


def test_bad_class_row_names_file_line_and_fields(lexicon_dir):
    path = lexicon_dir / "drug_classes.tsv"
    lines = path.read_text("utf-8").splitlines()
    lines.insert(10, "抗病毒药\tzh")  # canonical missing
    path.write_text("\n".join(lines) + "\n", "utf-8")
    with pytest.raises(
        ValueError, match=r"drug_classes\.tsv:11: expected 3 fields \(name, lang, canonical\)"
    ):
        lexicon.drug_classes()


def test_bad_drug_kind_names_file_line_and_field(lexicon_dir):
    with gzip.open(lexicon_dir / "drugs.tsv.gz", "wt", encoding="utf-8") as f:
        f.write(
            "name\tlang\tkind\tcanonical\n布洛芬\tzh\tgeneric\tibuprofen\n美林\tzh\tbrandx\tibuprofen\n"
        )
    with pytest.raises(ValueError, match=r"drugs\.tsv\.gz:3: expected .*kind"):
        lexicon.drug_names()


def test_build_from_small_sources():
    build = _load_build_script()
    cmekg = [
        {
            "name": "布洛芬缓释胶囊",
            "通用名": "",
            "商品名": "芬必得",
            "英文名": "Ibuprofen Sustained-release Capsules",
        },
        {"name": "美林", "通用名": "布洛芬混悬液", "商品名": "", "英文名": "Ibuprofen Suspension"},
        {
            "name": "好医生",
            "通用名": "对乙酰氨基酚片",
            "商品名": "",
            "英文名": "Paracetamol Tablets",
        },
        {"name": "上清丸", "通用名": "", "商品名": "", "英文名": "Shangqing Wan"},
        {"name": "感冒", "通用名": "", "商品名": "", "英文名": ""},
    ]
    ner = [("ibuprofen", "ibuprofen", False), ("advil", "ibuprofen", None), ("paracetamol", "acetaminophen", False),
           ("acetaminophen", "acetaminophen", False), ("help", "help", None), ("{{cite web", "lisinopril", None)]  # fmt: skip
    entries, rejected, _ = build.build(cmekg, ner, ["Advil", "Aspirin"], {"好": 9000, "医生": 9000},
                                       {"help": 1000, "aspirin": 1000})  # fmt: skip
    assert entries["布洛芬"] == ("zh", "generic", "ibuprofen")
    assert entries["布洛芬缓释胶囊"][2] == "ibuprofen"
    assert entries["芬必得"] == ("zh", "brand", "ibuprofen")
    assert entries["美林"] == ("zh", "brand", "ibuprofen")
    assert entries["advil"] == ("en", "brand", "ibuprofen")
    assert entries["aspirin"][1:] == ("brand", "aspirin") or entries["aspirin"][1] == "generic"
    assert entries["对乙酰氨基酚"][2] == "acetaminophen"
    assert "上清丸" in entries and "上清" not in entries  # patent medicine: 2 chars is too short
    for word in ["好医生", "help", "{{cite web", "感冒"]:
        assert word not in entries, word
    assert rejected["stoplist"] >= 2 and rejected["markup"] == 1


def test_restricted_unpickler_refuses_globals():
    build = _load_build_script()
    safe = pickle.dumps({"布洛芬": {"商品名": ["美林"]}})
    assert build.BuiltinsUnpickler(io.BytesIO(safe)).load() == {"布洛芬": {"商品名": ["美林"]}}
    evil = pickle.dumps(os.system)
    with pytest.raises(pickle.UnpicklingError, match="refusing"):
        build.BuiltinsUnpickler(io.BytesIO(evil)).load()


def test_written_file_is_deterministic(tmp_path):
    build = _load_build_script()
    rows = [("布洛芬", "zh", "generic", "ibuprofen"), ("advil", "en", "brand", "ibuprofen")]
    build.write_tsv_gz(tmp_path / "a.tsv.gz", ("name", "lang", "kind", "canonical"), rows)
    build.write_tsv_gz(tmp_path / "b.tsv.gz", ("name", "lang", "kind", "canonical"), rows)
    assert (tmp_path / "a.tsv.gz").read_bytes() == (tmp_path / "b.tsv.gz").read_bytes()


def test_normalize():
    assert normalize("ＡＤＶＩＬ　Ｔａｂｌｅｔｓ") == "advil tablets"
    assert normalize("Sustained—release") == "sustained-release"
