"""Benchmark model, the reference's trivial linear model: y = x . w + b with w, b from model.json.

Request [[1.0, 2.0, 3.0]] -> [4.75]; same computation as the reference handler, in plain Python.
"""

import json
from pathlib import Path
from typing import Any


def model_fn(model_dir: str) -> tuple[list[float], float]:
    params = json.loads((Path(model_dir) / "model.json").read_text())
    return [float(x) for x in params["w"]], float(params["b"])


def predict_fn(data: Any, model: tuple[list[float], float]) -> list[float]:
    w, b = model
    rows = data if data and isinstance(data[0], list) else [data]
    return [sum(x * wi for x, wi in zip(row, w, strict=True)) + b for row in rows]
