"""Read the scale-to-zero wiring out of Pulumi resource properties, for aws and aws-native alike.

Works on anything with a type, a URN, properties and property dependencies: the policy SDK's
resources, the offline plan's, a `pulumi stack export`. Never imports Pulumi. Properties are made
plain first (`values.plain`), so a preview's unknowns and an export's undisclosed secrets become
`Opaque` markers field by field instead of raising or passing for data.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from sagezero.values import UNKNOWN, Opaque, get, number, plain
from sagezero.wiring import (
    Alarm,
    Endpoint,
    EndpointConfig,
    InferenceComponent,
    MetricQuery,
    Node,
    ScalableTarget,
    ScalingPolicy,
    ScheduledAction,
    Step,
    Variant,
    Wiring,
)

IC_TYPES = frozenset({"aws-native:sagemaker:InferenceComponent"})
TARGET_TYPES = frozenset({"aws:appautoscaling/target:Target", "aws-native:applicationautoscaling:ScalableTarget"})
POLICY_TYPES = frozenset({"aws:appautoscaling/policy:Policy", "aws-native:applicationautoscaling:ScalingPolicy"})
ALARM_TYPES = frozenset({"aws:cloudwatch/metricAlarm:MetricAlarm", "aws-native:cloudwatch:Alarm"})
ENDPOINT_CONFIG_TYPES = frozenset(
    {"aws:sagemaker/endpointConfiguration:EndpointConfiguration", "aws-native:sagemaker:EndpointConfig"}
)
ENDPOINT_TYPES = frozenset({"aws:sagemaker/endpoint:Endpoint", "aws-native:sagemaker:Endpoint"})
SCHEDULED_TYPES = frozenset({"aws:appautoscaling/scheduledAction:ScheduledAction"})
WIRING_TYPES = (
    IC_TYPES | TARGET_TYPES | POLICY_TYPES | ALARM_TYPES | ENDPOINT_CONFIG_TYPES | ENDPOINT_TYPES | SCHEDULED_TYPES
)
# The engine's marker for a value computed during deployment (pulumi.runtime.rpc.UNKNOWN).
ENGINE_UNKNOWN = "04da6b54-80e4-46f7-96ec-b56ff0331ba9"


@dataclass
class EngineResource:
    """The few fields every source of Pulumi resources can provide."""

    type: str
    urn: str
    props: Mapping[str, Any]
    property_dependencies: Mapping[str, Iterable[str]] = field(default_factory=dict)
    name: str = ""
    parent: str | None = None


def is_seq(value: Any) -> bool:
    return isinstance(value, list)


def _list(value: Any) -> Any:
    """A list, or the Opaque marker when the whole list is hidden; anything else reads as empty."""
    if isinstance(value, Opaque):
        return value
    return value if isinstance(value, list) else []


def _deps(r: EngineResource) -> dict[str, set[str]]:
    return {str(k): {str(u) for u in v} for k, v in (r.property_dependencies or {}).items()}


def _flag(value: Any) -> Any:
    return value if isinstance(value, (bool, Opaque)) else bool(value)


def _pairs(value: Any) -> Any:
    """Dimensions as {name: value}: pulumi-aws gives a map, aws-native a list of {name, value}."""
    if isinstance(value, Opaque):
        return value
    if isinstance(value, dict):
        return dict(value)
    out: dict[str, Any] = {}
    for d in _list(value) if not isinstance(value, Opaque) else []:
        name = get(d, "name")
        if isinstance(name, str):
            out[name] = get(d, "value")
        elif isinstance(name, Opaque):
            return name
    return out


def _steps(config: Any) -> Any:
    raw = _list(get(config, "stepAdjustments"))
    if isinstance(raw, Opaque):
        return raw
    return [
        Step(
            lower=number(get(s, "metricIntervalLowerBound")),
            upper=number(get(s, "metricIntervalUpperBound")),
            adjustment=number(get(s, "scalingAdjustment")),
        )
        for s in raw
    ]


def variants(props: Any, native: bool) -> list[Variant]:
    """Production and shadow variants, read the same way for aws and aws-native."""
    out: list[Variant] = []
    for key, shadow in (("productionVariants", False), ("shadowProductionVariants", True)):
        raw = _list(get(props, key))
        if isinstance(raw, Opaque):
            out.append(Variant(index=0, name=raw, shadow=shadow, has_mis=True, mis_status=raw, mis_min=raw))
            continue
        for i, v in enumerate(raw):
            mis = get(v, "managedInstanceScaling")
            routing = (
                get(v, "routingConfig", "routingStrategy") if native else get(v, "routingConfigs", 0, "routingStrategy")
            )
            out.append(
                Variant(
                    index=i,
                    name=get(v, "variantName"),
                    instance_type=get(v, "instanceType"),
                    serverless=get(v, "serverlessConfig"),
                    has_mis=mis is not None,
                    mis_status=get(mis, "status"),
                    mis_min=number(get(mis, "minInstanceCount")),
                    mis_max=number(get(mis, "maxInstanceCount")),
                    model_name=get(v, "modelName"),
                    routing=routing,
                    startup_timeout=number(get(v, "containerStartupHealthCheckTimeoutInSeconds")),
                    initial_count=number(get(v, "initialInstanceCount")),
                    shadow=shadow,
                )
            )
    return out


def _tracking_metric(tracking: Any) -> tuple[Any, Any]:
    custom = get(tracking, "customizedMetricSpecification")
    if custom is None:
        return get(tracking, "predefinedMetricSpecification", "predefinedMetricType"), None
    if isinstance(custom, Opaque):
        return None, custom
    return None, (get(custom, "namespace"), get(custom, "metricName"), _pairs(get(custom, "dimensions")))


def _queries(raw: Any, native: bool) -> list[MetricQuery] | None:
    items = _list(raw)
    if isinstance(items, Opaque):
        return [MetricQuery(id=items, expression=items, return_data=True)]
    if not items:
        return None
    out = []
    for q in items:
        stat = get(q, "metricStat") if native else get(q, "metric")
        metric = get(stat, "metric") if native else stat
        out.append(
            MetricQuery(
                id=get(q, "id"),
                expression=get(q, "expression"),
                namespace=get(metric, "namespace"),
                metric=get(metric, "metricName"),
                dimensions=_pairs(get(metric, "dimensions")),
                stat=get(stat, "stat"),
                period=number(get(stat, "period")),
                return_data=get(q, "returnData"),
            )
        )
    return out


def _scheduled(ref: str, p: Any, deps: dict[str, set[str]]) -> ScheduledAction:
    return ScheduledAction(
        ref,
        name=get(p, "name") or get(p, "scheduledActionName"),
        resource_id=get(p, "resourceId"),
        dimension=get(p, "scalableDimension"),
        schedule=get(p, "schedule"),
        min_capacity=number(get(p, "scalableTargetAction", "minCapacity")),
        max_capacity=number(get(p, "scalableTargetAction", "maxCapacity")),
        deps=deps,
    )


def to_node(r: EngineResource) -> Node | None:
    """The neutral wiring record for one resource, or None when it plays no part in the wiring."""
    if r.type not in WIRING_TYPES:
        return None
    p, deps, native = plain(r.props), _deps(r), r.type.startswith("aws-native:")
    if r.type in IC_TYPES:
        return InferenceComponent(
            r.urn,
            name=get(p, "inferenceComponentName"),
            endpoint_name=get(p, "endpointName"),
            variant_name=get(p, "variantName"),
            min_memory_mb=number(get(p, "specification", "computeResourceRequirements", "minMemoryRequiredInMb")),
            accelerators=number(
                get(p, "specification", "computeResourceRequirements", "numberOfAcceleratorDevicesRequired")
            ),
            cpu_cores=number(get(p, "specification", "computeResourceRequirements", "numberOfCpuCoresRequired")),
            deps=deps,
        )
    if r.type in ENDPOINT_TYPES:
        return Endpoint(
            r.urn,
            name=get(p, "endpointName") if native else get(p, "name"),
            config_name=get(p, "endpointConfigName"),
            deps=deps,
        )
    if r.type in ENDPOINT_CONFIG_TYPES:
        asynchronous = get(p, "asyncInferenceConfig")
        return EndpointConfig(
            r.urn,
            name=get(p, "endpointConfigName") if native else get(p, "name"),
            variants=variants(p, native),
            is_async=asynchronous if isinstance(asynchronous, Opaque) else asynchronous is not None,
            async_concurrency=get(p, "asyncInferenceConfig", "clientConfig", "maxConcurrentInvocationsPerInstance"),
            deps=deps,
        )
    if r.type in SCHEDULED_TYPES:
        return _scheduled(r.urn, p, deps)
    if r.type in TARGET_TYPES:
        own = _list(get(p, "scheduledActions"))
        return ScalableTarget(
            r.urn,
            resource_id=get(p, "resourceId"),
            dimension=get(p, "scalableDimension"),
            min_capacity=number(get(p, "minCapacity")),
            max_capacity=number(get(p, "maxCapacity")),
            namespace=get(p, "serviceNamespace"),
            scale_in_suspended=_flag(get(p, "suspendedState", "dynamicScalingInSuspended")),
            scale_out_suspended=_flag(get(p, "suspendedState", "dynamicScalingOutSuspended")),
            scheduled=[_scheduled(f"{r.urn}#scheduledActions[{i}]", a, {}) for i, a in enumerate(own)]
            if isinstance(own, list)
            else [],
            deps=deps,
        )
    if r.type in POLICY_TYPES:
        step = get(p, "stepScalingPolicyConfiguration")
        tracking = get(p, "targetTrackingScalingPolicyConfiguration")
        metric_type, custom = _tracking_metric(tracking)
        rid, dim, ns = get(p, "resourceId"), get(p, "scalableDimension"), get(p, "serviceNamespace")
        target_id = get(p, "scalingTargetId")  # aws-native by value: "<resourceId>|<dimension>|<namespace>"
        if rid is None and isinstance(target_id, str) and target_id.count("|") == 2:
            rid, dim, ns = target_id.split("|")
        return ScalingPolicy(
            r.urn,
            policy_type=get(p, "policyType"),
            resource_id=rid,
            dimension=dim,
            namespace=ns,
            arn=get(p, "arn"),
            name=get(p, "policyName") if native else get(p, "name"),
            adjustment_type=get(step, "adjustmentType"),
            steps=_steps(step),
            min_adjustment_magnitude=number(get(step, "minAdjustmentMagnitude")),
            cooldown=number(get(step, "cooldown")),
            metric_type=metric_type,
            custom_metric=custom,
            target_value=number(get(tracking, "targetValue")),
            disable_scale_in=_flag(get(tracking, "disableScaleIn")),
            scale_in_cooldown=number(get(tracking, "scaleInCooldown")),
            scale_out_cooldown=number(get(tracking, "scaleOutCooldown")),
            deps=deps,
        )
    enabled = get(p, "actionsEnabled")
    return Alarm(
        r.urn,
        name=get(p, "alarmName") if native else get(p, "name"),
        namespace=get(p, "namespace"),
        metric=get(p, "metricName"),
        dimensions=_pairs(get(p, "dimensions")),
        actions=_list(get(p, "alarmActions")),
        actions_enabled=True if enabled is None else _flag(enabled),
        statistic=get(p, "statistic"),
        extended_statistic=get(p, "extendedStatistic"),
        threshold=number(get(p, "threshold")),
        comparison=get(p, "comparisonOperator"),
        period=number(get(p, "period")),
        evaluation_periods=number(get(p, "evaluationPeriods")),
        datapoints=number(get(p, "datapointsToAlarm")),
        treat_missing=get(p, "treatMissingData"),
        unit=get(p, "unit"),
        low_sample_percentile=get(
            p, "evaluateLowSampleCountPercentile" if native else "evaluateLowSampleCountPercentiles"
        ),
        metrics=_queries(get(p, "metrics") if native else get(p, "metricQueries"), native),
        deps=deps,
    )


def build_wiring(resources: Iterable[EngineResource]) -> Wiring:
    """Sort a stack's resources into the neutral wiring model."""
    w = Wiring()
    for r in resources:
        node = to_node(r)
        if node is not None:
            w.add(node)
    return w


__all__ = ["ENGINE_UNKNOWN", "UNKNOWN", "EngineResource", "build_wiring", "get", "is_seq", "to_node", "variants"]
