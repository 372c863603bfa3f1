"""Each AWS mechanism the simulator models, pinned one at a time on tiny hand-made traffic.

The start-up times are fixed (FIXED), so every consequence is an exact number: a step-policy
invocation at t asks SageMaker for a copy at t + 5 s, the instance is ready 180 s later, the image
takes 5 s and the container 40 s, so a copy serves at t + 230 s (t + 50 s on a kept instance, whose
image still has to be pulled once). The alarm evaluates a period 10 s after it closes and repeats its
action each minute while in ALARM. ml.c5.xlarge with 1 GB a copy holds 7 copies per instance, so
instance limits only matter where a test sets them.
"""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest

from sagezero.mechanics import Mechanics
from sagezero.settings import EndpointSettings
from sagezero.simulate import Client, ClientSettings, SimConfig, run, step
from sagezero.simulate import alarm as cw
from sagezero.simulate import prices as price_table
from sagezero.simulate import traffic as tg
from sagezero.simulate.engine import FAILED, SERVED, SimResult
from sagezero.simulate.machinery import AlarmSpec, Machinery, StepInterval, StepSpec, TrackingSpec, from_settings

PRICES = price_table.load()
CPU = EndpointSettings(instance_type="ml.c5.xlarge", accelerators=0, min_memory_mb=1024, max_copies=5)
FIXED = Mechanics(instance_provision_s=(180.0, 180.0), image_pull_s_per_gb=(25.0, 25.0), container_start_s=(40.0, 40.0))
BASE = from_settings(CPU)
COLD = 230.0
"""Step invocation to a serving copy on a fresh instance, with FIXED."""


def sim(machinery: Machinery, arrivals: list[float], horizon: float = 3600.0, mode: Client = Client.PLAIN,
        mechanics: Mechanics = FIXED) -> SimResult:  # fmt: skip
    a = np.asarray(arrivals, dtype=np.float64)
    traffic = tg.Traffic(a, np.full(a.size, 0.2), horizon_s=horizon)
    cfg = SimConfig(CPU, PRICES.instance(CPU.instance_type), mechanics, ClientSettings(mode=mode), machinery=machinery)
    return run(cfg, traffic)


def with_alarm(m: Machinery = BASE, **changes: object) -> Machinery:
    assert m.alarm is not None
    return dataclasses.replace(m, alarm=dataclasses.replace(m.alarm, **changes))  # type: ignore[arg-type]


def with_step(m: Machinery = BASE, **changes: object) -> Machinery:
    assert m.step is not None
    return dataclasses.replace(m, step=dataclasses.replace(m.step, **changes))  # type: ignore[arg-type]


def desired_at(r: SimResult, t: float) -> int:
    i = int(np.searchsorted(r.timeline.t, t, side="right")) - 1
    return r.timeline.desired[i] if i >= 0 else 0


# ---- the alarm, as pure functions ---------------------------------------------------------------


@pytest.mark.parametrize(
    ("statistic", "expected"),
    [("Maximum", 1.0), ("Minimum", 0.0), ("Sum", 2.0), ("SampleCount", 5.0), ("Average", 0.4)],
)
def test_datapoint_statistic_over_one_sample_per_invocation(statistic: str, expected: float) -> None:
    assert cw.datapoint(statistic, failures=2, served=3) == expected


def test_datapoint_edges() -> None:
    assert cw.datapoint("Maximum", 0, 0) is None, "no invocation: missing data"
    assert cw.datapoint("Maximum", 0, 4) == 0.0
    assert cw.datapoint("Minimum", 3, 0) == 1.0
    assert cw.datapoint("Average", 0, 4) == 0.0


@pytest.mark.parametrize(
    ("comparison", "below", "at", "above"),
    [
        ("GreaterThanOrEqualToThreshold", False, True, True),
        ("GreaterThanThreshold", False, False, True),
        ("LessThanThreshold", True, False, False),
        ("LessThanOrEqualToThreshold", True, True, False),
    ],
)
def test_comparison_against_threshold(comparison: str, below: bool, at: bool, above: bool) -> None:
    assert [cw.breaches(comparison, v, 1.0) for v in (0.5, 1.0, 1.5)] == [below, at, above]


def test_m_of_n_counts_breaching_datapoints() -> None:
    two_of_three = AlarmSpec(evaluation_periods=3, datapoints=2)
    assert cw.evaluate(two_of_three, [1.0, 0.0, 1.0], cw.OK) == cw.ALARM
    assert cw.evaluate(two_of_three, [1.0, 0.0, 0.0], cw.ALARM) == cw.OK
    assert cw.evaluate(two_of_three, [0.0, None, None], cw.ALARM) == cw.OK, "missing: a present 0 decides"
    assert cw.evaluate(two_of_three, [1.0, None, None], cw.OK) == cw.INSUFFICIENT_DATA, "too few, none against"


@pytest.mark.parametrize(
    ("window", "missing", "ignore", "breaching", "not_breaching"),
    [
        # CloudWatch user guide, "How alarm state is evaluated when data is missing", the 2-of-3 table
        # (its rows read without the look-back before the window, which is not modelled): X breaches,
        # 0 does not, None is missing; "keep" is "Retain current state".
        ([1.0, None, 1.0], cw.ALARM, cw.ALARM, cw.ALARM, cw.ALARM),
        ([1.0, 0.0, 1.0], cw.ALARM, cw.ALARM, cw.ALARM, cw.ALARM),
        ([None, None, 0.0], cw.OK, cw.OK, cw.ALARM, cw.OK),
        ([None, None, 1.0], cw.INSUFFICIENT_DATA, "keep", cw.ALARM, cw.OK),
        ([None, None, None], cw.INSUFFICIENT_DATA, "keep", cw.ALARM, cw.OK),
    ],
)
def test_m_of_n_with_missing_data_follows_cloudwatchs_table(
    window: list[float | None], missing: str, ignore: str, breaching: str, not_breaching: str
) -> None:
    for treat, expected in (("missing", missing), ("ignore", ignore), ("breaching", breaching),
                            ("notBreaching", not_breaching)):  # fmt: skip
        spec = AlarmSpec(evaluation_periods=3, datapoints=2, treat_missing=treat)
        for state in (cw.OK, cw.ALARM, cw.INSUFFICIENT_DATA):
            want = state if expected == "keep" else expected
            assert cw.evaluate(spec, window, state) == want, (treat, window, state)


@pytest.mark.parametrize(
    ("treat", "window", "state", "expected"),
    [
        ("missing", [None, None], cw.ALARM, cw.INSUFFICIENT_DATA),
        ("missing", [None, 1.0], cw.OK, cw.INSUFFICIENT_DATA),  # 2 of 2 needed, one present and breaching
        ("missing", [None, 0.0], cw.ALARM, cw.OK),
        ("ignore", [None, 1.0], cw.ALARM, cw.ALARM),  # too few to decide: the state is kept
        ("ignore", [None, 1.0], cw.OK, cw.OK),
        ("breaching", [None, None], cw.OK, cw.ALARM),
        ("breaching", [None, 0.0], cw.ALARM, cw.OK),
        ("notBreaching", [None, None], cw.ALARM, cw.OK),
        ("notBreaching", [1.0, None], cw.OK, cw.OK),
        ("ignore", [None, None], cw.ALARM, cw.ALARM),
        ("ignore", [None, None], cw.INSUFFICIENT_DATA, cw.INSUFFICIENT_DATA),
        ("ignore", [None, 0.0], cw.ALARM, cw.OK),
    ],
)
def test_treat_missing_data(treat: str, window: list[float | None], state: str, expected: str) -> None:
    spec = AlarmSpec(evaluation_periods=2, datapoints=2, treat_missing=treat)
    assert cw.evaluate(spec, window, state) == expected


def test_breach_delta_aggregates_present_datapoints() -> None:
    window: list[float | None] = [3.0, None, 1.0]
    assert cw.breach_delta("Maximum", window, 1.0) == 2.0
    assert cw.breach_delta("Minimum", window, 1.0) == 0.0
    assert cw.breach_delta("Average", window, 1.0) == 1.0
    assert cw.breach_delta("Maximum", [None, None], 1.0) == 0.0, "all missing: at the threshold"


# ---- the step policy, as pure functions ---------------------------------------------------------


def test_step_interval_lower_inclusive_upper_exclusive() -> None:
    steps = (StepInterval(None, 0.0, -1.0), StepInterval(0.0, 2.0, 1.0), StepInterval(2.0, None, 3.0))
    assert [step.interval(steps, d) for d in (-0.5, 0.0, 1.99, 2.0, 50.0)] == [
        steps[0], steps[1], steps[1], steps[2], steps[2]
    ]  # fmt: skip
    assert step.interval((StepInterval(1.0, None, 1.0),), 0.0) is None


def test_step_adjustment_types() -> None:
    assert step.new_capacity("ChangeInCapacity", 2, desired=1, min_magnitude=None) == 3
    assert step.new_capacity("ChangeInCapacity", -1, desired=1, min_magnitude=None) == 0
    assert step.new_capacity("ExactCapacity", 4, desired=1, min_magnitude=None) == 4
    assert step.new_capacity("ExactCapacity", 0, desired=3, min_magnitude=None) == 0
    assert step.new_capacity("PercentChangeInCapacity", 50, desired=3, min_magnitude=None) == 4  # 1.5 -> 1
    assert step.new_capacity("PercentChangeInCapacity", -50, desired=3, min_magnitude=None) == 2  # -1.5 -> -1
    assert step.new_capacity("PercentChangeInCapacity", 100, desired=0, min_magnitude=None) == 0
    assert step.new_capacity("PercentChangeInCapacity", 100, desired=0, min_magnitude=1) == 1
    assert step.new_capacity("PercentChangeInCapacity", 10, desired=5, min_magnitude=2) == 7
    assert step.new_capacity("PercentChangeInCapacity", -10, desired=5, min_magnitude=2) == 3


def test_step_apply_without_a_matching_interval_does_nothing() -> None:
    spec = StepSpec(steps=(StepInterval(1.0, None, 1.0),))
    assert step.apply(spec, desired=0, delta=0.0) is None
    assert step.apply(spec, desired=0, delta=1.0) == 1


# ---- the alarm in the engine ----------------------------------------------------------------------


def test_a_failure_puts_the_alarm_in_alarm_when_its_period_is_evaluated() -> None:
    r = sim(BASE, [100.0])  # period 3 of 30 s closes at 120, evaluated at 130
    assert r.timeline.alarm_states[:2] == [(130.0, cw.ALARM), (160.0, cw.INSUFFICIENT_DATA)]
    assert r.timeline.alarm_fired == [130.0]
    assert r.wakes[0].asked == 130.0 and r.wakes[0].served == 130.0 + COLD


@pytest.mark.parametrize(("period", "fired"), [(10.0, 120.0), (20.0, 130.0), (60.0, 130.0), (120.0, 130.0)])
def test_alarm_period_sets_when_the_failure_is_evaluated(period: float, fired: float) -> None:
    r = sim(with_alarm(period_s=period), [100.0])
    assert r.timeline.alarm_fired[0] == fired


def test_an_action_due_as_the_alarm_leaves_alarm_still_runs() -> None:
    """Period 120 s: ALARM at 130 (period 0), repeat at 190 and 250; period 1 is missing and is
    evaluated at 250 too. The repeat due at that instant belongs to the minute in ALARM before it."""
    r = sim(with_alarm(period_s=120.0), [100.0])
    assert r.timeline.alarm_states[:2] == [(130.0, cw.ALARM), (250.0, cw.INSUFFICIENT_DATA)]
    assert r.timeline.alarm_fired == [130.0, 190.0, 250.0]


def test_alarm_threshold_above_what_the_statistic_reaches_never_fires() -> None:
    r = sim(with_alarm(threshold=2.0), [100.0, 101.0, 102.0])  # Maximum is at most 1
    assert r.timeline.alarm_fired == [] and r.wakes == []
    assert r.first_served_at is None


def test_alarm_statistic_sum_counts_failures_in_the_period() -> None:
    two = with_alarm(statistic="Sum", threshold=2.0)
    assert sim(two, [100.0]).timeline.alarm_fired == []
    assert sim(two, [100.0, 110.0]).timeline.alarm_fired == [130.0]
    assert sim(two, [100.0, 125.0]).timeline.alarm_fired == [], "two periods, one failure each"


def test_alarm_m_of_n_needs_datapoints_breaching_within_evaluation_periods() -> None:
    two_of_three = with_alarm(evaluation_periods=3, datapoints=2)
    assert sim(two_of_three, [5.0, 65.0]).timeline.alarm_fired == [100.0], "periods 0 and 2"
    assert sim(two_of_three, [5.0, 95.0]).timeline.alarm_fired == [], "periods 0 and 3: never 2 in a window"


def test_alarm_that_does_not_see_the_failures_never_fires() -> None:
    r = sim(with_alarm(sees_failures=False), [100.0, 200.0])
    assert r.timeline.alarm_states == [] and r.timeline.alarm_fired == [] and r.wakes == []


@pytest.mark.parametrize("change", [{"actions_enabled": False}, {"fires_step": False}])
def test_alarm_without_the_step_action_changes_state_but_never_scales(change: dict[str, bool]) -> None:
    r = sim(with_alarm(BASE, **change), [100.0])
    assert r.timeline.alarm_states[0] == (130.0, cw.ALARM)
    assert r.timeline.alarm_fired == [] and r.wakes == [] and r.instance_seconds == 0


def test_no_alarm_or_no_step_policy_never_wakes() -> None:
    for m in (dataclasses.replace(BASE, alarm=None), dataclasses.replace(BASE, step=None)):
        r = sim(m, [100.0, 500.0])
        assert r.wakes == [] and (r.outcome == FAILED).all()


def test_breaching_missing_data_wakes_an_idle_endpoint_again_and_again() -> None:
    r = sim(with_alarm(treat_missing="breaching"), [], horizon=4 * 3600.0)
    assert r.timeline.alarm_states[0] == (40.0, cw.ALARM), "period 0, all missing, evaluated at 40"
    assert r.timeline.alarm_fired[:3] == [40.0, 100.0, 160.0], "and the action repeats each minute"
    assert len(r.wakes) >= 3, "tracking takes the copy away, the alarm brings it back"
    assert r.step_fired_while_serving > 0


def test_not_breaching_missing_data_settles_ok_without_firing() -> None:
    r = sim(with_alarm(treat_missing="notBreaching"), [], horizon=600.0)
    assert r.timeline.alarm_states == [(40.0, cw.OK)] and r.timeline.alarm_fired == []


def test_ignore_missing_data_keeps_the_alarm_in_alarm_and_its_action_repeating() -> None:
    m = dataclasses.replace(with_alarm(treat_missing="ignore"), tracking=None)
    r = sim(m, [100.0], horizon=600.0)
    assert r.timeline.alarm_states == [(130.0, cw.ALARM)]
    assert r.timeline.alarm_fired == [130.0, 190.0, 250.0, 310.0, 370.0, 430.0, 490.0, 550.0]


def test_served_requests_are_datapoints_so_the_alarm_goes_ok_then_back_to_insufficient_data() -> None:
    """Steady traffic on a serving copy: period 3 (0 samples) puts the alarm in OK; the first period
    without a request after each burst, back in INSUFFICIENT_DATA (missing data)."""
    m = dataclasses.replace(BASE, min_copies=1)
    burst = np.arange(100.0, 400.0, 5.0).tolist() + np.arange(700.0, 800.0, 5.0).tolist()
    r = sim(m, burst, horizon=1200.0)
    assert r.timeline.alarm_states == [(130.0, cw.OK), (460.0, cw.INSUFFICIENT_DATA), (730.0, cw.OK),
                                       (850.0, cw.INSUFFICIENT_DATA)]  # fmt: skip


def test_comparison_less_than_trips_on_a_serving_endpoint() -> None:
    """LessThanThreshold 1 on Maximum: every served request (a 0 sample) breaches, by -1."""
    m = dataclasses.replace(with_alarm(comparison="LessThanThreshold"), min_copies=1, max_copies=3)
    r = sim(m, [100.0])
    assert r.timeline.alarm_fired == [130.0] and r.step_fired_while_serving == 1
    assert desired_at(r, 130.0) == 1, "the seed's step interval starts at 0: a breach of -1 is in none"
    below = with_step(m, steps=(StepInterval(None, 0.0, 1.0),))
    assert desired_at(sim(below, [100.0]), 130.0) == 2


def test_served_requests_are_missing_data_when_the_metric_has_no_zero_samples() -> None:
    m = dataclasses.replace(with_alarm(comparison="LessThanThreshold"), min_copies=1, max_copies=3)
    r = sim(m, [100.0], mechanics=dataclasses.replace(FIXED, no_capacity_zero_samples=0))
    assert r.timeline.alarm_fired == [] and r.step_fired_while_serving == 0


# ---- the step policy in the engine ----------------------------------------------------------------


def _repeating(cooldown: float) -> Machinery:
    """One failure, then an alarm that stays in ALARM (ignore) and no tracking: only the step acts."""
    m = with_step(with_alarm(treat_missing="ignore"), cooldown_s=cooldown)
    return dataclasses.replace(m, tracking=None)


def test_step_cooldown_swallows_firings_inside_it() -> None:
    r = sim(_repeating(600.0), [100.0], horizon=800.0)
    assert len(r.timeline.alarm_fired) == 12  # 130, 190, ..., 790
    assert desired_at(r, 729.0) == 1, "ten firings inside the cooldown add one copy"
    assert desired_at(r, 730.0) == 2, "the first one after it adds the second"


def test_step_without_cooldown_adds_a_copy_per_firing_up_to_max_copies() -> None:
    r = sim(_repeating(0.0), [100.0], horizon=800.0)
    assert [desired_at(r, t) for t in (130.0, 190.0, 250.0, 310.0, 370.0, 430.0)] == [1, 2, 3, 4, 5, 5]


def test_step_interval_that_does_not_contain_the_breach_does_nothing() -> None:
    r = sim(with_step(steps=(StepInterval(1.0, None, 1.0),)), [100.0, 500.0])
    assert r.timeline.alarm_fired == [130.0, 520.0] and r.wakes == []


def test_step_breach_delta_selects_the_interval_and_negative_adjustments_remove_copies() -> None:
    """Alarm at >= 0 on Maximum: a failure is a breach of +1 (two copies), a served request of 0 (one fewer)."""
    steps = (StepInterval(1.0, None, 2.0), StepInterval(0.0, 1.0, -1.0))
    # The second firing (430 s) must fall outside the step cooldown, whatever the setting's default.
    m = dataclasses.replace(with_step(with_alarm(threshold=0.0), steps=steps, cooldown_s=60.0), tracking=None)
    r = sim(m, [100.0, 400.0])
    assert desired_at(r, 130.0) == 2 and r.outcome[1] == SERVED
    assert desired_at(r, 430.0) == 1


def test_scale_in_suspended_blocks_negative_step_adjustments() -> None:
    steps = (StepInterval(1.0, None, 2.0), StepInterval(0.0, 1.0, -1.0))
    m = with_step(with_alarm(threshold=0.0), steps=steps, cooldown_s=60.0)  # outside the cooldown, as above
    m = dataclasses.replace(m, tracking=None, scale_in_suspended=True)
    assert desired_at(sim(m, [100.0, 400.0]), 430.0) == 2


def test_step_exact_capacity_sets_the_count_within_max_copies() -> None:
    r = sim(with_step(adjustment_type="ExactCapacity", steps=(StepInterval(0.0, None, 3.0),)), [100.0])
    assert desired_at(r, 130.0) == 3
    capped = dataclasses.replace(with_step(adjustment_type="ExactCapacity", steps=(StepInterval(0.0, None, 9.0),)))
    assert desired_at(sim(capped, [100.0]), 130.0) == 5


def test_step_percent_change_cannot_wake_zero_copies_without_a_minimum_magnitude() -> None:
    pct = _repeating(60.0)
    pct = with_step(pct, adjustment_type="PercentChangeInCapacity", steps=(StepInterval(0.0, None, 100.0),))
    assert sim(pct, [100.0], horizon=400.0).wakes == []
    r = sim(with_step(pct, min_adjustment_magnitude=1), [100.0], horizon=400.0)
    assert [desired_at(r, t) for t in (130.0, 190.0, 250.0)] == [1, 2, 4]


def test_scale_out_suspended_keeps_the_step_from_waking() -> None:
    r = sim(dataclasses.replace(BASE, scale_out_suspended=True), [100.0, 500.0])
    assert r.timeline.alarm_fired == [130.0, 520.0] and r.wakes == [] and r.peak_copies == 0


# ---- the scalable target --------------------------------------------------------------------------


def test_max_copies_zero_means_no_copy_ever() -> None:
    r = sim(dataclasses.replace(BASE, max_copies=0), [100.0, 500.0])
    assert r.wakes == [] and r.instance_seconds == 0 and r.peak_copies == 0


def test_min_copies_keeps_copies_serving_from_the_start() -> None:
    r = sim(dataclasses.replace(BASE, min_copies=2), [100.0], horizon=3600.0)
    assert r.timeline.serving[0] == 2 and r.ends_at_zero is False
    assert r.outcome[0] == SERVED and r.no_capacity_answers == 0


# ---- target tracking ------------------------------------------------------------------------------


def test_seed_tracking_returns_to_zero_after_the_scale_in_window() -> None:
    r = sim(BASE, [100.0, 400.0])
    # copy serves at 360; the 600 s window from there ends at 960, the next minute tick is 970, but
    # the request at 400 (its 10 s period ends 410) keeps the last copy until 1030.
    assert r.zero_after_last_request_at == 1030.0 and r.ends_at_zero


def test_tracking_scale_in_cooldown_delays_the_return_to_zero() -> None:
    assert BASE.tracking is not None
    slow = dataclasses.replace(BASE, tracking=dataclasses.replace(BASE.tracking, scale_in_cooldown_s=1500.0))
    r = sim(slow, [100.0, 400.0])
    assert r.zero_after_last_request_at == 1630.0  # last activity 130 + 1500, on the minute tick


@pytest.mark.parametrize(
    "machinery",
    [
        dataclasses.replace(BASE, tracking=None),
        dataclasses.replace(BASE, tracking=TrackingSpec(metric_applies=False)),
        dataclasses.replace(BASE, tracking=TrackingSpec(scale_in_enabled=False)),
        dataclasses.replace(BASE, scale_in_suspended=True),
    ],
    ids=["no-policy", "other-metric", "scale-in-disabled", "scale-in-suspended"],
)
def test_without_tracking_scale_in_the_copy_never_leaves(machinery: Machinery) -> None:
    r = sim(machinery, [100.0, 400.0], horizon=6 * 3600.0)
    assert r.first_served_at == 400.0
    assert r.zero_after_last_request_at is None and not r.ends_at_zero


BUSY = [100.0, *np.arange(400.0, 900.0, 0.5).tolist(), *np.arange(900.0, 1400.0, 0.125).tolist()]
"""A wake, then 2 requests a second of 0.3 s (load 0.6), then 8 a second (load 2.4); copies take 8 at
once, so the load is concurrency, never a queue."""


def _busy(m: Machinery) -> SimResult:
    a = np.asarray(BUSY)
    traffic = tg.Traffic(a, np.full(a.size, 0.3), horizon_s=3600.0)
    mechanics = dataclasses.replace(FIXED, copy_concurrency=8)
    cfg = SimConfig(CPU, PRICES.instance(CPU.instance_type), mechanics, ClientSettings(Client.PLAIN), machinery=m)
    return run(cfg, traffic)


def test_tracking_scales_out_above_its_target() -> None:
    assert BASE.tracking is not None
    assert _busy(BASE).peak_copies == 1, "target 5: 2.4 is below it"
    three = dataclasses.replace(BASE, tracking=dataclasses.replace(BASE.tracking, target_value=1.0))
    assert _busy(three).peak_copies == 3  # ceil(2.4 / 1)


@pytest.mark.parametrize(
    "change",
    [{"scale_out_suspended": True}, {"tracking": TrackingSpec(target_value=1.0, metric_applies=False)}],
    ids=["scale-out-suspended", "other-metric"],
)
def test_tracking_cannot_scale_out(change: dict[str, object]) -> None:
    assert BASE.tracking is not None
    m = dataclasses.replace(BASE, min_copies=1, tracking=dataclasses.replace(BASE.tracking, target_value=1.0))
    assert _busy(m).peak_copies == 3
    assert _busy(dataclasses.replace(m, **change)).peak_copies == 1  # type: ignore[arg-type]


def test_tracking_scale_out_cooldown_spaces_scale_outs() -> None:
    assert BASE.tracking is not None
    fast = dataclasses.replace(BASE, tracking=TrackingSpec(target_value=0.5, scale_out_cooldown_s=0.0))
    slow = dataclasses.replace(BASE, tracking=TrackingSpec(target_value=0.5, scale_out_cooldown_s=3600.0))
    assert _busy(fast).peak_copies == 5, "0.6 on one copy asks for 2, then 2.4 for 5"
    assert _busy(slow).peak_copies == 2, "the second scale-out waits for the cooldown"


# ---- instances ----------------------------------------------------------------------------------


def test_max_instances_zero_never_places_a_copy() -> None:
    r = sim(dataclasses.replace(BASE, max_instances=0), [100.0, 500.0])
    assert r.peak_copies == 0 and r.instance_seconds == 0 and r.wakes == []


def test_without_managed_instance_scaling_instances_are_fixed_and_always_billed() -> None:
    r = sim(dataclasses.replace(BASE, managed_instance_scaling=False), [100.0, 400.0], horizon=7200.0)
    assert r.instance_seconds == 7200.0 and r.timeline.instances[0] == 1 and r.timeline.instances[-1] == 1
    assert r.wakes[0].served == 130.0 + 50.0, "no provisioning: request, image pull, container"
    two = sim(dataclasses.replace(BASE, managed_instance_scaling=False, min_instances=2), [], horizon=7200.0)
    assert two.instance_seconds == 2 * 7200.0


def test_min_instances_are_kept_and_billed_under_managed_instance_scaling() -> None:
    r = sim(dataclasses.replace(BASE, min_instances=1), [100.0, 400.0], horizon=7200.0)
    assert r.instance_seconds == 7200.0 and min(r.timeline.instances) == 1
    assert r.wakes[0].served == 130.0 + 50.0 and r.ends_at_zero
    plain = sim(BASE, [100.0, 400.0], horizon=7200.0)
    assert plain.timeline.instances[-1] == 0 and plain.instance_seconds < 7200.0


# ---- what a run reports for the policy pack's differential test -----------------------------------


def test_run_outcome_fields_for_the_seed_wiring() -> None:
    r = sim(BASE, [100.0, 400.0])
    assert r.first_served_at == 400.0 and r.last_request_at == pytest.approx(400.2)
    assert r.zero_after_last_request_at == 1030.0 and r.ends_at_zero
    assert r.step_fired_while_serving == 0 and r.peak_copies == 1
    quiet = sim(BASE, [])
    assert quiet.first_served_at is None and quiet.zero_after_last_request_at == 0.0 and quiet.peak_copies == 0


def test_a_machinery_the_engine_cannot_run_is_refused_before_the_run() -> None:
    with pytest.raises(ValueError, match="alarm statistic 'Max' is not one of"):
        sim(with_alarm(statistic="Max"), [])
    with pytest.raises(ValueError, match="step adjustment type 'Change'"):
        sim(with_step(adjustment_type="Change"), [])
    with pytest.raises(ValueError, match="2 of 1 datapoints"):
        sim(with_alarm(datapoints=2), [])
    assert BASE.problems() == []


def test_step_bounds_read_the_other_way_for_an_alarm_that_breaches_below_its_threshold() -> None:
    steps = (StepInterval(None, 0.0, 1.0),)
    assert step.interval(steps, 0.0) is None, "above: the upper bound is exclusive"
    assert step.interval(steps, 0.0, below=True) == steps[0], "below: the upper bound is inclusive"
    lower = (StepInterval(0.0, None, 1.0),)
    assert step.interval(lower, 0.0) == lower[0]
    assert step.interval(lower, 0.0, below=True) is None, "below: the lower bound is exclusive"
