"""verify, status and teardown against AWS stand-ins: CloudWatch is moto (real alarms, real metric
statistics); SageMaker inference components and their App Auto Scaling are botocore's Stubber, which
checks every request and answer against AWS's API models. Every wiring rule is tested baseline-then-
mutate-one-field: a healthy tenant passes, and each single change breaks exactly its check."""

from __future__ import annotations

import dataclasses
import datetime as dt
import functools
import json
import os
import subprocess
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

import boto3
import pytest
from botocore.awsrequest import AWSResponse
from botocore.stub import Stubber
from moto import mock_aws

from sagezero.ops import TEARDOWN_ORDER, AwsClients, status, teardown, verify, warm
from sagezero.ops.status import idle_left, render
from sagezero.ops.verify import render as render_verify
from tests.aws_stubs import DIM, NOW, RID, TARGET
from tests.conftest import run_cli_at

ACCOUNT = "123456789012"
IC_ARN = f"arn:aws:sagemaker:eu-west-1:{ACCOUNT}:inference-component/{TARGET.inference_component_name}"
POLICY = f"arn:aws:autoscaling:eu-west-1:{ACCOUNT}:scalingPolicy:1:resource/sagemaker/{RID}:policyName/"
STEP_ARN, TRACK_ARN = POLICY + "wake", POLICY + "track"
ALARM = "sagezero-prod-acme-no-capacity"


@functools.cache
def _session() -> boto3.Session:
    """One session for every test: it caches the service models (a new session per test loaded the large
    SageMaker model again, ~0.7 s a test); each test still gets its own clients and stubs."""
    return boto3.Session(region_name="eu-west-1", aws_access_key_id="x", aws_secret_access_key="x")


@pytest.fixture
def aws() -> Iterator[tuple[AwsClients, dict[str, Stubber]]]:
    env = {"AWS_ACCESS_KEY_ID": "x", "AWS_SECRET_ACCESS_KEY": "x", "AWS_DEFAULT_REGION": "eu-west-1"}
    old = {k: os.environ.get(k) for k in env}
    os.environ.update(env)
    with mock_aws():
        session = _session()
        clients = AwsClients(
            sagemaker=session.client("sagemaker"),
            runtime=session.client("sagemaker-runtime"),
            autoscaling=session.client("application-autoscaling"),
            cloudwatch=session.client("cloudwatch"),
        )
        stubs = {name: Stubber(getattr(clients, name)) for name in ("sagemaker", "autoscaling")}
        for st in stubs.values():
            st.activate()
        yield clients, stubs
        for st in stubs.values():
            st.assert_no_pending_responses()
            st.deactivate()
    for k, v in old.items():
        if v is None:
            os.environ.pop(k, None)
        else:
            os.environ[k] = v


@dataclass
class World:
    """One tenant as AWS would report it, correct by default; tests change one field."""

    ic_status: str = "InService"
    ic_endpoint: str = TARGET.endpoint_name
    desired: int = 1
    current: int = 1
    instances: int = 1
    mis: dict[str, Any] | None = field(
        default_factory=lambda: {"Status": "ENABLED", "MinInstanceCount": 0, "MaxInstanceCount": 1}
    )
    has_target: bool = True
    target_min: int = 0
    tracking: bool = True
    step: bool = True
    adjustment_type: str = "ChangeInCapacity"
    step_adjustment: int = 1
    alarm: bool = True
    alarm_metric: str = "NoCapacityInvocationFailures"
    alarm_dimension: str = TARGET.inference_component_name
    alarm_actions: list[str] = field(default_factory=lambda: [STEP_ARN])
    threshold: float = 1.0
    actions_enabled: bool = True
    treat_missing: str = "missing"
    extra_dimensions: list[dict[str, str]] = field(default_factory=list)
    suspended: dict[str, bool] = field(default_factory=dict)
    disable_scale_in: bool = False
    step_cooldown: int = 60
    holds: list[dt.datetime] = field(default_factory=list)

    def install(self, clients: AwsClients, stubs: dict[str, Stubber]) -> None:
        if self.alarm:
            clients.cloudwatch.put_metric_alarm(
                AlarmName=ALARM, Namespace="AWS/SageMaker", MetricName=self.alarm_metric,
                Dimensions=[{"Name": "InferenceComponentName", "Value": self.alarm_dimension}, *self.extra_dimensions],
                Statistic="Maximum", Period=30, EvaluationPeriods=1, DatapointsToAlarm=1, Threshold=self.threshold,
                ComparisonOperator="GreaterThanOrEqualToThreshold", TreatMissingData=self.treat_missing,
                AlarmActions=self.alarm_actions, ActionsEnabled=self.actions_enabled,
            )  # fmt: skip
        sm, aas = stubs["sagemaker"], stubs["autoscaling"]
        sm.add_response("describe_inference_component", {
            "InferenceComponentName": TARGET.inference_component_name, "InferenceComponentArn": IC_ARN,
            "EndpointName": self.ic_endpoint, "EndpointArn": f"arn:aws:sagemaker:eu-west-1:{ACCOUNT}:endpoint/x",
            "VariantName": "AllTraffic", "CreationTime": NOW, "LastModifiedTime": NOW,
            "InferenceComponentStatus": self.ic_status,
            **({"FailureReason": "container failed its health check"} if self.ic_status == "Failed" else {}),
            "Specification": {"ModelName": "sagezero-prod-acme-model"},
            "RuntimeConfig": {"DesiredCopyCount": self.desired, "CurrentCopyCount": self.current},
        }, {"InferenceComponentName": TARGET.inference_component_name})  # fmt: skip
        sm.add_response("describe_endpoint", {
            "EndpointName": TARGET.endpoint_name, "EndpointArn": f"arn:aws:sagemaker:eu-west-1:{ACCOUNT}:endpoint/x",
            "EndpointConfigName": "sagezero-prod-acme-config", "EndpointStatus": "InService",
            "CreationTime": NOW, "LastModifiedTime": NOW,
            "ProductionVariants": [{"VariantName": "AllTraffic", "CurrentInstanceCount": self.instances}],
        }, {"EndpointName": TARGET.endpoint_name})  # fmt: skip
        variant: dict[str, Any] = {"VariantName": "AllTraffic", "InstanceType": "ml.g5.xlarge",
                                   "InitialInstanceCount": 1}  # fmt: skip
        if self.mis is not None:
            variant["ManagedInstanceScaling"] = self.mis
        sm.add_response("describe_endpoint_config", {
            "EndpointConfigName": "sagezero-prod-acme-config",
            "EndpointConfigArn": f"arn:aws:sagemaker:eu-west-1:{ACCOUNT}:endpoint-config/x",
            "ProductionVariants": [variant], "CreationTime": NOW,
        }, {"EndpointConfigName": "sagezero-prod-acme-config"})  # fmt: skip
        targets = [{"ServiceNamespace": "sagemaker", "ResourceId": RID, "ScalableDimension": DIM,
                    "MinCapacity": self.target_min, "MaxCapacity": 2, "CreationTime": NOW,
                    "RoleARN": f"arn:aws:iam::{ACCOUNT}:role/aws-service-role/x",
                    **({"SuspendedState": self.suspended} if self.suspended else {}),
                    "ScalableTargetARN": f"arn:aws:application-autoscaling:eu-west-1:{ACCOUNT}:scalable-target/x"}]  # fmt: skip
        aas.add_response("describe_scalable_targets", {"ScalableTargets": targets if self.has_target else []},
                         {"ServiceNamespace": "sagemaker", "ResourceIds": [RID], "ScalableDimension": DIM})  # fmt: skip
        scal = {"ServiceNamespace": "sagemaker", "ResourceId": RID, "ScalableDimension": DIM}
        policies: list[dict[str, Any]] = []
        if self.tracking:
            policies.append({**scal, "PolicyARN": TRACK_ARN, "PolicyName": "track",
                "PolicyType": "TargetTrackingScaling", "CreationTime": NOW,
                "TargetTrackingScalingPolicyConfiguration": {"TargetValue": 5.0, "DisableScaleIn": self.disable_scale_in,
                    "PredefinedMetricSpecification": {
                    "PredefinedMetricType": "SageMakerInferenceComponentConcurrentRequestsPerCopyHighResolution"}},
                "Alarms": [{"AlarmName": "TargetTracking-x-AlarmHigh", "AlarmARN": "arn:aws:cloudwatch:x:alarm:h"}]})  # fmt: skip
        if self.step:
            policies.append({**scal, "PolicyARN": STEP_ARN, "PolicyName": "wake", "PolicyType": "StepScaling",
                "CreationTime": NOW, "StepScalingPolicyConfiguration": {
                    "AdjustmentType": self.adjustment_type, "Cooldown": self.step_cooldown, "MetricAggregationType": "Maximum",
                    "StepAdjustments": [{"MetricIntervalLowerBound": 0.0, "ScalingAdjustment": self.step_adjustment}]},
                "Alarms": [{"AlarmName": ALARM, "AlarmARN": "arn:aws:cloudwatch:x:alarm:a"}]
                if self.alarm and STEP_ARN in self.alarm_actions else []})  # fmt: skip
        aas.add_response("describe_scaling_policies", {"ScalingPolicies": policies}, scal)
        aas.add_response("describe_scheduled_actions", {"ScheduledActions": [
            {"ScheduledActionName": f"sagezero-cool-down-{h:%Y%m%dT%H%M%S}-{TARGET.inference_component_name}",
             "ScheduledActionARN": "arn:aws:autoscaling:x", "ServiceNamespace": "sagemaker",
             "Schedule": f"at({h:%Y-%m-%dT%H:%M:%S})", "ResourceId": RID, "ScalableDimension": DIM,
             "ScalableTargetAction": {"MinCapacity": 0, "MaxCapacity": 2}, "CreationTime": NOW}
            for h in self.holds]}, scal)  # fmt: skip


def _verify(aws: tuple[AwsClients, dict[str, Stubber]], world: World) -> dict[str, bool]:
    clients, stubs = aws
    world.install(clients, stubs)
    report = verify(clients, TARGET, now=lambda: NOW)
    assert render_verify(report)  # renders for every case
    result: dict[str, bool] = {}
    for f in report.findings:
        result[f.check] = result.get(f.check, True) and f.ok
    return result


MIN_I, TMIN, WAKE, SCALE_IN = (
    "endpoint-min-instance-zero", "inference-component-scalable-target-min-zero", "scale-from-zero-alarm",
    "scale-to-zero-target-tracking",
)  # fmt: skip
HEALTHY = {"inference-component": True, MIN_I: True, TMIN: True, WAKE: True, SCALE_IN: True}


def test_verify_passes_a_correctly_wired_tenant(aws: tuple[AwsClients, dict[str, Stubber]]) -> None:
    assert _verify(aws, World()) == HEALTHY


BREAKS = {
    "ic-failed": ({"ic_status": "Failed"}, "inference-component"),
    "ic-on-other-endpoint": ({"ic_endpoint": "someone-else"}, "inference-component"),
    "no-managed-instance-scaling": ({"mis": None}, f"{MIN_I}:no-managed-scaling"),
    "min-instances-one": ({"mis": {"Status": "ENABLED", "MinInstanceCount": 1, "MaxInstanceCount": 2}},
                          f"{MIN_I}:min-instances"),
    "target-min-one": ({"target_min": 1}, f"{TMIN}:min-capacity"),
    "no-scalable-target": ({"has_target": False}, f"{TMIN}:no-scalable-target"),
    "no-target-tracking": ({"tracking": False}, f"{SCALE_IN}:no-target-tracking"),
    "tracking-scale-in-disabled": ({"disable_scale_in": True}, f"{SCALE_IN}:scale-in-disabled"),
    "scale-in-suspended": ({"suspended": {"DynamicScalingInSuspended": True}}, f"{SCALE_IN}:scale-in-suspended"),
    "scale-out-suspended": ({"suspended": {"DynamicScalingOutSuspended": True}}, f"{WAKE}:scale-out-suspended"),
    "no-step-policy": ({"step": False, "alarm_actions": []}, f"{WAKE}:no-step-policy"),
    "step-adds-nothing": ({"step_adjustment": 0}, f"{WAKE}:adds-nothing"),
    "step-percent-without-minimum": ({"adjustment_type": "PercentChangeInCapacity"}, f"{WAKE}:adds-nothing"),
    "step-cooldown-blocks-next-wake": ({"step_cooldown": 3600}, f"{WAKE}:cooldown-blocks-wake"),
    "no-alarm": ({"alarm": False}, f"{WAKE}:no-alarm"),
    "alarm-wrong-metric": ({"alarm_metric": "Invocation5XXErrors"}, f"{WAKE}:wrong-metric"),
    "alarm-wrong-dimension": ({"alarm_dimension": "other-tenant-ic"}, f"{WAKE}:wrong-dimension"),
    "alarm-extra-dimension": ({"extra_dimensions": [{"Name": "VariantName", "Value": "AllTraffic"}]},
                              f"{WAKE}:wrong-dimension"),
    "alarm-not-wired": ({"alarm_actions": []}, f"{WAKE}:not-wired"),
    "alarm-actions-disabled": ({"actions_enabled": False}, f"{WAKE}:actions-disabled"),
    "alarm-threshold-5": ({"threshold": 5.0}, f"{WAKE}:misses-first-failure"),
    "alarm-breaching-when-idle": ({"treat_missing": "breaching"}, f"{WAKE}:trips-when-idle"),
}  # fmt: skip


@pytest.mark.parametrize(("change", "check"), BREAKS.values(), ids=BREAKS.keys())
def test_verify_catches_each_broken_link(
    aws: tuple[AwsClients, dict[str, Stubber]], change: dict[str, Any], check: str
) -> None:
    result = _verify(aws, dataclasses.replace(World(), **change))
    broken = {k for k, ok in result.items() if not ok}
    assert broken == {check}


def test_verify_accepts_min_one_while_warm_holds_it(aws: tuple[AwsClients, dict[str, Stubber]]) -> None:
    held = World(target_min=1, holds=[NOW + dt.timedelta(minutes=20)])
    assert _verify(aws, held) == {**HEALTHY, "warm-hold": True}


def test_verify_rejects_min_one_whose_hold_has_passed(aws: tuple[AwsClients, dict[str, Stubber]]) -> None:
    stale = World(target_min=1, holds=[NOW - dt.timedelta(minutes=20)])
    assert _verify(aws, stale)[f"{TMIN}:min-capacity"] is False


# ---- status -------------------------------------------------------------------------------------


def test_status_screen(aws: tuple[AwsClients, dict[str, Stubber]]) -> None:
    clients, stubs = aws
    World(holds=[NOW + dt.timedelta(minutes=25)]).install(clients, stubs)
    clients.cloudwatch.put_metric_data(Namespace="AWS/SageMaker", MetricData=[
        {"MetricName": "Invocations", "Dimensions": [{"Name": "InferenceComponentName",
         "Value": TARGET.inference_component_name}], "Timestamp": NOW - dt.timedelta(minutes=7), "Value": 3.0}])  # fmt: skip
    stubs["autoscaling"].add_response("describe_scaling_activities", {"ScalingActivities": [{
        "ActivityId": "a1", "ServiceNamespace": "sagemaker", "ResourceId": RID, "ScalableDimension": DIM,
        "Description": "Setting desired copy count to 1.", "StartTime": NOW - dt.timedelta(minutes=9),
        "StatusCode": "Successful",
        "Cause": f"monitor alarm {ALARM} in state ALARM triggered policy wake"}]},
        {"ServiceNamespace": "sagemaker", "ResourceId": RID, "ScalableDimension": DIM, "MaxResults": 5})  # fmt: skip
    clients.cloudwatch.set_alarm_state(AlarmName=ALARM, StateValue="ALARM", StateReason="1 no-capacity failure")
    s = status(clients, TARGET, now=lambda: NOW)
    text = render(s)
    assert (s.current_copies, s.instances, s.min_copies, s.max_copies) == (1, 1, 0, 2)
    assert s.last_invocation == NOW - dt.timedelta(minutes=6)
    assert s.idle_left == dt.timedelta(minutes=26), "the 25-minute warm hold outlasts the 4 idle minutes left"
    for expected in ("InService, 1 instance(s)", "1 copy(ies) serving, 1 desired (allowed 0..2)",
                     f"{ALARM}: ALARM", "held warm", "6 min ago", "~26 min before scale-in",
                     "Setting desired copy count to 1.", f"cause: monitor alarm {ALARM}"):  # fmt: skip
        assert expected in text, text
    assert s.as_dict()["copies"] == {"desired": 1, "current": 1, "min": 0, "max": 2}


def test_status_is_best_effort_for_a_narrow_role(aws: tuple[AwsClients, dict[str, Stubber]]) -> None:
    """A role without the optional reads (activities, metric statistics) still gets its screen."""
    from botocore.exceptions import ClientError

    clients, stubs = aws
    World().install(clients, stubs)
    stubs["autoscaling"].add_client_error("describe_scaling_activities", "AccessDeniedException", "not allowed")

    def deny(**_: object) -> None:
        raise ClientError({"Error": {"Code": "AccessDenied", "Message": "not allowed"}}, "GetMetricStatistics")

    clients.cloudwatch.meta.events.register("before-call.cloudwatch.GetMetricStatistics", deny)
    s = status(clients, TARGET, now=lambda: NOW)
    assert s.unavailable == {"scaling activities": "AccessDeniedException", "last invocation": "AccessDenied"}
    assert (s.current_copies, s.min_copies) == (1, 0), "the rest of the screen is read as usual"
    text = render(s)
    assert "unavailable (AccessDenied)" in text
    assert "unavailable (AccessDeniedException)" in text
    assert s.as_dict()["unavailable"] == s.unavailable


@pytest.mark.parametrize(
    ("current", "idle_min", "hold_min", "left_min"),
    [(0, 1, None, None), (1, 0, None, 10), (1, 4, None, 6), (1, 30, None, 0), (1, 30, 10, 11), (1, 2, 3, 8)],
)
def test_idle_left_estimate(current: int, idle_min: int, hold_min: int | None, left_min: int | None) -> None:
    left = idle_left(
        now=NOW, current_copies=current, last_invocation=NOW - dt.timedelta(minutes=idle_min),
        lookback=dt.timedelta(hours=3), hold_until=NOW + dt.timedelta(minutes=hold_min) if hold_min else None,
    )  # fmt: skip
    assert left == (dt.timedelta(minutes=left_min) if left_min is not None else None)


# ---- teardown -----------------------------------------------------------------------------------


def test_teardown_plans_then_deletes_in_the_order_aws_accepts(aws: tuple[AwsClients, dict[str, Stubber]]) -> None:
    clients, stubs = aws
    world = World(holds=[NOW + dt.timedelta(minutes=5)])
    world.install(clients, stubs)
    plan = teardown(clients, TARGET)
    assert list(dict.fromkeys(d.kind for d in plan)) == list(TEARDOWN_ORDER)
    assert clients.cloudwatch.describe_alarms()["MetricAlarms"], "a plan deletes nothing"

    world.install(clients, stubs)  # the same account, read again; Stubber enforces the call order below
    scal = {"ServiceNamespace": "sagemaker", "ResourceId": RID, "ScalableDimension": DIM}
    aas, sm = stubs["autoscaling"], stubs["sagemaker"]
    aas.add_response("delete_scaling_policy", {}, {**scal, "PolicyName": "track"})
    aas.add_response("delete_scaling_policy", {}, {**scal, "PolicyName": "wake"})
    aas.add_response("delete_scheduled_action", {}, {**scal, "ScheduledActionName": plan[3].name})
    aas.add_response("deregister_scalable_target", {}, scal)
    sm.add_response("delete_inference_component", {}, {"InferenceComponentName": TARGET.inference_component_name})
    sm.add_response("describe_inference_component", {
        "InferenceComponentName": TARGET.inference_component_name, "InferenceComponentArn": IC_ARN,
        "EndpointName": TARGET.endpoint_name, "EndpointArn": IC_ARN, "CreationTime": NOW, "LastModifiedTime": NOW,
        "InferenceComponentStatus": "Deleting"}, None)  # fmt: skip
    sm.add_client_error("describe_inference_component", "ValidationException",
                        f"Could not find inference component \"{IC_ARN}\".", 400)  # fmt: skip
    sm.add_response("delete_endpoint", {}, {"EndpointName": TARGET.endpoint_name})
    sm.add_response("delete_endpoint_config", {}, {"EndpointConfigName": "sagezero-prod-acme-config"})
    sm.add_response("delete_model", {}, {"ModelName": "sagezero-prod-acme-model"})
    sleeps: list[float] = []
    done = teardown(clients, TARGET, execute=True, sleep=sleeps.append, poll_s=5)
    assert done == plan and sleeps == [5]
    assert clients.cloudwatch.describe_alarms()["MetricAlarms"] == [], "the wake alarm went first"


# ---- many users logging in at once --------------------------------------------------------------


class _AutoScaling:
    """An App Auto Scaling stand-in that keeps state across threads (moto has no inference-component
    dimension). It answers from botocore's before-call hook, as Stubber does, so every request is still
    built and validated against AWS's API model."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.min_capacity = 0
        self.actions: dict[str, dict[str, Any]] = {}

    def __call__(self, model: Any, params: dict[str, Any], **_: Any) -> tuple[AWSResponse, dict[str, Any]]:
        body, op = json.loads(params["body"]), model.name
        status = 200
        out: dict[str, Any] = {}
        with self.lock:
            if op == "DescribeScalableTargets":
                out = {"ScalableTargets": [{"ServiceNamespace": "sagemaker", "ResourceId": RID,
                       "ScalableDimension": DIM, "MinCapacity": self.min_capacity, "MaxCapacity": 2}]}  # fmt: skip
            elif op == "RegisterScalableTarget":
                self.min_capacity = body["MinCapacity"]
            elif op == "DescribeScheduledActions":
                out = {"ScheduledActions": [dict(a) for a in self.actions.values()]}
            elif op == "PutScheduledAction":
                self.actions[body["ScheduledActionName"]] = body
            elif op == "DeleteScheduledAction" and body["ScheduledActionName"] in self.actions:
                del self.actions[body["ScheduledActionName"]]
            elif op == "DeleteScheduledAction":
                status, out = 400, {"Error": {"Code": "ObjectNotFoundException", "Message": "no such action"}}
            else:
                raise AssertionError(f"unexpected {op}")
        return AWSResponse("https://autoscaling.invalid", status, {}, None), out  # type: ignore[arg-type]


def test_concurrent_warms_converge_on_min_one_and_the_longest_hold() -> None:
    session = _session()
    service = _AutoScaling()
    autoscaling = session.client("application-autoscaling")
    autoscaling.meta.events.register("before-call.application-autoscaling", service)  # type: ignore[arg-type]
    sagemaker = session.client("sagemaker")
    sm_stub = Stubber(sagemaker)
    users = 12

    def at_zero_for_each_user() -> None:
        for _ in range(users):
            sm_stub.add_response("describe_inference_component", {
                "InferenceComponentName": TARGET.inference_component_name, "InferenceComponentArn": IC_ARN,
                "EndpointName": TARGET.endpoint_name, "EndpointArn": IC_ARN, "CreationTime": NOW,
                "LastModifiedTime": NOW, "InferenceComponentStatus": "InService",
                "RuntimeConfig": {"DesiredCopyCount": 0, "CurrentCopyCount": 0},
            }, None)  # fmt: skip

    sm_stub.activate()
    clients = AwsClients(sagemaker, None, autoscaling, None)
    holds = [dt.timedelta(minutes=m) for m in (5, 90, 30, 10, 60, 15, 45, 20, 120, 25, 35, 40)]
    barrier = threading.Barrier(users)
    errors: list[BaseException] = []

    def login(hold: dt.timedelta) -> None:
        barrier.wait()
        try:
            warm(clients, TARGET, hold, now=lambda: NOW)
        except BaseException as e:
            errors.append(e)

    for _round in range(20):  # many interleavings
        at_zero_for_each_user()
        service.min_capacity, service.actions = 0, {}
        threads = [threading.Thread(target=login, args=(h,)) for h in holds]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        assert not errors, errors
        assert service.min_capacity == 1
        assert [a["Schedule"] for a in service.actions.values()] == [f"at({NOW + max(holds):%Y-%m-%dT%H:%M:%S})"]


def test_cli_verify_reads_stack_outputs_and_reports_setup_problems(
    tmp_path: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    outputs = tmp_path / "outputs.json"
    outputs.write_text('{"image_uri": "x", "acme": {"endpoint_name": "e1", "inference_component_name": "e1-ic"}}')
    for k in [k for k in os.environ if k.startswith("AWS_")]:
        monkeypatch.delenv(k)
    for k, v in {"AWS_ACCESS_KEY_ID": "x", "AWS_SECRET_ACCESS_KEY": "x", "AWS_CONFIG_FILE": "/nonexistent"}.items():
        monkeypatch.setenv(k, v)

    def run(*args: str) -> subprocess.CompletedProcess[str]:
        return run_cli_at(*args)  # in this process; test_ops.py runs the ops commands in processes of their own

    cases = [
        (["verify", "--outputs", str(outputs), "--tenant", "globex"], "no tenant 'globex'; tenants: acme"),
        (["status"], "name the endpoint: --endpoint NAME, or --outputs FILE"),
        (["verify", "--outputs", str(tmp_path / "none.json")], "none.json: no such file"),
        (["verify", "--outputs", str(outputs)], "NoRegionError"),
        (["teardown", "--outputs", str(outputs), "--endpoint", "e"], "give --endpoint or --outputs, not both"),
    ]
    for args, text in cases:
        proc = run(*args)
        assert proc.returncode == 2 and text in proc.stderr and "Traceback" not in proc.stderr, (args, proc.stderr)
    (tmp_path / "bad.json").write_text("{nope")
    proc = run("verify", "--outputs", str(tmp_path / "bad.json"))
    assert proc.returncode == 2 and "not JSON" in proc.stderr


def test_cli_verify_exits_1_on_a_break_and_status_prints_json(
    aws: tuple[AwsClients, dict[str, Stubber]], monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """The commands as CI runs them after `pulumi up`: exit code and output, on the same stand-ins."""
    from sagezero import cli
    from sagezero.ops import target as target_mod

    clients, stubs = aws
    monkeypatch.setattr(target_mod.AwsClients, "create", classmethod(lambda cls, **kw: clients))

    World().install(clients, stubs)
    assert cli.main(["verify", "--endpoint", TARGET.endpoint_name]) == 0
    assert "wiring intact" in capsys.readouterr().out

    World(alarm_actions=[]).install(clients, stubs)
    assert cli.main(["verify", "--endpoint", TARGET.endpoint_name, "--json"]) == 1
    doc = json.loads(capsys.readouterr().out)
    assert doc[0]["ok"] is False
    assert [f["check"] for f in doc[0]["findings"] if not f["ok"]] == ["scale-from-zero-alarm:not-wired"]

    World().install(clients, stubs)
    stubs["autoscaling"].add_response("describe_scaling_activities", {"ScalingActivities": []}, None)
    assert cli.main(["status", "--endpoint", TARGET.endpoint_name, "--json"]) == 0
    assert json.loads(capsys.readouterr().out)[0]["copies"]["current"] == 1
