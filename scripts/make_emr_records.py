"""Generate eval_sets/emr_extraction_zh.jsonl: synthetic Chinese inpatient records with gold labels.

Each record is composed from hand-written section templates (一般情况, 主诉, 现病史, 既往史, 家族史,
体格检查, 辅助检查, 初步诊断, daily 病程记录, 会诊记录, 出院小结) filled with seeded random values, so
the file is reproducible: ``python scripts/make_emr_records.py`` rewrites it byte for byte.

Gold: ``patient_age`` is the patient's age on admission; ``diagnosis`` is the first 出院诊断 when the
record has a discharge summary, else the first 初步诊断; ``key_findings`` are strings that occur
verbatim in the record. Distractors: other ages (family members, the age at an earlier diagnosis)
and, in longer records, a 入院诊断 that differs from the 出院诊断.
"""

from __future__ import annotations

import argparse
import json
import random
from pathlib import Path

OUT = Path(__file__).resolve().parents[1] / "eval_sets" / "emr_extraction_zh.jsonl"
SURNAMES = "王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗郑梁谢宋唐"

# key, 出院诊断, 入院诊断, sex ("M"/"F"/None), age range, 主诉, 现病史, findings (format strings), 治疗
CASES = [
    (
        "stemi",
        "急性前壁ST段抬高型心肌梗死",
        "胸痛待查",
        None,
        (45, 80),
        "胸骨后压榨样疼痛{h}小时",
        "患者{h}小时前劳累后出现胸骨后压榨样疼痛，向左肩背部放射，伴大汗、恶心，含服药物后不缓解，遂由120送至我院急诊。",
        ["心电图示V1-V4导联ST段抬高", "肌钙蛋白I {tn} ng/mL", "冠脉造影示前降支近段闭塞"],
        "急诊行经皮冠状动脉介入治疗，术后双联抗血小板、调脂、稳定斑块治疗。",
    ),
    (
        "cap",
        "社区获得性肺炎（右下肺）",
        "发热待查",
        None,
        (20, 85),
        "发热、咳嗽{d}天",
        "患者{d}天前受凉后出现发热，最高体温{t}℃，伴咳嗽、咳黄脓痰，右侧胸痛，深吸气时加重，自服感冒药无好转。",
        ["体温{t}℃", "胸部CT示右下肺斑片状实变影", "白细胞计数{wbc}×10^9/L"],
        "予经验性抗感染、化痰、补液等治疗。",
    ),
    (
        "dka",
        "2型糖尿病伴酮症酸中毒",
        "2型糖尿病",
        None,
        (30, 75),
        "口干多饮{d}天，恶心呕吐1天",
        "患者有糖尿病史，{d}天前自行停用降糖药物后出现口干、多饮、多尿，1天前出现恶心、呕吐，呼气有烂苹果味。",
        ["随机血糖{glu} mmol/L", "尿酮体3+", "动脉血气pH {ph}"],
        "予补液、小剂量胰岛素静脉泵入、纠正电解质紊乱等治疗。",
    ),
    (
        "pancreatitis",
        "急性胆源性胰腺炎",
        "腹痛待查",
        None,
        (30, 80),
        "上腹痛{h}小时",
        "患者{h}小时前进食油腻食物后出现上腹部持续性胀痛，向腰背部放射，伴恶心呕吐，吐后腹痛不缓解。",
        ["血淀粉酶{amy} U/L", "腹部CT示胰腺肿大伴周围渗出", "超声示胆囊多发结石"],
        "予禁食、胃肠减压、抑酸、抑制胰酶分泌、补液等治疗。",
    ),
    (
        "stroke",
        "急性脑梗死（左侧大脑中动脉供血区）",
        "脑血管病",
        None,
        (50, 90),
        "右侧肢体无力伴言语不清{h}小时",
        "患者{h}小时前晨起时家属发现其右侧肢体无力、不能持物，伴言语含糊，无头痛、呕吐及意识障碍。",
        ["右侧肢体肌力{mp}级", "头颅MRI弥散加权像示左侧基底节区高信号", "NIHSS评分{nihss}分"],
        "予抗血小板聚集、强化降脂、改善循环及早期康复训练。",
    ),
    (
        "copd",
        "慢性阻塞性肺疾病急性加重",
        "慢性阻塞性肺疾病",
        None,
        (55, 88),
        "反复咳嗽咳痰20年，气喘加重{d}天",
        "患者20余年来反复咳嗽、咳痰，冬春季加重，{d}天前受凉后气喘明显加重，夜间不能平卧，痰量增多呈黄色。",
        ["动脉血气PaCO2 {pco2} mmHg", "双肺可闻及散在哮鸣音", "肺功能FEV1/FVC {fev}%"],
        "予吸氧、支气管扩张剂雾化、糖皮质激素、抗感染治疗。",
    ),
    (
        "ugib",
        "十二指肠球部溃疡伴出血",
        "上消化道出血",
        None,
        (25, 80),
        "黑便{d}天，头晕1天",
        "患者{d}天前无明显诱因出现黑便，呈柏油样，每日2-3次，1天前出现头晕、乏力、心悸，起立时明显。",
        ["血红蛋白{hb} g/L", "胃镜示十二指肠球部溃疡伴血痂附着", "大便潜血阳性"],
        "予禁食、抑酸、补液、输血及内镜下止血治疗。",
    ),
    (
        "appendicitis",
        "急性化脓性阑尾炎",
        "腹痛待查",
        None,
        (15, 60),
        "转移性右下腹痛{h}小时",
        "患者{h}小时前出现脐周隐痛，后逐渐转移并固定于右下腹，呈持续性，伴低热、恶心。",
        ["右下腹麦氏点压痛及反跳痛", "白细胞计数{wbc}×10^9/L", "超声示阑尾增粗，直径{ap} mm"],
        "完善术前准备后行腹腔镜阑尾切除术，术后抗感染治疗。",
    ),
    (
        "hf",
        "扩张型心肌病 慢性心力衰竭急性加重",
        "心力衰竭",
        None,
        (40, 85),
        "活动后气短{m}个月，加重伴双下肢水肿{d}天",
        "患者{m}个月前开始出现活动后气短，{d}天前气短明显加重，夜间阵发性呼吸困难，双下肢水肿，尿量减少。",
        ["NT-proBNP {bnp} pg/mL", "超声心动图示左室射血分数{ef}%", "双下肢凹陷性水肿"],
        "予利尿、扩血管、神经内分泌拮抗等抗心衰治疗，控制出入量。",
    ),
    (
        "pyelo",
        "急性肾盂肾炎（左侧）",
        "发热待查",
        "F",
        (18, 70),
        "发热伴腰痛{d}天",
        "患者{d}天前出现尿频、尿急、尿痛，随后发热，最高体温{t}℃，伴寒战及左侧腰痛。",
        ["左肾区叩击痛", "尿白细胞{uwbc}/μL", "尿培养示大肠埃希菌"],
        "予抗感染、补液、退热等治疗。",
    ),
    (
        "preeclampsia",
        "重度子痫前期",
        "孕{ga}周",
        "F",
        (22, 42),
        "停经{ga}周，头痛、双下肢水肿{d}天",
        "患者平素月经规律，现停经{ga}周，{d}天前出现头痛、视物模糊，双下肢水肿逐渐加重，自测血压升高。",
        ["血压{sbp}/{dbp} mmHg", "尿蛋白3+", "血小板计数{plt}×10^9/L"],
        "予解痉、降压、促胎肺成熟治疗，并评估终止妊娠时机。",
    ),
    (
        "pe",
        "急性肺栓塞",
        "肺部感染",
        None,
        (30, 80),
        "突发胸痛、气短{h}小时",
        "患者{h}小时前起床后突发右侧胸痛、气短，伴心悸、咳嗽，痰中带少许血丝，近期有长途乘车史，左下肢肿胀。",
        ["D-二聚体{dd} mg/L", "CT肺动脉造影示右肺动脉充盈缺损", "左下肢深静脉血栓形成"],
        "予抗凝治疗，监测生命体征及凝血功能。",
    ),
]
HISTORY = ["高血压病", "2型糖尿病", "高脂血症", "慢性胃炎", "痛风", "甲状腺功能减退症", "骨关节炎"]
RELATIVES = [
    ("父亲", "冠心病"),
    ("母亲", "高血压病"),
    ("父亲", "脑梗死"),
    ("母亲", "2型糖尿病"),
    ("哥哥", "肺癌"),
    ("姐姐", "乳腺癌"),
]
COMPLAINTS = [
    "诉夜间睡眠尚可",
    "诉症状较前减轻",
    "诉仍有轻度乏力",
    "诉食欲较前好转",
    "诉偶有轻度头晕",
    "诉大便已解、色黄",
    "诉夜间咳嗽减少",
    "无特殊不适主诉",
]
PLANS = [
    "继续当前治疗方案",
    "复查血常规、肝肾功能及电解质",
    "嘱患者适当下床活动",
    "加强健康宣教",
    "调整补液量，记录24小时出入量",
    "请营养科协助制定饮食方案",
    "监测血压、血糖变化",
]
# conditions whose hospital stays plausibly run to weeks: the only ones used for records >= 10k chars
LONG_STAY = {"stemi", "pancreatitis", "stroke", "copd", "ugib", "hf"}
EXAM_WORDS = ("压痛", "水肿", "叩击痛", "哮鸣音", "肌力")
NURSING = [
    "患者安静休息",
    "协助患者翻身拍背",
    "静脉输液通畅，无外渗",
    "患者诉睡眠可",
    "遵医嘱予吸氧2L/min",
    "指导患者床旁活动",
    "患者进食半流质饮食",
    "观察伤口敷料干燥",
]
DEPTS = ["心内科", "内分泌科", "营养科", "康复科", "呼吸内科", "临床药学室"]


def values(rng: random.Random) -> dict[str, object]:
    return {
        "h": rng.randint(2, 20),
        "d": rng.randint(2, 10),
        "m": rng.randint(3, 24),
        "t": round(rng.uniform(38.5, 40.2), 1),
        "tn": round(rng.uniform(3, 45), 2),
        "wbc": round(rng.uniform(12, 22), 1),
        "glu": round(rng.uniform(22, 33), 1),
        "ph": round(rng.uniform(7.05, 7.25), 2),
        "amy": rng.randint(900, 3200),
        "mp": rng.randint(1, 3),
        "nihss": rng.randint(5, 16),
        "pco2": rng.randint(52, 78),
        "fev": rng.randint(38, 62),
        "hb": rng.randint(58, 86),
        "ap": rng.randint(9, 14),
        "bnp": rng.randint(3500, 16000),
        "ef": rng.randint(20, 35),
        "uwbc": rng.randint(300, 2500),
        "ga": rng.randint(28, 36),
        "sbp": rng.randint(160, 185),
        "dbp": rng.randint(110, 125),
        "plt": rng.randint(70, 98),
        "dd": round(rng.uniform(3, 12), 2),
    }


def vitals(rng: random.Random) -> str:
    return (
        f"T {rng.uniform(36.2, 37.6):.1f}℃，P {rng.randint(62, 104)}次/分，R {rng.randint(16, 24)}次/分，"
        f"BP {rng.randint(102, 148)}/{rng.randint(60, 92)}mmHg"
    )


def progress_note(rng: random.Random, day: int, diagnosis: str) -> str:
    lines = [
        f"\n【病程记录】入院第{day}天",
        "患者" + "，".join(rng.sample(COMPLAINTS, 2)) + "。",
        f"查体：{vitals(rng)}。神志清楚，精神{rng.choice(['可', '尚可', '较前好转'])}，双肺呼吸音{rng.choice(['清', '稍粗', '清，未闻及干湿啰音'])}，"
        f"心律齐，腹软，无压痛，双下肢{rng.choice(['无水肿', '轻度水肿', '水肿较前减轻'])}。",
        f"辅助检查：血钾{rng.uniform(3.5, 4.9):.1f} mmol/L，血钠{rng.randint(135, 144)} mmol/L，肌酐{rng.randint(55, 110)} μmol/L。",
        f"分析：结合病史及检查，目前考虑{diagnosis}，病情{rng.choice(['平稳', '逐步好转', '较前稳定'])}。",
        f"处理：{rng.choice(PLANS)}；{rng.choice(PLANS)}。",
        f"医师签名：{rng.choice(SURNAMES)}医师",
    ]
    return "\n".join(lines)


def consult_note(rng: random.Random, day: int) -> str:
    dept = rng.choice(DEPTS)
    return (
        f"\n【会诊记录】入院第{day}天 {dept}会诊\n会诊意见：患者病情已知，查看患者后建议：1.{rng.choice(PLANS)}；"
        f"2.{rng.choice(PLANS)}；3.必要时再次请{dept}会诊。感谢邀请。\n会诊医师：{rng.choice(SURNAMES)}医师"
    )


def lab_panel(rng: random.Random, day: int) -> str:
    return (
        f"\n【检验报告】入院第{day}天 血常规：白细胞{rng.uniform(4.5, 11):.1f}×10^9/L，中性粒细胞"
        f"{rng.uniform(50, 80):.1f}%，血红蛋白{rng.randint(105, 150)} g/L，血小板{rng.randint(150, 320)}×10^9/L。"
        f"生化：谷丙转氨酶{rng.randint(12, 48)} U/L，谷草转氨酶{rng.randint(14, 42)} U/L，白蛋白"
        f"{rng.uniform(32, 45):.1f} g/L，尿素{rng.uniform(3, 8):.1f} mmol/L，空腹血糖{rng.uniform(4.6, 8.5):.1f} mmol/L，"
        f"C反应蛋白{rng.uniform(1, 30):.1f} mg/L。"
    )


def nursing_note(rng: random.Random, day: int) -> str:
    hours = sorted(rng.sample(range(0, 24), 3))
    entries = [
        f"{h:02d}:00 {vitals(rng)}，SpO2 {rng.randint(94, 99)}%，{rng.choice(NURSING)}。"
        for h in hours
    ]
    return f"\n【护理记录】入院第{day}天\n" + "\n".join(entries)


def attending_round(rng: random.Random, day: int, diagnosis: str, treat: str) -> str:
    return (
        f"\n【上级医师查房记录】入院第{day}天 {rng.choice(SURNAMES)}主任医师查房\n"
        f"听取病史汇报并查看患者后指示：患者诊断{diagnosis}明确，依据见入院记录。目前治疗有效，"
        f"{rng.choice(PLANS)}，{rng.choice(PLANS)}。治疗原则：{treat}注意观察病情变化，"
        f"{rng.choice(['向家属交代病情及预后', '做好出院前健康宣教', '评估跌倒及压疮风险'])}。"
    )


def make_record(rng: random.Random, case: tuple, target_chars: int) -> dict[str, object]:
    key, final_dx, admit_dx, sex, (lo, hi), cc, hpi, findings, treat = case
    v = values(rng)
    age = rng.randint(lo, hi)
    sex = rng.choice("MF") if sex is None else sex
    gender = "男" if sex == "M" else "女"
    findings = [f.format(**v) for f in findings]
    exam = [f for f in findings if any(w in f for w in EXAM_WORDS)]
    name = rng.choice(SURNAMES) + "某"
    with_summary = target_chars > 2500  # longer records end with a discharge summary
    admit = admit_dx.format(**v) if with_summary else final_dx
    past = rng.sample(HISTORY, 2) if age >= 30 else []
    if past:
        years_ago = rng.randint(3, min(15, age - 20))
        history = (
            f"{years_ago}年前（{age - years_ago}岁时）诊断{past[0]}，规律服药；{past[1]}病史数年。"
        )
    else:
        history = "平素体健，否认慢性病史。"
    rel, rel_dx = rng.choice(RELATIVES)
    if rel in ("父亲", "母亲"):
        family = f"{rel}{rng.randint(58, 88)}岁时因{rel_dx}去世"
    else:
        family = f"{rel}{age + rng.randint(1, 6)}岁，患{rel_dx}"
    if age >= 40:
        family += f"；{rng.choice(['儿子', '女儿'])}{age - rng.randint(22, 32)}岁，体健"
    text = "\n".join(
        [
            "入院记录",
            f"姓名：{name}  性别：{gender}  年龄：{age}岁  科别：住院部",
            f"主诉：{cc.format(**v)}。",
            f"现病史：{hpi.format(**v)}门诊查：{findings[0]}。发病以来精神差，饮食睡眠欠佳，体重无明显变化。",
            f"既往史：{history}否认药物过敏史。",
            f"家族史：{family}。",
            f"体格检查：{vitals(rng)}。神志清楚，急性病容。{'；'.join(exam) or '心肺腹查体未见明显异常'}。",
            f"辅助检查：{'；'.join(f for f in findings if f not in exam)}。",
            "初步诊断：" + " ".join(f"{i}.{d}" for i, d in enumerate([admit, *past[:1]], 1)),
            f"诊疗计划：{treat}",
        ]
    )
    day, reserve = 1, 700 if with_summary else 0
    while len(text) < target_chars - reserve:
        day += 1
        current = admit if day < 3 else final_dx
        text += progress_note(rng, day, current)
        if with_summary and target_chars > 10000:  # long stays: full daily documentation
            text += nursing_note(rng, day) + lab_panel(rng, day)
            if day % 3 == 0:
                text += attending_round(rng, day, current, treat)
            if day % 5 == 0:
                text += consult_note(rng, day)
    if with_summary:
        text += (
            f"\n【出院小结】\n患者{name}，{gender}，{age}岁，因“{cc.format(**v)}”入院，住院{day}天。"
            f"入院后完善检查：{'；'.join(findings)}。入院诊断：{admit}。经{treat.rstrip('。')}，病情好转出院。"
            "\n出院诊断："
            + " ".join(f"{i}.{d}" for i, d in enumerate([final_dx, *past], 1))
            + "\n出院医嘱：按时服药，门诊随诊，不适随时就诊。"
        )
    return {
        "text": text,
        "age": age,
        "diagnosis": final_dx,
        "admission": admit if with_summary else None,
        "findings": findings,
        "key": key,
    }


def build(seed: int = 20261126, n: int = 44) -> list[dict[str, object]]:
    rng = random.Random(seed)
    lengths = (
        [rng.randint(500, 2000) for _ in range(10)]
        + [rng.randint(2600, 9800) for _ in range(12)]
        + [rng.randint(10000, 24000) for _ in range(11)]
        + [rng.randint(25500, 38000) for _ in range(n - 33)]
    )
    rows = []
    for i, target in enumerate(lengths):
        pool = CASES if target < 10000 else [c for c in CASES if c[0] in LONG_STAY]
        rec = make_record(rng, pool[i % len(pool)], target)
        text = rec["text"]
        assert all(f in text for f in rec["findings"]) and f"年龄：{rec['age']}岁" in text
        row = {
            "id": f"emr_extraction_zh-{i + 1:04d}",
            "task": "extraction",
            "language": "zh",
            "question": text,
            "gold": {
                "patient_age": rec["age"],
                "diagnosis": rec["diagnosis"],
                "key_findings": rec["findings"],
            },
            "record_chars": len(text),
        }
        if rec["admission"] and rec["admission"] != rec["diagnosis"]:
            row["admission_diagnosis"] = rec["admission"]
        row["meta"] = {"case": rec["key"], "generator": "scripts/make_emr_records.py", "seed": seed}
        rows.append(row)
    return rows


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--seed", type=int, default=20261126)
    ap.add_argument("--out", type=Path, default=OUT)
    args = ap.parse_args()
    rows = build(args.seed)
    with args.out.open("w", encoding="utf-8") as f:
        for row in rows:
            f.write(json.dumps(row, ensure_ascii=False) + "\n")
    print(
        f"wrote {len(rows)} records to {args.out} ({sum(r['record_chars'] for r in rows):,} chars)"
    )


if __name__ == "__main__":
    main()
