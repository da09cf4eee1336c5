"""Rules that turn raw drug-product records into lexicon entries.

Used by ``scripts/build_lexicon.py`` when it rebuilds the shipped files, and kept in the package
so the rules are tested: Chinese product names (布洛芬缓释胶囊) are reduced to generic names
(布洛芬) by stripping dosage forms and salt words, English product names ("Metformin
Hydrochloride Sustained-release Tablets") likewise, and candidate names that would cause false
positives (single characters, common words, wiki markup) are rejected with a reason.
"""

from __future__ import annotations

import re
import unicodedata

# Release modifiers: how a product releases its drug (布洛芬缓释胶囊), no part of the drug's name.
ZH_RELEASE = ("肠溶", "缓释", "控释")
# Dosage forms and release modifiers, stripped repeatedly from the end of a Chinese product name.
ZH_FORMS = sorted(
    [
        *"""
    注射液 注射剂 粉针剂 冻干粉 乳胶剂 口服溶液 口服液 口服乳 干混悬剂 混悬液 混悬剂 混悬滴剂 滴眼液 滴耳液 滴鼻液 滴鼻剂 滴剂 眼用凝胶 眼膏 软膏 乳膏 凝胶 贴剂 贴膏 贴片
    喷雾剂 气雾剂 吸入剂 粉雾剂 鼻喷剂 栓剂 栓 软胶囊 胶囊 胶丸 颗粒 冲剂 糖浆 合剂 酊剂 酊 搽剂 洗剂 溶液 乳剂 散剂 泡腾片 咀嚼片 分散片 含片 口含片 片 口服
    分散 咀嚼 泡腾 口腔崩解 包衣 薄膜衣 糖衣 微丸 滴丸 水丸 蜜丸 丸 散 粉 液 剂 膜 锭 露 膏
    """.split(),  # noqa: SIM905
        *ZH_RELEASE,
    ],
    key=len,
    reverse=True,
)
ZH_PREFIXES = ("注射用",)
# Salt words written before the active moiety (盐酸二甲双胍, 磷酸奥司他韦).
ZH_SALT_PREFIXES = sorted(
    """
    盐酸 二盐酸 硫酸氢 硫酸 马来酸 富马酸 酒石酸 枸橼酸 琥珀酸 甲磺酸 苯磺酸 磷酸 醋酸 乳酸 氢溴酸 门冬氨酸 硝酸 甲硫酸 萘磺酸 苯甲酸 丙酸 戊酸 乙酸 草酸 赖氨酸 精氨酸 双羟萘酸
    """.split(),  # noqa: SIM905
    key=len,
    reverse=True,
)
# Salt cations and esters written after it (双氯芬酸钠, 阿托伐他汀钙, 达比加群酯).
ZH_SALT_SUFFIXES = ("钠", "钾", "钙", "镁", "酯")

EN_FORM_WORDS = set(
    """
    tablets tablet tabs capsules capsule caps injection injections for oral solution solutions
    suspension suspensions drops drop granules granule syrup cream creams ointment gel eye ear
    nasal spray sustained-release extended-release prolonged-release controlled-release
    modified-release delayed-release sustained extended release controlled enteric-coated
    enteric coated film-coated dispersible chewable effervescent powder powders patch patches
    suppositories suppository lotion tincture inhalation inhaler aerosol soft hard sterile
    lyophilized liniment emulsion infusion concentrate pills pill dry mixture orally
    disintegrating vaginal rectal topical
    """.split()  # noqa: SIM905
)
EN_SALT_WORDS = set(
    """
    hydrochloride hcl sodium potassium calcium magnesium maleate sulfate sulphate phosphate
    acetate tartrate mesylate besylate citrate fumarate succinate hydrobromide nitrate lactate
    dihydrate monohydrate trihydrate bitartrate disodium dipropionate propionate valerate
    """.split()  # noqa: SIM905
)

# Endings of disease and symptom names: a patent medicine named after what it treats
# (口腔溃疡散, 荨麻疹丸) must not turn the disease itself (口腔溃疡) into a drug name.
ZH_DISEASE_ENDINGS = tuple(
    """
    炎 病 症 疹 疮 癣 痔 瘤 癌 溃疡 高血压 腹泻 便秘 感冒 咳嗽 头痛 痛经 失眠 哮喘 贫血 出血 水肿
    中风 骨折 结石 发热 发烧 呕吐 疼痛 瘙痒 烫伤 烧伤 扭伤 冻疮 脚气 痢疾 眩晕 耳鸣
    """.split()  # noqa: SIM905
)

_PARENS = re.compile(r"[（(][^（）()]*[）)]")
_CJK = re.compile(r"^[\u3400-\u9fff]+$")
_EN_OK = re.compile(r"^[a-z][a-z0-9' .\-]*[a-z0-9]$")
_WIKI = re.compile(r"[&;{}\[\]|=<>\"#/\\]|\bcite\b|\bref\b|https?:|www\.")


def is_cjk_word(word: str) -> bool:
    """A non-empty word of CJK unified ideographs only (U+4E00-U+9FFF): what the everyday-word
    list and the name model are built from."""
    return bool(word) and all("\u4e00" <= ch <= "\u9fff" for ch in word)


def normalize(text: str) -> str:
    """Matching key: NFKC (full-width to half-width), unified dashes, lower case, single spaces."""
    text = unicodedata.normalize("NFKC", text).replace("—", "-").replace("–", "-")
    return " ".join(text.lower().split())


def zh_generics(product: str) -> list[str]:
    """Generic-name candidates of a Chinese product name, most specific first.

    ``盐酸二甲双胍缓释片`` -> ``["盐酸二甲双胍", "二甲双胍"]``; ``注射用美洛西林钠`` ->
    ``["美洛西林钠", "美洛西林"]``. Names that reduce to nothing are returned unchanged.
    """
    name = _PARENS.sub("", unicodedata.normalize("NFKC", product)).strip()
    name = re.sub(r"[\d.]+\s*(mg|g|ml|μg|万?单位|%)?$", "", name, flags=re.I).strip()
    for prefix in ZH_PREFIXES:
        if name.startswith(prefix) and len(name) > len(prefix) + 1:
            name = name[len(prefix) :]
    changed = True
    while changed:
        changed = False
        for form in ZH_FORMS:
            if name.endswith(form) and len(name) - len(form) >= 2:
                name = name[: -len(form)]
                changed = True
                break
    out = [name]
    for salt in ZH_SALT_PREFIXES:
        if name.startswith(salt) and len(name) - len(salt) >= 3:
            name = name[len(salt) :]
            out.append(name)
            break
    if name.endswith(ZH_SALT_SUFFIXES):
        stem = name[:-1]
        ok_end = not stem.endswith(("化", "氢", "氧", "酸")) or (
            stem.endswith("酸") and len(stem) >= 4
        )
        if len(stem) >= 3 and ok_end:
            out.append(stem)
    return list(dict.fromkeys(out))


def en_generic(product: str) -> str:
    """Lower-case generic name of an English product name ("Ibuprofen Suspension Drops" -> "ibuprofen")."""
    words = [w for w in re.split(r"[\s,]+", normalize(_PARENS.sub(" ", product))) if w]
    keep = [w for w in words if w not in EN_FORM_WORDS and w not in EN_SALT_WORDS]
    while keep and keep[-1] in {"and", "with", "of", "in"}:
        keep.pop()
    return " ".join(keep)


def en_parts(product: str) -> list[str]:
    """The pieces of an English name field: alternatives split on ``|``, brackets opened."""
    pieces: list[str] = []
    for alt in normalize(product).split("|"):
        pieces.append(_PARENS.sub(" ", alt))
        pieces.extend(m.strip("()（）") for m in _PARENS.findall(alt))
    return [p.strip() for p in pieces if p.strip()]


def reject_reason(
    name: str,
    lang: str,
    stoplist: frozenset[str],
    keep: frozenset[str],
    common: dict[str, int] | None = None,
    max_common: int = 100,
    compound_factor: int = 5,
    min_len: int = 2,
    disease_check: bool = False,
) -> str | None:
    """Why a candidate lexicon name must not be used (``None``: it may be used).

    ``common`` maps words to corpus frequencies (the jieba dictionary for Chinese, a set of
    single-token English words for English): a name that is itself a frequent word is rejected
    unless it is on the reviewed ``keep`` list, and so is a short Chinese name made of two
    frequent words (at least ``max_common * compound_factor`` each). ``min_len`` is the
    shortest Chinese name accepted (3 for brands and patent medicines: two-character brands
    such as 可定 match inside ordinary phrases like 可定期复查). ``disease_check`` rejects
    Chinese names ending like a disease or symptom (荨麻疹, 口腔溃疡).
    """
    key = normalize(name)
    if key in keep:
        return None
    if key in stoplist:
        return "stoplist"
    if lang == "zh":
        if not _CJK.match(key):
            return "not-cjk"
        if len(key) < min_len:
            return "too-short"
        if disease_check and key.endswith(ZH_DISEASE_ENDINGS):
            return "disease"
    else:
        if _WIKI.search(key):
            return "markup"
        if not _EN_OK.match(key) or len(key.split()) > 4:
            return "not-a-name"
        if len(key) < 4:
            return "too-short"
    if common is not None and common.get(key, 0) >= max_common:
        return "common-word"
    if common is not None and lang == "zh" and 3 <= len(key) <= 4:
        # Two everyday words side by side (好医生 = 好 + 医生, 清热解毒 = 清热 + 解毒) make
        # the name match across word boundaries in ordinary sentences.
        for cut in range(1, len(key)):
            if (
                min(common.get(key[:cut], 0), common.get(key[cut:], 0))
                >= max_common * compound_factor
            ):
                return "common-compound"
    return None
