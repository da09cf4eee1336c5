"""The real Qwen2.5 stand-in (``qwen2.5-0.5b``, Qwen2.5-Coder-0.5B-Instruct converted from GGUF):
its tokenizer and chat template, constrained JSON, batching and the chatbot's repair path on
real Chinese answers. The model is loaded once; answers are kept short (1 CPU thread)."""

from __future__ import annotations

import copy

import pytest

from medlab.chatbot import MedicalChatbot
from medlab.evalsets import load_items
from medlab.schemas import CONSULTATION
from medlab.types import GenerationParams, Message
from medlab.validate import parse_json, validate_answer

pytestmark = pytest.mark.slow

GREEDY = GenerationParams(temperature=0.0, max_new_tokens=12, seed=0)


@pytest.fixture(scope="module")
def qwen():
    import torch

    torch.set_num_threads(1)
    from medlab.models import load_model

    return load_model("qwen2.5-0.5b")


@pytest.fixture(scope="module")
def system() -> Message:
    """A short system prompt asking for the consultation JSON: the prompt tokens of 20 answers
    on one CPU core cost more than their answers, and constraining does not need the rules."""
    return Message(
        "system",
        '你是全科医生助手。只输出一个 JSON 对象：{"summary": "总结", "analysis": ["分析"], '
        '"suggestions": ["建议"]}',
    )


@pytest.fixture(scope="module")
def questions() -> list[list[Message]]:
    """20 real questions of triage_zh, each as a one-turn conversation."""
    return [it.messages for it in load_items("triage_zh", limit=20)]


# ------------------------------------------------------------ tokenizer and chat template


CONVERSATIONS = [
    [
        {"role": "system", "content": "你是全科医生助手。"},
        {"role": "user", "content": "发烧怎么办？"},
    ],
    [{"role": "user", "content": "头痛三天了，体温38.5℃，需要去医院吗？"}],  # default system prompt
    [
        {"role": "system", "content": "只输出 JSON。"},
        {"role": "user", "content": "我咳嗽一周了。"},
        {"role": "assistant", "content": '{"summary": "可能是感冒后咳嗽。"}'},
        {"role": "user", "content": "晚上更厉害，要拍片吗？ Take 2 tablets (500 mg)?"},
    ],
]


@pytest.mark.parametrize("conversation", CONVERSATIONS, ids=["system", "default-system", "turns"])
def test_converted_template_renders_like_tiny_qwen2(qwen, tiny_model, conversation):
    assert qwen.render(conversation) == tiny_model.render(conversation)
    assert qwen._encode(conversation) == tiny_model._encode(conversation)


def test_converted_tokenizer_is_the_qwen25_vocabulary(qwen, tiny_model):
    assert qwen.tokenizer.get_vocab() == tiny_model.tokenizer.get_vocab()
    assert qwen.eos_ids == tiny_model.eos_ids == {151643, 151645}
    assert qwen.info()["parameters"] > 400_000_000  # the real 0.5B, not a random toy


# -------------------------------------------------------------------------- real answers


def _bounded(schema: dict, summary: int, item: int) -> dict:
    """The consultation schema with tighter bounds, so that every answer fits a small token
    budget; an answer valid under it is valid under the consultation schema too."""
    tight = copy.deepcopy(schema)
    tight["properties"]["summary"]["maxLength"] = summary
    for key in ("analysis", "suggestions"):
        tight["properties"][key]["maxItems"] = 1
        tight["properties"][key]["items"]["maxLength"] = item
    return tight


def test_constrained_decoding_gives_valid_consultation_json_on_20_real_answers(
    qwen, system, questions
):
    schema = _bounded(CONSULTATION, summary=12, item=8)
    params = GenerationParams(temperature=0.0, max_new_tokens=48, seed=0)
    answers = qwen.generate([[system, *q] for q in questions], params, schema=schema)
    assert len(answers) == 20
    for answer in answers:
        assert answer.finish_reason == "stop", answer.text
        assert validate_answer(answer.text, "consultation") == [], answer.text
        assert parse_json(answer.text).ok_strict
    # real Chinese content, not a template: the summaries differ from one question to another
    assert len({parse_json(a.text).value["summary"] for a in answers}) >= 15
    assert all(any("\u4e00" <= ch <= "\u9fff" for ch in a.text) for a in answers)


def test_batched_greedy_equals_one_by_one(qwen, system, questions):
    # prompts of different lengths, so the batch is left-padded
    conversations = [[system, *questions[i]] for i in (0, 3, 5)]
    assert len({qwen.count_tokens(c) for c in conversations}) == 3
    batched = qwen.generate(conversations, GREEDY)
    size = qwen.batch_size
    qwen.batch_size = 1
    try:
        alone = qwen.generate(conversations, GREEDY)
    finally:
        qwen.batch_size = size
    assert [c.text for c in batched] == [c.text for c in alone]
    assert [c.completion_tokens for c in batched] == [c.completion_tokens for c in alone]
    assert all(c.text.strip() for c in batched)


class FirstAnswerUnconstrained:
    """The real model; its first answer is generated without the schema (as an endpoint in
    plain JSON mode answers: the model's own, malformed JSON), every later request with it."""

    def __init__(self, inner):
        self.inner, self.calls = inner, 0
        self.name, self.fingerprint = inner.name, f"{inner.fingerprint}-first-unconstrained"
        self.context_length = inner.context_length

    def generate(self, conversations, params=None, schema=None):
        self.calls += 1
        return self.inner.generate(conversations, params, schema=schema if self.calls > 1 else None)

    def count_tokens(self, conversation):
        return self.inner.count_tokens(conversation)

    def info(self):
        return self.inner.info()


def test_repair_fixes_a_real_malformed_answer(qwen, questions):
    # triage_zh-0001 (crushing chest pain): the model wraps its JSON in a code fence
    params = GenerationParams(temperature=0.0, max_new_tokens=48, seed=0)
    bot = MedicalChatbot(
        FirstAnswerUnconstrained(qwen), prompt="gp_assistant@v1", params=params, knowledge=False
    )
    answer = bot.respond(questions[0], schema=_bounded(CONSULTATION, summary=12, item=8))
    first = answer.completions[0].text
    assert answer.violations and not parse_json(first).ok_strict, first  # really malformed
    assert answer.repaired and not answer.fallback and answer.repair_violations == []
    assert answer.completions[1].text == answer.text
    assert validate_answer(answer.text, "consultation") == []
    assert answer.data["summary"] and answer.referral_level in {
        "emergency",
        "routine",
        "conditional",
        "none",
    }
