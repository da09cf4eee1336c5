"""Referral level of an answer: does it tell the patient to see a professional, and how urgently?

Levels (README, "Referral level"): ``emergency`` (unconditional advice to seek care now: 立即就医,
拨打120, 去急诊, call 911, go to the ER), ``routine`` (unconditional advice to see a doctor, not
urgently: 建议就医, 挂消化内科, see your GP), ``conditional`` (advice that only applies if
something happens: 如果出现胸痛请立即拨打120, see a doctor if it persists) and ``none``.
An answer's level is the highest unconditional level; else conditional if any advice was
conditional; else none.

How it reads text, clause by clause:
- sentences split on 。！？；;!? and newlines; each sentence splits again on commas, and a
  condition opened in one comma clause (如果出现胸痛，请立即拨打120) governs the rest of the
  sentence; a heading that opens a condition and ends in a colon (出现以下情况请立即就医：)
  governs the list items under it; an English "if" after its own action governs that clause
  only (use your EpiPen if you have one, and then call 911);
- negated advice (无需就医, 不必去急诊, no need to see a doctor) is not advice, unless the
  sentence also has 除非/unless, which makes it conditional;
- non-directive mentions (医院的检查结果显示, 上次去医院, 就医时带上病历, 去医院的路上,
  questions) are skipped;
- with the user's question, a condition that only restates what the user reported (如果孩子发烧
  after 孩子发烧能吃美林吗), also in other words (如果疼痛严重 after 牙疼得要命, 如果胃有不适
  after 我胃不好), or the asking user's own doubt (如果您不确定是否应该自行服用…) is the present
  state, not a condition; so is the time of taking or buying a drug (在使用奥美拉唑时，先咨询医生:
  advice before use, as 用药前请咨询医生);
- a state denied (腰疼并未明显加重) opens no condition;
- urgency: emergency needs "now" wording (立即/马上/立刻/赶紧 + 就医, 急诊, 120, 救护车,
  immediately, right away, ER, 911). 尽快就医 / 及时就医 / as soon as possible are routine.
JSON answers are read through summary + analysis + suggestions (lenient parse); JSON the parser
cannot read is split at its strings.
"""

from __future__ import annotations

import re

from medlab.levels import REFERRAL_LEVELS
from medlab.metrics.chinese import CJK, to_simplified
from medlab.metrics.format import prose, seams_to_lines

LEVELS = REFERRAL_LEVELS  # most urgent first
# professionals an English answer may send the patient to
_PRO_EN = (
    r"(?:doctor|GP|physician|healthcare provider|health care provider|clinician|pediatrician|"
    r"paediatrician|dermatologist|dentist|pharmacist|specialist|nurse|gynecologist|gynaecologist|"
    r"urologist|(?:medical|healthcare|health care|health) professional|clinic|provider|"
    r"ophthalmologist|optometrist|optician|physiotherapist|physio|physical therapist|therapist|"
    r"podiatrist|chiropodist|midwife|psychologist|psychiatrist|counsell?or|orthopa?edist|"
    r"cardiologist|neurologist|surgeon)"
)
_PRO_KEYS = ("doctor", "gp", "physician", "provider", "clinician", "iatrician", "dermatologist",
             "dentist", "pharmacist", "specialist", "nurse", "gyn", "urologist", "professional",
             "clinic", "ophthalmologist", "optometrist", "optician", "physio", "therapist",
             "podiatrist", "chiropodist", "midwife", "psycho", "psychiatrist", "counsel",
             "orthop", "cardiologist", "neurologist", "surgeon")  # fmt: skip
_LATIN = re.compile(r"[A-Za-z]{2}")
_LATIN_WORD = re.compile(r"[a-z]{3}")


_COMMA = re.compile(r"[，,、]|(?<=\D)[:：](?=.)")
_LIST_ITEM = re.compile(r"^\s*(?:[-*•·●]|\d+[.、)）]|[（(]\d+[)）]|[一二三四五六七八九十]+、)")

# --- advice phrases -------------------------------------------------------------------------
_NOW_ZH = r"(?:立即|立刻|马上|即刻|赶紧|赶快|迅速|第一时间|火速|紧急)"
_NOW_WORDS_EN = r"immediately|right away|right now|at once|without delay|straight away|now"
_NOW_EN = rf"(?:{_NOW_WORDS_EN})"
# Each table pairs a pattern with what it needs. Chinese patterns are plain strings. Windows
# such as [^，。；,;]{0,6}? are the most characters allowed between a verb and its object
# inside one clause (立即[…]就医, 挂[…]科): wider windows reach into the next phrase and were
# narrowed on the labelled sets. English patterns come with the words one of which the text
# must hold before the pattern runs: a substring test is much cheaper than a regex scan, so
# most patterns are never run on a given text. English {0,N} windows count whole words.
_EMERGENCY_ZH_PARTS = (
    _NOW_ZH
    + r"[^，。；,;]{0,6}?(?:就医|就诊|送医|去医院|到医院|上医院|送往医院|去急诊|医院|看医生|求医)",
    r"(?:拨打|打|呼叫|叫)[^，。；]{0,3}(?:120|999|急救电话|救护车|急救)",
    r"(?:叫|呼叫|等待)救护车",
    r"(?:去|到|挂|送|前往|看|转|至|送往)[^，。；,;]{0,14}?急诊",
    r"急诊(?:科|就诊|就医|处理|评估)",
    r"紧急就医|急救中心|胸痛中心|卒中中心|急症室",  # Hong Kong: 急症室 is A&E
)
_EMERGENCY_EN_PARTS: tuple[tuple[str, tuple[str, ...]], ...] = (
    (
        r"\bcall(?:ing)?\s+(?:[\w ]{1,20}?\s+or\s+)?(?:911|999|112|120|000|988|an ambulance|"
        r"emergency services|for an ambulance|poison control)",
        ("call",),
    ),
    (
        r"\b(?:dial|ring|phone)(?:ing)?\s+(?:[\w ]{1,20}?\s+or\s+)?(?:911|999|112|120|000|"
        r"an ambulance|emergency services|for an ambulance)",
        ("dial", "ring", "phone"),
    ),
    (
        r"\b(?:go|get|head|went|take|bring|rush|drive)\s+(?:(?:them|him|her|yourself|your \w+|the \w+)\s+)?"
        r"(?:straight\s+)?to\s+(?:the\s+|an?\s+|your\s+)?(?:nearest\s+)?(?:\w+\s+)?"
        r"(?:ER|A&E|emergency\s+(?:room|department)|casualty)\b",
        ("er", "a&e", "emergency", "casualty"),
    ),
    (
        r"\b(?:seek|get|needs?|requires?)\s+(?:emergency|immediate|urgent)\s+(?:medical\s+)?"
        r"(?:care|help|attention|treatment)",
        ("emergency", "immediate", "urgent"),
    ),
    (
        r"\b(?:seek|get)\s+medical\s+(?:care|help|attention)\s+" + _NOW_EN,
        ("medical",),
    ),
    (
        r"\b(?:go|get|head|rush)\s+(?:yourself\s+|them\s+|him\s+|her\s+)?to\s+(?:(?:a|the)\s+)?"
        r"hospital\s+" + _NOW_EN,
        ("hospital",),
    ),
    (
        r"\b(?:see|contact|call)\s+(?:a|your)\s+(?:doctor|gp)\s+(?:"
        + _NOW_WORDS_EN
        + r"|urgently)",
        ("doctor", "gp"),
    ),
    (
        r"\bemergency\s+(?:room|department)\b",
        ("emergency",),
    ),
)

# rare patterns share one key tuple, so one test decides whether any of them runs
_RARE_KEYS = ("back", "return", "111", "book in")
# suggests a test (建议做血常规, 需要完善胃镜检查): its opening words are common, so it runs only
# when the text names a test (its keys below)
_ZH_TEST_ADVICE = (
    r"(?:建议|需要?|应该|最好|尽快|及时|尽早|请)[^，。；,;]{0,4}?(?:做|进行|完善|查)"
    r"[^，。；,;]{0,10}?(?:检查|化验|血常规|B超|彩超|CT|核磁|心电图|胃镜|肠镜|拍片|筛查|测试)"
    # an examination with no verb (需要进一步检查, 建议定期检查皮肤) -- not self-monitoring
    r"|(?:建议|需要?|应该|最好|尽快|及时|尽早|请)[^，。；,;]{0,4}?(?:进一步|定期|详细|全面)"
    r"(?:的)?检查(?!血压|血糖|体温|体重|饮食|作息|头发|鼻塞|伤口|症状|和(?:治疗|更换|调整))"
    # a check of the body (需要先检查身体状况): a check-up
    r"|(?:建议|需要?|应该|最好|尽快|及时|尽早|请)[^，。；,;]{0,4}?检查(?:一下)?身体"
    # an X-ray with 去 or no verb (建议去拍片子, 需要拍个片), a check-up (定期进行体检, 建议做体检)
    r"|(?:建议|需要|应该|最好|尽快|及时|尽早|请)[^，。；,;]{0,4}?拍(?:个|一下|张)?(?:片|X光|CT)"
    r"|(?:定期|每年|建议|需要|应该|最好|及时|尽早)[^，。；,;]{0,3}?体检(?!报告|结果|单|中)"
)
_ZH_TEST_KEYS = ("检查", "化验", "血常规", "超", "CT", "核磁", "心电图", "镜", "拍", "筛查", "体检",
                 "测试")  # fmt: skip
_ROUTINE_ZH_PARTS = (
    r"就医|就诊|看医生|看一下医生|看下医生|找医生|看牙医|找牙医|求医|面诊|复诊|复查|随访|门诊|回诊|"
    r"睇医生|睇医师|睇西医|睇家庭医生",  # Cantonese 睇 = see; Taiwan 回诊 = a follow-up visit
    r"(?:去|到|上(?![次周月回个午])|回|前往)[^，。；,;]{0,6}?(?:医院|诊所|卫生院|社区卫生服务中心)",
    r"挂[^，。；,;]{0,8}?(?:科|号)",
    r"(?:去|到|看|找|前往)[^，。；,;的]{0,6}?科(?![学技普研])",
    r"(?:咨询|请教|问问|问一下)[^，。；,;]{0,4}?(?:医生|医师|药师|大夫|牙医|专业人士|专科)",
    r"(?:找|联系|约)[^，。；,;说]{0,8}?(?:医生|医师|大夫|牙医|药师|咨询师|治疗师)",
    r"(?:去|到)牙医(?:那里|那儿|处)",  # a dentist's (到牙医那里进行治疗)
    r"(?:需要|让|请|由|经)[^，。；,;]{0,6}?(?:医生|医师|大夫)[^，。；,;]{0,6}?"
    r"(?:看一?看|检查|评估|诊断|面诊|判断|确诊)",
    # 考虑牙科医生的治疗, 寻求医生的帮助 (not 医生的指导: a usage caveat)
    r"(?:接受|考虑|寻求)[^，。；,;]{0,6}?(?:医生|医师|大夫)的?(?:治疗|帮助|诊治)",
    _ZH_TEST_ADVICE,
)
_ROUTINE_EN_PARTS: tuple[tuple[str, tuple[str, ...]], ...] = (
    (
        r"\b(?:see|seeing|visit|visiting|consult(?:ing)?(?: with)?|contact|contacting|call|calling|"
        r"ring|ringing|phone|phoning|have a (?:word|chat) with|pop (?:in|round|down) to(?: see)?|"
        r"(?:drop|swing|stop|pop) (?:by|in(?:to| at| on)?)|"
        r"talk(?:ing)? to|speak(?:ing)? (?:to|with)|check(?:ing)? with|ask(?:ing)?)\s+"
        r"(?:a|your|an|the|his|her|their)\s+(?:\w+\s+){0,2}?" + _PRO_EN + r"s?\b",
        _PRO_KEYS,
    ),
    (
        r"\b(?:make|making|book|booking|schedule|scheduling|get|getting|arrange|arranging)\s+"
        r"(?:an?\s+|your\s+)?(?:gp\s+|doctor'?s?\s+|\w+\s+)?(?:appointment|visit|referral|check-?up|"
        r"follow-?up|review|consultation)",
        ("appointment", "visit", "referral", "check", "follow", "review", "consult"),
    ),
    (
        r"\b(?:take|bring|show)\s+(?:the|your|these|them|it|him|her)\s*(?:\w+\s+)?to\s+(?:your|a|the|see)\s+"
        r"(?:\w+\s+)?" + _PRO_EN,
        _PRO_KEYS,
    ),
    # "your GP can do the Epley manoeuvre", "a pharmacist or your GP can advise"
    (
        r"\b" + _PRO_EN + r"s?(?:\s+or\s+(?:a\s+|an\s+|your\s+|the\s+)?"
        r"(?:\w+\s+)?\w+)?\s+(?:can|could|should|will|may)\s+(?:be able to\s+)?(?:advise|help|check|"
        r"examine|assess|prescribe|review|confirm|refer|look at|arrange|treat|do|perform|diagnose|"
        r"drain|remove|test|give you|show you|teach you|recommend|suggest|fit you)\b",
        _PRO_KEYS,
    ),
    (
        r"\b(?:get|have|need)\s+an?\s+(?:X-ray|ultrasound|scan|MRI|CT scan|blood test|ECG)",
        ("x-ray", "ultrasound", "scan", "mri", "blood test", "ecg"),
    ),
    (
        r"\b(?:checked|examined|looked at|evaluated|assessed|seen)\s+(?:out\s+)?by\s+(?:a|an|your)\s+"
        r"(?:\w+\s+){0,3}?(?:doctor|GP|physician|specialist|dentist|professional)",
        ("by a", "by an", "by your"),
    ),
    (
        r"\bget(?:ting)?\s+(?:it\s+|this\s+|yourself\s+)?(?:checked|examined)",
        ("checked", "examined"),
    ),
    (
        r"\b(?:get|seek|obtain)\s+(?:medical|professional)\s+(?:help|advice|attention|care)",
        ("medical", "professional"),
    ),
    (
        r"\b(?:get|have)\s+(?:it|this|yourself|them|him|her|the \w+)\s+(?:checked|examined|"
        r"looked at|evaluated|seen)",
        ("checked", "examined", "looked at", "evaluated", "seen"),
    ),
    (
        r"\b(?:get|be)\s+(?:checked|examined|evaluated|assessed|seen)\s+(?:out\s+)?by",
        ("checked", "examined", "evaluated", "assessed", "seen"),
    ),
    (
        r"\bseek\s+(?:professional\s+)?medical\s+(?:advice|attention|care|help|evaluation)",
        ("medical",),
    ),
    (
        r"\bmedical\s+(?:evaluation|assessment|attention)\b",
        ("medical",),
    ),
    (
        r"\bfollow[- ]?up\s+with\s+(?:your|a|an|the)\b",
        ("follow",),
    ),
    (
        r"\bat\s+(?:your|the|a)\s+(?:gp|doctor'?s?|clinic|surgery|practice|health centre|health center)\b",
        ("gp", "doctor", "clinic", "surgery", "practice", "health cent"),
    ),
    (
        r"\b(?:have|get|let)\s+(?:a|your)\s+(?:doctor|gp|physician|specialist|dermatologist|"
        r"dentist)\s+(?:examine|check|look at|see|assess)",
        ("doctor", "gp", "physician", "specialist", "dermatologist", "dentist"),
    ),
    (
        r"\bgo\s+to\s+(?:(?:a|the|your)\s+)?(?:hospital|clinic|doctor|urgent care|walk-in|minor injur)",
        ("go to",),
    ),
    (
        r"\b(?:go|come|get)\s+back\s+to\s+(?:see\s+)?(?:(?:a|the|your)\s+)?(?:\w+\s+)?(?:hospital|"
        + _PRO_EN
        + ")",
        _RARE_KEYS,
    ),
    (
        r"\breturn\s+to\s+(?:(?:a|the|your)\s+)?(?:\w+\s+)?(?:hospital|" + _PRO_EN + ")",
        _RARE_KEYS,
    ),
    (
        r"\b(?:call|ring|phone|dial|contact)\s+(?:nhs\s+)?111\b",
        _RARE_KEYS,
    ),
    (
        r"\bbook\s+in\s+(?:with|to see)\b",
        _RARE_KEYS,
    ),
    (
        r"\b(?:get|be)\s+seen\b",
        ("seen",),
    ),
    (
        r"\b(?:see|seeing|ask|asking|talk to|speak to)\s+(?:anyone|someone|somebody)\b",
        ("anyone", "someone", "somebody"),
    ),
)


def _compile(
    zh_parts: tuple[str, ...], en_parts: tuple[tuple[str, tuple[str, ...]], ...]
) -> tuple[
    list[tuple[re.Pattern[str], tuple[str, ...] | None]],
    list[tuple[re.Pattern[str], tuple[str, ...]]],
]:
    """Chinese and English patterns, compiled one by one: a pattern that starts with a set of
    literals is scanned with a fast first-character check that one big alternation loses.
    English patterns are lower-cased and matched against lower-cased text (faster than re.I)."""
    zh = [(re.compile(p), _ZH_TEST_KEYS if p == _ZH_TEST_ADVICE else None) for p in zh_parts]
    assert not any(re.search(r"\\[SWDB]", p) for p, _ in en_parts), "upper-case escape in a pattern"
    return zh, [(re.compile(p.lower()), keys) for p, keys in en_parts]


_EMERGENCY_ZH, _EMERGENCY_EN = _compile(_EMERGENCY_ZH_PARTS, _EMERGENCY_EN_PARTS)
_ROUTINE_ZH, _ROUTINE_EN = _compile(_ROUTINE_ZH_PARTS, _ROUTINE_EN_PARTS)


# --- what makes advice conditional, negated or not advice at all -----------------------------
_COND_ZH = re.compile(
    r"如果|假如|假若|若(?!干)|倘若|万一|一旦|要是|如[有出遇发伴仍果症]|的话|"
    r"(?:以下|下列)[^，。；]{0,4}?(?:情况|症状|表现|信号)|任何一[种项条个]|(?<![及同随平小有暂当按准临届这那此])(?:(?<=稳定)|(?<!定))时(?:[，,]?(?:请|应|要|需|务必|立即|马上|立刻|赶紧|及时|尽快|再|就|则|可以?|直接)|(?:去|到|找|挂|拨打|打|叫|送|前往|联系|咨询|就医|就诊)|[，,]?$)|"
    r"的时候|情况下|必要时|需要时|如需|视情况|何时|什么时候|否则|随时|"
    # a threshold followed by 再 (三天以上再就医): only then
    r"(?:以上|以后|之后|后|还|仍)(?:的话)?[，,]?再(?=[^，。；]{0,4}?(?:就医|就诊|去|到|看|找))"
)
_COND_EN = re.compile(
    r"\bif\b(?<!\bsee if)(?<!\bcheck if)(?<!\bask if)(?<!\bknow if)(?<!\btell if)(?<!\bsure if)"
    r"(?<!\bout if)|"
    r"\bunless\b|\bin case\b|\bonce\b(?!\s+(?:a|an|or|daily|every|per|more|again|weekly|in|or twice)\b)|"
    r"^\s*should\s+(?:the|your|it|this|that|you|they|he|she|there|any|symptoms)\b|\bshould\b(?=\s+(?:\w+\s+){0,4}(?:persist|worsen|get worse|develop|"
    r"occur|appear|return|recur|continue|last|not improve|fail|spread))|\bwhen(?:ever)?\b|"
    r"\bpersists?\b|\bpersisting|\bworsen|\bget(?:s)? worse|\bdo(?:es)?n'?t improve|\bnot improving|\bwarning signs?|"
    r"red flags?|\bany of (?:the following|these)|\bfollowing (?:symptoms|signs|warning)|\b(?:after|beyond|more than|longer than) (?:\d+|an?|one|two|three|four|five|six|seven|ten|a few|several)\b|"
    r"\bin the event|\bin (?:which|that|this) case\b",
    re.I,
)


def _cond(text: str) -> re.Match[str] | None:
    """The first condition marker in a clause (English patterns only run on Latin text)."""
    zh = _COND_ZH.search(text)
    en = _COND_EN.search(text) if _LATIN.search(text) else None
    return zh if en is None or (zh is not None and zh.start() < en.start()) else en


# state words that open a condition in advice (出现X，立即…) but also describe the present
_COND_WEAK = re.compile(
    r"(?:持续|连续|超过)[^，。；]{0,8}?(?:天|周|小时|日|个月)|(?:仍|还|依然|一直|总)(?:是|然)?(?:不|未|没有?)"
    r"(?:缓解|好转|改善|退|见好)|(?:不见|未见|没有|未)(?:好转|缓解|改善)|"
    r"(?<![已经])出现(?!了|过)|(?<![已经])超过|(?:仍然?|还是|依然|依旧)(?:不|未|没有?|无|止不住)|止不住|"
    r"(?:不|未|没有?|无)(?:缓解|好转|改善|减轻|见效|见好)|改善不明显|效果不(?:好|佳|明显)|加重|恶化|反复发作|"
    r"(?:仍然?|依然|依旧|还)(?:存在|在)(?![^，。；]{0,4}?(?:医院|门诊))"
)
_JUDGEMENT = re.compile(
    r"属于|这是|说明|是典型|考虑为|考虑是|可能是|这[种个]情况|(?:情况|症状|这)[^，。；]{0,4}?是(?!否)"
)
_NEGATED_STATE = re.compile(r"(?:未|没有?|不|无|尚未|并未)[^，。；]{0,3}$")
_DESCRIPTIVE = re.compile(r"结合|目前|现在|已经|已|正在|刚才|最近|这次|您的|你的")
_CONCESSIVE = re.compile(
    r"即使|就算|哪怕|即便|\beven if\b|\beven though\b",
    re.I,
)
_AND = re.compile(
    r"\b(?:and|but|then|so|who|which|because|since|before|to)\b|并且|然后|同时|以便|好让|"
    r"\bor\s+(?:call|go|get|phone|ring|dial|head|take|drive|see|visit|contact|seek|book|make)\b",
    re.I,
)
# a comma clause opening with a consequence or contrast ends the condition before it
_RESET = re.compile(
    r"\s*(?:so\b|therefore\b|but\b|however\b|所以|因此|但|不过|可是|然而|无论如何|也)",
    re.I,
)
# a clause opening with "this situation" / "this is" judges the state words before it
_ANAPHORA = re.compile(r"\s*(?:这[种个样类]?(?:情况|症状|表现)|这(?:属于|是)|属于)")
_POST_EN = re.compile(r"if|unless|in case|once|when(?:ever)?", re.I)
# what may precede a condition that opens its clause: markup and conjunctions
_LEAD_EN = re.compile(
    r"[\s*_>\-–—\"'(\[]*(?:(?:and|but|or|so|then|also|only|especially|particularly|just|even|"
    r"except|and only)\s+)*",
    re.I,
)
_CONJ_END_EN = re.compile(r"(?:\b(?:and|but|or|so|then)|[-–—(])\s*$", re.I)
_UNLESS = re.compile(
    r"除非|\bunless\b",
    re.I,
)
_NEG_ZH = re.compile(
    r"(?:无需|无须|毋须|毋需|不需要?|不必|不用|没必要|没有必要|不一定(?:要|需要)?|暂时不用|暂不需要?|"
    r"不急于|不要急着|别急着|用不着|犯不着|不至于要|唔使|唔洗|唔驶|唔需要|唔使急住|"
    # advice against the visit (但不建议立即就医), not against waiting (不建议拖延就医)
    r"不(?:建议|推荐)(?!拖延|延误|推迟|耽误|等待|自行)|"
    # a disclaimer (…但不能替代医生面诊): says what a remedy is not, advises no visit
    r"不能替代|不能代替|无法替代|无法代替|替代不了|代替不了)[^，。；,;但而]{0,8}$"
)
_NEG_EN = re.compile(
    r"(?:\bno need|\bdon'?t need|\bdo not need|\bdoesn'?t need|\bdoes not need|\bnot necessary|"
    r"\bneedn'?t|\bunnecessary|\bno reason|\bdon'?t have to|\bdo not have to|\bnot need|\bwithout|"
    r"\bnot required|\bwon'?t need|\bwill not need|\bnot usually need|\brarely need|\bnever need|"
    r"\bnot necessarily|\bavoid|\bdon'?t rush|\bdon'?t\b|\bdo not\b|\bdoesn'?t\b|\bisn'?t|\bis not|"
    r"\bwouldn'?t|\bwould not|\bno point|\bnot worth)"
    r"[^,;.]{0,30}$",
    re.I,
)
# a negation inside the matched phrase (看不必去急诊 matched from 看)
_NEG_INSIDE_ZH = re.compile(r"无需|无须|不需要?|不必|不用|没必要|没有必要|用不着|唔使|唔洗")
# "don't hesitate to / don't wait to call 911" urges the advice instead of negating it
_PUSH_EN = re.compile(r"hesitate|delay|wait|put (?:it )?off|forget|ignore", re.I)
_PAST_BEFORE = re.compile(
    # (之前 after a deed is "before doing it": 在使用美林之前咨询医生 is advice; "previously"
    # opens its clause or follows its subject)
    r"(?:上次|(?:(?<![\u4e00-\u9fff])|(?<=[我你您他她们子宝爸妈]))之前|以前|已经|已|曾经?|刚才|刚刚|昨天|前天|去年|前几天|当时|那次|您说|你说|在医院)[^，。；]{0,8}$"
    r"|(?:复诊|产检|体检|随访|就诊|就医|看病|下次|门诊)(?:时|的时候)[^，。；]{0,4}$"
    # what someone else said (同事说要去医院): reported, not the answer's advice
    r"|(?:同事|朋友|家人|别人|有人|邻居|亲戚|父母|爸爸|妈妈|老公|老婆|丈夫|妻子)(?:说|讲|劝)[^，。；]{0,4}$"
    # what the user's doctor already told them (医生让复查): reported, not the answer's advice
    r"|(?:医生|大夫)(?:说|讲|让|叫|要求)[^，。；]{0,4}$"
    r"|\bwhen you (?:do |next )?$|\bat your next (?:visit|appointment|review|check-?up)[^,;.]{0,10}$"
    r"|(?:\byou(?:'ve| have)? (?:already )?(?:seen|visited|been to)|\bwhen you (?:saw|visited|went)"
    r"|\bpreviously|\blast time|\balready)[^,;.]{0,20}$",
    re.I,
)
# a modal before the phrase makes a following 了 mark a change of state, not the past
_MODAL_ZH = re.compile(r"(?:得|要|该|应该|应当|需要|必须|最好|还是|赶紧|赶快|快)[^，。；]{0,2}$")
_PAST_AFTER = re.compile(
    r"^(?:[了过]|时|的时候|前|后|时间|费用|记录|结果|资料|过程)"
    r"|^[^，。；,;:：]{0,4}?(?:之前|以前|前|的路上|路上|途中|期间|时|的时候)(?=[，,:：]|\s*$)",
    re.I,
)


_SENT_END = re.compile(r"[。！？；;!?]+|\.(?=\s)")
# a question, also one the model closed with a full stop (要去医院吗。): asks, does not advise
_QUESTION = re.compile(r"(?:[？?]|吗[。.！!]?)\s*$")


def _matches(line: str) -> list[tuple[int, int, str]]:
    """(start, end, level) of every advice phrase in a text."""
    found: list[tuple[int, int, str]] = []
    seen: dict[int, bool] = {}
    zh = CJK.search(line) is not None
    # English advice has lower-case words: abbreviations in Chinese text (CT, B超) do not count
    low = line.lower() if _LATIN_WORD.search(line) else None
    if low is not None and len(low) != len(line):  # a rare character that lower() expands
        low = "".join(ch if len(ch.lower()) != 1 else ch.lower() for ch in line)
    for level, zh_patterns, en_patterns in (
        ("emergency", _EMERGENCY_ZH, _EMERGENCY_EN),
        ("routine", _ROUTINE_ZH, _ROUTINE_EN),
    ):
        if zh:
            for p, keys in zh_patterns:
                if keys is None or any(k in line for k in keys):
                    found += [(m.start(), m.end(), level) for m in p.finditer(line)]
        if low is not None:
            for p, keys in en_patterns:
                ok = seen.get(id(keys))  # several patterns share one key tuple
                if ok is None:
                    ok = seen[id(keys)] = any(k in low for k in keys)
                if ok:
                    found += [(m.start(), m.end(), level) for m in p.finditer(low)]
    return found


def _spans(text: str, seps: re.Pattern[str]) -> list[tuple[int, int]]:
    """Pieces of ``text`` between separator matches, separators kept with the piece before."""
    out, pos = [], 0
    for m in seps.finditer(text):
        out.append((pos, m.end()))
        pos = m.end()
    if pos < len(text):
        out.append((pos, len(text)))
    return out


def _judge(clause: str, start: int, end: int) -> str | None:
    """'negated', 'past' or None (a live piece of advice) for one match in its clause."""
    before, after = clause[max(0, start - 40) : start], clause[end:]
    if _NEG_ZH.search(before) or _NEG_INSIDE_ZH.search(clause, max(0, start - 2), end):
        return "negated"
    if (
        _LATIN.search(before)
        and (neg := _NEG_EN.search(before))
        and not _PUSH_EN.search(neg.group())
    ):
        return "negated"
    if _PAST_BEFORE.search(before):
        return "past"
    if _PAST_AFTER.match(after) and not (after.startswith("了") and _MODAL_ZH.search(before)):
        return "past"  # 去过医院, 去医院了 -- but 就得上医院了 / 该去医院了 is advice
    return None


def _postposed(clause: str, marker: re.Match[str]) -> bool:
    """An English "if"/"unless" after the action it qualifies (use your EpiPen if you have one,
    and then call 911): it governs its own clause only, not the clauses after it."""
    return (
        marker.re is _COND_EN
        and _POST_EN.fullmatch(marker.group()) is not None
        and _LEAD_EN.fullmatch(clause, 0, marker.start()) is None
        and _CONJ_END_EN.search(clause, 0, marker.start()) is None
    )


# a condition that restates the user's own report (如果孩子发烧 after 孩子发烧能吃美林吗) is the
# present state, not a condition; one that adds a change or a degree (发烧严重, 持续三天) is not
_IF_ZH = ("如果", "假如", "假若", "若", "倘若", "要是")
_WHEN_ZH = re.compile(r"(?:的时候|时)$")
_CHANGE_ZH = re.compile(
    r"严重|剧烈|加重|加剧|持续|超过|不退|不缓解|不见好|没好|未好|恶化|出现|变|更|又|再|还|仍|"
    r"高烧|高热|以上|以后|之后|反复|频繁|突然|[\d一二两三四五六七八九十]+\s*[天周月岁度次]"
)
_DENIAL_ZH = set("没不无未非")
_FILLER_ZH = set("您你他她它我们的了有是在家长孩子宝宝小朋友患者病人自己这个种些都也就")
# words that add nothing to a state: feeling it (感到头疼), being in it (正在感冒), a mild degree
# (血糖较高 after 血糖有点高)
_FILLER_WORDS_ZH = re.compile(r"感到|感觉|觉得|正在|比较|较|有点|有些|一些")
# discomfort said in other words (如果您的胃有不适 after 我胃不好)
_DISCOMFORT_ZH = re.compile(r"不适|不舒服|难受|不好")
# a degree the user already gave (牙疼得要命, 疼得打滚): 严重 or 剧烈 in a condition restates it
_INTENSE_ZH = re.compile(
    r"要命|打滚|撞墙|受不了|难忍|忍不了|厉害|剧烈|严重|疼死|痛死|特别[疼痛]|非常[疼痛]"
)
_SEVERE_ZH = re.compile(r"严重|剧烈|厉害")
# the user's own doubt (如果您不确定是否应该自行服用…, 如果对药物有疑问): a user who asks has it
_DOUBT_ZH = re.compile(
    r"^[^，。；]{0,6}?(?:不确定|不清楚|拿不准|有(?:任何|什么)?(?:疑问|疑虑|顾虑))"
)
_ASKS_ZH = re.compile(r"[？?吗]|能不能|可不可以|行不行|要不要|怎么办|能否|是否")
_SUSPECTS_ZH = re.compile(r"^[^，。；]{0,4}?(?:怀疑|担心)")
# treating what the user reported (在治疗社区获得性肺炎时 after the user asked about it)
_TREATS_ZH = re.compile(r"^(?:治疗|处理|应对)")
# taking, using or buying a drug (在使用奥美拉唑时, 购买…时): consulting then is advice before use
_USE_ZH = re.compile(r"^(?:使用|服用|用药|购买|选用|选择|涂抹|开始(?:使用|服用))")


def _restates(content: str, question: str | None) -> bool:
    """Whether a condition's content only restates what the user's question reported: every
    character of its content words is in the question (疼 and 痛 alike, discomfort in other
    words, feeling and mild-degree words aside), it adds no change or degree the user did not
    state (38度9 the user gave is no change; 严重 after 牙疼得要命 is none), and the user did not
    deny it (如果你有糖尿病 after 我没糖尿病); a doubt the asking user has (如果您不确定是否…,
    如果对药物有疑问) or suspects of what they reported (如果您担心血脂高) restates too."""
    if not question:
        return False
    question = question.replace("痛", "疼")
    content = _FILLER_WORDS_ZH.sub("", content.replace("痛", "疼"))
    if _DOUBT_ZH.search(content) and not _CHANGE_ZH.search(content):
        return bool(_ASKS_ZH.search(question))
    head = _SUSPECTS_ZH.search(content) or _TREATS_ZH.search(content)
    if head:
        content = content[head.end() :]
    if _INTENSE_ZH.search(question):
        content = _SEVERE_ZH.sub("", content)
    question = _DISCOMFORT_ZH.sub("不适", question)
    content = _DISCOMFORT_ZH.sub("不适", content)
    if any(m.group() not in question for m in _CHANGE_ZH.finditer(content)):
        return False
    chars = [c for c in content if CJK.match(c) and c not in _FILLER_ZH]
    if len(chars) < 2 or not all(c in question for c in chars):
        return False
    at = question.find("".join(chars))
    return at <= 0 or question[at - 1] not in _DENIAL_ZH


def _condition_content(clause: str, marker: re.Match[str]) -> str | None:
    """The content of a Chinese condition that opens (如果X) or closes (在X时) its clause."""
    if marker.group() in _IF_ZH:
        return clause[marker.end() :].strip()
    if _WHEN_ZH.search(marker.group().rstrip("，, ")) and not clause[marker.end() :].strip("，, "):
        return clause[: marker.start()].rsplit("在", 1)[-1].strip()
    return None


def _present(clause: str, marker: re.Match[str], question: str | None) -> bool:
    """Whether a Chinese condition is the present state, no condition: it restates the user's
    question, or it is the time of taking or buying a drug (在使用奥美拉唑时，先咨询医生: advice
    before use)."""
    if marker.re is not _COND_ZH:
        return False
    content = _condition_content(clause, marker)
    if content is None:
        return False
    if question and _restates(content, question):
        return True
    return (
        marker.group() not in _IF_ZH
        and _USE_ZH.match(content) is not None
        and not _CHANGE_ZH.search(content)
    )


def _sentence_levels(
    line: str,
    s0: int,
    s1: int,
    matches: list[tuple[int, int, str]],
    cond: bool,
    question: str | None = None,
) -> list[tuple[str, str]]:
    """Advice levels of the comma clauses of one sentence ``line[s0:s1]`` that hold matches;
    a condition opened in one clause governs the clauses after it. Inside a clause, a condition
    after the advice and past an "and"/"but" belongs to another action (call 911 and chew an
    aspirin if you are not allergic)."""
    carry, out, weak = cond, [], False
    last = max(m[0] for m in matches)
    for c0, c1 in _spans(line[s0:s1], _COMMA):
        c0, c1 = c0 + s0, c1 + s0
        if c0 > last:
            break  # clauses after the last advice cannot change it
        clause = line[c0:c1]
        if _RESET.match(clause):
            cond = carry
        marker = None
        if not _CONCESSIVE.search(clause):
            marker = _cond(clause)
            if marker is None and not _DESCRIPTIVE.search(clause) and not _JUDGEMENT.search(clause):
                marker = _COND_WEAK.search(clause)
        if marker is not None and _present(clause, marker, question):
            marker = None
        if (
            marker is not None
            and marker.re is _COND_WEAK
            and _NEGATED_STATE.search(clause, 0, marker.start())
        ):
            marker = None  # 并未明显加重: a state denied is no condition
        if marker is None and cond and weak and _ANAPHORA.match(clause):
            cond = carry  # 出现X，这种情况需要马上…: the state words described the present
        for level in ("emergency", "routine"):
            # a match is conditional by its own clause unless the condition comes after it and
            # past an "and" (call 911 and chew an aspirin if ...); one unconditional match wins
            hit, own = None, False
            for m0, m1, lv in matches:
                if lv != level or not c0 <= m0 < c1:
                    continue
                verdict = _judge(clause, m0 - c0, min(m1, c1) - c0)
                if verdict is None:
                    found = level
                elif verdict == "negated" and _UNLESS.search(line, s0, s1):
                    found = "conditional"
                else:
                    continue
                at = min(m1, c1) - c0
                m_own = marker is not None and not (
                    marker.start() >= at and _AND.search(clause, at, marker.start())
                )
                if hit is None or (own and not m_own):
                    hit, own = found, m_own
                if not own:
                    break
            if hit:
                out.append((clause.strip(), "conditional" if cond or own else hit))
                if cond or not own:
                    break  # a lower level in the same clause cannot change the answer
        if marker is not None and not _postposed(clause, marker):
            cond, weak = True, marker.re is _COND_WEAK
        elif marker is None and cond and weak and _JUDGEMENT.search(clause):
            cond = carry  # 出现X，属于急症，请…: the state words described the present

    return out


def clause_levels(text: str, question: str | None = None) -> list[tuple[str, str]]:
    """Every piece of advice found: (clause, "emergency" | "routine" | "conditional").
    ``question``, the user's message, lets a condition that only restates it count as the
    present state (如果孩子发烧，请咨询医生 after 孩子发烧能吃美林吗: routine)."""
    # 建議回診所找醫師 reads as 建议回诊所找医师; in broken JSON a condition in one string (出现
    # 硬块) does not govern the advice in the next (建议1：立即就医)
    body = to_simplified(seams_to_lines(prose(text)))
    matches = _matches(body)  # one scan of the whole text; most lines hold no advice
    if not matches:
        return []
    question = to_simplified(question) if question else None
    found: list[tuple[str, str]] = []
    carry = False  # a colon-ended conditional heading governs the list under it
    pos = 0
    for line in body.split("\n"):
        l0, pos = pos, pos + len(line) + 1
        if not line.strip():
            carry = False
            continue
        if carry and not _LIST_ITEM.match(line):
            carry = False
        inline = [(a - l0, b - l0, lv) for a, b, lv in matches if l0 <= a < l0 + len(line)]
        if inline:
            for s0, s1 in _spans(line, _SENT_END):
                inside = [m for m in inline if s0 <= m[0] < s1]
                if inside and not _QUESTION.search(line, s0, s1):
                    found += _sentence_levels(line, s0, s1, inside, carry, question)
        if line.rstrip().endswith((":", "：")):
            marker = _cond(line)
            if marker is not None:
                clause = _COMMA.split(line[marker.start() :], 1)[0]
                carry = not _present(clause, _cond(clause) or marker, question)
    return found


def referral_level(text: str, question: str | None = None) -> str:
    """The answer's referral level: "emergency" | "routine" | "conditional" | "none".
    With the user's ``question``, a condition restating what it reported is no condition."""
    levels = {level for _, level in clause_levels(text, question)}
    for level in LEVELS[:-1]:
        if level in levels:
            return level
    return "none"
