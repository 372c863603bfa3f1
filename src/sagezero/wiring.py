"""The scale-to-zero wiring as data: names AWS uses, neutral records, and how records link up.

Pure: never imports Pulumi or boto3, so the component (to build), the policy pack, `plan` and
`check` (to judge a program or an export), `verify` (to judge a live account) and the simulator (to
replay any wiring) share one definition. Adapters turn engine properties (`engine_wiring`) or AWS
API answers (`ops.live`) into these records; `sagezero.rules` judges them.

Any field may hold an `Opaque` value (unknown at preview, or an undisclosed secret): linking uses
engine property dependencies where values are hidden, and the rules report what stayed unjudged.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any

from sagezero.values import SECRET, UNKNOWN, Opaque, is_opaque, number

__all__ = ["SECRET", "UNKNOWN", "Opaque", "number"]

SERVICE_NAMESPACE = "sagemaker"
RESOURCE_PREFIX = "inference-component/"
SCALABLE_DIMENSION = "sagemaker:inference-component:DesiredCopyCount"
VARIANT_DIMENSION = "sagemaker:variant:DesiredInstanceCount"
TARGET_TRACKING_METRIC = "SageMakerInferenceComponentConcurrentRequestsPerCopyHighResolution"
IC_TRACKING_METRICS = frozenset({TARGET_TRACKING_METRIC, "SageMakerInferenceComponentInvocationsPerCopy"})
ALARM_NAMESPACE = "AWS/SageMaker"
ALARM_METRIC = "NoCapacityInvocationFailures"
ALARM_DIMENSION = "InferenceComponentName"
BACKLOG_WAKE_METRIC = "HasBacklogWithoutCapacity"
BACKLOG_TRACKING_METRIC = "ApproximateBacklogSizePerInstance"
ENDPOINT_DIMENSION = "EndpointName"
ROUTING_STRATEGY = "LEAST_OUTSTANDING_REQUESTS"


def evaluation_window_max(period: float) -> int:
    """The longest Period x EvaluationPeriods CloudWatch accepts (PutMetricAlarm): seven days, but one day
    for alarms with a period shorter than an hour."""
    return 604_800 if period >= 3600 else 86_400


def ic_resource_id(inference_component_name: str) -> str:
    """App Auto Scaling resource id of an inference component."""
    return RESOURCE_PREFIX + inference_component_name


def variant_resource_id(endpoint_name: str, variant_name: str) -> str:
    """App Auto Scaling resource id of an endpoint variant (asynchronous endpoints scale these)."""
    return f"endpoint/{endpoint_name}/variant/{variant_name}"


@dataclass
class Node:
    """Something in the wiring; `ref` is a URN (program) or an ARN/name (live account)."""

    ref: str
    deps: Mapping[str, set[str]] = field(default_factory=dict, kw_only=True)

    def links(self, prop: str, other: Node) -> bool:
        """True when `prop` of this node was computed from `other` (engine property dependency)."""
        return other.ref in self.deps.get(prop, set())

    def linked_refs(self, prop: str) -> set[str]:
        return set(self.deps.get(prop, set()))

    @property
    def label(self) -> str:
        name = getattr(self, "name", None)
        return name if isinstance(name, str) and name else self.ref.rsplit("::", 1)[-1]


@dataclass
class Variant:
    """One production (or shadow) variant of an endpoint config."""

    index: int
    name: Any
    instance_type: Any = None
    serverless: Any = None
    """The serverless config (a mapping) when the variant is serverless; None otherwise."""
    has_mis: bool = False
    mis_status: Any = None
    mis_min: Any = None
    mis_max: Any = None
    model_name: Any = None
    routing: Any = None
    startup_timeout: Any = None
    initial_count: Any = None
    shadow: bool = False

    @property
    def where(self) -> str:
        kind = "shadowProductionVariants" if self.shadow else "productionVariants"
        return f"{kind}[{self.index}] ({self.name if isinstance(self.name, str) else 'unnamed'})"


@dataclass
class EndpointConfig(Node):
    name: Any = None
    variants: list[Variant] = field(default_factory=list)
    is_async: Any = False
    """True (or Opaque) when the config has an AsyncInferenceConfig."""
    async_concurrency: Any = None
    """AsyncInferenceConfig.ClientConfig.MaxConcurrentInvocationsPerInstance (None: not set)."""


@dataclass
class Endpoint(Node):
    name: Any = None
    config_name: Any = None


@dataclass
class InferenceComponent(Node):
    name: Any = None
    endpoint_name: Any = None
    variant_name: Any = None
    min_memory_mb: Any = None
    accelerators: Any = None
    cpu_cores: Any = None


@dataclass
class ScalableTarget(Node):
    resource_id: Any = None
    dimension: Any = None
    min_capacity: Any = None
    max_capacity: Any = None
    namespace: Any = SERVICE_NAMESPACE
    scale_in_suspended: Any = False
    scale_out_suspended: Any = False
    scheduled: list[ScheduledAction] = field(default_factory=list)
    """Scheduled actions declared on the target itself (aws-native ScheduledActions)."""


@dataclass
class ScheduledAction(Node):
    """An App Auto Scaling scheduled action (pulumi-aws resource, or an entry of an aws-native target)."""

    name: Any = None
    resource_id: Any = None
    dimension: Any = None
    schedule: Any = None
    min_capacity: Any = None
    max_capacity: Any = None

    @property
    def recurring(self) -> bool:
        return isinstance(self.schedule, str) and self.schedule.startswith(("rate(", "cron("))


@dataclass
class Step:
    lower: Any
    upper: Any
    adjustment: Any


@dataclass
class ScalingPolicy(Node):
    policy_type: Any = None
    resource_id: Any = None
    dimension: Any = None
    namespace: Any = None
    arn: Any = None
    name: Any = None
    adjustment_type: Any = None
    steps: Any = field(default_factory=list)
    """list[Step], or Opaque when the step adjustments are hidden."""
    min_adjustment_magnitude: Any = None
    cooldown: Any = None
    """Step scaling: seconds during which a repeated alarm adds nothing more."""
    metric_type: Any = None
    """Target tracking: the predefined metric type, if any."""
    custom_metric: Any = None
    """Target tracking: (namespace, metric name, dimensions) of a customized metric, if any."""
    target_value: Any = None
    disable_scale_in: Any = False
    scale_in_cooldown: Any = None
    scale_out_cooldown: Any = None


@dataclass
class MetricQuery:
    """One entry of a metric-math alarm's `Metrics`."""

    id: Any
    expression: Any = None
    namespace: Any = None
    metric: Any = None
    dimensions: Any = None
    stat: Any = None
    period: Any = None
    return_data: Any = None


@dataclass
class Alarm(Node):
    name: Any = None
    namespace: Any = None
    metric: Any = None
    dimensions: Any = field(default_factory=dict)
    """{name: value}, or Opaque when the whole set is hidden."""
    actions: Any = field(default_factory=list)
    """list of action ARNs (items may be Opaque), or Opaque."""
    actions_enabled: Any = True
    statistic: Any = None
    extended_statistic: Any = None
    threshold: Any = None
    comparison: Any = None
    period: Any = None
    evaluation_periods: Any = None
    datapoints: Any = None
    treat_missing: Any = None
    unit: Any = None
    low_sample_percentile: Any = None
    """EvaluateLowSampleCountPercentile: 'ignore' keeps the state when a percentile has too few samples."""
    metrics: list[MetricQuery] | None = None
    """Metric-math alarms: the queries; None for a single-metric alarm."""


@dataclass
class Wiring:
    """Everything relevant in one stack or account, with the lookups the rules need built once."""

    ics: list[InferenceComponent] = field(default_factory=list)
    targets: list[ScalableTarget] = field(default_factory=list)
    policies: list[ScalingPolicy] = field(default_factory=list)
    alarms: list[Alarm] = field(default_factory=list)
    endpoints: list[Endpoint] = field(default_factory=list)
    configs: list[EndpointConfig] = field(default_factory=list)
    scheduled: list[ScheduledAction] = field(default_factory=list)

    def add(self, node: Node) -> None:
        bucket = {
            ScheduledAction: self.scheduled,
            InferenceComponent: self.ics,
            ScalableTarget: self.targets,
            ScalingPolicy: self.policies,
            Alarm: self.alarms,
            Endpoint: self.endpoints,
            EndpointConfig: self.configs,
        }[type(node)]
        bucket.append(node)  # type: ignore[attr-defined]

    def index(self) -> Index:
        return Index(self)


def _by(items: Iterable[Any], key: Any) -> dict[Any, list[Any]]:
    out: dict[Any, list[Any]] = defaultdict(list)
    for item in items:
        for k in key(item):
            out[k].append(item)
    return out


def _str_key(value: Any) -> list[str]:
    return [value.lower()] if isinstance(value, str) else []


@dataclass
class Index:
    """Links between records, by value (names, ids, ARNs) or by engine property dependency.

    Built once per judgement, so judging N tenants is linear in N: every lookup is a dict read.
    SageMaker names are case-insensitive, so name keys are lower-cased.
    """

    w: Wiring
    by_ref: dict[str, Node] = field(init=False)

    def __post_init__(self) -> None:
        w = self.w
        nodes: list[Node] = [*w.ics, *w.targets, *w.policies, *w.alarms, *w.endpoints, *w.configs]
        self.by_ref = {n.ref: n for n in nodes}
        self._targets_by_id = _by(w.targets, lambda t: _str_key(t.resource_id))
        self._targets_by_dep = _by(w.targets, lambda t: t.linked_refs("resourceId"))
        self._policies_by_id = _by(w.policies, lambda p: _str_key(p.resource_id))
        self._policies_by_dep = _by(
            w.policies, lambda p: p.linked_refs("resourceId") | p.linked_refs("scalingTargetId")
        )
        self._alarms_by_action = _by(
            w.alarms, lambda a: [x for x in a.actions if isinstance(x, str)] if isinstance(a.actions, list) else []
        )
        self._alarms_by_dep = _by(w.alarms, lambda a: a.linked_refs("alarmActions"))
        self._alarms_by_dim = _by(w.alarms, _dimension_keys)
        self._alarms_by_dim_dep = _by(w.alarms, lambda a: a.linked_refs("dimensions") | a.linked_refs("metrics"))
        self._endpoints_by_name = _by(w.endpoints, lambda e: _str_key(e.name))
        self._configs_by_name = _by(w.configs, lambda c: _str_key(c.name))
        self._scheduled_by_id = _by(w.scheduled, lambda a: _str_key(a.resource_id))
        self._scheduled_by_dep = _by(w.scheduled, lambda a: a.linked_refs("resourceId"))

    # -- scalable targets ------------------------------------------------------------------------

    def targets_for(self, resource_id: Any, owner: Node | None, dimension: str) -> list[ScalableTarget]:
        """Targets on this resource id (by value) or computed from `owner` (by dependency)."""
        found: dict[str, ScalableTarget] = {}
        if isinstance(resource_id, str):
            for t in self._targets_by_id.get(resource_id.lower(), []):
                found[t.ref] = t
        if owner is not None:
            for t in self._targets_by_dep.get(owner.ref, []):
                found[t.ref] = t
        return [t for t in found.values() if t.dimension == dimension or is_opaque(t.dimension)]

    def policies_on(self, target: ScalableTarget) -> list[ScalingPolicy]:
        found: dict[str, ScalingPolicy] = {}
        for p in self._policies_by_dep.get(target.ref, []):
            found[p.ref] = p
        if isinstance(target.resource_id, str):
            for p in self._policies_by_id.get(target.resource_id.lower(), []):
                if p.dimension == target.dimension or is_opaque(p.dimension) or is_opaque(target.dimension):
                    found[p.ref] = p
        # Both computed from the same resource (preview): the engine says so through their dependencies.
        mine = target.linked_refs("resourceId")
        if mine:
            for ref in mine:
                for p in self._policies_by_dep.get(ref, []):
                    if p.linked_refs("resourceId") == mine:
                        found[p.ref] = p
        return list(found.values())

    def scheduled_on(self, target: ScalableTarget) -> list[ScheduledAction]:
        found = {a.ref: a for a in target.scheduled}
        for ref in target.linked_refs("resourceId") | {target.ref}:
            for a in self._scheduled_by_dep.get(ref, []):
                found[a.ref] = a
        if isinstance(target.resource_id, str):
            for a in self._scheduled_by_id.get(target.resource_id.lower(), []):
                found[a.ref] = a
        return list(found.values())

    def hidden_target(self) -> Opaque | None:
        """A scalable target whose id is hidden and tied to nothing: it could be anyone's."""
        for t in self.w.targets:
            if is_opaque(t.resource_id) and not t.linked_refs("resourceId"):
                return t.resource_id  # type: ignore[no-any-return]
        return None

    def hidden_alarm(self) -> Opaque | None:
        """An alarm whose actions are hidden and tied to nothing: it could be the one firing a policy."""
        for a in self.w.alarms:
            if a.linked_refs("alarmActions"):
                continue
            if is_opaque(a.actions):
                return a.actions  # type: ignore[no-any-return]
            hidden = next((x for x in a.actions if is_opaque(x)), None) if isinstance(a.actions, list) else None
            if hidden is not None:
                return hidden  # type: ignore[no-any-return]
        return None

    # -- alarms ----------------------------------------------------------------------------------

    def alarms_firing(self, policy: ScalingPolicy) -> list[Alarm]:
        found: dict[str, Alarm] = {a.ref: a for a in self._alarms_by_dep.get(policy.ref, [])}
        if isinstance(policy.arn, str):
            for a in self._alarms_by_action.get(policy.arn, []):
                found[a.ref] = a
        return list(found.values())

    def alarms_watching(self, metric: str, dimension: str, value: Any, owner: Node) -> list[Alarm]:
        """Alarms on this metric whose dimension names this value, or whose dimensions come from `owner`."""
        found: dict[str, Alarm] = {}
        if isinstance(value, str):
            for a in self._alarms_by_dim.get((metric, dimension, value.lower()), []):
                found[a.ref] = a
        for a in self._alarms_by_dim_dep.get(owner.ref, []):
            found[a.ref] = a
        return list(found.values())

    # -- endpoints -------------------------------------------------------------------------------

    def endpoint_of(self, ic: InferenceComponent) -> Endpoint | None:
        for ref in ic.linked_refs("endpointName"):
            node = self.by_ref.get(ref)
            if isinstance(node, Endpoint):
                return node
        hits = self._endpoints_by_name.get(ic.endpoint_name.lower(), []) if isinstance(ic.endpoint_name, str) else []
        return hits[0] if hits else None

    def config_of(self, endpoint: Endpoint) -> EndpointConfig | None:
        for ref in endpoint.linked_refs("endpointConfigName"):
            node = self.by_ref.get(ref)
            if isinstance(node, EndpointConfig):
                return node
        name = endpoint.config_name
        hits = self._configs_by_name.get(name.lower(), []) if isinstance(name, str) else []
        return hits[0] if hits else None

    def endpoints_using(self, config: EndpointConfig) -> list[Endpoint]:
        out = [e for e in self.w.endpoints if e.links("endpointConfigName", config)]
        if isinstance(config.name, str):
            out += [e for e in self._endpoints_by_name_of_config(config.name) if e not in out]
        return out

    def _endpoints_by_name_of_config(self, config_name: str) -> Iterator[Endpoint]:
        for e in self.w.endpoints:
            if isinstance(e.config_name, str) and e.config_name.lower() == config_name.lower():
                yield e


def _dimension_keys(a: Alarm) -> list[tuple[str, str, str]]:
    keys = []
    if isinstance(a.dimensions, Mapping) and isinstance(a.metric, str):
        for name, value in a.dimensions.items():
            if isinstance(value, str):
                keys.append((a.metric, name, value.lower()))
    for q in a.metrics or []:
        if isinstance(q.dimensions, Mapping) and isinstance(q.metric, str):
            for name, value in q.dimensions.items():
                if isinstance(value, str):
                    keys.append((q.metric, name, value.lower()))
    return keys
