"""From a run to the figures a team decides with: what users saw, what it cost, and the alternatives.

Costs are per instance-second from the dated price table. The always-on figure is a second run of
the same machinery with the scalable target's minimum at 1 (so its scale-out under load is priced
too); serverless is priced per GB-second of service time where the model fits (no accelerators,
memory within Serverless Inference's limit).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

import numpy as np

from sagezero.simulate.engine import FAILED, PENDING, SERVED, WAITED, SimConfig, SimResult, run
from sagezero.simulate.prices import PriceTable
from sagezero.simulate.traffic import DAY, Traffic

MONTH_DAYS = 30.0


@dataclass(frozen=True)
class Summary:
    requests: int
    served: int
    waited: int
    failed: int
    unfinished: int
    """Still retrying when the traffic ended (neither served nor failed)."""
    wait_p50_s: float
    wait_p95_s: float
    wait_p99_s: float
    wait_max_s: float
    cold_starts_per_day: float
    cold_start_p50_s: float | None
    cold_start_max_s: float | None
    user_cold_start_p50_s: float | None
    """From the first request that met zero capacity to a copy serving: what a user waits."""
    no_capacity_answers: int
    copy_hours: float
    instance_hours: float
    cost: float
    days: float

    @property
    def cost_per_month(self) -> float:
        return self.cost / self.days * MONTH_DAYS


def _pct(values: np.ndarray[Any, Any], q: float) -> float:
    return float(np.percentile(values, q)) if values.size else 0.0


def summarise(result: SimResult, prices: PriceTable) -> Summary:
    ok = (result.outcome == SERVED) | (result.outcome == WAITED)
    waits = result.wait_s[ok]
    counts = np.bincount(result.outcome, minlength=4)
    done = [w.served - w.asked for w in result.wakes if w.served is not None]
    users = [w.served - w.first_failure for w in result.wakes if w.served is not None and w.first_failure is not None]
    per_hour = result.config.instance.per_hour
    days = result.traffic.horizon_s / DAY
    return Summary(
        requests=int(result.outcome.size),
        served=int(counts[SERVED]),
        waited=int(counts[WAITED]),
        failed=int(counts[FAILED]),
        unfinished=int(counts[PENDING]),
        wait_p50_s=_pct(waits, 50),
        wait_p95_s=_pct(waits, 95),
        wait_p99_s=_pct(waits, 99),
        wait_max_s=float(waits.max()) if waits.size else 0.0,
        cold_starts_per_day=len(result.wakes) / days,
        cold_start_p50_s=float(np.median(done)) if done else None,
        cold_start_max_s=float(max(done)) if done else None,
        user_cold_start_p50_s=float(np.median(users)) if users else None,
        no_capacity_answers=result.no_capacity_answers,
        copy_hours=result.copy_seconds / 3600,
        instance_hours=result.instance_seconds / 3600,
        cost=result.instance_seconds / 3600 * per_hour,
        days=days,
    )


@dataclass(frozen=True)
class Serverless:
    fits: bool
    reason: str
    cost: float | None = None
    days: float = 1.0

    @property
    def cost_per_month(self) -> float | None:
        return None if self.cost is None else self.cost / self.days * MONTH_DAYS


def serverless(config: SimConfig, traffic: Traffic, prices: PriceTable, payload_kb: float = 4.0) -> Serverless:
    """Serverless Inference's price for the same requests, where the model can run there at all."""
    s, sl = config.settings, prices.serverless
    days = traffic.horizon_s / DAY
    if s.accelerators:
        return Serverless(False, "needs an accelerator; Serverless Inference has none", days=days)
    memory = s.serverless_memory_mb if s.mode.value == "serverless" else max(1024, s.min_memory_mb)
    memory = int(math.ceil(memory / 1024) * 1024)
    if memory > sl.max_memory_mb:
        return Serverless(False, f"needs {memory} MB; Serverless Inference stops at {sl.max_memory_mb} MB", days=days)
    gb = memory / 1024
    compute = float(traffic.service_s.sum()) * gb * sl.per_gb_second
    data = traffic.arrivals.size * 2 * payload_kb / 1024 / 1024 * sl.per_gb_processed
    return Serverless(True, f"{memory} MB, billed per request's service time", compute + data, days=days)


@dataclass(frozen=True)
class Comparison:
    scale_to_zero: Summary
    always_on: Summary
    serverless: Serverless


def compare(result: SimResult, prices: PriceTable) -> Comparison:
    """The run beside an always-on run (min 1 copy, same traffic and seed) and serverless."""
    always = run(result.config.always_on(), result.traffic)
    return Comparison(
        summarise(result, prices), summarise(always, prices), serverless(result.config, result.traffic, prices)
    )
