"""``medlab models build-standins`` and ``medlab models plan``: the offline stand-in models and
the VRAM planner."""

from __future__ import annotations

import argparse
import sys
import time
from typing import Any


def add_parsers(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("models", help="stand-in models and the VRAM planner")
    msub = p.add_subparsers(dest="action", required=True)
    b = msub.add_parser("build-standins", help="build the offline stand-in models")
    b.add_argument("names", nargs="*", help="default: all")
    b.add_argument("--force", action="store_true")
    b.set_defaults(handler=cli_build_standins)
    m = msub.add_parser("plan", help="VRAM plan for a model")
    m.add_argument("model", nargs="?", default="Qwen/Qwen2.5-7B-Instruct")
    m.add_argument("--dtype", default="bfloat16")
    m.add_argument("--context", type=int, default=32768)
    m.add_argument("--batch", type=int, default=1)
    m.add_argument("--gpu-gb", type=float, default=24.0)
    m.add_argument(
        "--gpus", type=int, default=None, dest="n_gpus", help="default: as many as needed"
    )
    m.add_argument("--prefill-chunk", type=int, default=None, help="tokens per prefill pass")
    m.set_defaults(handler=cli_plan)


def cli_build_standins(args: Any) -> int:
    """``medlab models build-standins [NAMES...] [--force]``."""
    from medlab.models.standins import OPTIONAL, STANDINS, standin_path

    names = list(getattr(args, "names", None) or [n for n in STANDINS if n not in OPTIONAL])
    unknown = [n for n in names if n not in STANDINS]
    if unknown:
        print(
            f"unknown stand-in(s): {', '.join(unknown)}; known: {', '.join(STANDINS)}",
            file=sys.stderr,
        )
        return 2
    for name in names:
        start = time.perf_counter()
        path = standin_path(name, force=bool(getattr(args, "force", False)))
        size = sum(f.stat().st_size for f in path.rglob("*") if f.is_file())
        took = time.perf_counter() - start
        print(f"{name}: {path} ({size / 1e6:.0f} MB, {took:.1f} s)")
    return 0


def cli_plan(args: Any) -> int:
    """``medlab models plan [MODEL] --dtype --context --batch --gpu-gb --gpus --prefill-chunk``."""
    from medlab.models.memory import plan_memory

    plan = plan_memory(
        args.model,
        dtype=args.dtype,
        context_tokens=args.context,
        batch=args.batch,
        gpu_gb=args.gpu_gb,
        n_gpus=getattr(args, "n_gpus", None),
        prefill_chunk_tokens=getattr(args, "prefill_chunk", None),
    )
    print(plan)
    return 0
