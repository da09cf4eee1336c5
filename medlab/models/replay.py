"""A backend that answers from a recorded run instead of generating: re-score old answers
with today's metrics, or rebuild a report, without a model or a GPU.

``load_model("replay:runs/<run_id>")`` returns the recorded completion (text, token counts,
original timings, cached flag) of the sample whose messages match the conversation exactly.
A conversation the run never answered is an error that names it: replay never invents text.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from medlab.types import Completion, GenerationParams, Message, as_conversation


def _key(conversation: list[Message]) -> str:
    return json.dumps([m.to_dict() for m in conversation], ensure_ascii=False, sort_keys=True)


class ReplayBackend:
    """Backend protocol over the answers of one recorded run."""

    def __init__(self, run: str | Path, out_dir: str | Path = "runs", name: str | None = None):
        from medlab.manifest import read_manifest
        from medlab.runfiles import read_samples, run_dir

        path = run_dir(run, out_dir)
        samples = path / "samples.jsonl"
        if not samples.exists():
            raise FileNotFoundError(f"{samples}: no recorded samples to replay")
        self.path = path
        self.manifest = read_manifest(path)
        model = self.manifest.model if self.manifest else {}
        self.name = name or f"replay:{path.name}"
        self.fingerprint = f"replay:{model.get('fingerprint', path.name)}"
        self.context_length = int(model.get("context_length") or 1 << 20)
        self.batch_size = 64
        self._answers: dict[str, list[Completion]] = {}
        for rec in read_samples(samples, repair=True):
            if rec.error is None:
                self._answers.setdefault(_key(as_conversation(rec.messages)), []).append(
                    rec.completion
                )

    def generate(
        self,
        conversations: list[Any],
        params: GenerationParams | None = None,
        schema: dict[str, Any] | None = None,
    ) -> list[Completion]:
        """The recorded answers, in order. With several repeats of the same conversation,
        ``params.seed`` picks among them (seed 0 -> first recorded, ...)."""
        seed = params.seed if params else 0
        out = []
        for conv in conversations:
            found = self._answers.get(_key(as_conversation(conv)))
            if not found:
                last = as_conversation(conv)[-1].content[:80]
                raise LookupError(
                    f"{self.path}: no recorded answer for the conversation ending {last!r}"
                )
            out.append(found[seed % len(found)])
        return out

    def count_tokens(self, conversation: list[Any]) -> int:
        found = self._answers.get(_key(as_conversation(conversation)))
        if found:
            return found[0].prompt_tokens
        return sum(len(m.content) for m in as_conversation(conversation))

    def info(self) -> dict[str, Any]:
        return {"name": self.name, "fingerprint": self.fingerprint, "replayed_run": str(self.path),
                "original_model": self.manifest.model if self.manifest else {}}  # fmt: skip
