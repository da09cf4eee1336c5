"""``medlab chat``: the chatbot in the terminal."""

from __future__ import annotations

import argparse
import json

from medlab.cli.options import add_gen_args, add_model_args, gen_params, model_kwargs


def add_parsers(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("chat", help="chat with the chatbot in the terminal")
    add_model_args(p)
    add_gen_args(p)
    p.add_argument("--prompt", default="gp_assistant")
    p.add_argument("--mode", choices=["structured", "normal"], default="structured")
    p.set_defaults(handler=cli_chat)


def cli_chat(args: argparse.Namespace) -> int:
    """``medlab chat``: a terminal conversation (``/reset`` clears the history, ``/quit`` ends)."""
    from medlab.chatbot import MedicalChatbot
    from medlab.models import load_model

    model = load_model(args.model, **model_kwargs(args))
    bot = MedicalChatbot(model, prompt=args.prompt, mode=args.mode, params=gen_params(args))
    print(
        f"medlab chat: {model.name}, {bot.prompt.ref}, {bot.mode} mode. /reset clears, /quit ends."
    )
    while True:
        try:
            text = input("you> ").strip()
        except EOFError:
            print()
            return 0
        if text in ("/quit", "/exit"):
            return 0
        if text == "/reset":
            bot.reset()
            print("(history cleared)")
            continue
        if not text:
            continue
        answer = bot.ask(text)
        shown = (
            json.dumps(answer.data, ensure_ascii=False, indent=2) if answer.data else answer.text
        )
        print(f"bot> {shown}")
        notes = [f"referral: {answer.referral_level}", f"{answer.latency_s:.2f}s"]
        notes += (
            ["cached"] * answer.cached
            + ["repaired"] * answer.repaired
            + ["FALLBACK"] * answer.fallback
        )
        notes += [f"violation {v.code} at {v.path}" for v in answer.violations]
        notes += [f"kb: {f.reason}" for f in answer.kb_flags]
        print("     [" + "; ".join(notes) + "]")
