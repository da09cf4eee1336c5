"""The in-process transformers backend: batched generation with honest per-sequence timings.

``HFBackend`` loads a causal LM by hub id or local folder and answers conversations in
batches: prompts are sorted by length (less padding), left-padded, chunked by ``batch_size``
and, with ``parallel="replicas"``, spread over one full model copy per device, one thread per
copy. A stopping-criteria hook runs after every decoding step; it records when each step's
tokens exist (it reads them back, so on a GPU the time includes the device work) and when
each sequence ends (end token, stop string or ``max_new_tokens``). TTFT is measured from the
start of the batch's ``generate`` to the step that produced that sequence's first new token,
latency to the step that produced its last.

Sampling is done here rather than by transformers: each sequence draws from its own
generator seeded from (seed, prompt tokens), so an answer depends on its conversation and the
seed only, not on which other prompts share the batch or on thread scheduling; the repetition
penalty ignores left padding for the same reason. Temperature 0 is greedy decoding. The
model's own ``generation_config`` sampling defaults are not used: ``GenerationParams`` is the
whole sampling specification, as with the OpenAI-compatible backends.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import torch
from transformers import (
    AutoModelForCausalLM,
    AutoTokenizer,
    GenerationConfig,
    LogitsProcessorList,
    StoppingCriteriaList,
)

from medlab.defaults import BATCH_SIZE, medlab_home
from medlab.models.cancel import GenerationCancelled, current_check
from medlab.models.decoding import (
    RepetitionPenalty,
    SeededSampler,
    StepTracker,
    StopWhenCancelled,
    row_seed,
)
from medlab.types import Completion, Conversation, GenerationParams, Message, as_conversation

_DTYPES = {"bfloat16": torch.bfloat16, "float16": torch.float16, "float32": torch.float32}


def resolve_model_folder(path_or_id: str, revision: str | None = None) -> tuple[Path, str | None]:
    """A local folder for the model and the hub commit it came from (None for local folders).

    Looks in the Hugging Face cache first; downloads only when the hub is allowed
    (``HF_HUB_OFFLINE`` unset), and otherwise says how to get the weights.
    """
    path = Path(path_or_id).expanduser()
    if path.is_dir():
        return path.resolve(), None
    if path_or_id.startswith((".", "/", "~")) or path_or_id.count("/") > 1:
        raise FileNotFoundError(f"model folder {path_or_id!r} does not exist")
    from huggingface_hub import snapshot_download

    try:
        folder = snapshot_download(path_or_id, revision=revision, local_files_only=True)
    except Exception as cache_miss:
        offline = os.environ.get("HF_HUB_OFFLINE", "").lower() in ("1", "true", "yes", "on")
        if offline:
            raise FileNotFoundError(
                f"model {path_or_id!r} is not a local folder and is not in the Hugging Face cache, "
                "and HF_HUB_OFFLINE is set. Download it where the hub is reachable "
                f"(`hf download {path_or_id}`) and copy the cache, pass a local folder, or use "
                "an offline stand-in ('tiny-qwen2', 'smollm2-135m')."
            ) from cache_miss
        patterns = ["*.json", "*.safetensors", "*.txt", "*.model", "*.tiktoken", "*.jinja", "*.py"]
        folder = snapshot_download(path_or_id, revision=revision, allow_patterns=patterns)
    folder_path = Path(folder)
    commit = folder_path.name if re.fullmatch(r"[0-9a-f]{40}", folder_path.name) else None
    return folder_path, commit


_WEIGHT_SUFFIXES = (".safetensors", ".bin", ".pt", ".pth", ".gguf")
_OUTPUT_FILES = ("config.json", "generation_config.json", "tokenizer.json", "chat_template.jinja")
_fingerprint_lock = threading.Lock()


def weights_fingerprint(folder: Path) -> str:
    """Short sha256 over the weight files plus config, tokenizer and chat template.

    Hashing 15 GB takes a minute, so the digest is remembered in ``$MEDLAB_HOME`` per
    (path, size, mtime) of the files and recomputed only when one of them changes.
    """
    files = sorted(
        f
        for f in folder.iterdir()
        if f.is_file() and (f.name.endswith(_WEIGHT_SUFFIXES) or f.name in _OUTPUT_FILES)
    )
    if not any(f.name.endswith(_WEIGHT_SUFFIXES) for f in files):
        raise FileNotFoundError(f"no weight files (*.safetensors, *.bin, ...) in {folder}")
    stamp = hashlib.sha256(
        repr([(str(f), f.stat().st_size, f.stat().st_mtime_ns) for f in files]).encode()
    ).hexdigest()
    memo = medlab_home() / "fingerprints" / stamp
    with _fingerprint_lock:
        if memo.is_file():
            return memo.read_text().strip()
        digest = hashlib.sha256()
        for f in files:
            digest.update(f.name.encode() + b"\0")
            with f.open("rb") as fh:
                while chunk := fh.read(1 << 24):
                    digest.update(chunk)
        short = digest.hexdigest()[:16]
        try:
            memo.parent.mkdir(parents=True, exist_ok=True)
            memo.write_text(short)
        except OSError:  # a read-only cache folder only costs the re-hash next time
            pass
        return short


def source_fingerprint(folder: Path) -> str | None:
    """Fingerprint of a stand-in folder converted from a checked source file, else None.

    A stand-in built from a GGUF file (``qwen2.5-0.5b``) records that file's sha256 and the
    build version in its ``medlab-standin.json`` marker: the same source converted by the same
    builder gives the same weights, so ``<sha256[:12]>-b<version>`` names them without hashing
    the 2.5 GB folder again (and says which file they came from).
    """
    from medlab.models.standins import MARKER

    try:
        marker = json.loads((folder / MARKER).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    sha, version = marker.get("source_sha256"), marker.get("build_version")
    if not (isinstance(sha, str) and re.fullmatch(r"[0-9a-f]{64}", sha)) or version is None:
        return None
    return f"{sha[:12]}-b{version}"


class HFBackend:
    """A transformers causal LM behind the ``Backend`` protocol (see the module docstring)."""

    def __init__(
        self,
        path_or_id: str,
        name: str | None = None,
        device_map: str | dict | None = None,
        dtype: str | torch.dtype = "auto",
        parallel: str | None = None,
        max_memory: dict | None = None,
        batch_size: int = BATCH_SIZE,
        revision: str | None = None,
        num_replicas: int | None = None,
        trust_remote_code: bool = False,
    ):
        if parallel not in (None, "split", "replicas"):
            raise ValueError(f"parallel must be None, 'split' or 'replicas', got {parallel!r}")
        if batch_size < 1:
            raise ValueError(f"batch_size must be >= 1, got {batch_size}")
        if num_replicas is not None and num_replicas > 1:
            parallel = "replicas"
        self.name = name or path_or_id
        self.path, commit = resolve_model_folder(path_or_id, revision)
        self.revision = commit or revision
        self.batch_size = batch_size
        self.parallel = parallel
        cuda = torch.cuda.is_available()
        if dtype == "auto":
            dtype = torch.bfloat16 if cuda else torch.float32
        self.dtype = _DTYPES[dtype] if isinstance(dtype, str) else dtype
        # the same weights in another dtype give other answers: both go into cache keys and
        # the resume check
        weights = commit[:12] if commit else None
        weights = weights or source_fingerprint(self.path) or weights_fingerprint(self.path)
        self.fingerprint = f"{weights}-{str(self.dtype).removeprefix('torch.')}"
        load = {"dtype": self.dtype, "trust_remote_code": trust_remote_code}

        self.tokenizer = AutoTokenizer.from_pretrained(
            self.path, trust_remote_code=trust_remote_code
        )
        self.tokenizer.padding_side = "left"
        if parallel == "replicas":
            n = num_replicas or (torch.cuda.device_count() if cuda else 1)
            devices = [f"cuda:{i % torch.cuda.device_count()}" for i in range(n)] if cuda else []
            if cuda:
                self.replicas = [self._load(load | {"device_map": {"": d}}) for d in devices]
            else:
                self.replicas = [self._load(load) for _ in range(n)]
        else:
            if parallel == "split":
                device_map = "auto"
            elif device_map is None and cuda:
                device_map = {"": "cuda:0"}
            extra = {"device_map": device_map, "max_memory": max_memory} if device_map else {}
            self.replicas = [self._load(load | extra)]
        self._setup()

    @classmethod
    def from_model(
        cls, model: Any, tokenizer: Any, name: str = "in-memory", batch_size: int = BATCH_SIZE
    ) -> HFBackend:
        """Wrap a model already in memory (benchmarks: random weights of a real shape).

        Its fingerprint is ``"in-memory"``: such results cannot be matched to saved weights.
        """
        self = cls.__new__(cls)
        self.name, self.path, self.revision, self.fingerprint = name, Path(name), None, "in-memory"
        self.batch_size, self.parallel, self.dtype = batch_size, None, model.dtype
        self.tokenizer, self.replicas = tokenizer, [model.eval()]
        self._setup()
        return self

    def _setup(self) -> None:
        self.model = self.replicas[0]
        config = self.model.config
        self.context_length = int(
            getattr(config, "max_position_embeddings", None) or self.tokenizer.model_max_length
        )
        self.pad_id = (
            self.tokenizer.pad_token_id
            if self.tokenizer.pad_token_id is not None
            else self.tokenizer.eos_token_id
        )
        self.eos_ids = self._eos_ids()
        self._n_vocab = self.model.get_output_embeddings().weight.shape[0]

    def _load(self, kwargs: dict[str, Any]):
        model = AutoModelForCausalLM.from_pretrained(self.path, **kwargs)
        return model.eval()

    def _eos_ids(self) -> set[int]:
        declared = self.model.generation_config.eos_token_id
        ids = set(declared if isinstance(declared, list) else [declared])
        ids.add(self.tokenizer.eos_token_id)
        template = self.tokenizer.chat_template or ""
        if "<|im_end|>" in template:  # ChatML: the template's end-of-turn token ends the answer
            ids.add(self.tokenizer.convert_tokens_to_ids("<|im_end|>"))
        ids.discard(None)
        if not ids:
            raise ValueError(f"model {self.name!r} declares no end token (eos_token_id)")
        return ids

    # --- prompts ---------------------------------------------------------------------------

    def render(self, conversation: Conversation | list[dict[str, Any]]) -> str:
        """The prompt text: the chat template applied, ending with the generation prompt."""
        if not self.tokenizer.chat_template:
            raise ValueError(f"model {self.name!r} has no chat template in {self.path}")
        messages = [m.to_dict() for m in as_conversation(conversation)]
        return self.tokenizer.apply_chat_template(
            messages, add_generation_prompt=True, tokenize=False
        )

    def _encode(self, conversation: Conversation | list[dict[str, Any]]) -> list[int]:
        return self.tokenizer(self.render(conversation), add_special_tokens=False)["input_ids"]

    def count_tokens(self, conversation: Conversation | list[dict[str, Any]]) -> int:
        return len(self._encode(conversation))

    def info(self) -> dict[str, Any]:
        import transformers

        return {
            "backend": "transformers",
            "name": self.name,
            "path": self.path.name,
            "fingerprint": self.fingerprint,
            "revision": self.revision,
            "dtype": str(self.dtype).removeprefix("torch."),
            "parallel": self.parallel,
            "num_replicas": len(self.replicas),
            "devices": [str(m.device) for m in self.replicas],
            "device_map": getattr(self.model, "hf_device_map", None),
            "batch_size": self.batch_size,
            "context_length": self.context_length,
            "parameters": sum(p.numel() for p in self.model.parameters()),
            "transformers": transformers.__version__,
            "torch": torch.__version__,
        }

    # --- generation ------------------------------------------------------------------------

    def generate(
        self,
        conversations: list[Conversation] | list[list[Message]] | list[list[dict[str, Any]]],
        params: GenerationParams | None = None,
        schema: dict[str, Any] | None = None,
    ) -> list[Completion]:
        """Answer each conversation; with ``schema``, decoding is constrained to that JSON Schema."""
        params = params or GenerationParams()
        prompts = [self._encode(c) for c in conversations]
        for i, ids in enumerate(prompts):
            if len(ids) >= self.context_length:
                raise ValueError(
                    f"conversation {i} takes {len(ids)} prompt tokens but {self.name!r} has a "
                    f"context of {self.context_length} tokens (prompt + answer): shorten it"
                )
        if schema is not None:
            from medlab.models.constrained import compile_schema

            compile_schema(schema, self.tokenizer, self._n_vocab)  # once, before the threads
        check = current_check()  # a server's "every client went away" (models/cancel.py)
        order = sorted(range(len(prompts)), key=lambda i: -len(prompts[i]))
        batches = [order[i : i + self.batch_size] for i in range(0, len(order), self.batch_size)]
        results: dict[int, Completion] = {}

        def work(replica: int) -> None:
            for batch in batches[replica :: len(self.replicas)]:
                outs = self._generate_batch(
                    self.replicas[replica], [prompts[i] for i in batch], params, schema, check
                )
                results.update(zip(batch, outs))

        if len(self.replicas) == 1:
            work(0)
        else:
            with ThreadPoolExecutor(len(self.replicas)) as pool:
                for future in [pool.submit(work, r) for r in range(len(self.replicas))]:
                    future.result()
        return [results[i] for i in range(len(prompts))]

    def _generate_batch(
        self,
        model,
        prompts: list[list[int]],
        params: GenerationParams,
        schema: dict | None,
        check: Any = None,
    ) -> list[Completion]:
        if check is not None and check():
            raise GenerationCancelled("generation cancelled: nobody waits for these answers")
        device = model.device
        width = max(len(p) for p in prompts)
        pad_lengths = [width - len(p) for p in prompts]
        input_ids = torch.tensor([[self.pad_id] * n + p for n, p in zip(pad_lengths, prompts)])
        mask = torch.tensor([[0] * n + [1] * len(p) for n, p in zip(pad_lengths, prompts)])
        input_ids, mask = input_ids.to(device), mask.to(device)
        max_new = min(params.max_new_tokens, self.context_length - width)

        processors = LogitsProcessorList()
        if params.repetition_penalty != 1.0:
            pads = torch.tensor(pad_lengths, device=device)
            processors.append(RepetitionPenalty(params.repetition_penalty, pads))
        if schema is not None:
            from medlab.models.constrained import JsonSchemaProcessor

            processors.append(JsonSchemaProcessor(self.tokenizer, schema, self._n_vocab))
        if params.do_sample:
            seeds = [row_seed(params.seed, p) for p in prompts]
            processors.append(SeededSampler(params.temperature, params.top_p, seeds))
        tracker = StepTracker(width, self.eos_ids, params.stop, self.tokenizer)
        criteria = StoppingCriteriaList([tracker])
        if check is not None:
            criteria.append(StopWhenCancelled(check))
        declared = model.generation_config
        config = GenerationConfig(
            max_new_tokens=max_new,
            do_sample=False,  # the sampler above already picked the token
            # explicit neutral values: transformers fills unset ones from the model's own
            # generation_config (Qwen2.5 ships repetition_penalty=1.05, top_k=20, ...)
            num_beams=1,
            temperature=1.0,
            top_p=1.0,
            top_k=50,  # the library default: no warning, unused by greedy steps
            repetition_penalty=1.0,
            no_repeat_ngram_size=0,
            # a minimum only where the model declares one: min_new_tokens=0 adds a processor
            # that does nothing but costs ~10% of each decoding step on a small model
            **({"min_new_tokens": 0} if declared.min_new_tokens or declared.min_length else {}),
            eos_token_id=sorted(self.eos_ids),
            pad_token_id=self.pad_id,
        )
        if device.type == "cuda":
            torch.cuda.synchronize(device)
        start = time.perf_counter()
        with torch.inference_mode():
            out = model.generate(
                input_ids=input_ids,
                attention_mask=mask,
                generation_config=config,
                logits_processor=processors,
                stopping_criteria=criteria,
            )
        if check is not None and check():
            raise GenerationCancelled("generation cancelled: nobody waits for these answers")
        new_tokens = out[:, width:].tolist()
        completions = []
        for row, prompt in enumerate(prompts):
            end = tracker.end_step.get(row, len(tracker.times) - 1)
            reason = tracker.reason.get(row, "length")
            tokens = new_tokens[row][: end + 1]
            if reason == "stop" and tokens[-1] in self.eos_ids:
                tokens = tokens[:-1]
            text = self.tokenizer.decode(tokens, skip_special_tokens=True)
            for s in params.stop:
                text = text.split(s, 1)[0]
            completions.append(
                Completion(
                    text=text,
                    prompt_tokens=len(prompt),
                    completion_tokens=end + 1,
                    ttft_s=tracker.times[0] - start,
                    latency_s=tracker.times[end] - start,
                    finish_reason=reason,  # type: ignore[arg-type]
                )
            )
        return completions
