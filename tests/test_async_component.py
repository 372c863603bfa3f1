"""ScaleToZeroEndpoint in async mode, as the engine receives it: the S3 queue layout, the bucket, the
topics, the backlog wake path and the role, judged by the real policy pack and AWS's request models."""

from __future__ import annotations

import functools
import json
from collections.abc import Callable
from typing import Any

import pytest

from tests.conftest import Registered

pytest.importorskip("pulumi")
pytest.importorskip("pulumi_policy")

import pulumi

from sagezero.components import ScaleToZeroEndpoint
from sagezero.engine_wiring import EngineResource
from sagezero.plan.engine import evaluate
from sagezero.policies.runner import evaluate as run_pack
from sagezero.settings import SettingsError
from tests.policy_fixtures import IMAGE, KMS, mutate

CONFIG = "aws:sagemaker/endpointConfiguration:EndpointConfiguration"
ENDPOINT = "aws:sagemaker/endpoint:Endpoint"
TARGET = "aws:appautoscaling/target:Target"
POLICY = "aws:appautoscaling/policy:Policy"
ALARM = "aws:cloudwatch/metricAlarm:MetricAlarm"
MODEL = "aws:sagemaker/model:Model"
BUCKET = "aws:s3/bucket:Bucket"
TOPIC = "aws:sns/topic:Topic"
ROLE_POLICY = "aws:iam/rolePolicy:RolePolicy"
IC = "aws-native:sagemaker:InferenceComponent"
S3_TYPES = (
    BUCKET,
    "aws:s3/bucketOwnershipControls:BucketOwnershipControls",
    "aws:s3/bucketPublicAccessBlock:BucketPublicAccessBlock",
    "aws:s3/bucketServerSideEncryptionConfiguration:BucketServerSideEncryptionConfiguration",
    "aws:s3/bucketLifecycleConfiguration:BucketLifecycleConfiguration",
    "aws:s3/bucketPolicy:BucketPolicy",
)
OUTPUTS = (
    "endpoint_name",
    "inference_component_name",
    "alarm_name",
    "step_policy_arn",
    "target_policy_arn",
    "async_input_location",
    "async_output_location",
    "async_failure_location",
    "async_bucket_name",
    "async_success_topic_arn",
    "async_error_topic_arn",
)
BASE: dict[str, Any] = {"image_uri": IMAGE, "mode": "async", "tags": {"cost-center": "ml"}}


def declare(args: dict[str, Any]) -> Callable[[], None]:
    def program() -> None:
        ep = ScaleToZeroEndpoint("acme", args)  # type: ignore[arg-type]
        pulumi.export("out", {k: getattr(ep, k) for k in OUTPUTS})

    return program


@pytest.fixture
def queued(record: Callable[..., Registered]) -> Registered:
    """An async tenant with a KMS key and created topics: every optional part of the layout."""
    return record(declare({**BASE, "kms_key_arn": KMS, "async_notifications": True}), stack="dev")


def _bucket_name(reg: Registered) -> str:
    name: str = reg.one(BUCKET).outputs["bucket"]
    return name


def test_endpoint_config_queues_in_the_endpoints_own_prefixes(queued: Registered) -> None:
    cfg = queued.one(CONFIG).inputs
    bucket = _bucket_name(queued)
    topics = {t.name: t.outputs["arn"] for t in queued.of_type(TOPIC)}
    assert cfg["asyncInferenceConfig"] == {
        "outputConfig": {
            "s3OutputPath": f"s3://{bucket}/acme-dev/output/",
            "s3FailurePath": f"s3://{bucket}/acme-dev/failure/",
            "kmsKeyId": KMS,
            "notificationConfig": {
                "successTopic": topics["acme-async-success"],
                "errorTopic": topics["acme-async-error"],
            },
        },
        "clientConfig": {"maxConcurrentInvocationsPerInstance": 4},
    }
    assert cfg["kmsKeyArn"] == KMS
    assert cfg["productionVariants"] == [
        {
            "variantName": "AllTraffic",
            "modelName": queued.one(MODEL).outputs["name"],
            "instanceType": "ml.g5.xlarge",
            "initialInstanceCount": 1,
            "modelDataDownloadTimeoutInSeconds": 3600,
            "containerStartupHealthCheckTimeoutInSeconds": 3600,
        }
    ]
    assert "executionRoleArn" not in cfg, "an async variant carries its model, and the model its role"
    assert not queued.of_type(IC), "async endpoints have no inference component"


def test_endpoint_tags_tell_the_client_where_requests_go_and_how_long_they_may_run(queued: Registered) -> None:
    endpoint = queued.one(ENDPOINT).inputs
    assert endpoint["name"] == "acme-dev"
    assert endpoint["tags"]["sagezero:async-input"] == f"s3://{_bucket_name(queued)}/acme-dev/input/"
    assert endpoint["tags"]["sagezero:async-invocation-timeout-s"] == "900"
    assert endpoint["tags"]["cost-center"] == "ml"


def test_created_bucket_is_private_encrypted_tls_only_and_expires_the_endpoints_objects(queued: Registered) -> None:
    bucket = queued.one(BUCKET)
    assert bucket.inputs["bucketPrefix"] == "acme-dev-"
    for t in S3_TYPES[1:]:
        assert queued.one(t).inputs["bucket"] == bucket.outputs["bucket"], t
        assert bucket.urn in queued.one(t).property_dependencies["bucket"], t
    own = queued.one(S3_TYPES[1]).inputs
    assert own["rule"] == {"objectOwnership": "BucketOwnerEnforced"}
    public = queued.one(S3_TYPES[2]).inputs
    assert all(
        public[k] is True for k in ("blockPublicAcls", "blockPublicPolicy", "ignorePublicAcls", "restrictPublicBuckets")
    )
    sse = queued.one(S3_TYPES[3]).inputs["rules"]
    assert sse == [
        {
            "applyServerSideEncryptionByDefault": {"sseAlgorithm": "aws:kms", "kmsMasterKeyId": KMS},
            "bucketKeyEnabled": True,
        }
    ]
    assert queued.one(S3_TYPES[4]).inputs["rules"] == [
        {
            "id": "expire-async-requests-and-results",
            "status": "Enabled",
            "filter": {"prefix": "acme-dev/"},
            "expiration": {"days": 7},
            "abortIncompleteMultipartUpload": {"daysAfterInitiation": 1},
        }
    ]
    statement = json.loads(queued.one(S3_TYPES[5]).inputs["policy"])["Statement"]
    assert statement == [
        {
            "Sid": "DenyInsecureTransport",
            "Effect": "Deny",
            "Principal": "*",
            "Action": "s3:*",
            "Resource": [bucket.outputs["arn"], bucket.outputs["arn"] + "/*"],
            "Condition": {"Bool": {"aws:SecureTransport": "false"}},
        }
    ]
    # Nothing is written to the bucket before its encryption, public-access block and policy are in place.
    config = queued.one(CONFIG)
    for t in S3_TYPES[1:]:
        assert queued.one(t).urn in config.dependencies, t


def test_without_a_key_the_bucket_uses_s3_keys_and_topics_the_aws_managed_sns_key(
    record: Callable[..., Registered],
) -> None:
    reg = record(declare({**BASE, "async_notifications": True, "async_expiry_days": 30}), stack="dev")
    sse = reg.one(S3_TYPES[3]).inputs["rules"]
    assert sse == [{"applyServerSideEncryptionByDefault": {"sseAlgorithm": "AES256"}, "bucketKeyEnabled": False}]
    assert reg.one(S3_TYPES[4]).inputs["rules"][0]["expiration"] == {"days": 30}
    assert sorted(t.inputs["kmsMasterKeyId"] for t in reg.of_type(TOPIC)) == ["alias/aws/sns"] * 2
    assert "kmsKeyId" not in reg.one(CONFIG).inputs["asyncInferenceConfig"]["outputConfig"]


def test_topics_are_encrypted_with_the_tenants_key(queued: Registered) -> None:
    assert sorted(t.inputs["kmsMasterKeyId"] for t in queued.of_type(TOPIC)) == [KMS, KMS]


def test_a_given_bucket_and_topics_are_used_and_nothing_is_created(record: Callable[..., Registered]) -> None:
    ok, bad = "arn:aws:sns:eu-west-1:123456789012:done", "arn:aws:sns:eu-west-1:123456789012:failed"
    reg = record(
        declare({**BASE, "async_bucket": "team-queue", "async_success_topic_arn": ok, "async_error_topic_arn": bad}),
        stack="dev",
    )
    for t in (*S3_TYPES, TOPIC):
        assert not reg.of_type(t), t
    out = reg.one(CONFIG).inputs["asyncInferenceConfig"]["outputConfig"]
    assert out == {
        "s3OutputPath": "s3://team-queue/acme-dev/output/",
        "s3FailurePath": "s3://team-queue/acme-dev/failure/",
        "notificationConfig": {"successTopic": ok, "errorTopic": bad},
    }
    exported = reg.exports["out"]
    assert exported["async_bucket_name"] == "team-queue"
    assert exported["async_input_location"] == "s3://team-queue/acme-dev/input/"
    assert (exported["async_success_topic_arn"], exported["async_error_topic_arn"]) == (ok, bad)


def test_without_notifications_the_config_names_no_topic(record: Callable[..., Registered]) -> None:
    reg = record(declare(BASE), stack="dev")
    assert "notificationConfig" not in reg.one(CONFIG).inputs["asyncInferenceConfig"]["outputConfig"]
    assert not reg.of_type(TOPIC)
    statements = json.loads(reg.one(ROLE_POLICY).inputs["policy"])["Statement"]
    assert not any("sns:Publish" in s["Action"] for s in statements)
    assert not any(str(s["Action"]).startswith("['kms") for s in statements)


def test_scalable_target_scales_the_variants_instances_from_zero(queued: Registered) -> None:
    target = queued.one(TARGET).inputs
    assert target == {
        "serviceNamespace": "sagemaker",
        "resourceId": "endpoint/acme-dev/variant/AllTraffic",
        "scalableDimension": "sagemaker:variant:DesiredInstanceCount",
        "minCapacity": 0,
        "maxCapacity": 1,
        "tags": target["tags"],
    }
    assert queued.one(ENDPOINT).urn in queued.one(TARGET).property_dependencies["resourceId"]


def test_target_tracking_follows_this_endpoints_backlog_per_instance(queued: Registered) -> None:
    tracking = queued.one(POLICY, "acme-target-tracking")
    assert tracking.inputs["targetTrackingScalingPolicyConfiguration"] == {
        "customizedMetricSpecification": {
            "metricName": "ApproximateBacklogSizePerInstance",
            "namespace": "AWS/SageMaker",
            "dimensions": [{"name": "EndpointName", "value": "acme-dev"}],
            "statistic": "Average",
        },
        "targetValue": 5,
        "scaleInCooldown": 300,
        "scaleOutCooldown": 300,
    }
    assert queued.one(TARGET).urn in tracking.property_dependencies["resourceId"]


def test_step_policy_adds_an_instance_when_the_backlog_alarm_fires(queued: Registered) -> None:
    step = queued.one(POLICY, "acme-wake-from-zero")
    assert step.inputs["stepScalingPolicyConfiguration"] == {
        "adjustmentType": "ChangeInCapacity",
        "metricAggregationType": "Average",
        "cooldown": 360,
        "stepAdjustments": [{"metricIntervalLowerBound": "0", "scalingAdjustment": 1}],
    }
    alarm = queued.one(ALARM)
    assert {k: alarm.inputs[k] for k in alarm.inputs if k not in ("tags", "alarmDescription")} == {
        "name": "acme-dev-no-capacity",
        "namespace": "AWS/SageMaker",
        "metricName": "HasBacklogWithoutCapacity",
        "dimensions": {"EndpointName": "acme-dev"},
        "statistic": "Average",
        "period": 60,
        "evaluationPeriods": 1,
        "datapointsToAlarm": 1,
        "threshold": 1,
        "comparisonOperator": "GreaterThanOrEqualToThreshold",
        "treatMissingData": "missing",
        "alarmActions": [step.outputs["arn"]],
    }
    assert step.urn in alarm.property_dependencies["alarmActions"]


def test_role_reaches_only_this_endpoints_prefixes_topics_and_key(queued: Registered) -> None:
    statements = {s["Sid"]: s for s in json.loads(queued.one(ROLE_POLICY).inputs["policy"])["Statement"]}
    objects = f"arn:aws:s3:::{_bucket_name(queued)}/acme-dev"
    assert statements["ReadAsyncRequests"]["Action"] == ["s3:GetObject"]
    assert statements["ReadAsyncRequests"]["Resource"] == f"{objects}/input/*"
    assert statements["WriteAsyncResults"]["Action"] == ["s3:PutObject", "s3:AbortMultipartUpload"]
    assert statements["WriteAsyncResults"]["Resource"] == [f"{objects}/output/*", f"{objects}/failure/*"]
    assert statements["PublishAsyncNotices"] == {
        "Sid": "PublishAsyncNotices",
        "Effect": "Allow",
        "Action": ["sns:Publish"],
        "Resource": sorted(t.outputs["arn"] for t in queued.of_type(TOPIC))[::-1],  # success, then error
    }
    assert statements["UseAsyncKey"]["Action"] == ["kms:GenerateDataKey", "kms:Decrypt"]
    assert statements["UseAsyncKey"]["Resource"] == KMS
    s3_actions = [a for s in statements.values() for a in s["Action"] if a.startswith("s3:")]
    assert sorted(s3_actions) == ["s3:AbortMultipartUpload", "s3:GetObject", "s3:PutObject"]


def test_real_time_role_gains_no_async_grant(record: Callable[..., Registered]) -> None:
    reg = record(lambda: ScaleToZeroEndpoint("acme", {"image_uri": IMAGE, "kms_key_arn": KMS}), stack="dev")
    policy = reg.one(ROLE_POLICY).inputs["policy"]
    assert "Async" not in policy and "sns:" not in policy and "kms:" not in policy


def test_outputs_name_the_layout_in_async_mode_and_are_empty_otherwise(
    queued: Registered, record: Callable[..., Registered]
) -> None:
    out = queued.exports["out"]
    bucket = _bucket_name(queued)
    assert out["async_input_location"] == f"s3://{bucket}/acme-dev/input/"
    assert out["async_output_location"] == f"s3://{bucket}/acme-dev/output/"
    assert out["async_failure_location"] == f"s3://{bucket}/acme-dev/failure/"
    assert out["async_bucket_name"] == bucket
    assert out["async_success_topic_arn"].endswith(":acme-async-success-" + out["async_success_topic_arn"][-7:])
    assert out["inference_component_name"] == ""
    assert out["alarm_name"] == "acme-dev-no-capacity"
    assert out["step_policy_arn"] == queued.one(POLICY, "acme-wake-from-zero").outputs["arn"]
    assert out["target_policy_arn"] == queued.one(POLICY, "acme-target-tracking").outputs["arn"]
    realtime = record(declare({"image_uri": IMAGE}), stack="dev").exports["out"]
    assert [realtime[k] for k in OUTPUTS if k.startswith("async_")] == [""] * 6


def test_async_mode_needs_no_aws_native_provider(queued: Registered) -> None:
    assert not [r for r in queued.resources if r.type.startswith("pulumi:providers:aws-native")]


# ---- Inputs ---------------------------------------------------------------------------------------


def test_bucket_and_topics_may_come_from_other_resources(record: Callable[..., Registered]) -> None:
    topic = "arn:aws:sns:eu-west-1:123456789012:done"

    def program() -> None:
        ep = ScaleToZeroEndpoint(
            "acme",
            {
                **BASE,  # type: ignore[typeddict-item]
                "async_bucket": pulumi.Output.from_input("team-queue"),
                "async_success_topic_arn": pulumi.Output.from_input(topic),
            },
        )
        pulumi.export("input", ep.async_input_location)

    reg = record(program, stack="dev")
    assert not reg.of_type(BUCKET)
    out = reg.one(CONFIG).inputs["asyncInferenceConfig"]["outputConfig"]
    assert out["s3OutputPath"] == "s3://team-queue/acme-dev/output/"
    assert out["notificationConfig"] == {"successTopic": topic}
    assert reg.exports["input"] == "s3://team-queue/acme-dev/input/"


def test_a_bad_bucket_from_another_resource_fails_when_it_resolves(record: Callable[..., Registered]) -> None:
    program = declare({**BASE, "async_bucket": pulumi.Output.from_input("s3://team-queue/x")})
    with pytest.raises(Exception, match=r"ScaleToZeroEndpoint 'acme'[\s\S]*async_bucket[\s\S]*bare bucket name"):
        record(program, stack="dev")


def test_an_async_input_in_another_mode_fails_at_construction(image_uri: str) -> None:
    with pytest.raises(SettingsError, match=r"ScaleToZeroEndpoint 'acme'[\s\S]*async_bucket: only async mode"):
        ScaleToZeroEndpoint("acme", {"image_uri": image_uri, "async_bucket": pulumi.Output.from_input("b")})


def test_created_topics_and_a_given_one_from_another_resource_conflict(image_uri: str) -> None:
    args = {**BASE, "async_notifications": True, "async_error_topic_arn": pulumi.Output.from_input("arn")}
    with pytest.raises(SettingsError, match="async_notifications: creates the success and error topics"):
        ScaleToZeroEndpoint("acme", args)  # type: ignore[arg-type]


# ---- the policy pack and AWS's request rules over the async resources ------------------------------


def _resources(**extra: Any) -> list[EngineResource]:
    args = {**BASE, "kms_key_arn": KMS, "async_notifications": True, **extra}
    rec = evaluate(declare(args), stack="dev", region="eu-west-1")
    return [r.engine() for r in rec.resources if r.custom]


@functools.cache
def _baseline() -> tuple[EngineResource, ...]:
    return tuple(_resources(max_instance_count=2))


@pytest.mark.parametrize("instances", [1, 2, 10])
def test_the_whole_pack_passes_the_async_defaults(instances: int) -> None:
    report = run_pack(_resources(max_instance_count=instances))
    assert [(v.policy, v.message) for v in report.verdicts] == []
    assert report.not_judged == []


def test_the_pack_judges_the_async_wake_path_it_passes() -> None:
    from sagezero.engine_wiring import build_wiring
    from sagezero.rules import judge

    paths = judge(build_wiring(list(_baseline()))).paths
    assert [p.unit.label for p in paths] == ["asynchronous endpoint acme-dev variant AllTraffic"]
    path = paths[0]
    assert path.alarm is not None and path.step is not None and path.tracking is not None
    assert path.can_reach_zero is True


def _tt(p: dict[str, Any]) -> dict[str, Any]:
    cfg: dict[str, Any] = p["targetTrackingScalingPolicyConfiguration"]
    return cfg


def _step(p: dict[str, Any]) -> dict[str, Any]:
    cfg: dict[str, Any] = p["stepScalingPolicyConfiguration"]
    return cfg


WAKE, SCALE_IN = "scale-from-zero-alarm", "scale-to-zero-target-tracking"
BROKEN: list[tuple[str, str, Callable[[dict[str, Any]], Any], set[tuple[str, str]]]] = [
    ("alarm-dropped", "acme-no-capacity", lambda p: "drop", {(WAKE, "no-alarm")}),
    ("alarm-on-no-capacity-failures", "acme-no-capacity",
     lambda p: p.update(metricName="NoCapacityInvocationFailures"), {(WAKE, "wrong-metric")}),
    ("alarm-on-another-endpoint", "acme-no-capacity", lambda p: p.update(dimensions={"EndpointName": "other"}),
     {(WAKE, "wrong-dimension")}),
    ("alarm-fires-nothing", "acme-no-capacity", lambda p: p.update(alarmActions=[]), {(WAKE, "not-wired")}),
    ("alarm-threshold-2", "acme-no-capacity", lambda p: p.update(threshold=2), {(WAKE, "misses-first-failure")}),
    ("alarm-breaches-when-idle", "acme-no-capacity", lambda p: p.update(treatMissingData="breaching"),
     {(WAKE, "trips-when-idle")}),
    ("alarm-ignores-missing-data", "acme-no-capacity", lambda p: p.update(treatMissingData="ignore"),
     {(WAKE, "stays-in-alarm")}),
    ("alarm-sample-count", "acme-no-capacity", lambda p: p.update(statistic="SampleCount"),
     {(WAKE, "trips-while-serving")}),
    ("step-dropped", "acme-wake-from-zero", lambda p: "drop", {(WAKE, "no-step-policy")}),
    ("step-adds-nothing", "acme-wake-from-zero", lambda p: _step(p)["stepAdjustments"][0].update(scalingAdjustment=0),
     {(WAKE, "adds-nothing")}),
    ("step-percent", "acme-wake-from-zero", lambda p: _step(p).update(adjustmentType="PercentChangeInCapacity"),
     {(WAKE, "adds-nothing")}),
    ("step-misses-breach", "acme-wake-from-zero",
     lambda p: _step(p)["stepAdjustments"][0].update(metricIntervalLowerBound="1"), {(WAKE, "uncovered-breach")}),
    ("tracking-dropped", "acme-target-tracking", lambda p: "drop", {(SCALE_IN, "no-target-tracking")}),
    ("tracking-other-endpoint", "acme-target-tracking",
     lambda p: _tt(p)["customizedMetricSpecification"].update(dimensions=[{"name": "EndpointName", "value": "x"}]),
     {(SCALE_IN, "tracking-metric")}),
    ("target-max-zero", "acme-target", lambda p: p.update(maxCapacity=0), {(WAKE, "max-capacity-zero")}),
    ("target-on-missing-variant", "acme-target", lambda p: p.update(resourceId="endpoint/acme-dev/variant/Nope"),
     {(WAKE, "no-variant")}),
    ("config-real-time", "acme-config", lambda p: p.pop("asyncInferenceConfig"), {(WAKE, "aws-rejects")}),
    ("target-dropped", "acme-target", lambda p: "drop", {(WAKE, "no-scalable-target")}),
    ("target-on-another-dimension", "acme-target",
     lambda p: p.update(scalableDimension="sagemaker:variant:DesiredProvisionedConcurrency"),
     {(WAKE, "no-scalable-target")}),
]  # fmt: skip


def _kinds(resources: list[EngineResource]) -> set[tuple[str, str]]:
    report = run_pack(resources)
    return {(v.policy, v.message.split("]", 1)[0].lstrip("[")) for v in report.mandatory}


@pytest.mark.parametrize(("name", "change", "expect"), [c[1:] for c in BROKEN], ids=[c[0] for c in BROKEN])
def test_the_pack_finds_each_broken_link_of_the_async_component(
    name: str, change: Callable[[dict[str, Any]], Any], expect: set[tuple[str, str]]
) -> None:
    baseline = list(_baseline())
    assert _kinds(baseline) == set()
    assert expect <= _kinds(mutate(baseline, name, change))


def test_the_async_requests_pass_awss_request_rules_and_a_broken_one_does_not() -> None:
    from sagezero.plan import awsrules
    from sagezero.plan.engine import evaluate as plan_evaluate

    args = {**BASE, "kms_key_arn": KMS, "async_notifications": True}
    rec = plan_evaluate(declare(args), stack="dev", region="eu-west-1")
    checked = [r for r in rec.resources if awsrules.request(r) is not None]
    assert {r.type for r in checked} >= {CONFIG, ENDPOINT, TARGET, POLICY, ALARM, MODEL, BUCKET, TOPIC}
    assert awsrules.check(rec.resources) == []
    _service, operation, request = awsrules.request(next(r for r in rec.resources if r.type == CONFIG)) or ("", "", {})
    assert operation == "CreateEndpointConfig"
    assert request["AsyncInferenceConfig"]["ClientConfig"] == {"MaxConcurrentInvocationsPerInstance": 4}
    broken = next(r for r in rec.resources if r.type == CONFIG)
    broken.inputs["asyncInferenceConfig"]["clientConfig"]["maxConcurrentInvocationsPerInstance"] = 0
    assert [f.violation.path for f in awsrules.check([broken])] == [
        "AsyncInferenceConfig.ClientConfig.MaxConcurrentInvocationsPerInstance"
    ]


def test_a_tracking_metric_sagezero_cannot_read_is_reported_not_judged() -> None:
    change = lambda p: _tt(p)["customizedMetricSpecification"].update(metricName="CPUUtilization")  # noqa: E731
    report = run_pack(mutate(list(_baseline()), "acme-target-tracking", change))
    assert report.mandatory == []
    assert [(n.policy, "CPUUtilization" in n.reason) for n in report.not_judged] == [(SCALE_IN, True)]


def test_a_minimum_of_one_instance_is_found_as_for_a_component() -> None:
    # An async variant kept at one instance costs while idle, like a component kept at one copy: the
    # same mandatory rule names it (an org that wants warm async endpoints makes that rule advisory).
    resources = mutate(list(_baseline()), "acme-target", lambda p: p.update(minCapacity=1))
    assert _kinds(resources) == {("inference-component-scalable-target-min-zero", "min-capacity")}
    assert "instances never go to zero" in run_pack(resources).mandatory[0].message


# ---- advisory: the queue bucket the stack creates ----------------------------------------------------

BUCKET_RULE = "async-bucket-private-and-encrypted"
PUBLIC = "acme-async-public-access"


@pytest.mark.parametrize(
    ("name", "change", "says"),
    [
        (PUBLIC, lambda p: "drop", "no public-access block"),
        (PUBLIC, lambda p: p.update(restrictPublicBuckets=False), "no public-access block"),
        ("acme-async-encryption", lambda p: "drop", "declares no server-side encryption"),
    ],
)
def test_the_pack_advises_on_an_async_bucket_left_public_or_unencrypted(
    name: str, change: Callable[[dict[str, Any]], Any], says: str
) -> None:
    report = run_pack(mutate(list(_baseline()), name, change))
    found = [v for v in report.verdicts if v.policy == BUCKET_RULE]
    assert len(found) == 1 and says in found[0].message and found[0].level == "advisory"
    assert found[0].urn == next(r.urn for r in _baseline() if r.name == "acme-async")


def test_the_bucket_rule_follows_the_name_when_no_dependency_links_it() -> None:
    # As after `pulumi up` or from an export: names only, no property dependencies.
    plain = [EngineResource(r.type, r.urn, r.props, {}, r.name, r.parent) for r in _baseline()]
    assert [v for v in run_pack(plain).verdicts if v.policy == BUCKET_RULE] == []
    dropped = mutate(plain, PUBLIC, lambda p: "drop")
    assert [v.policy for v in run_pack(dropped).verdicts] == [BUCKET_RULE]


def test_the_bucket_rule_leaves_given_buckets_and_other_buckets_alone() -> None:
    given = _resources(async_bucket="team-queue", async_notifications=False)
    assert [v for v in run_pack(given).verdicts if v.policy == BUCKET_RULE] == []
    report = run_pack(mutate(list(_baseline()), "acme-config", lambda p: p.pop("asyncInferenceConfig")))
    assert [v for v in report.verdicts if v.policy == BUCKET_RULE] == []


def test_tags_leaving_no_room_for_the_two_async_tags_fail_naming_the_setting(record: Callable[..., Registered]) -> None:
    tags = {f"k{i}": "v" for i in range(46)}  # + managed-by + sagezero:endpoint = 48; the async tags make 50+
    with pytest.raises(Exception, match=r"ScaleToZeroEndpoint 'acme'[\s\S]*tags: with the two async endpoint tags"):
        record(declare({**BASE, "tags": {**tags, "k46": "v"}}), stack="dev")
    record(declare({**BASE, "tags": dict(list(tags.items())[:46])}), stack="dev")  # exactly 50: accepted


def test_from_settings_refuses_an_async_input_beside_real_time_settings(image_uri: str) -> None:
    from sagezero.settings import EndpointSettings

    with pytest.raises(SettingsError, match=r"ScaleToZeroEndpoint 'acme'[\s\S]*async_error_topic_arn: only async"):
        ScaleToZeroEndpoint.from_settings(
            "acme", EndpointSettings(), {"image_uri": image_uri, "async_error_topic_arn": pulumi.Output.from_input("x")}
        )


def test_from_settings_checks_hand_built_async_settings(image_uri: str) -> None:
    """`EndpointSettings(mode=ASYNC)` built by hand keeps the 30 s alarm period and one accelerator that
    the parser would have replaced: refused by name, not deployed as an alarm that misses its metric."""
    from sagezero.settings import EndpointSettings, Mode

    with pytest.raises(SettingsError, match=r"ScaleToZeroEndpoint 'acme'[\s\S]*alarm_period_s: 30 is shorter"):
        ScaleToZeroEndpoint.from_settings("acme", EndpointSettings(mode=Mode.ASYNC), {"image_uri": image_uri})


@pytest.mark.parametrize("base", ["a", "sagezero-prod-acme", "x" * 40, "a" * 35 + "-bcd"])
def test_bucket_prefix_is_one_s3_auto_naming_accepts(base: str) -> None:
    from sagezero.components.async_storage import BUCKET_PREFIX_MAX, bucket_prefix

    prefix = bucket_prefix(base)
    assert len(prefix) <= BUCKET_PREFIX_MAX and prefix.endswith("-") and not prefix.endswith("--")
    assert base.startswith(prefix[:-1])


def test_an_alarm_needing_several_minutes_of_backlog_still_wakes_it() -> None:
    # The backlog signal stays up while the request waits, so 2 of 3 datapoints are reached (unlike a
    # one-off NoCapacityInvocationFailures sample).
    resources = _resources(alarm_evaluation_periods=3, alarm_datapoints=2, max_instance_count=2)
    assert [(v.policy, v.message) for v in run_pack(resources).verdicts] == []


def test_aws_request_rules_see_the_bucket_name_and_topic_tags() -> None:
    from sagezero.plan import awsrules
    from sagezero.plan.engine import evaluate as plan_evaluate

    rec = plan_evaluate(declare({**BASE, "async_notifications": True}), stack="dev", region="eu-west-1")
    bucket = next(r for r in rec.resources if r.type == BUCKET)
    assert awsrules.request(bucket) == ("s3", "CreateBucket", {"Bucket": bucket.outputs["bucket"]})
    topic = next(r for r in rec.resources if r.type == TOPIC)
    _svc, _op, request = awsrules.request(topic) or ("", "", {})
    assert request["Name"] == topic.outputs["name"] and {"Key": "cost-center", "Value": "ml"} in request["Tags"]
    topic.inputs["tags"] = {"k" * 129: "v"}  # SNS tag keys are at most 128 characters
    assert [f.operation for f in awsrules.check([topic])] == ["CreateTopic"]


# ---- review: the KMS key the role is granted ------------------------------------------------------


@pytest.mark.parametrize(
    "key",
    ["alias/queue-key", "arn:aws:kms:eu-west-1:123456789012:alias/queue-key", "1234abcd-12ab-34cd-56ef-1234567890ab"],
)
def test_an_async_kms_key_that_iam_cannot_name_is_refused_at_construction(image_uri: str, key: str) -> None:
    # The role's UseAsyncKey statement puts the key in Resource: IAM refuses a non-ARN there
    # (MalformedPolicyDocument at `pulumi up`) and an alias ARN grants nothing (requests unreadable).
    with pytest.raises(SettingsError, match=r"ScaleToZeroEndpoint 'acme'[\s\S]*kms_key_arn: .* must be a key ARN"):
        ScaleToZeroEndpoint("acme", {**BASE, "image_uri": image_uri, "kms_key_arn": key})  # type: ignore[typeddict-item]


def test_an_async_kms_alias_from_another_resource_fails_when_it_resolves(record: Callable[..., Registered]) -> None:
    program = declare({**BASE, "kms_key_arn": pulumi.Output.from_input("alias/queue-key")})
    with pytest.raises(Exception, match=r"ScaleToZeroEndpoint 'acme'[\s\S]*kms_key_arn: 'alias/queue-key' must be"):
        record(program, stack="dev")


def test_a_real_time_endpoint_may_still_name_its_kms_key_by_alias(record: Callable[..., Registered]) -> None:
    reg = record(
        declare({"image_uri": IMAGE, "kms_key_arn": pulumi.Output.from_input("alias/volume-key")}), stack="dev"
    )
    assert reg.one(CONFIG).inputs["kmsKeyArn"] == "alias/volume-key"
    statements = json.loads(reg.one(ROLE_POLICY).inputs["policy"])["Statement"]
    assert not [s for s in statements if s["Sid"] == "UseAsyncKey"]


def test_an_hourly_alarm_over_more_than_a_day_is_not_called_one_aws_rejects() -> None:
    # AWS allows seven days of evaluation for periods of an hour or more (PutMetricAlarm Period).
    hourly = mutate(list(_baseline()), "acme-no-capacity", lambda p: p.update(period=3600, evaluationPeriods=30))
    assert (WAKE, "aws-rejects") not in _kinds(hourly)
    too_long = mutate(list(_baseline()), "acme-no-capacity", lambda p: p.update(period=86_400, evaluationPeriods=8))
    assert (WAKE, "aws-rejects") in _kinds(too_long)
    minutes = mutate(list(_baseline()), "acme-no-capacity", lambda p: p.update(period=1800, evaluationPeriods=49))
    assert (WAKE, "aws-rejects") in _kinds(minutes)


def test_in_china_the_role_names_the_queue_logs_and_model_data_in_the_aws_cn_partition(
    record: Callable[..., Registered],
) -> None:
    image = "123456789012.dkr.ecr.cn-north-1.amazonaws.com.cn/team/model:v1"
    key = "arn:aws-cn:kms:cn-north-1:123456789012:key/abc"
    args = {**BASE, "image_uri": image, "async_bucket": "team-queue", "kms_key_arn": key}
    reg = record(declare({**args, "model_data_url": "s3://team-models/acme/"}), stack="dev")
    statements = {s["Sid"]: s for s in json.loads(reg.one(ROLE_POLICY).inputs["policy"])["Statement"]}
    assert statements["ReadAsyncRequests"]["Resource"] == "arn:aws-cn:s3:::team-queue/acme-dev/input/*"
    assert statements["WriteAsyncResults"]["Resource"] == [
        "arn:aws-cn:s3:::team-queue/acme-dev/output/*",
        "arn:aws-cn:s3:::team-queue/acme-dev/failure/*",
    ]
    assert statements["ReadModelData"]["Resource"] == "arn:aws-cn:s3:::team-models/acme/*"
    assert statements["ListModelData"]["Resource"] == "arn:aws-cn:s3:::team-models"
    assert statements["WriteEndpointLogs"]["Resource"].startswith("arn:aws-cn:logs:")
    assert statements["PullInferenceImage"]["Resource"].startswith("arn:aws-cn:ecr:cn-north-1:")
    assert statements["UseAsyncKey"]["Resource"] == key
    commercial = record(declare({**BASE, "async_bucket": "team-queue"}), stack="dev")
    policy = json.loads(commercial.one(ROLE_POLICY).inputs["policy"])["Statement"]
    assert {s["Sid"]: s for s in policy}["ReadAsyncRequests"]["Resource"] == "arn:aws:s3:::team-queue/acme-dev/input/*"


@pytest.mark.parametrize(
    ("key", "value", "says"),
    [("max_copies", 3, "use maxInstanceCount"), ("target_value", 2.0, "use asyncBacklogTarget")],
)
def test_a_real_time_scaling_arg_is_refused_in_async_mode_not_ignored(
    image_uri: str, key: str, value: float, says: str
) -> None:
    # Ignored, `max_copies: 3` would leave the async variant's scalable target at one instance.
    with pytest.raises(SettingsError, match=rf"ScaleToZeroEndpoint 'acme'[\s\S]*{key}: .*{says}"):
        ScaleToZeroEndpoint("acme", {**BASE, "image_uri": image_uri, key: value})  # type: ignore[typeddict-item]


def test_tenants_sharing_a_given_bucket_reach_only_their_own_prefixes(record: Callable[..., Registered]) -> None:
    # `a` and `a-b` give bases where one is a prefix of the other; the trailing `/` keeps them apart.
    def program() -> None:
        for name, extra in (("a", {}), ("a-b", {}), ("c", {"name_prefix": "team-c"})):
            ScaleToZeroEndpoint(name, {**BASE, "async_bucket": "shared-queue", **extra})  # type: ignore[typeddict-item]

    reg = record(program, stack="dev")
    assert not reg.of_type(BUCKET)
    granted = {}
    for policy in reg.of_type(ROLE_POLICY):
        statements = json.loads(policy.inputs["policy"])["Statement"]
        granted[policy.name] = sorted(
            str(r)
            for s in statements
            if any(str(a).startswith("s3:") for a in s["Action"])
            for r in (s["Resource"] if isinstance(s["Resource"], list) else [s["Resource"]])
        )
    assert granted == {
        f"{n}-exec-policy": [
            f"arn:aws:s3:::shared-queue/{base}/failure/*",
            f"arn:aws:s3:::shared-queue/{base}/input/*",
            f"arn:aws:s3:::shared-queue/{base}/output/*",
        ]
        for n, base in (("a", "a-dev"), ("a-b", "a-b-dev-efc725bf"), ("c", "team-c"))
    }
    tags = {e.inputs["name"]: e.inputs["tags"]["sagezero:async-input"] for e in reg.of_type(ENDPOINT)}
    assert tags == {b: f"s3://shared-queue/{b}/input/" for b in ("a-dev", "a-b-dev-efc725bf", "team-c")}


def test_a_kms_key_in_another_region_is_refused_with_the_fix(record: Callable[..., Registered]) -> None:
    # KMS keys are regional: the async bucket's SSE-KMS, the topics and the endpoint config need one in theirs.
    config = {"aws:region": "eu-west-1", "aws-native:region": "eu-west-1"}
    east = "arn:aws:kms:us-east-1:123456789012:key/abc"
    with pytest.raises(ValueError, match=r"ScaleToZeroEndpoint 'acme': kms_key_arn .* is a key in us-east-1 but the "):
        record(declare({**BASE, "kms_key_arn": east}), config=config)
    with pytest.raises(Exception, match=r"is a key in us-east-1 but the endpoint deploys to eu-west-1"):
        record(declare({**BASE, "kms_key_arn": pulumi.Output.from_input(east)}), config=config)
    with pytest.raises(Exception, match=r"is a key in us-east-1 but the endpoint deploys to eu-west-1"):
        record(declare({"image_uri": IMAGE, "kms_key_arn": east}), config=config)  # real-time: the volume key

    def explicit() -> None:
        import pulumi_aws as aws

        west = aws.Provider("west", region="us-west-2")
        ScaleToZeroEndpoint("acme", {**BASE, "kms_key_arn": KMS}, opts=pulumi.ResourceOptions(provider=west))  # type: ignore[typeddict-item]

    with pytest.raises(Exception, match=r"is a key in eu-west-1 but the endpoint deploys to us-west-2"):
        record(explicit, config=config)
    reg = record(declare({**BASE, "kms_key_arn": KMS, "async_notifications": True}), config=config)
    assert reg.one(CONFIG).inputs["kmsKeyArn"] == KMS
    assert sorted(t.inputs["kmsMasterKeyId"] for t in reg.of_type(TOPIC)) == [KMS, KMS]
    realtime = record(declare({"image_uri": IMAGE, "kms_key_arn": "alias/volume-key"}), config=config)
    assert realtime.one(CONFIG).inputs["kmsKeyArn"] == "alias/volume-key"  # no region to judge


def test_plan_takes_a_secure_kms_key_as_unknown_for_an_async_tenant(record: Callable[..., Registered]) -> None:
    from sagezero.plan.engine import conceal
    from sagezero.program import declare as declare_stack
    from sagezero.stackconfig import parse_stack_config

    values, secret_keys = conceal(
        {
            "aws:region": "eu-west-1",
            "sagezero:image": {"uri": IMAGE},
            "sagezero:tenants": [{"name": "q", "mode": "async", "kmsKeyArn": {"secure": "v1:abc"}}],
        }
    )
    config = parse_stack_config("s", values)  # the placeholder is neither an alias nor a key in another region
    reg = record(lambda: declare_stack(config), stack="s", config=values, secret_keys=secret_keys)
    assert len(reg.of_type(CONFIG)) == 1 and len(reg.of_type(ROLE_POLICY)) == 1


def test_an_expiry_for_a_bucket_from_another_resource_is_refused_not_ignored(image_uri: str) -> None:
    # Only a created bucket gets the lifecycle rule; a given one would keep every request and answer.
    args = {
        **BASE,
        "image_uri": image_uri,
        "async_bucket": pulumi.Output.from_input("team-queue"),
        "async_expiry_days": 3,
    }
    with pytest.raises(SettingsError, match=r"ScaleToZeroEndpoint 'acme'[\s\S]*async_expiry_days: 3 would be ignored"):
        ScaleToZeroEndpoint("acme", args)  # type: ignore[arg-type]


def test_no_routing_advice_for_an_async_config() -> None:
    """The async variant sends no RoutingConfig (its queue dispatches to free slots), and the routing
    advice, written for copies woken behind busy ones, does not apply to it."""
    report = run_pack(list(_baseline()))
    assert [v.message for v in report.verdicts if v.policy == "least-outstanding-requests-routing"] == []


def test_a_missing_async_wake_alarm_is_fixed_with_the_alarm_the_component_deploys() -> None:
    found = run_pack(mutate(list(_baseline()), "acme-no-capacity", lambda p: "drop")).mandatory
    (no_alarm,) = [v for v in found if "[no-alarm]" in v.message]
    assert "HasBacklogWithoutCapacity" in no_alarm.message and "(Average, >= 1, period 60 s)" in no_alarm.message
