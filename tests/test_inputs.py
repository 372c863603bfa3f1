"""Inputs that come from other resources: accepted as pulumi.Input, validated with the same messages once known."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from tests.conftest import Registered

pytest.importorskip("pulumi")

import pulumi
import pulumi_aws as aws

from sagezero.components import ScaleToZeroEndpoint
from sagezero.settings import SettingsError

MODEL = "aws:sagemaker/model:Model"
CONFIG = "aws:sagemaker/endpointConfiguration:EndpointConfiguration"


def test_values_from_other_resources_flow_into_the_children(record: Callable[..., Registered], image_uri: str) -> None:
    def program() -> None:
        key = aws.kms.Key("key")
        bucket = aws.s3.Bucket("models", bucket="team-models")
        subnet = aws.ec2.Subnet("a", vpc_id="vpc-1", cidr_block="10.0.0.0/24")
        group = aws.ec2.SecurityGroup("sg", vpc_id="vpc-1")
        ScaleToZeroEndpoint(
            "acme",
            {
                "image_uri": image_uri,
                "kms_key_arn": key.arn,
                "model_data_url": bucket.bucket.apply(lambda b: f"s3://{b}/acme/"),
                "environment": {"BUCKET": bucket.bucket, "MODE": "fast"},
                "tags": {"owner": bucket.bucket},
                "vpc_subnet_ids": [subnet.id],
                "vpc_security_group_ids": [group.id],
                "network_isolation": True,
            },
        )

    reg = record(program, preview=False)
    model, config = reg.one(MODEL), reg.one(CONFIG)
    assert model.inputs["primaryContainer"]["environment"] == {"BUCKET": "team-models", "MODE": "fast"}
    assert model.inputs["primaryContainer"]["modelDataUrl"] == "s3://team-models/acme/"
    subnet, group = reg.one("aws:ec2/subnet:Subnet"), reg.one("aws:ec2/securityGroup:SecurityGroup")
    assert model.inputs["vpcConfig"]["subnets"][0].startswith("a-")
    assert model.inputs["vpcConfig"]["securityGroupIds"][0].startswith("sg-")
    assert {subnet.urn, group.urn} <= set(model.property_dependencies["vpcConfig"])
    assert model.inputs["enableNetworkIsolation"] is True
    assert reg.one("aws:s3/bucket:Bucket").urn in model.property_dependencies["primaryContainer"]
    assert config.inputs["kmsKeyArn"].startswith("arn:aws:kms:")
    assert reg.one("aws:kms/key:Key").urn in config.property_dependencies["kmsKeyArn"]
    assert model.inputs["tags"]["owner"] == "team-models" and model.inputs["tags"]["managed-by"] == "sagezero"
    ic = reg.one("aws-native:sagemaker:InferenceComponent")
    assert {"key": "owner", "value": "team-models"} in ic.inputs["tags"]
    policy = json.loads(reg.one("aws:iam/rolePolicy:RolePolicy").inputs["policy"])
    sids = {s["Sid"]: s for s in policy["Statement"]}
    assert sids["ReadModelData"]["Resource"] == "arn:aws:s3:::team-models/acme/*"
    assert "ec2:CreateNetworkInterface" in sids["AttachToVpc"]["Action"]


def test_no_vpc_no_network_permissions(record: Callable[..., Registered], image_uri: str) -> None:
    reg = record(lambda: ScaleToZeroEndpoint("acme", {"image_uri": image_uri}))
    policy = json.loads(reg.one("aws:iam/rolePolicy:RolePolicy").inputs["policy"])
    assert "AttachToVpc" not in {s["Sid"] for s in policy["Statement"]}
    assert "vpcConfig" not in reg.one(MODEL).inputs


def _message(record: Callable[..., Registered], args: dict[str, Any]) -> str:
    """The error the program stops with (a deferred value's SettingsError arrives wrapped by the engine)."""
    with pytest.raises(ValueError, match="invalid settings for ScaleToZeroEndpoint") as e:
        record(lambda: ScaleToZeroEndpoint("acme", args), preview=False)  # type: ignore[arg-type]
    return str(e.value)


@pytest.mark.parametrize(
    ("field", "bad"),
    [
        ("kms_key_arn", "arn:aws:kms:eu-west-1:1:key/x y"),
        ("model_data_url", "https://example.com/model.tar.gz"),
        ("environment", {"1BAD": "x"}),
        ("tags", {"k" * 129: "v"}),
        ("vpc_subnet_ids", [f"subnet-{i}" for i in range(17)]),
    ],
)
def test_a_deferred_value_fails_with_the_message_a_known_one_gives(
    record: Callable[..., Registered], image_uri: str, field: str, bad: Any
) -> None:
    extra = {"vpc_security_group_ids": ["sg-1"]} if field == "vpc_subnet_ids" else {}
    known = _message(record, {"image_uri": image_uri, field: bad, **extra})
    later = _message(record, {"image_uri": image_uri, field: pulumi.Output.from_input(bad), **extra})
    problem = next(line.strip() for line in known.splitlines() if line.strip().startswith(f"- {field}:"))
    assert problem in [line.strip() for line in later.splitlines()], (known, later)
    assert "ScaleToZeroEndpoint 'acme'" in later


def test_vpc_subnets_without_security_groups_are_refused(record: Callable[..., Registered], image_uri: str) -> None:
    message = _message(record, {"image_uri": image_uri, "vpc_subnet_ids": pulumi.Output.from_input(["subnet-1"])})
    assert "vpc_security_group_ids" in message


def test_secure_stack_config_stays_secret_in_state(tmp_path: Any) -> None:
    import shutil

    from tests.conftest import ROOT, run_cli_at

    for name in ("Pulumi.yaml", "__main__.py"):
        shutil.copy(ROOT / name, tmp_path / name)
    (tmp_path / "Pulumi.s.yaml").write_text(
        "config:\n"
        "  sagezero:image: {uri: '123456789012.dkr.ecr.eu-west-1.amazonaws.com/m@sha256:" + "a" * 64 + "'}\n"
        "  sagezero:defaults:\n"
        "    instanceType: ml.c5.xlarge\n"
        "    environment:\n"
        "      API_TOKEN:\n"
        "        secure: v1:c2VjcmV0:aGlkZGVu\n"
        "  sagezero:tenants: [acme]\n"
    )
    proc = run_cli_at("plan", "-s", "s", "--project-dir", str(tmp_path), "--json", "--no-policy")  # in process
    assert proc.returncode == 0, proc.stderr
    doc = json.loads(proc.stdout)
    model = next(r for r in doc["resources"] if r["type"] == MODEL)
    assert model["inputs"]["primaryContainer"] == "[secret]", "the whole container block is secret in state"
    assert "v1:c2VjcmV0" not in proc.stdout


JSON = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=5),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=3), inner, max_size=3),
    max_leaves=6,
)


@given(JSON)
def test_network_isolation_takes_only_true_or_false(value: Any) -> None:
    from sagezero.settings import build_settings

    settings, problems = build_settings({"networkIsolation": value}, camel_keys=True)
    if isinstance(value, bool):
        assert problems == [] and settings is not None and settings.network_isolation is value
    else:
        assert [p.key for p in problems] == ["networkIsolation"]


@given(JSON)
def test_vpc_ids_take_only_lists_of_strings(value: Any) -> None:
    from sagezero.settings import build_settings

    _settings, problems = build_settings({"vpcSubnetIds": value, "vpcSecurityGroupIds": ["sg-1"]}, camel_keys=True)
    ok = isinstance(value, list) and all(isinstance(v, str) for v in value)
    if not ok:
        assert "vpcSubnetIds" in {p.key for p in problems}
        expected = "must not be empty" if value is None else "expected a list of strings"
        assert any(expected in p.message for p in problems)


def test_every_input_field_under_a_secret_stack_key_stays_secret(record: Callable[..., Registered]) -> None:
    from sagezero.program import declare
    from sagezero.stackconfig import parse_stack_config

    values = {
        "aws:region": "us-east-1",
        "aws-native:region": "us-east-1",
        "sagezero:image": {"uri": "123456789012.dkr.ecr.us-east-1.amazonaws.com/x:1"},
        "sagezero:defaults": {
            "instanceType": "ml.c5.xlarge",
            "kmsKeyArn": "arn:aws:kms:us-east-1:123456789012:key/SECRETKEY",
            "tags": {"owner": "SECRETTAG"},
            "environment": {"TOKEN": "SECRETENV"},
            "modelDataUrl": "s3://SECRETBUCKET/m/",
            "vpcSubnetIds": ["subnet-SECRETSUBNET"],
            "vpcSecurityGroupIds": ["sg-SECRETGROUP"],
        },
        "sagezero:tenants": [{"name": "a"}],
    }
    config = parse_stack_config("s", values)
    reg = record(lambda: declare(config), stack="s", config=values, secret_keys=["sagezero:defaults"])
    assert reg.of_type(MODEL) and reg.of_type(CONFIG)
    for r in reg.resources:
        text = json.dumps(r.inputs)
        for word in ("SECRETKEY", "SECRETTAG", "SECRETENV", "SECRETBUCKET", "SECRETSUBNET", "SECRETGROUP"):
            assert word not in text, f"{word} in plain text in {r.type} {r.name}"


@pytest.mark.parametrize("empty", [None, []])
def test_a_vpc_input_that_resolves_to_nothing_never_leaves_half_a_vpc(
    record: Callable[..., Registered], image_uri: str, empty: Any
) -> None:
    message = _message(
        record,
        {"image_uri": image_uri, "vpc_subnet_ids": pulumi.Output.from_input(empty), "vpc_security_group_ids": ["sg-1"]},
    )
    assert "a VPC needs both subnets and security groups" in message and "ScaleToZeroEndpoint 'acme'" in message


def _unknown() -> pulumi.Output[Any]:
    """A value a preview does not know yet (the id of a resource still to be created)."""
    import asyncio

    loop = asyncio.get_event_loop()
    value, known = loop.create_future(), loop.create_future()
    value.set_result(None)
    known.set_result(False)
    return pulumi.Output(set(), value, known)


@pytest.mark.parametrize(
    ("field", "mapping", "text"),
    [
        ("environment", lambda: {"BAD-KEY": _unknown()}, "environment: key 'BAD-KEY' does not match"),
        ("tags", lambda: {"k" * 200: _unknown()}, "tags: has 200 characters"),
    ],
)
def test_known_keys_are_checked_while_their_values_are_unknown(
    record: Callable[..., Registered], image_uri: str, field: str, mapping: Callable[[], Any], text: str
) -> None:
    def program() -> None:
        ScaleToZeroEndpoint("acme", {"image_uri": image_uri, field: mapping()})  # type: ignore[misc]

    with pytest.raises(SettingsError, match="invalid settings for ScaleToZeroEndpoint 'acme'") as e:
        record(program)
    assert text in str(e.value)
