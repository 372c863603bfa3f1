"""The async endpoint model: one test per mechanism on tiny hand-made traffic, then properties.

Start-up times are fixed (FIXED), so every consequence is an exact number: a step-policy invocation
at t asks for an instance at t + 5 s; it is in service 180 s (provisioning) + 5 s (0.2 GB image at
25 s/GB) + 40 s (container) later, i.e. at t + 230 s. A request queued at zero in minute 0 gives
HasBacklogWithoutCapacity a 1 for that minute; the alarm (one-minute period, 1 of 1) evaluates it
10 s after the minute closes, at 70 s, and fires the step policy; the instance serves from 300 s.
"""

from __future__ import annotations

import dataclasses
import itertools

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from sagezero.mechanics import Mechanics
from sagezero.settings import EndpointSettings, Mode
from sagezero.simulate import SimConfig
from sagezero.simulate import prices as price_table
from sagezero.simulate import traffic as tg
from sagezero.simulate.async_engine import AsyncResult, run_async
from sagezero.simulate.machinery import AsyncMachinery, StepInterval, async_from_settings
from sagezero.simulate.summary import summarise_async

PRICES = price_table.load()
CPU = EndpointSettings(mode=Mode.ASYNC, instance_type="ml.c5.xlarge", accelerators=0, alarm_period_s=60)
FIXED = Mechanics(instance_provision_s=(180.0, 180.0), image_pull_s_per_gb=(25.0, 25.0), container_start_s=(40.0, 40.0))
BASE = async_from_settings(CPU)
COLD = 230.0
"""Step invocation to an instance in service, with FIXED."""
FIRST_STEP = 70.0
"""The alarm's first step invocation for a request queued in minute 0."""


def sim(
    machinery: AsyncMachinery,
    arrivals: list[float],
    service: float | list[float] = 0.2,
    horizon: float = 3600.0,
    mechanics: Mechanics = FIXED,
) -> AsyncResult:
    a = np.asarray(arrivals, dtype=np.float64)
    s = np.asarray(service, dtype=np.float64) if isinstance(service, list) else np.full(a.size, service)
    cfg = SimConfig(CPU, PRICES.instance(CPU.instance_type), mechanics)
    return run_async(cfg, tg.Traffic(a, s, horizon_s=horizon), machinery)


def with_step(m: AsyncMachinery = BASE, **changes: object) -> AsyncMachinery:
    assert m.step is not None
    return dataclasses.replace(m, step=dataclasses.replace(m.step, **changes))  # type: ignore[arg-type]


def desired_at(r: AsyncResult, t: float) -> int:
    i = int(np.searchsorted(r.timeline.t, t, side="right")) - 1
    return r.timeline.desired[i] if i >= 0 else 0


# ---- one mechanism at a time ---------------------------------------------------------------------


def test_a_request_at_zero_is_queued_and_wakes_the_endpoint_through_has_backlog_without_capacity() -> None:
    r = sim(BASE, [10.0])
    assert r.timeline.alarm_fired[0] == FIRST_STEP
    assert r.started_at[0] == FIRST_STEP + COLD, "queued, then served by the first instance in service"
    assert r.answered_at[0] == pytest.approx(FIRST_STEP + COLD + 0.2)
    assert r.cold.tolist() == [True] and r.unanswered == 0
    assert [(w.asked, w.served, w.first_failure) for w in r.wakes] == [(FIRST_STEP, FIRST_STEP + COLD, 10.0)]


def test_the_alarm_needs_its_datapoints_two_of_two_wakes_a_minute_later() -> None:
    assert BASE.alarm is not None
    two = dataclasses.replace(BASE, alarm=dataclasses.replace(BASE.alarm, evaluation_periods=2, datapoints=2))
    assert sim(two, [10.0]).started_at[0] == FIRST_STEP + 60 + COLD


def test_without_the_wake_alarm_only_a_backlog_above_target_wakes_it() -> None:
    """FACTS: without the step policy the endpoint wakes only once the backlog exceeds the tracking
    target (per instance = backlog at zero instances), after 3 one-minute datapoints above it."""
    no_wake = dataclasses.replace(BASE, alarm=None, max_instances=2)
    assert sim(no_wake, [10.0] * 5).unanswered == 5, "a backlog of 5 is not above the target of 5"
    r = sim(no_wake, [10.0] * 10)
    # minutes 0, 1, 2 above target (8.3, 10, 10): tracking acts 10 s after minute 2 closes
    assert desired_at(r, 190.0) == 2 and desired_at(r, 189.0) == 0
    assert r.started_at.min() == 190.0 + COLD and r.unanswered == 0


def test_step_cooldown_holds_off_the_alarm_repeating_each_minute_in_alarm() -> None:
    three = dataclasses.replace(BASE, max_instances=3)
    eager = sim(with_step(three, cooldown_s=0.0), [10.0])
    assert [desired_at(eager, t) for t in (70, 130, 190)] == [1, 2, 3], "each repeat adds one"
    patient = sim(with_step(three, cooldown_s=600.0), [10.0])
    assert max(patient.timeline.desired) == 1 and patient.timeline.alarm_fired[:4] == [70.0, 130.0, 190.0, 250.0]


def test_max_instances_bounds_the_step_and_tracking() -> None:
    m = with_step(dataclasses.replace(BASE, max_instances=2), steps=(StepInterval(0.0, None, 5.0),))
    r = sim(m, [10.0] * 100, service=30.0, horizon=7200.0)
    assert max(r.timeline.desired) == 2 and max(r.timeline.instances) == 2 and r.peak_instances == 2
    assert r.unanswered == 0


def test_concurrency_per_instance_is_the_number_of_requests_started_together() -> None:
    warm = dataclasses.replace(BASE, min_instances=1, concurrency=4)
    r = sim(warm, [400.0] * 9, service=10.0)
    assert r.started_at.tolist() == [400.0] * 4 + [410.0] * 4 + [420.0]
    assert not r.cold.any()


def test_scale_in_to_zero_after_fifteen_minutes_without_backlog() -> None:
    r = sim(BASE, [10.0])
    # served in minute 5 (a tiny backlog keeps one instance); minutes 6..20 empty: tracking acts 10 s
    # after minute 20 closes; the idle instance stops 30 s later
    assert r.timeline.scale_ins == [21 * 60 + 10.0]
    assert desired_at(r, 21 * 60 + 10.0) == 0 and desired_at(r, 21 * 60 + 9.0) == 1
    assert r.instance_seconds == pytest.approx(21 * 60 + 10 + 30 - (FIRST_STEP + 5))


def test_scale_in_waits_for_the_cooldown() -> None:
    assert BASE.tracking is not None
    slow = dataclasses.replace(BASE, tracking=dataclasses.replace(BASE.tracking, scale_in_cooldown_s=3000.0))
    # the cooldown runs from the wake (70 s) to 3070 s, which is a check time itself (minute 50 + 10 s)
    assert sim(slow, [10.0]).timeline.scale_ins == [FIRST_STEP + 3000]


def test_scale_in_waits_for_in_flight_work() -> None:
    both = with_step(dataclasses.replace(BASE, max_instances=2, concurrency=1, invocation_timeout_s=3600.0),
                     steps=(StepInterval(0.0, None, 2.0),))  # fmt: skip
    r = sim(both, [10.0, 10.0], service=3000.0, horizon=7200.0)
    assert r.started_at.tolist() == [300.0, 300.0] and r.instance_of.tolist() == [0, 1]
    # the backlog per instance (2 before the wake, 1 after) never reached 4.5, so the low alarm holds
    # and tracking scales in when the scale-in cooldown from the wake (70 s) ends, at 370 s, to
    # ceil(2 x 2 / 5) = 1; one busy instance leaves service but stops only 30 s after its request ends
    assert r.timeline.scale_ins[0] == 370.0
    drained = [life for life in r.timeline.lives if life[3] == 370.0]
    assert len(drained) == 1 and drained[0][4] == 3300.0 + 30.0


def test_tracking_scales_out_on_backlog_per_instance() -> None:
    warm = dataclasses.replace(BASE, min_instances=1, max_instances=4, concurrency=1)
    r = sim(warm, [0.0] * 40, service=60.0, horizon=7200.0)
    # 40 queued on one instance: minutes 0..2 average 39.5, 38.5, 37.5 > 5; at 190 s ceil(37.5 / 5) = 8 -> 4
    assert desired_at(r, 190.0) == 4 and desired_at(r, 189.0) == 1


def test_no_capacity_ever_leaves_requests_queued_not_failed() -> None:
    never = dataclasses.replace(BASE, alarm=None, tracking=None)
    r = sim(never, [10.0, 20.0])
    assert r.unanswered == 2 and r.instance_seconds == 0.0 and r.end_s > 3600


def test_a_request_queued_longer_than_its_ttl_expires_unanswered() -> None:
    """RequestTTLSeconds (AWS's default 6 h; sagezero's client sends none): a request still queued 6 h
    after it arrived is marked expired and never runs. Tracking alone (no wake alarm) wakes only when
    six more requests come 7 h later; the first is gone by then, the six are answered."""
    no_wake = dataclasses.replace(BASE, alarm=None)
    later = 7 * 3600.0
    r = sim(no_wake, [10.0, *[later] * 6], horizon=8 * 3600.0)
    assert np.isnan(r.started_at[0]) and np.isnan(r.answered_at[0]), "expired in the queue, never run"
    assert r.expired.tolist() == [True] + [False] * 6 and r.unanswered == 1
    assert not np.isnan(r.answered_at[1:]).any()
    backlog = {q: b for q, b, _ in r.timeline.metrics}
    assert backlog[359] == 1.0 and backlog[360] == pytest.approx(10 / 60), "in the backlog until 21,610 s"
    assert 361 not in backlog, "then nothing to measure"
    s = summarise_async(r, PRICES)
    assert (s.expired, s.timed_out, s.unanswered, s.answered) == (1, 0, 1, 6)


def test_a_request_running_longer_than_the_invocation_timeout_fails_and_frees_its_slot() -> None:
    """InvocationTimeoutSeconds (`async_invocation_timeout_s`, 900 s by default): processing is cut
    there, the request fails and the slot takes the next one."""
    one = dataclasses.replace(BASE, min_instances=1, max_instances=1, concurrency=1, invocation_timeout_s=900.0)
    r = sim(one, [0.0, 1.0], service=[2000.0, 1.0], horizon=7200.0)
    assert r.started_at.tolist() == [0.0, 900.0]
    assert np.isnan(r.answered_at[0]) and r.answered_at[1] == 901.0
    assert r.timed_out.tolist() == [True, False] and r.unanswered == 1
    assert async_from_settings(dataclasses.replace(CPU, async_invocation_timeout_s=120)).invocation_timeout_s == 120


def test_a_drained_instance_is_billed_beside_its_replacement() -> None:
    """Scale-in to 1 of 2 busy instances drains one (it finishes its 3000 s request); a burst then scales out
    to 2 again: a new instance launches while the drained one still works, so three are billed at once —
    never more than the maximum (2) starting or in service."""
    both = with_step(dataclasses.replace(BASE, max_instances=2, concurrency=1, invocation_timeout_s=3600.0),
                     steps=(StepInterval(0.0, None, 2.0),))  # fmt: skip
    r = sim(both, [10.0, 10.0] + [600.0] * 40, service=[3000.0, 3000.0] + [30.0] * 40, horizon=7200.0)
    lives = r.timeline.lives
    assert max(r.timeline.instances) == 3 and max(r.timeline.serving) == 2
    assert _most_at_once([(life[1], life[3]) for life in lives]) == 2
    assert _most_at_once([(life[1], life[4]) for life in lives]) == 3
    assert r.instance_seconds == pytest.approx(sum(life[4] - life[1] for life in lives))


def test_the_run_drains_requests_queued_at_the_horizon() -> None:
    r = sim(BASE, [3590.0], horizon=3600.0)
    assert r.unanswered == 0 and r.answered_at[0] > 3600 and r.end_s >= r.answered_at[0]


def test_the_seed_settings_run_async_with_a_one_minute_alarm() -> None:
    m = async_from_settings(EndpointSettings())
    assert m.alarm is not None and m.alarm.period_s == 60 and m.alarm.statistic == "Average"
    assert m.tracking is not None and m.tracking.target_value == EndpointSettings().async_backlog_target


# ---- properties ------------------------------------------------------------------------------------

FAST = settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])


@st.composite
def runs(draw: st.DrawFn) -> tuple[AsyncMachinery, list[float], list[float], float]:
    n = draw(st.integers(0, 40))
    horizon = draw(st.sampled_from([1800.0, 3600.0, 7200.0]))
    arrivals = sorted(draw(st.lists(st.floats(0, horizon, allow_nan=False), min_size=n, max_size=n)))
    service = draw(st.lists(st.sampled_from([0.2, 5.0, 30.0, 120.0]), min_size=n, max_size=n))
    assert BASE.tracking is not None
    m = dataclasses.replace(
        with_step(BASE, cooldown_s=draw(st.sampled_from([0.0, 60.0, 300.0]))),
        min_instances=draw(st.sampled_from([0, 0, 1])),
        max_instances=draw(st.integers(1, 3)),
        concurrency=draw(st.integers(1, 4)),
        tracking=dataclasses.replace(
            BASE.tracking,
            target_value=draw(st.sampled_from([0.5, 1.0, 5.0])),
            scale_in_cooldown_s=draw(st.sampled_from([0.0, 300.0])),
            scale_out_cooldown_s=draw(st.sampled_from([0.0, 300.0])),
        ),
    )
    return m, arrivals, service, horizon


def _most_at_once(spans: list[tuple[float, float]]) -> int:
    """The most half-open [start, end) spans that overlap at one moment."""
    edges = sorted(
        [(a, 1) for a, b in spans if a < b] + [(b, -1) for a, b in spans if a < b], key=lambda e: (e[0], e[1])
    )
    most = now = 0
    for _t, d in edges:
        now += d
        most = max(most, now)
    return most


def _busy(r: AsyncResult, inst: int, t: float) -> int:
    on = r.instance_of == inst
    return int(((r.started_at <= t) & (t < r.answered_at) & on).sum())


@FAST
@given(runs())
def test_every_request_is_answered_once_and_never_waits_beside_a_free_slot(
    case: tuple[AsyncMachinery, list[float], list[float], float],
) -> None:
    m, arrivals, service, horizon = case
    r = sim(m, arrivals, service, horizon)
    a = np.asarray(arrivals)
    # no request lost: the documented wiring always wakes, and the run drains after the trace
    assert r.unanswered == 0
    assert np.allclose(r.answered_at - r.started_at, service) and (r.started_at >= a).all()
    released = {life[0]: life[4] for life in r.timeline.lives}
    assert all(r.answered_at[j] <= released[int(r.instance_of[j])] for j in range(len(arrivals))), "drained first"
    assert (r.instance_of >= 0).all() and r.end_s >= max(horizon, float(np.nanmax(r.answered_at, initial=0.0)))
    # FIFO: work starts in arrival order, on every instance slot too
    assert (np.diff(r.started_at) >= 0).all()
    k = m.concurrency
    lives = {life[0]: life for life in r.timeline.lives}
    for i in np.flatnonzero(r.started_at > a):  # it waited: every instance in service had all slots busy
        begin, end = a[i], r.started_at[i]
        for ident, _launched, ready, out, _released in lives.values():
            lo, hi = max(begin, ready), min(end, out)
            if lo >= hi:
                continue
            on = r.instance_of == ident
            points = {lo, *(t for t in r.answered_at[on] if lo <= t < hi)}
            assert all(_busy(r, ident, p) == k for p in points), (i, ident, sorted(points))
    # bounds: instances starting or in service never exceed the maximum (one still finishing its work after a
    # scale-in is billed beside a new one: test_a_drained_instance_is_billed_beside_its_replacement)
    assert _most_at_once([(life[1], life[3]) for life in r.timeline.lives]) <= m.max_instances
    assert all(_busy(r, ident, t) <= k for ident in lives for t in r.started_at[r.instance_of == ident])


@FAST
@given(runs())
def test_backlog_metric_is_queued_plus_in_flight_and_cost_is_billed_seconds(
    case: tuple[AsyncMachinery, list[float], list[float], float],
) -> None:
    m, arrivals, service, horizon = case
    r = sim(m, arrivals, service, horizon)
    a, done = np.asarray(arrivals), r.answered_at
    period = FIXED.async_metric_period_s
    tl = r.timeline
    for q, backlog, per in tl.metrics:
        lo, hi = q * period, (q + 1) * period
        overlap = np.clip(np.minimum(done, hi) - np.maximum(a, lo), 0, None).sum() if a.size else 0.0
        assert backlog == pytest.approx(overlap / period, abs=1e-6), q
        # per instance: the same backlog divided by the instances in service (at least 1) at each moment
        cuts = sorted({lo, hi, *(x for x in (*tl.t, *a, *done) if lo < x < hi)})
        expected = 0.0
        for x0, x1 in itertools.pairwise(cuts):
            mid = (x0 + x1) / 2
            j = int(np.searchsorted(tl.t, mid, side="right")) - 1
            in_system = int(((a <= mid) & (mid < done)).sum())
            expected += in_system / max(1, tl.serving[j] if j >= 0 else 0) * (x1 - x0)
        assert per == pytest.approx(expected / period, abs=1e-6), q
    billed = sum(released - launched for _i, launched, _r, _o, released in r.timeline.lives)
    assert r.instance_seconds == pytest.approx(billed)
    s = summarise_async(r, PRICES)
    assert s.cost == pytest.approx(billed / 3600 * PRICES.instance(CPU.instance_type).per_hour)
    assert s.cold == int(r.cold.sum()) and s.answered + s.unanswered == len(arrivals)


@FAST
@given(runs())
def test_requests_queued_at_zero_are_exactly_the_cold_ones(
    case: tuple[AsyncMachinery, list[float], list[float], float],
) -> None:
    m, arrivals, service, horizon = case
    r = sim(m, arrivals, service, horizon)
    tl = r.timeline
    for i, t in enumerate(arrivals):
        j = int(np.searchsorted(tl.t, t, side="right")) - 1
        serving = tl.serving[j] if j >= 0 else 0
        assert bool(r.cold[i]) == (serving == 0), (i, t)
    if m.min_instances:  # the kept instance serves from the start and is billed the whole run
        assert not r.cold.any() and r.instance_seconds >= r.end_s - 1e-6


@FAST
@given(runs(), st.sampled_from([60.0, 300.0, 900.0]), st.sampled_from([10.0, 60.0, 900.0]))
def test_with_a_ttl_and_a_timeout_each_request_ends_once_and_leaves_the_backlog_then(
    case: tuple[AsyncMachinery, list[float], list[float], float], ttl: float, timeout: float
) -> None:
    """Every request is answered, expired in the queue (never started, `ttl` after it arrived) or timed
    out (started, cut `timeout` later) — exactly one — and it counts in the backlog metric until then."""
    m, arrivals, service, horizon = case
    m = dataclasses.replace(m, invocation_timeout_s=timeout)
    r = sim(m, arrivals, service, horizon, mechanics=dataclasses.replace(FIXED, async_request_ttl_s=ttl))
    a, svc = np.asarray(arrivals), np.asarray(service)
    started = ~np.isnan(r.started_at)
    answered = ~np.isnan(r.answered_at)
    assert (answered.astype(int) + r.expired + r.timed_out == 1).all(), "exactly one end"
    assert (r.expired == ~started).all() and (r.timed_out == (started & (svc > timeout))).all()
    assert (r.started_at[started] - a[started] <= ttl + 1e-6).all(), "nothing starts after it expired"
    leaves = np.where(r.expired, a + ttl, np.where(r.timed_out, r.started_at + timeout, r.answered_at))
    period = FIXED.async_metric_period_s
    for q, backlog, _per in r.timeline.metrics:
        lo, hi = q * period, (q + 1) * period
        overlap = np.clip(np.minimum(leaves, hi) - np.maximum(a, lo), 0, None).sum() if a.size else 0.0
        assert backlog == pytest.approx(overlap / period, abs=1e-6), q


def test_the_settings_mode_selects_the_engine() -> None:
    from sagezero.simulate import SimResult, run_mode

    traffic = tg.Traffic(np.asarray([10.0]), np.asarray([0.2]), horizon_s=3600.0)
    queued = run_mode(SimConfig(CPU, PRICES.instance(CPU.instance_type), FIXED), traffic)
    assert isinstance(queued, AsyncResult) and queued.unanswered == 0
    realtime = dataclasses.replace(CPU, mode=Mode.SCALE_TO_ZERO, alarm_period_s=30)
    assert isinstance(run_mode(SimConfig(realtime, PRICES.instance(CPU.instance_type), FIXED), traffic), SimResult)


def test_serverless_is_priced_for_an_async_tenant_only_where_its_instance_type_has_no_accelerator() -> None:
    """An async tenant reserves no accelerators (it has no copies), so its settings say 0 even on a GPU
    type; the serverless column must still say the model needs one, as it does for a real-time tenant."""
    from sagezero.simulate.summary import serverless

    day = tg.sessions(sessions_per_day=5, days=1, seed=1)
    gpu = dataclasses.replace(CPU, instance_type="ml.g5.xlarge")
    on_gpu = serverless(SimConfig(gpu, PRICES.instance("ml.g5.xlarge")), day, PRICES)
    on_cpu = serverless(SimConfig(CPU, PRICES.instance("ml.c5.xlarge")), day, PRICES)
    assert (on_gpu.fits, on_cpu.fits) == (False, True) and "accelerator" in on_gpu.reason
