"""Pieces several test modules share: a scripted backend and a real local HTTP server."""

from __future__ import annotations

import json
import socket
import threading
import time

import uvicorn

from medlab.models.openai import approx_tokens
from medlab.types import Completion, GenerationParams, Message, as_conversation


class Scripted:
    """A backend that answers with the next scripted text (JSON-dumped when a dict).

    For the guard pipeline: the random-weight stand-in cannot be made to write a valid or a
    drug-naming answer. Records every call as (conversations, params, schema).
    """

    name = fingerprint = "scripted"
    context_length = 4096

    def __init__(self, *answers):
        self.answers = [
            a if isinstance(a, str) else json.dumps(a, ensure_ascii=False) for a in answers
        ]
        self.calls: list[tuple[list[list[Message]], GenerationParams, dict | None]] = []

    def generate(self, conversations, params=None, schema=None):
        self.calls.append(([as_conversation(c) for c in conversations], params, schema))
        return [Completion(self.answers.pop(0), 10, 5, 0.01, 0.02) for _ in conversations]

    def count_tokens(self, conversation):
        return sum(approx_tokens(m.content) + 4 for m in as_conversation(conversation))

    def info(self):
        return {"name": self.name}


class Served:
    """uvicorn in a daemon thread on a free localhost port; ``url`` is ``http://127.0.0.1:PORT``."""

    def __init__(self, app, lifespan: str = "auto"):
        self.app = app
        sock = socket.socket()
        sock.bind(("127.0.0.1", 0))
        self.port = sock.getsockname()[1]
        self.url = f"http://127.0.0.1:{self.port}"
        config = uvicorn.Config(app, log_level="warning", lifespan=lifespan)
        self.server = uvicorn.Server(config)
        self.thread = threading.Thread(
            target=self.server.run, kwargs={"sockets": [sock]}, daemon=True
        )
        self.thread.start()
        deadline = time.time() + 30
        while not self.server.started:
            assert time.time() < deadline, "server did not start"
            time.sleep(0.02)

    def stop(self) -> None:
        self.server.should_exit = True
        self.thread.join(10)


def scripted_run(out_dir, answers, eval_set="ambiguity_zh", prompts=("gp_assistant@v1",)):
    """A finished free-text run of the scripted backend on the first items of ``eval_set``
    (one item per answer and prompt), written under ``out_dir``."""
    from medlab.runner import run_eval

    n = len(answers) // len(prompts)
    return run_eval(Scripted(*answers), prompts=list(prompts), eval_sets=[eval_set], limit=n,
                    structured=False, cache="off", out_dir=out_dir, progress=False)  # fmt: skip


class ScriptedGrader(Scripted):
    """A grader that answers with the next scripted verdicts (a name of its own)."""

    name = fingerprint = "scripted-grader"
