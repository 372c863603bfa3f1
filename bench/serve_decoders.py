"""Benchmark: the server's guarded JSON decoder against plain json.loads on the same bodies, same run.

The guards (nesting depth, float range, NaN/Infinity) must cost little beside the parse itself.
Bodies: a 17-byte request (the common case), 5.6 MB of float rows, 3.6 MB of small records, and
the float rows with an exponent in every row: 2-digit (no range hook needed) and 3-digit (the hook
runs: the range check's worst case).
Rounds alternate between the two decoders and each keeps its best, so a load that comes and goes on
a shared machine touches both alike.
Usage: .venv/bin/python bench/serve_decoders.py   (best of 9 alternating rounds; about a minute)
"""

from __future__ import annotations

import datetime
import json
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent / "image"))

from sagezero_serve.payloads import decode_json  # noqa: E402

BODIES = {
    "17 B request": b"[[1.0, 2.0, 3.0]]",
    "5.6 MB float rows": json.dumps([[1.2345, 2.5, 3.75, 4.125]] * 200_000).encode(),
    "3.6 MB records": json.dumps([{"name": "abc" * 3, "v": [1, 2]}] * 100_000).encode(),
    "5.9 MB rows with 2-digit exponents": json.dumps([[1.2345e-05, 2.5e20, 3.75, 4.125]] * 200_000).encode(),
    "6.1 MB rows with 3-digit exponents": json.dumps([[1.2345e-05, 2.5e120, 3.75, 4.125]] * 200_000).encode(),
}


def once(fn: Callable[[bytes], Any], body: bytes) -> float:
    n = 20_000 if len(body) < 1000 else 1
    t0 = time.perf_counter()
    for _ in range(n):
        fn(body)
    return (time.perf_counter() - t0) / n


def best_of_alternating(body: bytes, rounds: int = 9) -> tuple[float, float]:
    plain, guarded = [], []
    for _ in range(rounds):
        plain.append(once(json.loads, body))
        guarded.append(once(decode_json, body))
    return min(plain), min(guarded)


def main() -> None:
    rows = []
    for name, body in BODIES.items():
        plain, guarded = best_of_alternating(body)
        rows.append(
            {"body": name, "json_loads_ms": plain * 1e3, "decode_json_ms": guarded * 1e3, "ratio": guarded / plain}
        )
    out = HERE / "results" / "serve_decoders.json"
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps({"date": datetime.date.today().isoformat(), "rows": rows}, indent=2))
    print(f"{'body':<36}{'json.loads':>12}{'decode_json':>13}{'ratio':>8}")
    for r in rows:
        print(f"{r['body']:<36}{r['json_loads_ms']:>10.4f}ms{r['decode_json_ms']:>11.4f}ms{r['ratio']:>7.2f}x")


if __name__ == "__main__":
    main()
