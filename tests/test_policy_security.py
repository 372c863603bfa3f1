"""Network rules an org opts into: baseline passes, then one field mutated gives exactly one violation."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

pytest.importorskip("pulumi_policy")

from sagezero.components import ScaleToZeroEndpoint
from sagezero.engine_wiring import ENGINE_UNKNOWN, EngineResource
from sagezero.plan.engine import evaluate
from sagezero.policies.runner import Verdict
from sagezero.policies.runner import evaluate as run_pack
from tests.policy_fixtures import IMAGE, KMS, mutate

ON = {"model-in-vpc": "mandatory", "model-network-isolation": "advisory"}
SECURE = {"vpc_subnet_ids": ["subnet-0a1b2c3d"], "vpc_security_group_ids": ["sg-0a1b2c3d"], "network_isolation": True}


def baseline(**extra: Any) -> list[EngineResource]:
    args: dict[str, Any] = {"image_uri": IMAGE, "kms_key_arn": KMS, "tags": {"cost-center": "ml"}, **SECURE, **extra}
    rec = evaluate(lambda: ScaleToZeroEndpoint("acme", args), stack="dev", region="eu-west-1")  # type: ignore[arg-type]
    return [r.engine() for r in rec.resources if r.custom]


def verdicts(resources: list[EngineResource], config: dict[str, Any] | None = None) -> list[Verdict]:
    return run_pack(resources, ON if config is None else config).verdicts


def only(found: list[Verdict], policy: str, level: str, *text: str) -> None:
    assert [v.policy for v in found] == [policy], [v.message for v in found]
    assert found[0].level == level
    for t in text:
        assert t in found[0].message, found[0].message


def test_a_model_in_a_vpc_with_network_isolation_passes() -> None:
    assert verdicts(baseline()) == []


def test_the_rules_ship_disabled() -> None:
    assert verdicts(baseline(vpc_subnet_ids=[], vpc_security_group_ids=[], network_isolation=False), {}) == []


@pytest.mark.parametrize(
    "change",
    [
        lambda p: p.pop("vpcConfig"),
        lambda p: p["vpcConfig"].update(subnets=[]),
        lambda p: p["vpcConfig"].pop("securityGroupIds"),
    ],
)
def test_a_model_outside_the_vpc_is_named(change: Callable[[dict[str, Any]], Any]) -> None:
    found = verdicts(mutate(baseline(), "acme-model", change))
    only(found, "model-in-vpc", "mandatory", "'acme-model'", "vpcSubnetIds and vpcSecurityGroupIds")


@pytest.mark.parametrize("value", [False, None])
def test_a_model_without_network_isolation_is_named(value: Any) -> None:
    found = verdicts(mutate(baseline(), "acme-model", lambda p: p.update(enableNetworkIsolation=value)))
    only(found, "model-network-isolation", "advisory", "networkIsolation: true")


def test_unknown_values_in_a_preview_make_the_rules_not_applicable() -> None:
    resources = mutate(baseline(), "acme-model", lambda p: p.update(vpcConfig=ENGINE_UNKNOWN))
    report = run_pack(resources, ON)
    assert report.verdicts == []
    assert any(n.policy == "model-in-vpc" for n in report.not_judged)


def test_aws_native_models_are_judged_too() -> None:
    props = {
        "executionRoleArn": "arn:aws:iam::123456789012:role/r",
        "enableNetworkIsolation": True,
        "tags": [{"key": "cost-center", "value": "ml"}],
    }
    model = EngineResource(
        "aws-native:sagemaker:Model", "urn:pulumi:dev::p::aws-native:sagemaker:Model::m", props, {}, "m"
    )
    only(verdicts([model]), "model-in-vpc", "mandatory", "'m'")
