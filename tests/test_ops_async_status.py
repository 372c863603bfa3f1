"""`status` and `verify` on an asynchronous tenant built the documented way (AWS's "Autoscale an
asynchronous endpoint") through moto's real APIs: SageMaker, App Auto Scaling on the variant, CloudWatch
alarms and metrics. What `ops.live` reads is what moto answers, not a hand-written reply."""

from __future__ import annotations

import contextlib
import datetime as dt
import functools
import json
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import boto3
import pytest
from botocore.awsrequest import AWSResponse
from moto import mock_aws

from sagezero.ops import AwsClients, Target, status, verify
from sagezero.ops.status import render
from sagezero.ops.verify import render as render_verify

EP = "sagezero-prod-queued"
RID = f"endpoint/{EP}/variant/AllTraffic"
DIM = "sagemaker:variant:DesiredInstanceCount"
TARGET = Target(EP, "")
ACCOUNT = "123456789012"


@dataclass
class Tenant:
    """A correct asynchronous tenant; tests change one part."""

    min_capacity: int = 0
    step_adjustment: int = 1
    tracking: bool = True
    wired: bool = True

    def build(self, c: AwsClients) -> None:
        sm, aas, cw = c.sagemaker, c.autoscaling, c.cloudwatch
        sm.create_model(ModelName="m", ExecutionRoleArn=f"arn:aws:iam::{ACCOUNT}:role/r",
                        PrimaryContainer={"Image": f"{ACCOUNT}.dkr.ecr.eu-west-1.amazonaws.com/x:1"})  # fmt: skip
        sm.create_endpoint_config(
            EndpointConfigName=f"{EP}-config",
            ProductionVariants=[{"VariantName": "AllTraffic", "ModelName": "m", "InstanceType": "ml.g4dn.xlarge",
                                 "InitialInstanceCount": 1}],
            AsyncInferenceConfig={"OutputConfig": {"S3OutputPath": f"s3://b/{EP}/output/",
                                                   "S3FailurePath": f"s3://b/{EP}/failure/"}},
        )  # fmt: skip
        sm.create_endpoint(EndpointName=EP, EndpointConfigName=f"{EP}-config")
        aas.register_scalable_target(ServiceNamespace="sagemaker", ResourceId=RID, ScalableDimension=DIM,
                                     MinCapacity=self.min_capacity, MaxCapacity=2)  # fmt: skip
        scal = {"ServiceNamespace": "sagemaker", "ResourceId": RID, "ScalableDimension": DIM}
        if self.tracking:
            aas.put_scaling_policy(PolicyName="backlog", PolicyType="TargetTrackingScaling", **scal,
                TargetTrackingScalingPolicyConfiguration={"TargetValue": 5.0, "CustomizedMetricSpecification": {
                    "MetricName": "ApproximateBacklogSizePerInstance", "Namespace": "AWS/SageMaker",
                    "Dimensions": [{"Name": "EndpointName", "Value": EP}], "Statistic": "Average"}})  # fmt: skip
        step = aas.put_scaling_policy(PolicyName="wake", PolicyType="StepScaling", **scal,
            StepScalingPolicyConfiguration={"AdjustmentType": "ChangeInCapacity", "Cooldown": 300,
                "MetricAggregationType": "Average",
                "StepAdjustments": [{"MetricIntervalLowerBound": 0.0, "ScalingAdjustment": self.step_adjustment}]})["PolicyARN"]  # fmt: skip
        cw.put_metric_alarm(
            AlarmName=f"{EP}-backlog", Namespace="AWS/SageMaker", MetricName="HasBacklogWithoutCapacity",
            Dimensions=[{"Name": "EndpointName", "Value": EP}], Statistic="Average", Period=60, EvaluationPeriods=2,
            DatapointsToAlarm=2, Threshold=1.0, ComparisonOperator="GreaterThanOrEqualToThreshold",
            TreatMissingData="missing", AlarmActions=[step] if self.wired else [],
        )  # fmt: skip


ACTIVITY = {
    "ActivityId": "a1", "ServiceNamespace": "sagemaker", "ResourceId": RID, "ScalableDimension": DIM,
    "Description": "Setting desired instance count to 1.", "Cause": f"monitor alarm {EP}-backlog in state ALARM "
    "triggered policy wake", "StartTime": dt.datetime(2026, 11, 25, 11, 50, tzinfo=dt.UTC), "StatusCode": "Successful",
}  # fmt: skip


def _activities(model: Any, params: dict[str, Any], **_: Any) -> tuple[AWSResponse, dict[str, Any]] | None:
    """moto lacks DescribeScalingActivities: answer it as AWS would (the request is still built and
    validated against the API model first); every other call goes on to moto."""
    if model.name != "DescribeScalingActivities":
        return None
    assert json.loads(params["body"])["ResourceId"] == RID
    return AWSResponse("https://autoscaling.invalid", 200, {}, None), {"ScalingActivities": [ACTIVITY]}  # type: ignore[arg-type]


@functools.cache
def _session() -> boto3.Session:
    """One session for every test (it caches the service models, which are slow to load)."""
    return boto3.Session(region_name="eu-west-1", aws_access_key_id="x", aws_secret_access_key="x")


@pytest.fixture
def clients(monkeypatch: pytest.MonkeyPatch) -> Iterator[AwsClients]:
    for k, v in {"AWS_ACCESS_KEY_ID": "x", "AWS_SECRET_ACCESS_KEY": "x", "AWS_DEFAULT_REGION": "eu-west-1"}.items():
        monkeypatch.setenv(k, v)
    with mock_aws():
        session = _session()
        made = AwsClients(*(session.client(n) for n in ("sagemaker", "sagemaker-runtime", "application-autoscaling",
                                                        "cloudwatch")))  # fmt: skip
        made.autoscaling.meta.events.register("before-call.application-autoscaling", _activities)
        yield made


def _broken(clients: AwsClients, tenant: Tenant) -> set[str]:
    tenant.build(clients)
    report = verify(clients, TARGET)
    assert report.asynchronous and "(asynchronous)" in render_verify(report)
    return {f.check for f in report.findings if not f.ok}


def test_verify_passes_the_documented_async_wiring(clients: AwsClients) -> None:
    tenant = Tenant()
    tenant.build(clients)
    report = verify(clients, TARGET)
    assert not report.broken, [f.message for f in report.broken]
    checks = {f.check: f.message for f in report.findings}
    assert "inference-component" not in checks, "an async tenant has no component to find"
    assert checks["inference-component-scalable-target-min-zero"] == "instances 0..2"
    assert "HasBacklogWithoutCapacity" in checks["scale-from-zero-alarm"]


@pytest.mark.parametrize(
    ("change", "check"),
    [
        # (moto lists no Alarms on a policy, so an alarm on the wrong metric is found by neither read here;
        # tests/test_verify_cases.py covers it with AWS's answer shape.)
        ({"step_adjustment": 0}, "scale-from-zero-alarm:adds-nothing"),
        ({"tracking": False}, "scale-to-zero-target-tracking:no-target-tracking"),
        ({"wired": False}, "scale-from-zero-alarm:not-wired"),
    ],
)
def test_verify_breaks_one_link_at_a_time(clients: AwsClients, change: dict[str, Any], check: str) -> None:
    assert _broken(clients, Tenant(**change)) == {check}


def test_verify_breaks_an_async_endpoint_without_a_scalable_target(clients: AwsClients) -> None:
    Tenant().build(clients)
    clients.autoscaling.deregister_scalable_target(ServiceNamespace="sagemaker", ResourceId=RID, ScalableDimension=DIM)
    for p in ("backlog", "wake"):
        with contextlib.suppress(clients.autoscaling.exceptions.ObjectNotFoundException):  # moto may drop them too
            clients.autoscaling.delete_scaling_policy(PolicyName=p, ServiceNamespace="sagemaker", ResourceId=RID,
                                                      ScalableDimension=DIM)  # fmt: skip
    report = verify(clients, TARGET)
    assert {f.check for f in report.broken} == {"inference-component-scalable-target-min-zero:no-scalable-target"}
    assert RID in report.broken[0].message and "instances stay at the initial count" in report.broken[0].message


def _metrics(clients: AwsClients, now: dt.datetime, **values: float) -> None:
    clients.cloudwatch.put_metric_data(Namespace="AWS/SageMaker", MetricData=[
        {"MetricName": name, "Dimensions": [{"Name": "EndpointName", "Value": EP}], "Timestamp": now - dt.timedelta(minutes=m),
         "Value": value} for name, v in values.items() for m, value in ((5, 0.0), (1, v))])  # fmt: skip


def test_status_shows_instances_and_the_queue(clients: AwsClients) -> None:
    now = dt.datetime.now(dt.UTC)
    Tenant().build(clients)
    _metrics(clients, now, ApproximateBacklogSize=3.0, ApproximateAgeOfOldestRequest=240.0,
             HasBacklogWithoutCapacity=1.0)  # fmt: skip
    s = status(clients, TARGET, now=lambda: now)
    assert s.asynchronous and (s.backlog, s.oldest_request_age_s, s.backlog_without_capacity) == (3.0, 240.0, 1.0)
    assert (s.instances, s.desired_instances, s.min_copies, s.max_copies) == (1, 1, 0, 2)
    assert [a.name for a in s.alarms] == [f"{EP}-backlog"]
    text = render(s)
    for expected in (f"{EP} (asynchronous)", "1 instance(s) serving, 1 desired (allowed 0..2)", f"{EP}-backlog:",
                     "~3 request(s) queued", "waiting 4 min", "YES: requests are queued",
                     "Setting desired instance count to 1.", f"cause: monitor alarm {EP}-backlog"):  # fmt: skip
        assert expected in text, text
    doc = s.as_dict()
    assert doc["asynchronous"] is True
    assert doc["backlog"] == {"size": 3.0, "oldest_request_age_s": 240.0, "without_capacity": 1.0}
    assert doc["allowed_instances"] == {"min": 0, "max": 2}


def test_status_of_a_quiet_queue(clients: AwsClients) -> None:
    now = dt.datetime.now(dt.UTC)
    Tenant().build(clients)
    s = status(clients, TARGET, now=lambda: now)
    assert s.backlog is None and s.backlog_without_capacity is None
    assert "no datapoint in the last 15 min" in render(s)


def test_cli_status_and_verify_read_an_async_tenant_from_stack_outputs(
    clients: AwsClients, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], tmp_path: Any
) -> None:
    """The outputs the program exports for an async tenant: no component name, mode async."""
    from sagezero import cli
    from sagezero.ops import target as target_mod

    monkeypatch.setattr(target_mod.AwsClients, "create", classmethod(lambda cls, **kw: clients))
    Tenant().build(clients)
    outputs = tmp_path / "outputs.json"
    outputs.write_text(json.dumps({"queued": {"endpoint_name": EP, "inference_component_name": "", "mode": "async"}}))
    assert cli.main(["verify", "--outputs", str(outputs), "--json"]) == 0
    doc = json.loads(capsys.readouterr().out)
    assert doc[0]["asynchronous"] is True and doc[0]["ok"] is True
    assert cli.main(["status", "--outputs", str(outputs)]) == 0
    assert "(asynchronous)" in capsys.readouterr().out
    with pytest.raises(SystemExit) as e:
        cli.main(["warm", "--outputs", str(outputs)])
    assert e.value.code == 2 and "has no inference component" in capsys.readouterr().err


def test_teardown_removes_an_async_tenant_through_its_variant(clients: AwsClients) -> None:
    """Policies, the target and the alarm are deleted on the variant they were read from (not on a
    component's resource id), then the endpoint, its config and the model its variant names."""
    from sagezero.ops import teardown

    Tenant().build(clients)
    plan = teardown(clients, TARGET)
    assert [(d.kind, d.name) for d in plan] == [
        ("alarm", f"{EP}-backlog"), ("scaling-policy", "backlog"), ("scaling-policy", "wake"),
        ("scalable-target", RID), ("endpoint", EP), ("endpoint-config", f"{EP}-config"), ("model", "m"),
    ]  # fmt: skip
    assert teardown(clients, TARGET, execute=True) == plan
    aas, sm = clients.autoscaling, clients.sagemaker
    assert aas.describe_scalable_targets(ServiceNamespace="sagemaker")["ScalableTargets"] == []
    assert aas.describe_scaling_policies(ServiceNamespace="sagemaker")["ScalingPolicies"] == []
    assert clients.cloudwatch.describe_alarms()["MetricAlarms"] == []
    assert sm.list_endpoints()["Endpoints"] == [] and sm.list_models()["Models"] == []


def test_cli_teardown_of_an_async_tenant_says_what_it_keeps_and_what_is_lost(
    clients: AwsClients, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], tmp_path: Any
) -> None:
    """`teardown --outputs` refused an async tenant ("has no inference component ... invoke --async"),
    and with --endpoint it deleted the endpoint without a word about the S3 data it leaves (and bills)
    or the queued requests it drops."""
    from sagezero import cli
    from sagezero.ops import target as target_mod

    monkeypatch.setattr(target_mod.AwsClients, "create", classmethod(lambda cls, **kw: clients))
    Tenant().build(clients)
    outputs = tmp_path / "outputs.json"
    outputs.write_text(json.dumps({"queued": {"endpoint_name": EP, "inference_component_name": "", "mode": "async"}}))
    assert cli.main(["teardown", "--outputs", str(outputs)]) == 0
    plan = capsys.readouterr().out
    assert f"endpoint             {EP}" in plan and "not deleted, and not touched:" in plan, plan
    assert f"S3 objects under s3://b/{EP}/output/ and s3://b/{EP}/failure/" in plan
    assert "requests still queued on the endpoint are dropped with it" in plan
    assert cli.main(["teardown", "--outputs", str(outputs), "--yes"]) == 0
    done = capsys.readouterr().out
    assert "deleted 7 resource(s)" in done and f"S3 objects under s3://b/{EP}/output/" in done
    assert clients.sagemaker.list_endpoints()["Endpoints"] == []


def test_verify_of_a_missing_async_endpoint_reports_no_rule_as_intact(clients: AwsClients) -> None:
    """The endpoint of an async tenant (stack outputs: no component) is gone: verify said "ok ... intact"
    for the wake alarm and the scale-in rule, judged on nothing, beside "endpoint not found"."""
    report = verify(clients, TARGET)
    assert [(f.check, f.ok) for f in report.findings] == [("endpoint", False)], report.findings
    assert "intact" not in render_verify(report)


def test_status_of_a_missing_async_endpoint_reads_no_component_metric(clients: AwsClients) -> None:
    """The endpoint of an async tenant is gone: status asked CloudWatch for the Invocations of a component
    named "" (shown as "last invocation unavailable (ParamValidationError)") and reported the component
    NOT FOUND, though none was ever named."""
    s = status(clients, TARGET)
    shown = render(s)
    assert s.unavailable == {} and "ParamValidationError" not in shown, shown
    assert "endpoint    NOT FOUND" in shown and "component   none named" in shown, shown
    assert "last invocation" not in shown and "idle left" not in shown, "nothing was read to say so"


def test_a_tenant_whose_outputs_are_secret_is_named_not_dropped() -> None:
    """`pulumi stack output --json` prints a tenant with a secret output as "[secret]": verify must not
    pass over it (with or without --tenant) but say how to get its outputs."""
    from sagezero.ops.target import OutputsError, targets_from_outputs

    outputs = {"acme": {"endpoint_name": "e", "inference_component_name": "e-ic"}, "batch": "[secret]"}
    for tenant in (None, "batch"):
        with pytest.raises(OutputsError, match=r"o.json: the outputs of 'batch' are secret .*--show-secrets"):
            targets_from_outputs(outputs, "o.json", tenant)
    assert set(targets_from_outputs(outputs, "o.json", "acme")) == {"acme"}
