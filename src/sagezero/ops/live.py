"""Read one tenant's deployed resources from AWS, and turn them into the neutral wiring model.

`verify` judges what this returns with the same `wiring.trace` the policy pack runs on a Pulumi
program; `status` and `teardown` reuse the same reads. Alarms are found two ways on purpose: by
metric and dimension (catches an alarm that watches the component but fires nothing) and through
the policies' own `Alarms` lists (catches an alarm wired to the step policy that watches the wrong
thing) — the two halves of every wiring mistake the seed could make by hand.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from sagezero import wiring
from sagezero.ops.errors import OpsError, call
from sagezero.ops.target import AwsClients, Target


@dataclass
class LiveStack:
    """What AWS reports for one endpoint / inference component. Missing resources are None or empty."""

    target: Target
    ic: Mapping[str, Any] | None = None
    endpoint: Mapping[str, Any] | None = None
    endpoint_config: Mapping[str, Any] | None = None
    scalable_targets: list[Mapping[str, Any]] = field(default_factory=list)
    policies: list[Mapping[str, Any]] = field(default_factory=list)
    alarms: list[Mapping[str, Any]] = field(default_factory=list)
    scheduled_actions: list[Mapping[str, Any]] = field(default_factory=list)


def is_not_found(e: OpsError) -> bool:
    """SageMaker answers a missing resource with ValidationException "Could not find ..."."""
    return (
        e.code in ("ValidationException", "ValidationError", "ResourceNotFound") and "could not find" in str(e).lower()
    )


def _describe_or_none(resource: str, fn: Any, **kwargs: Any) -> Mapping[str, Any] | None:
    try:
        return dict(call(resource, fn, **kwargs))
    except OpsError as e:
        if is_not_found(e):
            return None
        raise


def fetch(clients: AwsClients, target: Target) -> LiveStack:
    live = LiveStack(target)
    sm, aas, cw = clients.sagemaker, clients.autoscaling, clients.cloudwatch
    ic_name = target.inference_component_name
    live.ic = _describe_or_none(ic_name, sm.describe_inference_component, InferenceComponentName=ic_name)
    live.endpoint = _describe_or_none(target.endpoint_name, sm.describe_endpoint, EndpointName=target.endpoint_name)
    if live.endpoint is not None:
        cfg_name = str(live.endpoint.get("EndpointConfigName", ""))
        live.endpoint_config = _describe_or_none(cfg_name, sm.describe_endpoint_config, EndpointConfigName=cfg_name)
    scal = target.scalable()
    live.scalable_targets = list(
        call(
            target.resource_id,
            aas.describe_scalable_targets,
            ServiceNamespace=scal["ServiceNamespace"],
            ResourceIds=[target.resource_id],
            ScalableDimension=scal["ScalableDimension"],
        )["ScalableTargets"]
    )
    live.policies = list(call(target.resource_id, aas.describe_scaling_policies, **scal)["ScalingPolicies"])
    live.scheduled_actions = list(call(target.resource_id, aas.describe_scheduled_actions, **scal)["ScheduledActions"])
    watching = {"Name": wiring.ALARM_DIMENSION, "Value": ic_name}
    alarms = {
        a["AlarmName"]: a
        for a in call(
            ic_name,
            cw.describe_alarms_for_metric,
            MetricName=wiring.ALARM_METRIC,
            Namespace=wiring.ALARM_NAMESPACE,
            Dimensions=[watching],
        )["MetricAlarms"]
        if watching in a.get("Dimensions", [])  # AWS filters by dimension already; not every stand-in does
    }
    wired = sorted(
        {
            str(a["AlarmName"])
            for p in live.policies
            if p.get("PolicyType") == "StepScaling"
            for a in p.get("Alarms", [])
            if a.get("AlarmName") not in alarms
        }
    )
    if wired:
        for a in call(ic_name, cw.describe_alarms, AlarmNames=wired)["MetricAlarms"]:
            alarms[a["AlarmName"]] = a
    live.alarms = list(alarms.values())
    return live


def _step(s: Mapping[str, Any]) -> wiring.Step:
    return wiring.Step(s.get("MetricIntervalLowerBound"), s.get("MetricIntervalUpperBound"), s.get("ScalingAdjustment"))


def to_wiring(live: LiveStack) -> tuple[wiring.Wiring, wiring.InferenceComponent]:
    """The neutral model of the live account; refs are ARNs, so a break names what to fix."""
    ic_name = live.target.inference_component_name
    ic = wiring.InferenceComponent(
        str((live.ic or {}).get("InferenceComponentArn", ic_name)),
        name=ic_name,
        endpoint_name=(live.ic or {}).get("EndpointName", live.target.endpoint_name),
    )
    w = wiring.Wiring(ics=[ic])
    for t in live.scalable_targets:
        w.targets.append(
            wiring.ScalableTarget(
                str(t.get("ScalableTargetARN") or t["ResourceId"]),
                resource_id=t["ResourceId"],
                dimension=t["ScalableDimension"],
                min_capacity=wiring.number(t["MinCapacity"]),
                max_capacity=wiring.number(t["MaxCapacity"]),
                namespace=t["ServiceNamespace"],
            )
        )
    for p in live.policies:
        step = p.get("StepScalingPolicyConfiguration") or {}
        tracking = p.get("TargetTrackingScalingPolicyConfiguration") or {}
        w.policies.append(
            wiring.ScalingPolicy(
                str(p["PolicyARN"]),
                policy_type=p["PolicyType"],
                resource_id=p["ResourceId"],
                dimension=p["ScalableDimension"],
                arn=p["PolicyARN"],
                adjustment_type=step.get("AdjustmentType"),
                steps=[_step(s) for s in step.get("StepAdjustments", [])],
                metric_type=(tracking.get("PredefinedMetricSpecification") or {}).get("PredefinedMetricType"),
                target_value=tracking.get("TargetValue"),
                cooldown=step.get("Cooldown"),
            )
        )
    for a in live.alarms:
        w.alarms.append(
            wiring.Alarm(
                str(a.get("AlarmArn") or a["AlarmName"]),
                name=a["AlarmName"],
                namespace=a.get("Namespace"),
                metric=a.get("MetricName"),
                dimensions={d["Name"]: d["Value"] for d in a.get("Dimensions", [])},
                actions=list(a.get("AlarmActions", [])),
                statistic=a.get("Statistic"),
                threshold=a.get("Threshold"),
                comparison=a.get("ComparisonOperator"),
                period=a.get("Period"),
                evaluation_periods=a.get("EvaluationPeriods"),
                datapoints=a.get("DatapointsToAlarm"),
            )
        )
    return w, ic
