"""In-notebook chat panel (ipywidgets) over a ``MedicalChatbot``.

The panel mirrors the reference web UI: a message box and Send button, the conversation so far,
temperature / top_p / max_new_tokens sliders and a normal / structured switch. Structured answers
are shown as pretty-printed JSON; post-check violations, repairs, fallbacks and knowledge-base
flags are shown in red under the answer they concern.
"""

from __future__ import annotations

import html
import json
from typing import Any

import ipywidgets as w

from medlab.types import GenerationParams

RED = "#c0392b"


class ChatPanel:
    """``ChatPanel(bot).display()`` in a notebook cell; ``send(text)`` does what the button does."""

    def __init__(self, bot: Any):
        self.bot = bot
        p = bot.params
        self.input = w.Textarea(
            placeholder="输入问题 / your question", layout=w.Layout(width="100%")
        )
        self.send_button = w.Button(description="Send", button_style="primary")
        self.reset_button = w.Button(description="Reset")
        self.temperature = w.FloatSlider(
            value=p.temperature, min=0.0, max=2.0, step=0.05, description="temperature"
        )
        self.top_p = w.FloatSlider(value=p.top_p, min=0.05, max=1.0, step=0.05, description="top_p")
        self.max_new_tokens = w.IntSlider(
            value=p.max_new_tokens,
            min=1,
            max=max(4096, p.max_new_tokens),
            step=1,
            description="max_new_tokens",
        )
        self.mode = w.ToggleButtons(
            options=["structured", "normal"], value=bot.mode, description="mode"
        )
        self.history = w.HTML(value="")
        self.status = w.HTML(value="")
        self.answers: list[Any] = []
        self.send_button.on_click(self._on_send)
        self.reset_button.on_click(self._on_reset)
        controls = w.VBox([self.temperature, self.top_p, self.max_new_tokens, self.mode])
        self.widget = w.VBox(
            [
                self.history,
                self.input,
                w.HBox([self.send_button, self.reset_button]),
                self.status,
                controls,
            ]
        )

    def params(self) -> GenerationParams:
        """Generation settings as the sliders show them (the bot's other settings kept)."""
        p = self.bot.params
        return GenerationParams(
            temperature=self.temperature.value,
            top_p=self.top_p.value,
            max_new_tokens=int(self.max_new_tokens.value),
            seed=p.seed,
            stop=p.stop,
            repetition_penalty=p.repetition_penalty,
        )

    def send(self, text: str) -> Any:
        """Ask the bot with the current controls and add the turn to the history."""
        self.bot.mode = self.mode.value
        self.bot.params = self.params()
        self.status.value = "<i>thinking…</i>"
        try:
            answer = self.bot.ask(text)
        except Exception as e:  # show the error in the panel instead of losing it in the log
            self.status.value = f'<span style="color:{RED}">error: {html.escape(str(e))}</span>'
            raise
        self.answers.append(answer)
        self.history.value += _render_turn(text, answer)
        self.status.value = ""
        return answer

    def _on_send(self, _button: Any = None) -> None:
        text = self.input.value.strip()
        if not text:
            return
        try:
            self.send(text)
        except Exception:  # the question stays in the box, the error shows in the panel
            return
        self.input.value = ""

    def _on_reset(self, _button: Any = None) -> None:
        self.bot.reset()
        self.answers = []
        self.history.value = ""

    def display(self) -> None:
        from IPython.display import display

        display(self.widget)

    def _ipython_display_(self) -> None:
        self.display()


def _render_turn(question: str, answer: Any) -> str:
    if answer.data is not None:
        shown = json.dumps(answer.data, ensure_ascii=False, indent=2)
    else:
        shown = answer.text
    parts = [
        f'<div class="medlab-user"><b>you:</b> {html.escape(question)}</div>',
        f'<pre class="medlab-answer" style="white-space:pre-wrap">{html.escape(shown)}</pre>',
    ]
    notes = [f"referral: {answer.referral_level}", f"{answer.latency_s:.2f} s"]
    notes += ["cached"] * bool(answer.cached)
    parts.append(f'<div class="medlab-meta" style="color:#666">{" · ".join(notes)}</div>')
    flags = [f"violation {v.code} at {v.path}: {v.message}" for v in answer.violations]
    if answer.repaired:
        flags.append("answer repaired after the violations above")
    if answer.fallback:
        flags.append("repair failed too: safe fallback answer shown")
    flags += [f"knowledge base: {f.reason}" for f in answer.kb_flags]
    if flags:
        items = "".join(f"<li>{html.escape(f)}</li>" for f in flags)
        parts.append(f'<ul class="medlab-violations" style="color:{RED}">{items}</ul>')
    return f'<div class="medlab-turn">{"".join(parts)}</div><hr>'


__all__ = ["ChatPanel"]
