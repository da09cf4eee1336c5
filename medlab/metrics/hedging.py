"""Hedging of diagnoses: are the answer's diagnostic claims hedged (可能是, 疑似, likely) or
stated as certain (就是, 诊断为, you have)?

``hedging(text)`` is True when the answer makes diagnostic claims and every one is hedged,
False when any is stated as certain, and None when it makes none (general advice only).

A diagnostic claim names a condition or a cause for this patient:
- Chinese: a claim cue followed closely by a condition word (…炎, …病, …症, 感染, 感冒,
  过敏, 综合征, …) or a cause (…引起的, 与…有关). Hedged cues: 可能是, 疑似, 考虑为, 倾向于,
  像是, 不排除, 怀疑, 初步判断, 提示; certain cues: 就是, 诊断为, 确诊, 患有, 得了, 属于,
  您这是, and 是 after a patient subject (您/你/孩子/这/症状). A certain cue with a hedge word
  earlier in the sentence (可能, 一般, 通常, 初步, ...) counts as hedged. 可能 alone is not a
  claim: 可能需要休息, 可能会反复 are not diagnoses.
- English: a sentence with a condition word and a claim cue (you have, this is, it's, caused
  by; likely, probably, may be, could be, suggests, consistent with, sounds like) before it;
  hedged when the sentence has a hedge word.
Claims inside a condition (如果是细菌感染…, if it is an infection…) and questions are not claims;
a condition governs what follows it, not a claim made before it (可能是感冒，如果加重请就医).
Denials (不一定是癌症, you have no fever) are not claims.
JSON answers are read through summary + analysis + suggestions; JSON the parser cannot read is
split at its strings, so a hedge in one string never reaches a claim in the next.
"""

from __future__ import annotations

import re

from medlab.metrics.chinese import CJK, to_simplified
from medlab.metrics.format import prose, seams_to_lines

_SENTENCE = re.compile(r"[^。！？；;!?\n]+[。！？；;!?]*")
_EN_SENTENCE = re.compile(r"(?<=[.!?])\s+(?=[A-Z\"'(])")

_DISEASE_ZH_ALTS = (
    r"炎(?<![抗消]炎)(?!热|药)|痢疾|疟疾|发热|发烧|病(?![毒情历人史因房程假号区痛菌])|症(?!状)(?<!急症)|感染|卒中|惊厥|痛经|神经痛|疮|癣|疹(?!子)|结核|综合征|结石|溃疡|过敏|骨折|肿瘤|癌|"
    r"囊肿|息肉|积液|扭伤|拉伤|反流|感冒|流感|哮喘|湿疹|痛风|贫血|高血压|糖尿病|偏头痛|头痛|中暑|"
    r"中毒|痔疮|荨麻疹|疱疹|结节|梗死|梗塞|心绞痛|痉挛|失眠|抑郁|焦虑|紊乱|失调|不耐受|劳损|突出|"
    r"增生|上火|积食|着凉|消化不良|便秘|腹泻|缺乏|缺铁|不全|异常|障碍|脱水|低血糖|早搏|"
    r"结膜炎|近视|鼻窦炎|疝|出血|血栓|溶血|呼吸暂停|晕车|晕动|血肿|携带者|乙肝|扭转|脱离|阻塞|堵塞|破裂|穿孔|坏死|梗阻|肠套叠|流产|宫外孕|叮咬|咬伤|烫伤|烧伤|冻伤|"
    r"生长痛|乳腺痛|肌肉痛|关节痛|胸壁痛|肋间痛|痘|眩晕|耳聋|缺血|闭锁|慢阻肺|衰竭|心动过[缓速]|心律不齐|"
    r"样反应|不良反应|副作用|戒断反应|药物反应|脓肿|亢进|减退|痴呆|黄疸|脂肪肝|硬化|狭窄|脱垂|脱位|"
    r"夹层|休克|麻痹|瘫痪|撕裂|积水|生理性|病理性|低血压|落枕|晕厥|挫伤|疏松|麦粒肿|心律失常|甲减|甲亢|"
    r"龋齿|蛀牙|真菌|霉菌|寄生虫|绞痛|栓塞|早破|早产|早剥|前置|痣|"
    # TCM diagnoses (可能是肾虚的迹象)
    r"[肾体气血阴阳脾]虚|气血不足"
)
# (the alternatives stay flat where they open a pattern: a group first would disable the regex
# engine's scan for their first characters)
_DISEASE_ZH = rf"(?:{_DISEASE_ZH_ALTS})"
# a cue and the condition it names sit in one clause, at most 14 characters apart
# (可能是[由细菌引起的]肺炎); a wider gap reaches into the next claim
_GAP = r"[^，。；！？,.;!?\n]{0,14}?"
_HEDGE_CUE_ZH = (
    r"很可能(?:是|为|患|患有|有|存在|属于|出现了)|极可能(?:是|为|患|患有|有|存在|属于|出现了)|比较可能(?:是|为|患|患有|有|存在|属于|出现了)|更可能(?:是|为|患|患有|有|存在|属于|出现了)|最可能(?:是|为|患|患有|有|存在|属于|出现了)|可能(?:是|为|患|患有|有|存在|属于|出现了)|疑似|疑为|考虑(?:为|是)?|倾向(?:于|是)?|"
    r"像是|很像|看起来像|看着像|不排除|不能排除|难以排除|无法排除|怀疑|或许是|也许是|大概是|"
    r"多半是|估计是|应该是|大概率是|(?:我|个人)[^，。；！？]{0,4}?(?:判断|认为|觉得|看)(?:是|为)?|八成是|十有八九是|估摸着?是|看样子是|恐怕是|没准是|兴许是|当心|初步(?:判断|考虑|看)|提示(?<!结果提示)(?<!报告提示)(?<!检查提示)(?<!化验提示)(?<!超提示)(?<!CT提示)(?<!图提示)|符合|似乎是|好像是|"
    r"警惕|排除(?<!以排除)(?<!来排除)(?<!以便排除)(?<!用于排除)|像是?|"
    r"多(?:属于|为|是|见于|由|数是)|(?:多|一般|通常)认为是|大多(?:是|为|属于)|"
    r"(?:多半|大概率|估计|八成|很可能|可能|大概|应该|或许|也许)(?:您|你|孩子|宝宝)[也还就都已]?"
    r"(?:是|有|患|患了|得了|已经)?"
)
_CERTAIN_CUE_ZH = (
    r"就是(?<!也就是)|确诊为?|诊断为|可以?判断为|确定是|肯定是|一定是|明确是|毫无疑问是?|无疑是|患有|患了|得了|属于|"
    r"(?:您|你|孩子|宝宝|这|这个|这种|这些|症状|情况|目前|检查结果)[^，。；！？]{0,10}?(?<!不)是(?!否|不是)|达到了?(?=[^，。；！？]{0,10}?(?:标准|诊断))|"
    r"是(?<=[，,]是)(?!否|不是)|说明(?:您|你|孩子)?(?:是|有|患)"
)
# every alternative starts with a literal and there is no re.I, so the regex engine can skip
# to the cues' first characters (an optional prefix or a leading look-behind would disable that)
_CLAIM_ZH = re.compile(rf"(?P<hedge>{_HEDGE_CUE_ZH})|(?P<certain>{_CERTAIN_CUE_ZH})")
_DISEASE_AFTER_ZH = re.compile(rf"{_GAP}(?:{_DISEASE_ZH}|引起|导致|所致|造成)")
_CAUSE_HEDGED_ZH = re.compile(
    r"(?:可能|大多数?|多半|多数|多为|多|一般|通常|往往|常常|或许|也许)[^，。；！？是]{0,8}?"
    r"(?:是|与|和|跟|由|因为|因|是因为|是由)"
    r"[^。；！？\n]{1,15}?(?:引起|导致|所致|造成|有关|相关|(?<!确定)(?<!明确)(?<!查明)(?<!找出)原因)"
    r"|(?:常见|可能)的?(?:原因|诱因)(?:可能)?是|(?:原因|诱因|病因)(?:很|最)?(?:可能|大概|也许|或许|多半)是"
    r"|是(?:导致|引起|造成)[^。；！？\n]{1,15}?的(?:原因|因素)之一"  # 肾虚是导致腰酸的原因之一
    # a hedged cause with no cause verb after it (可能是因为身体虚弱或免疫力下降)
    r"|(?:可能|也许|或许|大概)是?(?:因为|由于)[^，。；！？\n]{2}"
)
_SEVERAL_CAUSES_ZH = re.compile(r"(?:多种|各种|很多|许多|多方面|不同)的?(?:原因|因素)")
# "X的可能性大": a hedge placed after the condition word
_HEDGE_AFTER_ZH = re.compile(
    r"[^，。；！？]{0,2}?(?:的?可能性?(?:较|很|比较|更)?大|的(?:典型|常见)?(?:表现|特点|症状|特征|过程|征象|信号|迹象))"
)
_CAUSE_CERTAIN_ZH = re.compile(
    r"(?:您|你|孩子|宝宝|这|症状|情况)[^，。；！？]{0,8}?(?:(?:就是|是|是由|完全是)[^，。；！？]{1,15}?"
    r"(?:引起|导致|造成|所致)的|(?:和|与|跟)[^，。；！？]{1,12}?(?:有关|相关))"
)
# a flat cause given to the user's symptom (头疼是由于身体的紧张和疲劳引起的, 睡眠过长导致身体
# 虚汗): a diagnostic claim, certain unless a hedge word comes before it in the sentence
_SYMPTOM_ZH = (
    r"(?:头|肚子|胃|腰|嗓子|喉咙|牙|关节|胸口?)?(?:疼|痛)|头晕|拉肚子|腹泻|咳嗽|发烧|发热|虚汗|"
    r"出汗|盗汗|瘙痒|发痒|红肿|乏力|没劲|失眠|恶心|呕吐|上吐下泻|烧心|反酸|便秘|鼻塞|流鼻涕|受寒|"
    r"着凉|心慌|胸闷|气短|抽筋|麻木|皮疹|起疹子|水泡|晕倒|昏倒|晕厥|脱发|掉头发|头发脱落"
)
_SYMPTOM_CAUSE_ZH = re.compile(
    rf"(?:{_SYMPTOM_ZH})(?:[^，。；！？定]{{0,4}}?)(?:是由于|是因为|是由(?!于)|主要由|由于)"
    r"(?!多种|各种|很多|许多|不同)[^，。；！？]{1,15}?(?:引起|导致|造成|所致)"
    rf"|^[^。；！？]{{2,20}}?(?<!以免)(?<!避免)(?<!防止)(?<!会)(?<!能)(?<!可)(?<!将)(?<!易)"
    rf"导致了?(?!的)[^，。；！？]{{0,6}}?(?:{_SYMPTOM_ZH})"
    # a symptom declared a disease (上吐下泻是急性胃肠疾病, 烧心是心脏的疾病)
    rf"|(?:{_SYMPTOM_ZH})是(?:一种)?[^，。；！？]{{0,8}}?疾病"
    # its cause named flatly (奶奶晕倒的原因是脉搏过快)
    rf"|(?:{_SYMPTOM_ZH})的(?:主要)?(?:原因|病因)(?:就)?是(?!否)"
)
_HEDGE_WORD_ZH = re.compile(
    r"可能|像是|很像|更像|看起来像|符合|应该是|多数|"
    r"提示(?<!结果提示)(?<!报告提示)(?<!检查提示)(?<!化验提示)(?<!超提示)(?<!CT提示)(?<!图提示)|疑为|警惕|排除|多属|多为|多是|多由|或许|也许|大概|估计|疑似|考虑|不排除|多半|倾向|似乎|好像|看起来|一般|通常|多为|多见|"
    r"常见|大多|初步|怀疑|不太确定|无法确定|不能确定|需要进一步|有待|不一定|八成|十有八九|估摸|"
    r"看样子|恐怕|没准|兴许|大概率|当心|判断|认为|觉得"
)
# the condition word modifies another noun (动脉粥样硬化的危险因素): not a claim
_MODIFIER_AFTER_ZH = re.compile(
    r"的?(?:危险因素|风险|高危|预防|治疗|用药|药物|检查|筛查|并发症|患者|人群)"
)
_YOU_ZH = re.compile(r"[您你]")
_URGENT_AFTER_ZH = re.compile(rf"{_GAP}急症")
_NOT_BEFORE_ZH = ("不一定", "未必", "并不", "并非", "不会", "不")
# "X的可能性大" (良性的可能性比较大): a hedge placed after the condition word
_LIKELY_ZH = re.compile(rf"(?:{_DISEASE_ZH_ALTS}|良性|恶性)的?可能性?(?:较|很|比较|更)?大")
# a condition governs the rest of its sentence (如果是细菌感染，才需要…) until a clause opening
# with 但/所以/其实…; a condition closed by 的话/的时候 governs its own clause too
_COND_ZH = re.compile(
    r"如果|假如|若(?!干)|倘若|万一|一旦|(?<![主需重])要是|是否|如为|如是|如确诊|一旦确诊|只有(?=[^。；]{0,20}?才)|除非"
)
_COND_AFTER_ZH = re.compile(r"的话|的时候|排除[^，,。；]{0,8}后")
_CLAUSE_ZH = re.compile(r"[^，,]+[，,]*|[，,]+")
_ANY_COND_ZH = re.compile(_COND_ZH.pattern + "|" + _COND_AFTER_ZH.pattern)
_RESET_ZH = re.compile(r"\s*(?:但|不过|然而|可是|所以|因此|其实|总之|目前|现在)")


def _live_zh(sentence: str) -> str:
    """The sentence with the clauses a condition governs blanked out (a claim made before the
    condition still counts: 可能是感冒，如果加重请就医)."""
    if _ANY_COND_ZH.search(sentence) is None:
        return sentence
    out, dead = [], False
    for clause in _CLAUSE_ZH.findall(sentence):
        if dead and _RESET_ZH.match(clause):
            dead = False
        if dead or _COND_AFTER_ZH.search(clause):
            dead = True
            out.append("，")
        elif (m := _COND_ZH.search(clause)) is not None:
            dead = True
            out.append(clause[: m.start()] + "，")
        else:
            out.append(clause)
    return "".join(out)


# English patterns are lower-case and run on lower-cased sentences (faster than re.I)
_DISEASE_EN_ALTS = (
    r"infections?|flu|influenza|(?:common )?colds?|"
    r"allerg(?:y|ies|ic \w+)|syndrome|disease|disorder|migraines?|reflux|gerd|ibs|uti|"
    r"sprain(?:ed)?|strain(?:ed)?|fractures?|ulcers?|asthma|eczema|diabetes|prediabetes|"
    r"hypertension|hypotension|"
    r"an(?:a)?emia|(?:tension|cluster)(?:-type)? headaches?|viral|bacterial|virus(?:es)?|norovirus|rotavirus|"
    r"covid(?:-19)?|pneumonia|concussion|gout|hernia|(?:kidney |gall)?stones?|cysts?|tumou?rs?|"
    r"cancer|heart attack|stroke|insomnia|anxiety|depression|food poisoning|hives|acne|vertigo|"
    r"bppv|angina|dehydration|deficiency|hypoglyc(?:a)?emia|hypothyroidism|hyperthyroidism|"
    r"shingles|h(?:a)?emorrhoids|stye|croup|panic attacks?|apn(?:o)?ea|intolerance|"
    r"inflamed|inflammation|bleeding|thrush|clot|thrombosis|meningitis|sepsis|"
    r"torsion|poisoning|overdose|poison (?:ivy|oak)|"
    r"(?:meniscus|ligament|muscle|rotator cuff|acl|tendon) tear|torn \w+|athlete'?s foot|ringworm|"
    r"hay fever|skin tags?|lipomas?|warts?|verrucas?|ingrown (?:toe)?nails?|bunions?|sciatica|"
    r"(?:tennis|golfer'?s) elbow|frozen shoulder|whiplash|(?:lower )?back pain|seizures?|convulsions?|"
    r"faint|fainting|syncope|anaphylaxis|perforation|obstruction|pulled (?:a |your |\w+ )?muscle|"
    r"(?:bee|wasp|insect|mosquito|tick) (?:stings?|bites?)(?: reaction)?|traveller'?s diarrh(?:o)?ea|"
    r"heat (?:exhaustion|stroke)|sunburn|cold sores?|abscess(?:es)?|dissection|aneurysm|embolism|"
    r"ectropion|polyps?|nodules?|fibroids?|prolapse|scabies|lice|impetigo|rosacea|milia|"
    r"blockage|obstruction|dislocation|concussion|(?:under|over)active thyroid|thyroid problems?|"
    r"indigestion|dyspepsia|heartburn|constipation|high (?:blood pressure|cholesterol)|"
    r"low blood pressure|arrhythmia|tinnitus|shin splints|carpal tunnel|pink eye|tooth decay|"
    r"cavit(?:y|ies)|(?:stomach|tummy) bug"
)


def _split_alternatives(pattern: str) -> list[str]:
    """The top-level alternatives of a regex source (``a|b(?:c|d)`` -> ``a``, ``b(?:c|d)``)."""
    out, cur, depth, i = [], [], 0, 0
    while i < len(pattern):
        c = pattern[i]
        if c == "\\" or c == "[":  # an escape, or a character class up to its "]"
            j = i + 2 if c == "\\" else pattern.index("]", i + 2)
            cur.append(pattern[i : j + (c == "[")])
            i = j + (c == "[")
            continue
        depth += (c == "(") - (c == ")")
        if c == "|" and depth == 0:
            out.append("".join(cur))
            cur = []
        else:
            cur.append(c)
        i += 1
    return [*out, "".join(cur)]


def _by_first_letter(pattern: str) -> str:
    """The same alternatives grouped under their first letter (``flu|fracture`` ->
    ``f(?:lu|racture)``): after a leading ``\\b`` the regex engine tries every alternative at
    every word start, and the grouped form tries one letter per group instead. Alternatives
    that do not open with a letter stay as they are, in place."""
    groups: dict[str, list[str]] = {}
    for alt in _split_alternatives(pattern):
        key = alt[0] if alt[:1].isalpha() else alt
        groups.setdefault(key, []).append(alt[1:] if key != alt else "")
    return "|".join(
        key if not key[:1].isalpha() or tails == [""] else f"{key}(?:{'|'.join(tails)})"
        for key, tails in groups.items()
    )


_DISEASE_EN = re.compile(rf"\b(?:{_by_first_letter(_DISEASE_EN_ALTS)})\b")
# words with a disease-like ending that are not diseases
_NOT_DISEASE_EN = frozenset(
    {"diagnosis", "prognosis", "osmosis", "aroma", "diploma", "academia", "empathy", "sympathy",
     "nostalgia", "trophy"}
)  # fmt: skip
# substrings one of which each ending needs (a substring test is cheaper than the regex)
_SUFFIX_KEYS_EN = ("itis", "osis", "oma", "pox", "infection", "emia", "pathy", "algia", "plasia",
                   "trophy", "rrh", "edema", "iasis")  # fmt: skip
# medical-term endings: tonsillitis, psoriasis, lipoma, anaemia, neuropathy, angioedema, ...
_DISEASE_SUFFIX_EN = re.compile(
    r"(?:itis|osis|oma|pox|infections?|a?emia|pathy|algia|plasia|trophy|rrh(?:o)?ea|o?edema|iasis)\b"
)
_HEDGE_EN_WORDS = (
    r"likely|unlikely|probably|possibly|possible|may|might|could|can (?:be|mean|indicate|point)|"
    r"suggests?|suggestive|"
    r"consistent with|in keeping with|typical of|characteristic of|sounds? like|looks? like|"
    r"seems?|appears?|perhaps|suspect|rule out|probable|maybe|points? to(?:wards?)?|sign of|i think|"
    r"usually|typically|commonly|often|most (?:likely|often|probably)|not sure|unclear|more typical|"
    r"more like|most cases|in most people|(?:i|you|we|they) (?:think|believe)|"
    r"(?:some|many|most) (?:\w+ )?\w+s (?:are|can|may|will)|another (?:\w+ )?cause|"
    r"(?:common|possible|frequent) causes?|(?:common|typical|classic|usual) (?:symptoms?|signs?) of"
)
_CUE_EN = re.compile(
    r"\b(?:you have|you've got|you have got|you(?:'re| are) suffering from|you(?:'ve| have) "
    r"(?:pulled|strained|sprained|twisted)|(?:you|he|she|they|your \w+)(?:'re|'s| is| are) having|"
    r"(?:shows?|showed|confirms?|confirmed|describing)|you(?:'ve| have) "
    r"developed|you(?:'re| are) dealing with|(?:your \w+|he|she|they) (?:has|have)|"
    r"(?:this|that|it|your \w+)(?: \w+)? (?:is|are)|(?:this|that|it)'s|these are|"
    r"(?:is|are) (?:caused|triggered) by|(?:is|are) due to|diagnosis is|definitely|clearly|"
    r"classic|certainly|" + _HEDGE_EN_WORDS + r")\b"
)
# "classic signs of X" is a consistency statement, hedged like "typical of X"
_HEDGE_EN = re.compile(r"\b(?:" + _HEDGE_EN_WORDS + r"|signs of)\b")
_COND_EN = re.compile(
    r"^\s*(?:if|when|unless|whether|in case)\b|"
    r"\b(?:doesn'?t|does not|don'?t|do not|won'?t) (?:necessarily )?mean\b"
)
_COND_MID_EN = re.compile(r"\b(?:if|unless|whether|in case)\b")
_NEG_AFTER_CUE_EN = re.compile(r"\b(?:no|not|never|without)\b|n't\b")
# flat literal alternatives: the regex engine then skips to their first characters
_CAUSE_EN = re.compile(
    r"caused by\b|triggered by\b|brought on by\b|linked to\b|related to\b|down to\b|due to\b"
)
# the condition word is what a treatment is for ("used for UTI", "a treatment for high blood
# pressure") or the sentence is about what to take ("the best thing to take ... is"): no claim
_TREATS_EN = re.compile(
    r"\b(?:used|use|take|taken|taking|medicines?|medications?|drugs?|treatments?|remed(?:y|ies)|"
    r"relievers?|pills?)\s+(?:for|against)\s+(?:(?:a|an|the|your|my)\s+)?$"
)
_TAKE_SUBJECT_EN = re.compile(r"\b(?:best|first|right|good) (?:thing|way|option|choice|remedy)\b")


def _zh_claims(sentence: str) -> list[bool]:
    """Hedged flag of each diagnostic claim in one Chinese sentence."""
    claims: list[bool] = []
    for m in _CLAIM_ZH.finditer(sentence):
        if sentence.endswith(_NOT_BEFORE_ZH, 0, m.start()):
            continue  # 不一定是癌症, 并不是感染: a denial, not a claim
        d = _DISEASE_AFTER_ZH.match(sentence, m.end())
        if d is None and m.group("hedge") and _URGENT_AFTER_ZH.match(sentence, m.end()):
            claims.append(True)  # 可能是心脏急症 is a hedged claim; 属于急症 only triages
            continue
        if d is None or _MODIFIER_AFTER_ZH.match(sentence, d.end()):
            continue
        if m.group().endswith("有") and d.group().endswith(("副作用", "不良反应")):
            continue  # 可能有副作用: what a drug may do, not what the user has
        if _SEVERAL_CAUSES_ZH.search(sentence, m.end(), d.end()):
            claims.append(True)  # 孩子积食是由于多种原因引起的: causes listed, none asserted
            continue
        # "X的表现" hedges a consistency statement, not "你这是X的表现" said of the patient
        if m.group("hedge") or (
            _HEDGE_AFTER_ZH.match(sentence, d.end()) and not _YOU_ZH.match(m.group())
        ):
            claims.append(True)
        else:
            # the cue's own 判断 (可以判断为发烧) is no hedge
            said = sentence[: m.start()] + m.group().replace("判断", "")
            claims.append(bool(_HEDGE_WORD_ZH.search(said)))
    if not claims:
        d = _LIKELY_ZH.search(sentence)
        if d is not None or _CAUSE_HEDGED_ZH.search(sentence):
            claims.append(True)
        elif (c := _CAUSE_CERTAIN_ZH.search(sentence)) is not None:
            claims.append(bool(_HEDGE_WORD_ZH.search(sentence, 0, c.end())))
    if not claims or all(claims):
        # a flat cause or disease given to a symptom, also beside hedged claims (咳嗽是由于呼吸道
        # 感染引起的，…可能是感冒引起的咳嗽)
        body = sentence.lstrip(' "“「[')
        if (c := _SYMPTOM_CAUSE_ZH.search(body)) is not None:
            # "是一种常见的…疾病" names a kind of disease: 常见 there hedges nothing
            said = body[: c.end()].replace("一种常见的", "一种")
            claims.append(bool(_HEDGE_WORD_ZH.search(said)))
    return claims


# "... is the likely cause" within 30 characters after the condition word, in its clause
_AFTER_EN = re.compile(
    r"[^,;.]{0,30}?\b(?:is|are)\s+(?:\w+\s+){0,3}?(?:likely|possible|probable|explanation|cause)"
)


# "... that appeared two days ago is a stye": a copula right before the condition word
_IS_BEFORE_EN = re.compile(
    r"\b(?:is|are)\s+(?:(?:a|an|just|simply|definitely|clearly|probably|likely)\s+){0,2}"
    r"(?:(?!(?:for|of|to|with|in|against|from|after|by|not|no)\b)[a-z'-]+\s+){0,2}$"
)
# "your gout is flaring": presupposed; "you've sprained": the cue is the condition word
_YOUR_EN = re.compile(r"\byour (?:\w+ )?$|\byou(?:'ve| have) $")


def _diseases_en(low: str) -> list[tuple[int, int]]:
    spans = [m.span() for m in _DISEASE_EN.finditer(low)]
    if any(k in low for k in _SUFFIX_KEYS_EN):
        for m in _DISEASE_SUFFIX_EN.finditer(low):
            start = m.start()
            while start > 0 and (low[start - 1].isalnum() or low[start - 1] == "-"):
                start -= 1
            if low[start : m.end()] not in _NOT_DISEASE_EN:
                spans.append((start, m.end()))
    return sorted(spans)


def _cue_before(before: str) -> bool:
    """A claim cue in ``before`` that is not negated on the way to the condition word ("you have
    no fever" is not a claim of fever)."""
    return any(_NEG_AFTER_CUE_EN.search(before, m.end()) is None for m in _CUE_EN.finditer(before))


# characters before an English condition word searched for its claim cue ("it sounds to me
# like this could well be a sprain"): one long clause, not the sentence before it
_EN_CUE_WINDOW = 60


def _en_claims(sentence: str) -> list[bool]:
    """Hedged flag of the diagnostic claim in one English sentence (at most one): a condition
    word with a claim cue in the 60 characters before it (or "... is the likely cause" after),
    or a hedged cause ("could be caused by the dry air"). A sentence opening with a condition
    makes no claim; a condition inside it governs what follows it."""
    low = sentence.lower()
    spans = _diseases_en(low)
    cause = _CAUSE_EN.search(low)
    if (not spans and cause is None) or _COND_EN.search(low):
        return []
    cond = _COND_MID_EN.search(low)
    limit = cond.start() if cond is not None else len(low)
    heads: set[str] = set()
    for start, end in spans:
        if start >= limit:
            break
        head = low[start:end].rsplit(" ", 1)[-1]
        if head in heads:
            continue  # the subject named it already: "the cold is a common cold" restates it
        heads.add(head)
        before = low[max(0, start - _EN_CUE_WINDOW) : start]
        if _TREATS_EN.search(before) or _TAKE_SUBJECT_EN.search(low, 0, start):
            continue
        if (
            _cue_before(before)
            or _YOUR_EN.search(before)
            or _IS_BEFORE_EN.search(before)
            or _AFTER_EN.match(low, end)
        ):
            return [bool(_HEDGE_EN.search(low))]
    if cause is not None and cause.start() < limit and _HEDGE_EN.search(low, 0, cause.start()):
        return [True]
    return []


def diagnostic_claims(text: str) -> list[tuple[str, bool]]:
    """(sentence, hedged) for every sentence with a diagnostic claim; a sentence with several
    claims appears once, hedged only when all of them are."""
    out: list[tuple[str, bool]] = []
    # in broken JSON one string's hedge never reaches a claim in the next
    for chunk in _SENTENCE.findall(to_simplified(seams_to_lines(prose(text)))):
        for sentence in _EN_SENTENCE.split(chunk):
            s = sentence.strip()
            if not s or s.endswith(("？", "?")):
                continue
            if _has_cjk(s):
                claims = [] if _GATE_ZH.search(s) is None else _zh_claims(_live_zh(s))
                claims += _en_claims(s) if not claims and _has_latin(s) else []
            else:
                claims = _en_claims(s)
            if claims:
                out.append((s, all(claims)))
    return out


# a Chinese claim needs a condition word or a cause: sentences without one are skipped cheaply
_GATE_ZH = re.compile(
    _DISEASE_ZH_ALTS + r"|急症|引起|导致|所致|造成|有关|相关|原因|诱因|良性|恶性|因为|由于"
)
_LATIN = re.compile(r"[A-Za-z]{3}")


def _has_cjk(s: str) -> bool:
    return CJK.search(s) is not None


def _has_latin(s: str) -> bool:
    return _LATIN.search(s) is not None


def hedging(text: str) -> bool | None:
    """True: every diagnostic claim is hedged; False: one is stated as certain; None: no claim."""
    claims = diagnostic_claims(text)
    if not claims:
        return None
    return all(hedged for _, hedged in claims)
