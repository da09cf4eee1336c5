"""Start-up tax: import time, and the first ``run_eval`` against the plain batched loop it wraps.

Two measurements, each side by side in one run:

1. Import time: ``import medlab.runner, medlab.evalsets, medlab.validate, medlab.metrics`` in a
   fresh interpreter against a bare ``python -c pass`` (interleaved, median of ``--repeats``),
   printed next to the 1.5 s budget, with the slowest top-level imports from
   ``python -X importtime``.
2. The peer workload (48 Chinese questions of triage_zh x 64 greedy tokens, gp_assistant@v1 as
   system prompt, tiny-qwen2, batch 16, one torch thread) in one fresh process holding one model:
   the plain transformers loop (tokenize, sort by length, left-pad, ``model.generate``, decode)
   and ``medlab.run_eval`` (free text, cache off) alternately. The first ``run_eval`` pays
   medlab's imports (the process has only loaded the backend); the goal is first ``run_eval`` /
   median plain loop <= 1.10 in CPU time of the process (wall time is printed too; on a shared
   machine it varies with the load), with byte-identical answers. One process's first run is
   one sample, and the speed of this machine drifts by several per cent between processes, so
   the ratio is the median over ``--processes`` fresh processes.

Both run with bytecode written (``PYTHONDONTWRITEBYTECODE`` is cleared, as an installed package
has its ``.pyc`` files) after one warm-up process that also fills the lexicon store: what every
medlab process after the first one finds.

    OMP_NUM_THREADS=1 python benchmarks/startup.py [--repeats 7] [--rounds 3] [--processes 5]
        [--skip-imports]
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("OMP_NUM_THREADS", "1")
os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")
# An installed package has its bytecode compiled; measure medlab as users run it.
os.environ.pop("PYTHONDONTWRITEBYTECODE", None)

ROOT = Path(__file__).resolve().parents[1]
RUN_IMPORTS = "import medlab.runner, medlab.evalsets, medlab.validate, medlab.metrics"
BUDGET_S = 1.5
N_ITEMS, NEW_TOKENS, BATCH = 48, 64, 16


def _wall(code: str) -> float:
    t0 = time.perf_counter()
    subprocess.run([sys.executable, "-c", code], check=True, cwd=ROOT)
    return time.perf_counter() - t0


def slowest_imports(code: str, top: int = 8) -> list[tuple[str, float]]:
    """(module, cumulative s) of the slowest imports directly under ``code``'s own imports."""
    err = subprocess.run(
        [sys.executable, "-X", "importtime", "-c", code],
        capture_output=True, text=True, check=True, cwd=ROOT,
    ).stderr  # fmt: skip
    rows = []
    for line in err.splitlines():
        if not line.startswith("import time:") or "cumulative" in line:
            continue
        _, cumulative, name = line.split("|")
        depth = (len(name) - len(name.lstrip()) - 1) // 2
        if depth <= 1:
            rows.append((name.strip(), int(cumulative) / 1e6))
    return sorted(rows, key=lambda r: -r[1])[:top]


WARM = RUN_IMPORTS + "; from medlab.metrics import drug_mentions; drug_mentions('布洛芬 ibuprofen')"


def warm() -> None:
    """What any earlier medlab process leaves behind: compiled bytecode and the lexicon store
    (``medlab.lexicon.store``). Neither side of either measurement pays for them."""
    subprocess.run([sys.executable, "-c", WARM], check=True, cwd=ROOT)
    print(
        "warmed: bytecode compiled, lexicon store filled (as any earlier medlab process leaves them)"
    )


def import_benchmark(repeats: int) -> float:
    bare, full = [], []
    for _ in range(repeats):  # interleaved, so load on the machine hits both alike
        bare.append(_wall("pass"))
        full.append(_wall(RUN_IMPORTS))
    b, f = statistics.median(bare), statistics.median(full)
    print(f"imports a run needs ({RUN_IMPORTS.removeprefix('import ')}), median of {repeats}:")
    print(f"  bare interpreter : {b:6.3f} s")
    print(f"  with the imports : {f:6.3f} s")
    print(
        f"  import cost      : {f - b:6.3f} s  = {(f - b) / BUDGET_S:.2f}x the {BUDGET_S} s budget"
    )
    print("  slowest imports (python -X importtime, cumulative):")
    for name, s in slowest_imports(RUN_IMPORTS):
        print(f"    {s:6.3f} s  {name}")
    return f - b


def _conversations() -> tuple[list[list[dict[str, str]]], str]:
    """The workload's chats (system prompt + question) and the system prompt reference."""
    from medlab.prompts import load_prompt

    prompt = load_prompt("gp_assistant@v1")
    system = prompt.render()
    lines = (ROOT / "eval_sets" / "triage_zh.jsonl").read_text(encoding="utf-8").splitlines()
    questions = [json.loads(line)["question"] for line in lines if line.strip()][:N_ITEMS]
    chats = [
        [{"role": "system", "content": system}, {"role": "user", "content": q}] for q in questions
    ]
    return chats, prompt.ref


def plain_loop(model, tok, chats, eos_ids) -> list[str]:
    """What a user writes without medlab: batched greedy ``generate`` over the chat template."""
    import torch

    enc = [tok.apply_chat_template(c, add_generation_prompt=True, tokenize=True) for c in chats]
    enc = [e["input_ids"] if isinstance(e, dict) or hasattr(e, "keys") else e for e in enc]
    order = sorted(range(len(enc)), key=lambda i: -len(enc[i]))
    texts: dict[int, str] = {}
    for start in range(0, len(order), BATCH):
        rows = order[start : start + BATCH]
        batch = tok.pad({"input_ids": [enc[i] for i in rows]}, return_tensors="pt")
        with torch.inference_mode():
            out = model.generate(
                **batch, max_new_tokens=NEW_TOKENS, do_sample=False, repetition_penalty=1.0,
                top_k=None, top_p=None, temperature=None, eos_token_id=eos_ids,
                pad_token_id=tok.pad_token_id,
            )  # fmt: skip
        width = batch["input_ids"].shape[1]
        for i, row in zip(rows, out[:, width:]):
            texts[i] = tok.decode(row, skip_special_tokens=True)
    return [texts[i] for i in range(len(chats))]


def child(chats_file: str, rounds: int) -> None:
    """One process: load the model, then plain loop and run_eval alternately; JSON to stdout."""
    import torch

    torch.set_num_threads(1)
    from medlab.models import load_model

    backend = load_model("tiny-qwen2", batch_size=BATCH)
    before = sorted(m for m in ("medlab.runner", "medlab.evalsets", "medlab.validate",
                                "medlab.metrics", "jsonschema", "pandas") if m in sys.modules)  # fmt: skip
    data = json.loads(Path(chats_file).read_text(encoding="utf-8"))
    chats, prompt_ref = data["chats"], data["prompt"]
    tok, model = backend.tokenizer, backend.model
    eos = sorted({tok.eos_token_id, tok.convert_tokens_to_ids("<|im_end|>")})
    with torch.inference_mode():  # kernels and allocator, for both sides alike
        model.generate(**tok(["你好"], return_tensors="pt"), max_new_tokens=2, do_sample=False)
    plain_s, medlab_s, plain_cpu, medlab_cpu, same = [], [], [], [], []
    with tempfile.TemporaryDirectory() as out_dir:
        for _ in range(rounds):
            t0, c0 = time.perf_counter(), time.process_time()
            plain = plain_loop(model, tok, chats, eos)
            plain_s.append(time.perf_counter() - t0)
            plain_cpu.append(time.process_time() - c0)
            t0, c0 = time.perf_counter(), time.process_time()
            from medlab import GenerationParams, run_eval

            run = run_eval(
                backend, prompts=[prompt_ref], eval_sets=["triage_zh"], limit=N_ITEMS,
                params=GenerationParams(temperature=0.0, max_new_tokens=NEW_TOKENS),
                structured=False, cache="off", out_dir=out_dir, batch_size=BATCH, progress=False,
            )  # fmt: skip
            medlab_s.append(time.perf_counter() - t0)
            medlab_cpu.append(time.process_time() - c0)
            same.append([r.text for r in run.records] == plain)
    print(json.dumps({"plain": plain_s, "medlab": medlab_s, "plain_cpu": plain_cpu,
                      "medlab_cpu": medlab_cpu, "same": same, "before": before}))  # fmt: skip


def _child_run(chats_file: str, rounds: int) -> dict:
    out = subprocess.run(
        [sys.executable, __file__, "--child", chats_file, "--rounds", str(rounds)],
        capture_output=True, text=True, cwd=ROOT,
    )  # fmt: skip
    if out.returncode:
        sys.exit(f"benchmark process failed:\n{out.stderr[-3000:]}")
    return json.loads(out.stdout.strip().splitlines()[-1])


def run_benchmark(rounds: int, processes: int) -> float:
    chats, ref = _conversations()
    with tempfile.NamedTemporaryFile("w", suffix=".json", delete=False, encoding="utf-8") as f:
        json.dump({"chats": chats, "prompt": ref}, f, ensure_ascii=False)
    try:
        results = [_child_run(f.name, rounds) for _ in range(processes)]
    finally:
        os.unlink(f.name)
    print(f"\npeer workload: {N_ITEMS} triage_zh questions x {NEW_TOKENS} greedy tokens, "
          f"tiny-qwen2, batch {BATCH}, {os.environ['OMP_NUM_THREADS']} thread(s); "
          f"{processes} fresh processes, {rounds} rounds each")  # fmt: skip
    print(f"  imported before timing: {', '.join(results[0]['before']) or 'no medlab.runner/evalsets/validate/metrics, jsonschema or pandas'}")  # fmt: skip
    print(
        "  process   plain loop   first run_eval   later run_eval   first / plain   first - later"
    )
    print("            (median) CPU s        CPU s   (median) CPU s           CPU       CPU s")
    ratios, wall_ratios, extra = [], [], []
    for i, r in enumerate(results, 1):
        plain = statistics.median(r["plain_cpu"])
        first, later = r["medlab_cpu"][0], statistics.median(r["medlab_cpu"][1:] or r["medlab_cpu"])
        ratios.append(first / plain)
        wall_ratios.append(r["medlab"][0] / statistics.median(r["plain"]))
        extra.append(first - later)
        print(f"  {i:7d} {plain:12.2f} {first:16.2f} {later:16.2f} {ratios[-1]:15.3f}x "
              f"{extra[-1]:11.2f}")  # fmt: skip
    ratio = statistics.median(ratios)
    print(f"  first run_eval / plain loop, median of {processes} processes: {ratio:.3f}x CPU "
          f"({statistics.median(wall_ratios):.3f}x wall; goal <= 1.10); first-call cost "
          f"{statistics.median(extra):.2f} s CPU")  # fmt: skip
    print(f"  byte-identical answers: {all(all(r['same']) for r in results)}")
    return ratio  # CPU: the steadier measure on a shared machine


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--repeats", type=int, default=7, help="interpreter starts per side")
    p.add_argument("--rounds", type=int, default=3, help="plain loop / run_eval alternations")
    p.add_argument("--processes", type=int, default=5, help="fresh processes for the run side")
    p.add_argument("--skip-imports", action="store_true")
    p.add_argument("--skip-run", action="store_true")
    p.add_argument("--child", help=argparse.SUPPRESS)
    args = p.parse_args()
    if args.child:
        child(args.child, args.rounds)
        return 0
    sys.path.insert(0, str(ROOT))
    warm()
    ok = True
    if not args.skip_imports:
        ok &= import_benchmark(args.repeats) <= BUDGET_S
    if not args.skip_run:
        ok &= run_benchmark(args.rounds, args.processes) <= 1.10
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
