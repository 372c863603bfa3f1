"""Example: a handler whose model uses Ray, configured to run where only /tmp is writable.

The seed's Serverless attempt failed because `ray.init()` wrote outside /tmp. The image already
points HOME, TMPDIR and RAY_TMPDIR at /tmp; this handler also passes the temp dir explicitly and
turns off what a serving container does not need. Add `ray` to image/requirements.txt to use it.
"""

from __future__ import annotations

import math
import os
from typing import Any

from sagezero_serve import BadRequest


def ray_init_options() -> dict[str, Any]:
    """Everything Ray writes (sessions, logs, object spilling, sockets) goes under RAY_TMPDIR."""
    tmp = os.environ.get("RAY_TMPDIR", "/tmp/ray")
    return {
        "_temp_dir": tmp,
        "include_dashboard": False,  # no web UI (and no extra port) in a hosting container
        "log_to_driver": False,
        "num_cpus": int(os.environ.get("RAY_NUM_CPUS") or os.cpu_count() or 1),
        "object_store_memory": int(os.environ.get("RAY_OBJECT_STORE_BYTES") or 256 * 1024 * 1024),
        "_system_config": {
            "object_spilling_config": f'{{"type": "filesystem", "params": {{"directory_path": "{tmp}/spill"}}}}'
        },
        "ignore_reinit_error": True,
    }


def model_fn(model_dir: str) -> Any:
    import ray

    ray.init(**ray_init_options())

    @ray.remote
    def score(row: list[float]) -> float:
        return float(sum(row))

    return score


def predict_fn(data: Any, model: Any) -> list[float]:
    import ray

    rows = data.get("instances") if isinstance(data, dict) else data
    if not isinstance(rows, list) or not all(isinstance(row, list) and all(map(_finite_number, row)) for row in rows):
        # The client's mistake is a 400 with the reason, never a 500 from inside Ray.
        raise BadRequest('expected {"instances": [[numbers, ...], ...]} or a list of rows of finite numbers')
    return list(ray.get([model.remote([float(x) for x in row]) for row in rows]))


def _finite_number(x: Any) -> bool:
    if isinstance(x, bool) or not isinstance(x, (int, float)):
        return False
    try:
        return math.isfinite(float(x))
    except OverflowError:  # an integer too large for a float
        return False
