"""medlab's OpenAI backend against ``medlab serve``: N requests one at a time vs C in flight.

Starts ``medlab serve --raw`` on a stand-in in a subprocess on a free localhost port, sends the
same requests sequentially (concurrency 1) and concurrently (concurrency C), and prints both
timings and their ratio (with the machine's load average: on a shared machine other jobs change
the numbers a lot). The server groups requests that arrive together into one batched
``generate`` call, which is where the speed-up comes from.

    python benchmarks/openai_backend.py [--requests 64] [--concurrency 16] [--max-new-tokens 32]
"""

from __future__ import annotations

import argparse
import os
import socket
import statistics
import subprocess
import sys
import time

import httpx

from medlab.models.openai import OpenAIBackend
from medlab.types import GenerationParams

QUESTIONS = ["头痛", "咳嗽", "发烧", "腹泻", "失眠", "腰痛", "鼻塞", "胃痛"]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def start_server(model: str, port: int) -> subprocess.Popen:
    env = dict(
        os.environ, OMP_NUM_THREADS=os.environ.get("OMP_NUM_THREADS", "1"), HF_HUB_OFFLINE="1"
    )
    cmd = [sys.executable, "-m", "medlab", "serve", "--raw", "--model", model, "--port", str(port)]
    proc = subprocess.Popen(
        cmd, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True
    )
    deadline = time.time() + 300
    while time.time() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"server exited: {proc.stderr.read()[-2000:]}")
        try:
            if httpx.get(f"http://127.0.0.1:{port}/health", timeout=1).status_code == 200:
                return proc
        except httpx.HTTPError:
            time.sleep(0.5)
    proc.kill()
    raise RuntimeError("server did not start within 300 s")


def measure(url: str, conversations: list, params: GenerationParams, concurrency: int) -> dict:
    backend = OpenAIBackend(url, concurrency=concurrency, timeout_s=600)
    start = time.perf_counter()
    out = backend.generate(conversations, params)
    wall = time.perf_counter() - start
    tokens = sum(c.completion_tokens for c in out)
    return {
        "concurrency": concurrency,
        "wall_s": wall,
        "req_per_s": len(out) / wall,
        "tokens": tokens,
        "tokens_per_s": tokens / wall,
        "latency_p50_s": statistics.median(c.latency_s for c in out),
        "ttft_p50_s": statistics.median(c.ttft_s for c in out if c.ttft_s is not None),
    }


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--model", default="tiny-qwen2")
    ap.add_argument("--requests", type=int, default=64)
    ap.add_argument("--concurrency", type=int, default=16)
    ap.add_argument("--max-new-tokens", type=int, default=32)
    args = ap.parse_args()

    load_before = os.getloadavg()[0]
    port = free_port()
    proc = start_server(args.model, port)
    url = f"http://127.0.0.1:{port}/v1"
    try:
        convs = [
            [{"role": "user", "content": f"第{i}位用户：{QUESTIONS[i % len(QUESTIONS)]}怎么办？"}]
            for i in range(args.requests)
        ]
        params = GenerationParams(temperature=0.0, max_new_tokens=args.max_new_tokens)
        measure(url, convs[: args.concurrency], params, args.concurrency)  # warm-up
        one = measure(url, convs, params, 1)
        before = httpx.get(f"http://127.0.0.1:{port}/health").json()
        many = measure(url, convs, params, args.concurrency)
        after = httpx.get(f"http://127.0.0.1:{port}/health").json()
    finally:
        proc.terminate()
        proc.wait(30)
    print(
        f"model {args.model}, {args.requests} requests, max_new_tokens {args.max_new_tokens}, "
        f"OMP_NUM_THREADS={os.environ.get('OMP_NUM_THREADS', '1')}, {os.cpu_count()} CPUs, "
        f"load average {load_before:.1f} before / {os.getloadavg()[0]:.1f} after"
    )
    print(
        f"{'concurrency':>11} {'wall s':>8} {'req/s':>7} {'tokens':>7} {'tok/s':>7} {'p50 lat s':>9} {'p50 ttft s':>10}"
    )
    for r in (one, many):
        print(
            f"{r['concurrency']:>11} {r['wall_s']:>8.2f} {r['req_per_s']:>7.2f} {r['tokens']:>7} "
            f"{r['tokens_per_s']:>7.1f} {r['latency_p50_s']:>9.3f} {r['ttft_p50_s']:>10.3f}"
        )
    calls = after["batches"] - before["batches"]
    size = (after["batched_requests"] - before["batched_requests"]) / max(calls, 1)
    print(
        f"concurrent run: {calls} generate calls on the server, {size:.1f} requests per call "
        f"(sizes {after['recent_batches'][-calls:]})"
    )
    ratio = one["wall_s"] / many["wall_s"]
    print(f"speed-up concurrency {args.concurrency} vs 1: {ratio:.2f}x (goal >= 5x)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
