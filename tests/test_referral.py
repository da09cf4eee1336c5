"""referral_level: table of hard cases in Chinese and English (none of them in the labelled set)."""

from __future__ import annotations

import json

import pytest

from medlab.metrics.referral import clause_levels, referral_level

CASES = [
    # what the user's doctor already told them is reported, not advice (a real-answer dev error)
    ("医生让复查是为了确保血糖水平在正常范围内。", "none"),
    ("空腹血糖偏高，建议复查。", "routine"),
    # Traditional Chinese and Cantonese read like Simplified
    ("建議這週回診所找醫師看看。", "routine"),
    ("如果食咗三日都仲係咁痛，就要去睇醫生。", "conditional"),
    ("請馬上去急症室。", "emergency"),
    ("唔使睇醫生，飲多啲水就得。", "none"),
    # a modal before the phrase: 了 marks a change of state, not the past
    ("如果拉了两天还不见好，就得上医院了。", "conditional"),
    ("这种情况该去医院了。", "routine"),
    ("我昨天已经去医院了。", "none"),
    # British and colloquial English
    ("Should the fever last more than three days, ring your GP.", "conditional"),
    ("If it's still blocked after a week, have a word with your pharmacist.", "conditional"),
    ("Swing by your doctor's office this week so they can take a look.", "routine"),
    # unconditional emergency wording
    ("您胸痛已经超过半小时，请马上拨打120。", "emergency"),
    ("这种情况请立刻去最近的医院急诊科。", "emergency"),
    ("建议立即就医，不要拖延。", "emergency"),
    ("赶紧叫救护车！", "emergency"),
    ("Call 911 immediately and chew an aspirin if you are not allergic.", "emergency"),
    ("Please go to the emergency department right away.", "emergency"),
    ("You need to seek emergency medical care now.", "emergency"),
    # routine (incl. the documented rule: 尽快/及时就医 without "now" wording is routine)
    ("建议尽快就医，查明原因。", "routine"),
    ("建议您挂个内分泌科，查一下甲状腺功能。", "routine"),
    ("最好咨询一下医生再决定要不要吃药。", "routine"),
    ("建议做个腹部B超检查。", "routine"),
    ("Please book an appointment with your GP in the next few days.", "routine"),
    ("It would be sensible to have a doctor examine the mole.", "routine"),
    # conditional
    ("如果发烧超过三天，请到医院就诊。", "conditional"),
    ("一旦出现呼吸困难，请立即拨打120。", "conditional"),
    ("若症状加重，及时就医。", "conditional"),
    ("必要时到皮肤科就诊。", "conditional"),
    ("出现以下情况请马上去急诊：\n- 意识不清\n- 抽搐", "conditional"),
    ("See a doctor if the rash spreads or you develop a fever.", "conditional"),
    ("Should the pain persist beyond a week, see your GP.", "conditional"),
    ("You don't need to see a doctor unless it gets worse.", "conditional"),
    # mixed: routine advice plus a conditional emergency is routine
    ("建议明天去医院看看。如果出现胸痛，立即拨打120。", "routine"),
    ("Make an appointment with your doctor this week. If you faint, call 911.", "routine"),
    # negated advice and non-advice uses of 医院 / 医生 / doctor
    ("这种情况无需就医，在家休息即可。", "none"),
    # advice against the visit is none; advice against waiting for it stays advice
    ("建议使用感冒药和连花清瘟来缓解症状，但不建议立即就医。", "none"),
    ("不建议拖延就医，请立即就医。", "emergency"),
    ("不建议自行用药，如症状加重请就医。", "conditional"),
    ("一般不用去医院，多喝水就好。", "none"),
    ("没必要去急诊，症状会自己缓解。", "none"),
    ("医院的检查结果显示一切正常，不用担心。", "none"),
    ("医生说这是正常的生理现象。", "none"),
    ("您之前已经去医院看过了，按医嘱吃药即可。", "none"),
    ("就医时记得带上以前的病历。", "none"),
    ("需要去医院吗？大多数情况下不需要。", "none"),
    ("There's no need to see a doctor for this.", "none"),
    ("Your doctor said the scan was normal, so keep doing the exercises.", "none"),
    ("Rest, fluids and paracetamol are usually enough.", "none"),
    # whole answers
    (
        "根据您的描述，这很可能是急性荨麻疹，通常与食物或药物过敏有关。建议暂时避免海鲜和酒精，可以口服抗组胺药缓解瘙痒。如果出现嘴唇肿胀或呼吸困难，请立即拨打120。",
        "conditional",
    ),
    (
        "您的血压170/100，已经属于2级高血压，需要规律服药控制。建议尽快到心内科门诊就诊，调整降压方案。",
        "routine",
    ),
    (
        "宝宝拉肚子一天五六次，精神还可以，先不用去医院。注意补液，观察尿量。若出现尿少、精神萎靡，及时就医。",
        "conditional",
    ),
    ("不用担心，偶尔眼皮跳一般是疲劳引起的，多休息就好。", "none"),
    ("您这种头晕考虑是耳石症，医院可以做手法复位，效果很好，建议挂耳鼻喉科。", "routine"),
    ("这是普通的蚊虫叮咬，涂点炉甘石洗剂止痒就行，不需要去医院。", "none"),
    ("出现剧烈腹痛伴呕血，属于急症，请马上去医院急诊！", "emergency"),
    (
        "Based on your description, it's most likely a viral sore throat. Antibiotics won't help. Gargle with warm salt water and rest. If you can't swallow liquids or have trouble breathing, go to the ER.",
        "conditional",
    ),
    (
        "You have a classic case of plantar fasciitis. Stretch daily and wear supportive shoes. No need to see a doctor unless it doesn't improve in 6 weeks.",
        "conditional",
    ),
    (
        "Please call 911 now. Chest pain with shortness of breath needs immediate evaluation.",
        "emergency",
    ),
    (
        "I'd suggest seeing your doctor within the next week to get your thyroid checked, since fatigue and weight gain can be signs of hypothyroidism.",
        "routine",
    ),
    ("Rest and ice should help. Most ankle sprains heal within two to three weeks.", "none"),
    ("孕期出现阴道出血伴腹痛，可能是先兆流产，也可能是宫外孕，请立即去医院急诊。", "emergency"),
    ("目前症状不重，一般不需要就医，多喝水多休息即可，症状一般3到5天缓解。", "none"),
    ("你这个情况需要去医院做个心电图，看看是不是心律失常。", "routine"),
    (
        "关于您问的问题，医院的化验结果提示轻度贫血，可以多吃红肉、动物肝脏，三个月后复查血常规。",
        "routine",
    ),
    (
        "If your child has a fever above 40°C, is unusually drowsy, or has a rash that doesn't fade when pressed, call 999 immediately.",
        "conditional",
    ),
    (
        "It's probably just a tension headache from stress. Try to take breaks and sleep well.",
        "none",
    ),
    (
        "Your rash looks like eczema. Use a fragrance-free moisturizer twice a day. See a dermatologist if it doesn't improve in two weeks.",
        "conditional",
    ),
    (
        "This is almost certainly a common cold. It should pass within a week. You don't need antibiotics.",
        "none",
    ),
    (
        "It's hard to say without examining you, but your knee pain could be due to a meniscus tear. An orthopedic specialist can confirm it with an MRI, so I'd book an appointment.",
        "routine",
    ),
    (
        "Seek medical attention right away if you notice confusion, a stiff neck or a rash that doesn't fade.",
        "conditional",
    ),
    (
        "Since your mother is having slurred speech right now, call an ambulance immediately.",
        "emergency",
    ),
    (
        "Your child's symptoms suggest hand, foot and mouth disease. It usually clears in 7 to 10 days.",
        "none",
    ),
    (
        "Drink more water and cut down on salty food. Recheck your blood pressure next month at your GP surgery.",
        "routine",
    ),
    (
        "Heartburn after big meals is common and usually caused by acid reflux. Antacids like Tums can help.",
        "none",
    ),
    ("你的胃痛是幽门螺杆菌感染导致的，需要四联疗法根除。请到消化内科开药。", "routine"),
    ("宝宝发烧39度，精神很差，叫不醒，请立即送医院急诊。", "emergency"),
    ("如果头痛越来越重，或者伴有呕吐、视物模糊，需要尽快就医。平时注意休息。", "conditional"),
    ("您的症状像是偏头痛，但也不能排除颈椎问题，建议到神经内科就诊。", "routine"),
    ("这个不是什么大问题，属于正常的生理性腹泻，调整饮食即可。", "none"),
    (
        "腰痛伴右下肢放射痛，考虑腰椎间盘突出症可能性大。先卧床休息，避免弯腰。若出现大小便失禁，立即就医。",
        "conditional",
    ),
    ("嗓子疼可以含点西瓜霜润喉片，多喝水，不用去医院。", "none"),
    # hard cases from the held-out answers (tests/data/heldout_answers.jsonl), fixed by rules:
    # "X时" closing a clause or followed by the advice verb is a condition
    ("疼得受不了时，可以直接去急诊打止痛针。", "conditional"),
    ("脓液多或红肿蔓延时去外科切开引流。", "conditional"),
    ("有伤害自己的念头时，请立即联系医生。", "conditional"),
    # a negation inside the matched phrase (看不必去急诊)
    ("目前来看不必去急诊，明天去看个门诊就行。", "routine"),
    # state words in a judgement of the present (这个情况是…加重, 这种情况) are not conditions
    ("您爷爷这个情况是慢阻肺急性加重，嘴唇发紫，马上送医院急诊。", "emergency"),
    ("孕妇出现阴道流血加上腹痛，这种情况不能在家观察，请马上去医院急诊。", "emergency"),
    ("第一时间送最近的有抗蛇毒血清的医院急诊。", "emergency"),
    ("具体吃多少，建议找您的心内科医生调整。", "routine"),
    ("Once the rash starts spreading, head to the emergency room.", "conditional"),
    ("Take it once a day with food and see your GP next week.", "routine"),
    ("Call 911 now - don't wait to see if it passes.", "emergency"),
    ("Please see your doctor soon so they can arrange a colonoscopy if needed.", "routine"),
    ("I wouldn't call an ambulance for this.", "none"),
    ("Don't hesitate to see a doctor about it.", "routine"),
    ("Should the swelling grow or become hard, get it looked at by your doctor.", "conditional"),
    ("Unless it improves in six weeks, see a physiotherapist.", "conditional"),
    ("Take your child to the GP, who can prescribe a cream.", "routine"),
    ("Book a GP appointment for a blood test.", "routine"),
    ("There's no need to go to hospital unless they vomit repeatedly.", "conditional"),
    ("Take them to the nearest A&E now.", "emergency"),
    ("A physiotherapist or your GP can do the Epley manoeuvre.", "routine"),
    ("连续发热三天以上再就医。", "conditional"),
    ("INR不稳定时请及时联系您的主治医生调整剂量。", "conditional"),
    ("每天定时服药，按时复诊。", "routine"),
    ("No need to see anyone unless you're coughing up blood.", "conditional"),
    ("Strengthen your quads; a physio can give you a programme.", "routine"),
    # an unless/除非 anywhere in the sentence makes negated advice conditional
    ("暂时不用去医院，除非出现高烧不退。", "conditional"),
    ("除非疼痛加重，否则不用去医院。", "conditional"),
    # a time frame after the advice presupposes the visit (…前, …的路上, …期间)
    ("去皮肤科看诊前，先别涂药膏。", "none"),
    ("在去医院的路上，让孩子侧躺。", "none"),
    # a negation that ends inside the matched phrase
    ("这次不需要做CT，观察就行。", "none"),
    ("不需要再去医院复查了。", "none"),
    # state words judged by the clause that holds the advice (出现X，这种情况…)
    ("突然出现剧烈头痛，这种情况需要马上去医院急诊。", "emergency"),
    # an English condition after its own action does not govern the next clause
    ("Take an antihistamine if you have one, and then call 911.", "emergency"),
    ("Watch for pus or fever, and if they appear, see a doctor.", "conditional"),
    ("Go to A&E now or call 999 if you can't get there.", "emergency"),
    (
        "You don't have to get it removed unless it bothers you, in which case your GP can help.",
        "conditional",
    ),
    # more ways to send a patient
    ("Dial 911 right away.", "emergency"),
    ("Ring 999 now.", "emergency"),
    ("This needs urgent medical attention.", "emergency"),
    ("See your doctor right away.", "emergency"),
    ("Get yourself to hospital straight away.", "emergency"),
    ("Please book a follow-up with your GP.", "routine"),
    ("Go back to your GP for a review.", "routine"),
    ("Book in with the practice nurse.", "routine"),
    ("Go to urgent care today.", "routine"),
    ("If in doubt, call NHS 111.", "conditional"),
    ("有问题随时联系医生。", "conditional"),
    # real-answer dev errors (issue 13): "consult with", an examination with no verb, other
    # professionals, a condition opening a bracketed list item, reported speech
    ("Before taking any cold medicine, you should consult with a pharmacist.", "routine"),
    ("Consider consulting with your healthcare provider about the dose.", "routine"),
    ("If the rash spreads, consult with a dermatologist.", "conditional"),
    ("疲劳持续，考虑可能是贫血，但需要进一步检查以确定原因。", "routine"),
    ("头晕可能与血压有关，需要进一步的检查。", "routine"),
    ("建议定期检查口腔，注意刷牙。", "routine"),
    ("建议定期检查血压，清淡饮食。", "none"),
    ("如果痛得厉害，需要进一步检查。", "conditional"),
    ("可以找一位专业的心理咨询师聊聊。", "routine"),
    ('suggestions: ["If the cough lasts more than a week, see a doctor"]', "conditional"),
    ("朋友说要去医院输液，其实多喝水休息就行。", "none"),
    ("邻居劝他去医院看看，但症状已经好了。", "none"),
    # real-answer dev errors, second pass: an X-ray with 去 or no verb, a check-up, a diet
    # check, a disclaimer, a question closed with a full stop
    ("脚踝肿得厉害，建议去拍片子。", "routine"),
    ("建议拍个片，看看有没有骨折。", "routine"),
    ("建议1：定期体检，确保身体状况良好。", "routine"),
    ("定期进行体检，特别是肾功能检查。", "routine"),
    ("体检报告显示一切正常。", "none"),
    ("建议定期检查饮食，少喝酒。", "none"),
    ("吃连花清瘟可以缓解症状，但不能替代医生面诊。", "none"),
    ("精神还行，要去医院吗。如果症状持续超过3天，请及时就医。", "conditional"),
    # fifth pass: a doctor's treatment or help sought is a referral; the doctor's guidance is not
    ("如果牙龈出血严重，可以考虑牙科医生的治疗。", "conditional"),
    ("需要接受医生的治疗。", "routine"),
    ("请在医生的指导下使用。", "none"),
    # a dentist is a clinician (ra-3694, ra-3753); what the dentist said is no advice
    ("孩子爸爸可能是因为牙齿感染，可能需要去看牙医检查。", "routine"),
    ("建议孩子先吃一些含氟漱口水，或者可以咨询牙医进行治疗", "routine"),
    ("如果牙龈炎严重，可能需要到牙医那里进行治疗。", "conditional"),
    ("牙医说没事，回家观察。", "none"),
    # broken JSON: a condition in one string (出现硬块) does not govern the advice in the next
    (
        '{"summary": "肚子疼后出现硬块，一动就疼", "suggestions": ["建议1：立即就医", "建议2：保持休息',
        "emergency",
    ),
    # checks one makes oneself, or a check naming nothing, are no referral
    ("建议3：定期检查头发，避免头皮油脂过多。", "none"),
    ("建议定期检查鼻塞，保持通风。", "none"),
    ("哮喘是一种呼吸系统疾病，需要定期的检查和治疗。", "none"),
    ("需要进一步的检查。", "routine"),
    # a persisting state after 但 keeps the condition open
    ("如果你已经按医生的建议用完了药，但症状仍然存在，建议咨询医生。", "conditional"),
]


# consulting when taking, using or buying a drug is advice before use (GUIDE.md: 用药前请咨询医生
# is routine), whatever the question; an event while using it is a condition
AT_USE = [
    ("建议在使用奥美拉唑时，先咨询医生或药师。", "routine"),
    ("建议患者在使用时，可以先咨询医生或药师。", "routine"),
    ("购买非甾体抗炎药时，一定要咨询专业医生。", "routine"),
    ("如果孩子在使用药膏时出现腹泻，请就医。", "conditional"),
    ("使用后出现皮疹时，请及时就医。", "conditional"),
    ("如果需要长期使用，建议咨询医生。", "conditional"),
]


# a check-up or a clinic's test said unconditionally, also with 需 or 可能需要 (GUIDE.md);
# a state denied (并未加重) opens no condition
CHECKS = [
    ("抹地塞米松药膏可能对皮肤过敏，可能需要进行皮肤测试。", "routine"),
    ("连花清瘟可以用于感冒，但需要先检查身体状况。", "routine"),
    ("长期服用可能对消化系统产生不利影响，需定期检查消化系统。", "routine"),
    ("目前尚无症状，且腰疼并未明显加重，建议定期进行体检和评估。", "routine"),
    ("不需要做检查。", "none"),
    ("无需进行检查，在家观察即可。", "none"),
    ("如果疼痛加重，需要进行检查。", "conditional"),
]


@pytest.mark.parametrize("text,expected", CASES + AT_USE + CHECKS)
def test_referral_level(text: str, expected: str) -> None:
    assert referral_level(text) == expected


def test_json_answer_is_read_through_its_fields() -> None:
    answer = {
        "summary": "可能是普通感冒。",
        "analysis": ["没有高热和呼吸困难。"],
        "suggestions": ["多喝水", "如果持续高热三天以上，请就医"],
    }
    assert referral_level(json.dumps(answer, ensure_ascii=False)) == "conditional"
    answer["suggestions"].append("建议立即拨打120")
    assert referral_level(json.dumps(answer, ensure_ascii=False)) == "emergency"


def test_fenced_json_is_parsed_leniently() -> None:
    text = '```json\n{"summary": "无需就医", "analysis": [], "suggestions": ["注意休息"]}\n```'
    assert referral_level(text) == "none"


def test_clause_levels_names_the_clauses() -> None:
    found = clause_levels("建议去医院看看。如果出现胸痛，立即拨打120。")
    assert [level for _, level in found] == ["routine", "conditional"]
    assert "120" in found[1][0]


def test_empty_text() -> None:
    assert referral_level("") == "none"


# a condition that only restates what the user reported is the user's present state
# (real-answer dev errors: 如果孩子发烧，他应该先咨询医生 after 孩子发烧家里只有阿司匹林…)
RESTATED = [
    ("孩子发烧家里只有阿司匹林，给他吃半片行不行", "如果孩子发烧，他应该先咨询医生。", "routine"),
    ("孩子感冒吃小儿氨酚黄那敏，还能同时吃美林吗", "如果孩子感冒，建议孩子尽快就医。", "routine"),
    ("孩子拉肚子，吃益生菌管用吗？", "建议家长在孩子拉肚子时，先咨询医生。", "routine"),
    ("这半年月经老是推迟，没怀孕", "如果月经推迟，可以考虑咨询医生进行检查。", "routine"),
    ("孩子发烧了，胸口有点闷", "如果孩子胸闷，请立即拨打120。", "emergency"),
    # a change, a degree or a duration the user did not report keeps the condition
    ("孩子发烧能吃美林吗？", "如果孩子发烧严重，建议立即就医。", "conditional"),
    ("孩子发烧能吃美林吗？", "如果发烧持续超过3天，请及时就医。", "conditional"),
    ("孩子发烧能吃美林吗？", "如果出现抽搐，立即拨打120。", "conditional"),
    # a condition about something the user did not report, or denied
    ("孩子发烧能吃美林吗？", "如果孩子咳嗽，建议就医。", "conditional"),
    ("听说二甲双胍能减肥，我没糖尿病能吃吗", "如果你有糖尿病，建议你先咨询医生。", "conditional"),
    # traditional characters on either side
    ("孩子發燒能吃美林嗎？", "如果孩子发烧，建议先咨询医生。", "routine"),
    # a figure the user gave is no change
    ("孩子发烧38度9，泰诺林和美林能交替着吃吗", "如果孩子发烧38度9，建议先咨询医生。", "routine"),
    # the same state in other words: 痛 for 疼, discomfort for 不好, feeling it, a mild degree,
    # being in it (real-answer dev errors)
    ("牙疼得要命，今晚先吃点啥顶一下", "如果疼痛严重，可以咨询牙医或药师。", "routine"),
    ("痛经疼得打滚，吃什么药最快止疼？", "如果疼痛严重，建议到医院就诊。", "routine"),
    ("我胃不好，奥美拉唑能不能一直吃下去？", "如果您的胃有不适，建议您咨询医生。", "routine"),
    (
        "胰岛素打多少我自己调行吗？今天血糖有点高",
        "如果您的血糖较高，您可能需要咨询医生。",
        "routine",
    ),
    ("感冒了吃连花清瘟有用吗？", "如果你正在感冒，最好咨询医生或专业人士。", "routine"),
    ("我们医院内部测试用的，头疼怎么办", "如果你感到头疼，建议尽快就医。", "routine"),
    # the asking user's own doubt, or what they suspect of what they reported
    (
        "家里有阿莫西林，我自己先吃上行不行",
        "如果您不确定是否应该自行服用阿莫西林，建议先咨询医生。",
        "routine",
    ),
    ("舍曲林吃了半年感觉好了，能不能自己停药？", "如果患者对药物有疑问，建议咨询医生。", "routine"),
    ("血脂高，能吃他汀吗", "如果您担心血脂高，建议咨询医生。", "routine"),
    ("社区获得性肺炎首选什么抗生素", "在治疗社区获得性肺炎时，可以咨询医生或药师。", "routine"),
    # severity the user did not report, a side effect, a doubt about something else stay
    ("孩子扁桃体发炎，能吃阿莫西林吗", "如果孩子扁桃体发炎严重，建议尽快就医。", "conditional"),
    ("头疼睡不着怎么办", "如果症状严重，建议就医。", "conditional"),
    ("我胃不好，布洛芬能吃吗", "如果出现胃部不适，应及时就医。", "conditional"),
    ("我胃不好，布洛芬能吃吗", "如果您担心心脏病，建议咨询医生。", "conditional"),
    ("我胃不好，布洛芬能吃吗", "在治疗高血压时，可以咨询医生。", "conditional"),
]


@pytest.mark.parametrize(("question", "text", "expected"), RESTATED)
def test_a_condition_restating_the_question_is_the_present_state(
    question: str, text: str, expected: str
) -> None:
    assert referral_level(text, question) == expected
    # without the question the condition stands
    assert referral_level(text) == "conditional"


def test_before_doing_something_is_advice_not_the_past() -> None:
    assert referral_level("建议在使用美林之前咨询医生，以确保安全。") == "routine"
    assert referral_level("服药之前请咨询医生。") == "routine"
    assert referral_level("孩子之前去医院看过，医生说没事。") == "none"
    assert referral_level("我之前看过医生。") == "none"
