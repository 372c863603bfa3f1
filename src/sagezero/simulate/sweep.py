"""Run one scenario over a range of one setting and find the knee of the cost / cold-start frontier.

The cold-start axis is the share of requests a cold start touched (they waited for a copy or
failed); the knee is the frontier point farthest below the straight line from the cheapest to the
most expensive setting, on axes scaled to [0, 1] — past it, each extra dollar buys little.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from sagezero.quote import excerpt
from sagezero.simulate.engine import run
from sagezero.simulate.prices import PriceTable
from sagezero.simulate.scenario import CLIENT_KEYS, PROFILE_KEYS, Scenario, ScenarioError, apply
from sagezero.simulate.summary import Summary, summarise

MAX_POINTS = 50


@dataclass(frozen=True)
class Point:
    value: str
    summary: Summary

    @property
    def touched(self) -> float:
        """Share of requests that met a cold start (waited or failed)."""
        s = self.summary
        return (s.waited + s.failed) / s.requests if s.requests else 0.0


def parse(text: str) -> tuple[str, list[str]]:
    """`key=a,b,c` or `key=lo..hi:n` (n evenly spaced values)."""
    key, sep, spec = text.partition("=")
    if not sep or not key or not spec:
        raise ScenarioError(f"--sweep {excerpt(text)}: expected KEY=V1,V2,... or KEY=LO..HI:N")
    if ".." in spec:
        bounds, _, count = spec.partition(":")
        lo_s, _, hi_s = bounds.partition("..")
        try:
            lo, hi, n = float(lo_s), float(hi_s), int(count or 5)
        except ValueError:
            raise ScenarioError(f"--sweep {excerpt(text)}: expected LO..HI:N with numbers") from None
        if not (math.isfinite(lo) and math.isfinite(hi)):  # 0..inf would sweep over nan
            raise ScenarioError(f"--sweep {excerpt(text)}: expected finite LO and HI")
        if n < 2 or n > MAX_POINTS or hi <= lo:
            raise ScenarioError(f"--sweep {excerpt(text)}: need LO < HI and 2 <= N <= {MAX_POINTS}")
        return key, [f"{lo + (hi - lo) * i / (n - 1):g}" for i in range(n)]
    listed = [v.strip() for v in spec.split(",") if v.strip()]
    if len(listed) < 2 or len(listed) > MAX_POINTS:
        raise ScenarioError(f"--sweep {excerpt(text)}: give 2 to {MAX_POINTS} values")
    return key, listed


def sweep(scenario: Scenario, key: str, values: list[str], prices: PriceTable) -> list[Point]:
    """The real-time engine over each value. An asynchronous endpoint, or a key only the async engine
    reads (its mechanics constants), is refused: every point would be the same, or the wrong engine's."""
    if key.startswith("async_"):
        raise ScenarioError(
            f"--sweep {key}: only the async engine reads it, and --sweep replays the real-time machinery "
            "(every point would be the same)"
        )
    # The traffic only changes when a generator key is swept: generate it once otherwise.
    traffic = None if key in PROFILE_KEYS and key not in CLIENT_KEYS else scenario.checked_traffic()
    points = []
    for value in values:
        s = apply(scenario, key, value)
        if s.is_async:
            raise ScenarioError(
                f"--sweep {key}={value}: {s.label} is then an asynchronous endpoint, and --sweep replays the "
                "real-time machinery only"
            )
        points.append(Point(value, summarise(run(s.sim_config(prices), traffic or s.checked_traffic()), prices)))
    return points


def knee(points: list[Point]) -> int | None:
    """Index of the knee among the Pareto-efficient points, or None with fewer than three."""
    front = sorted(
        (i for i, p in enumerate(points)
         if not any((q.summary.cost <= p.summary.cost and q.touched < p.touched)
                    or (q.summary.cost < p.summary.cost and q.touched <= p.touched) for q in points))
        , key=lambda i: points[i].summary.cost,
    )  # fmt: skip
    if len(front) < 3:
        return None
    costs = [points[i].summary.cost for i in front]
    bad = [points[i].touched for i in front]
    c0, c1, b0, b1 = min(costs), max(costs), min(bad), max(bad)
    if c1 == c0 or b1 == b0:
        return None
    xs = [(c - c0) / (c1 - c0) for c in costs]
    ys = [(b - b0) / (b1 - b0) for b in bad]
    # chord from the cheapest (x0, y0) to the most expensive (x1, y1)
    x0, y0, x1, y1 = xs[0], ys[0], xs[-1], ys[-1]
    dist = [((x1 - x0) * (y0 - y) - (x0 - x) * (y1 - y0)) for x, y in zip(xs, ys, strict=True)]
    best = max(range(len(front)), key=lambda j: dist[j])
    return front[best] if dist[best] > 0 else None
