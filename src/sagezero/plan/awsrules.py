"""`plan`'s check of what each resource would send to AWS, against AWS's own request models.

Pulumi inputs are translated to the API request the provider makes (camelCase to AWS's member
names, tag maps to tag lists, the few renamed members) and checked by `sagezero.awsmodel`. Members
the model does not know (provider-only inputs such as `tagsAll`) are left out, and values still
unknown in a preview are skipped, so every finding is a real refusal AWS would give.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from botocore.model import ListShape, MapShape, Shape, StructureShape
from pulumi.runtime import rpc

from sagezero import awsmodel
from sagezero.plan.engine import PlannedResource
from sagezero.plan.placement import tenant_of
from sagezero.values import SECRET_SHOWN

# resource type -> (service, operation, Pulumi input -> request member renames at the top level)
OPERATIONS: dict[str, tuple[str, str, dict[str, str]]] = {
    "aws:sagemaker/model:Model": ("sagemaker", "CreateModel", {"name": "ModelName"}),
    "aws:sagemaker/endpointConfiguration:EndpointConfiguration": (
        "sagemaker",
        "CreateEndpointConfig",
        {"name": "EndpointConfigName", "kmsKeyArn": "KmsKeyId"},
    ),
    "aws:sagemaker/endpoint:Endpoint": ("sagemaker", "CreateEndpoint", {"name": "EndpointName"}),
    "aws-native:sagemaker:InferenceComponent": ("sagemaker", "CreateInferenceComponent", {}),
    "aws:appautoscaling/target:Target": ("application-autoscaling", "RegisterScalableTarget", {}),
    "aws:appautoscaling/policy:Policy": ("application-autoscaling", "PutScalingPolicy", {"name": "PolicyName"}),
    "aws:cloudwatch/metricAlarm:MetricAlarm": ("cloudwatch", "PutMetricAlarm", {"name": "AlarmName"}),
    # An async tenant's queue: the bucket name and the topics' names and tags (their other settings are
    # separate S3 calls or SNS attributes, whose shapes do not follow the Pulumi inputs).
    "aws:s3/bucket:Bucket": ("s3", "CreateBucket", {}),
    "aws:sns/topic:Topic": ("sns", "CreateTopic", {}),
}
# Nested members whose Pulumi name is not AWS's name with a capital first letter.
NESTED = {"memorySizeInMb": "MemorySizeInMB", "routingConfigs": "RoutingConfig"}


@dataclass(frozen=True)
class Finding:
    """One member AWS would refuse, with everything needed to find it."""

    tenant: str
    resource: str
    type: str
    operation: str
    violation: awsmodel.Violation

    def __str__(self) -> str:
        return f"tenant {self.tenant}, {self.resource} ({self.operation}): {self.violation}"


def _unknown(value: Any) -> bool:
    return isinstance(value, str) and value in {rpc.UNKNOWN, SECRET_SHOWN}


def translate(s: Shape, value: Any, renames: Mapping[str, str] | None = None) -> Any:
    """A Pulumi input value in the form AWS's request shape `s` takes, or None when not known yet."""
    if value is None or _unknown(value):
        return None
    if isinstance(s, StructureShape):
        if isinstance(value, list) and len(value) == 1:  # one-element Pulumi blocks (routingConfigs)
            value = value[0]
        if not isinstance(value, Mapping):
            return value
        out: dict[str, Any] = {}
        for key, item in value.items():
            member = (renames or {}).get(key) or NESTED.get(key) or key[:1].upper() + key[1:]
            if member in s.members:
                translated = translate(s.members[member], item)
                if translated is not None:
                    out[member] = translated
        return out
    if isinstance(s, ListShape):
        member = s.member
        if isinstance(value, Mapping) and isinstance(member, StructureShape):  # tag or dimension maps
            k, v = ("Key", "Value") if "Key" in member.members else ("Name", "Value")
            value = [{k: key, v: item} for key, item in value.items()]
        if not isinstance(value, Sequence) or isinstance(value, str):
            return value
        return [x for x in (translate(member, item) for item in value) if x is not None]
    if isinstance(s, MapShape):
        if isinstance(value, Sequence) and not isinstance(value, str):  # aws-native tag lists
            value = {t.get("key"): t.get("value") for t in value if isinstance(t, Mapping)}
        return value if not isinstance(value, Mapping) else {k: v for k, v in value.items() if not _unknown(v)}
    if s.type_name in ("double", "float", "integer", "long") and isinstance(value, str):
        try:
            return float(value)
        except ValueError:
            return value
    return value


def request(r: PlannedResource) -> tuple[str, str, dict[str, Any]] | None:
    """(service, operation, request) a resource's provider would send, or None for other resources."""
    spec = OPERATIONS.get(r.type)
    if spec is None:
        return None
    service, operation, renames = spec
    params = translate(awsmodel.request_shape(service, operation), r.state, renames)
    if r.type == "aws-native:sagemaker:InferenceComponent" and isinstance(r.state.get("tags"), list):
        params["Tags"] = [{"Key": t.get("key"), "Value": t.get("value")} for t in r.state["tags"]]
    return service, operation, params


def check(resources: Sequence[PlannedResource], *, known: Callable[[str], bool] = lambda _: True) -> list[Finding]:
    """Every AWS request rule the planned resources break."""
    by_urn = {r.urn: r for r in resources}
    out: list[Finding] = []
    for r in resources:
        req = request(r)
        if req is None:
            continue
        service, operation, params = req
        shape = awsmodel.request_shape(service, operation)
        for v in awsmodel.check(shape, params):
            if v.rule == "is required" and not known(v.path):
                continue
            out.append(Finding(tenant_of(r, by_urn), r.name, r.type, operation, v))
    return out
