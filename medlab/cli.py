"""The ``medlab`` command line: a thin layer over the Python API.

Each sub-command's argument parser lives here; its implementation is a ``cli_*`` function in
the module that owns the feature, imported only when that command runs.

Errors: a mistake in what the user gave (a malformed eval set or prompt, an unknown name, a
missing run or file) prints one line ``medlab <command>: <message>`` and exits 2; any other
failure prints one line and exits 1; ``--debug`` shows the traceback instead.
"""

from __future__ import annotations

import argparse
import importlib
import sys
from collections.abc import Sequence
from typing import Any

from medlab.types import GenerationParams


def _model_args(p: argparse.ArgumentParser, default: str = "tiny-qwen2") -> None:
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
    """``load_model`` keyword arguments from the options of ``_model_args``."""
    kw: dict[str, Any] = {"revision": args.revision} if args.revision else {}
    if args.model.startswith("openai:"):
        return kw | ({"model_name": args.model_name} if args.model_name else {})
    kw["dtype"] = args.dtype
    if args.device_map:
        kw["device_map"] = args.device_map
    if args.parallel:
        kw["parallel"] = args.parallel
    return kw


def _gen_args(p: argparse.ArgumentParser) -> None:
    """Generation options, defaulting to ``GenerationParams()`` (the API's defaults)."""
    d = GenerationParams()
    p.add_argument("--temperature", type=float, default=d.temperature)
    p.add_argument("--top-p", type=float, default=d.top_p)
    p.add_argument("--max-new-tokens", type=int, default=d.max_new_tokens)
    p.add_argument("--seed", type=int, default=d.seed)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="medlab", description=__doc__.splitlines()[0])
    sub = parser.add_subparsers(dest="command", required=True)

    p = sub.add_parser("eval", help="evaluate prompt variants x eval sets")
    _model_args(p)
    _gen_args(p)
    p.add_argument(
        "--prompts", required=True, help="comma-separated, e.g. gp_assistant@v1,gp_assistant@v2"
    )
    p.add_argument("--eval-sets", required=True, help="comma-separated names or JSONL paths")
    p.add_argument("--limit", type=int, default=None, help="first N items of each set")
    p.add_argument("--repeats", type=int, default=1)
    p.add_argument("--batch-size", type=int, default=None)
    p.add_argument("--normal", action="store_true", help="free text instead of structured JSON")
    p.add_argument(
        "--cache", default="sqlite", help='"sqlite", "off", a .sqlite path or redis://...'
    )
    p.add_argument("--out", default="runs")
    p.add_argument("--run-id", default=None)
    p.add_argument("--resume", metavar="RUN_ID", default=None, help="continue this run")
    p.add_argument("--json", action="store_true", help="print the summary as JSON (for CI)")
    p.add_argument(
        "--fail-if",
        action="append",
        default=[],
        metavar='"METRIC>VALUE"',
        help="exit 1 when a summary metric crosses the threshold (repeatable)",
    )
    p.add_argument("--allow-errors", action="store_true",
                   help="exit 0 even when some samples failed to generate")  # fmt: skip
    p.add_argument("--allow-edited-prompts", action="store_true",
                   help="evaluate published prompts edited after publication (recorded as edited)")  # fmt: skip
    p.set_defaults(handler="medlab.runner_cli:cli_eval")

    p = sub.add_parser("runs", help="list runs")
    p.add_argument("action", choices=["list"])
    p.add_argument("--out", default="runs")
    p.add_argument("--json", action="store_true")
    p.set_defaults(handler="medlab.runner_cli:cli_runs")

    p = sub.add_parser("compare", help="paired comparison of two variants in a run")
    p.add_argument("run", help="run folder or run id under --out")
    p.add_argument("--a", required=True)
    p.add_argument("--b", required=True)
    p.add_argument("--out", default="runs")
    p.add_argument("--json", action="store_true")
    p.set_defaults(handler="medlab.stats:cli_compare")

    p = sub.add_parser("report", help="write the HTML report of a run")
    p.add_argument("run", help="run folder or run id under --out")
    p.add_argument("--out", default="runs")
    p.set_defaults(handler="medlab.report:cli_report")

    p = sub.add_parser("judge", help="grade a finished run against its items' rubrics")
    p.add_argument("run", help="run folder or run id under --out")
    p.add_argument("--grader", required=True, help="stand-in, hub id, local path or openai:URL")
    p.add_argument("--grader-name", default=None, help="served model name (openai: graders)")
    p.add_argument("--revision", default=None, help="grader revision (goes into its fingerprint)")
    p.add_argument("--prompt", default="rubric_grader@v1", help="grader prompt")
    p.add_argument("--max-new-tokens", type=int, default=64)
    p.add_argument("--limit", type=int, default=None, help="grade the first N answers only")
    p.add_argument("--batch-size", type=int, default=None)
    p.add_argument("--cache", default="sqlite", help='"sqlite", "off", a path or redis://...')
    p.add_argument("--unconstrained", action="store_true", help="no JSON-constrained decoding")
    p.add_argument("--out", default="runs")
    p.add_argument("--json", action="store_true")
    p.set_defaults(handler="medlab.judge:cli_judge")

    p = sub.add_parser("agreement", help="agreement of rules, judge and reviewers on a run")
    p.add_argument("run", help="run folder or run id under --out")
    p.add_argument("--out", default="runs")
    p.add_argument("--json", action="store_true")
    p.set_defaults(handler="medlab.agreement:cli_agreement")

    p = sub.add_parser("chat", help="chat with the chatbot in the terminal")
    _model_args(p)
    _gen_args(p)
    p.add_argument("--prompt", default="gp_assistant")
    p.add_argument("--mode", choices=["structured", "normal"], default="structured")
    p.set_defaults(handler="medlab.chatbot:cli_chat")

    p = sub.add_parser("serve", help="OpenAI-compatible /v1/chat/completions server")
    _model_args(p)
    p.add_argument("--prompt", default="gp_assistant", help="chatbot prompt (ignored with --raw)")
    p.add_argument("--raw", action="store_true", help="serve the bare model, no chatbot pipeline")
    p.add_argument("--host", default="127.0.0.1")
    p.add_argument("--port", type=int, default=8080)
    p.add_argument("--api-key", default=None, help="require this bearer token")
    p.add_argument("--served-name", default="qwen2.5-7b-chat")
    p.add_argument(
        "--max-tokens-cap", type=int, default=1024,
        help="upper bound on the new tokens of one request (default 1024)",
    )  # fmt: skip
    p.add_argument(
        "--batch-window-ms", type=float, default=50.0, help="wait this long to batch requests"
    )
    p.set_defaults(handler="medlab.serve:cli_serve")

    p = sub.add_parser("notebooks", help="execute the notebooks headlessly")
    p.add_argument("action", choices=["run"])
    p.add_argument("--model", default=None)
    p.add_argument("--out", default="runs/notebooks")
    p.add_argument(
        "--only", default=None, help="comma-separated notebook name prefixes, e.g. 01,02"
    )
    p.add_argument("-p", "--param", action="append", default=[], metavar="KEY=VALUE")
    p.set_defaults(handler="medlab.notebooks:cli_notebooks")

    p = sub.add_parser("models", help="stand-in models and the VRAM planner")
    msub = p.add_subparsers(dest="action", required=True)
    b = msub.add_parser("build-standins", help="build the offline stand-in models")
    b.add_argument("names", nargs="*", help="default: all")
    b.add_argument("--force", action="store_true")
    b.set_defaults(handler="medlab.models.standins:cli_build_standins")
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
    m.set_defaults(handler="medlab.models.memory:cli_plan")

    p = sub.add_parser("evalsets", help="list eval sets with counts per label")
    p.add_argument("names", nargs="*")
    p.set_defaults(handler="medlab.evalsets:cli_evalsets")

    p = sub.add_parser("prompts", help="list or diff system prompts")
    p.add_argument("action", choices=["list", "diff", "show"])
    p.add_argument("refs", nargs="*")
    p.set_defaults(handler="medlab.prompts:cli_prompts")
    _add_debug(parser, top=True)
    return parser


def _add_debug(parser: argparse.ArgumentParser, top: bool = False) -> None:
    """``--debug`` before or after the sub-command."""
    parser.add_argument(
        "--debug",
        action="store_true",
        default=False if top else argparse.SUPPRESS,
        help="show the Python traceback of an error",
    )
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            for sub in action.choices.values():
                _add_debug(sub)


USER_ERRORS = (ValueError, LookupError, FileNotFoundError, NotADirectoryError)


def error_line(exc: BaseException) -> str:
    """One line for an exception: its message (a KeyError's without the quotes)."""
    message = exc.args[0] if isinstance(exc, KeyError) and exc.args else str(exc)
    if not isinstance(exc, USER_ERRORS):
        message = f"{type(exc).__name__}: {message}"
    return " ".join(str(message).split()) or type(exc).__name__


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    module, _, attr = args.handler.partition(":")
    try:
        handler = getattr(importlib.import_module(module), attr)
        return int(handler(args) or 0)
    except KeyboardInterrupt:
        if args.debug:
            raise
        print(f"medlab {args.command}: interrupted", file=sys.stderr)
        return 130
    except Exception as exc:
        if args.debug:
            raise
        hint = "" if isinstance(exc, USER_ERRORS) else " (--debug shows the traceback)"
        print(f"medlab {args.command}: {error_line(exc)}{hint}", file=sys.stderr)
        return 2 if isinstance(exc, USER_ERRORS) else 1


if __name__ == "__main__":
    sys.exit(main())
