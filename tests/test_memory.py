"""VRAM planner: Qwen2.5-7B numbers, analytic parameter counts against empty-weight (meta)
models, and layer placement against accelerate's own device-map functions."""

from __future__ import annotations

import json
import logging
from argparse import Namespace

import pytest

from medlab.cli.models import cli_plan
from medlab.models.memory import (
    GB,
    QWEN25_7B_CONFIG,
    Shape,
    dtype_bytes,
    load_config,
    place_layers,
    plan_memory,
)

# accelerate warns "Device 0 is not available" for every GPU id on a machine without GPUs
logging.getLogger("accelerate.utils.modeling").setLevel(logging.ERROR)

SMALL_CONFIGS = {
    "qwen2-tied": dict(model_type="qwen2", hidden_size=64, intermediate_size=128, num_hidden_layers=2,
                       num_attention_heads=4, num_key_value_heads=2, vocab_size=1000, tie_word_embeddings=True),
    "llama-smollm2": dict(model_type="llama", hidden_size=576, intermediate_size=1536, num_hidden_layers=3,
                          num_attention_heads=9, num_key_value_heads=3, vocab_size=4000, tie_word_embeddings=True),
    "llama-bias": dict(model_type="llama", hidden_size=64, intermediate_size=96, num_hidden_layers=2,
                       num_attention_heads=8, num_key_value_heads=8, vocab_size=500, attention_bias=True),
    "qwen3-head-dim": dict(model_type="qwen3", hidden_size=64, intermediate_size=128, num_hidden_layers=2,
                           num_attention_heads=4, num_key_value_heads=2, head_dim=32, vocab_size=800,
                           tie_word_embeddings=False),
}  # fmt: skip


def meta_model(config: dict):
    from accelerate import init_empty_weights
    from transformers import AutoConfig, AutoModelForCausalLM

    kwargs = {k: v for k, v in config.items() if k not in ("model_type", "torch_dtype")}
    with init_empty_weights():
        model = AutoModelForCausalLM.from_config(
            AutoConfig.for_model(config["model_type"], **kwargs)
        )
    model.tie_weights()  # from_pretrained ties embeddings; an empty-weights init does not
    return model


@pytest.fixture(scope="module")
def qwen7b_meta():
    return meta_model(QWEN25_7B_CONFIG)


def expand(device_map: dict, names: list[str]) -> dict[str, int | str]:
    """accelerate collapses a map ("model": 0); give each of our module names its device."""

    def device(name: str) -> int | str:
        prefix = max(
            (k for k in device_map if k == "" or name == k or name.startswith(k + ".")), key=len
        )
        return device_map[prefix]

    return {n: device(n) for n in names}


# ------------------------------------------------------------------------- Qwen2.5-7B facts


def test_qwen25_7b_in_bf16_on_one_24gb_card():
    plan = plan_memory()
    assert plan.params == 7_615_616_512
    assert plan.weights_bytes == 2 * 7_615_616_512 and round(plan.weights_bytes / GB, 1) == 15.2
    assert plan.kv_bytes_per_token == 28 * 2 * 4 * 128 * 2 == 57_344  # 56 KiB
    assert plan.kv_cache_bytes == 57_344 * 32768
    assert plan.gpus_needed == 1 and plan.fits and set(plan.device_map.values()) == {0}
    assert plan.total_bytes <= 24 * GB
    assert plan.max_context_tokens_on_one_gpu >= 32768  # tens of thousands of tokens
    text = str(plan)
    assert "7,615,616,512" in text and "15.23 GB" in text and "56 KiB" in text


@pytest.mark.parametrize(
    ("kwargs", "kv_per_token"),
    [
        ({}, 57_344),
        ({"dtype": "float32"}, 114_688),
        ({"dtype": "int8"}, 57_344),  # 8-bit weights keep a 16-bit KV cache
        ({"kv_dtype": "fp8"}, 28_672),
    ],
)
def test_kv_cache_scales_with_tokens_and_batch(kwargs, kv_per_token):
    plan = plan_memory(context_tokens=1000, batch=3, **kwargs)
    assert plan.kv_bytes_per_token == kv_per_token
    assert plan.kv_cache_bytes == kv_per_token * 1000 * 3


def test_the_longest_context_on_one_gpu_is_where_it_stops_fitting():
    ctx = plan_memory().max_context_tokens_on_one_gpu
    assert plan_memory(context_tokens=ctx).gpus_needed == 1
    assert plan_memory(context_tokens=ctx + 1).gpus_needed > 1


def test_chunked_prefill_needs_less_memory_than_one_pass():
    one_pass = plan_memory(context_tokens=131072)
    chunked = plan_memory(context_tokens=131072, prefill_chunk_tokens=8192)
    assert chunked.activation_bytes < one_pass.activation_bytes
    assert chunked.kv_cache_bytes == one_pass.kv_cache_bytes
    assert 1 < chunked.gpus_needed < one_pass.gpus_needed
    assert chunked.max_context_tokens_on_one_gpu > 100_000


def test_activations_larger_than_a_gpu_fit_on_no_number_of_gpus():
    plan = plan_memory(context_tokens=131072, dtype="float32")
    assert plan.gpus_needed == -1 and not plan.fits and "no number fits" in str(plan)


# ------------------------------------------------------- parameter counts vs. meta models


@pytest.mark.parametrize("name", SMALL_CONFIGS)
def test_analytic_params_match_meta_model(name):
    config = SMALL_CONFIGS[name]
    model = meta_model(config)
    assert Shape.from_config(config).params() == model.num_parameters()


def test_qwen25_7b_module_sizes_match_accelerate(qwen7b_meta):
    import torch
    from accelerate.utils import compute_module_sizes

    assert qwen7b_meta.num_parameters() == 7_615_616_512
    theirs = compute_module_sizes(qwen7b_meta, dtype=torch.bfloat16)
    ours = {n: 2 * p for n, p in Shape.from_config(QWEN25_7B_CONFIG).modules()}
    assert ours == {n: theirs[n] for n in ours}


# ---------------------------------------------------------------- placement vs. accelerate


@pytest.mark.parametrize(
    "max_memory",
    [
        {0: 6 * GB, 1: 6 * GB, 2: 6 * GB, 3: 6 * GB},
        {0: 3 * GB, 1: 8 * GB, 2: 8 * GB},
        {0: 16 * GB, 1: 2 * GB},
        {0: int(4.5 * GB), 1: 5 * GB, 2: 9 * GB},
    ],
)
def test_place_layers_matches_infer_auto_device_map(qwen7b_meta, max_memory):
    import torch
    from accelerate import infer_auto_device_map

    sizes = [(n, 2 * p) for n, p in Shape.from_config(QWEN25_7B_CONFIG).modules()]
    theirs = infer_auto_device_map(
        qwen7b_meta, max_memory=dict(max_memory), no_split_module_classes=["Qwen2DecoderLayer"],
        dtype=torch.bfloat16,
    )  # fmt: skip
    assert place_layers(sizes, max_memory) == expand(theirs, [n for n, _ in sizes])


@pytest.mark.parametrize(("n_gpus", "context"), [(2, 32768), (4, 32768), (3, 65536)])
def test_plan_device_map_is_what_device_map_auto_gives(qwen7b_meta, n_gpus, context):
    """transformers' device_map="auto" = accelerate's balanced budget, then infer_auto_device_map."""
    import torch
    from accelerate.utils import get_balanced_memory, infer_auto_device_map

    plan = plan_memory(context_tokens=context, n_gpus=n_gpus)
    no_split = ["Qwen2DecoderLayer"]
    balanced = get_balanced_memory(
        qwen7b_meta,
        max_memory=dict(plan.max_memory),
        no_split_module_classes=no_split,
        dtype=torch.bfloat16,
    )
    assert balanced == plan.max_memory
    theirs = infer_auto_device_map(
        qwen7b_meta, max_memory=balanced, no_split_module_classes=no_split, dtype=torch.bfloat16
    )
    assert plan.device_map == expand(theirs, list(plan.device_map))
    assert set(plan.device_map.values()) == set(range(n_gpus)) and plan.fits


# ----------------------------------------------------------------------- inputs and the CLI


def test_load_config_from_a_folder_and_a_transformers_config(tmp_path):
    (tmp_path / "config.json").write_text(json.dumps(SMALL_CONFIGS["qwen2-tied"]))
    assert load_config(str(tmp_path))[1]["hidden_size"] == 64
    assert (
        plan_memory(tmp_path / "config.json").params
        == Shape.from_config(SMALL_CONFIGS["qwen2-tied"]).params()
    )
    from transformers import Qwen2Config

    config = Qwen2Config(
        **{k: v for k, v in QWEN25_7B_CONFIG.items() if k not in ("model_type", "torch_dtype")}
    )
    assert plan_memory(config).params == 7_615_616_512


@pytest.mark.parametrize(
    ("call", "error", "match"),
    [
        (lambda: plan_memory("no/such-model"), FileNotFoundError, "no/such-model"),
        (lambda: plan_memory(dtype="float13"), ValueError, "float13"),
        (lambda: plan_memory(batch=0), ValueError, "batch"),
    ],
)
def test_bad_input_is_a_clear_error(call, error, match):
    with pytest.raises(error, match=match):
        call()


@pytest.mark.parametrize(
    ("dtype", "nbytes"), [("bf16", 2), ("torch.float32", 4), ("float16", 2), ("int4", 0.5)]
)
def test_dtype_bytes(dtype, nbytes):
    assert dtype_bytes(dtype) == nbytes


def test_cli_plan_prints_the_table(capsys):
    args = Namespace(model="Qwen/Qwen2.5-7B-Instruct", dtype="bfloat16", context=32768, batch=1,
                     gpu_gb=24.0, n_gpus=4, prefill_chunk=None)  # fmt: skip
    assert cli_plan(args) == 0
    out = capsys.readouterr().out
    assert "15.23 GB" in out and "GPUs needed: 1" in out and "GPU 3:" in out
