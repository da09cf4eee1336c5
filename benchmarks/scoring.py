"""Scoring speed: drug detection and all detectors over 10,000 realistic answers on one core.

Answers are ~300-character Chinese consultation replies assembled deterministically from
sentence templates (a few with English names, brands, classes and fabricated names). Prints,
measured side by side in one run:

1. the naive check ``any(name in text for name in names)`` over the same lexicon (on a sample,
   scaled per answer) against ``drug_mentions`` (which also finds *where* and *which*);
2. the CPU time (one core, ``time.process_time``) for 10,000 answers through every available detector (drug_mentions, and
   referral_level / hedging when their modules are importable), against the 3 s budget.

    OMP_NUM_THREADS=1 python benchmarks/scoring.py [--answers 10000] [--naive-sample 200]
"""

from __future__ import annotations

import argparse
import importlib
import random
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from medlab.lexicon import drug_classes, drug_names  # noqa: E402
from medlab.metrics.drugs import drug_mentions  # noqa: E402

OPENINGS = [
    "根据您描述的症状，考虑可能是普通感冒引起的上呼吸道感染，一般一周左右可以自愈。",
    "您好，从描述来看，孩子目前体温38.5℃，精神状态尚可，暂时不用过于担心。",
    "疑似急性胃肠炎，多与饮食不洁有关，注意观察大便次数和性状。",
    "您的血压偏高，可能与近期作息不规律、情绪紧张有关，需要持续监测。",
    "头痛伴有恶心的情况比较常见，可能与睡眠不足或颈椎问题相关。",
]
MIDDLES = [
    "发热时可以多喝温水，适当物理降温，体温超过38.5℃可在医生指导下使用解热镇痛药。",
    "可以考虑服用布洛芬（ibuprofen）或对乙酰氨基酚，儿童可选用美林或泰诺林混悬液。",
    "腹泻期间注意补液，可以使用口服补液盐，必要时在医生指导下使用蒙脱石散。",
    "这类情况一般不需要使用抗生素，头孢类抗生素和青霉素类药物对病毒感染无效。",
    "血压控制不佳时，医生可能会调整钙通道阻滞剂或血管紧张素受体拮抗剂的用药方案。",
    "饮食上清淡为主，少吃辛辣油腻食物，多吃新鲜蔬菜水果，保证充足睡眠。",
    "如果胃部烧灼感明显，医生可能会建议使用质子泵抑制剂，例如奥美拉唑。",
    "也有人会推荐卡美拉唑，但这类药物需要遵医嘱使用，不要自行购买。",
    "注意休息，避免熬夜和剧烈运动，保持室内空气流通，适当增加衣物。",
]
CLOSINGS = [
    "如果症状持续超过三天或出现高热不退、呼吸困难，请及时到医院就诊。",
    "如出现胸痛、意识模糊等情况，请立即拨打120或前往急诊。",
    "建议近期到社区医院复查，必要时完善血常规检查。",
    "一般无需就医，居家观察即可，如有加重再就诊。",
]


def make_answers(n: int, seed: int = 0) -> list[str]:
    rng = random.Random(seed)
    answers = []
    for _ in range(n):
        parts = [rng.choice(OPENINGS), *rng.sample(MIDDLES, 6), rng.choice(CLOSINGS)]
        answers.append("".join(parts))
    return answers


def detectors() -> dict:
    found = {"drug_mentions": drug_mentions}
    for module, name in (
        ("medlab.metrics.referral", "referral_level"),
        ("medlab.metrics.hedging", "hedging"),
    ):
        try:
            found[name] = getattr(importlib.import_module(module), name)
        except (ImportError, AttributeError) as exc:
            print(f"  ({name} not available: {exc})")
    return found


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--answers", type=int, default=10_000)
    ap.add_argument("--naive-sample", type=int, default=200)
    args = ap.parse_args(argv)

    t0 = time.process_time()
    x = 0
    for i in range(1_000_000):
        x += i
    print(f"machine reference: a 1e6-step Python loop takes {time.process_time() - t0:.3f} s CPU")
    answers = make_answers(args.answers)
    mean_chars = sum(map(len, answers)) / len(answers)
    t0 = time.process_time()
    drug_mentions("布洛芬")  # load the lexicon and build the automaton once
    load_s = time.process_time() - t0
    names = list(drug_names()) + list(drug_classes())
    print(
        f"{len(answers)} answers, mean {mean_chars:.0f} chars; lexicon {len(names)} names; load {load_s:.2f} s"
    )

    sample = answers[: args.naive_sample]
    t0 = time.process_time()
    naive_hits = sum(any(name in text for name in names) for text in sample)
    naive_per = (time.process_time() - t0) / len(sample)
    t0 = time.process_time()
    ac_hits = sum(bool(drug_mentions(text)) for text in sample)
    ac_per = (time.process_time() - t0) / len(sample)
    print(
        f"naive any(name in text) loop: {naive_per * 1e3:8.3f} ms/answer ({naive_hits}/{len(sample)} with a hit)"
    )
    print(
        f"drug_mentions (Aho-Corasick):  {ac_per * 1e3:8.3f} ms/answer ({ac_hits}/{len(sample)} with a mention)"
    )
    print(f"speed-up: {naive_per / ac_per:.0f}x")

    found = detectors()
    total = 0.0
    for name, fn in found.items():
        t0 = time.process_time()
        for text in answers:
            fn(text)
        elapsed = time.process_time() - t0
        total += elapsed
        print(f"{name:>15}: {elapsed:6.2f} s for {len(answers)} answers")
    verdict = "within" if total <= 3.0 else "OVER"
    print(
        f"all detectors ({', '.join(found)}): {total:.2f} s for {len(answers)} answers ({verdict} the 3 s budget)"
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
