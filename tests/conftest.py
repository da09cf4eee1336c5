"""Shared fixtures: offline by default, one torch thread, stand-in models built once."""

from __future__ import annotations

import os

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("OMP_NUM_THREADS", "1")
os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")

import pytest  # noqa: E402


@pytest.fixture(scope="session")
def tiny_model():
    """The random-weight Qwen2 stand-in with the real Qwen2.5 tokenizer."""
    import torch

    torch.set_num_threads(1)
    from medlab.models import load_model

    return load_model("tiny-qwen2")


@pytest.fixture(scope="session")
def redis_url():
    """URL of a real redis-server (``.ci/run`` starts one); tests skip without it."""
    url = os.environ.get("MEDLAB_TEST_REDIS_URL")
    if not url:
        pytest.skip("MEDLAB_TEST_REDIS_URL not set: no redis-server to talk to")
    return url
