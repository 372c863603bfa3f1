"""The scale-to-zero wiring as data: names AWS uses, and what "correctly wired" means.

Pure: never imports Pulumi or boto3, so the component (to build), the policy pack and `plan` (to
judge a program) and `verify` (to judge a live account) share one definition. Adapters turn
engine properties or AWS API answers into the small neutral records below.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

SERVICE_NAMESPACE = "sagemaker"
RESOURCE_PREFIX = "inference-component/"
SCALABLE_DIMENSION = "sagemaker:inference-component:DesiredCopyCount"
TARGET_TRACKING_METRIC = "SageMakerInferenceComponentConcurrentRequestsPerCopyHighResolution"
ALARM_NAMESPACE = "AWS/SageMaker"
ALARM_METRIC = "NoCapacityInvocationFailures"
ALARM_DIMENSION = "InferenceComponentName"
ROUTING_STRATEGY = "LEAST_OUTSTANDING_REQUESTS"


class _Unknown:
    """A value only known after deployment (a preview's computed output)."""

    def __repr__(self) -> str:
        return "<unknown>"


UNKNOWN: Any = _Unknown()


def ic_resource_id(inference_component_name: str) -> str:
    """App Auto Scaling resource id of an inference component."""
    return RESOURCE_PREFIX + inference_component_name


@dataclass
class Node:
    """Something in the wiring; `ref` is a URN (program) or an ARN/name (live account)."""

    ref: str
    deps: Mapping[str, set[str]] = field(default_factory=dict, kw_only=True)

    def links(self, prop: str, other: Node) -> bool:
        """True when `prop` of this node was computed from `other` (engine property dependency)."""
        return other.ref in self.deps.get(prop, set())


@dataclass
class InferenceComponent(Node):
    name: Any
    endpoint_name: Any = None


@dataclass
class ScalableTarget(Node):
    resource_id: Any
    dimension: Any
    min_capacity: Any
    max_capacity: Any
    namespace: Any = SERVICE_NAMESPACE

    def is_for_ic(self) -> bool:
        return self.dimension == SCALABLE_DIMENSION or self.dimension is UNKNOWN

    def serves(self, ic: InferenceComponent) -> bool:
        if not self.is_for_ic():
            return False
        if self.links("resourceId", ic):
            return True
        return isinstance(ic.name, str) and self.resource_id == ic_resource_id(ic.name)


@dataclass
class Step:
    lower: float | None
    upper: float | None
    adjustment: Any


@dataclass
class ScalingPolicy(Node):
    policy_type: Any
    resource_id: Any
    dimension: Any
    arn: Any = None
    adjustment_type: Any = None
    steps: list[Step] = field(default_factory=list)
    metric_type: Any = None
    target_value: Any = None
    cooldown: Any = None
    """Step scaling: seconds during which a repeated alarm adds nothing more."""

    def on(self, target: ScalableTarget) -> bool:
        if self.links("resourceId", target) or self.links("scalingTargetId", target):
            return True
        if self.resource_id is UNKNOWN or target.resource_id is UNKNOWN:
            # Both computed from the same IC: the engine says so through their dependencies.
            mine = self.deps.get("resourceId", set())
            return bool(mine) and mine == target.deps.get("resourceId", set())
        return self.resource_id == target.resource_id and self.dimension in (target.dimension, UNKNOWN)

    def wakes_from_zero(self) -> str | None:
        """None when this step policy adds >= 1 copy whenever the alarm fires; else what is wrong."""
        if self.adjustment_type != "ChangeInCapacity":
            return f"adjustment type is {self.adjustment_type!r}, expected 'ChangeInCapacity'"
        for s in self.steps:
            if s.lower is not None and s.lower <= 0 and (s.upper is None or s.upper > 0):
                if isinstance(s.adjustment, (int, float)) and s.adjustment >= 1:
                    return None
                return f"the step from lower bound {s.lower:g} adds {s.adjustment!r} copies, expected >= 1"
        return "no step with MetricIntervalLowerBound 0 (and no upper bound) to add a copy when the alarm fires"


@dataclass
class Alarm(Node):
    name: Any
    namespace: Any
    metric: Any
    dimensions: Mapping[str, Any]
    actions: list[Any]
    statistic: Any = None
    threshold: Any = None
    comparison: Any = None
    period: Any = None
    evaluation_periods: Any = None
    datapoints: Any = None

    def watches(self, ic: InferenceComponent) -> bool:
        if self.links("dimensions", ic):
            return True
        value = self.dimensions.get(ALARM_DIMENSION)
        return isinstance(ic.name, str) and value == ic.name

    def fires(self, policy: ScalingPolicy) -> bool:
        if self.links("alarmActions", policy):
            return True
        return isinstance(policy.arn, str) and policy.arn in self.actions

    def right_metric(self) -> str | None:
        if self.namespace != ALARM_NAMESPACE or self.metric != ALARM_METRIC:
            return f"watches {self.namespace}/{self.metric}, expected {ALARM_NAMESPACE}/{ALARM_METRIC}"
        return None

    def fires_on_first_failure(self) -> str | None:
        t, op = self.threshold, self.comparison
        if not isinstance(t, (int, float)) or not isinstance(op, str):
            return None
        if (op == "GreaterThanOrEqualToThreshold" and t <= 1) or (op == "GreaterThanThreshold" and t < 1):
            return None
        return f"fires only when {op} {t:g} failures; the first failed request must fire it (>= 1)"


@dataclass
class Break:
    """One missing or wrong link, on the node a human must fix."""

    kind: str
    ref: str
    message: str


@dataclass
class WakePath:
    """The complete chain for one inference component, as far as it could be followed."""

    ic: InferenceComponent
    target: ScalableTarget | None = None
    step: ScalingPolicy | None = None
    alarm: Alarm | None = None
    tracking: ScalingPolicy | None = None
    breaks: list[Break] = field(default_factory=list)


@dataclass
class Wiring:
    """Everything relevant in one stack or account."""

    ics: list[InferenceComponent] = field(default_factory=list)
    targets: list[ScalableTarget] = field(default_factory=list)
    policies: list[ScalingPolicy] = field(default_factory=list)
    alarms: list[Alarm] = field(default_factory=list)


def _label(value: Any, ref: str) -> str:
    return value if isinstance(value, str) else ref.rsplit("::", 1)[-1]


def trace(w: Wiring, ic: InferenceComponent) -> WakePath:
    """Follow IC <- target <- policies <- alarm and say exactly which link is missing."""
    path = WakePath(ic)
    label = _label(ic.name, ic.ref)
    targets = [t for t in w.targets if t.serves(ic)]
    if not targets:
        return path
    path.target = next((t for t in targets if t.min_capacity == 0), targets[0])
    policies = [p for p in w.policies if any(p.on(t) for t in targets)]
    path.tracking = next((p for p in policies if p.policy_type == "TargetTrackingScaling"), None)
    steps = [p for p in policies if p.policy_type == "StepScaling"]
    if not steps:
        path.breaks.append(
            Break(
                "no-step-policy",
                path.target.ref,
                f"inference component {label} can scale to zero copies but has no step-scaling policy to wake it; "
                f"add a StepScaling policy (ChangeInCapacity, lower bound 0, +1) on its scalable target",
            )
        )
    good_steps = [p for p in steps if p.wakes_from_zero() is None]
    for p in steps:
        if (why := p.wakes_from_zero()) is not None and not good_steps:
            path.breaks.append(Break("wrong-adjustment", p.ref, f"step policy for {label}: {why}"))
    path.step = good_steps[0] if good_steps else (steps[0] if steps else None)

    wired = [a for a in w.alarms if any(a.fires(p) for p in steps)]
    watching = [a for a in w.alarms if a.watches(ic) and a.right_metric() is None]
    complete = [a for a in wired if a.right_metric() is None and a.watches(ic)]
    if complete:
        path.alarm = complete[0]
        if (why := complete[0].fires_on_first_failure()) is not None:
            path.breaks.append(Break("wrong-threshold", complete[0].ref, f"alarm for {label} {why}"))
        return path
    if wired:
        for a in wired:
            if (why := a.right_metric()) is not None:
                path.breaks.append(Break("wrong-metric", a.ref, f"alarm wired to the step policy of {label} {why}"))
            else:
                path.breaks.append(
                    Break(
                        "wrong-dimension",
                        a.ref,
                        f"alarm wired to the step policy of {label} watches {ALARM_DIMENSION}="
                        f"{a.dimensions.get(ALARM_DIMENSION)!r}, expected {label!r}",
                    )
                )
        path.alarm = wired[0]
    elif watching and steps:
        path.alarm = watching[0]
        path.breaks.append(
            Break(
                "not-wired",
                watching[0].ref,
                f"alarm {_label(watching[0].name, watching[0].ref)} watches {label} but its actions do not include "
                f"the step policy's ARN; set AlarmActions to the step-scaling policy ARN",
            )
        )
    elif steps or not path.breaks:
        path.breaks.append(
            Break(
                "no-alarm",
                ic.ref,
                f"no CloudWatch alarm on {ALARM_NAMESPACE}/{ALARM_METRIC} with {ALARM_DIMENSION}={label} fires the "
                "step policy, so at zero copies it never wakes up; add one (Maximum, >= 1, period 30 s)",
            )
        )
    return path


def can_reach_zero(path: WakePath) -> bool:
    """The IC's scalable target allows zero copies (or its minimum is not yet known)."""
    return path.target is not None and path.target.min_capacity in (0, UNKNOWN)


def trace_all(w: Wiring) -> list[WakePath]:
    return [trace(w, ic) for ic in w.ics]


def number(value: Any) -> Any:
    """Engine numbers arrive as floats (0 -> 0.0); App Auto Scaling bounds arrive as strings."""
    if isinstance(value, bool) or value is UNKNOWN or value is None:
        return value
    if isinstance(value, str):
        try:
            value = float(value)
        except ValueError:
            return value
    if isinstance(value, float) and value.is_integer():
        return int(value)
    return value
