"""Per-step decoding hooks of the transformers backend: seeded sampling, a padding-blind
repetition penalty, and the step tracker that times each sequence and decides where it ends.

They plug into ``model.generate`` as logits processors and a stopping criterion. Each acts on
every row of a left-padded batch independently, so an answer does not depend on the other
prompts of its batch: batched greedy output equals one-by-one output, and a sampled answer
depends only on (conversation, seed).
"""

from __future__ import annotations

import hashlib
import time
from typing import Any

import torch
from transformers import LogitsProcessor, StoppingCriteria


def row_seed(seed: int, prompt_ids: list[int]) -> int:
    digest = hashlib.sha256(f"{seed}:{','.join(map(str, prompt_ids))}".encode()).digest()
    return int.from_bytes(digest[:8], "little") & (2**63 - 1)


class RepetitionPenalty(LogitsProcessor):
    """transformers' repetition penalty, but blind to left padding (batched == one by one)."""

    def __init__(self, penalty: float, pad_lengths: torch.Tensor):
        self.penalty = penalty
        self.pad_lengths = pad_lengths

    def __call__(self, input_ids: torch.LongTensor, scores: torch.FloatTensor) -> torch.FloatTensor:
        positions = torch.arange(input_ids.shape[1], device=input_ids.device)
        padded = positions[None, :] < self.pad_lengths[:, None]
        first_real = input_ids.gather(1, self.pad_lengths[:, None])
        ids = torch.where(padded, first_real, input_ids)  # a pad slot repeats a real token
        picked = scores.gather(1, ids)
        picked = torch.where(picked < 0, picked * self.penalty, picked / self.penalty)
        return scores.scatter(1, ids, picked)


class SeededSampler(LogitsProcessor):
    """Temperature + top-p sampling, one generator per sequence; marks the drawn token.

    Avoids sorting the 150k-token vocabulary (0.7 s per step for a batch of 16 on one CPU
    thread): the nucleus is looked for among the top 256 tokens, which holds it for a trained
    model at usual temperatures. Otherwise (near-flat distributions, e.g. random weights) a
    token is drawn from the whole distribution and kept if it lies in the nucleus (the tokens
    more probable than it hold less than top_p), which is exact and takes ~1/top_p draws. The
    drawn token's score is set to +inf so that transformers' greedy step picks it.
    """

    TOP_K = 256
    MAX_DRAWS = 32  # then the most probable token, which is always in the nucleus

    def __init__(self, temperature: float, top_p: float, seeds: list[int]):
        self.temperature, self.top_p, self.seeds = temperature, top_p, seeds
        self.generators: list[torch.Generator] | None = None

    def _uniform(self, rows: list[int], device: torch.device) -> torch.Tensor:
        if self.generators is None:
            self.generators = [torch.Generator(device=device).manual_seed(s) for s in self.seeds]
        draws = [torch.rand(1, generator=self.generators[r], device=device) for r in rows]
        return torch.cat(draws)

    @staticmethod
    def _draw(cum: torch.Tensor, u: torch.Tensor) -> torch.Tensor:
        picked = torch.searchsorted(cum, (u * cum[:, -1])[:, None], right=True)
        return picked.clamp_(max=cum.shape[1] - 1)[:, 0]

    def _draw_in_nucleus(self, probs: torch.Tensor, rows: list[int], u: torch.Tensor):
        cum = probs.cumsum(-1)
        chosen = probs.argmax(-1)
        pending = torch.arange(len(rows), device=probs.device)
        for attempt in range(self.MAX_DRAWS):
            if attempt:
                u = self._uniform([rows[i] for i in pending.tolist()], probs.device)
            token = self._draw(cum[pending], u)
            p = probs[pending]
            p_token = p.gather(1, token[:, None])
            inside = (p * (p > p_token)).sum(-1) < self.top_p
            chosen[pending[inside]] = token[inside]
            pending = pending[~inside]
            if len(pending) == 0:
                break
        return chosen

    def __call__(self, input_ids: torch.LongTensor, scores: torch.FloatTensor) -> torch.FloatTensor:
        rows = list(range(scores.shape[0]))
        u = self._uniform(rows, scores.device)
        probs = torch.softmax(scores / self.temperature, dim=-1)
        if self.top_p >= 1.0:
            chosen = self._draw(probs.cumsum(-1), u)
        else:
            top, index = probs.topk(min(self.TOP_K, probs.shape[1]), dim=-1)  # descending
            cum = top.cumsum(-1)
            covered = cum[:, -1] >= self.top_p
            top = top.masked_fill(cum - top >= self.top_p, 0.0)  # the smallest set reaching top_p
            chosen = index.gather(1, self._draw(top.cumsum(-1), u)[:, None])[:, 0]
            if not bool(covered.all()):
                wide = (~covered).nonzero()[:, 0]
                chosen[wide] = self._draw_in_nucleus(probs[wide], wide.tolist(), u[wide])
        scores = scores.clone()
        scores[torch.arange(scores.shape[0], device=scores.device), chosen] = float("inf")
        return scores


class StepTracker(StoppingCriteria):
    """Called after each decoding step: timestamps the step and decides which sequences ended."""

    def __init__(self, prompt_width: int, eos_ids: set[int], stop: tuple[str, ...], tokenizer):
        self.prompt_width, self.eos_ids, self.stop, self.tokenizer = (
            prompt_width,
            eos_ids,
            stop,
            tokenizer,
        )
        self.window = 4 * max((len(s) for s in stop), default=0) + 4  # tokens holding a stop string
        self.times: list[float] = []
        self.end_step: dict[int, int] = {}  # row -> index of its last new token
        self.reason: dict[int, str] = {}

    def __call__(self, input_ids: torch.LongTensor, scores: Any, **kwargs: Any) -> torch.BoolTensor:
        last = input_ids[:, -1].tolist()  # reading the tokens back waits for the device
        self.times.append(time.perf_counter())
        step = input_ids.shape[1] - self.prompt_width - 1
        for row, token in enumerate(last):
            if row in self.end_step:
                continue
            if token in self.eos_ids:
                self.end_step[row], self.reason[row] = step, "stop"
            elif self.stop:
                tail = input_ids[row, max(self.prompt_width, input_ids.shape[1] - self.window) :]
                text = self.tokenizer.decode(tail.tolist(), skip_special_tokens=True)
                if any(s in text for s in self.stop):
                    self.end_step[row], self.reason[row] = step, "stop"
        done = [row in self.end_step for row in range(len(last))]
        return torch.tensor(done, dtype=torch.bool, device=input_ids.device)


class StopWhenCancelled(StoppingCriteria):
    """Ends every sequence at the next step once ``check()`` is True (its callers are gone)."""

    def __init__(self, check: Any):
        self.check = check

    def __call__(self, input_ids: torch.LongTensor, scores: Any, **kwargs: Any) -> torch.BoolTensor:
        stop = bool(self.check())
        return torch.full((input_ids.shape[0],), stop, dtype=torch.bool, device=input_ids.device)
