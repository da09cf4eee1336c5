"""Response cache: a first run vs an unchanged rerun of the same evaluation on tiny-qwen2.

The rerun must be served from the cache for 100% of its samples and take at most 5% of the
first run's wall time (both runs measured warm: a small untimed run loads the lazy parts
first). Prints both wall times, the ratio and the hit rate; exits 1 when a target is missed.

    OMP_NUM_THREADS=1 python benchmarks/cache.py [--limit 20] [--max-new-tokens 64]
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
from pathlib import Path

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("OMP_NUM_THREADS", "1")


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--limit", type=int, default=20, help="triage_zh items per variant")
    p.add_argument("--max-new-tokens", type=int, default=64)
    p.add_argument("--cache", default=None, help="cache spec (default: a fresh SQLite file)")
    p.add_argument("--structured", action="store_true", help="constrained JSON output")
    args = p.parse_args()

    import torch

    torch.set_num_threads(int(os.environ["OMP_NUM_THREADS"]))
    from medlab.models import load_model
    from medlab.runner import run_eval
    from medlab.types import GenerationParams

    model = load_model("tiny-qwen2")
    prompts = ["gp_assistant@v1", "gp_assistant@v2"]
    params = GenerationParams(temperature=0.3, max_new_tokens=args.max_new_tokens, seed=0)
    with tempfile.TemporaryDirectory() as tmp:
        cache = args.cache or str(Path(tmp) / "cache.sqlite")
        kw = dict(params=params, structured=args.structured, out_dir=tmp, progress=False)
        run_eval(model, prompts, ["triage_zh"], limit=1, cache="off", **kw)  # warm-up, untimed
        walls, runs = [], []
        for _ in range(2):
            t0 = time.perf_counter()
            runs.append(
                run_eval(model, prompts, ["triage_zh"], limit=args.limit, cache=cache, **kw)
            )
            walls.append(time.perf_counter() - t0)
    first, rerun = (r.manifest.counts for r in runs)
    hit_rate = rerun.cached / rerun.planned
    ratio = walls[1] / walls[0]
    print(f"tiny-qwen2, {len(prompts)} variants x {args.limit} triage_zh items, "
          f"max_new_tokens={args.max_new_tokens}, structured={args.structured}, cache={cache}")  # fmt: skip
    print(f"first run : {walls[0]:8.2f} s  ({first.generated} generated, {first.cached} cached)")
    print(f"rerun     : {walls[1]:8.2f} s  ({rerun.generated} generated, {rerun.cached} cached)")
    print(f"ratio     : {ratio:8.2%}  (target <= 5%)")
    print(f"hit rate  : {hit_rate:8.2%}  (target 100%)")
    return 0 if hit_rate == 1.0 and ratio <= 0.05 else 1


if __name__ == "__main__":
    sys.exit(main())
