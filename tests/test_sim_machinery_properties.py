"""Properties the engine keeps for any wiring, broken ones included (hypothesis over `Machinery`).

The policy pack's differential test replays generated wirings; these are the guarantees it relies
on: bounds hold whatever the wiring, nothing wakes a zero endpoint but the alarm's step policy or a
warm, and the run's outcome fields agree with its arrays.
"""

from __future__ import annotations

import numpy as np
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from sagezero.settings import EndpointSettings
from sagezero.simulate import Client, ClientSettings, SimConfig, SimResult, run
from sagezero.simulate import prices as price_table
from sagezero.simulate import traffic as tg
from sagezero.simulate.engine import SERVED, WAITED
from sagezero.simulate.machinery import (
    ADJUSTMENT_TYPES,
    COMPARISONS,
    STATISTICS,
    TREAT_MISSING,
    AlarmSpec,
    Machinery,
    StepInterval,
    StepSpec,
    TrackingSpec,
)

PRICES = price_table.load()
CPU = EndpointSettings(instance_type="ml.c5.xlarge", accelerators=0, min_memory_mb=2048)  # 3 copies an instance
FAST = settings(max_examples=20, deadline=None, suppress_health_check=[HealthCheck.too_slow])
BOUND = st.none() | st.sampled_from([-1.0, 0.0, 0.5, 1.0, 2.0])


@st.composite
def alarms(draw: st.DrawFn) -> AlarmSpec:
    n = draw(st.integers(1, 4))
    return AlarmSpec(
        period_s=draw(st.sampled_from([10.0, 20.0, 30.0, 60.0, 120.0])),
        evaluation_periods=n,
        datapoints=draw(st.integers(1, n)),
        statistic=draw(st.sampled_from(STATISTICS)),
        comparison=draw(st.sampled_from(COMPARISONS)),
        threshold=draw(st.sampled_from([0.0, 0.5, 1.0, 2.0])),
        treat_missing=draw(st.sampled_from(TREAT_MISSING)),
        actions_enabled=draw(st.booleans()),
        sees_failures=draw(st.booleans()),
        fires_step=draw(st.booleans()),
    )


@st.composite
def steps(draw: st.DrawFn) -> StepSpec:
    intervals = draw(st.lists(st.builds(StepInterval, BOUND, BOUND, st.sampled_from([-2.0, -1.0, 0.0, 1.0, 2.0, 50.0])),
                              min_size=1, max_size=3))  # fmt: skip
    return StepSpec(
        adjustment_type=draw(st.sampled_from(ADJUSTMENT_TYPES)),
        steps=tuple(intervals),
        cooldown_s=draw(st.sampled_from([0.0, 60.0, 600.0])),
        min_adjustment_magnitude=draw(st.none() | st.integers(1, 2)),
        metric_aggregation=draw(st.sampled_from(["Maximum", "Minimum", "Average"])),
    )


@st.composite
def machineries(draw: st.DrawFn) -> Machinery:
    tracking = st.builds(
        TrackingSpec,
        target_value=st.sampled_from([0.5, 1.0, 5.0]),
        scale_in_cooldown_s=st.sampled_from([0.0, 300.0]),
        scale_out_cooldown_s=st.sampled_from([0.0, 300.0]),
        scale_in_enabled=st.booleans(),
        metric_applies=st.booleans(),
    )
    return Machinery(
        min_copies=draw(st.integers(0, 2)),
        max_copies=draw(st.integers(0, 4)),
        scale_out_suspended=draw(st.booleans()),
        scale_in_suspended=draw(st.booleans()),
        alarm=draw(st.none() | alarms()),
        step=draw(st.none() | steps()),
        tracking=draw(st.none() | tracking),
        managed_instance_scaling=draw(st.booleans()),
        min_instances=draw(st.integers(0, 2)),
        max_instances=draw(st.integers(0, 3)),
    )


@st.composite
def wired(draw: st.DrawFn) -> tuple[SimConfig, tg.Traffic]:
    seed = draw(st.integers(0, 2**16))
    if draw(st.booleans()):
        traffic = tg.sessions(sessions_per_day=draw(st.integers(1, 50)), days=1, seed=seed)
    else:
        # Up to 2,000 a day: a wiring that never wakes under a retrying client replays every request up
        # to its deadline (~35 attempts each), and 20,000 made single examples take seconds.
        traffic = tg.poisson(requests_per_day=draw(st.integers(10, 2_000)), days=1, seed=seed)
    modes = [Client.PLAIN, Client.RETRY] + ([Client.WARM] if traffic.logins.size else [])
    client = ClientSettings(draw(st.sampled_from(modes)), hold_s=draw(st.sampled_from([0.0, 600.0])))
    cfg = SimConfig(CPU, PRICES.instance(CPU.instance_type), client=client, seed=seed, machinery=draw(machineries()))
    return cfg, traffic


def _serving_at(r: SimResult, times: np.ndarray) -> np.ndarray:
    idx = np.searchsorted(np.asarray(r.timeline.t), times, side="right") - 1
    return np.where(idx >= 0, np.asarray(r.timeline.serving)[np.maximum(idx, 0)], 0)


@FAST
@given(wired())
def test_bounds_hold_for_any_wiring(case: tuple[SimConfig, tg.Traffic]) -> None:
    cfg = case[0]
    m, r = cfg.scaling, run(*case)
    assert max(r.timeline.desired, default=0) <= cfg.max_copies()
    assert max(r.timeline.serving, default=0) <= cfg.max_copies()
    assert all(m.instances_kept() <= i <= max(m.instance_ceiling(), m.instances_kept()) for i in r.timeline.instances)
    served = (r.outcome == SERVED) | (r.outcome == WAITED)
    assert (_serving_at(r, r.routed_at[served]) >= 1).all(), "served only while a copy serves"


@FAST
@given(wired())
def test_only_the_alarm_or_a_warm_wakes_a_zero_endpoint(case: tuple[SimConfig, tg.Traffic]) -> None:
    cfg = case[0]
    m, r = cfg.scaling, run(*case)
    if not m.alarm_runs_step():
        assert r.timeline.alarm_fired == [] and r.step_fired_while_serving == 0
        if m.min_copies == 0 and cfg.client.mode is Client.PLAIN:
            assert r.peak_copies == 0, "a plain client never warms: nothing else adds a copy at zero"
    assert r.step_fired_while_serving <= len(r.timeline.alarm_fired)


@FAST
@given(wired())
def test_outcome_fields_agree_with_the_run(case: tuple[SimConfig, tg.Traffic]) -> None:
    r = run(*case)
    served = (r.outcome == SERVED) | (r.outcome == WAITED)
    assert (r.first_served_at is None) == (not served.any())
    if r.first_served_at is not None:
        assert r.first_served_at == (r.traffic.arrivals + r.wait_s)[served].min()
    assert r.peak_copies == max(r.timeline.serving, default=0)
    if r.ends_at_zero:
        assert r.zero_after_last_request_at is not None and r.zero_after_last_request_at >= r.last_request_at
    if r.zero_after_last_request_at is None:
        assert not r.ends_at_zero
