"""``medlab evalsets`` and ``medlab prompts``: what eval sets and system prompts there are."""

from __future__ import annotations

import argparse
import sys


def add_parsers(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("evalsets", help="list eval sets with counts per label")
    p.add_argument("names", nargs="*")
    p.set_defaults(handler=cli_evalsets)

    p = sub.add_parser("prompts", help="list or diff system prompts")
    p.add_argument("action", choices=["list", "diff", "show"])
    p.add_argument("refs", nargs="*")
    p.set_defaults(handler=cli_prompts)


def cli_evalsets(args: argparse.Namespace) -> int:
    """``medlab evalsets [NAME ...]``: each set's item count and counts per label."""
    from medlab.evalsets import counts, list_eval_sets

    for name in args.names or list_eval_sets():
        c = counts(name)
        print(f"{name}: {c['n']} items")
        for field, labels in c.items():
            if field == "n":
                continue
            print(f"  {field}: " + ", ".join(f"{k}={v}" for k, v in labels.items()))
    return 0


def cli_prompts(args: argparse.Namespace) -> int:
    """``medlab prompts list | show REF | diff A [B]`` (one ref: diff against its parent)."""
    from medlab.prompts import PromptError, diff_prompts, list_prompts, load_prompt

    try:
        if args.action == "list":
            for p in list_prompts():
                state = "published" if p.published else "draft"
                print(
                    f"{p.ref:<24} {p.language:<3} {p.schema or '-':<15} {p.sha256[:12]}  {p.meta['date']}  {state:<9}  {p.meta['description']}"
                )
        elif args.action == "show":
            for ref in args.refs or ["gp_assistant"]:
                p = load_prompt(ref)
                print(
                    f"# {p.ref}  sha256 {p.sha256}  schema {p.schema}  parent {p.meta['parent']}\n# {p.meta['changelog']}\n"
                )
                print(p.text)
        else:
            if not 1 <= len(args.refs) <= 2:
                print("medlab prompts diff A [B]: one or two prompt references", file=sys.stderr)
                return 2
            a, b = (
                (load_prompt(args.refs[0]).meta["parent"], args.refs[0])
                if len(args.refs) == 1
                else args.refs
            )
            if a is None:
                print(f"{args.refs[0]} has no parent to diff against", file=sys.stderr)
                return 2
            print(diff_prompts(a, b), end="")
    except PromptError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    return 0
