"""hedging: table of hedged, certain and claim-free answers (none of them in the labelled set)."""

from __future__ import annotations

import json

import pytest

from medlab.metrics.hedging import diagnostic_claims, hedging

CASES = [
    # Traditional Chinese, and hedges of conditions named only by their own words
    ("您的狀況是痛風急性發作。", False),
    ("從症狀看，可能是急性咽炎。", True),
    ("孕32周突然流出大量清亮液体，不排除胎膜早破。", True),
    ("刚做完手术两周，要高度怀疑肺栓塞。", True),
    ("This is testicular torsion: go to the ER now.", False),
    ("You may have paracetamol poisoning even though you feel fine.", True),
    # hedged diagnoses
    ("从症状看，可能是急性咽炎。", True),
    ("疑似过敏性皮炎，建议避免接触新换的洗衣液。", True),
    ("考虑为良性阵发性位置性眩晕，也不排除前庭神经炎。", True),
    ("倾向于是病毒感染，一般一周左右能好。", True),
    ("这种腹痛很可能与饮食不规律有关。", True),
    ("孩子的皮疹像是幼儿急疹。", True),
    ("This could be a pulled muscle or a mild strain.", True),
    ("It sounds like you may have a sinus infection.", True),
    ("Your symptoms suggest a urinary tract infection.", True),
    # stated as certain
    ("你这是急性结膜炎，传染性很强。", False),
    ("您得了带状疱疹，需要抗病毒治疗。", False),
    ("诊断为慢性胃炎。", False),
    ("孩子就是普通感冒，不用担心。", False),
    ("You have tonsillitis.", False),
    ("This is a classic migraine.", False),
    # a flat cause given to the user's symptom is a certain claim (real-answer dev errors);
    # a hedged one, several causes, a definition, a risk and the user's own account are not
    ("头疼是由于身体的紧张和疲劳引起的，可以吃点止痛药。", False),
    ('{"analysis": ["睡眠过长导致身体虚汗"]}', False),
    ("头疼可能是由于紧张引起的。", True),
    ("发烧是由于多种原因引起的，建议测体温。", None),
    ("长期服用会导致胃痛，避免空腹吃。", None),
    ("少吃辣，以免导致胃痛。", None),
    ("加班导致的头疼，休息一会儿能轻一点。", None),
    ("空调开得太低着凉，导致肚子受寒。", False),
    ("多喝水，这样不会导致便秘。", None),
    # ... also beside a hedged claim in the same sentence; a symptom declared a disease
    ("咳嗽是由于呼吸道感染引起的，也可能是感冒引起的咳嗽。", False),
    ("上吐下泻是急性胃肠疾病，需要立即就医。", False),
    ("发烧是一种常见的症状，多喝水。", None),
    # 疼痛 is a symptom, not a diagnosis: 疑似 in front of it makes no claim
    ("疑似腰椎疼痛，伴有出汗，建议就医。", None),
    ("可能是神经痛，注意休息。", True),
    # one cause among several is a hedged cause
    ("肾虚是导致腰酸和无力的原因之一。", True),
    # one certain claim among hedged ones makes the answer certain
    ("可能是胃炎。您这是饮食不规律引起的。", False),
    # no diagnostic claim: advice only, 可能 in a non-diagnostic sense, conditions
    ("多喝水，注意休息，饮食清淡。", None),
    ("可能需要多休息几天，症状才会好转。", None),
    ("吃药后可能会有点犯困，这是正常的。", None),
    ("如果是细菌感染，医生会考虑用抗生素。", None),
    ("Drink plenty of fluids and rest.", None),
    ("If this is an infection, you may need antibiotics.", None),
    ("One high reading doesn't mean you have hypertension.", None),
    ("", None),
    # hard cases from the held-out answers (tests/data/heldout_answers.jsonl), fixed by rules
    ("孩子这个情况八成是幼儿急疹。", True),
    ("您这症状估摸着是颈椎病。", True),
    ("这个要当心胆道闭锁。", True),
    ("大多数儿童发热是病毒感染引起的。", True),
    ("摸到的肿块边界清楚，良性的可能性比较大。", True),
    ("疼痛转移到右下腹，是阑尾炎的常见过程。", True),
    ("宝宝头上的黄色痂皮是脂溢性皮炎。", False),
    ("您儿子这是典型的生长痛。", False),
    ("已经达到高血压的标准了。", False),
    ("一旦出现眼前黑影遮挡，马上去眼科急诊，这可能是视网膜脱离。", None),
    ("Constant thirst and weight loss are classic warning signs of diabetes.", True),
    ("Chest tightness at night points towards asthma.", True),
    ("You've got a textbook case of athlete's foot.", False),
    ("A sore, red bump on the eyelid that appeared two days ago is a stye.", False),
    ("Your child is having a febrile seizure.", False),
    ("Your blood test shows an underactive thyroid (hypothyroidism).", False),
    ("Watch for signs of infection such as redness or pus.", None),
    ("Antibiotics are useless for viral infections.", None),
    ("我个人判断是神经性皮炎。", True),
    ("不排除甲状腺功能亢进。", True),
    ("新生儿黄疸大多是生理性的。", True),
    ("这属于生理性溢奶，不是病。", False),
    ("你这是扁桃体周围脓肿的表现。", False),
    ("低密度脂蛋白偏高，这是动脉粥样硬化的危险因素。", None),
    ("A swollen tongue on an ACE inhibitor can be angioedema.", True),
    ("A sensitive tooth and swollen gums suggest an abscess may be forming.", True),
    # whole answers
    (
        "根据您的描述，这很可能是急性荨麻疹，通常与食物或药物过敏有关。建议暂时避免海鲜和酒精，可以口服抗组胺药缓解瘙痒。如果出现嘴唇肿胀或呼吸困难，请立即拨打120。",
        True,
    ),
    (
        "您的血压170/100，已经属于2级高血压，需要规律服药控制。建议尽快到心内科门诊就诊，调整降压方案。",
        False,
    ),
    (
        "宝宝拉肚子一天五六次，精神还可以，先不用去医院。注意补液，观察尿量。若出现尿少、精神萎靡，及时就医。",
        None,
    ),
    ("不用担心，偶尔眼皮跳一般是疲劳引起的，多休息就好。", True),
    ("您这种头晕考虑是耳石症，医院可以做手法复位，效果很好，建议挂耳鼻喉科。", True),
    ("这是普通的蚊虫叮咬，涂点炉甘石洗剂止痒就行，不需要去医院。", False),
    ("出现剧烈腹痛伴呕血，属于急症，请马上去医院急诊！", None),
    (
        "Based on your description, it's most likely a viral sore throat. Antibiotics won't help. Gargle with warm salt water and rest. If you can't swallow liquids or have trouble breathing, go to the ER.",
        True,
    ),
    (
        "You have a classic case of plantar fasciitis. Stretch daily and wear supportive shoes. No need to see a doctor unless it doesn't improve in 6 weeks.",
        False,
    ),
    ("Please call 911 now. Chest pain with shortness of breath needs immediate evaluation.", None),
    (
        "I'd suggest seeing your doctor within the next week to get your thyroid checked, since fatigue and weight gain can be signs of hypothyroidism.",
        True,
    ),
    ("Rest and ice should help. Most ankle sprains heal within two to three weeks.", None),
    ("孕期出现阴道出血伴腹痛，可能是先兆流产，也可能是宫外孕，请立即去医院急诊。", True),
    ("目前症状不重，一般不需要就医，多喝水多休息即可，症状一般3到5天缓解。", None),
    ("你这个情况需要去医院做个心电图，看看是不是心律失常。", None),
    (
        "关于您问的问题，医院的化验结果提示轻度贫血，可以多吃红肉、动物肝脏，三个月后复查血常规。",
        None,
    ),
    (
        "If your child has a fever above 40°C, is unusually drowsy, or has a rash that doesn't fade when pressed, call 999 immediately.",
        None,
    ),
    ("It's probably just a tension headache from stress. Try to take breaks and sleep well.", True),
    (
        "Your rash looks like eczema. Use a fragrance-free moisturizer twice a day. See a dermatologist if it doesn't improve in two weeks.",
        True,
    ),
    (
        "This is almost certainly a common cold. It should pass within a week. You don't need antibiotics.",
        False,
    ),
    (
        "It's hard to say without examining you, but your knee pain could be due to a meniscus tear. An orthopedic specialist can confirm it with an MRI, so I'd book an appointment.",
        True,
    ),
    (
        "Seek medical attention right away if you notice confusion, a stiff neck or a rash that doesn't fade.",
        None,
    ),
    ("Since your mother is having slurred speech right now, call an ambulance immediately.", None),
    (
        "Your child's symptoms suggest hand, foot and mouth disease. It usually clears in 7 to 10 days.",
        True,
    ),
    (
        "Drink more water and cut down on salty food. Recheck your blood pressure next month at your GP surgery.",
        None,
    ),
    (
        "Heartburn after big meals is common and usually caused by acid reflux. Antacids like Tums can help.",
        True,
    ),
    ("你的胃痛是幽门螺杆菌感染导致的，需要四联疗法根除。请到消化内科开药。", False),
    ("宝宝发烧39度，精神很差，叫不醒，请立即送医院急诊。", None),
    ("如果头痛越来越重，或者伴有呕吐、视物模糊，需要尽快就医。平时注意休息。", None),
    ("您的症状像是偏头痛，但也不能排除颈椎问题，建议到神经内科就诊。", True),
    ("这个不是什么大问题，属于正常的生理性腹泻，调整饮食即可。", False),
    (
        "腰痛伴右下肢放射痛，考虑腰椎间盘突出症可能性大。先卧床休息，避免弯腰。若出现大小便失禁，立即就医。",
        True,
    ),
    ("嗓子疼可以含点西瓜霜润喉片，多喝水，不用去医院。", None),
    # a cue followed by a cause, a hedge adverb before the patient, more condition words
    ("估计是吃了生冷的东西引起的急性胃肠炎。", True),
    ("多半您也感染了幽门螺杆菌。", True),
    ("年轻人站起来头晕，多半是体位性低血压。", True),
    ("宝宝夜里哭闹，大概率是肠绞痛。", True),
    # 也就是 restates a claim; a report finding does not hedge a certain claim after it
    ("应该是湿疹，也就是皮肤的慢性炎症。", True),
    ("B超提示胆囊息肉，您这是得了胆囊息肉。", False),
    # a condition governs what follows it, not the claim before it
    ("可能是感冒，如果发烧超过三天请就医。", True),
    ("只有确定是细菌感染的时候，才需要用抗生素。", None),
    ("只有轻微发红，属于一度烫伤。", False),
    ("不一定是癌症，不用太担心。", None),
    ("You probably have a cold, so see a doctor if it gets worse.", True),
    ("There's no need to see a doctor unless it shows signs of infection.", None),
    # English: negated cues, words ending like diseases, hedged causes, generic statements
    ("You have no fever or back pain, so it is not a kidney infection.", None),
    ("Make an appointment to confirm the diagnosis.", None),
    ("Tell them you think it's a stroke.", True),
    ("Some strokes are caused by bleeding.", True),
    ("Thyroid problems are another common cause.", True),
    ("Yours could be caused by the dry air.", True),
    ("An eyelid twitch is usually linked to stress.", True),
    ("Your symptoms are consistent with an underactive thyroid.", True),
    ("It is typical of simple indigestion.", True),
    ("You've sprained your ankle.", False),
    # real-answer dev errors (issue 13)
    ("Itchy eyes and a blocked nose are common symptoms of hay fever.", True),
    ("The sore throat is a typical sign of a viral infection.", True),
    ("The swelling is likely due to a sprain.", True),
    ("The headache is due to dehydration.", False),
    ("The flu is a common flu, and it spreads easily.", None),
    ("Antibiotics are commonly used for UTI.", None),
    ("This is an effective treatment for high blood pressure.", None),
    ("The best thing to take for a headache is a cold drink.", None),
    ("这次腹泻可能是痢疾。", True),
    ("孩子胸口闷，可能是心脏急症，需要立即就医。", True),
    ("孩子额头发烫，可能是发烧了。", True),
    # second pass: a hedged cause with no cause verb after it; 可能 in another sense stays none
    ("孩子老感冒，可能是因为身体虚弱或免疫力下降。", True),
    ("也许是由于最近睡得太晚。", True),
    ("睡前喝水可能会起夜，建议少喝。", None),
    # third pass (qwen2.5-1.5b answers): a mole, a TCM diagnosis, a cause after 可能因
    ("痣颜色深浅不一，可能为良性痣或恶性痣，建议进一步检查。", True),
    ("腰酸没劲可能是肾虚的迹象，但需要进一步检查以确定。", True),
    ("用户可能因空调温度过低导致肚子受寒，引起腹泻。", True),
    ("这颗就是恶性痣。", False),
    ("效果可能因人而异，补肾的药不要乱吃。", None),
    # fifth pass (real-answer dev errors): JSON the parser could not read ends a sentence at
    # each string, so a hedge in one string does not reach a flat cause in the next
    ('{"summary": "吃了止咳糖浆，效果一般", "analysis": ["咳嗽是由于呼吸道感染引起的。"', False),
    ('{"summary": "吃了止咳糖浆，效果一般。咳嗽是由于呼吸道感染引起的。"}', False),
    ('{"summary": "效果一般", "analysis": ["咳嗽可能是由于呼吸道感染引起的。"', True),
    # a judgement stated as certain; a complaint declared "a common … disease" is certain too
    ("根据你女儿额头摸着烫的情况，可以判断为发烧。", False),
    ("初步判断为发烧。", True),
    ("上吐下泻是一种常见的消化系统疾病，需要及时就医。", False),
    # tests done to rule a disease out make no claim; ruling it out as a differential does
    ("建议定期进行神经系统检查，以排除脑部疾病。", None),
    ("需要排除阑尾炎。", True),
    # several causes of the user's complaint listed are possibilities, none asserted (a general
    # statement, 发烧是由于多种原因引起的, stays none, above); what a drug may do is no claim
    ("孩子积食是由于多种原因引起的，包括饮食习惯、营养不良等。", True),
    ("布洛芬对孕妇来说可能有副作用，但通常不会引起腰疼。", None),
    ("你这可能是药物的副作用。", True),
    # a symptom's cause named flatly or with a hedge; looking for the cause is no claim
    ("奶奶晕倒的原因是脉搏过快。", False),
    ("头疼的原因可能是压力。", True),
    ("一周两三次可能需要进一步检查和治疗，以确定原因。", None),
    ('{"analysis": ["头发脱落的原因是头皮的油脂分泌过多，导致头发脱落"]}', False),
]


@pytest.mark.parametrize("text,expected", CASES)
def test_hedging(text: str, expected: bool | None) -> None:
    assert hedging(text) is expected


def test_json_answer_is_read_through_its_fields() -> None:
    answer = {
        "summary": "可能是紧张性头痛。",
        "analysis": ["与久坐有关。"],
        "suggestions": ["多休息"],
    }
    assert hedging(json.dumps(answer, ensure_ascii=False)) is True
    answer["analysis"].append("您这是典型的偏头痛。")
    assert hedging(json.dumps(answer, ensure_ascii=False)) is False


def test_questions_are_not_claims() -> None:
    assert hedging("是不是偏头痛？需要更多信息才能判断。") is None


def test_diagnostic_claims_lists_sentences() -> None:
    claims = diagnostic_claims("可能是感冒。注意休息。你得了鼻窦炎。")
    assert claims == [("可能是感冒。", True), ("你得了鼻窦炎。", False)]
