"""vLLM on a GPU with Qwen2.5-7B-Instruct's exact shape: decode tokens/s at batch 1 / 16 / 64
next to the memory-bandwidth bound. For a lent GPU machine; no download.

Writes a model folder with Qwen2.5-7B-Instruct's config.json (``medlab.models.memory``'s copy)
and the real Qwen2.5 tokenizer (from the tiny-qwen2 stand-in), starts ``vllm serve`` on it with
``--load-format dummy`` (random bf16 weights: the same speed and memory as the real ones) through
``load_model("vllm:<folder>")``, then for each batch B sends B requests at once, each generating
exactly ``--tokens`` tokens (``ignore_eos``), and prints tokens/s with the bound
``B / ((weights + B x context x KV bytes per token) / bandwidth)``: each decode step reads every
weight once plus the KV cache of every sequence.

    python benchmarks/vllm_gpu.py [--batches 1 16 64] [--tokens 256] [--bandwidth-gbs 3350]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import shutil
import subprocess
import tempfile
import time
from pathlib import Path

import httpx

from medlab.models import load_model
from medlab.models.memory import QWEN25_7B_CONFIG, plan_memory
from medlab.models.standins import standin_path

# HBM bandwidth in GB/s by the name nvidia-smi reports (first match wins)
BANDWIDTH_GBS = {"H200": 4800, "H100 PCIe": 2000, "H100": 3350, "A100-SXM4-80GB": 2039,
                 "A100 80GB PCIe": 1935, "A100": 1555, "L40S": 864, "L4": 300, "A10G": 600,
                 "A10": 600, "RTX 4090": 1008, "RTX 3090": 936}  # fmt: skip
PROMPT = "请用三句话解释为什么发烧时要多喝水，并说明什么情况下需要立即就医。"


def gpu_name() -> str:
    out = subprocess.run(
        ["nvidia-smi", "--query-gpu=name", "--format=csv,noheader"],
        capture_output=True, text=True, check=True,
    )  # fmt: skip
    return out.stdout.strip().splitlines()[0]


def qwen7b_folder() -> Path:
    """config.json of Qwen2.5-7B-Instruct plus the exact Qwen2.5 tokenizer, no weights."""
    folder = Path(tempfile.mkdtemp(prefix="qwen2.5-7b-shape-"))
    config = {
        **QWEN25_7B_CONFIG,
        "architectures": ["Qwen2ForCausalLM"],
        "hidden_act": "silu",
        "bos_token_id": 151643,
        "eos_token_id": 151645,
        "initializer_range": 0.02,
        "max_window_layers": 28,
        "sliding_window": 131072,
        "use_sliding_window": False,
        "use_cache": True,
        "attention_dropout": 0.0,
    }
    (folder / "config.json").write_text(json.dumps(config, indent=2))
    tiny = standin_path("tiny-qwen2")
    for name in ("tokenizer.json", "tokenizer_config.json", "chat_template.jinja"):
        if (tiny / name).is_file():
            shutil.copy(tiny / name, folder / name)
    return folder


async def decode(url: str, model: str, batch: int, tokens: int) -> float:
    body = {"model": model, "messages": [{"role": "user", "content": PROMPT}],
            "max_tokens": tokens, "min_tokens": tokens, "ignore_eos": True, "temperature": 0}  # fmt: skip
    async with httpx.AsyncClient(base_url=url, timeout=600) as client:
        start = time.perf_counter()
        answers = await asyncio.gather(
            *[client.post("/chat/completions", json=body) for _ in range(batch)]
        )
        seconds = time.perf_counter() - start
    for r in answers:
        r.raise_for_status()
        got = r.json()["usage"]["completion_tokens"]
        if got != tokens:
            raise RuntimeError(f"asked for {tokens} tokens, got {got}")
    return seconds


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--batches", type=int, nargs="+", default=[1, 16, 64])
    parser.add_argument("--tokens", type=int, default=256)
    parser.add_argument("--bandwidth-gbs", type=float, default=None, help="default: by GPU name")
    parser.add_argument("--tensor-parallel-size", type=int, default=1)
    parser.add_argument("--max-model-len", type=int, default=4096)
    args = parser.parse_args()

    name = gpu_name()
    bw = args.bandwidth_gbs or next((v for k, v in BANDWIDTH_GBS.items() if k in name), None)
    if bw is None:
        raise SystemExit(f"unknown bandwidth for {name!r}: pass --bandwidth-gbs")
    plan = plan_memory("Qwen/Qwen2.5-7B-Instruct", context_tokens=args.max_model_len)
    folder = qwen7b_folder()
    model = load_model(
        f"vllm:{folder}", load_format="dummy", dtype="bfloat16",
        tensor_parallel_size=args.tensor_parallel_size, max_model_len=args.max_model_len,
    )  # fmt: skip
    try:
        print(f"{name}, {bw:.0f} GB/s x {args.tensor_parallel_size} GPU(s); vLLM start-up "
              f"{model.startup_s:.0f} s; Qwen2.5-7B shape, random bf16 weights "
              f"({plan.weights_bytes / 1e9:.1f} GB, KV {plan.kv_bytes_per_token} B/token)")  # fmt: skip
        asyncio.run(decode(model.url, model.model_name, 1, 8))  # warm-up
        print(f"{'batch':>6}{'s':>8}{'tokens/s':>10}{'bound':>10}{'of bound':>10}")
        for batch in args.batches:
            seconds = asyncio.run(decode(model.url, model.model_name, batch, args.tokens))
            rate = batch * args.tokens / seconds
            context = 40 + args.tokens / 2  # prompt + half the answer, on average
            step_bytes = plan.weights_bytes + batch * context * plan.kv_bytes_per_token
            bound = batch / (step_bytes / (bw * 1e9 * args.tensor_parallel_size))
            print(f"{batch:>6}{seconds:>8.2f}{rate:>10.0f}{bound:>10.0f}{rate / bound:>10.0%}")
    finally:
        model.close()
        shutil.rmtree(folder, ignore_errors=True)


if __name__ == "__main__":
    main()
