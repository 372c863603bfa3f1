"""Read the scale-to-zero wiring out of Pulumi resource properties, for aws and aws-native alike.

Works on anything with `resource_type`/`type`, `urn`, `props` and `property_dependencies`: the
policy SDK's resources, the offline plan's, a `pulumi stack export`. Never imports Pulumi; values
unknown during preview become `wiring.UNKNOWN` instead of raising.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from sagezero import wiring
from sagezero.wiring import UNKNOWN, Alarm, InferenceComponent, ScalableTarget, ScalingPolicy, Step, Wiring, number

IC_TYPES = frozenset({"aws-native:sagemaker:InferenceComponent"})
TARGET_TYPES = frozenset({"aws:appautoscaling/target:Target", "aws-native:applicationautoscaling:ScalableTarget"})
POLICY_TYPES = frozenset({"aws:appautoscaling/policy:Policy", "aws-native:applicationautoscaling:ScalingPolicy"})
ALARM_TYPES = frozenset({"aws:cloudwatch/metricAlarm:MetricAlarm", "aws-native:cloudwatch:Alarm"})
ENDPOINT_CONFIG_TYPES = frozenset(
    {"aws:sagemaker/endpointConfiguration:EndpointConfiguration", "aws-native:sagemaker:EndpointConfig"}
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


def get(props: Any, *path: str | int) -> Any:
    """props[path...], None when absent, UNKNOWN when the engine does not know it yet (preview)."""
    cur = props
    for key in path:
        try:
            if isinstance(key, int):
                if not is_seq(cur) or key >= len(cur):
                    return None
                cur = cur[key]
            else:
                if not isinstance(cur, Mapping) or key not in cur:
                    return None
                cur = cur[key]
        except Exception as e:
            # pulumi_policy's proxy raises UnknownValueError on reading a preview-time unknown.
            if type(e).__name__ == "UnknownValueError":
                return UNKNOWN
            raise
        if cur == ENGINE_UNKNOWN:
            return UNKNOWN
    return cur


def is_seq(value: Any) -> bool:
    """A list as engine values carry it (the policy SDK hands over read-only Sequence proxies)."""
    return isinstance(value, Sequence) and not isinstance(value, (str, bytes))


def _list(value: Any) -> list[Any]:
    if value is UNKNOWN:
        return [UNKNOWN]
    return list(value) if is_seq(value) else []


def _deps(r: EngineResource) -> dict[str, set[str]]:
    return {k: set(v) for k, v in (r.property_dependencies or {}).items()}


def _steps(config: Any) -> list[Step]:
    steps = []
    for s in _list(get(config, "stepAdjustments")):
        lower, upper = number(get(s, "metricIntervalLowerBound")), number(get(s, "metricIntervalUpperBound"))
        steps.append(
            Step(
                lower=lower if isinstance(lower, (int, float)) else None,
                upper=upper if isinstance(upper, (int, float)) else None,
                adjustment=number(get(s, "scalingAdjustment")),
            )
        )
    return steps


def _dimensions(value: Any) -> dict[str, Any]:
    if value is UNKNOWN:
        return {wiring.ALARM_DIMENSION: UNKNOWN}
    if isinstance(value, Mapping):  # pulumi-aws: a map
        return {str(k): get(value, str(k)) for k in value}
    out = {}
    for d in _list(value):  # aws-native: [{name, value}]
        name = get(d, "name")
        if isinstance(name, str):
            out[name] = get(d, "value")
    return out


def to_node(r: EngineResource) -> Any:
    """The neutral wiring record for one resource, or None when it plays no part in the wiring."""
    p, deps = r.props, _deps(r)
    if r.type in IC_TYPES:
        return InferenceComponent(
            r.urn, name=get(p, "inferenceComponentName"), endpoint_name=get(p, "endpointName"), deps=deps
        )
    if r.type in TARGET_TYPES:
        return ScalableTarget(
            r.urn,
            resource_id=get(p, "resourceId"),
            dimension=get(p, "scalableDimension"),
            min_capacity=number(get(p, "minCapacity")),
            max_capacity=number(get(p, "maxCapacity")),
            namespace=get(p, "serviceNamespace"),
            deps=deps,
        )
    if r.type in POLICY_TYPES:
        step = get(p, "stepScalingPolicyConfiguration")
        tracking = get(p, "targetTrackingScalingPolicyConfiguration")
        return ScalingPolicy(
            r.urn,
            policy_type=get(p, "policyType"),
            resource_id=get(p, "resourceId"),
            dimension=get(p, "scalableDimension"),
            arn=get(p, "arn"),
            adjustment_type=get(step, "adjustmentType"),
            steps=_steps(step),
            metric_type=get(tracking, "predefinedMetricSpecification", "predefinedMetricType"),
            target_value=number(get(tracking, "targetValue")),
            cooldown=number(get(step, "cooldown")),
            deps=deps,
        )
    if r.type in ALARM_TYPES:
        return Alarm(
            r.urn,
            name=get(p, "name") if r.type.startswith("aws:") else get(p, "alarmName"),
            namespace=get(p, "namespace"),
            metric=get(p, "metricName"),
            dimensions=_dimensions(get(p, "dimensions")),
            actions=_list(get(p, "alarmActions")),
            statistic=get(p, "statistic"),
            threshold=number(get(p, "threshold")),
            comparison=get(p, "comparisonOperator"),
            period=number(get(p, "period")),
            evaluation_periods=number(get(p, "evaluationPeriods")),
            datapoints=number(get(p, "datapointsToAlarm")),
            deps=deps,
        )
    return None


def build_wiring(resources: Iterable[EngineResource]) -> Wiring:
    """Sort a stack's resources into the neutral wiring model."""
    w = Wiring()
    for r in resources:
        node = to_node(r)
        if isinstance(node, InferenceComponent):
            w.ics.append(node)
        elif isinstance(node, ScalableTarget):
            w.targets.append(node)
        elif isinstance(node, ScalingPolicy):
            w.policies.append(node)
        elif isinstance(node, Alarm):
            w.alarms.append(node)
    return w
