"""Referral level of an answer: does it tell the patient to see a professional, and how urgently?

Levels (docs/DESIGN.md): ``emergency`` (unconditional advice to seek care now: 立即就医,
拨打120, 去急诊, call 911, go to the ER), ``routine`` (unconditional advice to see a doctor, not
urgently: 建议就医, 挂消化内科, see your GP), ``conditional`` (advice that only applies if
something happens: 如果出现胸痛请立即拨打120, see a doctor if it persists) and ``none``.
An answer's level is the highest unconditional level; else conditional if any advice was
conditional; else none.

How it reads text, clause by clause:
- sentences split on 。！？；;!? and newlines; each sentence splits again on commas, and a
  condition opened in one comma clause (如果出现胸痛，请立即拨打120) governs the rest of the
  sentence; a heading that opens a condition and ends in a colon (出现以下情况请立即就医：)
  governs the list items under it;
- negated advice (无需就医, 不必去急诊, no need to see a doctor) is not advice, unless the
  clause also has 除非/unless, which makes it conditional;
- non-directive mentions (医院的检查结果显示, 上次去医院, 就医时带上病历, questions) are skipped;
- urgency: emergency needs "now" wording (立即/马上/立刻/赶紧 + 就医, 急诊, 120, 救护车,
  immediately, right away, ER, 911). 尽快就医 / 及时就医 / as soon as possible are routine.
JSON answers are read through summary + analysis + suggestions (lenient parse).
"""

from __future__ import annotations

import re

from medlab.metrics.format import prose

LEVELS = ("emergency", "routine", "conditional", "none")

_EN_STOP = re.compile(r"(?<=[。！？；;!?])|(?<=\.)\s+")
_COMMA = re.compile(r"[，,、]|(?<=\D)[:：](?=.)")
_LIST_ITEM = re.compile(r"^\s*(?:[-*•·●]|\d+[.、)）]|[（(]\d+[)）]|[一二三四五六七八九十]+、)")

# --- advice phrases -------------------------------------------------------------------------
_NOW_ZH = r"(?:立即|立刻|马上|即刻|赶紧|赶快|迅速|第一时间|火速|紧急)"
_NOW_EN = r"(?:immediately|right away|right now|at once|without delay|straight away|now)"
_EMERGENCY = re.compile(
    "|".join(
        [
            _NOW_ZH
            + r"[^，。；,;]{0,6}?(?:就医|就诊|送医|去医院|到医院|上医院|送往医院|去急诊|医院|看医生|求医)",
            r"(?:拨打|打|呼叫|叫)[^，。；]{0,3}(?:120|999|急救电话|救护车|急救)",
            r"(?:叫|呼叫|等待)救护车",
            r"(?:去|到|挂|送|前往|看|转|至|送往)[^，。；,;]{0,8}?急诊",
            r"急诊(?:科|就诊|就医|处理|评估)",
            r"紧急就医|急救中心|胸痛中心|卒中中心",
            r"\bcall(?:ing)?\s+(?:[\w ]{1,20}?\s+or\s+)?(?:911|999|112|120|000|988|an ambulance|"
            r"emergency services|for an ambulance|poison control)",
            r"\b(?:go|get|head|went)\s+(?:straight\s+)?to\s+(?:the\s+|an?\s+|your\s+)?(?:nearest\s+)?"
            r"(?:ER|A&E|emergency\s+(?:room|department))\b",
            r"\b(?:seek|get|need)\s+(?:emergency|immediate|urgent)\s+(?:medical\s+)?"
            r"(?:care|help|attention|treatment)",
            r"\b(?:seek|get)\s+medical\s+(?:care|help|attention)\s+" + _NOW_EN,
            r"\b(?:go|get)\s+to\s+(?:a|the)\s+hospital\s+" + _NOW_EN,
            r"\bsee\s+a\s+doctor\s+" + _NOW_EN,
            r"\bemergency\s+(?:room|department)\b",
        ]
    ),
    re.I,
)
_ROUTINE = re.compile(
    "|".join(
        [
            r"就医|就诊|看医生|看一下医生|看下医生|找医生|求医|面诊|复诊|复查|随访|门诊",
            r"(?:去|到|上(?![次周月回个午])|回|前往)[^，。；,;]{0,6}?(?:医院|诊所|卫生院|社区卫生服务中心)",
            r"挂[^，。；,;]{0,8}?(?:科|号)|(?:去|到|看|找|前往)[^，。；,;的]{0,6}?科(?![学技普研])",
            r"(?:咨询|请教|问问|问一下)[^，。；,;]{0,4}?(?:医生|医师|药师|大夫|专业人士|专科)",
            r"(?:需要|让|请|由|经)[^，。；,;]{0,6}?(?:医生|医师|大夫)[^，。；,;]{0,6}?"
            r"(?:看一?看|检查|评估|诊断|面诊|判断|确诊)",
            r"(?:建议|需要|应该|最好|尽快|及时|尽早|请)[^，。；,;]{0,4}?(?:做|进行|完善|查)"
            r"[^，。；,;]{0,10}?(?:检查|化验|血常规|B超|彩超|CT|核磁|心电图|胃镜|肠镜|拍片|筛查)",
            r"\b(?:see|seeing|visit|visiting|consult|consulting|contact|contacting|call|calling|"
            r"talk(?:ing)? to|speak(?:ing)? (?:to|with)|check(?:ing)? with|ask(?:ing)?)\s+"
            r"(?:a|your|an|the|his|her|their)\s+(?:\w+\s+){0,2}?(?:doctor|GP|physician|healthcare provider|"
            r"health care provider|clinician|pediatrician|paediatrician|dermatologist|dentist|"
            r"pharmacist|specialist|nurse|gynecologist|gynaecologist|urologist|"
            r"(?:medical|healthcare|health care|health) professional|clinic|provider|ophthalmologist)s?\b",
            r"\b(?:make|making|book|booking|schedule|scheduling|get|getting|arrange|arranging)\s+"
            r"(?:an?\s+)?(?:appointment|visit|referral|check-?up)",
            r"\b(?:take|bring|show)\s+(?:the|your|these|them|it)\s*(?:\w+\s+)?to\s+(?:your|a)\s+(?:doctor|GP)",
            r"\b(?:get|have|need)\s+an?\s+(?:X-ray|ultrasound|scan|MRI|CT scan|blood test|ECG)",
            r"\b(?:checked|examined|looked at|evaluated|assessed|seen)\s+(?:out\s+)?by\s+(?:a|an|your)\s+"
            r"(?:\w+\s+){0,3}?(?:doctor|GP|physician|specialist|dentist|professional)",
            r"\bget(?:ting)?\s+(?:it\s+|this\s+|yourself\s+)?(?:checked|examined)",
            r"\b(?:get|seek|obtain)\s+(?:medical|professional)\s+(?:help|advice|attention|care)",
            r"\b(?:get|have)\s+(?:it|this|yourself|them|him|her|the \w+)\s+(?:checked|examined|"
            r"looked at|evaluated|seen)",
            r"\b(?:get|be)\s+(?:checked|examined|evaluated|assessed|seen)\s+(?:out\s+)?by",
            r"\bseek\s+(?:professional\s+)?medical\s+(?:advice|attention|care|help|evaluation)",
            r"\bmedical\s+(?:evaluation|assessment|attention)\b",
            r"\bfollow\s+up\s+with\s+(?:your|a)\b",
            r"\bgo\s+to\s+(?:a|the|your)\s+(?:hospital|clinic|doctor)",
        ]
    ),
    re.I,
)

# --- what makes advice conditional, negated or not advice at all -----------------------------
_COND = re.compile(
    r"如果|假如|假若|若(?!干)|倘若|万一|一旦|要是|如[有出遇发伴仍果症]|的话|"
    r"(?:以下|下列)[^，。；]{0,4}?(?:情况|症状|表现|信号)|任何一[种项条个]|(?<![及同随平小有暂当按定准临届])时[，,]?(?:请|应|要|需|务必|立即|马上|及时|尽快|再|就|则)|"
    r"的时候|情况下|必要时|需要时|如需|视情况|何时|什么时候|否则|"
    r"(?:持续|超过)[^，。；]{0,8}?(?:天|周|小时|日|个月)|(?:仍|还|依然|一直|总)(?:是|然)?(?:不|未|没有?)"
    r"(?:缓解|好转|改善|退|见好)|(?:不见|未见|没有|未)(?:好转|缓解|改善)|"
    r"\bif\b|\bunless\b|\bin case\b|\bshould\b(?=\s+(?:\w+\s+){0,4}(?:persist|worsen|get worse|develop|"
    r"occur|appear|return|recur|continue|last|not improve|fail|spread))|\bwhen(?:ever)?\b|"
    r"\bpersists?\b|\bpersisting|\bworsen|\bget(?:s)? worse|\bdo(?:es)?n'?t improve|\bnot improving|\bwarning signs?|"
    r"red flags?|\bany of (?:the following|these)|\bfollowing (?:symptoms|signs|warning)|\b(?:after|beyond|more than|longer than) (?:\d+|an?|one|two|three|four|five|six|seven|ten|a few|several)\b|"
    r"\bin the event",
    re.I,
)
# state words that open a condition in advice (出现X，立即…) but also describe the present
_COND_WEAK = re.compile(
    r"(?<![已经])出现(?!了|过)|(?<![已经])超过|(?:仍然?|还是|依然|依旧)(?:不|未|没有?|无|止不住)|止不住|"
    r"(?:不|未|没有?|无)(?:缓解|好转|改善|减轻|见效|见好)|改善不明显|效果不(?:好|佳|明显)|加重|恶化|反复发作"
)
_DESCRIPTIVE = re.compile(r"结合|目前|现在|已经|已|正在|刚才|最近|这次|您的|你的")
_CONCESSIVE = re.compile(r"即使|就算|哪怕|即便|\beven if\b|\beven though\b", re.I)
# a comma clause opening with a consequence or contrast ends the condition before it
_RESET = re.compile(
    r"\s*(?:so\b|therefore\b|but\b|however\b|所以|因此|但|不过|可是|然而|无论如何|也)", re.I
)
_UNLESS = re.compile(r"除非|\bunless\b", re.I)
_NEG_ZH = re.compile(
    r"(?:无需|无须|毋须|毋需|不需要?|不必|不用|没必要|没有必要|不一定(?:要|需要)?|暂时不用|暂不需要?|"
    r"不急于|不要急着|别急着|用不着|犯不着|不至于要)[^，。；,;但而]{0,8}$"
)
_NEG_EN = re.compile(
    r"(?:\bno need|\bdon'?t need|\bdo not need|\bdoesn'?t need|\bdoes not need|\bnot necessary|"
    r"\bneedn'?t|\bunnecessary|\bno reason|\bdon'?t have to|\bdo not have to|\bnot need|\bwithout|"
    r"\bnot required|\bwon'?t need|\bwill not need|\bnot usually need|\brarely need|\bnever need|"
    r"\bnot necessarily|\bavoid|\bdon'?t rush|\bdon'?t\b|\bdo not\b|\bdoesn'?t\b|\bisn'?t|\bis not)"
    r"[^,;.]{0,30}$",
    re.I,
)
_PAST_BEFORE = re.compile(
    r"(?:上次|之前|以前|已经|已|曾经?|刚才|刚刚|昨天|前天|去年|前几天|当时|那次|您说|你说|在医院)[^，。；]{0,8}$"
    r"|(?:复诊|产检|体检|随访|就诊|就医|看病|下次|门诊)(?:时|的时候)[^，。；]{0,4}$"
    r"|\bwhen you (?:do |next )?$|\bat your next (?:visit|appointment|review|check-?up)[^,;.]{0,10}$"
    r"|(?:\byou(?:'ve| have)? (?:already )?(?:seen|visited|been to)|\bwhen you (?:saw|visited|went)"
    r"|\bpreviously|\blast time|\balready)[^,;.]{0,20}$",
    re.I,
)
_PAST_AFTER = re.compile(r"^(?:[了过]|时|的时候|前|后|时间|费用|记录|结果|资料|过程)", re.I)


def _clauses(text: str) -> list[tuple[str, bool]]:
    """(clause, conditional) pairs for every comma clause that may carry advice."""
    out: list[tuple[str, bool]] = []
    carry = False  # a colon-ended conditional heading governs the list under it
    for line in text.split("\n"):
        if not line.strip():
            carry = False
            continue
        if carry and not _LIST_ITEM.match(line):
            carry = False
        for sentence in _EN_STOP.split(line):
            stripped = sentence.strip()
            if not stripped or stripped.endswith(("？", "?")):
                continue  # questions ("需要去医院吗？") are not advice
            cond = carry
            for clause in _COMMA.split(sentence):
                if _RESET.match(clause):
                    cond = carry
                if _CONCESSIVE.search(clause):  # 即使/哪怕/even if: the advice holds either way
                    out.append((clause, cond))
                    continue
                if _COND.search(clause) or (
                    _COND_WEAK.search(clause) and not _DESCRIPTIVE.search(clause)
                ):
                    cond = True
                out.append((clause, cond))
        tail = line.rstrip()
        if tail.endswith((":", "：")) and _COND.search(line):
            carry = True
    return out


def _judge(clause: str, m: re.Match[str]) -> str | None:
    """'negated', 'past' or None (a live piece of advice) for one match in its clause."""
    before, after = clause[: m.start()], clause[m.end() :]
    if _NEG_ZH.search(before) or _NEG_EN.search(before):
        return "negated"
    if _PAST_BEFORE.search(before) or _PAST_AFTER.match(after):
        return "past"
    return None


def clause_levels(text: str) -> list[tuple[str, str]]:
    """Every piece of advice found: (clause, "emergency" | "routine" | "conditional")."""
    found: list[tuple[str, str]] = []
    for clause, cond in _clauses(prose(text)):
        for level, pattern in (("emergency", _EMERGENCY), ("routine", _ROUTINE)):
            hit = None
            for m in pattern.finditer(clause):
                verdict = _judge(clause, m)
                if verdict is None:
                    hit = level
                    break
                if verdict == "negated" and _UNLESS.search(clause):
                    hit = "conditional"
                    break
            if hit is not None:
                found.append((clause.strip(), "conditional" if cond else hit))
                break  # emergency wording in a clause outranks its routine wording
    return found


def referral_level(text: str) -> str:
    """The answer's referral level: "emergency" | "routine" | "conditional" | "none"."""
    levels = {level for _, level in clause_levels(text)}
    for level in LEVELS[:-1]:
        if level in levels:
            return level
    return "none"
