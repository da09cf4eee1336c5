"""Model backends behind one protocol, and ``load_model`` to pick one by name."""

from __future__ import annotations

from typing import Any

from medlab.models.base import Backend


def load_model(name: str, **kwargs: Any) -> Backend:
    """Load a model by name.

    - ``"tiny-qwen2"`` / ``"smollm2-135m"``: offline stand-ins, built on first use;
    - ``"openai:http://host:port/v1"``: an OpenAI-compatible server (vLLM, SGLang, ...); several
      comma-separated URLs spread requests over several servers of the same model;
    - ``"vllm:<stand-in, folder or hub id>"``: medlab starts and owns a ``vllm serve`` process
      (``make vllm`` installs the engine; see ``medlab.models.vllm``);
    - anything else: a hub id or a local folder, loaded in-process with transformers.
    """
    if name.startswith("openai:"):
        from medlab.models.openai import OpenAIBackend

        return OpenAIBackend(name.removeprefix("openai:"), **kwargs)
    if name.startswith("vllm:"):
        from medlab.models.vllm import VLLMBackend

        return VLLMBackend(name.removeprefix("vllm:"), **kwargs)
    if name.startswith("replay:"):
        from medlab.models.replay import ReplayBackend

        return ReplayBackend(name.removeprefix("replay:"), **kwargs)
    from medlab.models.standins import STANDINS, standin_path

    if name in STANDINS:
        from medlab.models.hf import HFBackend

        return HFBackend(str(standin_path(name)), name=name, **kwargs)
    from medlab.models.hf import HFBackend

    return HFBackend(name, **kwargs)


__all__ = ["Backend", "load_model"]
