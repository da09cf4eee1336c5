"""VRAM planner: how much GPU memory a decoder-only model needs, and how many GPUs.

Counts parameters analytically from the model config (no weights, no download), then adds the
KV cache (layers x 2 x kv_heads x head_dim x bytes, per token), a prefill activation estimate
and a fixed per-GPU overhead (CUDA context, allocator slack). For several GPUs it places the
layers the way transformers' ``device_map="auto"`` does (accelerate's balanced budget, then its
greedy ``infer_auto_device_map``), so ``plan.device_map`` is what loading would produce with
``max_memory=plan.max_memory``. Sizes are in bytes; GB means 10**9 bytes, GiB 2**30.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

# config.json of Qwen/Qwen2.5-7B-Instruct (the values the planner uses), so no download is needed.
QWEN25_7B_CONFIG: dict[str, Any] = {
    "model_type": "qwen2",
    "hidden_size": 3584,
    "intermediate_size": 18944,
    "num_hidden_layers": 28,
    "num_attention_heads": 28,
    "num_key_value_heads": 4,
    "vocab_size": 152064,
    "max_position_embeddings": 32768,
    "rms_norm_eps": 1e-06,
    "rope_theta": 1000000.0,
    "tie_word_embeddings": False,
    "torch_dtype": "bfloat16",
}
BUILTIN_CONFIGS = {
    "Qwen/Qwen2.5-7B-Instruct": QWEN25_7B_CONFIG,
    "Qwen/Qwen2.5-7B": QWEN25_7B_CONFIG,
}
DTYPE_BYTES = {"float32": 4, "bfloat16": 2, "float16": 2, "float8": 1, "int8": 1, "int4": 0.5}
DTYPE_ALIASES = {"fp32": "float32", "bf16": "bfloat16", "fp16": "float16", "half": "float16",
                 "float": "float32", "fp8": "float8", "float8_e4m3fn": "float8"}  # fmt: skip
GB, GIB = 10**9, 2**30


def dtype_bytes(dtype: Any) -> float:
    """Bytes per element of a dtype name ("bfloat16", "bf16", ...) or a torch.dtype."""
    name = str(dtype).removeprefix("torch.").lower()
    name = DTYPE_ALIASES.get(name, name)
    if name not in DTYPE_BYTES:
        raise ValueError(f"unknown dtype {dtype!r}; known: {', '.join(DTYPE_BYTES)}")
    return DTYPE_BYTES[name]


def load_config(config_or_name: Any) -> tuple[str, dict[str, Any]]:
    """(name, config dict) from a built-in name, a folder / config.json path, a dict or a transformers config."""
    if isinstance(config_or_name, dict):
        return str(config_or_name.get("_name_or_path") or "config"), dict(config_or_name)
    if hasattr(config_or_name, "to_dict"):
        config = config_or_name.to_dict()
        return str(config.get("_name_or_path") or config.get("model_type")), config
    name = str(config_or_name)
    if name in BUILTIN_CONFIGS:
        return name, dict(BUILTIN_CONFIGS[name])
    from medlab.models.standins import STANDINS, standin_path

    path = standin_path(name) if name in STANDINS else Path(name).expanduser()
    path = path / "config.json" if path.is_dir() else path
    if not path.is_file():
        known = ", ".join(BUILTIN_CONFIGS)
        raise FileNotFoundError(f"{name}: no config.json there and not a built-in config ({known})")
    return name, json.loads(path.read_text(encoding="utf-8"))


@dataclass(frozen=True)
class Shape:
    """The numbers of a decoder-only transformer that decide its size."""

    layers: int
    hidden: int
    intermediate: int
    heads: int
    kv_heads: int
    head_dim: int
    vocab: int
    tied: bool
    qkv_bias: bool  # Qwen2: biases on q, k and v
    o_bias: bool  # Llama-style ``attention_bias``: on q, k, v and o
    qk_norm: bool  # Qwen3: RMSNorm on each query and key head

    @classmethod
    def from_config(cls, c: dict[str, Any]) -> Shape:
        c = c.get("text_config") or c
        heads = c["num_attention_heads"]
        kind = c.get("model_type", "")
        return cls(
            layers=c["num_hidden_layers"],
            hidden=c["hidden_size"],
            intermediate=c["intermediate_size"],
            heads=heads,
            kv_heads=c.get("num_key_value_heads") or heads,
            head_dim=c.get("head_dim") or c["hidden_size"] // heads,
            vocab=c["vocab_size"],
            tied=bool(c.get("tie_word_embeddings", False)),
            qkv_bias=kind == "qwen2" or bool(c.get("attention_bias", False)),
            o_bias=kind != "qwen2" and bool(c.get("attention_bias", False)),
            qk_norm=kind == "qwen3",
        )

    def layer_params(self) -> int:
        h, q, kv = self.hidden, self.heads * self.head_dim, self.kv_heads * self.head_dim
        attention = h * q + 2 * h * kv + q * h
        attention += (q + 2 * kv if self.qkv_bias else 0) + (h if self.o_bias else 0)
        norms = 2 * h + (2 * self.head_dim if self.qk_norm else 0)
        return attention + 3 * h * self.intermediate + norms

    def modules(self) -> list[tuple[str, int]]:
        """Top-level modules in load order with their parameter counts (as accelerate sees them)."""
        embed = self.vocab * self.hidden
        mods = [("model.embed_tokens", embed)]
        mods += [(f"model.layers.{i}", self.layer_params()) for i in range(self.layers)]
        mods += [("model.norm", self.hidden)]
        return mods if self.tied else [*mods, ("lm_head", embed)]

    def params(self) -> int:
        return sum(n for _, n in self.modules())


def place_layers(sizes: list[tuple[str, int]], max_memory: dict[int, int]) -> dict[str, int | str]:
    """Greedy placement as accelerate's ``infer_auto_device_map``: modules in order, each on the
    current GPU while it fits, else the next one; the first GPU keeps room for the largest module
    still to place. What fits nowhere goes to "cpu"."""
    gpus = sorted(max_memory)
    placement: dict[str, int | str] = {}
    used = dict.fromkeys(gpus, 0)
    current = 0
    for i, (name, size) in enumerate(sizes):
        while current < len(gpus):
            gpu = gpus[current]
            reserve = max((s for _, s in sizes[i + 1 :]), default=0) if current == 0 else 0
            if used[gpu] + size <= max_memory[gpu] - reserve:
                placement[name] = gpu
                used[gpu] += size
                break
            current += 1
        else:
            placement[name] = "cpu"
    return placement


def balanced_max_memory(sizes: list[tuple[str, int]], gpu_budget: list[int]) -> dict[int, int]:
    """accelerate's ``get_balanced_memory``: an even share plus 1.25 layers, the last GPU uncapped."""
    share = sum(s for _, s in sizes) // len(gpu_budget)
    buffer = int(1.25 * max(s for n, s in sizes if ".layers." in n))
    caps = {i: min(share + buffer, b) for i, b in enumerate(gpu_budget[:-1])}
    return {**caps, len(gpu_budget) - 1: gpu_budget[-1]}


@dataclass
class MemoryPlan:
    """Bytes needed to serve a model, and where ``device_map="auto"`` puts its modules.

    ``max_memory`` is the per-GPU weight budget to pass to ``load_model``/``from_pretrained`` so
    that the KV cache, activations and overhead still fit next to the weights.
    """

    model: str
    dtype: str
    context_tokens: int
    batch: int
    params: int
    weights_bytes: int
    kv_bytes_per_token: int
    kv_cache_bytes: int
    activation_bytes: int
    overhead_bytes: int
    gpu_bytes: int
    gpus_needed: int
    max_context_tokens_on_one_gpu: int
    n_gpus: int
    max_memory: dict[int, int] = field(default_factory=dict)
    device_map: dict[str, int | str] = field(default_factory=dict)
    per_gpu_bytes: list[int] = field(default_factory=list)

    @property
    def total_bytes(self) -> int:
        """Everything on one GPU: weights + KV cache + activations + overhead."""
        return (
            self.weights_bytes + self.kv_cache_bytes + self.activation_bytes + self.overhead_bytes
        )

    @property
    def fits(self) -> bool:
        return "cpu" not in self.device_map.values() and max(self.per_gpu_bytes) <= self.gpu_bytes

    def __str__(self) -> str:
        def row(label: str, b: float) -> str:
            return f"  {label:<34} {b / GB:>9.2f} GB {b / GIB:>9.2f} GiB"

        kv = f"{self.kv_bytes_per_token:,} B = {self.kv_bytes_per_token / 1024:g} KiB"
        lines = [
            f"{self.model} in {self.dtype}: {self.params:,} parameters",
            f"  KV cache per token: {kv}; context {self.context_tokens:,} tokens x batch {self.batch}",
            row("weights", self.weights_bytes),
            row("KV cache", self.kv_cache_bytes),
            row("activations (prefill estimate)", self.activation_bytes),
            row("overhead (CUDA context, allocator)", self.overhead_bytes),
            row("total on one GPU", self.total_bytes),
            row("GPU size", self.gpu_bytes),
            f"  GPUs needed: {self.gpus_needed if self.gpus_needed > 0 else 'no number fits'}; "
            f"longest context on one GPU at batch {self.batch}: "
            f"{self.max_context_tokens_on_one_gpu:,} tokens",
        ]
        if self.gpus_needed < 0:
            lines.append(
                "  (each GPU of a split model still holds the overhead and the prefill"
                " activations: prefill in chunks, or use larger GPUs)"
            )
        if self.n_gpus > 1:
            lines.append(
                f"  placement on {self.n_gpus} GPUs (device_map='auto', max_memory=plan.max_memory):"
            )
            for gpu, used in enumerate(self.per_gpu_bytes):
                layers = [n for n, d in self.device_map.items() if d == gpu]
                lines.append(row(f"GPU {gpu}: {len(layers)} modules", used))
        return "\n".join(lines)


def plan_memory(
    config_or_name: Any = "Qwen/Qwen2.5-7B-Instruct",
    dtype: Any = "bfloat16",
    context_tokens: int = 32768,
    batch: int = 1,
    gpu_gb: float = 24.0,
    n_gpus: int | None = None,
    overhead_gb: float = 1.0,
    kv_dtype: Any = None,
    prefill_chunk_tokens: int | None = None,
) -> MemoryPlan:
    """Memory needed to serve a model at ``context_tokens`` per sequence x ``batch`` sequences.

    Activations are estimated for prefilling ``prefill_chunk_tokens`` (default: the whole context
    in one forward pass, as transformers does) with memory-efficient attention: per token the MLP
    holds about 3 x intermediate values and the residual stream 4 x hidden. ``n_gpus`` None: as
    many GPUs of ``gpu_gb`` as needed.
    """
    if context_tokens < 0 or batch < 1 or gpu_gb <= 0:
        raise ValueError("context_tokens must be >= 0, batch >= 1 and gpu_gb > 0")
    name, config = load_config(config_or_name)
    shape = Shape.from_config(config)
    wb = dtype_bytes(dtype)
    kvb = dtype_bytes(kv_dtype) if kv_dtype else max(wb, 2)
    sizes = [(n, int(p * wb)) for n, p in shape.modules()]
    weights = sum(s for _, s in sizes)
    kv_layer_token = int(2 * shape.kv_heads * shape.head_dim * kvb)
    kv_token = shape.layers * kv_layer_token
    act_token = int((3 * shape.intermediate + 4 * shape.hidden) * max(wb, 2))
    logits = batch * shape.vocab * 4  # last-token logits in float32
    prefill = min(context_tokens, prefill_chunk_tokens or context_tokens)
    activations = batch * prefill * act_token + logits
    overhead, gpu = int(overhead_gb * GB), int(gpu_gb * GB)
    free_one = gpu - weights - overhead - logits
    per_seq_token = kv_token + (act_token if prefill_chunk_tokens is None else 0)
    chunk_act = 0 if prefill_chunk_tokens is None else batch * prefill_chunk_tokens * act_token
    max_ctx = max(0, (free_one - chunk_act) // (batch * per_seq_token))

    def placement(n: int) -> tuple[dict[int, int], dict[str, int | str], list[int]]:
        # Each GPU keeps room for the activations, the overhead and the KV cache of the layers it
        # holds (an even share); the rest is its weight budget.
        kv_share = batch * context_tokens * kv_token // n
        budget = [max(0, gpu - overhead - activations - kv_share)] * n
        if n == 1:  # one GPU: load with device_map={"": 0}, nothing to reserve for offloading
            max_memory = {0: budget[0]}
            device_map = {m: 0 if weights <= budget[0] else "cpu" for m, _ in sizes}
        else:
            max_memory = balanced_max_memory(sizes, budget)
            device_map = place_layers(sizes, max_memory)
        used = []
        for g in range(n):
            mods = [(m, s) for m, s in sizes if device_map[m] == g]
            n_layers = sum(".layers." in m for m, _ in mods)
            kv = batch * context_tokens * kv_layer_token * n_layers
            used.append(sum(s for _, s in mods) + kv + activations + overhead)
        return max_memory, device_map, used

    def fits(n: int) -> bool:
        _, device_map, used = placement(n)
        return "cpu" not in device_map.values() and max(used) <= gpu

    # More GPUs than layers never helps: each GPU still holds the prefill activations.
    needed = next((n for n in range(1, shape.layers + 1) if fits(n)), -1)
    n = n_gpus or max(needed, 1)
    max_memory, device_map, used = placement(n)
    return MemoryPlan(
        model=name,
        dtype=str(dtype).removeprefix("torch."),
        context_tokens=context_tokens,
        batch=batch,
        params=shape.params(),
        weights_bytes=weights,
        kv_bytes_per_token=kv_token,
        kv_cache_bytes=batch * context_tokens * kv_token,
        activation_bytes=activations,
        overhead_bytes=overhead,
        gpu_bytes=gpu,
        gpus_needed=needed,
        max_context_tokens_on_one_gpu=int(max_ctx),
        n_gpus=n,
        max_memory=max_memory,
        device_map=device_map,
        per_gpu_bytes=used,
    )
