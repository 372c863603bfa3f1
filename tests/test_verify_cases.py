"""`sagezero verify` on the live account shares the pack's rules: every wiring case, turned into the
answers AWS's describe calls would give, breaks exactly the same rules.

The answers are made from the case's aws-native properties (camelCase -> PascalCase, which is how
CloudFormation and the APIs relate), trimmed and completed to each operation's output shape in
botocore's model, and served through Stubber, which validates every request and answer.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

import boto3
import pytest
from botocore.model import ListShape, MapShape, Shape, StructureShape
from botocore.stub import Stubber

from sagezero.engine_wiring import EngineResource
from sagezero.ops import AwsClients, Target, verify
from sagezero.ops.verify import VerifyReport, render
from tests.wiring_cases import CASES, Case

NOW = dt.datetime(2026, 11, 25, 12, 0, 0, tzinfo=dt.UTC)
TARGET = Target("byhand", "byhand-ic")
ALARM_FIELDS = {"metrics": "Metrics"}


def pascal(value: Any) -> Any:
    if isinstance(value, dict):
        return {k[:1].upper() + k[1:]: pascal(v) for k, v in value.items()}
    if isinstance(value, list):
        return [pascal(v) for v in value]
    return value


def _blank(shape: Shape) -> Any:
    kind = shape.type_name
    if kind == "structure":
        return fit(shape, {})
    return {"string": "arn:aws:sagemaker:eu-west-1:123456789012:placeholder", "timestamp": NOW, "integer": 0, "long": 0, "double": 0.0, "float": 0.0,
            "boolean": False, "list": [], "map": {}}.get(kind, "x")  # fmt: skip


def fit(shape: Shape, value: Any) -> Any:
    """`value` trimmed to the members `shape` has, with every required member present."""
    if isinstance(shape, StructureShape):
        src = value if isinstance(value, dict) else {}
        out = {k: fit(shape.members[k], v) for k, v in src.items() if k in shape.members}
        for k in shape.required_members:
            out.setdefault(k, _blank(shape.members[k]))
        return out
    if isinstance(shape, ListShape):
        return [fit(shape.member, v) for v in value] if isinstance(value, list) else []
    if isinstance(shape, MapShape):
        return dict(value) if isinstance(value, dict) else {}
    if shape.type_name in ("integer", "long") and isinstance(value, float):
        return int(value)
    if shape.type_name in ("double", "float") and isinstance(value, int) and not isinstance(value, bool):
        return float(value)
    return value


def answer(client: Any, operation: str, body: dict[str, Any]) -> dict[str, Any]:
    op = client.meta.service_model.operation_model(operation)
    out: dict[str, Any] = fit(op.output_shape, body)
    return out


def by_type(case: Case, kind: str) -> list[EngineResource]:
    return [r for r in case.resources() if r.type == kind]


def serve_case(clients: AwsClients, case: Case, target: Target = TARGET) -> list[Stubber]:
    """Stub every describe call `verify` makes for `target`, answering from the case's resources. With no
    component named (an asynchronous tenant), the units are the endpoint's variants and the wake alarm
    watches HasBacklogWithoutCapacity by EndpointName."""
    sm, aas, cw = clients.sagemaker, clients.autoscaling, clients.cloudwatch
    stubs = [Stubber(sm), Stubber(aas), Stubber(cw)]
    s_sm, s_aas, s_cw = stubs
    ic = next(iter(by_type(case, "aws-native:sagemaker:InferenceComponent")), None)
    if not target.inference_component_name:
        pass  # no component to describe
    elif ic is None:
        s_sm.add_client_error(
            "describe_inference_component", "ValidationException", "Could not find inference component"
        )
    else:
        body = {**pascal(dict(ic.props)), "InferenceComponentArn": "arn:aws:sagemaker:eu-west-1:1:inference-component/byhand-ic",
                "InferenceComponentStatus": "InService", "CreationTime": NOW, "LastModifiedTime": NOW}  # fmt: skip
        s_sm.add_response("describe_inference_component", answer(sm, "DescribeInferenceComponent", body))
    ep = by_type(case, "aws-native:sagemaker:Endpoint")[0]
    s_sm.add_response("describe_endpoint", answer(sm, "DescribeEndpoint", {**pascal(dict(ep.props)),
                      "EndpointArn": "arn:aws:sagemaker:eu-west-1:1:endpoint/byhand", "EndpointStatus": "InService",
                      "CreationTime": NOW, "LastModifiedTime": NOW}))  # fmt: skip
    cfg = by_type(case, "aws-native:sagemaker:EndpointConfig")[0]
    s_sm.add_response("describe_endpoint_config", answer(sm, "DescribeEndpointConfig", {**pascal(dict(cfg.props)),
                      "EndpointConfigArn": "arn:aws:sagemaker:eu-west-1:1:endpoint-config/c", "CreationTime": NOW}))  # fmt: skip
    cfg_body = pascal(dict(cfg.props))
    if target.inference_component_name:
        units = [(target.resource_id, "sagemaker:inference-component:DesiredCopyCount")]
        metric, watching = "NoCapacityInvocationFailures", {"Name": "InferenceComponentName",
                                                            "Value": target.inference_component_name}  # fmt: skip
    else:
        units = [(f"endpoint/{target.endpoint_name}/variant/{v['VariantName']}", "sagemaker:variant:DesiredInstanceCount")
                 for v in cfg_body.get("ProductionVariants", [])]  # fmt: skip
        metric, watching = "HasBacklogWithoutCapacity", {"Name": "EndpointName", "Value": target.endpoint_name}
    alarms = [pascal(dict(a.props)) for a in by_type(case, "aws-native:cloudwatch:Alarm")]
    policies: list[dict[str, Any]] = []
    for rid, dim in units:
        targets = [pascal(dict(t.props)) for t in by_type(case, "aws-native:applicationautoscaling:ScalableTarget")]
        targets = [{**t, "CreationTime": NOW, "RoleARN": "arn:aws:iam::1:role/r"} for t in targets
                   if t.get("ResourceId") == rid]  # fmt: skip
        s_aas.add_response(
            "describe_scalable_targets", answer(aas, "DescribeScalableTargets", {"ScalableTargets": targets})
        )
        mine = []
        for p in by_type(case, "aws-native:applicationautoscaling:ScalingPolicy"):
            body = pascal(dict(p.props))
            if body.get("ResourceId") != rid:
                continue
            arn = body.pop("Arn", f"arn:aws:autoscaling:eu-west-1:1:scalingPolicy:{p.name}")
            fired = [{"AlarmName": a["AlarmName"], "AlarmARN": "arn:aws:cloudwatch:x"} for a in alarms
                     if arn in a.get("AlarmActions", [])]  # fmt: skip
            mine.append({**body, "PolicyARN": arn, "CreationTime": NOW, "Alarms": fired})
        policies += mine
        s_aas.add_response(
            "describe_scaling_policies", answer(aas, "DescribeScalingPolicies", {"ScalingPolicies": mine})
        )
        scheduled = [{**a, "ScheduledActionARN": f"arn:aws:autoscaling:eu-west-1:1:scheduledAction:{a['ScheduledActionName']}",
                      "ServiceNamespace": "sagemaker", "ResourceId": rid, "ScalableDimension": dim,
                      "CreationTime": NOW} for t in targets for a in t.get("ScheduledActions", [])]  # fmt: skip
        s_aas.add_response(
            "describe_scheduled_actions", answer(aas, "DescribeScheduledActions", {"ScheduledActions": scheduled})
        )
    for_metric = [a for a in alarms if a.get("MetricName") == metric
                  and a.get("Namespace") == "AWS/SageMaker" and watching in a.get("Dimensions", [])]  # fmt: skip
    s_cw.add_response("describe_alarms_for_metric", answer(cw, "DescribeAlarmsForMetric", {"MetricAlarms": for_metric}))
    seen = {a["AlarmName"] for a in for_metric}
    wired = sorted({f["AlarmName"] for p in policies if p["PolicyType"] == "StepScaling" for f in p["Alarms"]} - seen)
    if wired:
        hits = [a for a in alarms if a["AlarmName"] in wired]
        s_cw.add_response("describe_alarms", answer(cw, "DescribeAlarms", {"MetricAlarms": hits}))
    for s in stubs:
        s.activate()
    return stubs


# AWS refuses these at creation (botocore's model: MaxInstanceCount >= 1; no component on a serverless
# variant), so no live account can hold them; the pack reports them before `pulumi up`.
CANNOT_EXIST = {
    "variant-max-instances-0", "variant-serverless-hosts-component", "alarm-datapoints-0",
    "alarm-evaluation-periods-infinite", "alarm-comparison-a-list", "alarm-period-true",
    # A Pulumi form (aws-native's scalingTargetId after `pulumi import`): AWS's answers always carry ResourceId.
    "step-by-scaling-target-id",
}  # fmt: skip
IC_CASES = [c for c in CASES if c.base == "native" and c.id not in CANNOT_EXIST]


@pytest.fixture(scope="module")
def clients() -> AwsClients:
    """One set of clients for every case (making a client loads its service model: slow); each case
    stubs them afresh."""
    session = boto3.Session(region_name="eu-west-1", aws_access_key_id="x", aws_secret_access_key="x")
    return AwsClients(*(session.client(n) for n in ("sagemaker", "sagemaker-runtime", "application-autoscaling",
                                                    "cloudwatch")))  # fmt: skip


def _verified(clients: AwsClients, case: Case, target: Target) -> tuple[VerifyReport, set[tuple[str, ...]]]:
    """verify against the case's stubbed answers (every one consumed), and its broken (rule, kind) pairs.
    A unit with no target that lets it reach zero has nothing for the wake and scale-in rules to judge:
    verify must not call them ok."""
    stubs = serve_case(clients, case, target)
    try:
        report = verify(clients, target, now=lambda: NOW)
        for s in stubs:
            s.assert_no_pending_responses()
    finally:
        for s in stubs:
            s.deactivate()
    broken = {tuple(f.check.split(":", 1)) for f in report.findings if not f.ok}
    if {("inference-component-scalable-target-min-zero", k) for k in ("no-scalable-target", "min-capacity")} & broken:
        ok = {f.check for f in report.findings if f.ok}
        assert not ok & {"scale-from-zero-alarm", "scale-to-zero-target-tracking"}, ok
    return report, broken


@pytest.mark.parametrize("case", IC_CASES, ids=[c.id for c in IC_CASES])
def test_verify_breaks_exactly_what_the_pack_breaks(clients: AwsClients, case: Case) -> None:
    report, broken = _verified(clients, case, TARGET)
    expect = {e for e in case.expect if e[1] not in ("orphan-target", "no-variant")}
    if case.id == "component-on-missing-variant":
        expect = {("scale-from-zero-alarm", "no-variant")}
    assert broken == expect, [f.message for f in report.findings if not f.ok]


ASYNC_CASES = [c for c in CASES if c.base == "async" and c.id not in CANNOT_EXIST]
ASYNC_TARGET = Target("queued", "")
"""An asynchronous tenant as its stack outputs name it: an endpoint, no inference component."""


@pytest.mark.parametrize("case", ASYNC_CASES, ids=[c.id for c in ASYNC_CASES])
def test_verify_judges_an_asynchronous_tenant_as_the_pack_does(clients: AwsClients, case: Case) -> None:
    report, broken = _verified(clients, case, ASYNC_TARGET)
    expect = set(case.expect)
    if case.id == "async-target-on-missing-variant":
        # verify reads the targets of the variants the endpoint has: the one on a variant it lacks is not
        # found, so it sees that the real variant has none and that the policies on it have no target to
        # act on (the pack, reading the program, names the typo as well).
        expect = {
            ("inference-component-scalable-target-min-zero", "no-scalable-target"),
            ("scale-from-zero-alarm", "no-scalable-target"),
        }
    assert broken == expect, [f.message for f in report.findings if not f.ok]
    assert report.asynchronous == (case.id != "realtime-variant-to-zero")
    assert ("(asynchronous)" in render(report)) == report.asynchronous
