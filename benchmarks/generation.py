"""Generation throughput: one conversation at a time vs batched, measured side by side.

On the CPU it runs the tiny-qwen2 stand-in with one torch thread: the same 16 medical
questions answered one by one and then in one batch (greedy, a fixed number of new tokens),
and prints the tokens/s of both and their ratio (target >= 3x). It also checks that the two
give identical greedy answers, since batching must not change what the model says. Then the
same on the real ``qwen2.5-0.5b`` (Qwen2.5-Coder-0.5B-Instruct): Chinese questions under the
gp_assistant@v1 system prompt, answered greedily until the model stops, so the answers have
real, varying lengths (a batch steps until its longest answer ends).

On a CUDA machine (or with ``--gpu``) it adds a random-weight model of Qwen2.5-7B-Instruct's
exact shape in bf16 (built on the device: nothing downloaded) and prints decode tokens/s at
batch 1, 8, 32 and 64 next to the memory-bandwidth bound of batch 1 (bandwidth / 15.2 GB of
weights, every decoding step reads all weights once).

    OMP_NUM_THREADS=1 python benchmarks/generation.py [--n 16] [--new-tokens 64] [--real-n 8]
    python benchmarks/generation.py --gpu [--bandwidth-gbs 4800]
"""

from __future__ import annotations

import argparse
import os
import sys
import time

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("OMP_NUM_THREADS", "1")

QUESTIONS = [
    "我最近总是头痛，晚上睡不好，怎么办？",
    "孩子发烧38.5度，精神还可以，需要去医院吗？",
    "胸口闷得慌，还出冷汗，是不是心脏有问题？",
    "拉肚子两天了，一天五六次，要紧吗？",
    "被菜刀划了个小口子，流了点血，要怎么处理？",
    "最近老是上火，嘴里长溃疡，吃什么好？",
    "怀孕八周，这两天有点见红，正常吗？",
    "我爸七十多了，突然说话不清楚，嘴也歪了。",
    "晒伤了，皮肤发红有点疼，怎么办？",
    "咳嗽一个多星期了，痰是黄的，要不要查一下？",
    "What should I do about a mild sore throat?",
    "My ankle is swollen after I twisted it playing football.",
    "I have had a headache behind my eyes for two days.",
    "Is it normal to feel dizzy when I stand up quickly?",
    "My baby has had diarrhoea since yesterday and fewer wet nappies.",
    "I feel tired all the time and have gained weight.",
]


def timed(backend, conversations, params) -> tuple[float, list]:
    t0 = time.perf_counter()
    out = backend.generate(conversations, params)
    return time.perf_counter() - t0, out


def cpu_benchmark(n: int, new_tokens: int) -> bool:
    from medlab.models import load_model
    from medlab.types import GenerationParams

    backend = load_model("tiny-qwen2", batch_size=n)
    params = GenerationParams(temperature=0.0, max_new_tokens=new_tokens, stop=())
    conversations = [
        [{"role": "user", "content": QUESTIONS[i % len(QUESTIONS)] + " " * (i // len(QUESTIONS))}]
        for i in range(n)
    ]
    backend.generate(conversations[:2], params)  # warm-up: kernels, allocator
    seq_s, seq_out = 0.0, []
    for conv in conversations:
        s, out = timed(backend, [conv], params)
        seq_s, seq_out = seq_s + s, seq_out + out
    batch_s, batch_out = timed(backend, conversations, params)
    seq_tokens = sum(c.completion_tokens for c in seq_out)
    batch_tokens = sum(c.completion_tokens for c in batch_out)
    same = [a.text for a in seq_out] == [b.text for b in batch_out]
    ratio = (batch_tokens / batch_s) / max(seq_tokens / seq_s, 1e-9)
    print(f"tiny-qwen2, {n} conversations x {new_tokens} new tokens, greedy, "
          f"{os.environ['OMP_NUM_THREADS']} torch thread(s)")  # fmt: skip
    print(f"  one by one : {seq_s:7.2f} s  {seq_tokens / seq_s:8.1f} tokens/s")
    print(f"  batched    : {batch_s:7.2f} s  {batch_tokens / batch_s:8.1f} tokens/s")
    print(f"  ratio      : {ratio:7.2f}x (target >= 3x)")
    print(f"  greedy answers identical batched and one by one: {same}")
    return ratio >= 3.0 and same


def real_benchmark(n: int, max_new_tokens: int) -> bool:
    """qwen2.5-0.5b (a real Qwen2.5 chat model): Chinese questions under the gp_assistant@v1
    system prompt, greedy until the model stops (or ``max_new_tokens``), so the answers have
    real, different lengths and a batch keeps stepping for its longest answer."""
    import statistics

    from medlab.models import load_model
    from medlab.prompts import load_prompt
    from medlab.types import GenerationParams

    backend = load_model("qwen2.5-0.5b", batch_size=n)
    system = {"role": "system", "content": load_prompt("gp_assistant@v1").render()}
    chinese = [q for q in QUESTIONS if not q.isascii()]
    conversations = [
        [system, {"role": "user", "content": chinese[i % len(chinese)]}] for i in range(n)
    ]
    params = GenerationParams(temperature=0.0, max_new_tokens=max_new_tokens)
    backend.generate(conversations[:1], GenerationParams(max_new_tokens=2))  # warm-up
    seq_s, seq_out = 0.0, []
    for conv in conversations:
        s, out = timed(backend, [conv], params)
        seq_s, seq_out = seq_s + s, seq_out + out
    batch_s, batch_out = timed(backend, conversations, params)
    lengths = [c.completion_tokens for c in seq_out]
    seq_tokens, batch_tokens = sum(lengths), sum(c.completion_tokens for c in batch_out)
    same = [a.text for a in seq_out] == [b.text for b in batch_out]
    ratio = (batch_tokens / batch_s) / max(seq_tokens / seq_s, 1e-9)
    print(f"\nqwen2.5-0.5b (real), {n} Chinese questions, gp_assistant@v1, greedy <= "
          f"{max_new_tokens} new tokens, {os.environ['OMP_NUM_THREADS']} torch thread(s)")  # fmt: skip
    print(f"  answer lengths: min {min(lengths)}, median {statistics.median(lengths):.0f}, "
          f"max {max(lengths)} tokens; {sum(c.finish_reason == 'stop' for c in seq_out)} of "
          f"{n} ended by the model")  # fmt: skip
    print(f"  one by one : {seq_s:7.2f} s  {seq_tokens / seq_s:8.1f} tokens/s")
    print(f"  batched    : {batch_s:7.2f} s  {batch_tokens / batch_s:8.1f} tokens/s")
    print(f"  ratio      : {ratio:7.2f}x")
    print(f"  greedy answers identical batched and one by one: {same}")
    return same


def gpu_benchmark(
    bandwidth_gbs: float | None,
    new_tokens: int,
    prompt_tokens: int,
    device: str = "cuda",
    layers: int | None = None,
    batches: tuple[int, ...] = (1, 8, 32, 64),
) -> None:
    import torch
    from transformers import Qwen2Config, Qwen2ForCausalLM

    from medlab.models.hf import HFBackend
    from medlab.models.memory import QWEN25_7B_CONFIG
    from medlab.models.standins import standin_path
    from medlab.types import GenerationParams

    fields = {k: v for k, v in QWEN25_7B_CONFIG.items() if k not in ("torch_dtype",)}
    if layers:  # fewer layers of the same width: a smaller card, or a quick check
        fields["num_hidden_layers"] = layers
    config = Qwen2Config(**fields)
    torch.manual_seed(0)
    with torch.device(device):
        model = Qwen2ForCausalLM(config).to(torch.bfloat16)
    from transformers import AutoTokenizer

    tokenizer = AutoTokenizer.from_pretrained(standin_path("tiny-qwen2"))
    backend = HFBackend.from_model(model, tokenizer, name="qwen2.5-7b-shape-random", batch_size=64)
    weights_gb = sum(p.numel() * p.element_size() for p in model.parameters()) / 1e9
    name = torch.cuda.get_device_name(0) if device.startswith("cuda") else device
    shape = f"{config.num_hidden_layers} of 28 layers" if layers else "exact shape"
    print(f"\nrandom-weight Qwen2.5-7B ({shape}), bf16, {weights_gb:.2f} GB of weights, on {name}")
    if bandwidth_gbs:
        print(f"  bandwidth bound at batch 1: {bandwidth_gbs:.0f} GB/s / {weights_gb:.1f} GB = "
              f"{bandwidth_gbs / weights_gb:.0f} tokens/s")  # fmt: skip
    params = GenerationParams(temperature=0.0, max_new_tokens=new_tokens, stop=())
    text = "头痛" * (prompt_tokens // 2)
    for batch in batches:
        conversations = [[{"role": "user", "content": f"{i}{text}"}] for i in range(batch)]
        backend.generate(conversations[:batch], GenerationParams(max_new_tokens=2, stop=()))
        if device.startswith("cuda"):
            torch.cuda.synchronize()
        wall, out = timed(backend, conversations, params)
        tokens = sum(c.completion_tokens for c in out)
        ttfts = [c.ttft_s for c in out if c.ttft_s is not None]
        ttft = sum(ttfts) / max(len(ttfts), 1)
        decode = [(c.latency_s - c.ttft_s) / max(c.completion_tokens - 1, 1) for c in out
                  if c.ttft_s is not None]  # fmt: skip
        tpot = sum(decode) / max(len(decode), 1)
        line = (f"  batch {batch:3d}: {tokens / wall:9.1f} tokens/s, TTFT {ttft * 1e3:7.1f} ms, "
                f"TPOT {tpot * 1e3:6.2f} ms")  # fmt: skip
        if bandwidth_gbs:
            rate = batch / max(tpot, 1e-9)
            line += f", {rate / (bandwidth_gbs / weights_gb):.2f}x the batch-1 bound"
        print(line)


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--n", type=int, default=16, help="conversations (CPU part)")
    p.add_argument("--new-tokens", type=int, default=64)
    p.add_argument("--real-n", type=int, default=8, help="questions (qwen2.5-0.5b part)")
    p.add_argument("--real-new-tokens", type=int, default=128, help="cap (qwen2.5-0.5b part)")
    p.add_argument("--no-real", action="store_true", help="skip the qwen2.5-0.5b part")
    p.add_argument("--gpu", action="store_true", help="run the Qwen2.5-7B-shape part")
    p.add_argument("--no-cpu", action="store_true", help="skip the tiny-qwen2 part")
    p.add_argument("--bandwidth-gbs", type=float, default=None,
                   help="GPU memory bandwidth in GB/s (H100 SXM 3350, H200 4800, A100 2039)")  # fmt: skip
    p.add_argument("--prompt-tokens", type=int, default=128, help="prompt length (GPU part)")
    p.add_argument("--device", default="cuda", help="device of the Qwen2.5-7B-shape part")
    p.add_argument(
        "--layers", type=int, default=None, help="fewer layers (same width) for small cards"
    )
    p.add_argument(
        "--batches", default="1,8,32,64", help="batch sizes of the Qwen2.5-7B-shape part"
    )
    args = p.parse_args()

    import torch

    ok = True
    if not args.no_cpu:
        torch.set_num_threads(int(os.environ["OMP_NUM_THREADS"]))
        ok = cpu_benchmark(args.n, args.new_tokens)
    if not args.no_real:
        torch.set_num_threads(int(os.environ["OMP_NUM_THREADS"]))
        ok = real_benchmark(args.real_n, args.real_new_tokens) and ok
    if args.gpu or torch.cuda.is_available():
        if args.device.startswith("cuda") and not torch.cuda.is_available():
            print("--gpu: no CUDA device here (--device cpu runs the same code on the CPU)",
                  file=sys.stderr)  # fmt: skip
            return 2
        batches = tuple(int(b) for b in args.batches.split(","))
        gpu_benchmark(args.bandwidth_gbs, args.new_tokens, args.prompt_tokens, args.device,
                      args.layers, batches)  # fmt: skip
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
