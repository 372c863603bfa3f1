"""What is actually declared or deployed, as the simulator's `Machinery`: simulate any wiring, hand-built too.

Reads the neutral wiring model (from a program, a `pulumi stack export`, or a live account) and
translates each inference component's resources field by field: the scalable target, the first
step policy on it and the alarms whose actions hold that policy's ARN, the first target-tracking
policy, the variant's managed instance scaling. It never asks the policy rules whether the wiring
is right — the simulator is meant to be an independent witness of what the wiring does.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from sagezero import wiring
from sagezero.settings import ASYNC_ALARM_PERIOD_S, EndpointSettings, Mode
from sagezero.simulate.machinery import AlarmSpec, AsyncMachinery, Machinery, StepInterval, StepSpec, TrackingSpec
from sagezero.values import Opaque, is_num
from sagezero.wiring import Alarm, Endpoint, Index, InferenceComponent, Node, ScalableTarget, ScalingPolicy, Wiring

DEFAULT_COOLDOWN_S = 300.0
"""App Auto Scaling's cooldown when a policy sets none (SageMaker targets)."""
CONCURRENCY_METRICS = frozenset({"ConcurrentRequestsPerCopy", "InvocationsPerCopy"})
BACKLOG_METRICS = frozenset({wiring.BACKLOG_TRACKING_METRIC, "ApproximateBacklogSize"})
"""Target tracking on either follows an async endpoint's backlog (the async engine reads both as per instance:
they differ only above one instance)."""


class NotSimulableError(ValueError):
    """A wiring the simulator cannot run as it stands (a hidden value, a metric-math alarm, ...)."""


@dataclass(frozen=True)
class WiredTenant:
    """One inference component as the simulator replays it."""

    name: str
    settings: EndpointSettings
    machinery: Machinery


def _known(value: Any, what: str) -> Any:
    if isinstance(value, Opaque):
        raise NotSimulableError(f"{what} is {value.why}")
    return value


def _num(value: Any, what: str, default: float) -> float:
    value = _known(value, what)
    return float(value) if is_num(value) else default


def _alarm(
    a: Alarm,
    ic: InferenceComponent | Endpoint,
    step: ScalingPolicy,
    signal: tuple[str, str] = (wiring.ALARM_METRIC, wiring.ALARM_DIMENSION),
) -> AlarmSpec:
    """The alarm as CloudWatch runs it; `sees_failures` when its metric and exact dimension set select the
    unit's wake signal: (metric, dimension) — NoCapacityInvocationFailures by InferenceComponentName, or
    an async endpoint's HasBacklogWithoutCapacity by EndpointName."""
    metric, dimension = signal
    if a.metrics is not None:
        raise NotSimulableError(f"alarm {a.label} is a metric-math alarm; the simulator replays single-metric alarms")
    if a.extended_statistic is not None:
        raise NotSimulableError(f"alarm {a.label} uses an extended statistic ({a.extended_statistic})")
    dims = _known(a.dimensions, f"alarm {a.label} dimensions")
    dims = dict(dims) if isinstance(dims, Mapping) else {}
    value = _known(dims.get(dimension), f"alarm {a.label} dimension value")
    sees = (
        _known(a.namespace, "alarm namespace") == wiring.ALARM_NAMESPACE
        and _known(a.metric, "alarm metric") == metric
        and set(dims) == {dimension}
        and isinstance(value, str)
        and value == ic.name  # CloudWatch dimension values are case-sensitive
    )
    actions = _known(a.actions, f"alarm {a.label} actions")
    n = int(_num(a.evaluation_periods, "evaluationPeriods", 1))
    return AlarmSpec(
        period_s=_num(a.period, "period", 60.0),
        evaluation_periods=n,
        datapoints=int(_num(a.datapoints, "datapointsToAlarm", n)),
        statistic=str(_known(a.statistic, "statistic")),
        comparison=str(_known(a.comparison, "comparisonOperator")),
        threshold=_num(a.threshold, "threshold", 0.0),
        treat_missing=str(_known(a.treat_missing, "treatMissingData") or "missing"),
        actions_enabled=_known(a.actions_enabled, "actionsEnabled") is not False,
        sees_failures=sees,
        fires_step=isinstance(step.arn, str) and step.arn in actions,
    )


def _step(p: ScalingPolicy) -> StepSpec:
    steps = _known(p.steps, f"step policy {p.label} steps")
    intervals = []
    for s in steps:
        lower, upper = _known(s.lower, "step lower bound"), _known(s.upper, "step upper bound")
        intervals.append(
            StepInterval(
                float(lower) if is_num(lower) else None,
                float(upper) if is_num(upper) else None,
                _num(s.adjustment, "scalingAdjustment", 0.0),
            )
        )
    least = _known(p.min_adjustment_magnitude, "minAdjustmentMagnitude")
    return StepSpec(
        adjustment_type=str(_known(p.adjustment_type, "adjustmentType")),
        steps=tuple(intervals),
        cooldown_s=_num(p.cooldown, "cooldown", DEFAULT_COOLDOWN_S),
        min_adjustment_magnitude=int(least) if is_num(least) else None,
    )


def _tracking(p: ScalingPolicy, ic: InferenceComponent) -> TrackingSpec:
    metric = _known(p.metric_type, "predefined metric")
    custom = _known(p.custom_metric, "customized metric")
    applies = metric in wiring.IC_TRACKING_METRICS
    if custom is not None:
        ns, name, dims = custom
        applies = (
            ns == wiring.ALARM_NAMESPACE
            and name in CONCURRENCY_METRICS
            and isinstance(dims, Mapping)
            and (str(dims.get(wiring.ALARM_DIMENSION, "")).lower() == str(ic.name).lower())
        )
    return TrackingSpec(
        target_value=_num(p.target_value, "targetValue", 1.0),
        scale_in_cooldown_s=_num(p.scale_in_cooldown, "scaleInCooldown", DEFAULT_COOLDOWN_S),
        scale_out_cooldown_s=_num(p.scale_out_cooldown, "scaleOutCooldown", DEFAULT_COOLDOWN_S),
        scale_in_enabled=_known(p.disable_scale_in, "disableScaleIn") is not True,
        metric_applies=applies,
    )


def _acts_on(p: ScalingPolicy, resource_id: Any, dimension: str = wiring.SCALABLE_DIMENSION) -> bool:
    """App Auto Scaling attaches a policy by its own ids, whatever the program's references say."""
    return (
        _known(p.namespace, "serviceNamespace") in (None, wiring.SERVICE_NAMESPACE)
        and _known(p.resource_id, "resourceId") in (None, resource_id)
        and _known(p.dimension, "scalableDimension") in (None, dimension)
    )


def _machinery(idx: Index, ic: InferenceComponent, target: ScalableTarget | None) -> Machinery:
    endpoint = idx.endpoint_of(ic)
    cfg = idx.config_of(endpoint) if endpoint is not None else None
    variant = next((v for v in (cfg.variants if cfg else []) if not v.shadow and v.name == ic.variant_name), None)
    managed = variant is not None and variant.has_mis and variant.mis_status == "ENABLED"
    min_i = int(_num(variant.mis_min, "minInstanceCount", 0)) if variant is not None and variant.has_mis else 1
    max_i = int(_num(variant.mis_max, "maxInstanceCount", 1)) if variant is not None and variant.has_mis else 1
    if target is None:  # nothing scales the copies: they stay at the component's initial count
        return Machinery(min_copies=1, max_copies=1, alarm=None, step=None, tracking=None,
                         managed_instance_scaling=managed, min_instances=min_i, max_instances=max_i)  # fmt: skip
    if any(a.recurring for a in idx.scheduled_on(target)):
        raise NotSimulableError("recurring scheduled actions on its scalable target are not replayed")
    rid = wiring.ic_resource_id(ic.name) if isinstance(ic.name, str) else target.resource_id
    policies = [p for p in idx.policies_on(target) if _acts_on(p, rid)]
    step = next((p for p in policies if p.policy_type == "StepScaling"), None)
    tracking = next((p for p in policies if p.policy_type == "TargetTrackingScaling"), None)
    alarms = idx.alarms_firing(step) if step is not None else []
    alarm = next((a for a in alarms if isinstance(step and step.arn, str) and step and step.arn in a.actions), None)
    return Machinery(
        min_copies=int(_num(target.min_capacity, "minCapacity", 0)),
        max_copies=int(_num(target.max_capacity, "maxCapacity", 1)),
        scale_out_suspended=_known(target.scale_out_suspended, "dynamicScalingOutSuspended") is True,
        scale_in_suspended=_known(target.scale_in_suspended, "dynamicScalingInSuspended") is True,
        alarm=_alarm(alarm, ic, step) if alarm is not None and step is not None else None,
        step=_step(step) if step is not None else None,
        tracking=_tracking(tracking, ic) if tracking is not None else None,
        managed_instance_scaling=managed,
        min_instances=min_i,
        max_instances=max_i,
    )


def _settings(idx: Index, ic: InferenceComponent, m: Machinery) -> EndpointSettings:
    endpoint = idx.endpoint_of(ic)
    cfg = idx.config_of(endpoint) if endpoint is not None else None
    variant = next((v for v in (cfg.variants if cfg else []) if not v.shadow and v.name == ic.variant_name), None)
    base = EndpointSettings()
    instance_type = variant.instance_type if variant is not None else None
    return dataclasses.replace(
        base,
        instance_type=str(_known(instance_type, "instanceType")) if instance_type else base.instance_type,
        min_memory_mb=int(_num(ic.min_memory_mb, "minMemoryRequiredInMb", base.min_memory_mb)),
        accelerators=int(_num(ic.accelerators, "numberOfAcceleratorDevicesRequired", 0)),
        cpu_cores=_num(ic.cpu_cores, "numberOfCpuCoresRequired", 0.0) or None,
        max_copies=max(1, m.max_copies),
        max_instance_count=max(1, m.max_instances),
    )


def tenants(w: Wiring) -> tuple[list[WiredTenant], list[str]]:
    """Every inference component that can be replayed, and why any other cannot."""
    idx = w.index()
    out: list[WiredTenant] = []
    problems: list[str] = []
    for ic in w.ics:
        name = ic.name if isinstance(ic.name, str) else ic.label
        rid = wiring.ic_resource_id(ic.name) if isinstance(ic.name, str) else None
        targets = idx.targets_for(rid, ic, wiring.SCALABLE_DIMENSION)
        try:
            machinery = _machinery(idx, ic, targets[0] if targets else None)
            out.append(WiredTenant(name, _settings(idx, ic, machinery), machinery))
        except NotSimulableError as e:
            problems.append(f"{name}: {e}")
    return out, problems


# ---- asynchronous endpoints ---------------------------------------------------------------------------


@dataclass(frozen=True)
class WiredAsync:
    """One variant of an asynchronous endpoint as the async engine replays it."""

    name: str
    settings: EndpointSettings
    machinery: AsyncMachinery


def _backlog_tracking(p: ScalingPolicy, endpoint: Endpoint) -> TrackingSpec:
    """Target tracking on the endpoint's backlog (a customized metric: AWS has no predefined one)."""
    custom = _known(p.custom_metric, "customized metric")
    applies = False
    if custom is not None:
        ns, name, dims = custom
        applies = (
            ns == wiring.ALARM_NAMESPACE
            and name in BACKLOG_METRICS
            and isinstance(dims, Mapping)
            and dims.get(wiring.ENDPOINT_DIMENSION) == endpoint.name
        )
    return TrackingSpec(
        target_value=_num(p.target_value, "targetValue", 1.0),
        scale_in_cooldown_s=_num(p.scale_in_cooldown, "scaleInCooldown", DEFAULT_COOLDOWN_S),
        scale_out_cooldown_s=_num(p.scale_out_cooldown, "scaleOutCooldown", DEFAULT_COOLDOWN_S),
        scale_in_enabled=_known(p.disable_scale_in, "disableScaleIn") is not True,
        metric_applies=applies,
    )


def _async_machinery(
    idx: Index, endpoint: Endpoint, target: ScalableTarget | None, initial: int, concurrency: int
) -> AsyncMachinery:
    if target is None:  # nothing scales the variant: it keeps its initial instances
        count = max(1, initial)
        return AsyncMachinery(min_instances=count, max_instances=count, alarm=None, step=None, tracking=None,
                              concurrency=concurrency)  # fmt: skip
    if any(a.recurring for a in idx.scheduled_on(target)):
        raise NotSimulableError("recurring scheduled actions on its scalable target are not replayed")
    rid = target.resource_id
    policies = [p for p in idx.policies_on(target) if _acts_on(p, rid, wiring.VARIANT_DIMENSION)]
    step = next((p for p in policies if p.policy_type == "StepScaling"), None)
    tracking = next((p for p in policies if p.policy_type == "TargetTrackingScaling"), None)
    alarms = idx.alarms_firing(step) if step is not None else []
    alarm = next((a for a in alarms if step is not None and isinstance(step.arn, str) and step.arn in a.actions), None)
    signal = (wiring.BACKLOG_WAKE_METRIC, wiring.ENDPOINT_DIMENSION)
    return AsyncMachinery(
        min_instances=int(_num(target.min_capacity, "minCapacity", 0)),
        max_instances=int(_num(target.max_capacity, "maxCapacity", 1)),
        scale_out_suspended=_known(target.scale_out_suspended, "dynamicScalingOutSuspended") is True,
        scale_in_suspended=_known(target.scale_in_suspended, "dynamicScalingInSuspended") is True,
        alarm=_alarm(alarm, endpoint, step, signal) if alarm is not None and step is not None else None,
        step=_step(step) if step is not None else None,
        tracking=_backlog_tracking(tracking, endpoint) if tracking is not None else None,
        concurrency=concurrency,
    )


def async_tenants(w: Wiring) -> tuple[list[WiredAsync], list[str]]:
    """Every variant of an asynchronous endpoint that can be replayed by the async engine, and why any
    other cannot. Read field by field like `tenants`, never through the rules."""
    idx = w.index()
    out: list[WiredAsync] = []
    problems: list[str] = []
    for endpoint in w.endpoints:
        cfg = idx.config_of(endpoint)
        if cfg is None or cfg.is_async is not True or not isinstance(endpoint.name, str):
            continue
        for variant in cfg.variants:
            if variant.shadow or not isinstance(variant.name, str):
                continue
            name = f"{endpoint.name}/{variant.name}"
            rid = wiring.variant_resource_id(endpoint.name, variant.name)
            owner: Node = endpoint
            targets = idx.targets_for(rid, owner, wiring.VARIANT_DIMENSION)
            targets = [t for t in targets if t.resource_id == rid or isinstance(t.resource_id, Opaque)]
            try:
                initial = int(_num(variant.initial_count, "initialInstanceCount", 1))
                default = EndpointSettings().async_max_concurrent_invocations
                concurrency = max(1, int(_num(cfg.async_concurrency, "maxConcurrentInvocationsPerInstance", default)))
                machinery = _async_machinery(idx, endpoint, targets[0] if targets else None, initial, concurrency)
                instance_type = _known(variant.instance_type, "instanceType")
                settings = dataclasses.replace(
                    EndpointSettings(),
                    mode=Mode.ASYNC,
                    alarm_period_s=ASYNC_ALARM_PERIOD_S,
                    accelerators=0,
                    instance_type=str(instance_type) if instance_type else EndpointSettings().instance_type,
                    max_instance_count=max(1, machinery.max_instances),
                )
                out.append(WiredAsync(name, settings, machinery))
            except NotSimulableError as e:
                problems.append(f"{name}: {e}")
    return out, problems
