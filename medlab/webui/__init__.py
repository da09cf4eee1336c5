"""The web page of the guarded chatbot: ``medlab serve`` at ``/webui``.

A plain HTML/CSS/JavaScript page shipped in the package (``medlab/webui/static``: no build
step, no CDN, works offline). It talks to the same ``/v1/chat/completions`` endpoint as any
client (streamed, with the API key when the server has one) and shows, under each answer, what
the guard found: the server adds them to the response's non-standard ``medlab`` field
(``findings``), which OpenAI clients ignore.

``install(app, bot, served_name)`` adds ``/`` (a redirect), ``/webui`` (the page),
``/webui/static/*`` (its script and style) and ``/webui/config`` (model, published prompt
variants, default parameters). Every page response carries a strict Content-Security-Policy:
scripts and styles from this server only, no inline script, no framing; the script inserts
model text as text, never as HTML.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from fastapi import FastAPI, Request
from fastapi.responses import FileResponse, RedirectResponse
from fastapi.staticfiles import StaticFiles

from medlab.metrics.drugs import drug_mentions
from medlab.metrics.referral import referral_level
from medlab.prompts import list_prompts, load_prompt
from medlab.types import GenerationParams, Message
from medlab.validate import answer_text, parse_json

STATIC = Path(__file__).parent / "static"
CSP = (
    "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
    "connect-src 'self'; font-src 'self'; base-uri 'none'; form-action 'none'; "
    "frame-ancestors 'none'"
)
HEADERS = {
    "Content-Security-Policy": CSP,
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",
    "X-Frame-Options": "DENY",
}


class _Static(StaticFiles):
    """The page's script and style, with the page's security headers."""

    async def get_response(self, path: str, scope: Any) -> Any:
        response = await super().get_response(path, scope)
        response.headers.update(HEADERS)
        return response


def install(app: FastAPI, bot: Any = None, served_name: str = "qwen2.5-7b-chat") -> None:
    """Serve the page on ``app``: ``bot`` is the server's ``MedicalChatbot`` (None: ``--raw``)."""

    @app.get("/", include_in_schema=False)
    async def root() -> RedirectResponse:
        return RedirectResponse("/webui")

    @app.get("/webui", include_in_schema=False)
    @app.get("/webui/", include_in_schema=False)
    async def page() -> FileResponse:
        return FileResponse(STATIC / "index.html", media_type="text/html", headers=HEADERS)

    @app.get("/webui/config", include_in_schema=False)
    async def config(request: Request) -> dict[str, Any]:
        params = bot.params if bot is not None else GenerationParams()
        return {
            "model": served_name,
            "mode": "chatbot" if bot is not None else "raw",
            "default_mode": bot.mode if bot is not None else "normal",
            "prompt": bot.prompt.ref if bot is not None else None,
            "prompts": prompt_choices(bot.prompt.ref if bot is not None else None),
            "params": {
                "temperature": params.temperature,
                "top_p": params.top_p,
                "max_new_tokens": params.max_new_tokens,
            },
            "context_length": app.state.model.context_length,
        }

    app.mount("/webui/static", _Static(directory=STATIC), name="webui-static")


def prompt_choices(default: str | None) -> list[dict[str, str]]:
    """The published consultation prompts (the chatbot's own first), for the variant picker."""
    found = [
        p
        for p in list_prompts()
        if (p.published and p.schema in (None, "consultation")) or p.ref == default
    ]
    found.sort(key=lambda p: (p.ref != default, p.name, -p.version))
    return [
        {"ref": p.ref, "language": p.language, "description": p.meta.get("description", "")}
        for p in found
    ]


def chatbot_for_prompt(bot: Any, ref: str) -> Any:
    """The same chatbot (model, mode, parameters, cache, knowledge base) with another prompt.
    Raises ``PromptNotFoundError`` for an unknown reference."""
    from medlab.chatbot import MedicalChatbot

    prompt = load_prompt(ref)
    if prompt.ref == bot.prompt.ref:
        return bot
    return MedicalChatbot(
        bot.model,
        prompt=prompt,
        mode=bot.mode,
        params=bot.params,
        cache=bot.cache,
        knowledge=bot.knowledge if bot.knowledge is not None else False,
        max_history_tokens=bot.max_history_tokens,
        ground=bot.ground,
        client_system=bot.client_system,
    )


def _kind(kind: str, echo: bool) -> str:
    """The page's four kinds: class (allowed), echoed (the user named it first), specific
    (a generic or brand name), invented (a drug-like name in no lexicon)."""
    if kind == "class":
        return "class"
    if echo:
        return "echoed"
    return "invented" if kind == "fabricated" else "specific"


def mentions(text: str, question: str | None) -> list[dict[str, Any]]:
    """Drug mentions of ``text`` with code-point offsets, in the page's kinds."""
    return [
        {
            "start": m.start,
            "end": m.end,
            "text": m.text,
            "kind": _kind(m.kind, m.echo),
            "detail": m.kind,
            "canonical": m.canonical,
        }
        for m in drug_mentions(text, question)
    ]


def _mirror(value: Any, question: str | None) -> Any:
    """``value`` with every string replaced by its drug mentions (same nesting)."""
    if isinstance(value, str):
        return mentions(value, question)
    if isinstance(value, list):
        return [_mirror(v, question) for v in value]
    if isinstance(value, dict):
        return {k: _mirror(v, question) for k, v in value.items()}
    return None


def _violations(items: list[Any]) -> list[dict[str, str]]:
    return [{"code": v.code, "path": v.path, "message": v.message} for v in items]


def findings(
    result: Any, messages: list[Message], params: GenerationParams, mode: str, bot: Any = None
) -> dict[str, Any]:
    """What the page shows under an answer: ``result`` is the chatbot's ``Answer`` (``bot``
    given) or a raw backend's ``Completion``. Mentions in ``drug_mentions`` index the answer
    text (echoes: drugs the last user message named); ``data_mentions`` mirror the parsed JSON
    answer (structured mode); ``rejected`` holds the answers the post-check turned down (the
    first one when repaired, both when the fallback answered) with their mentions."""
    question = next((m.content for m in reversed(messages) if m.role == "user"), None)
    text = result.text
    data = getattr(result, "data", None)
    if data is None and mode == "structured":
        parsed = parse_json(text)
        data = parsed.value if parsed.ok_lenient else None
    completions = getattr(result, "completions", None) or [result]
    found = {
        "prompt": bot.prompt.ref if bot is not None else None,
        "mode": mode,
        "params": {
            "temperature": params.temperature,
            "top_p": params.top_p,
            "max_new_tokens": params.max_new_tokens,
            "seed": params.seed,
        },
        "drug_mentions": mentions(text, question),
        "data": data,
        "data_mentions": _mirror(data, question) if data is not None else None,
        "timings": {
            "model_ttft_s": completions[0].ttft_s,
            "model_s": sum(c.latency_s for c in completions),
            "generations": len(completions),
        },
    }
    if bot is None:
        found["referral_level"] = referral_level(
            answer_text(data if data is not None else text), question
        )
        return found
    # the answers the guard did not let through, as the model wrote them
    rejected = completions[:-1] if result.repaired else completions if result.fallback else []
    return found | {
        "rejected": [
            {"text": c.text, "drug_mentions": mentions(c.text, question)} for c in rejected
        ],
        "violation_details": _violations(result.violations),
        "repair_violation_details": _violations(result.repair_violations),
        "kb_flag_details": [f.to_dict() for f in result.kb_flags],
    }
