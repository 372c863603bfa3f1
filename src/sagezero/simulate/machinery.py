"""The scaling machinery of one tenant, as AWS runs it: the alarm, the policies, the target, the instances.

The simulator replays traffic through a `Machinery`, never through settings directly, so it can run
what sagezero deploys (`from_settings`) and equally any wiring read out of a program, a stack export
or a live account (`sagezero.simulate.wired`) — including broken ones. That is what lets the
simulator act as an independent oracle for the policy pack: a wiring the pack passes must wake and
return to zero when replayed here.

Pure data: no numpy, no boto3, no Pulumi.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from sagezero.settings import ASYNC_ALARM_PERIOD_S, EndpointSettings, Mode

STATISTICS = ("Maximum", "Minimum", "Sum", "SampleCount", "Average")
COMPARISONS = (
    "GreaterThanOrEqualToThreshold",
    "GreaterThanThreshold",
    "LessThanThreshold",
    "LessThanOrEqualToThreshold",
)
TREAT_MISSING = ("missing", "notBreaching", "breaching", "ignore")
ADJUSTMENT_TYPES = ("ChangeInCapacity", "ExactCapacity", "PercentChangeInCapacity")
AGGREGATIONS = ("Maximum", "Minimum", "Average")


@dataclass(frozen=True)
class StepInterval:
    """One step adjustment; bounds are relative to the alarm threshold (None: unbounded)."""

    lower: float | None
    upper: float | None
    adjustment: float


@dataclass(frozen=True)
class AlarmSpec:
    """The wake alarm. The metric's datapoints per period follow `Mechanics` (one sample per invocation:
    1 for a no-capacity failure, 0 for any other answer); a period without invocations is missing data."""

    period_s: float = 30.0
    evaluation_periods: int = 1
    datapoints: int = 1
    statistic: str = "Maximum"
    comparison: str = "GreaterThanOrEqualToThreshold"
    threshold: float = 1.0
    treat_missing: str = "missing"
    actions_enabled: bool = True
    sees_failures: bool = True
    """The alarm's metric and exact dimension set select this component's wake signal — its
    NoCapacityInvocationFailures series, or an async endpoint's HasBacklogWithoutCapacity; False: the alarm
    only ever sees missing data."""
    fires_step: bool = True
    """The alarm's actions include the step policy's ARN."""


@dataclass(frozen=True)
class StepSpec:
    """The step-scaling policy the wake alarm fires."""

    adjustment_type: str = "ChangeInCapacity"
    steps: tuple[StepInterval, ...] = (StepInterval(0.0, None, 1.0),)
    cooldown_s: float = 60.0
    min_adjustment_magnitude: int | None = None
    metric_aggregation: str = "Maximum"
    """How the breach delta is read from the alarm's datapoints (Maximum, Minimum or Average); sagezero
    deploys Maximum."""


@dataclass(frozen=True)
class TrackingSpec:
    """Target tracking on concurrent requests per copy (scales out above target, in to zero when idle)."""

    target_value: float = 5.0
    scale_in_cooldown_s: float = 300.0
    scale_out_cooldown_s: float = 300.0
    scale_in_enabled: bool = True
    """False: DisableScaleIn is set, so copies never go back down."""
    metric_applies: bool = True
    """False: the metric is not this component's (e.g. a variant metric on an inference-component target):
    the policy never sees any load and never acts."""


class _Wiring:
    """What both machineries (copies of a component, instances of an async variant) decide the same way
    from their alarm, step policy, target tracking and suspended scaling."""

    alarm: AlarmSpec | None
    step: StepSpec | None
    tracking: TrackingSpec | None
    scale_out_suspended: bool
    scale_in_suspended: bool

    def tracking_scales_out(self) -> bool:
        """A target-tracking policy that sees this unit's load and may add capacity."""
        t = self.tracking
        return t is not None and t.metric_applies and not self.scale_out_suspended

    def tracking_scales_in(self) -> bool:
        """A target-tracking policy that sees this unit's load and may remove capacity."""
        t = self.tracking
        return t is not None and t.metric_applies and t.scale_in_enabled and not self.scale_in_suspended

    def alarm_runs_step(self) -> bool:
        """The alarm, on entering (and staying in) ALARM, invokes a step policy."""
        a = self.alarm
        return a is not None and a.actions_enabled and a.fires_step and self.step is not None


@dataclass(frozen=True)
class Machinery(_Wiring):
    """Everything that decides copies and instances for one inference component."""

    min_copies: int = 0
    """The scalable target's MinCapacity."""
    max_copies: int = 1
    """The scalable target's MaxCapacity."""
    scale_out_suspended: bool = False
    scale_in_suspended: bool = False
    alarm: AlarmSpec | None = field(default_factory=AlarmSpec)
    """None: no alarm fires the step policy."""
    step: StepSpec | None = field(default_factory=StepSpec)
    """None: no step policy on the target."""
    tracking: TrackingSpec | None = field(default_factory=TrackingSpec)
    """None: no target-tracking policy on the target."""
    managed_instance_scaling: bool = True
    """Managed instance scaling ENABLED on the variant; False: instances stay at `min_instances` (at least 1)."""
    min_instances: int = 0
    max_instances: int = 1

    def problems(self) -> list[str]:
        """What the simulator cannot run (an unknown enum value, a count out of range); empty when it can.
        Checked before a run, so a typo fails at once instead of being ignored until first evaluated."""
        out: list[str] = []
        a, st = self.alarm, self.step
        if a is not None:
            for name, value, allowed in (("statistic", a.statistic, STATISTICS),
                                         ("comparison", a.comparison, COMPARISONS),
                                         ("treat_missing", a.treat_missing, TREAT_MISSING)):  # fmt: skip
                if value not in allowed:
                    out.append(f"alarm {name} {value!r} is not one of {', '.join(allowed)}")
            if a.period_s <= 0 or not 1 <= a.datapoints <= a.evaluation_periods:
                out.append(f"alarm period {a.period_s:g} s, {a.datapoints} of {a.evaluation_periods} datapoints")
        if st is not None:
            if st.adjustment_type not in ADJUSTMENT_TYPES:
                out.append(f"step adjustment type {st.adjustment_type!r} is not one of {', '.join(ADJUSTMENT_TYPES)}")
            if st.metric_aggregation not in AGGREGATIONS:
                out.append(f"step metric aggregation {st.metric_aggregation!r} is not one of {', '.join(AGGREGATIONS)}")
        if min(self.min_copies, self.max_copies, self.min_instances, self.max_instances) < 0:
            out.append("copy and instance counts must be >= 0")
        return out

    def instance_ceiling(self) -> int:
        """Instances the variant can have: `max_instances` under managed instance scaling, else the fixed
        count it was created with."""
        return self.max_instances if self.managed_instance_scaling else self.instances_kept()

    def instances_kept(self) -> int:
        """Instances that exist from the start and are never released: `min_instances` (no more than
        the ceiling) under managed instance scaling; without it, a fixed `min_instances`, at least 1."""
        if not self.managed_instance_scaling:
            return max(1, self.min_instances)
        return min(self.min_instances, self.max_instances)


def from_settings(s: EndpointSettings, *, min_copies: int = 0) -> Machinery:
    """The machinery `ScaleToZeroEndpoint` deploys for these settings (min_copies 1: an always-on twin)."""
    return Machinery(
        min_copies=min_copies,
        max_copies=s.max_copies,
        alarm=AlarmSpec(
            period_s=float(s.alarm_period_s),
            evaluation_periods=s.alarm_evaluation_periods,
            datapoints=s.alarm_datapoints,
        ),
        step=StepSpec(steps=(StepInterval(0.0, None, float(s.step_adjustment)),), cooldown_s=float(s.step_cooldown_s)),
        tracking=TrackingSpec(
            target_value=s.target_value,
            scale_in_cooldown_s=float(s.scale_in_cooldown_s),
            scale_out_cooldown_s=float(s.scale_out_cooldown_s),
        ),
        min_instances=0,
        max_instances=s.max_instance_count,
    )


@dataclass(frozen=True)
class AsyncMachinery(_Wiring):
    """Everything that decides the instance count of an asynchronous endpoint's variant.

    The scalable target is the variant's DesiredInstanceCount (no inference components, no copies);
    the wake alarm watches HasBacklogWithoutCapacity (one datapoint a minute, 1 while requests queue
    with no instance in service) and fires the step policy; target tracking watches
    ApproximateBacklogSizePerInstance. The same `AlarmSpec`, `StepSpec` and `TrackingSpec` as the
    real-time machinery, so `alarm`, `step` and `wake_alarm` judge both.
    """

    min_instances: int = 0
    """The scalable target's MinCapacity."""
    max_instances: int = 1
    """The scalable target's MaxCapacity (sagezero sets it to `max_instance_count`)."""
    scale_out_suspended: bool = False
    scale_in_suspended: bool = False
    alarm: AlarmSpec | None = field(default_factory=lambda: AlarmSpec(period_s=60.0, statistic="Average"))
    step: StepSpec | None = field(default_factory=StepSpec)
    tracking: TrackingSpec | None = field(default_factory=TrackingSpec)
    """Target tracking; `target_value` is queued requests per instance."""
    concurrency: int = 4
    """MaxConcurrentInvocationsPerInstance: requests one instance works on at once."""
    invocation_timeout_s: float = 900.0
    """InvocationTimeoutSeconds the client sends (AWS's default 900 s): processing longer than this is cut
    off and the request fails."""

    def problems(self) -> list[str]:
        """What the async engine cannot run; empty when it can (as `Machinery.problems`)."""
        out = Machinery(alarm=self.alarm, step=self.step).problems()
        if min(self.min_instances, self.max_instances) < 0:
            out.append("instance counts must be >= 0")
        if self.concurrency < 1:
            out.append(f"concurrency {self.concurrency} must be >= 1")
        if not self.invocation_timeout_s > 0:
            out.append(f"invocation timeout {self.invocation_timeout_s:g} s must be > 0")
        return out


def async_from_settings(s: EndpointSettings, *, min_instances: int = 0) -> AsyncMachinery:
    """The async wiring for these settings: AWS's documented scale-to-zero recipe for async endpoints
    (a step policy fired by HasBacklogWithoutCapacity >= 1, Average, one-minute periods; target tracking
    on ApproximateBacklogSizePerInstance). Settings of another mode give the async twin of the same
    endpoint (the alarm period raised to the minute the metric is published at)."""
    period = s.alarm_period_s if s.mode is Mode.ASYNC else max(s.alarm_period_s, ASYNC_ALARM_PERIOD_S)
    return AsyncMachinery(
        min_instances=min_instances,
        max_instances=s.max_instance_count,
        alarm=AlarmSpec(
            period_s=float(period),
            evaluation_periods=s.alarm_evaluation_periods,
            datapoints=s.alarm_datapoints,
            statistic="Average",
        ),
        step=StepSpec(
            steps=(StepInterval(0.0, None, float(s.step_adjustment)),),
            cooldown_s=float(s.step_cooldown_s),
            metric_aggregation="Average",
        ),
        tracking=TrackingSpec(
            target_value=s.async_backlog_target,
            scale_in_cooldown_s=float(s.scale_in_cooldown_s),
            scale_out_cooldown_s=float(s.scale_out_cooldown_s),
        ),
        concurrency=s.async_max_concurrent_invocations,
        invocation_timeout_s=float(s.async_invocation_timeout_s),
    )
