"""transformers vs vLLM on the same gp_assistant run, side by side in one process.

Runs ``run_eval`` with ``gp_assistant@v1`` on the first N real Chinese questions of
``triage_zh`` (greedy, no cache) twice on the qwen2.5-0.5b stand-in: through the in-process
transformers backend (batch 16) and through a ``vllm serve`` that medlab starts
(``load_model("vllm:qwen2.5-0.5b")``, every request in flight at once). Both get the same CPU
cores. Prints wall time, generated tokens, tokens/s, the vLLM / transformers ratio (goal >= 2x),
answer agreement (identical greedy texts) and the engine's start-up time, which is paid once and
not counted in the run.

    python benchmarks/engines.py [--questions 64] [--max-new-tokens 128] [--model qwen2.5-0.5b]
        [--eager]
"""

from __future__ import annotations

import argparse
import os
import tempfile
import time

from medlab.models import load_model
from medlab.runner import run_eval
from medlab.types import GenerationParams


def timed_run(model, batch_size: int, args: argparse.Namespace, out_dir: str):
    params = GenerationParams(temperature=0, max_new_tokens=args.max_new_tokens)
    start = time.perf_counter()
    run = run_eval(
        model, prompts=["gp_assistant@v1"], eval_sets=["triage_zh"], limit=args.questions,
        params=params, cache="off", out_dir=out_dir, batch_size=batch_size, progress=False,
    )  # fmt: skip
    seconds = time.perf_counter() - start
    samples = run.samples.sort_values("item_id")
    if samples["error"].notna().any():
        raise SystemExit(
            f"{samples['error'].notna().sum()} samples failed: {samples['error'].dropna().iloc[0]}"
        )
    return seconds, int(samples["completion_tokens"].sum()), samples["text"].tolist()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--questions", type=int, default=64)
    parser.add_argument("--max-new-tokens", type=int, default=128)
    parser.add_argument("--model", default="qwen2.5-0.5b")
    parser.add_argument("--hf-batch", type=int, default=16)
    parser.add_argument("--threads", type=int, default=len(os.sched_getaffinity(0)))
    parser.add_argument("--eager", action="store_true", help="vLLM without torch.compile")
    args = parser.parse_args()

    import torch

    torch.set_num_threads(args.threads)
    out = tempfile.mkdtemp(prefix="medlab-engines-")
    print(f"{args.questions} gp_assistant@v1 questions (triage_zh) x <= {args.max_new_tokens} "
          f"greedy tokens, {args.model}, {args.threads} cores, load {os.getloadavg()[0]:.1f}")  # fmt: skip

    engine = load_model(
        f"vllm:{args.model}",
        cpu_threads=args.threads,
        enforce_eager=args.eager or None,
        progress=False,
    )
    try:
        v_s, v_tok, v_text = timed_run(engine, args.questions, args, out)
    finally:
        startup = engine.startup_s
        engine.close()
    print(f"vLLM: {v_s:.1f} s, {v_tok} tokens, {v_tok / v_s:.1f} tokens/s (start-up {startup:.0f} s)",
          flush=True)  # fmt: skip
    hf = load_model(args.model)
    hf.batch_size = args.hf_batch
    h_s, h_tok, h_text = timed_run(hf, args.hf_batch, args, out)

    same = sum(a == b for a, b in zip(v_text, h_text))
    print(f"{'engine':<28}{'s':>8}{'tokens':>8}{'tokens/s':>10}")
    print(f"{f'transformers, batch {args.hf_batch}':<28}{h_s:>8.1f}{h_tok:>8}{h_tok / h_s:>10.1f}")
    print(f"{'vLLM (vllm serve)':<28}{v_s:>8.1f}{v_tok:>8}{v_tok / v_s:>10.1f}")
    print(f"ratio vLLM / transformers: {(v_tok / v_s) / (h_tok / h_s):.2f}x tokens/s (goal >= 2x)")
    print(f"identical greedy answers: {same}/{len(h_text)}; vLLM start-up {startup:.0f} s (once)")
    print(f"load average at the end: {os.getloadavg()[0]:.1f}")


if __name__ == "__main__":
    main()
