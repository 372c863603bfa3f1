"""From a run to the figures a team decides with: what users saw, what it cost, and the alternatives.

Costs are per instance-second from the dated price table. The always-on figure is a second run of
the same machinery with the scalable target's minimum at 1 (so its scale-out under load is priced
too); serverless is priced per GB-second of service time where the model fits (no accelerators,
memory within Serverless Inference's limit).
"""

from __future__ import annotations

import dataclasses
import math
from dataclasses import dataclass
from typing import Any

import numpy as np

from sagezero.settings import Mode
from sagezero.simulate.async_engine import AsyncResult, run_async
from sagezero.simulate.engine import FAILED, PENDING, SERVED, WAITED, SimConfig, SimResult, run
from sagezero.simulate.machinery import AsyncMachinery, async_from_settings
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
    answer_p50_s: float = 0.0
    """Time to answer (first attempt to the end of service) of the requests answered; failed ones have none."""
    answer_p95_s: float = 0.0
    answer_p99_s: float = 0.0
    retried: int = 0
    """Requests that needed more than one attempt (served after a retry, failed, or still retrying)."""

    @property
    def cost_per_month(self) -> float:
        return self.cost / self.days * MONTH_DAYS

    @property
    def touched(self) -> int:
        """Requests a cold start touched: they waited for one, or failed."""
        return self.waited + self.failed + self.unfinished


@dataclass(frozen=True)
class AsyncSummary:
    """What an async endpoint's users would see on the same traffic: nothing fails, answers wait."""

    requests: int
    answered: int
    unanswered: int
    """Never answered: expired in the queue, timed out, or still queued when the run gave up."""
    cold: int
    """Requests that arrived while no instance was in service (they waited for a cold start)."""
    answer_p50_s: float
    answer_p95_s: float
    answer_p99_s: float
    answer_max_s: float
    queue_wait_p99_s: float
    cold_starts_per_day: float
    cold_start_p50_s: float | None
    """From the first request queued at zero to an instance in service."""
    peak_instances: int
    instance_hours: float
    cost: float
    days: float
    concurrency: int
    backlog_target: float | None
    """Target tracking's backlog per instance (None: no target tracking)."""
    expired: int = 0
    """Of the unanswered: queued longer than RequestTTLSeconds (6 h), never run."""
    timed_out: int = 0
    """Of the unanswered: processing cut off at InvocationTimeoutSeconds."""
    woken_by: str = "HasBacklogWithoutCapacity"
    """What wakes it from zero: the wake alarm's step policy, target tracking alone once the backlog
    exceeds its target, or nothing."""

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
        **_answers(result),
    )


def _answers(result: SimResult) -> dict[str, Any]:
    ok = (result.outcome == SERVED) | (result.outcome == WAITED)
    answer = (result.finished_at - result.traffic.arrivals)[ok]
    return {
        "answer_p50_s": _pct(answer, 50),
        "answer_p95_s": _pct(answer, 95),
        "answer_p99_s": _pct(answer, 99),
        "retried": int((result.attempts > 1).sum()),
    }


def summarise_async(result: AsyncResult, prices: PriceTable) -> AsyncSummary:
    """The async run's figures; cost is billed instance-seconds at the instance's hourly price."""
    answer = result.answer_s
    answered = answer[~np.isnan(answer)]
    waits = (result.started_at - result.traffic.arrivals)[~np.isnan(result.started_at)]
    done = [w.served - w.first_failure for w in result.wakes if w.served is not None and w.first_failure is not None]
    days = result.traffic.horizon_s / DAY
    mach = result.machinery
    return AsyncSummary(
        requests=int(answer.size),
        answered=int(answered.size),
        unanswered=result.unanswered,
        cold=int(result.cold.sum()),
        answer_p50_s=_pct(answered, 50),
        answer_p95_s=_pct(answered, 95),
        answer_p99_s=_pct(answered, 99),
        answer_max_s=float(answered.max()) if answered.size else 0.0,
        queue_wait_p99_s=_pct(waits, 99),
        cold_starts_per_day=len(result.wakes) / days,
        cold_start_p50_s=float(np.median(done)) if done else None,
        peak_instances=result.peak_instances,
        instance_hours=result.instance_seconds / 3600,
        cost=result.instance_seconds / 3600 * result.config.instance.per_hour,
        days=days,
        concurrency=mach.concurrency,
        backlog_target=mach.tracking.target_value if mach.tracking is not None else None,
        expired=int(result.expired.sum()),
        timed_out=int(result.timed_out.sum()),
        woken_by=_woken_by(result),
    )


def _woken_by(result: AsyncResult) -> str:
    mach = result.machinery
    if mach.min_instances > 0 and mach.max_instances > 0:
        return f"nothing: it keeps {min(mach.min_instances, mach.max_instances)} instance(s)"
    if mach.alarm is not None and mach.alarm_runs_step() and mach.alarm.sees_failures:
        return "HasBacklogWithoutCapacity"
    if mach.tracking_scales_out():
        return "target tracking alone, once the backlog per instance exceeds its target"
    return "nothing (queued requests are never answered)"


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
    # An async endpoint reserves no accelerators per copy (it has no copies): its instance type says
    # whether the model was meant for one, as a real-time tenant's default accelerators would.
    needs_accelerator = s.accelerators > 0 or (s.mode.value == "async" and config.instance.accelerators > 0)
    if needs_accelerator:
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
    async_: AsyncSummary | None = None
    """The same traffic through an async endpoint on the same instance type (None: not run)."""


def async_twin(config: SimConfig) -> AsyncMachinery:
    """The async endpoint the async column replays. An async tenant's own wiring; for a real-time
    tenant, the async wiring for its settings doing the same work per instance as the real-time model
    — `copy_concurrency` per copy, times the copies one instance holds (no more than `max_copies`) —
    so the columns differ by the mode, not by how many requests an instance is assumed to run at once."""
    if config.async_machinery is not None:
        return config.async_machinery
    mach = async_from_settings(config.settings)
    if config.settings.mode is Mode.ASYNC:
        return mach
    copies = max(1, min(config.settings.max_copies, config.copies_per_instance()))
    return dataclasses.replace(mach, concurrency=max(1, config.mechanics.copy_concurrency) * copies)


def compare(result: SimResult, prices: PriceTable, *, with_async: bool = False) -> Comparison:
    """The run beside an always-on run (min 1 copy, same traffic and seed), serverless, and — with
    `with_async` — an async endpoint scaling to zero (`async_engine`, the async wiring for the same
    settings), so the three ways to pay only for use are judged on the same requests."""
    always = run(result.config.always_on(), result.traffic)
    queued = (
        summarise_async(run_async(result.config, result.traffic, async_twin(result.config)), prices)
        if with_async
        else None
    )
    return Comparison(
        summarise(result, prices),
        summarise(always, prices),
        serverless(result.config, result.traffic, prices),
        queued,
    )
