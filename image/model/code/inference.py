"""Sample handler shipped in the image: a churn-risk logistic regression read from model.json.

Shows the hooks a team replaces with its own; uses the server's default input/output handling
(JSON, CSV, NPY) and raises BadRequest (400) for rows of the wrong width or values outside the
model's range, so bad input never reaches the arithmetic as a 500.
"""

from __future__ import annotations

import json
import math
from pathlib import Path
from typing import Any

from sagezero_serve import BadRequest


class ChurnModel:
    def __init__(self, spec: dict[str, Any]) -> None:
        self.features: list[str] = spec["features"]
        self.mean: list[float] = spec["mean"]
        self.scale: list[float] = spec["scale"]
        self.weights: list[float] = spec["weights"]
        self.bias: float = spec["bias"]
        if not len(self.features) == len(self.mean) == len(self.scale) == len(self.weights):
            raise ValueError("model.json: features, mean, scale and weights must have the same length")

    def probability(self, row: list[float]) -> float:
        z = self.bias + sum(
            w * (x - m) / s for w, x, m, s in zip(self.weights, row, self.mean, self.scale, strict=True)
        )
        if math.isnan(z):  # finite inputs so large that their weighted terms cancel as inf - inf
            raise BadRequest("these values are too large for the model to score")
        # The logistic function in its two overflow-free halves.
        p = 1.0 / (1.0 + math.exp(-z)) if z >= 0 else math.exp(z) / (1.0 + math.exp(z))
        return round(p, 6)


def model_fn(model_dir: str) -> ChurnModel:
    return ChurnModel(json.loads((Path(model_dir) / "model.json").read_text()))


def predict_fn(data: Any, model: ChurnModel) -> list[float]:
    if isinstance(data, dict):
        data = data.get("instances")
    if hasattr(data, "tolist"):
        data = data.tolist()
    if not isinstance(data, list) or not data:
        raise BadRequest('expected a list of rows, or {"instances": [rows]}')
    rows = data if isinstance(data[0], list) else [data]
    width = len(model.features)
    out = []
    for i, row in enumerate(rows):
        if not isinstance(row, list) or len(row) != width or not all(_is_number(x) for x in row):
            raise BadRequest(f"row {i} must be {width} numbers ({', '.join(model.features)})")
        values = [_float(x) for x in row]
        if not all(math.isfinite(v) for v in values):
            raise BadRequest(f"row {i} has a value outside the model's range (finite 64-bit floats)")
        out.append(model.probability(values))
    return out


def _is_number(x: Any) -> bool:
    return isinstance(x, (int, float)) and not isinstance(x, bool)


def _float(x: float) -> float:
    try:
        return float(x)
    except OverflowError:  # an integer too large for a float
        return math.inf
