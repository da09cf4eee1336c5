"""MedicalChatbot: history and trimming on the tiny stand-in, the guard pipeline on scripted
answers (the random-weight stand-in cannot be made to write a valid or a drug-naming answer)."""

from __future__ import annotations

import json

import pytest
from helpers import Scripted

from medlab.chatbot import MedicalChatbot
from medlab.types import Completion, GenerationParams, Message, as_conversation

GOOD = {
    "summary": "可能是普通感冒。",
    "analysis": ["症状较轻，可能是病毒感染。"],
    "suggestions": ["多喝水、注意休息。", "如症状持续超过3天请就医。"],
}
DRUG = dict(GOOD, suggestions=["可以吃布洛芬缓解症状。"])
ROUTINE = dict(GOOD, suggestions=["建议到医院就诊。"])
FAST = GenerationParams(temperature=0.3, max_new_tokens=8)


class Recorder:
    """Wraps a backend and keeps every conversation it was asked to answer."""

    def __init__(self, inner):
        self.inner = inner
        self.name, self.fingerprint, self.context_length = (
            inner.name,
            inner.fingerprint,
            inner.context_length,
        )
        self.calls: list[tuple[list[list[Message]], GenerationParams, dict | None]] = []

    def generate(self, conversations, params=None, schema=None):
        self.calls.append(([as_conversation(c) for c in conversations], params, schema))
        return self.inner.generate(conversations, params, schema=schema)

    def count_tokens(self, conversation):
        return self.inner.count_tokens(conversation)

    def info(self):
        return self.inner.info()


@pytest.fixture(scope="module")
def recorded(tiny_model):
    return Recorder(tiny_model)


def test_three_turns_carry_the_earlier_turns(recorded):
    bot = MedicalChatbot(recorded, mode="normal", params=FAST, knowledge=False)
    questions = ["我头痛两天了", "没有发烧", "需要去医院吗？"]
    answers = [bot.ask(q) for q in questions]
    sent = recorded.calls[-1][0][0] if not answers[-1].violations else recorded.calls[-2][0][0]
    assert [m.role for m in sent] == ["system", "user", "assistant", "user", "assistant", "user"]
    assert sent[0].content == bot.prompt.text.rstrip()
    assert [m.content for m in sent if m.role == "user"] == questions
    assert [m.content for m in sent if m.role == "assistant"] == [a.text for a in answers[:2]]
    assert answers[-1].messages == [m.to_dict() for m in sent]
    assert len(bot.history) == 6
    bot.reset()
    assert bot.history == []


def test_history_is_trimmed_to_a_small_budget(tiny_model):
    bot = MedicalChatbot(tiny_model, mode="normal", params=FAST, knowledge=False)
    bot.history = [
        Message("user", "第一个问题：我咳嗽一周了。" * 5),
        Message("assistant", "第一个回答。" * 10),
        Message("user", "第二个问题：晚上更厉害。"),
        Message("assistant", "第二个回答。"),
    ]
    system = Message("system", bot.prompt.text.rstrip())
    last = Message("user", "第三个问题：要拍片吗？")
    keep = [system, *bot.history[2:], last]
    bot.max_history_tokens = tiny_model.count_tokens(keep) + 5  # room for turns 2-3, not turn 1
    trimmed = bot.trim([system, *bot.history, last], bot.budget(FAST))
    assert trimmed == keep
    assert tiny_model.count_tokens(trimmed) <= bot.max_history_tokens
    answer = bot.ask(last.content)
    assert answer.messages == [m.to_dict() for m in keep]
    bot.max_history_tokens = tiny_model.count_tokens([system, last]) - 1
    with pytest.raises(ValueError, match="over the budget"):
        bot.ask(last.content)


def test_default_budget_is_context_minus_answer_tokens(tiny_model):
    bot = MedicalChatbot(tiny_model, params=GenerationParams(max_new_tokens=100), knowledge=False)
    assert bot.budget(bot.params) == tiny_model.context_length - 100


def test_structured_answer_from_the_stand_in_always_parses(recorded):
    bot = MedicalChatbot(recorded, params=GenerationParams(max_new_tokens=12))
    answer = bot.ask("我爸爸突然口角歪斜，说话含糊")
    json.loads(answer.text)  # the model's own JSON, or the fallback when checks failed twice
    first_schema = recorded.calls[-1][2]
    assert first_schema is not None and first_schema["title"] == "consultation"
    if answer.fallback:
        assert answer.violations and answer.repair_violations
        assert "立即就医" in answer.text and answer.referral_level == "emergency"


def test_valid_answer_passes_without_repair():
    backend = Scripted(GOOD)
    bot = MedicalChatbot(backend)
    answer = bot.ask("感冒了流鼻涕怎么办")
    assert (
        answer.data == GOOD
        and answer.violations == []
        and not answer.repaired
        and not answer.fallback
    )
    assert answer.referral_level == "conditional" and answer.kb_flags == []
    assert answer.knowledge_hits[0]["id"] == "common_cold"
    assert len(backend.calls) == 1 and backend.calls[0][2]["title"] == "consultation"


def test_drug_name_triggers_one_repair_that_names_the_violation():
    backend = Scripted(DRUG, GOOD)
    bot = MedicalChatbot(backend)
    answer = bot.ask("感冒了流鼻涕怎么办")
    assert [v.code for v in answer.violations] == ["drug:generic"]
    assert answer.repaired and not answer.fallback and answer.data == GOOD
    repair_conv = backend.calls[1][0][0]
    assert repair_conv[-2] == Message("assistant", json.dumps(DRUG, ensure_ascii=False))
    assert (
        "drug:generic" in repair_conv[-1].content and "$.suggestions[0]" in repair_conv[-1].content
    )
    assert bot.history[-1].content == answer.text  # the delivered answer, not the rejected one


@pytest.mark.parametrize(
    ("question", "level", "phrase"),
    [
        ("我爸爸突然口角歪斜，说话含糊", "emergency", "立即就医"),
        ("感冒了流鼻涕怎么办", "routine", "建议到医院就诊"),
        ("I have chest pain and a cold sweat", "emergency", "ER now"),
        ("I have a runny nose", "routine", "see your GP"),
    ],
)
def test_two_failures_give_the_safe_fallback(question, level, phrase):
    backend = Scripted("not json at all", '{"summary": "缺字段"}')
    answer = MedicalChatbot(backend).ask(question)
    assert answer.fallback and not answer.repaired and len(backend.calls) == 2
    assert [v.code for v in answer.violations] == ["invalid_json"]
    assert answer.repair_violations
    data = json.loads(answer.text)
    assert set(data) == {"summary", "analysis", "suggestions"} and phrase in answer.text
    assert answer.referral_level == level and answer.kb_flags == []


def test_normal_mode_checks_drugs_and_falls_back_to_prose():
    backend = Scripted("可以吃布洛芬。", "还是建议吃阿莫西林。")
    bot = MedicalChatbot(backend, mode="normal")
    answer = bot.ask("我爸爸突然口角歪斜")
    assert backend.calls[0][2] is None and answer.data is None
    assert answer.fallback and answer.text.startswith("您描述的情况可能比较紧急")
    assert answer.referral_level == "emergency"


def test_cross_check_flags_an_under_referred_emergency():
    answer = MedicalChatbot(Scripted(ROUTINE)).ask("我爸爸突然口角歪斜，说话含糊")
    assert answer.referral_level == "routine"
    assert [(f.condition_id, f.required, f.kind) for f in answer.kb_flags] == [
        ("stroke", "emergency", "under_referral")
    ]


def test_cache_answers_a_repeated_question(tmp_path):
    backend = Scripted(GOOD, GOOD)
    bot = MedicalChatbot(backend, cache=str(tmp_path / "cache.sqlite"))
    first = bot.ask("感冒了流鼻涕怎么办")
    bot.reset()
    second = bot.ask("感冒了流鼻涕怎么办")
    assert not first.cached and second.cached and second.text == first.text
    assert len(backend.calls) == 1


def test_grounding_and_caller_system_messages():
    backend = Scripted(GOOD, GOOD, GOOD, GOOD)
    bot = MedicalChatbot(backend, ground=True)
    bot.ask("我爸爸突然口角歪斜")
    system = backend.calls[-1][0][0][0].content
    assert (
        system.startswith(bot.prompt.text.rstrip()) and "参考资料" in system and "脑卒中" in system
    )
    for policy, expect in [("merge", True), ("ignore", False), ("replace", True)]:
        bot = MedicalChatbot(backend, client_system=policy)
        bot.respond(
            [{"role": "system", "content": "请用简短的语言。"}, {"role": "user", "content": "头痛"}]
        )
        system = backend.calls[-1][0][0][0].content
        assert ("请用简短的语言。" in system) is expect
        assert (bot.prompt.text.strip()[:20] in system) is (policy != "replace")


def test_bad_arguments_are_clear():
    with pytest.raises(ValueError, match="mode"):
        MedicalChatbot(Scripted(), mode="json")
    with pytest.raises(ValueError, match="end with a user message"):
        MedicalChatbot(Scripted()).respond([{"role": "assistant", "content": "hi"}])


def test_cli_chat_repl(monkeypatch, capsys, tiny_model):
    from medlab.cli import build_parser
    from medlab.cli.chat import cli_chat

    lines = iter(["感冒了流鼻涕怎么办", "/reset", "/quit"])
    monkeypatch.setattr("builtins.input", lambda prompt="": next(lines))
    monkeypatch.setattr("medlab.models.load_model", lambda name, **kw: tiny_model)  # loaded once
    argv = ["chat", "--model", "tiny-qwen2", "--max-new-tokens", "8", "--mode", "normal"]
    assert cli_chat(build_parser().parse_args(argv)) == 0
    out = capsys.readouterr().out
    assert "gp_assistant@v" in out and "normal mode" in out
    assert out.count("bot> ") == 1 and "referral:" in out and "(history cleared)" in out


def test_repair_keeps_the_question_and_the_rejected_answer_when_trimmed():
    backend = Scripted(DRUG, GOOD)
    bot = MedicalChatbot(backend, knowledge=False)
    bot.history = [Message("user", "以前的问题。" * 40), Message("assistant", "以前的回答。" * 40)]
    question = "感冒了流鼻涕怎么办"
    system = Message("system", bot.prompt.text.rstrip())
    first_answer = Message("assistant", json.dumps(DRUG, ensure_ascii=False))
    # room for the question, the rejected answer and the repair request, not the old turn
    bot.max_history_tokens = backend.count_tokens([system, Message("user", question),
                                                   first_answer]) + 200  # fmt: skip
    answer = bot.ask(question)
    repair_conv = backend.calls[1][0][0]
    assert repair_conv[1] == Message("user", question)  # the old turn went, the question stayed
    assert repair_conv[2] == first_answer and "drug:generic" in repair_conv[3].content
    assert answer.repaired and answer.data == GOOD


def test_no_room_for_a_repair_gives_the_fallback_not_an_error():
    backend = Scripted(DRUG)
    bot = MedicalChatbot(backend, knowledge=False)
    question = "感冒了流鼻涕怎么办"
    system = Message("system", bot.prompt.text.rstrip())
    bot.max_history_tokens = backend.count_tokens([system, Message("user", question)]) + 2
    answer = bot.ask(question)
    assert answer.fallback and len(backend.calls) == 1 and len(answer.completions) == 1


def test_answers_of_a_partly_failed_batch_are_cached_before_the_error(tmp_path):
    from medlab.cache import SQLiteCache
    from medlab.models.base import BatchError

    class HalfFails(Scripted):
        def generate(self, conversations, params=None, schema=None):
            first = Completion(json.dumps(GOOD, ensure_ascii=False), 10, 5, 0.01, 0.02)
            raise BatchError([first, None], [None, "HTTP 503"])

    bot = MedicalChatbot(HalfFails(), cache=SQLiteCache(tmp_path / "c.sqlite"), knowledge=False)
    convs = [[{"role": "user", "content": "感冒了怎么办"}], [{"role": "user", "content": "头痛"}]]
    with pytest.raises(BatchError):
        bot.respond_batch(convs)
    bot.model = Scripted()  # nothing left to answer with: the first must come from the cache
    answer = bot.respond(convs[0])
    assert answer.cached and answer.data == GOOD
