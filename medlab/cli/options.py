"""Options shared by several commands: which model to load and how to generate."""

from __future__ import annotations

import argparse
from typing import Any

from medlab.types import GenerationParams


def add_model_args(p: argparse.ArgumentParser, default: str = "tiny-qwen2") -> None:
    p.add_argument(
        "--model", default=default, help="stand-in name, hub id, local path or openai:URL"
    )
    p.add_argument("--model-name", default=None, help="served model name (openai: backends)")
    p.add_argument("--device-map", default=None, help='e.g. "auto" to spread over all GPUs')
    p.add_argument("--parallel", choices=["split", "replicas"], default=None)
    p.add_argument("--dtype", default="auto")
    p.add_argument("--revision", default=None,
                   help="hub revision, or a server model's version (goes into the fingerprint)")  # fmt: skip


def model_kwargs(args: argparse.Namespace) -> dict[str, Any]:
    """``load_model`` keyword arguments from the options of ``add_model_args``."""
    kw: dict[str, Any] = {"revision": args.revision} if args.revision else {}
    if args.model.startswith("openai:"):
        return kw | ({"model_name": args.model_name} if args.model_name else {})
    kw["dtype"] = args.dtype
    if args.device_map:
        kw["device_map"] = args.device_map
    if args.parallel:
        kw["parallel"] = args.parallel
    return kw


def add_gen_args(p: argparse.ArgumentParser) -> None:
    """Generation options, defaulting to ``GenerationParams()`` (the API's defaults)."""
    d = GenerationParams()
    p.add_argument("--temperature", type=float, default=d.temperature)
    p.add_argument("--top-p", type=float, default=d.top_p)
    p.add_argument("--max-new-tokens", type=int, default=d.max_new_tokens)
    p.add_argument("--seed", type=int, default=d.seed)


def gen_params(args: argparse.Namespace) -> GenerationParams:
    """The ``GenerationParams`` of the options of ``add_gen_args``."""
    return GenerationParams(
        temperature=args.temperature,
        top_p=args.top_p,
        max_new_tokens=args.max_new_tokens,
        seed=args.seed,
    )
