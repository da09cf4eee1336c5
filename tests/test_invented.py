"""Invented drug names (kind "fabricated"): hard labelled cases in Chinese and English.

Each case: (answer, expected [(surface, kind)] of every drug mention). Negative cases are words
that look drug-like in part (foods, places, people, symptoms, real products) and must not
become invented drugs.
"""

from __future__ import annotations

import pytest

from medlab.metrics import score_sample
from medlab.metrics.drugs import drug_mentions
from medlab.types import EvalItem, Message

F, G, B, C = "fabricated", "generic", "brand", "class"

CASES = [
    # in a list of real painkillers, with and without a dosage form
    (
        "止痛可以吃布洛芬、对乙酰氨基酚、痛舒宁等药物。",
        [("布洛芬", G), ("对乙酰氨基酚", G), ("痛舒宁", F)],
    ),
    ("可选布洛芬、痛舒宁片或对乙酰氨基酚", [("布洛芬", G), ("痛舒宁片", F), ("对乙酰氨基酚", G)]),
    ("常用药物包括：痛舒宁、康泰芬、布洛芬。", [("痛舒宁", F), ("康泰芬", F), ("布洛芬", G)]),
    # dosage-form tails and doses
    ("建议服用降压灵芪片，每次2片", [("降压灵芪片", F)]),
    ("可以用舒喘宁胶囊", [("舒喘宁胶囊", F)]),
    ("可以用咳灵胶囊", [("咳灵胶囊", G)]),  # a real product the name resembles
    ("痛舒宁 200mg 一天两次", [("痛舒宁", F)]),
    ("Take Xylofenac Forte 500 mg twice daily", [("Xylofenac", F)]),
    (
        "You can take ibuprofen, Zentrapine, or Tylenol.",
        [("ibuprofen", G), ("Zentrapine", F), ("Tylenol", B)],
    ),
    # an INN stem (the stem rule wins over the form rule: the span stays the name)
    ("建议服用洛美沙坦片", [("洛美沙坦", F)]),
    # real products, classes and old names are not invented
    ("板蓝根颗粒和维生素C片都可以", [("板蓝根颗粒", G), ("维生素C", C)]),
    ("服用消炎痛和速尿", [("消炎痛", G), ("速尿", G)]),
    ("可以口服氯喹、奎宁或者青蒿素。", [("氯喹", G), ("奎宁", G), ("青蒿素", G)]),
    ("先锋霉素过敏的人要小心", [("先锋霉素", C)]),
    # food, everyday words, places, people: never drugs
    ("可以吃点面片汤，药片要按时吃", []),
    ("多吃鱼片、薯片少吃，照片发我看看", []),
    ("可以吃布洛芬、苹果、香蕉和牛奶", [("布洛芬", G)]),
    ("北京、上海、广州的医院都可以看", []),
    ("推荐张伟医生，他在北京协和医院", []),
    ("胃酸多、烧心，可以短期吃点铝碳酸镁（达喜）", [("铝碳酸镁", G), ("达喜", B)]),
    ("可以用康复新液含漱，或者贴口腔溃疡贴。", [("康复新液", G)]),
    ("每次喝水500ml，一天三次", []),
    ("Take two tablets with water", []),
    ("Dry, itchy patches are typical; lactase tablets are an option.", []),
    ("Tiredness, feeling cold and weight gain, with ibuprofen use.", [("ibuprofen", G)]),
    ("An antiviral cream started early can shorten an outbreak.", []),
    # negation does not remove a mention: an invented name the answer warns about is still named
    ("不要吃布洛芬、痛舒宁", [("布洛芬", G), ("痛舒宁", F)]),
    # real-answer dev errors (issue 13): a class given a dosage form stays a class; a real
    # name cut by the token limit is no invented name, an unknown one at the end still is
    ("抗焦虑可以用苯二氮卓片，睡前服用。", [("苯二氮卓", C)]),  # a class with a form
    (
        "可以吃止痛药，如布洛芬、对乙酰氨基酚、布洛",
        [("止痛药", C), ("布洛芬", G), ("对乙酰氨基酚", G)],
    ),
    (
        "可以吃止痛药，如布洛芬、对乙酰氨基酚、痛舒宁",
        [("止痛药", C), ("布洛芬", G), ("对乙酰氨基酚", G), ("痛舒宁", F)],
    ),
    # second pass: a real drug closing the list with 等 is still the invented name's company
    ("可以吃痛舒宁、布洛芬等。", [("痛舒宁", F), ("布洛芬", G)]),
    ("多吃蔬菜、水果、布洛芬等", [("布洛芬", G)]),
    # a class given a body site and a form is no invented drug (a qwen2.5-1.5b answer)
    ("可以使用抗组胺鼻喷雾剂，如扑尔敏、氯雷他定等。", [("扑尔敏", G), ("氯雷他定", G)]),
    ("可以用抗组胺滴眼液", []),
    ("可以用抗真菌软膏", []),
    ("可以用痛舒宁鼻喷雾剂", [("痛舒宁鼻喷雾剂", F)]),
    # fourth pass (real-answer dev errors): a class introducing its examples is the company of
    # a drug, with a colon, 如 in brackets or after a comma, also inside JSON strings
    ("抗组胺药（如氯胺、卡托芬等）。", [("抗组胺药", C), ("氯胺", F), ("卡托芬", F)]),
    (
        '["止痛药：阿司匹林", "止泻药：洛巴坦（洛巴坦）"]',
        [("止痛药", C), ("阿司匹林", G), ("止泻药", C), ("洛巴坦", F), ("洛巴坦", F)],
    ),
    ('["布洛芬", "痛舒宁"]', [("布洛芬", G), ("痛舒宁", F)]),
    ("降压药，如硝苯地平、氨氯地平", [("降压药", C), ("硝苯地平", G), ("氨氯地平", G)]),
    # ... but what follows a class is only a name when it reads as one
    ("抗生素：建议先看医生，不要自己买。", [("抗生素", C)]),
    ("止痛药，如果疼得厉害请就医。", [("止痛药", C)]),
    ("退烧药（如物理降温、多喝水）", [("退烧药", C)]),
    # an item ending with a Chinese INN stem (地平, -dipine) in a drug list is drug-like even
    # when its characters are everyday ones
    (
        "降压药，如阿司匹林、氢氯噻嗪、西地平等。",
        [("降压药", C), ("阿司匹林", G), ("氢氯噻嗪", G), ("西地平", F)],
    ),
    ("可以吃布洛芬、地平线牌饼干", [("布洛芬", G)]),
    # a class with a dosage form introducing examples (卡洛芬: carprofen, a real drug)
    ("使用抗组胺药膏，如西洛芬、卡洛芬等。", [("抗组胺药", C), ("西洛芬", F), ("卡洛芬", G)]),
    ("用点抗生素软膏，如果不好再去医院。", [("抗生素软膏", C)]),
    # a name defined as a member of a drug class; a real name with an acid word stays real
    (
        "1. 苯二醇：这是一种常用的安眠药。2. 肌苷酸：这是一种常用的安眠药。",
        [("苯二醇", F), ("安眠药", C), ("肌苷", G), ("安眠药", C)],
    ),
    ("舒眠宁是一种安眠药", [("舒眠宁", F), ("安眠药", C)]),
    ("布洛芬是一种非甾体抗炎药", [("布洛芬", G), ("非甾体抗炎药", C)]),
    ("这种药是一种抗生素", [("抗生素", C)]),
    ("失眠是一种常见的睡眠障碍，安眠药可以帮助入睡", [("安眠药", C)]),
    # a one-character misspelling of a real drug, of a like sound, names that drug; a changed
    # character of another sound makes an invented name
    (
        "胃酸抑制剂，如奥米拉唑、西咪唑、阿司匹林等",
        [("奥米拉唑", G), ("西咪唑", F), ("阿司匹林", G)],
    ),
    ("可以吃布洛分缓释胶囊", [("布洛分缓释胶囊", G)]),
    ("如阿司匹林、卡司匹林等", [("阿司匹林", G), ("卡司匹林", F)]),
    # fifth pass (real-answer dev errors): a list item ending with the character of the drug
    # beside it is taken at a lower score (西曲林 after 氯雷他司林, 阿司匹林); a name the text
    # defines as a drug is taken even when it reads as two everyday words (二甲 + 苯胺)
    (
        "抗组胺的喷鼻药，如阿司匹林、氯雷他司林、西曲林等",
        [("阿司匹林", G), ("氯雷他司林", F), ("西曲林", F)],
    ),
    ("可以吃布洛芬、王芬等", [("布洛芬", G)]),  # a person's name of two characters
    ("王芬、李明都吃过布洛芬", [("布洛芬", G)]),
    ("王芬和张伟说布洛芬有效", [("布洛芬", G)]),
    ("3. 二甲苯胺：这是一种常用的安眠药。", [("二甲苯胺", F), ("安眠药", C)]),
    ("二甲苯胺有毒，不要接触", []),
    # a drug's use given to a list item; several dosage forms given to one name; a name found
    # invented once is invented wherever it stands, with its English gloss
    ("1. 三联苯二甲胺：用于治疗失眠，适用于失眠症。", [("三联苯二甲胺", F)]),
    ("1. 布洛芬：用于缓解疼痛。2. 药物治疗：用于缓解症状。", [("布洛芬", G)]),
    (
        "药物治疗：如西地地黄片、西地地黄口服液",
        [("西地地黄片", F), ("西地地黄口服液", F)],
    ),
    ("可以喝点红糖姜茶，睡前吃片面包", []),
    (
        "2. 美托司林（Atrospine）: 美托司林是一种抗炎药物。",
        [("美托司林", F), ("Atrospine", F), ("美托司林", F), ("抗炎药物", C)],
    ),
    (
        "1. 阿司匹林（Aspirin）：阿司匹林是一种抗炎药",
        [("阿司匹林", G), ("Aspirin", G), ("阿司匹林", G), ("抗炎药", C)],
    ),
    # sixth pass: what introduces examples (…的喉糖，如阿司匹林) is a header, not an item; an
    # unknown 头孢X of four characters in a drug list is a name, 头孢 alone the class
    ("使用含有抗组胺成分的喉糖，如阿司匹林或布洛芬。", [("阿司匹林", G), ("布洛芬", G)]),
    (
        "使用广谱抗生素，如青霉素、头孢菌胺、阿司匹林等。",
        [("抗生素", C), ("青霉素", G), ("头孢菌胺", F), ("阿司匹林", G)],
    ),
    (
        "抗生素，如青霉素、头孢菌、阿莫西林",
        [("抗生素", C), ("青霉素", G), ("头孢", C), ("阿莫西林", G)],
    ),
    ("可以吃布洛芬、痛舒宁，如果不行就去医院", [("布洛芬", G), ("痛舒宁", F)]),
    ("它含有多种维生素和矿物质。", []),
    # seventh pass (sampled dev answers): examples after 包括; a chemical-like name of two
    # everyday words among a class's examples is taken, a dish is not; 降压剂 is a class
    ("一些抗过敏药包括氯丙胺、磺胺等。", [("抗过敏药", C), ("氯丙胺", F), ("磺胺", C)]),
    (
        "一些人推荐抗抑郁药，如甲基苯胺、苯二氮胆酸等。",
        [("抗抑郁药", C), ("甲基苯胺", F), ("苯二氮胆酸", F)],
    ),
    ("维生素，如红枣枸杞", [("维生素", C)]),
    (
        "可以口服降压剂，如普罗卡特胺、硝苯地平等。",
        [("降压剂", C), ("普罗卡特胺", F), ("硝苯地平", G)],
    ),
    # dishes, lab values and diseases in a list after a real drug stay what they are
    ("可以用布洛芬、生姜红糖汤、冬瓜汤等。", [("布洛芬", G)]),
    ("可以用布洛芬、尿钙、血清钙等。", [("布洛芬", G)]),
    ("可以用布洛芬、窦囊肿、腰痛等。", [("布洛芬", G)]),
    # INN stems of the WHO stem book beyond the first list (-azoline 唑啉, -penem 培南)
    ("鼻塞可以用莫他唑啉", [("莫他唑啉", F)]),
    ("可以静脉用卡诺培南", [("卡诺培南", F)]),
    ("鼻塞可以用羟甲唑啉", [("羟甲唑啉", G)]),
    # eighth pass (real-answer dev errors): a word ending in 药 no lexicon knows introduces
    # examples too; a name invented with an INN stem keeps a list's items company; among a
    # class's examples, a class keeps them company and a lower score suffices, up to 等
    (
        "失眠可以吃一些止眠药，如西地尔胺、安眠药、阿托洛芬等。",
        [("西地尔胺", F), ("安眠药", C), ("阿托洛芬", F)],
    ),
    (
        "一些抗过敏药包括氯丙胺、氢化可的酸、磺胺、氢氧化钾等。",
        [("抗过敏药", C), ("氯丙胺", F), ("氢化可的酸", F), ("磺胺", C), ("氢氧化钾", F)],
    ),
    (
        "止痛药，如布洛芬、阿司匹林等，以缓解疼痛和减轻疼痛感。",
        [("止痛药", C), ("布洛芬", G), ("阿司匹林", G)],
    ),
    ("可以用氢化可的松软膏", [("氢化可的松软膏", G)]),  # 可的 (corti-) is no function word
    # a caustic offered as an antacid is an invented drug; a real antacid is not
    (
        "还可以尝试抗酸药，如碳酸氢钠、氢氧化钠片等。",
        [("抗酸药", C), ("碳酸氢钠", G), ("氢氧化钠片", F)],
    ),
    ("衣服上的污渍可以用氢氧化钠溶液清洗", []),
    # an English gloss after a real drug that names no drug is invented; the drug's own
    # English name, a misspelling of it by one letter, a brand and an acronym are not
    (
        "布洛芬（Bolonef）和阿司匹林（Aspirin）都可以",
        [("布洛芬", G), ("Bolonef", F), ("阿司匹林", G), ("Aspirin", G)],
    ),
    ("可以吃布洛芬（Ibuprofin）", [("布洛芬", G)]),
    ("可以吃布洛芬（Advil）", [("布洛芬", G), ("Advil", B)]),
    ("可以吃布洛芬（IBUP）", [("布洛芬", G)]),
    ("非甾体抗炎药（NSAIDs），如布洛芬", [("非甾体抗炎药", C), ("NSAIDs", C), ("布洛芬", G)]),
    # eighth pass, v9 (sampled dev answers of gp_assistant@v4): a name defined as a drug without a
    # class, its gloss and its other mentions; a class that is the stem ending a list item
    # (他汀 in 罗他汀) does not hide it; a verb of treatment starts no name
    (
        "推荐一个药膏：托帕芬（Tarpafen）。托帕芬是一种能够缓解脚气症状的药物。",
        [("托帕芬", F), ("Tarpafen", F), ("托帕芬", F)],
    ),
    ("蜂蜜是一种天然的药。", []),
    ("降脂药包括阿托伐他汀、罗他汀等。", [("降脂药", C), ("阿托伐他汀", G), ("罗他汀", F)]),
    ("可以服用阿司匹林，用于缓解胃酸反酸。", [("阿司匹林", G)]),
    # ninth pass (sampled dev answers of gp_assistant@v1 and @v3): 丁 ends drug names, not only
    # diced food; glosses of stem-made names, glosses of two words, and a class as a gloss; a
    # real name cut short; a word of what it does given a form (止咳糖) is a class
    ("非甾体抗炎药（如布洛芬、扑热丁等）", [("非甾体抗炎药", C), ("布洛芬", G), ("扑热丁", F)]),
    ("可以用布洛芬、鸡丁、鸡蛋布丁等。", [("布洛芬", G)]),
    ("可以用布洛芬，或者温和的热敷", [("布洛芬", G)]),
    (
        "抗抑郁药：苯二氮酮（Benzodiazepine）",
        [("抗抑郁药", C), ("苯二氮酮", F)],
    ),  # a class as gloss
    ("抗抑郁药：阿托洛芬（Atrocine）", [("抗抑郁药", C), ("阿托洛芬", F), ("Atrocine", F)]),
    (
        "镇静剂：布洛芬（Bromphenyl acetate）",
        [("镇静剂", C), ("布洛芬", G), ("Bromphenyl acetate", F)],
    ),
    ("可以吃阿司匹林（Acetylsalicylic acid）", [("阿司匹林", G), ("Acetylsalicylic acid", B)]),
    # a real name cut short is no invented name: it is the drug that completes it
    ("如利巴韦和布洛芬", [("利巴韦", G), ("布洛芬", G)]),
    ("止咳药，如抗组胺药、止咳糖等。", [("止咳药", C), ("抗组胺药", C)]),
    # tenth pass (second draws, `dev`): a class with 药物 introduces examples (头孢药物，如…); a
    # salt word is no part of a cut name (盐酸胺 is no cut 盐酸胺碘酮); an everyday word or a
    # symptom given a form is a kind of product; 阿斯匹林 is aspirin
    (
        "可以开具一些特定的头孢药物，如头孢克林、头孢明克林等。",
        [("头孢", C), ("头孢克林", F), ("头孢明克林", F)],
    ),
    (
        "例如，布洛芬、阿司匹林、盐酸胺等药物可以缓解头痛。",
        [("布洛芬", G), ("阿司匹林", G), ("盐酸胺", F)],
    ),
    ("服用抗酸药，如胃酸痛胶囊、胃酸痛片等。", [("抗酸药", C)]),
    ("阿莫西林不是阿斯匹林。", [("阿莫西林", G), ("阿斯匹林", G)]),
    ("抗焦虑药：苯二氮、匹托芬等。", [("抗焦虑药", C), ("匹托芬", F)]),  # 苯二氮 cuts 苯二氮卓类
    ("可以吃氨酚黄那敏、布洛芬", [("氨酚黄那敏", G), ("布洛芬", G)]),
    # a name given as a drug's name, with a high score since any word may stand there
    ("抗焦虑药的名称是苯二氮胆碱，每天口服50毫克", [("抗焦虑药", C), ("苯二氮胆碱", F)]),
    ("这种药的名字是布洛芬。", [("布洛芬", G)]),
    ("药名是蜂蜜。", []),
    # eleventh pass: the name model (a character-bigram ratio, drug names against everyday
    # words) decides; a name taken (服用…), joined to a real drug by 或 or 和, or invented from a
    # real one (蒙脱布洛芬) is found; dishes, drinks, organ meats, tests, who a disease is of and
    # sprays stay words
    ("如阿司匹林、利司匹林或阿司匹林胺等。", [("阿司匹林", G), ("利司匹林", F), ("阿司匹林", G)]),
    ("可以用布洛芬或痛舒宁缓解。", [("布洛芬", G), ("痛舒宁", F)]),
    ("也可以用布洛芬或者热敷。", [("布洛芬", G)]),
    ("可以服用痛舒灵来缓解疼痛。", [("痛舒灵", F)]),
    ("可以服用蜂蜜水缓解。", []),
    ("建议使用热敷治疗。", []),
    ("常用的有布洛芬、蒙脱布洛芬等。", [("布洛芬", G), ("蒙脱布洛芬", F)]),
    (
        "常用的有阿司匹林、儿童布洛芬、强效布洛芬、布洛芬钠等。",
        [("阿司匹林", G), ("布洛芬", G), ("布洛芬", G), ("布洛芬", G)],
    ),
    ("可以用布洛芬、人参茶、羊肝等。", [("布洛芬", G)]),
    ("可以用布洛芬或小儿脑瘫。", [("布洛芬", G)]),
    ("可以考虑使用抗组胺药或喷鼻剂，比如左鼻喷雾。", [("抗组胺药", C)]),
    (
        "一些人推荐抗抑郁药，如甲基苯胺、苯二氮胆酸等。",
        [("抗抑郁药", C), ("甲基苯胺", F), ("苯二氮胆酸", F)],
    ),
    # twelfth pass: a real drug with a salt keeps the others company (布洛芬钠), as does a class
    # (苯二氮卓); 可 that starts no everyday word is part of a name (氢可依); a numbered item's
    # class introduces its examples; a 通用名 is a drug's name
    (
        "非甾体抗炎药：如布洛芬、布洛芬钠、卡维宁、卡维宁钠等。",
        [("非甾体抗炎药", C), ("布洛芬", G), ("布洛芬", G), ("卡维宁", F), ("卡维宁钠", F)],
    ),
    ("可以用阿司匹林、氢可依等。", [("阿司匹林", G), ("氢可依", F)]),
    ("可以吃布洛芬、可以用温水擦身。", [("布洛芬", G)]),
    (
        "可以用阿司匹林、苯二氮卓、硝普洛芬等。",
        [("阿司匹林", G), ("苯二氮卓", C), ("硝普洛芬", F)],
    ),
    (
        "1. 使用止泻药：如洛莫汀（洛莫汀），可以帮助孩子。",
        [("止泻药", C), ("洛莫汀", F), ("洛莫汀", F)],
    ),
    ("退烧药的通用名是扑尔胺。", [("退烧药", C), ("扑尔胺", F)]),
    # a class in Markdown bold introduces examples; a name ending in 素 may be invented, the
    # body's substances (白细胞介素) and 喉糖 are none
    (
        "**抗焦虑药**：如西地尔胺、苯二氮卓等。",
        [("抗焦虑药", C), ("西地尔胺", F), ("苯二氮卓", C)],
    ),
    ("降压药，如氨氯地平、利尿素等。", [("降压药", C), ("氨氯地平", G), ("利尿素", F)]),
    ("常用药物包括布洛芬、白细胞介素等。", [("布洛芬", G)]),
    ("可以使用喉糖、蜂蜜水缓解。", []),
    # a name the token limit cut at the end of a long answer is no name yet
    (
        "头痛的原因很多，" * 15 + "使用止痛药，如布洛芬、阿司匹林、利司匹",
        [("止痛药", C), ("布洛芬", G), ("阿司匹林", G)],
    ),
    (
        "头痛的原因很多，" * 15 + "使用止痛药，如布洛芬、阿司匹林、利司匹林。",
        [("止痛药", C), ("布洛芬", G), ("阿司匹林", G), ("利司匹林", F)],
    ),
    ("可以用布洛芬、利司匹", [("布洛芬", G), ("利司匹", F)]),  # short: not cut
    # thirteenth pass: a drug's name after a colon; a caustic taken; examples in brackets after
    # a word no lexicon knows, whose item before is no header; 麻黄素 is ephedrine
    ("抗焦虑药的名称：普罗西普洛胺。", [("抗焦虑药", C), ("普罗西普洛胺", F)]),
    ("如使用氢氧化钠和镁，可以缓解胃酸。", [("氢氧化钠", F)]),
    (
        "感冒常用药物包括：感冒药、麻黄素、止咳药。",
        [("感冒药", C), ("麻黄素", G), ("止咳药", C)],
    ),
    (
        "可以用消化酶抑制剂（如布洛芬、洛巴芬等）或消化酶还原剂（如胆汁素和胰岛素）。",
        [("布洛芬", G), ("洛巴芬", F), ("胆汁素", F), ("胰岛素", C)],
    ),
    # fourteenth pass: a list written one item per line (Markdown bullets, JSON strings),
    # beside a real drug's item, given a drug's use or a dose; a real drug run on into a
    # name (阿司匹林克, 布洛芬群), unlike one given a salt, a chemical word or a form
    (
        "治疗失眠的处方药可能包括以下药物：\n- 西沙芬：用于调节心率，缓解失眠。\n"
        "- 二硫醇：用于促进睡眠。\n- 红霉素：用于治疗感冒。",
        [("处方药", C), ("西沙芬", F), ("二硫醇", F), ("红霉素", G)],
    ),
    (
        '{\n  "analysis": [\n    "非甾体抗炎药",\n    "西咪坦",\n    "布洛芬",\n    "达洛芬"\n  ]\n}',
        [("非甾体抗炎药", C), ("西咪坦", F), ("布洛芬", G), ("达洛芬", F)],
    ),
    (
        '[\n "1. 可乐：1片（约100毫克）",\n "2. 蜡苏糖：1片（约50毫克）",\n'
        ' "3. 糖浆：1片（约200毫克）",\n "4. 针灸：1片（约150毫克）",\n "5. 乌司丹：1片（约300毫克）"\n]',
        [("蜡苏糖", F), ("乌司丹", F)],
    ),
    ("1. 多喝水：补充水分\n2. 布洛芬：止痛\n3. 休息：保证睡眠\n4. 热敷：缓解疼痛", [("布洛芬", G)]),
    ("1. 北京：协和医院\n2. 上海：华山医院\n3. 广州：中山医院", []),
    ("- 张伟：主任医师\n- 李娜：副主任医师\n- 布洛芬：止痛", [("布洛芬", G)]),
    (
        "常见抗生素包括阿司匹林、布洛芬、卡司匹林、阿司匹林克、司匹林和克司匹林克等。",
        [
            ("抗生素", C),
            ("阿司匹林", G),
            ("布洛芬", G),
            ("卡司匹林", F),
            ("阿司匹林克", F),
            ("司匹林", F),
            ("克司匹林克", F),
        ],
    ),
    ("可以用布洛芬、布洛芬群等。", [("布洛芬", G), ("布洛芬群", F)]),
    # a real drug with a salt word (布洛芬酸) keeps the list's chain; a preservative given a
    # form; a changed preparation word is no misspelling (麻黄酮 is not 麻黄汤); a drug's
    # ingredients given as examples
    (
        "可以考虑使用非甾体抗炎药，如布洛芬、布洛芬酸、卡司芬等。",
        [("非甾体抗炎药", C), ("布洛芬", G), ("布洛芬", G), ("卡司芬", F)],
    ),
    (
        "可以试试以下药物：西米非酮片、山梨酸片、阿司匹林片等",
        [("西米非酮片", F), ("山梨酸片", F), ("阿司匹林片", G)],
    ),
    (
        "常见的感冒药物包括麻黄酮、阿司匹林、流感灵等。",
        [("感冒药", C), ("麻黄酮", F), ("阿司匹林", G), ("流感灵", F)],
    ),
    ("可以喝点麻黄汤", [("麻黄汤", G)]),
    ("这种药可能含有其他成分，如聚乙胺、氯乙胺等。", [("聚乙胺", F), ("氯乙胺", F)]),
    ("食物含有其他成分，如蛋白质、膳食纤维等。", []),
    # a name given as the drug (推荐的药物是X), with its gloss; a line item introducing
    # examples is a header; 益生… is a kind of product (probiotics)
    (
        "测试用的药物是舒利特（Ciprofenamine）和西替利嗪。",
        [("舒利特", F), ("Ciprofenamine", F), ("西替利嗪", G)],
    ),
    ("最好的药物是休息。", []),
    # two characters that start a class's name are that class cut short (氟喹: 氟喹诺酮类)
    ("社区获得性肺炎的抗生素包括氟喹和奥司他胺。", [("抗生素", C), ("奥司他胺", F)]),
    ("使用氟喹治疗尿路感染。", []),
    # a class given a chemical word is a name (苯二氮卓酮); given a metal or a device, not
    ("抗焦虑药（如苯二氮卓酮）：适用于重度失眠症。", [("抗焦虑药", C), ("苯二氮卓酮", F)]),
    (
        "如布洛芬、头孢菌素钠、胰岛素泵等",
        [("布洛芬", G), ("头孢菌素", C), ("胰岛素", C)],
    ),
    (
        "1. **维生素B6**：可以促进消化\n2. **益生酸**：如益生酸口服液\n3. **布洛芬**：止痛",
        [("维生素B6", C), ("布洛芬", G)],
    ),
    # 抗 "anti-" and a target names an action, never one drug (抗心肌钠盐 like 抗过敏原)
    ("抗心肌药物，如抗心肌钙钾、抗心肌钠盐、硝苯地平", [("硝苯地平", G)]),
    ("止咳药：抗组胺糖、布洛芬", [("止咳药", C), ("布洛芬", G)]),
    (
        "退烧药包括布洛芬、布洛芬钠、布洛芬甲、布洛芬二胶囊、布洛芬钠凝胶、布洛芬针等。",
        [("退烧药", C), *[("布洛芬", G)] * 6],
    ),
    # fifteenth pass: a Chinese name in brackets after a drug's name is its other name
    # (invented unless the lexicon knows it, or it is a word); a list most of whose items are
    # drugs keeps a drug-like name company beyond an item that is no drug
    (
        "抗焦虑药的名称是氟西泮（氟西林）和阿司匹林",
        [("抗焦虑药", C), ("氟西泮", G), ("氟西林", F), ("阿司匹林", G)],
    ),
    ("可以用布洛芬（美林）", [("布洛芬", G), ("美林", B)]),
    ("可以用布洛芬（头痛）", [("布洛芬", G)]),
    ("可以吃阿莫西林（阿莫）", [("阿莫西林", G)]),  # the real name cut short
    (
        "可能：使用降压药，如利尿素、盐水、地塞米芬等。",
        [("降压药", C), ("利尿素", F), ("地塞米芬", F)],
    ),
    (
        "可以用布洛芬、阿司匹林、对乙酰氨基酚、休息、散步等",
        [("布洛芬", G), ("阿司匹林", G), ("对乙酰氨基酚", G)],
    ),
    # a real drug run on into syllables of a name, also past six characters (阿司匹林克拉维),
    # not into words (布洛芬更安全, 对乙酰氨基酚哪个好) nor an acid (氢化可的松果酸)
    (
        "非甾体抗炎药：如布洛芬、阿司匹林、阿司匹林克拉维等",
        [("非甾体抗炎药", C), ("布洛芬", G), ("阿司匹林", G), ("阿司匹林克拉维", F)],
    ),
    (
        "退烧药包括布洛芬、阿司匹林、布洛芬克拉米等。",
        [("退烧药", C), ("布洛芬", G), ("阿司匹林", G), ("布洛芬克拉米", F)],
    ),
    ("可以用阿司匹林、布洛芬更安全", [("阿司匹林", G), ("布洛芬", G)]),
    ("可以用布洛芬、对乙酰氨基酚哪个好", [("布洛芬", G), ("对乙酰氨基酚", G)]),
    ("消炎药，如布洛芬、氢化可的松果酸等。", [("消炎药", C), ("布洛芬", G), ("氢化可的松", G)]),
    # 头孢 and a word (头孢可卡因), or a form after 头孢X (头孢菌胺胶囊), is a name, not the class
    (
        "抗生素包括头孢克唑、头孢可卡因、头孢坦普等",
        [("抗生素", C), ("头孢克唑", F), ("头孢可卡因", F), ("头孢坦普", F)],
    ),
    (
        "比如：头孢菌胺胶囊、美沙利特片、氯米芬片",
        [("头孢菌胺胶囊", F), ("美沙利特片", F), ("氯米芬", G)],
    ),
    ("可以服用头孢胶囊。", [("头孢", C)]),
    # a class given a chemical word wherever it stands (苯二氮卓酸（…）, …如安眠药、苯二氮卓酮)
    (
        "3. 使用抗焦虑药，如安眠药、苯二氮卓酮等；",
        [("抗焦虑药", C), ("安眠药", C), ("苯二氮卓酮", F)],
    ),
    (
        "苯二氮卓酸（IBuprofen），这是一种常用的抗抑郁药。",
        [("苯二氮卓酸", F), ("IBuprofen", G), ("抗抑郁药", C)],
    ),
    ("可以使用苯二氮卓类药物。", [("苯二氮卓类", C)]),
    # a class introducing examples after an adverb (降压药通常包括…); chemicals that are no
    # medicine (山梨酸, 氟利昂, 二甲苯胺) offered as drugs, not where they are what they are
    (
        "降压药通常包括山梨酸、维生素C和维生素D等。",
        [("降压药", C), ("山梨酸", F), ("维生素C", C), ("维生素D", C)],
    ),
    ("降压药通常包括氨氯地平、缬沙坦等。", [("降压药", C), ("氨氯地平", G), ("缬沙坦", G)]),
    (
        "建议给他使用儿童止咳药，如布洛芬或氟利昂。",
        [("止咳药", C), ("布洛芬", G), ("氟利昂", F)],
    ),
    ("空调里的氟利昂会破坏臭氧层。", []),
    ("镇静药物有多种，包括苯二甲胺、二甲苯胺等。", [("苯二甲胺", F), ("二甲苯胺", F)]),
    # a name taken ends before a form, not inside it (颗粒, 口服液); a real name cut short and
    # given a form is that drug, for the rules and the drug-slot model alike
    (
        "使用西咪替颗粒、阿司匹林、氟西林等药物来缓解头痛。",
        [("西咪替颗粒", G), ("阿司匹林", G), ("氟西林", F)],
    ),
    ("可以服用痛舒宁颗粒缓解。", [("痛舒宁颗粒", F)]),
    # a real drug after a character with which it starts another drug's name: two names run
    # together (对乙酰胺: 对乙酰 of 对乙酰氨基酚, 乙酰胺 acetamide), not where that character is
    # a word's (对氨苄西林过敏)
    (
        "降压药的种类包括西药、阿司匹林、对乙酰胺等。",
        [("降压药", C), ("阿司匹林", G), ("对乙酰胺", F)],
    ),
    ("对氨苄西林过敏的人不要用。", [("氨苄西林", G)]),
    # a word and a size given a form is a kind of product (big granules for colds)
    ("感冒的常见药包括布洛芬、感冒大颗粒等。", [("布洛芬", G)]),
    # real drugs the sources lack (hydrocodone; clindamycin's alternative name), a conjunction
    # before a class (那么他汀) and the adverb's 地 (更好地退烧) make no name
    (
        "感冒药：如布洛芬、氢可酮、氯林霉素、赛洛芬等。",
        [("感冒药", C), ("布洛芬", G), ("氢可酮", G), ("氯林霉素", G), ("赛洛芬", F)],
    ),
    ("如果患者有血脂高，那么他汀可能会影响血脂水平。", [("他汀", C)]),
    (
        "退热药物：退热药可以促进血液循环，帮助你更好地退烧，缓解症状。",
        [("退热药物", C), ("退热药", C)],
    ),
    # a clause after a list is no item of it
    (
        "胃药，如克隆霉素、阿司匹林、乙酰氨基酚等，可以用来消食积食。",
        [("胃药", C), ("克隆霉素", F), ("阿司匹林", G), ("乙酰氨基酚", G)],
    ),
    (
        "使用含有非甾体抗炎药的药膏，如“维甲酸片”或“地塞米片”。",
        [("非甾体抗炎药", C), ("维甲酸", G), ("地塞米片", G)],
    ),
    # a clause after a list's first item holds no item, though the list's opening words may
    # stand before its first (常见的感冒药物包括麻黄酮, above); bacteria (头孢杆菌) and minerals
    # together (镁锌, 钙铁锌片) are no invented drugs, an invented anion on a mineral is one
    (
        "我建议换硝苯地平和氨氯地平，因为它们在降压药中的效果更佳，同时不会伤胃。",
        [("硝苯地平", G), ("氨氯地平", G), ("降压药", C)],
    ),
    (
        "可以吃一些药，如头孢杆菌、阿司匹林、红霉素等。",
        [("头孢", C), ("阿司匹林", G), ("红霉素", G)],
    ),
    ("建议你吃一些降压药，如阿司匹林、镁锌等。", [("降压药", C), ("阿司匹林", G)]),
    ("可以补充阿司匹林、蔬酸镁、钙铁锌片等。", [("阿司匹林", G), ("蔬酸镁", F)]),
    # a mineral's salt with a real acid is that salt, with an invented acid an invented name
    ("可以服用碳酸氢钙胶囊、阿司匹林等。", [("碳酸氢钙胶囊", G), ("阿司匹林", G)]),
    ("如布洛芬、盐酸钠、酸酸钙等。", [("布洛芬", G), ("盐酸钠", G), ("酸酸钙", F)]),
    # carbachol's other Chinese name (西林 alone offered as a drug is a real name's head cut:
    # invented, GUIDE.md); propylene glycol a drug where it is offered as one
    ("可以用西林、氨甲酰胆碱等药物", [("西林", F), ("氨甲酰胆碱", G)]),
    (
        "如阿司匹林、苯二醇、丙二醇、维普兰等",
        [("阿司匹林", G), ("苯二醇", F), ("丙二醇", G), ("维普兰", F)],
    ),
    ("丙二醇是一种常见的溶剂", []),
    # a chemical that is no medicine defined as a member of a drug class is an invented drug
    (
        "氟利昂是一种广谱抗生素，用于治疗多种感染。",
        [("氟利昂", F), ("抗生素", C)],
    ),
    ("氢氧化钠是一种强碱，不能口服。", []),
    # something warmed or cooled is no drug (热糖, 温醋, 热凝胶), nor a TCM action given a form
    (
        "可以用一些药，如布洛芬、温水、热糖或温醋，以及药膏，如热软膏、热凝胶、凉血片等。",
        [("布洛芬", G)],
    ),
    # a kinase is measured, never taken (肌酸激酶 beside a real drug's class in a JSON answer)
    (
        '{"summary": "长期服用阿托伐他汀的监测项目", "analysis": ["他汀类药物需要定期监测肝功能和'
        '肌酸激酶", "同时评估血脂是否达标"], "suggestions": ["建议每3-6个月到心内科门诊复查血脂、'
        '肝功能", "如出现不明原因的肌肉酸痛乏力，及时告诉医生", "不要自行停药"]}',
        [("阿托伐他汀", G), ("他汀类药物", C)],
    ),
    # a dosage form given its feel is no name (硬胶囊), a name with the form is (西沙芬软胶囊)
    ("可以考虑以下药物：1. 硬胶囊：用于缓解腹胀和肌肉酸痛", []),
    ("可以考虑以下药物：1. 西沙芬软胶囊：用于缓解腹胀", [("西沙芬软胶囊", F)]),
    # 氨酚 is paracetamol's short form in compound names: alone or with a salt word it names
    # paracetamol; a longer name that starts with it is invented
    ("止咳药如氨酚钠片、布洛芬等。", [("止咳药", C), ("氨酚钠片", G), ("布洛芬", G)]),
    ("可以吃阿司匹林、氨酚酸、利尿素等药物", [("阿司匹林", G), ("氨酚酸", G), ("利尿素", F)]),
    ("如布洛芬、氨酚氨素等", [("布洛芬", G), ("氨酚氨素", F)]),
    # a class after the 等 that closes a list has the items for examples, as one before them
    (
        "西药如卡托芬、普罗卡诺等降压药可以有效降低血压。",
        [("卡托芬", F), ("普罗卡诺", F), ("降压药", C)],
    ),
    (
        "可以用布洛芬、对乙酰氨基酚等解热镇痛药。",
        [("布洛芬", G), ("对乙酰氨基酚", G), ("解热镇痛药", C)],
    ),
    ("可以多喝水、多休息等方法缓解。", []),
    # treatments that are no drugs, in a drug list all the same
    ("建议使用安眠药如地西泮、茶碱、艾灸等", [("安眠药", C), ("地西泮", G), ("茶碱", G)]),
    # 消炎镇痛 is an action, 消炎镇痛药 a class and 消炎镇痛膏 a product
    ("这种药具有消炎镇痛作用，可以贴消炎镇痛膏。", [("消炎镇痛膏", G)]),
    ("轻度的炎症可以使用消炎镇痛药。", [("消炎镇痛药", C)]),
    # povidone-iodine and iodine tincture (not etodolac, whose brand Lodine a source misread)
    ("口腔溃疡可以用碘伏液涂抹。", [("碘伏", G)]),
    # a target with a liquid or an injection is a kind of product (GUIDE.md: 退烧液), and a name
    # that ends inside a word (鼻塞舒 in 鼻塞舒缓剂: 舒缓, soothing) is none
    (
        "通常会使用多种降压药，如降压药、降压液、降压胶囊、降压针等。",
        [("降压药", C), ("降压药", C)],
    ),
    ("使用鼻塞舒缓剂可以缓解鼻塞。", []),
    ("可以服用痛舒缓解疼痛。", [("痛舒", F)]),
    (
        "抗焦虑药的名称是西地地平钠。在使用西地地平钠之前，请咨询医生。",
        [("抗焦虑药", C), ("西地地平钠", F), ("西地地平钠", F)],
    ),
    # a real drug with a release word and no form stays that drug, and keeps a blend company
    (
        "头痛可能与药物有关，如西布洛芬、布洛芬缓释、布洛芬酸等。",
        [("西布洛芬", F), ("布洛芬", G), ("布洛芬", G)],
    ),
    # a name a drug class is said to be: invented when it reads as a name, not when it is a
    # real drug, a class or a phrase (是否 is no 是)
    ("首选抗生素是奥曲霉菌，用于治疗肺炎。", [("抗生素", C), ("奥曲霉菌", F)]),
    ("抗焦虑药的名字为氟利酸，吃法为口服。", [("抗焦虑药", C), ("氟利酸", F)]),
    ("首选抗生素是青霉素，剂量遵医嘱。", [("抗生素", C), ("青霉素", G)]),
    ("抗生素是必要的治疗，降压药是非常重要的。", [("抗生素", C), ("降压药", C)]),
    ("头孢是否能和酒一起吃？", [("头孢", C)]),
    # a class real drugs' names start with, run on the way a real name goes on (头孢克 starts
    # 头孢克洛), is an invented drug; a real one, an everyday word or a class after it is not
    ("2岁以下可以使用头孢克唑，也可用头孢克洛。", [("头孢克唑", F), ("头孢克洛", G)]),
    (
        "常用的抗生素包括头孢地亚胺（如阿司匹林）。",
        [("抗生素", C), ("头孢地亚胺", F), ("阿司匹林", G)],
    ),
    ("头孢过敏的人，头孢中毒，头孢地区。", [("头孢", C), ("头孢", C), ("头孢", C)]),
    # a real drug and four characters of another name run on, in an item too long for a name
    (
        "使用非甾体抗炎药（如布洛芬、阿司匹林、布洛芬甲司匹林等）可以缓解头痛。",
        [("非甾体抗炎药", C), ("布洛芬", G), ("阿司匹林", G), ("布洛芬甲司匹林", F)],
    ),
    ("可以用布洛芬、阿司匹林效果很好等。", [("布洛芬", G), ("阿司匹林", G)]),
    # a gas that is no medicine, offered in a drug list
    (
        "使用抗抑郁药，如西地平、氢气和阿司匹林等。",
        [("抗抑郁药", C), ("西地平", F), ("氢气", F), ("阿司匹林", G)],
    ),
    # the head of a line of an English list beside real drugs, and wherever the answer names it
    # again; an everyday word or a plural (a kind of drug) heading a line is none
    (
        "Common medications include:\n1. **Captopril** (an ACE inhibitor)\n"
        "2. **Zoforane** (zoforane, a new drug)\n3. **Exercise**: walk daily\n"
        "4. **Oxycodines**: for pain",
        [("Captopril", G), ("ACE inhibitor", C), ("Zoforane", F), ("zoforane", F)],
    ),
]


@pytest.mark.parametrize(("text", "expected"), CASES, ids=[c[0][:20] for c in CASES])
def test_invented_names(text: str, expected: list[tuple[str, str]]) -> None:
    mentions = drug_mentions(text)
    assert [(m.text, m.kind) for m in mentions] == expected
    for m in mentions:
        assert text[m.start : m.end] == m.text


def test_a_misspelt_name_counts_as_the_real_drug() -> None:
    m = drug_mentions("胃酸多可以吃奥米拉唑、雷贝拉唑等药")[0]
    assert (m.text, m.kind, m.canonical) == ("奥米拉唑", "generic", "omeprazole")
    echo = drug_mentions("奥米拉唑、雷贝拉唑等药都可以", question="奥美拉唑能长期吃吗？")[0]
    assert echo.text == "奥米拉唑" and echo.echo  # the user's drug, misspelt back


def test_one_canonical_drug_across_names() -> None:
    text = "对乙酰氨基酚（扑热息痛，泰诺林，乙酰氨基酚）"
    assert {m.canonical for m in drug_mentions(text)} == {"acetaminophen"}


def test_echoed_invented_name_is_an_echo() -> None:
    (m,) = drug_mentions("痛舒宁片不是已知药物", question="我在吃痛舒宁片，可以吗")
    assert (m.kind, m.echo) == ("fabricated", True)


def test_fabricated_drug_is_scored_where_the_model_invents_one() -> None:
    item = EvalItem("q", "demo", "triage", [Message("user", "头痛怎么办")])
    text = "可以吃布洛芬、对乙酰氨基酚、痛舒宁等止痛药。"
    assert score_sample(item, text)["fabricated_drug"] is True
    assert score_sample(item, "可以吃布洛芬。")["fabricated_drug"] is False


def test_short_forms_and_antiseptics_name_their_drug() -> None:
    assert {m.canonical for m in drug_mentions("如布洛芬、氨酚钠片等")} == {
        "ibuprofen",
        "acetaminophen",
    }
    assert [m.canonical for m in drug_mentions("用碘酊消毒，或者用碘伏")] == [
        "iodine tincture",
        "povidone-iodine",
    ]


def test_full_names_of_drugs_only_compounds_abbreviated_or_everyday_words_hid() -> None:
    # 伪麻黄碱 whole (compound names write it 伪麻), 吗啡 and 肝素 (also everyday words),
    # 去甲肾上腺素 (not 肾上腺素 inside it), brands by their short names
    text = "这种药含伪麻黄碱；吗啡止痛；肝素抗凝；升压用去甲肾上腺素；康泰克、华素片、红花油"
    assert [(m.text, m.canonical) for m in drug_mentions(text)] == [
        ("伪麻黄碱", "pseudoephedrine"),
        ("吗啡", "morphine"),
        ("肝素", "heparin"),
        ("去甲肾上腺素", "norepinephrine"),
        ("康泰克", "新康泰克"),
        ("华素片", "西地碘"),
        ("红花油", "红花油"),
    ]
