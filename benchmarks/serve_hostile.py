"""One hostile request against ``medlab serve`` on the tiny stand-in, timed side by side.

1. ``max_tokens: 1000000000`` under the default cap: how long it takes, and how long a second
   client waits for its own short answer meanwhile.
2. Without any cap (``max_tokens_cap=None``), a client asks for 1e9 tokens and gives up after
   ``--give-up`` seconds: how soon a second client is answered (generation cancelled) compared
   with the time the abandoned generation would have taken.

Usage: ``OMP_NUM_THREADS=1 python benchmarks/serve_hostile.py``.
"""

from __future__ import annotations

import argparse
import sys
import threading
import time
from pathlib import Path

import requests

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests"))
from helpers import Served  # noqa: E402

from medlab.models import load_model  # noqa: E402
from medlab.serve import DEFAULT_MAX_TOKENS_CAP, create_app  # noqa: E402

BIG = {"messages": [{"role": "user", "content": "头痛怎么办？"}], "max_tokens": 1_000_000_000}
SMALL = {"messages": [{"role": "user", "content": "发烧了"}], "max_tokens": 8}


def timed_post(url: str, body: dict, out: dict, name: str, timeout: float | None = None) -> None:
    start = time.perf_counter()
    try:
        r = requests.post(f"{url}/v1/chat/completions", json=body, timeout=timeout)
        out[name] = (time.perf_counter() - start, r.status_code, r.json().get("usage"))
    except requests.RequestException as e:
        out[name] = (time.perf_counter() - start, type(e).__name__, None)


def side_by_side(url: str, give_up: float | None) -> dict:
    out: dict = {}
    big = threading.Thread(target=timed_post, args=(url, BIG, out, "big", give_up))
    big.start()
    time.sleep(0.5)  # the big request is generating
    timed_post(url, SMALL, out, "second")
    big.join()
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--give-up", type=float, default=2.0)
    args = parser.parse_args()
    model = load_model("tiny-qwen2")
    print(f"model tiny-qwen2, context {model.context_length}")

    served = Served(create_app(model, batch_window_s=0.01))
    try:
        out = side_by_side(served.url, None)
    finally:
        served.stop()
    big_s, status, usage = out["big"]
    print(
        f"default cap {DEFAULT_MAX_TOKENS_CAP}: 1e9-token request {big_s:.2f}s ({status}, {usage})"
    )
    print(f"  second client meanwhile: {out['second'][0]:.2f}s ({out['second'][1]})")

    served = Served(create_app(model, max_tokens_cap=None, batch_window_s=0.01))
    try:
        out = side_by_side(served.url, args.give_up)
        # how long the same generation runs when nobody leaves, for comparison (2048 tokens)
        start = time.perf_counter()
        requests.post(
            f"{served.url}/v1/chat/completions", json={**BIG, "max_tokens": 2048}, timeout=600
        )
        full_2048 = time.perf_counter() - start
    finally:
        served.stop()
    rate = 2048 / full_2048
    print(
        f"no cap, client gives up after {args.give_up}s: second client answered after "
        f"{out['second'][0]:.2f}s; uncancelled, {model.context_length} tokens at {rate:.0f} "
        f"tokens/s would hold the model ~{model.context_length / rate:.0f}s"
    )


if __name__ == "__main__":
    main()
