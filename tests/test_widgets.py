"""ChatPanel driven from Python, as a notebook user would click it (no browser)."""

from __future__ import annotations

import html
import json

from helpers import Scripted

from medlab.chatbot import MedicalChatbot
from medlab.types import GenerationParams
from medlab.widgets import ChatPanel

GOOD = {
    "summary": "可能是普通感冒。",
    "analysis": ["可能是病毒感染。"],
    "suggestions": ["多喝水，注意休息。"],
}


def test_controls_reach_the_model_and_history_shows_the_turn():
    backend = Scripted(GOOD)
    panel = ChatPanel(MedicalChatbot(backend, params=GenerationParams(max_new_tokens=256)))
    assert panel.max_new_tokens.value == 256 and panel.mode.value == "structured"
    panel.temperature.value = 0.7
    panel.top_p.value = 0.5
    panel.max_new_tokens.value = 128
    panel.input.value = "感冒了流鼻涕怎么办"
    panel.send_button.click()
    _, params, schema = backend.calls[0]
    assert (params.temperature, params.top_p, params.max_new_tokens) == (0.7, 0.5, 128)
    assert schema is not None
    assert panel.input.value == ""
    assert "感冒了流鼻涕怎么办" in panel.history.value
    assert html.escape(json.dumps(GOOD, ensure_ascii=False, indent=2)) in panel.history.value
    assert "medlab-violations" not in panel.history.value
    assert len(panel.bot.history) == 2


def test_violations_are_flagged_in_red_and_mode_switch_works():
    backend = Scripted("可以吃布洛芬。", "还是吃阿莫西林。")
    panel = ChatPanel(MedicalChatbot(backend))
    panel.mode.value = "normal"
    answer = panel.send("我爸爸突然口角歪斜")
    assert backend.calls[0][2] is None  # normal mode: no schema
    assert answer.fallback
    block = panel.history.value.split("medlab-violations")[1]
    assert "color:#c0392b" in block and "drug:generic" in block and "fallback" in block


def test_empty_input_does_nothing_and_reset_clears():
    backend = Scripted(GOOD)
    panel = ChatPanel(MedicalChatbot(backend))
    panel.input.value = "   "
    panel.send_button.click()
    assert backend.calls == [] and panel.history.value == ""
    panel.send("头痛")
    panel.reset_button.click()
    assert panel.history.value == "" and panel.bot.history == [] and panel.answers == []


def test_a_failed_send_keeps_the_question_in_the_box():
    class Broken(Scripted):
        def generate(self, conversations, params=None, schema=None):
            raise RuntimeError("server unreachable")

    panel = ChatPanel(MedicalChatbot(Broken()))
    panel.input.value = "头痛三天了"
    panel.send_button.click()
    assert panel.input.value == "头痛三天了"
    assert "server unreachable" in panel.status.value and panel.history.value == ""
