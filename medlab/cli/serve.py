"""``medlab serve``: the chatbot (or the bare model) behind an OpenAI-compatible endpoint."""

from __future__ import annotations

import argparse
from typing import Any

from medlab.cli.options import add_model_args, model_kwargs


def add_parsers(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("serve", help="OpenAI-compatible /v1/chat/completions server")
    add_model_args(p)
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
    p.set_defaults(handler=cli_serve)


def cli_serve(args: argparse.Namespace) -> int:
    """``medlab serve``: load the model, wrap it in the chatbot unless ``--raw``, run uvicorn."""
    import uvicorn

    from medlab.models import load_model
    from medlab.serve import create_app

    model = load_model(args.model, **model_kwargs(args))
    target: Any = model
    if not args.raw:
        from medlab.chatbot import MedicalChatbot

        target = MedicalChatbot(model, prompt=args.prompt)
    app = create_app(
        target,
        served_name=args.served_name,
        api_key=args.api_key,
        max_tokens_cap=args.max_tokens_cap,
        batch_window_s=args.batch_window_ms / 1000,
    )
    uvicorn.run(app, host=args.host, port=args.port, log_level="info")
    return 0
