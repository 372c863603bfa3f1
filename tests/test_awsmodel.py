"""AWS's own request rules, offline: instance types, environment, tags, names, and `plan`'s per-resource check."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from sagezero import awsmodel
from sagezero.settings import build_settings, default_accelerators

INSTANCE_TYPES = awsmodel.enum("sagemaker", "ProductionVariantInstanceType")


def problems(**raw: Any) -> list[str]:
    return [str(p) for p in build_settings(raw, camel_keys=True)[1]]


def test_every_hosting_instance_type_aws_lists_is_accepted_with_its_default_accelerators() -> None:
    assert len(INSTANCE_TYPES) >= 277
    refused = {t: problems(instanceType=t) for t in INSTANCE_TYPES}
    assert {t: p for t, p in refused.items() if p} == {}


@pytest.mark.parametrize(
    ("instance_type", "accelerators"), [("ml.c5.xlarge", 0), ("ml.g5.xlarge", 1), ("ml.inf2.xlarge", 1)]
)
def test_the_accelerator_default_follows_the_instance_type(instance_type: str, accelerators: int) -> None:
    settings, found = build_settings({"instanceType": instance_type}, camel_keys=True)
    assert found == [] and settings is not None
    assert settings.accelerators == default_accelerators(instance_type) == accelerators


@given(st.text(min_size=1, max_size=30).filter(lambda t: t not in INSTANCE_TYPES))
def test_any_other_instance_type_is_refused_with_aws_rule(instance_type: str) -> None:
    found = problems(instanceType=instance_type)
    assert any(p.startswith("instanceType:") and "ProductionVariantInstanceType" in p for p in found), found


def test_a_near_miss_gets_suggestions() -> None:
    (p,) = problems(instanceType="ml.g5x.large")
    assert "did you mean ml.g5.xlarge" in p


@given(st.from_regex(r"[a-zA-Z_][a-zA-Z0-9_]{0,40}", fullmatch=True), st.text(max_size=1024))
def test_environment_names_and_values_aws_accepts_pass(name: str, value: str) -> None:
    assert problems(environment={name: value}) == []


@given(st.from_regex(r"[0-9-][a-zA-Z0-9_]{0,10}", fullmatch=True))
def test_environment_names_aws_refuses_are_named(name: str) -> None:
    (p,) = problems(environment={name: "v"})
    assert p.startswith("environment:") and "[a-zA-Z_][a-zA-Z0-9_]*" in p and "CreateModel" in p


def test_environment_values_over_aws_length_are_refused() -> None:
    (p,) = problems(environment={"A": "x" * 1025})
    assert "at most 1024" in p


@pytest.mark.parametrize(
    ("raw", "text"),
    [
        ({"tags": {"k" * 129: "v"}}, "tags: has 129 characters; AWS allows at most 128"),
        ({"tags": {"k": "v" * 257}}, "at most 256"),
        ({"tags": {"k": "not;allowed"}}, "does not match AWS's pattern"),
        ({"kmsKeyArn": "arn:aws:kms:eu-west-1:1:key/x y"}, "kmsKeyArn:"),
        ({"variantName": "a" * 64}, "variantName:"),
    ],
)
def test_values_sent_verbatim_are_checked_against_aws(raw: dict[str, Any], text: str) -> None:
    assert any(text in p for p in problems(**raw)), problems(**raw)


def test_every_pattern_in_the_models_compiles() -> None:
    count = 0
    for name in ("sagemaker", "application-autoscaling", "cloudwatch"):
        model = awsmodel.service(name)
        for shape_name in model.shape_names:
            pattern = model.shape_for(shape_name).metadata.get("pattern")
            if pattern:
                awsmodel._pattern(pattern)
                count += 1
    assert count > 100
    # Java's surrogate-pair range means the supplementary planes.
    assert awsmodel._pattern("[\\u0020-\\uD7FF\\uE000-\\uFFFD\\uD800\\uDC00-\\uDBFF\\uDFFF\\t]*").fullmatch("ok 🙂")


def test_component_refuses_more_tags_than_aws_allows(record: Callable[..., Any], image_uri: str) -> None:
    pytest.importorskip("pulumi")
    from sagezero.components import ScaleToZeroEndpoint
    from sagezero.settings import SettingsError

    tags = {f"t{i}": "v" for i in range(49)}  # + managed-by and sagezero:endpoint = 51
    with pytest.raises(SettingsError, match=r"tags: has 51 entries; AWS allows at most 50 \(AWS CreateEndpoint Tags\)"):
        record(lambda: ScaleToZeroEndpoint("acme", {"image_uri": image_uri, "tags": tags}))


def test_cpu_inference_component_leaves_the_accelerator_count_out(record: Callable[..., Any], image_uri: str) -> None:
    pytest.importorskip("pulumi")
    from sagezero.components import ScaleToZeroEndpoint
    from sagezero.plan import awsrules

    reg = record(lambda: ScaleToZeroEndpoint("acme", {"image_uri": image_uri, "instance_type": "ml.c7i.xlarge"}))
    ic = next(r for r in reg.resources if r.type == "aws-native:sagemaker:InferenceComponent")
    assert "numberOfAcceleratorDevicesRequired" not in ic.inputs["specification"]["computeResourceRequirements"]
    assert awsrules.check(reg.resources) == []


@pytest.mark.parametrize(
    ("type_", "path", "value", "rule"),
    [
        (
            "aws-native:sagemaker:InferenceComponent",
            ("specification", "computeResourceRequirements", "numberOfAcceleratorDevicesRequired"),
            0,
            "below AWS's minimum 1",
        ),
        ("aws:cloudwatch/metricAlarm:MetricAlarm", ("comparisonOperator",), "Bigger", "is not one of AWS's"),
        ("aws:appautoscaling/policy:Policy", ("policyType",), "Sometimes", "is not one of AWS's"),
        (
            "aws:sagemaker/endpointConfiguration:EndpointConfiguration",
            ("productionVariants", 0, "instanceType"),
            "ml.c5.xlarg",
            "is not one of AWS's",
        ),
        ("aws:sagemaker/endpoint:Endpoint", ("name",), "x" * 64, "at most 63"),
        ("aws:appautoscaling/target:Target", ("scalableDimension",), "sagemaker:ic:Copies", "is not one of AWS's"),
    ],
)
def test_plan_names_tenant_resource_field_and_aws_rule(
    record: Callable[..., Any], image_uri: str, type_: str, path: tuple[Any, ...], value: Any, rule: str
) -> None:
    pytest.importorskip("pulumi")
    from sagezero.components import ScaleToZeroEndpoint
    from sagezero.plan import awsrules

    reg = record(lambda: ScaleToZeroEndpoint("acme", {"image_uri": image_uri}))
    assert awsrules.check(reg.resources) == [], "the baseline passes"
    resource = next(r for r in reg.resources if r.type == type_)
    target: Any = resource.outputs if path[0] in resource.outputs else resource.inputs
    for key in path[:-1]:
        target = target[key]
    target[path[-1]] = value
    findings = awsrules.check(reg.resources)
    assert findings and {(f.tenant, f.resource) for f in findings} == {("acme", resource.name)}
    assert any(rule in str(f) for f in findings), [str(f) for f in findings]
