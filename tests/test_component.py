"""ScaleToZeroEndpoint as the engine receives it: every property the seed set by hand, and the wiring."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from tests.conftest import Registered

pytest.importorskip("pulumi")

from sagezero.components import ScaleToZeroEndpoint
from sagezero.settings import SettingsError

IC = "aws-native:sagemaker:InferenceComponent"
CONFIG = "aws:sagemaker/endpointConfiguration:EndpointConfiguration"
TARGET = "aws:appautoscaling/target:Target"
POLICY = "aws:appautoscaling/policy:Policy"
ALARM = "aws:cloudwatch/metricAlarm:MetricAlarm"
MODEL = "aws:sagemaker/model:Model"
ENDPOINT = "aws:sagemaker/endpoint:Endpoint"


@pytest.fixture
def seed(record: Callable[..., Registered], image_uri: str) -> Registered:
    """The component with the seed's defaults and an existing image."""
    return record(lambda: ScaleToZeroEndpoint("acme", {"image_uri": image_uri}), stack="dev")


def test_endpoint_config_is_the_seeds_exactly(seed: Registered) -> None:
    cfg = seed.one(CONFIG).inputs
    variant = cfg["productionVariants"][0]
    assert "modelName" not in variant, "inference-component endpoints carry no model on the variant"
    assert cfg["executionRoleArn"].startswith("arn:aws:iam::")
    assert variant == {
        "variantName": "AllTraffic",
        "instanceType": "ml.g5.xlarge",
        "initialInstanceCount": 1,
        "modelDataDownloadTimeoutInSeconds": 3600,
        "containerStartupHealthCheckTimeoutInSeconds": 3600,
        "managedInstanceScaling": {"status": "ENABLED", "minInstanceCount": 0, "maxInstanceCount": 1},
        "routingConfigs": [{"routingStrategy": "LEAST_OUTSTANDING_REQUESTS"}],
    }


def test_inference_component_spec_and_copy_count_left_to_the_scaler(seed: Registered) -> None:
    ic = seed.one(IC)
    endpoint = seed.one(ENDPOINT)
    model = seed.one(MODEL)
    assert ic.inputs["endpointName"] == endpoint.inputs["name"] == "acme-dev"
    assert ic.inputs["inferenceComponentName"] == "acme-dev-ic"
    assert ic.inputs["variantName"] == "AllTraffic"
    assert ic.inputs["specification"] == {
        "modelName": model.outputs["name"],
        "startupParameters": {
            "modelDataDownloadTimeoutInSeconds": 3600,
            "containerStartupHealthCheckTimeoutInSeconds": 3600,
        },
        "computeResourceRequirements": {"minMemoryRequiredInMb": 1024, "numberOfAcceleratorDevicesRequired": 1},
    }
    assert ic.inputs["runtimeConfig"] == {"copyCount": 1}
    assert ic.ignore_changes == ["runtimeConfig.copyCount"]
    assert ic.delete_before_replace is True
    assert endpoint.urn in ic.property_dependencies["endpointName"]
    assert model.urn in ic.property_dependencies["specification"]


def test_scalable_target_min_zero_and_depends_on_the_inference_component(seed: Registered) -> None:
    target = seed.one(TARGET)
    ic = seed.one(IC)
    assert target.inputs == {
        "serviceNamespace": "sagemaker",
        "resourceId": "inference-component/acme-dev-ic",
        "scalableDimension": "sagemaker:inference-component:DesiredCopyCount",
        "minCapacity": 0,
        "maxCapacity": 1,
        "tags": target.inputs["tags"],
    }
    assert ic.urn in target.dependencies
    assert ic.urn in target.property_dependencies["resourceId"]


def test_target_tracking_policy_scales_copies_down(seed: Registered) -> None:
    tracking = seed.one(POLICY, "acme-target-tracking")
    assert tracking.inputs["policyType"] == "TargetTrackingScaling"
    assert tracking.inputs["resourceId"] == "inference-component/acme-dev-ic"
    assert tracking.inputs["scalableDimension"] == "sagemaker:inference-component:DesiredCopyCount"
    assert tracking.inputs["serviceNamespace"] == "sagemaker"
    assert tracking.inputs["targetTrackingScalingPolicyConfiguration"] == {
        "predefinedMetricSpecification": {
            "predefinedMetricType": "SageMakerInferenceComponentConcurrentRequestsPerCopyHighResolution"
        },
        "targetValue": 5,
        "scaleInCooldown": 300,
        "scaleOutCooldown": 300,
    }
    assert seed.one(TARGET).urn in tracking.dependencies


def test_step_policy_adds_one_copy_from_zero(seed: Registered) -> None:
    step = seed.one(POLICY, "acme-wake-from-zero")
    assert step.inputs["policyType"] == "StepScaling"
    assert step.inputs["resourceId"] == "inference-component/acme-dev-ic"
    assert step.inputs["stepScalingPolicyConfiguration"] == {
        "adjustmentType": "ChangeInCapacity",
        "metricAggregationType": "Maximum",
        "cooldown": 360,
        "stepAdjustments": [{"metricIntervalLowerBound": "0", "scalingAdjustment": 1}],
    }
    assert seed.one(TARGET).urn in step.dependencies


def test_alarm_fires_the_step_policy_for_this_inference_component(seed: Registered) -> None:
    alarm = seed.one(ALARM)
    step = seed.one(POLICY, "acme-wake-from-zero")
    ic = seed.one(IC)
    expected = {
        "namespace": "AWS/SageMaker",
        "metricName": "NoCapacityInvocationFailures",
        "dimensions": {"InferenceComponentName": "acme-dev-ic"},
        "statistic": "Maximum",
        "period": 30,
        "evaluationPeriods": 1,
        "datapointsToAlarm": 1,
        "threshold": 1,
        "comparisonOperator": "GreaterThanOrEqualToThreshold",
        "treatMissingData": "missing",
        "alarmActions": [step.outputs["arn"]],
    }
    assert {k: alarm.inputs[k] for k in expected} == expected
    assert alarm.property_dependencies["alarmActions"] == [step.urn]
    assert alarm.property_dependencies["dimensions"] == [ic.urn]


def test_every_child_is_parented_to_the_component(seed: Registered) -> None:
    component = seed.one("sagezero:index:ScaleToZeroEndpoint")
    role = seed.one("sagezero:index:ExecutionRole")
    for r in seed.resources:
        if r is component:
            continue
        assert r.parent in (component.urn, role.urn), f"{r.name} is not parented to the component"


def test_least_privilege_role_pulls_only_the_image_repository(seed: Registered) -> None:
    import json

    policy = json.loads(seed.one("aws:iam/rolePolicy:RolePolicy").inputs["policy"])
    pull = next(s for s in policy["Statement"] if s["Sid"] == "PullInferenceImage")
    assert pull["Resource"] == "arn:aws:ecr:eu-west-1:123456789012:repository/team/model"
    for s in policy["Statement"]:
        assert all("*" not in a for a in s["Action"]), s
    trust = json.loads(seed.one("aws:iam/role:Role").inputs["assumeRolePolicy"])
    assert trust["Statement"][0]["Principal"] == {"Service": "sagemaker.amazonaws.com"}
    # The model is not created before its role's policy exists.
    assert seed.one("aws:iam/rolePolicy:RolePolicy").urn in seed.one(MODEL).dependencies


def test_model_data_prefix_adds_scoped_s3_read(record: Callable[..., Registered], image_uri: str) -> None:
    import json

    reg = record(
        lambda: ScaleToZeroEndpoint("acme", {"image_uri": image_uri, "model_data_url": "s3://bucket/models/acme/"})
    )
    statements = json.loads(reg.one("aws:iam/rolePolicy:RolePolicy").inputs["policy"])["Statement"]
    read = next(s for s in statements if s["Sid"] == "ReadModelData")
    assert read["Resource"] == "arn:aws:s3:::bucket/models/acme/*"
    assert reg.one(MODEL).inputs["primaryContainer"]["modelDataUrl"] == "s3://bucket/models/acme/"


def test_existing_role_is_used_and_none_created(record: Callable[..., Registered], image_uri: str) -> None:
    role = "arn:aws:iam::123456789012:role/existing"
    reg = record(lambda: ScaleToZeroEndpoint("acme", {"image_uri": image_uri, "execution_role_arn": role}))
    assert not reg.of_type("aws:iam/role:Role")
    assert reg.one(MODEL).inputs["executionRoleArn"] == role
    assert reg.one(CONFIG).inputs["executionRoleArn"] == role


def test_every_setting_is_overridable(record: Callable[..., Registered], image_uri: str) -> None:
    args: dict[str, Any] = {
        "image_uri": image_uri,
        "instance_type": "ml.g6.2xlarge",
        "max_instance_count": 3,
        "max_copies": 6,
        "min_memory_mb": 2048,
        "accelerators": 1,
        "cpu_cores": 2.0,
        "model_download_timeout_s": 900,
        "container_startup_timeout_s": 1200,
        "target_value": 2.5,
        "scale_in_cooldown_s": 120,
        "scale_out_cooldown_s": 60,
        "step_cooldown_s": 30,
        "step_adjustment": 2,
        "alarm_period_s": 60,
        "alarm_evaluation_periods": 2,
        "alarm_datapoints": 2,
        "environment": {"LOG_LEVEL": "debug"},
        "kms_key_arn": "arn:aws:kms:eu-west-1:123456789012:key/abc",
    }
    reg = record(lambda: ScaleToZeroEndpoint("acme", args))  # type: ignore[arg-type]
    variant = reg.one(CONFIG).inputs["productionVariants"][0]
    assert variant["instanceType"] == "ml.g6.2xlarge"
    assert variant["managedInstanceScaling"]["maxInstanceCount"] == 3
    assert variant["containerStartupHealthCheckTimeoutInSeconds"] == 1200
    assert reg.one(CONFIG).inputs["kmsKeyArn"] == args["kms_key_arn"]
    spec = reg.one(IC).inputs["specification"]
    assert spec["computeResourceRequirements"] == {
        "minMemoryRequiredInMb": 2048,
        "numberOfAcceleratorDevicesRequired": 1,
        "numberOfCpuCoresRequired": 2,
    }
    assert spec["startupParameters"]["modelDataDownloadTimeoutInSeconds"] == 900
    assert reg.one(TARGET).inputs["maxCapacity"] == 6
    tt = reg.one(POLICY, "acme-target-tracking").inputs["targetTrackingScalingPolicyConfiguration"]
    assert (tt["targetValue"], tt["scaleInCooldown"], tt["scaleOutCooldown"]) == (2.5, 120, 60)
    step = reg.one(POLICY, "acme-wake-from-zero").inputs["stepScalingPolicyConfiguration"]
    assert step["cooldown"] == 30
    assert step["stepAdjustments"][0]["scalingAdjustment"] == 2
    alarm = reg.one(ALARM).inputs
    assert (alarm["period"], alarm["evaluationPeriods"], alarm["datapointsToAlarm"]) == (60, 2, 2)
    assert reg.one(MODEL).inputs["primaryContainer"]["environment"] == {"LOG_LEVEL": "debug"}


def test_serverless_mode_builds_the_seeds_first_attempt(record: Callable[..., Registered], image_uri: str) -> None:
    reg = record(
        lambda: ScaleToZeroEndpoint(
            "acme",
            {
                "image_uri": image_uri,
                "mode": "serverless",  # type: ignore[typeddict-item]
                "accelerators": 0,
                "serverless_memory_mb": 2048,
                "serverless_max_concurrency": 20,
                "serverless_provisioned_concurrency": 10,
            },
        )
    )
    variant = reg.one(CONFIG).inputs["productionVariants"][0]
    assert variant["serverlessConfig"] == {"memorySizeInMb": 2048, "maxConcurrency": 20, "provisionedConcurrency": 10}
    assert variant["modelName"] == reg.one(MODEL).outputs["name"]
    for absent in (IC, TARGET, POLICY, ALARM):
        assert not reg.of_type(absent), absent


def test_builds_and_pushes_its_own_image_when_none_given(record: Callable[..., Registered]) -> None:
    reg = record(lambda: ScaleToZeroEndpoint("acme", {"accelerators": 1}))
    repo = reg.one("aws:ecr/repository:Repository")
    assert repo.inputs["imageTagMutability"] == "IMMUTABLE"
    assert repo.inputs["imageScanningConfiguration"] == {"scanOnPush": True}
    image = reg.one("docker:index/image:Image")
    # The ECR password is a secret, so the engine receives the whole registry block encrypted.
    assert image.inputs["registry"] == "[secret]"
    assert image.inputs["build"]["platform"] == "linux/amd64"
    model = reg.one(MODEL)
    assert "@sha256:" in model.inputs["primaryContainer"]["image"], "the model must use the digest-pinned image"
    assert image.urn in model.property_dependencies["primaryContainer"]


def test_tenants_are_isolated(record: Callable[..., Registered], image_uri: str) -> None:
    def two() -> None:
        ScaleToZeroEndpoint("acme", {"image_uri": image_uri})
        ScaleToZeroEndpoint("globex", {"image_uri": image_uri})

    reg = record(two)
    for t in (IC, ENDPOINT, ALARM, "aws:iam/role:Role"):
        a, b = reg.of_type(t)
        assert a.urn != b.urn
    names = [r.inputs.get("name") or r.inputs.get("inferenceComponentName") for r in reg.resources]
    physical = [n for n in names if n]
    assert len(physical) == len(set(physical)), "two tenants share a physical name"
    alarms = {a.inputs["dimensions"]["InferenceComponentName"] for a in reg.of_type(ALARM)}
    assert alarms == {"acme-dev-ic", "globex-dev-ic"}


@pytest.mark.parametrize(
    ("args", "field", "text"),
    [
        ({"max_copies": 0}, "max_copies", "outside 1-100"),
        ({"min_memory_mb": 64}, "min_memory_mb", "outside 128"),
        ({"instance_type": "ml.zz9.large"}, "instance_type", "not one of AWS's 277 hosting instance types"),
        ({"instance_type": "g5.xlarge"}, "instance_type", "did you mean ml.g5.xlarge"),
        ({"container_startup_timeout_s": 30}, "container_startup_timeout_s", "outside 60-3600"),
        ({"model_download_timeout_s": 7200}, "model_download_timeout_s", "outside 60-3600"),
        ({"instance_type": "ml.m5.large", "accelerators": 1}, "accelerators", "has none"),
        (
            {"mode": "serverless", "accelerators": 0, "serverless_memory_mb": 1500},
            "serverless_memory_mb",
            "multiple of 1024",
        ),
        (
            {"mode": "serverless", "accelerators": 0, "serverless_max_concurrency": 201},
            "serverless_max_concurrency",
            "outside 1-200",
        ),
        ({"mode": "serverless", "accelerators": 1}, "accelerators", "cannot use accelerators"),
        ({"environment": {f"K{i}": "v" for i in range(17)}}, "environment", "at most 16"),
        ({"alarm_datapoints": 2}, "alarm_datapoints", "exceeds alarm_evaluation_periods"),
        ({"mode": "sometimes"}, "mode", "not one of"),
    ],
)
def test_bad_args_fail_up_front_naming_the_field(
    record: Callable[..., Registered], image_uri: str, args: dict[str, Any], field: str, text: str
) -> None:
    with pytest.raises(SettingsError) as e:
        record(lambda: ScaleToZeroEndpoint("acme", {"image_uri": image_uri, **args}))  # type: ignore[typeddict-item]
    message = str(e.value)
    assert "ScaleToZeroEndpoint 'acme'" in message
    assert f"{field}:" in message and text in message, message


def test_non_ecr_image_is_rejected_before_deploy(record: Callable[..., Registered]) -> None:
    with pytest.raises(ValueError, match="not a private ECR image"):
        record(lambda: ScaleToZeroEndpoint("acme", {"image_uri": "docker.io/library/python:3.11"}))


def test_python_consumer_example_runs_by_import(record: Callable[..., Registered]) -> None:
    import runpy

    from tests.conftest import ROOT

    reg = record(
        lambda: runpy.run_path(str(ROOT / "examples" / "python-consumer" / "__main__.py"), run_name="__main__"),
        project="recommender-serving",
    )
    variant = reg.one(CONFIG).inputs["productionVariants"][0]
    assert variant["instanceType"] == "ml.g6.xlarge"
    assert reg.one(TARGET).inputs["maxCapacity"] == 3
    assert reg.exports["inference_component_name"] == "recommender-dev-ic"


def test_image_tag_follows_what_docker_sends_not_ignored_files(tmp_path: Any) -> None:
    from sagezero.components.inference_image import context_digest

    (tmp_path / "Dockerfile").write_text("FROM x\n")
    (tmp_path / ".dockerignore").write_text("examples\n**/__pycache__\n")
    (tmp_path / "examples").mkdir()
    (tmp_path / "examples" / "req.json").write_text("{}")
    before = context_digest(tmp_path)
    (tmp_path / "examples" / "req.json").write_text('{"changed": true}')
    assert context_digest(tmp_path) == before, "an ignored file must not roll the endpoints"
    (tmp_path / "app.py").write_text("print(1)\n")
    assert context_digest(tmp_path) != before, "a file Docker sends must change the tag"


@pytest.mark.parametrize("name", ["fraud_scorer", "x" * 49, "-acme"])
def test_a_logical_name_whose_auto_names_aws_refuses_fails_at_construction(
    record: Callable[..., Registered], image_uri: str, name: str
) -> None:
    with pytest.raises(SettingsError) as e:
        record(lambda: ScaleToZeroEndpoint(name, {"image_uri": image_uri, "instance_type": "ml.c5.xlarge"}))
    message = str(e.value)
    assert f"ScaleToZeroEndpoint {name!r}" in message and "auto-names" in message and "at most 48" in message


def test_the_longest_logical_name_gives_auto_names_aws_accepts(
    record: Callable[..., Registered], image_uri: str
) -> None:
    from sagezero.plan import awsrules

    reg = record(lambda: ScaleToZeroEndpoint("a" * 48, {"image_uri": image_uri, "instance_type": "ml.c5.xlarge"}))
    assert [f for f in awsrules.check(reg.resources) if "Name" in str(f)] == []
