"""Read one tenant's deployed resources from AWS, and turn them into the neutral wiring model.

`verify` judges what this returns with the same `wiring.trace` the policy pack runs on a Pulumi
program; `status` and `teardown` reuse the same reads. Alarms are found two ways on purpose: by
metric and dimension (catches an alarm that watches the component but fires nothing) and through
the policies' own `Alarms` lists (catches an alarm wired to the step policy that watches the wrong
thing) — the two halves of every wiring mistake the seed could make by hand.

An asynchronous tenant (its endpoint config has an AsyncInferenceConfig) has no inference component:
its unit is the endpoint's variant (`endpoint/<name>/variant/<variant>`, DesiredInstanceCount) and its
wake alarm watches HasBacklogWithoutCapacity by EndpointName, so those are read instead.
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
    asynchronous: bool = False
    """The endpoint config has an AsyncInferenceConfig: the variant scales, not a component."""
    by_variant: bool = False
    """The units read are the endpoint's variants (asynchronous, or no component named), not a component."""
    scalable: list[dict[str, str]] = field(default_factory=list)
    """The App Auto Scaling keys (namespace, resource id, dimension) of each unit read."""

    @property
    def variant_names(self) -> list[str]:
        variants = (self.endpoint_config or {}).get("ProductionVariants") or []
        return [str(v["VariantName"]) for v in variants if v.get("VariantName")]


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
    sm = clients.sagemaker
    ic_name = target.inference_component_name
    if ic_name:  # an asynchronous tenant's stack outputs name no component
        live.ic = _describe_or_none(ic_name, sm.describe_inference_component, InferenceComponentName=ic_name)
    live.endpoint = _describe_or_none(target.endpoint_name, sm.describe_endpoint, EndpointName=target.endpoint_name)
    if live.endpoint is not None:
        cfg_name = str(live.endpoint.get("EndpointConfigName", ""))
        live.endpoint_config = _describe_or_none(cfg_name, sm.describe_endpoint_config, EndpointConfigName=cfg_name)
    live.asynchronous = live.ic is None and isinstance(
        (live.endpoint_config or {}).get("AsyncInferenceConfig"), Mapping
    )
    # No component named (or an asynchronous endpoint): the endpoint's variants are what scale.
    live.by_variant = live.asynchronous or not ic_name
    if live.by_variant:
        ep = target.endpoint_name
        live.scalable = [
            {"ServiceNamespace": wiring.SERVICE_NAMESPACE, "ResourceId": wiring.variant_resource_id(ep, v),
             "ScalableDimension": wiring.VARIANT_DIMENSION}
            for v in live.variant_names
        ]  # fmt: skip
        _scaling(clients, live, ep, (wiring.BACKLOG_WAKE_METRIC, wiring.ENDPOINT_DIMENSION, ep))
    else:
        live.scalable = [target.scalable()]
        _scaling(clients, live, ic_name, (wiring.ALARM_METRIC, wiring.ALARM_DIMENSION, ic_name))
    return live


def _scaling(clients: AwsClients, live: LiveStack, label: str, wake: tuple[str, str, str]) -> None:
    """Scalable targets, policies, scheduled actions of every unit in `live.scalable`, and the alarms:
    those watching the wake metric for this unit, and those the step policies name."""
    aas, cw = clients.autoscaling, clients.cloudwatch
    for scal in live.scalable:
        rid = scal["ResourceId"]
        live.scalable_targets += call(
            rid,
            aas.describe_scalable_targets,
            ServiceNamespace=scal["ServiceNamespace"],
            ResourceIds=[rid],
            ScalableDimension=scal["ScalableDimension"],
        )["ScalableTargets"]
        live.policies += call(rid, aas.describe_scaling_policies, **scal)["ScalingPolicies"]
        live.scheduled_actions += call(rid, aas.describe_scheduled_actions, **scal)["ScheduledActions"]
    metric, dimension, value = wake
    watching = {"Name": dimension, "Value": value}
    alarms = {
        a["AlarmName"]: a
        for a in call(
            label,
            cw.describe_alarms_for_metric,
            MetricName=metric,
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
        for a in call(label, cw.describe_alarms, AlarmNames=wired)["MetricAlarms"]:
            alarms[a["AlarmName"]] = a
    live.alarms = list(alarms.values())


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


def to_wiring(live: LiveStack) -> tuple[wiring.Wiring, wiring.InferenceComponent | None]:
    """The neutral model of the live account; refs are ARNs, so a break names what to fix. An
    asynchronous tenant has no component (None): the rules find its variant through its scalable target."""
    ic_name = live.target.inference_component_name
    w = wiring.Wiring()
    ic = None
    if not live.by_variant:
        answer = live.ic or {"InferenceComponentName": ic_name, "EndpointName": live.target.endpoint_name}
        ic = _node("aws-native:sagemaker:InferenceComponent", str(answer.get("InferenceComponentArn", ic_name)), answer)
        w.ics.append(ic)
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
