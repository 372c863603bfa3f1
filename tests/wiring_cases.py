"""One catalogue of broken (and correct-but-unusual) wirings: each is a compliant baseline with one change.

Shared by the in-process rule tests, the pack over gRPC, `sagezero check` and the simulator's
differential test, so one list holds what "a pass means it wakes" must catch.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from sagezero.engine_wiring import EngineResource
from tests.policy_fixtures import async_baseline, component_baseline, mutate, native_baseline

WAKE, SCALE_IN, TMIN, MIN_I = (
    "scale-from-zero-alarm", "scale-to-zero-target-tracking", "inference-component-scalable-target-min-zero",
    "endpoint-min-instance-zero",
)  # fmt: skip
Change = Callable[[dict[str, Any]], Any]


@dataclass(frozen=True)
class Case:
    id: str
    changes: tuple[tuple[str, Change], ...]
    expect: frozenset[tuple[str, str]]
    """(policy, kind) the change must produce, and nothing else mandatory; empty: a correct form."""
    base: str = "native"
    wakes: bool | None = None
    """What the simulator must show for this wiring: True wakes and returns to zero; None: not simulated."""
    notes: dict[str, Any] = field(default_factory=dict)

    def resources(self) -> list[EngineResource]:
        out = {"native": native_baseline, "async": async_baseline, "component": _component}[self.base]()
        for name, change in self.changes:
            out = mutate(out, name, change)
        return out


@functools.cache
def _component_once() -> tuple[EngineResource, ...]:
    return tuple(component_baseline())


def _component() -> list[EngineResource]:
    """sagezero's own component, linked by property dependencies (copied: cases change it)."""
    return list(_component_once())


def _c(id: str, name: str, change: Change, *expect: tuple[str, str], base: str = "native") -> Case:
    return Case(id, ((name, change),), frozenset(expect), base)


def _step(p: dict[str, Any]) -> dict[str, Any]:
    cfg: dict[str, Any] = p["stepScalingPolicyConfiguration"]
    return cfg


def _tracking(p: dict[str, Any]) -> dict[str, Any]:
    cfg: dict[str, Any] = p["targetTrackingScalingPolicyConfiguration"]
    return cfg


def _variant(p: dict[str, Any], i: int = 0) -> dict[str, Any]:
    v: dict[str, Any] = p["productionVariants"][i]
    return v


def _math(expression: str, stat: str = "Maximum") -> Change:
    def change(p: dict[str, Any]) -> None:
        for k in ("namespace", "metricName", "dimensions", "statistic", "period"):
            p.pop(k)
        p["metrics"] = [
            {"id": "m1", "returnData": False, "metricStat": {"stat": stat, "period": 30.0, "metric": {
                "namespace": "AWS/SageMaker", "metricName": "NoCapacityInvocationFailures",
                "dimensions": [{"name": "InferenceComponentName", "value": "byhand-ic"}]}}},
            {"id": "e1", "expression": expression, "returnData": True},
        ]  # fmt: skip

    return change


def _second_variant(p: dict[str, Any]) -> None:
    extra = dict(_variant(p))
    extra["variantName"] = "Canary"
    extra.pop("managedInstanceScaling")
    p["productionVariants"].append(extra)


def _shadow(p: dict[str, Any]) -> None:
    shadow = dict(_variant(p))
    shadow["variantName"] = "Shadow"
    shadow["managedInstanceScaling"] = {"status": "ENABLED", "minInstanceCount": 1.0, "maxInstanceCount": 1.0}
    p["shadowProductionVariants"] = [shadow]


def _serverless(p: dict[str, Any]) -> None:
    p["productionVariants"] = [{"variantName": "AllTraffic", "serverlessConfig": {"memorySizeInMb": 2048.0,
                                "maxConcurrency": 5.0}}]  # fmt: skip


CASES: list[Case] = [
    # ---- the alarm ------------------------------------------------------------------------------
    _c("alarm-actions-disabled", "alarm", lambda p: p.update(actionsEnabled=False), (WAKE, "actions-disabled")),
    _c("alarm-actions-not-the-step-arn", "alarm", lambda p: p.update(alarmActions=["arn:aws:sns:eu-west-1:1:t"]),
       (WAKE, "not-wired")),
    _c("alarm-extra-dimension", "alarm", lambda p: p["dimensions"].append({"name": "VariantName", "value": "AllTraffic"}),
       (WAKE, "wrong-dimension")),
    _c("alarm-no-dimension", "alarm", lambda p: p.update(dimensions=[]), (WAKE, "wrong-dimension")),
    _c("alarm-other-component", "alarm", lambda p: p["dimensions"][0].update(value="someone-else-ic"),
       (WAKE, "wrong-dimension")),
    _c("alarm-wrong-metric", "alarm", lambda p: p.update(metricName="Invocations"), (WAKE, "wrong-metric")),
    _c("alarm-wrong-namespace", "alarm", lambda p: p.update(namespace="AWS/EC2"), (WAKE, "wrong-metric")),
    _c("alarm-threshold-5", "alarm", lambda p: p.update(threshold=5.0), (WAKE, "misses-first-failure")),
    _c("alarm-sum-threshold-2", "alarm", lambda p: p.update(statistic="Sum", threshold=2.0),
       (WAKE, "misses-first-failure")),
    _c("alarm-two-of-three", "alarm", lambda p: p.update(evaluationPeriods=3.0, datapointsToAlarm=2.0),
       (WAKE, "misses-first-failure")),
    _c("alarm-greater-than-1", "alarm", lambda p: p.update(comparisonOperator="GreaterThanThreshold"),
       (WAKE, "misses-first-failure")),
    _c("alarm-threshold-0-trips-while-serving", "alarm", lambda p: p.update(threshold=0.0),
       (WAKE, "trips-while-serving")),
    _c("alarm-less-than", "alarm", lambda p: p.update(comparisonOperator="LessThanThreshold"),
       (WAKE, "trips-while-serving"), (WAKE, "misses-first-failure")),
    _c("alarm-missing-breaching", "alarm", lambda p: p.update(treatMissingData="breaching"),
       (WAKE, "trips-when-idle")),
    _c("alarm-missing-ignore", "alarm", lambda p: p.update(treatMissingData="ignore"), (WAKE, "stays-in-alarm")),
    _c("alarm-period-45", "alarm", lambda p: p.update(period=45.0), (WAKE, "aws-rejects")),
    _c("alarm-dropped", "alarm", lambda p: "drop", (WAKE, "no-alarm")),
    _c("component-alarm-tied-but-actions-elsewhere", "acme-no-capacity",
       lambda p: p.update(alarmActions=["arn:aws:sns:eu-west-1:123456789012:ops"]), (WAKE, "not-wired"), base="component"),
    _c("component-alarm-dimension-is-the-arn", "acme-no-capacity",
       lambda p: p.update(dimensions={"InferenceComponentName": "arn:aws:sagemaker:eu-west-1:1:inference-component/x"}),
       (WAKE, "wrong-dimension"), base="component"),
    _c("component-target-id-is-the-arn", "acme-target",
       lambda p: p.update(resourceId="inference-component/arn:aws:sagemaker:eu-west-1:1:inference-component/x"),
       (WAKE, "target-resource-id"), base="component"),
    _c("alarm-math-fill", "alarm", _math("FILL(m1, 0)")),
    _c("alarm-math-plain-id", "alarm", _math("m1 + 0")),
    _c("alarm-math-times-zero", "alarm", _math("m1 * 0"), (WAKE, "misses-first-failure")),
    _c("alarm-math-fill-one", "alarm", _math("FILL(m1, 1)"), (WAKE, "trips-when-idle")),
    _c("alarm-sum-1", "alarm", lambda p: p.update(statistic="Sum")),
    _c("alarm-p99", "alarm", lambda p: (p.pop("statistic"), p.update(extendedStatistic="p99"))),
    _c("alarm-greater-than-0", "alarm", lambda p: p.update(comparisonOperator="GreaterThanThreshold", threshold=0.0)),
    _c("alarm-unit-seconds", "alarm", lambda p: p.update(unit="Seconds"), (WAKE, "wrong-unit")),
    _c("alarm-p99-ignoring-low-samples", "alarm", lambda p: (p.pop("statistic"), p.update(extendedStatistic="p99",
       evaluateLowSampleCountPercentile="ignore")), (WAKE, "misses-first-failure")),
    _c("alarm-statistic-p99", "alarm", lambda p: p.update(statistic="p99"), (WAKE, "aws-rejects")),
    _c("alarm-both-statistics", "alarm", lambda p: p.update(extendedStatistic="p99"), (WAKE, "aws-rejects")),
    _c("alarm-datapoints-0", "alarm", lambda p: p.update(datapointsToAlarm=0.0), (WAKE, "aws-rejects")),
    _c("alarm-period-true", "alarm", lambda p: p.update(period=True), (WAKE, "aws-rejects")),
    _c("alarm-evaluation-periods-infinite", "alarm", lambda p: p.update(evaluationPeriods=float("inf")),
       (WAKE, "aws-rejects")),
    _c("alarm-comparison-a-list", "alarm", lambda p: p.update(comparisonOperator=[]), (WAKE, "aws-rejects")),
    _c("alarm-dimension-case", "alarm", lambda p: p["dimensions"][0].update(value="BYHAND-IC"),
       (WAKE, "wrong-dimension")),
    _c("alarm-trimmed-mean", "alarm", lambda p: (p.pop("statistic"), p.update(extendedStatistic="tm99"))),
    _c("alarm-iqm", "alarm", lambda p: (p.pop("statistic"), p.update(extendedStatistic="IQM"))),
    _c("alarm-math-below-threshold-with-an-above-step", "alarm", lambda p: (_math("0 - m1")(p), p.update(
       comparisonOperator="LessThanOrEqualToThreshold", threshold=-1.0)), (WAKE, "uncovered-breach")),
    _c("alarm-math-return-data-only-on-expression", "alarm", lambda p: (_math("FILL(m1, 0)")(p),
       p["metrics"][0].pop("returnData"))),
    Case("alarm-below-threshold-with-upper-bound-step", (
        ("alarm", _math("0 - m1")),
        ("alarm", lambda p: p.update(comparisonOperator="LessThanOrEqualToThreshold", threshold=-1.0)),
        ("wake", lambda p: _step(p).update(stepAdjustments=[{"metricIntervalUpperBound": 0.0, "scalingAdjustment": 1.0}])),
    ), frozenset()),
    # ---- the step policy ------------------------------------------------------------------------
    _c("step-adds-0", "wake", lambda p: _step(p)["stepAdjustments"][0].update(scalingAdjustment=0.0),
       (WAKE, "adds-nothing")),
    _c("step-removes", "wake", lambda p: _step(p)["stepAdjustments"][0].update(scalingAdjustment=-1.0),
       (WAKE, "adds-nothing")),
    _c("step-lower-bound-1", "wake", lambda p: _step(p)["stepAdjustments"][0].update(metricIntervalLowerBound=1.0),
       (WAKE, "uncovered-breach")),
    Case("step-upper-bound-with-sum", (
        ("alarm", lambda p: p.update(statistic="Sum")),
        ("wake", lambda p: _step(p)["stepAdjustments"][0].update(metricIntervalUpperBound=3.0)),
    ), frozenset({(WAKE, "uncovered-breach")})),
    _c("step-gap", "wake", lambda p: _step(p).update(stepAdjustments=[
        {"metricIntervalLowerBound": 0.0, "metricIntervalUpperBound": 1.0, "scalingAdjustment": 1.0},
        {"metricIntervalLowerBound": 2.0, "scalingAdjustment": 2.0}]), (WAKE, "aws-rejects")),
    _c("step-exact-capacity-1", "wake", lambda p: _step(p).update(adjustmentType="ExactCapacity")),
    _c("step-exact-capacity-0", "wake", lambda p: (_step(p).update(adjustmentType="ExactCapacity"),
       _step(p)["stepAdjustments"][0].update(scalingAdjustment=0.0)), (WAKE, "adds-nothing")),
    _c("step-percent-without-minimum", "wake", lambda p: (_step(p).update(adjustmentType="PercentChangeInCapacity"),
       _step(p)["stepAdjustments"][0].update(scalingAdjustment=100.0)), (WAKE, "adds-nothing")),
    _c("step-percent-with-minimum", "wake", lambda p: (_step(p).update(adjustmentType="PercentChangeInCapacity",
       minAdjustmentMagnitude=1.0), _step(p)["stepAdjustments"][0].update(scalingAdjustment=100.0))),
    _c("step-two-steps-covering", "wake", lambda p: _step(p).update(stepAdjustments=[
        {"metricIntervalLowerBound": 0.0, "metricIntervalUpperBound": 5.0, "scalingAdjustment": 1.0},
        {"metricIntervalLowerBound": 5.0, "scalingAdjustment": 2.0}])),
    _c("step-cooldown-hour", "wake", lambda p: _step(p).update(cooldown=3600.0), (WAKE, "cooldown-blocks-wake")),
    _c("step-dropped", "wake", lambda p: "drop", (WAKE, "no-step-policy")),
    _c("step-namespace-ecs", "wake", lambda p: p.update(serviceNamespace="ecs"),
       (WAKE, "policy-target-mismatch"), (WAKE, "no-step-policy")),
    _c("step-by-scaling-target-id", "wake", lambda p: (p.pop("resourceId"), p.pop("scalableDimension"),
       p.pop("serviceNamespace"), p.update(scalingTargetId="inference-component/byhand-ic|"
       "sagemaker:inference-component:DesiredCopyCount|sagemaker"))),
    # ---- the scalable target --------------------------------------------------------------------
    _c("target-max-0", "target", lambda p: p.update(maxCapacity=0.0), (WAKE, "max-capacity-zero")),
    _c("target-min-1", "target", lambda p: p.update(minCapacity=1.0), (TMIN, "min-capacity")),
    _c("target-scale-out-suspended", "target", lambda p: p.update(suspendedState={"dynamicScalingOutSuspended": True}),
       (WAKE, "scale-out-suspended")),
    _c("target-scale-in-suspended", "target", lambda p: p.update(suspendedState={"dynamicScalingInSuspended": True}),
       (SCALE_IN, "scale-in-suspended")),
    _c("target-on-another-component", "target", lambda p: p.update(resourceId="inference-component/other"),
       (TMIN, "no-scalable-target"), (WAKE, "orphan-target")),
    _c("target-dropped", "target", lambda p: "drop", (TMIN, "no-scalable-target")),
    # ---- scale-in -------------------------------------------------------------------------------
    _c("tracking-dropped", "tracking", lambda p: "drop", (SCALE_IN, "no-target-tracking")),
    _c("tracking-scale-in-disabled", "tracking", lambda p: _tracking(p).update(disableScaleIn=True),
       (SCALE_IN, "scale-in-disabled")),
    _c("tracking-variant-metric", "tracking", lambda p: _tracking(p).update(predefinedMetricSpecification={
        "predefinedMetricType": "SageMakerVariantInvocationsPerInstance"}), (SCALE_IN, "tracking-metric")),
    _c("tracking-custom-of-another-component", "tracking", lambda p: _tracking(p).update(
       predefinedMetricSpecification=None, customizedMetricSpecification={"namespace": "AWS/SageMaker",
       "metricName": "ConcurrentRequestsPerCopy", "statistic": "Average",
       "dimensions": [{"name": "InferenceComponentName", "value": "some-other-ic"}]}), (SCALE_IN, "tracking-metric")),
    _c("tracking-custom-own-concurrency", "tracking", lambda p: _tracking(p).update(
       predefinedMetricSpecification=None, customizedMetricSpecification={"namespace": "AWS/SageMaker",
       "metricName": "ConcurrentRequestsPerCopy", "statistic": "Average",
       "dimensions": [{"name": "InferenceComponentName", "value": "byhand-ic"}]})),
    _c("tracking-hourly-schedule-keeps-one", "target", lambda p: p.update(scheduledActions=[{
       "scheduledActionName": "keep-one", "schedule": "rate(1 hour)", "scalableTargetAction": {"minCapacity": 1.0}}]),
       (SCALE_IN, "scheduled-minimum")),
    _c("tracking-business-hours-schedule", "target", lambda p: p.update(scheduledActions=[
       {"scheduledActionName": "day", "schedule": "cron(0 8 ? * MON-FRI *)", "scalableTargetAction": {"minCapacity": 1.0}},
       {"scheduledActionName": "night", "schedule": "cron(0 18 ? * MON-FRI *)", "scalableTargetAction": {"minCapacity": 0.0}}])),
    _c("tracking-invocations-per-copy", "tracking", lambda p: _tracking(p).update(predefinedMetricSpecification={
        "predefinedMetricType": "SageMakerInferenceComponentInvocationsPerCopy"})),
    # ---- endpoint config variants ---------------------------------------------------------------
    _c("variant-second-without-scaling", "config", _second_variant, (MIN_I, "no-managed-scaling")),
    _c("variant-shadow-min-1", "config", _shadow, (MIN_I, "min-instances")),
    _c("variant-max-instances-0", "config", lambda p: _variant(p)["managedInstanceScaling"].update(maxInstanceCount=0.0),
       (MIN_I, "aws-rejects")),
    _c("variant-min-instances-1", "config", lambda p: _variant(p)["managedInstanceScaling"].update(minInstanceCount=1.0),
       (MIN_I, "min-instances")),
    _c("variant-scaling-disabled", "config", lambda p: _variant(p)["managedInstanceScaling"].update(status="DISABLED"),
       (MIN_I, "managed-scaling-disabled")),
    _c("variant-serverless-hosts-component", "config", _serverless, (WAKE, "aws-rejects")),
    _c("component-on-missing-variant", "ic", lambda p: p.update(variantName="Nope"), (WAKE, "no-variant")),
    # ---- asynchronous endpoints ----------------------------------------------------------------
    _c("async-correct", "aalarm", lambda p: None, base="async"),
    _c("async-alarm-dropped", "aalarm", lambda p: "drop", (WAKE, "no-alarm"), base="async"),
    _c("async-alarm-on-no-capacity", "aalarm", lambda p: p.update(metricName="NoCapacityInvocationFailures"),
       (WAKE, "wrong-metric"), base="async"),
    _c("async-step-dropped", "awake", lambda p: "drop", (WAKE, "no-step-policy"), base="async"),
    _c("async-tracking-dropped", "atracking", lambda p: "drop", (SCALE_IN, "no-target-tracking"), base="async"),
    _c("async-tracking-other-endpoint", "atracking", lambda p: _tracking(p)["customizedMetricSpecification"].update(
       dimensions=[{"name": "EndpointName", "value": "other-endpoint"}]), (SCALE_IN, "tracking-metric"), base="async"),
    _c("async-target-on-missing-variant", "atarget", lambda p: p.update(resourceId="endpoint/queued/variant/Nope"),
       (WAKE, "no-variant"), (TMIN, "no-scalable-target"), base="async"),
    _c("async-target-dropped", "atarget", lambda p: "drop", (TMIN, "no-scalable-target"),
       (WAKE, "no-scalable-target"), base="async"),
    Case("async-scaling-dropped", tuple((n, lambda p: "drop") for n in ("atarget", "atracking", "awake", "aalarm")),
         frozenset({(TMIN, "no-scalable-target")}), base="async"),
    _c("async-target-min-1", "atarget", lambda p: p.update(minCapacity=1), (TMIN, "min-capacity"), base="async"),
    _c("realtime-variant-to-zero", "aconfig", lambda p: p.pop("asyncInferenceConfig"), (WAKE, "aws-rejects"),
       base="async"),
]  # fmt: skip
