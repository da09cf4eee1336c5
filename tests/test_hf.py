"""The transformers backend on the random-weight tiny-qwen2 stand-in (1 CPU thread).

Random weights mostly emit newlines under plain greedy decoding, so the equality tests use a
repetition penalty: it pushes the model through many different tokens, which makes "batched
equals one by one" a real comparison rather than newlines against newlines.
"""

from __future__ import annotations

import json

import pytest

from medlab.models.hf import HFBackend, weights_fingerprint
from medlab.types import GenerationParams, Message

QUESTIONS = [
    "头痛三天了怎么办？",
    "Hi",
    "我发烧38.5度，需要去医院吗？还有点咳嗽，喉咙痛，晚上睡不好。",
    "肚子疼",
    "What should I do about a cough that has lasted two weeks?",
    "血压160/100，头晕",
    "孩子半夜哭闹不止，摸着有点热，应该怎么处理比较好呢？需要马上去急诊吗？",
    "ok",
]
CONVERSATIONS = [[{"role": "user", "content": q}] for q in QUESTIONS]
GREEDY = GenerationParams(temperature=0, max_new_tokens=12, repetition_penalty=3.0)


@pytest.fixture(scope="module")
def greedy_batched(tiny_model):
    tiny_model.batch_size = 8
    return tiny_model.generate(CONVERSATIONS, GREEDY)


def test_batched_greedy_equals_one_by_one(tiny_model, greedy_batched):
    one_by_one = [tiny_model.generate([c], GREEDY)[0] for c in CONVERSATIONS]
    assert [c.text for c in greedy_batched] == [c.text for c in one_by_one]
    assert [c.completion_tokens for c in greedy_batched] == [
        c.completion_tokens for c in one_by_one
    ]
    distinct_tokens = {t for c in greedy_batched for t in tiny_model.tokenizer.encode(c.text)}
    assert len(distinct_tokens) > 20  # a comparison of real token streams, not of newlines


def test_chunking_and_length_sorting_keep_input_order(tiny_model, greedy_batched):
    tiny_model.batch_size = 3  # 3 chunks, prompts reordered by length inside generate
    try:
        chunked = tiny_model.generate(CONVERSATIONS, GREEDY)
    finally:
        tiny_model.batch_size = 16
    assert [c.text for c in chunked] == [c.text for c in greedy_batched]
    assert [c.prompt_tokens for c in chunked] == [tiny_model.count_tokens(c) for c in CONVERSATIONS]


def test_timings_and_length_finish(greedy_batched):
    for c in greedy_batched:
        assert c.finish_reason == "length"  # random weights never end within 12 tokens
        assert c.completion_tokens == GREEDY.max_new_tokens
        assert 0 < c.ttft_s <= c.latency_s
        assert c.cached is False


def test_stop_string_cuts_the_answer(tiny_model, greedy_batched):
    full = greedy_batched[0].text
    stop = full[len(full) // 2 :][:2]  # a piece the model does emit, mid-answer
    assert stop and full.index(stop) > 0
    params = GenerationParams(
        temperature=0, max_new_tokens=12, repetition_penalty=3.0, stop=(stop, "never-emitted")
    )
    (stopped,) = tiny_model.generate([CONVERSATIONS[0]], params)
    assert stopped.text == full.split(stop, 1)[0]
    assert stopped.finish_reason == "stop"
    assert stopped.completion_tokens < greedy_batched[0].completion_tokens


def test_seeded_sampling_is_reproducible_and_batch_independent(tiny_model):
    params = GenerationParams(temperature=0.8, top_p=0.9, max_new_tokens=8, seed=7)
    first = tiny_model.generate(CONVERSATIONS[:3], params)
    again = tiny_model.generate(CONVERSATIONS[:3], params)
    alone = tiny_model.generate([CONVERSATIONS[1]], params)
    other_seed = tiny_model.generate(
        CONVERSATIONS[:3], GenerationParams(**{**params.to_dict(), "seed": 8})
    )
    assert [c.text for c in first] == [c.text for c in again]
    assert alone[0].text == first[1].text  # depends on (conversation, seed), not the batch
    assert [c.text for c in other_seed] != [c.text for c in first]


def test_replicas_on_cpu_match_one_copy(tiny_model, greedy_batched):
    two = HFBackend(str(tiny_model.path), name="tiny-qwen2", num_replicas=2, batch_size=2)
    assert two.info()["num_replicas"] == 2 and two.info()["parallel"] == "replicas"
    first, second = (next(m.parameters()) for m in two.replicas)
    assert first.data_ptr() != second.data_ptr()  # two real copies, not one shared model
    assert two.fingerprint == tiny_model.fingerprint
    assert [c.text for c in two.generate(CONVERSATIONS, GREEDY)] == [c.text for c in greedy_batched]


def test_render_count_tokens_and_info(tiny_model):
    conv = [Message("system", "你是全科医生助手。"), Message("user", "头痛")]
    text = tiny_model.render(conv)
    assert text.endswith("<|im_start|>assistant\n")
    assert "<|im_start|>system\n你是全科医生助手。<|im_end|>" in text
    assert tiny_model.count_tokens(conv) == len(tiny_model.tokenizer.encode(text))
    info = tiny_model.info()
    assert info["fingerprint"] == tiny_model.fingerprint
    assert info["dtype"] == "float32" and info["devices"] == ["cpu"]
    assert tiny_model.context_length == tiny_model.model.config.max_position_embeddings


def test_too_long_conversation_is_a_clear_error(tiny_model):
    long = [{"role": "user", "content": "头痛" * tiny_model.context_length}]
    with pytest.raises(ValueError, match=r"conversation 1 takes \d+ prompt tokens.*context of"):
        tiny_model.generate([CONVERSATIONS[0], long], GREEDY)


def test_unknown_model_offline_is_a_clear_error(monkeypatch, tmp_path):
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    monkeypatch.setenv("HF_HUB_CACHE", str(tmp_path))
    with pytest.raises(FileNotFoundError, match="HF_HUB_OFFLINE"):
        HFBackend("medlab-tests/no-such-model")
    with pytest.raises(FileNotFoundError, match="does not exist"):
        HFBackend(str(tmp_path / "missing-folder"))


def test_fingerprint_follows_the_weights(monkeypatch, tmp_path):
    monkeypatch.setenv("MEDLAB_HOME", str(tmp_path / "home"))
    folder = tmp_path / "model"
    folder.mkdir()
    weights = folder / "model.safetensors"
    weights.write_bytes(b"weights v1")
    first = weights_fingerprint(folder)
    assert len(first) == 16 and int(first, 16) >= 0
    assert weights_fingerprint(folder) == first  # remembered, same answer
    weights.write_bytes(b"weights v2")
    assert weights_fingerprint(folder) != first
    weights.unlink()
    with pytest.raises(FileNotFoundError, match="no weight files"):
        weights_fingerprint(folder)


def test_fingerprint_names_the_weights_and_the_dtype(tiny_model):
    import torch

    weights = weights_fingerprint(tiny_model.path)
    assert tiny_model.fingerprint == f"{weights}-float32"
    half = HFBackend(str(tiny_model.path), dtype=torch.bfloat16)
    assert half.fingerprint == f"{weights}-bfloat16" != tiny_model.fingerprint


SOURCE_SHA = "1d9614638d18024d0fbb36575a15f1302a3adf044df10345688ec4f6e1c4ff32"


@pytest.mark.parametrize(
    ("marker", "expected"),
    [
        ({"build_version": 1, "source_sha256": SOURCE_SHA}, "1d9614638d18-b1"),
        ({"build_version": 2, "source_sha256": SOURCE_SHA}, "1d9614638d18-b2"),
        ({"build_version": 1}, None),  # built without a source file (tiny-qwen2)
        ({"build_version": 1, "source_sha256": "not-a-digest"}, None),
        ({"source_sha256": SOURCE_SHA}, None),
        (None, None),  # no marker: an ordinary model folder
        ("{broken json", None),
    ],
)
def test_source_fingerprint_from_the_standin_marker(tmp_path, marker, expected):
    from medlab.models.hf import source_fingerprint
    from medlab.models.standins import MARKER

    if marker is not None:
        text = marker if isinstance(marker, str) else json.dumps(marker)
        (tmp_path / MARKER).write_text(text)
    assert source_fingerprint(tmp_path) == expected


def test_standin_fingerprint_names_the_source_file_not_the_folder(tiny_model, tmp_path):
    from medlab.models.standins import MARKER

    folder = tmp_path / "converted"
    folder.mkdir()
    for f in tiny_model.path.iterdir():
        if f.name != MARKER:
            (folder / f.name).symlink_to(f)
    (folder / MARKER).write_text(json.dumps({"build_version": 3, "source_sha256": SOURCE_SHA}))
    backend = HFBackend(str(folder))
    assert backend.fingerprint == "1d9614638d18-b3-float32"
    assert backend.info()["fingerprint"] == backend.fingerprint
