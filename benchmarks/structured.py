"""Per-token cost of JSON-Schema-constrained decoding on tiny-qwen2, next to free decoding.

The same batch of questions is answered twice with the same sampling settings, once free and
once constrained to the ``consultation`` schema, and the seconds per generated token are
compared (constrained / free). tiny-qwen2 is a worst case for the overhead: its forward pass is
tiny, so the mask computation (llguidance, over Qwen2.5's 151k-token vocabulary) is a large
share of a step; on a 7B model the same mask is a small fraction of the step. Also prints the
one-off schema compile time and the share of constrained answers that parse strictly and pass
the schema.

    OMP_NUM_THREADS=1 python benchmarks/structured.py [--n 8] [--new-tokens 96]
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("OMP_NUM_THREADS", "1")


def per_token(backend, conversations, params, schema=None) -> tuple[float, list]:
    t0 = time.perf_counter()
    out = backend.generate(conversations, params, schema=schema)
    wall = time.perf_counter() - t0
    # a batch runs as many steps as its longest answer: seconds per decoding step
    return wall / max(1, max(c.completion_tokens for c in out)), out


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--n", type=int, default=8, help="questions in the batch")
    p.add_argument("--new-tokens", type=int, default=96)
    args = p.parse_args()

    import torch

    torch.set_num_threads(int(os.environ["OMP_NUM_THREADS"]))
    import jsonschema

    from medlab.models import constrained, load_model
    from medlab.schemas import SCHEMAS
    from medlab.types import GenerationParams

    schema = SCHEMAS["consultation"]
    backend = load_model("tiny-qwen2", batch_size=args.n)
    questions = [f"我头痛{i + 1}天了，还有点发烧，需要去医院吗？" for i in range(args.n)]
    conversations = [[{"role": "user", "content": q}] for q in questions]
    params = GenerationParams(temperature=0.7, top_p=0.9, max_new_tokens=args.new_tokens, seed=0)

    constrained.clear_cache()
    t0 = time.perf_counter()
    constrained.compile_schema(schema, backend.tokenizer, backend._n_vocab)
    compile_s = time.perf_counter() - t0  # llguidance tokenizer + grammar, once per process
    backend.generate(conversations[:2], GenerationParams(max_new_tokens=4), schema=schema)

    free_s, _ = per_token(backend, conversations, params)
    cons_s, cons = per_token(backend, conversations, params, schema=schema)
    ratio = cons_s / free_s

    long = GenerationParams(temperature=0.7, top_p=0.9, max_new_tokens=6000, seed=0)
    _, full = per_token(backend, conversations, long, schema=schema)
    valid = 0
    for c in full:
        try:
            jsonschema.validate(json.loads(c.text), schema)
            valid += 1
        except (json.JSONDecodeError, jsonschema.ValidationError):
            pass

    print(f"tiny-qwen2, batch of {args.n}, {args.new_tokens} new tokens, temperature 0.7, "
          f"{os.environ['OMP_NUM_THREADS']} torch thread(s), schema 'consultation'")  # fmt: skip
    print(f"  schema compile (once)   : {compile_s * 1e3:8.1f} ms")
    print(f"  free decoding           : {free_s * 1e3:8.2f} ms per decoding step")
    print(f"  constrained decoding    : {cons_s * 1e3:8.2f} ms per decoding step")
    print(f"  overhead                : x{ratio:.2f}")
    print(f"  schema-valid, strict JSON when the budget allows it to close: {valid}/{len(full)}")
    return 0 if valid == len(full) else 1


if __name__ == "__main__":
    sys.exit(main())
