"""Read one tenant's deployed resources from AWS, and turn them into the neutral wiring model.

`verify` judges what this returns with the same `wiring.trace` the policy pack runs on a Pulumi
program; `status` and `teardown` reuse the same reads. Alarms are found two ways on purpose: by
metric and dimension (catches an alarm that watches the component but fires nothing) and through
the policies' own `Alarms` lists (catches an alarm wired to the step policy that watches the wrong
thing) — the two halves of every wiring mistake the seed could make by hand.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from sagezero import wiring
from sagezero.engine_wiring import EngineResource, to_node
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


def camel(value: Any) -> Any:
    """AWS API answers (PascalCase) in the shape aws-native properties have (camelCase), so the live
    account is read by the same adapter as a program or an export (`engine_wiring.to_node`)."""
    if isinstance(value, Mapping):
        return {k[:1].lower() + k[1:] if isinstance(k, str) else k: camel(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [camel(v) for v in value]
    if isinstance(value, dt.datetime):
        return value.isoformat()
    return value


def _node(kind: str, ref: str, answer: Mapping[str, Any], **extra: Any) -> Any:
    return to_node(EngineResource(kind, ref, {**camel(answer), **extra}, {}, ref))


def to_wiring(live: LiveStack) -> tuple[wiring.Wiring, wiring.InferenceComponent]:
    """The neutral model of the live account; refs are ARNs, so a break names what to fix."""
    ic_name = live.target.inference_component_name
    answer = live.ic or {"InferenceComponentName": ic_name, "EndpointName": live.target.endpoint_name}
    ic = _node("aws-native:sagemaker:InferenceComponent", str(answer.get("InferenceComponentArn", ic_name)), answer)
    w = wiring.Wiring(ics=[ic])
    if live.endpoint is not None:
        w.add(
            _node(
                "aws-native:sagemaker:Endpoint",
                str(live.endpoint.get("EndpointArn", live.target.endpoint_name)),
                live.endpoint,
            )
        )
    if live.endpoint_config is not None:
        cfg = live.endpoint_config
        w.add(
            _node(
                "aws-native:sagemaker:EndpointConfig",
                str(cfg.get("EndpointConfigArn", cfg.get("EndpointConfigName"))),
                cfg,
            )
        )
    for t in live.scalable_targets:
        w.add(
            _node(
                "aws-native:applicationautoscaling:ScalableTarget",
                str(t.get("ScalableTargetARN") or t["ResourceId"]),
                t,
            )
        )
    for p in live.policies:
        w.add(_node("aws-native:applicationautoscaling:ScalingPolicy", str(p["PolicyARN"]), p, arn=p["PolicyARN"]))
    for sa in live.scheduled_actions:
        ref = str(sa.get("ScheduledActionARN") or sa.get("ScheduledActionName"))
        w.add(_node("aws:appautoscaling/scheduledAction:ScheduledAction", ref, sa))
    for a in live.alarms:
        w.add(_node("aws-native:cloudwatch:Alarm", str(a.get("AlarmArn") or a["AlarmName"]), a))
    return w, ic
