"""A tenant never spans two regions or accounts: a consumer program under mocks, every resource's provider recorded."""

from __future__ import annotations

import shutil
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from tests.conftest import ROOT, Registered, run_cli_at

pytest.importorskip("pulumi")

import pulumi
import pulumi_aws as aws
import pulumi_aws_native as aws_native

from sagezero.components import ProviderMismatchError, ScaleToZeroEndpoint, provider_pair
from sagezero.plan.placement import placements, splits
from sagezero.stackconfig import StackConfigError, parse_stack_config

IC = "aws-native:sagemaker:InferenceComponent"


def image_in(region: str) -> str:
    """An ECR image in `region`: SageMaker pulls a model's image only from the model's own region."""
    return f"123456789012.dkr.ecr.{region}.amazonaws.com/team/model@sha256:" + "a" * 64


def regions(reg: Registered, config: dict[str, Any] | None = None) -> dict[str, str | None]:
    """Region each AWS resource deploys to, by logical name, read from the provider it registered with."""
    return {r.name: p.region for _t, r, p in placements(reg.resources, config or {})}


def provider_of(reg: Registered, name: str) -> Any:
    r = next(r for r in reg.resources if r.name == name)
    assert r.provider, f"{name} uses a default provider"
    return reg.by_urn(r.provider.rsplit("::", 1)[0])


@pytest.mark.parametrize("how", ["provider", "providers"])
def test_an_aws_provider_alone_takes_the_inference_component_with_it(
    record: Callable[..., Registered], image_uri: str, how: str
) -> None:
    def program() -> None:
        west = aws.Provider("west", region="us-west-2", profile="ops")
        opts = pulumi.ResourceOptions(provider=west) if how == "provider" else pulumi.ResourceOptions(providers=[west])
        ScaleToZeroEndpoint("acme", {"image_uri": image_in("us-west-2")}, opts=opts)

    reg = record(program, config={"aws:region": "eu-west-1", "aws-native:region": "eu-west-1"})
    found = regions(reg, {"aws:region": "eu-west-1", "aws-native:region": "eu-west-1"})
    assert len(found) == 10 and set(found.values()) == {"us-west-2"}, found
    native = provider_of(reg, "acme-ic")
    assert native.type == "pulumi:providers:aws-native"
    assert (native.inputs["region"], native.inputs["profile"]) == ("us-west-2", "ops")
    assert provider_of(reg, "acme-endpoint").name == "west"
    assert splits(reg.resources, {}) == []


def test_the_assumed_role_follows_into_the_derived_provider(record: Callable[..., Registered], image_uri: str) -> None:
    role = "arn:aws:iam::210987654321:role/deployer"

    def program() -> None:
        other = aws.Provider("other", region="eu-central-1", assume_roles=[{"role_arn": role}])
        ScaleToZeroEndpoint(
            "acme", {"image_uri": image_in("eu-central-1")}, opts=pulumi.ResourceOptions(provider=other)
        )

    reg = record(program)
    native = provider_of(reg, "acme-ic")
    assert native.inputs["assumeRole"] == '{"role_arn": "' + role + '"}'
    assert native.inputs["region"] == "eu-central-1"


def test_a_chain_of_roles_is_refused(record: Callable[..., Registered], image_uri: str) -> None:
    def program() -> None:
        chain: list[aws.ProviderAssumeRoleArgsDict] = [
            {"role_arn": "arn:aws:iam::1:role/a"},
            {"role_arn": "arn:aws:iam::2:role/b"},
        ]
        p = aws.Provider("chained", region="eu-central-1", assume_roles=chain)
        ScaleToZeroEndpoint("acme", {"image_uri": image_uri}, opts=pulumi.ResourceOptions(provider=p))

    with pytest.raises(Exception, match="chains 2 assumed roles"):
        record(program)


def test_a_provider_pair_is_used_as_given(record: Callable[..., Registered], image_uri: str) -> None:
    def program() -> None:
        west, west_native = provider_pair("west", region="us-west-2", role_arn="arn:aws:iam::1:role/x")
        ScaleToZeroEndpoint("acme", {"image_uri": image_in("us-west-2")}, opts=pulumi.ResourceOptions(provider=west))
        ScaleToZeroEndpoint(
            "globex", {"image_uri": image_in("us-west-2")}, opts=pulumi.ResourceOptions(providers=[west, west_native])
        )

    reg = record(program)
    assert len(reg.of_type("pulumi:providers:aws-native")) == 1, "no second aws-native provider is derived"
    assert provider_of(reg, "acme-ic").name == provider_of(reg, "globex-ic").name == "west-native"
    assert set(regions(reg).values()) == {"us-west-2"}


def test_a_matching_pair_passes_and_a_mismatch_is_refused_with_the_fix(
    record: Callable[..., Registered], image_uri: str
) -> None:
    def program(native_region: str) -> Callable[[], None]:
        def run() -> None:
            a = aws.Provider("a", region="us-west-2")
            n = aws_native.Provider("n", region=native_region)
            ScaleToZeroEndpoint(
                "acme", {"image_uri": image_in("us-west-2")}, opts=pulumi.ResourceOptions(providers=[a, n])
            )

        return run

    assert set(regions(record(program("us-west-2"))).values()) == {"us-west-2"}
    with pytest.raises(ValueError, match="region is") as e:
        record(program("us-east-1"))
    message = str(e.value)
    assert "ScaleToZeroEndpoint 'acme'" in message
    assert "region is 'us-west-2' but the aws-native provider's is 'us-east-1'" in message
    assert "providers=[aws_provider, aws_native_provider]" in message


def test_an_aws_native_provider_alone_is_refused(record: Callable[..., Registered], image_uri: str) -> None:
    def program() -> None:
        n = aws_native.Provider("n", region="us-west-2")
        ScaleToZeroEndpoint("acme", {"image_uri": image_uri}, opts=pulumi.ResourceOptions(provider=n))

    with pytest.raises(ProviderMismatchError, match="aws-native provider but no aws provider"):
        record(program)


@pytest.mark.parametrize(
    ("config", "text"),
    [
        ({"aws:region": "eu-west-1"}, "aws:region is 'eu-west-1' but aws-native:region is None"),
        ({"aws:region": "eu-west-1", "aws-native:region": "us-east-1"}, "aws-native:region is 'us-east-1'"),
        (
            {"aws:region": "eu-west-1", "aws-native:region": "eu-west-1", "aws:profile": "prod"},
            "aws:profile is 'prod' but aws-native:profile is None",
        ),
    ],
)
def test_default_providers_must_agree_in_config(
    record: Callable[..., Registered], image_uri: str, config: dict[str, str], text: str
) -> None:
    with pytest.raises(ProviderMismatchError, match="set `aws-native:") as e:
        record(lambda: ScaleToZeroEndpoint("acme", {"image_uri": image_uri}), config=config)
    assert text in str(e.value)


def test_default_providers_that_agree_deploy_together(record: Callable[..., Registered], image_uri: str) -> None:
    config = {"aws:region": "eu-west-1", "aws-native:region": "eu-west-1"}
    reg = record(lambda: ScaleToZeroEndpoint("acme", {"image_uri": image_uri}), config=config)
    assert set(regions(reg, config).values()) == {"eu-west-1"}
    assert not [r for r in reg.resources if r.provider], "default providers: nothing explicit registered"


def test_plan_placement_finds_a_split_made_outside_the_component(record: Callable[..., Registered]) -> None:
    class Tenant(pulumi.ComponentResource):
        def __init__(self) -> None:
            super().__init__("test:index:Tenant", "split")
            west = aws.Provider("west", region="us-west-2", opts=pulumi.ResourceOptions(parent=self))
            aws.sagemaker.Endpoint(
                "ep", endpoint_config_name="c", opts=pulumi.ResourceOptions(parent=self, provider=west)
            )
            aws_native.sagemaker.InferenceComponent(
                "ic", endpoint_name="ep", specification={}, opts=pulumi.ResourceOptions(parent=self)
            )

    config = {"aws-native:region": "eu-west-1"}
    reg = record(Tenant, config=config)
    assert regions(reg, config) == {"ep": "us-west-2", "ic": "eu-west-1"}
    (message,) = splits(reg.resources, config)
    assert message.startswith("split is split across regions")
    assert "us-west-2: ep (aws provider west)" in message and "eu-west-1: ic (default aws-native)" in message


def test_stack_config_names_the_missing_aws_native_region() -> None:
    with pytest.raises(StackConfigError) as e:
        parse_stack_config("prod", {"sagezero:tenants": ["a"], "aws:region": "eu-west-1"})
    assert "aws-native:region: None differs from aws:region 'eu-west-1'" in str(e.value)
    assert "set `aws-native:region: eu-west-1`" in str(e.value)


def test_shipped_stacks_pin_both_providers_to_one_region() -> None:
    for stack in ("dev", "prod"):
        text = (ROOT / f"Pulumi.{stack}.yaml").read_text()
        region = next(line.split(":", 2)[2].strip() for line in text.splitlines() if "aws:region:" in line)
        assert f"aws-native:region: {region}" in text, stack


def test_plan_shows_regions_and_fails_on_a_split(tmp_path: Path) -> None:
    shutil.copy(ROOT / "Pulumi.yaml", tmp_path / "Pulumi.yaml")
    (tmp_path / "__main__.py").write_text(
        "import pulumi, pulumi_aws as aws, pulumi_aws_native as an\n"
        "class T(pulumi.ComponentResource):\n"
        "    def __init__(self):\n"
        "        super().__init__('test:index:T', 'acme')\n"
        "        w = aws.Provider('west', region='us-west-2', opts=pulumi.ResourceOptions(parent=self))\n"
        "        aws.sagemaker.Endpoint('ep', endpoint_config_name='c', opts=pulumi.ResourceOptions(parent=self, provider=w))\n"
        "        an.sagemaker.InferenceComponent('ic', endpoint_name='ep', specification={}, "
        "opts=pulumi.ResourceOptions(parent=self))\n"
        "T()\n"
    )
    (tmp_path / "Pulumi.s.yaml").write_text("config:\n  sagezero:tenants: [acme]\n")
    proc = run_cli_at("plan", "--stack", "s", "--project-dir", str(tmp_path), "--no-policy")  # in process
    assert proc.returncode == 1, proc.stderr
    assert "ep @ us-west-2" in proc.stdout
    assert "SPLIT acme is split across regions" in proc.stdout
    assert "(from the environment): ic (default aws-native)" in proc.stdout


def test_multi_region_example_keeps_each_tenant_in_its_region(record: Callable[..., Registered]) -> None:
    import runpy

    reg = record(
        lambda: runpy.run_path(str(ROOT / "examples" / "multi-region" / "__main__.py"), run_name="__main__"),
        project="serving-multi-region",
        preview=False,
    )
    by_tenant: dict[str, set[str | None]] = {}
    for tenant, _r, p in placements(reg.resources, {}):
        by_tenant.setdefault(tenant, set()).add(p.region)
    assert by_tenant == {"ranker-eu": {"eu-west-1"}, "ranker-us": {"us-east-1"}}
    assert splits(reg.resources, {}) == []
    assert reg.exports["us"]["region"] == "us-east-1"


@given(st.sampled_from(["eu-west-1", "us-east-1", None]), st.sampled_from(["eu-west-1", "us-east-1", None]))
def test_stack_config_refuses_exactly_the_differing_regions(aws_region: str | None, native: str | None) -> None:
    values: dict[str, Any] = {"sagezero:tenants": ["a"]}
    values |= {k: v for k, v in {"aws:region": aws_region, "aws-native:region": native}.items() if v}
    if aws_region == native:
        assert parse_stack_config("s", values).region == aws_region
    else:
        with pytest.raises(StackConfigError, match="aws-native:region"):
            parse_stack_config("s", values)


def test_serverless_has_no_aws_native_child_so_nothing_is_derived(
    record: Callable[..., Registered], image_uri: str
) -> None:
    def program() -> None:
        west = aws.Provider("west", region="us-west-2")
        args: dict[str, Any] = {"image_uri": image_in("us-west-2"), "mode": "serverless"}
        ScaleToZeroEndpoint("acme", args, opts=pulumi.ResourceOptions(provider=west))  # type: ignore[arg-type]

    reg = record(program, config={"aws:region": "eu-west-1"})
    assert not reg.of_type("pulumi:providers:aws-native")
    assert set(regions(reg).values()) == {"us-west-2"}


@pytest.mark.parametrize(
    ("aws_args", "native_args", "text"),
    [
        (
            {"assume_roles": [{"role_arn": "arn:aws:iam::111111111111:role/x"}]},
            {"assume_role": {"role_arn": "arn:aws:iam::222222222222:role/x"}},
            "assumes role arn:aws:iam::111111111111:role/x",
        ),
        ({"access_key": "AKIA1", "secret_key": "s1"}, {"access_key": "AKIA2", "secret_key": "s2"}, "access keys"),
    ],
)
def test_a_pair_built_apart_is_refused_when_the_aws_provider_has_its_own_identity(
    record: Callable[..., Registered], image_uri: str, aws_args: dict[str, Any], native_args: dict[str, Any], text: str
) -> None:
    def program() -> None:
        a = aws.Provider("a", region="us-west-2", **aws_args)
        n = aws_native.Provider("n", region="us-west-2", **native_args)
        ScaleToZeroEndpoint("acme", {"image_uri": image_in("us-west-2")}, opts=pulumi.ResourceOptions(providers=[a, n]))

    with pytest.raises(ValueError, match="another account") as e:
        record(program)
    assert "ScaleToZeroEndpoint 'acme'" in str(e.value) and text in str(e.value)
    assert "provider_pair()" in str(e.value) and "pass only the aws provider" in str(e.value)


ROLE = "arn:aws:iam::210987654321:role/deploy"


@pytest.mark.parametrize(
    "config",
    [
        {"aws:assumeRoles": f'[{{"roleArn": "{ROLE}"}}]'},
        {"aws-native:assumeRole": f'{{"roleArn": "{ROLE}"}}'},
        {
            "aws:assumeRoles": f'[{{"roleArn": "{ROLE}"}}]',
            "aws-native:assumeRole": '{"roleArn": "arn:aws:iam::1:role/o"}',
        },
    ],
)
def test_default_providers_must_assume_the_same_role(
    record: Callable[..., Registered], image_uri: str, config: dict[str, str]
) -> None:
    config = {"aws:region": "eu-west-1", "aws-native:region": "eu-west-1", **config}
    with pytest.raises(ProviderMismatchError, match="another identity"):
        record(lambda: ScaleToZeroEndpoint("acme", {"image_uri": image_uri}), config=config)
    with pytest.raises(StackConfigError, match=r"aws-native:assumeRole: .* differs from the role"):
        parse_stack_config("s", {"sagezero:tenants": ["a"], **config})
    same = {
        **config,
        "aws:assumeRoles": f'[{{"roleArn": "{ROLE}"}}]',
        "aws-native:assumeRole": f'{{"roleArn": "{ROLE}"}}',
    }
    record(lambda: ScaleToZeroEndpoint("acme", {"image_uri": image_uri}), config=same)
    parse_stack_config("s", {"sagezero:tenants": ["a"], **same})


def test_stack_config_compares_roles_as_a_stack_file_writes_them() -> None:
    values: dict[str, Any] = {
        "sagezero:tenants": ["a"],
        "aws:region": "eu-west-1",
        "aws-native:region": "eu-west-1",
        "aws:assumeRoles": [{"roleArn": ROLE}],
    }
    with pytest.raises(StackConfigError) as e:
        parse_stack_config("s", values)
    assert f"set `aws-native:assumeRole: {{roleArn: {ROLE}}}`" in str(e.value)
    parse_stack_config("s", {**values, "aws-native:assumeRole": {"roleArn": ROLE}})


def test_plan_reports_a_tenant_split_across_accounts(record: Callable[..., Registered]) -> None:
    class Tenant(pulumi.ComponentResource):
        def __init__(self) -> None:
            super().__init__("test:index:Tenant", "split")
            a = aws.Provider("a", region="us-west-2", assume_roles=[{"role_arn": "arn:aws:iam::111111111111:role/x"}])
            n = aws_native.Provider(
                "n", region="us-west-2", assume_role={"role_arn": "arn:aws:iam::222222222222:role/x"}
            )
            aws.sagemaker.Endpoint("ep", endpoint_config_name="c", opts=pulumi.ResourceOptions(parent=self, provider=a))
            aws_native.sagemaker.InferenceComponent(
                "ic", endpoint_name="ep", specification={}, opts=pulumi.ResourceOptions(parent=self, provider=n)
            )

    reg = record(Tenant)
    (message,) = splits(reg.resources, {})
    assert message.startswith("split is split across identities (accounts)")
    assert "arn:aws:iam::111111111111:role/x: ep" in message and "arn:aws:iam::222222222222:role/x: ic" in message


def test_plan_groups_tenants_under_a_fleet_component_by_endpoint(
    record: Callable[..., Registered], image_uri: str
) -> None:
    class Fleet(pulumi.ComponentResource):
        def __init__(self) -> None:
            super().__init__("test:index:Fleet", "fleet")
            for name, region in (("acme", "us-west-2"), ("globex", "eu-west-1")):
                p = aws.Provider(name, region=region, opts=pulumi.ResourceOptions(parent=self))
                ScaleToZeroEndpoint(
                    name, {"image_uri": image_in(region)}, opts=pulumi.ResourceOptions(parent=self, provider=p)
                )

    reg = record(Fleet)
    assert splits(reg.resources, {}) == []
    assert {t for t, _r, _p in placements(reg.resources, {})} == {"acme", "globex"}


def test_stack_config_names_the_aws_key_when_only_aws_native_is_set() -> None:
    with pytest.raises(StackConfigError) as e:
        parse_stack_config("s", {"sagezero:tenants": ["a"], "aws-native:region": "eu-west-1"})
    assert "set `aws:region: eu-west-1`" in str(e.value) and "None" not in str(e.value).split("aws:region")[-1]


def test_an_all_serverless_stack_needs_no_aws_native_region() -> None:
    values = {"sagezero:tenants": ["a"], "aws:region": "eu-west-1", "sagezero:defaults": {"mode": "serverless"}}
    assert parse_stack_config("s", values).region == "eu-west-1"
    with pytest.raises(StackConfigError, match="aws-native:region"):
        parse_stack_config("s", {**values, "sagezero:tenants": ["a", {"name": "b", "mode": "scale-to-zero"}]})


def test_plan_takes_secure_model_data_url_and_region_as_unknown(record: Callable[..., Registered]) -> None:
    from sagezero.plan.engine import conceal
    from sagezero.program import declare

    secure = {"secure": "v1:abc"}
    values, secret_keys = conceal(
        {
            "aws:region": "us-east-1",
            "aws-native:region": secure,
            "sagezero:image": {"uri": "123456789012.dkr.ecr.us-east-1.amazonaws.com/x:1"},
            "sagezero:defaults": {"instanceType": "ml.c5.xlarge", "modelDataUrl": secure},
            "sagezero:tenants": [{"name": "a", "modelDataUrl": secure}],
        }
    )
    config = parse_stack_config("s", values)  # neither the URL nor the region is judged by the placeholder
    reg = record(lambda: declare(config), stack="s", config=values, secret_keys=secret_keys)
    assert splits(reg.resources, values) == []
    ic = next(p for _t, r, p in placements(reg.resources, values) if r.type == IC)
    assert ic.where.startswith("(a secret")


def test_an_image_in_another_region_is_refused_with_the_fix(record: Callable[..., Registered]) -> None:
    config = {"aws:region": "us-east-1", "aws-native:region": "us-east-1"}
    with pytest.raises(ValueError, match="is in ECR in eu-west-1 but the endpoint deploys to us-east-1") as e:
        record(lambda: ScaleToZeroEndpoint("acme", {"image_uri": image_in("eu-west-1")}), config=config)
    assert "ScaleToZeroEndpoint 'acme'" in str(e.value) and "push (or replicate) the image to ECR in us-east-1" in str(
        e.value
    )

    def explicit() -> None:
        west = aws.Provider("west", region="us-west-2")
        args: dict[str, Any] = {"image_uri": image_in("eu-west-1"), "mode": "serverless"}
        ScaleToZeroEndpoint("acme", args, opts=pulumi.ResourceOptions(provider=west))  # type: ignore[arg-type]

    with pytest.raises(Exception, match="is in ECR in eu-west-1 but the endpoint deploys to us-west-2"):
        record(explicit, config=config)
    record(lambda: ScaleToZeroEndpoint("acme", {"image_uri": image_in("us-east-1")}), config=config)


def test_stack_config_refuses_an_image_in_another_region() -> None:
    values: dict[str, Any] = {
        "sagezero:tenants": ["a"],
        "aws:region": "us-east-1",
        "aws-native:region": "us-east-1",
        "sagezero:image": {"uri": image_in("eu-west-1")},
    }
    with pytest.raises(StackConfigError, match=r"sagezero:image.uri: the image is in ECR in eu-west-1"):
        parse_stack_config("s", values)
    parse_stack_config("s", {**values, "sagezero:image": {"uri": image_in("us-east-1")}})
