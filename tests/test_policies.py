"""Every rule in process: a compliant baseline passes, and each guarded field, mutated alone, gives exactly its violation."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

pytest.importorskip("pulumi_policy")

from sagezero.engine_wiring import ENGINE_UNKNOWN, EngineResource
from sagezero.policies.config_schema import PolicyConfigError, resolve
from sagezero.policies.runner import Verdict, evaluate
from sagezero.values import SECRET_SIG
from tests.policy_fixtures import IMAGE, KMS, component_baseline, mutate, native_baseline, unlink


@pytest.fixture(scope="module")
def ours() -> list[EngineResource]:
    return component_baseline()


@pytest.fixture(scope="module")
def native() -> list[EngineResource]:
    return native_baseline()


def verdicts(resources: list[EngineResource], config: dict[str, Any] | None = None) -> list[Verdict]:
    return evaluate(resources, config).verdicts


def only(resources: list[EngineResource], policy: str, where: str, text: str, level: str = "mandatory") -> Verdict:
    found = verdicts(resources)
    assert len(found) == 1, "\n".join(f"{v.policy}: {v.message}" for v in found) or "no violation"
    v = found[0]
    assert (v.policy, v.level) == (policy, level), v
    assert v.urn is not None and v.urn.endswith(f"::{where}"), v.urn
    assert text in v.message, v.message
    return v


def test_our_component_passes_every_policy(ours: list[EngineResource]) -> None:
    report = evaluate(ours)
    assert report.policies_run == 15
    assert report.verdicts == []


def test_hand_wired_aws_native_stack_passes(native: list[EngineResource]) -> None:
    assert verdicts(native) == []


# ---- endpoint-min-instance-zero ------------------------------------------------------------------


def _variant(p: dict[str, Any]) -> dict[str, Any]:
    v: dict[str, Any] = p["productionVariants"][0]
    return v


@pytest.mark.parametrize(
    ("change", "text"),
    [
        (lambda p: _variant(p)["managedInstanceScaling"].update(minInstanceCount=1), "keeps MinInstanceCount 1"),
        (lambda p: _variant(p)["managedInstanceScaling"].update(status="DISABLED"), "status DISABLED"),
        (lambda p: _variant(p).pop("managedInstanceScaling"), "without managed instance scaling"),
    ],
)
def test_endpoint_min_instance_zero(
    ours: list[EngineResource], change: Callable[[dict[str, Any]], Any], text: str
) -> None:
    v = only(mutate(ours, "acme-config", change), "endpoint-min-instance-zero", "acme-config", text)
    assert "Fix:" in v.message


def test_endpoint_min_instance_zero_on_aws_native(native: list[EngineResource]) -> None:
    bad = mutate(native, "config", lambda p: _variant(p)["managedInstanceScaling"].update(minInstanceCount=2.0))
    only(bad, "endpoint-min-instance-zero", "config", "keeps MinInstanceCount 2")


def test_classic_variant_with_a_model_is_left_alone(ours: list[EngineResource]) -> None:
    def classic(p: dict[str, Any]) -> None:
        _variant(p).pop("managedInstanceScaling")
        _variant(p)["modelName"] = "m"

    assert [v.policy for v in verdicts(mutate(ours, "acme-config", classic))] == []


# ---- inference-component-scalable-target-min-zero ----------------------------------------------


def test_scalable_target_min_zero(ours: list[EngineResource]) -> None:
    bad = mutate(ours, "acme-target", lambda p: p.update(minCapacity=1))
    only(bad, "inference-component-scalable-target-min-zero", "acme-target", "MinCapacity 1")


def test_scalable_target_min_zero_native_float(native: list[EngineResource]) -> None:
    bad = mutate(native, "target", lambda p: p.update(minCapacity=1.0))
    only(bad, "inference-component-scalable-target-min-zero", "target", "MinCapacity 1")


# ---- scale-from-zero-alarm ------------------------------------------------------------------------


def _steps(p: dict[str, Any]) -> list[dict[str, Any]]:
    steps: list[dict[str, Any]] = p["stepScalingPolicyConfiguration"]["stepAdjustments"]
    return steps


@pytest.mark.parametrize(
    ("name", "change", "where", "kind"),
    [
        ("acme-wake-from-zero", lambda p: "drop", "acme-target", "[no-step-policy]"),
        (
            "acme-wake-from-zero",
            lambda p: _steps(p)[0].update(scalingAdjustment=0),
            "acme-wake-from-zero",
            "[adds-nothing]",
        ),
        (
            "acme-wake-from-zero",
            lambda p: _steps(p)[0].update(metricIntervalLowerBound="1"),
            "acme-wake-from-zero",
            "[uncovered-breach]",
        ),
        (
            "acme-wake-from-zero",
            lambda p: p["stepScalingPolicyConfiguration"].update(adjustmentType="PercentChangeInCapacity"),
            "acme-wake-from-zero",
            "[adds-nothing]",
        ),
        ("acme-no-capacity", lambda p: "drop", "acme-ic", "[no-alarm]"),
        ("acme-no-capacity", lambda p: p.update(metricName="Invocations"), "acme-no-capacity", "[wrong-metric]"),
        ("acme-no-capacity", lambda p: p.update(namespace="AWS/EC2"), "acme-no-capacity", "[wrong-metric]"),
        ("acme-no-capacity", lambda p: p.update(threshold=5), "acme-no-capacity", "[misses-first-failure]"),
    ],
)
def test_scale_from_zero_alarm_names_the_broken_link(
    ours: list[EngineResource], name: str, change: Callable[[dict[str, Any]], Any], where: str, kind: str
) -> None:
    v = only(mutate(ours, name, change), "scale-from-zero-alarm", where, kind)
    assert "acme-dev-ic" in v.message


def test_alarm_on_another_inference_component(ours: list[EngineResource]) -> None:
    bad = unlink(mutate(ours, "acme-no-capacity", lambda p: p.update(dimensions={"InferenceComponentName": "other"})),
                 "acme-no-capacity", "dimensions")  # fmt: skip
    only(bad, "scale-from-zero-alarm", "acme-no-capacity", "[wrong-dimension]")


def test_alarm_not_wired_to_the_step_policy(ours: list[EngineResource]) -> None:
    bad = unlink(
        mutate(ours, "acme-no-capacity", lambda p: p.update(alarmActions=[])), "acme-no-capacity", "alarmActions"
    )
    v = only(bad, "scale-from-zero-alarm", "acme-no-capacity", "[not-wired]")
    assert "step policy's ARN" in v.message


def test_native_alarm_links_by_value(native: list[EngineResource]) -> None:
    only(
        mutate(native, "alarm", lambda p: p.update(alarmActions=["arn:aws:sns:x"])),
        "scale-from-zero-alarm",
        "alarm",
        "[not-wired]",
    )
    only(
        mutate(native, "alarm", lambda p: p.update(dimensions=[{"name": "InferenceComponentName", "value": "x"}])),
        "scale-from-zero-alarm",
        "alarm",
        "[wrong-dimension]",
    )


def test_component_that_cannot_reach_zero_needs_no_alarm(ours: list[EngineResource]) -> None:
    # min 1 is its own violation; the wake path is then not required.
    bad = mutate(mutate(ours, "acme-target", lambda p: p.update(minCapacity=1)), "acme-no-capacity", lambda p: "drop")
    assert [v.policy for v in verdicts(bad)] == ["inference-component-scalable-target-min-zero"]


# ---- scale-to-zero-target-tracking -----------------------------------------------------------


def test_target_tracking_required(ours: list[EngineResource]) -> None:
    only(mutate(ours, "acme-target-tracking", lambda p: "drop"), "scale-to-zero-target-tracking", "acme-target",
         "no target-tracking policy")  # fmt: skip


# ---- scaling-ceilings -----------------------------------------------------------------------------


def _long_step_cooldown(resources: list[EngineResource]) -> list[EngineResource]:
    """More copies would also (rightly) draw step-cooldown-covers-cold-start; keep that rule quiet here."""
    return mutate(resources, "acme-wake-from-zero", lambda p: p["stepScalingPolicyConfiguration"].update(cooldown=300))


def test_ceilings(ours: list[EngineResource]) -> None:
    more = mutate(_long_step_cooldown(ours), "acme-target", lambda p: p.update(maxCapacity=11))
    only(more, "scaling-ceilings", "acme-target", "11 copies")
    bad = mutate(ours, "acme-config", lambda p: _variant(p)["managedInstanceScaling"].update(maxInstanceCount=12))
    only(bad, "scaling-ceilings", "acme-config", "allows 12 instances")


def test_ceilings_follow_config(ours: list[EngineResource]) -> None:
    found = verdicts(ours, {"scaling-ceilings": {"maxCopies": 1, "maxInstanceCount": 1}})
    assert found == []
    bad = mutate(_long_step_cooldown(ours), "acme-target", lambda p: p.update(maxCapacity=2))
    assert [v.policy for v in verdicts(bad, {"scaling-ceilings": {"maxCopies": 1}})] == ["scaling-ceilings"]


# ---- advisory rules -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("name", "change", "policy", "text"),
    [
        ("acme-config", lambda p: _variant(p).update(instanceType="ml.p5.48xlarge"), "instance-type-allowlist", "ml.p5.48xlarge"),
        ("acme-model", lambda p: p["tags"].pop("cost-center"), "required-tags", "cost-center"),
        ("acme-ic", lambda p: p.update(tags=[]), "required-tags", "cost-center"),
        ("image-repo", lambda p: p.update(imageTagMutability="MUTABLE"), "ecr-scan-and-immutable-tags", "overwritten"),
        ("image-repo", lambda p: p.update(imageScanningConfiguration={"scanOnPush": False}), "ecr-scan-and-immutable-tags", "scan"),
        ("acme-config", lambda p: p.pop("kmsKeyArn"), "endpoint-config-kms-key", "no KMS key"),
        ("acme-config", lambda p: _variant(p).pop("containerStartupHealthCheckTimeoutInSeconds"), "explicit-container-startup-timeout", "default"),
        ("acme-ic", lambda p: p["specification"].pop("startupParameters"), "explicit-container-startup-timeout", "startupParameters"),
        ("acme-config", lambda p: _variant(p).pop("routingConfigs"), "least-outstanding-requests-routing", "RANDOM"),
        ("acme-exec-policy", lambda p: p.update(policy='{"Statement": [{"Effect": "Allow", "Action": "s3:*", "Resource": "*"}]}'),
         "execution-role-least-privilege", "'s3:*'"),
        ("acme-exec-role", lambda p: p.update(managedPolicyArns=["arn:aws:iam::aws:policy/AdministratorAccess"]),
         "execution-role-least-privilege", "AdministratorAccess"),
    ],
)  # fmt: skip
def test_advisory_rules(
    ours: list[EngineResource], name: str, change: Callable[[dict[str, Any]], Any], policy: str, text: str
) -> None:
    found = verdicts(mutate(ours, name, change))
    assert [(v.policy, v.level) for v in found] == [(policy, "advisory")], found
    assert text in found[0].message


@pytest.mark.parametrize(("name", "key"), [("acme-exec-policy", "policy"), ("acme-exec-role", "managedPolicyArns")])
def test_a_secret_or_unknown_role_policy_is_not_judged_never_passed(
    ours: list[EngineResource], name: str, key: str
) -> None:
    """A secret (export without --show-secrets) or preview-unknown policy document could grant anything:
    `check --strict` must fail on it instead of counting it least privilege."""
    secret = {SECRET_SIG: "1b47061264138c4ac30d75fd1eb44270", "ciphertext": "v1:x"}
    hidden_values: list[Any] = [secret, ENGINE_UNKNOWN]
    for hidden in hidden_values:

        def hide(p: dict[str, Any], h: Any = hidden) -> None:
            p[key] = h

        report = evaluate(mutate(ours, name, hide))
        assert [n for n in report.not_judged if n.policy == "execution-role-least-privilege"], report.not_judged
        assert [v for v in report.verdicts if v.policy == "execution-role-least-privilege"] == []


def test_serverless_provisioned_concurrency_is_a_standing_cost(native: list[EngineResource]) -> None:
    def serverless(p: dict[str, Any]) -> None:
        p["productionVariants"] = [{"variantName": "v", "modelName": "m", "serverlessConfig": {"memorySizeInMb": 2048.0,
                                   "maxConcurrency": 20.0, "provisionedConcurrency": 10.0}}]  # fmt: skip

    elsewhere = mutate(native, "ic", lambda p: p.update(endpointName="another-endpoint"))  # components need real time
    found = verdicts(mutate(elsewhere, "config", serverless))
    assert [v.policy for v in found] == ["serverless-provisioned-concurrency"]
    assert "provisions 10 concurrent" in found[0].message


def test_step_cooldown_covers_a_cold_start_when_copies_can_exceed_one(native: list[EngineResource]) -> None:
    short = mutate(native, "wake", lambda p: p["stepScalingPolicyConfiguration"].update(cooldown=60.0))
    v = only(short, "step-cooldown-covers-cold-start", "wake", "Cooldown 60 s while up to 2 copies", "advisory")
    assert "Cooldown >= 300 s" in v.message
    assert verdicts(mutate(short, "target", lambda p: p.update(maxCapacity=1.0))) == [], "one copy cannot overshoot"
    assert verdicts(short, {"step-cooldown-covers-cold-start": {"minStepCooldownS": 60}}) == []


def test_component_with_more_copies_and_the_seeds_cooldown_is_advised() -> None:
    from sagezero.components import ScaleToZeroEndpoint
    from sagezero.plan.engine import evaluate as run_program_fn

    def found(step_cooldown_s: int) -> list[str]:
        def run() -> None:
            ScaleToZeroEndpoint("acme", {"image_uri": IMAGE, "kms_key_arn": KMS, "tags": {"cost-center": "ml"},
                                         "max_copies": 3, "max_instance_count": 3, "step_cooldown_s": step_cooldown_s})  # fmt: skip

        rec = run_program_fn(run, stack="dev", region="eu-west-1")
        return [v.policy for v in verdicts([r.engine() for r in rec.resources if r.custom])]

    assert found(60) == ["step-cooldown-covers-cold-start"], "the seed's 60 s with three copies"
    assert found(300) == []


def test_enforcement_levels_come_from_config(ours: list[EngineResource]) -> None:
    bad = mutate(ours, "acme-config", lambda p: p.pop("kmsKeyArn"))
    assert [v.level for v in verdicts(bad, {"endpoint-config-kms-key": "mandatory"})] == ["mandatory"]
    assert verdicts(bad, {"endpoint-config-kms-key": {"enforcementLevel": "disabled"}}) == []
    opt_in_off = {"model-in-vpc": "disabled", "model-network-isolation": "disabled"}  # `all` turns them on too
    assert [v.level for v in verdicts(bad, {"all": "mandatory", **opt_in_off})] == ["mandatory"]


# ---- odd input never crashes ---------------------------------------------------------------------


def test_unknown_values_during_preview_are_listed_not_judged(ours: list[EngineResource]) -> None:
    bad = mutate(
        ours, "acme-config", lambda p: _variant(p)["managedInstanceScaling"].update(minInstanceCount=ENGINE_UNKNOWN)
    )
    bad = mutate(bad, "acme-target", lambda p: p.update(minCapacity=ENGINE_UNKNOWN))
    report = evaluate(bad)
    assert report.verdicts == []
    reasons = {(n.policy, n.reason) for n in report.not_judged}
    assert ("endpoint-min-instance-zero", "productionVariants[0] (AllTraffic).managedInstanceScaling.minInstanceCount: "
            "not known until deployment") in reasons  # fmt: skip
    assert ("inference-component-scalable-target-min-zero", "minCapacity: not known until deployment") in reasons


def test_missing_and_malformed_fields_do_not_crash(ours: list[EngineResource]) -> None:
    bad = mutate(ours, "acme-config", lambda p: p.update(productionVariants="garbage"))
    bad = mutate(bad, "acme-no-capacity", lambda p: p.update(dimensions=42, alarmActions=None))
    bad = mutate(bad, "acme-exec-policy", lambda p: p.update(policy="{not json"))
    report = evaluate(bad)
    found = {(v.policy, v.message[1 : v.message.index("]")]) for v in report.verdicts}
    assert found == {
        ("endpoint-min-instance-zero", "aws-rejects"),  # no production variants
        ("scale-from-zero-alarm", "no-variant"),  # the component's variant is not in it
        ("scale-from-zero-alarm", "not-wired"),  # actions None: the alarm fires nothing
    }
    assert report.not_judged == []


def test_bad_policy_config_is_rejected_clearly() -> None:
    with pytest.raises(PolicyConfigError, match=r"scaling-ceilings.maxCopies: 'ten' is not of type 'integer'"):
        resolve("scaling-ceilings", {"maxCopies": "ten"})
    with pytest.raises(PolicyConfigError, match=r"'colour' was unexpected"):
        resolve("required-tags", {"colour": "red"})
    assert resolve("scaling-ceilings", {"maxCopies": 3}) == {"maxInstanceCount": 10, "maxCopies": 3}


def test_invalid_config_reaching_a_validator_is_reported_not_raised(ours: list[EngineResource]) -> None:
    found = verdicts(ours, {"scaling-ceilings": {"maxCopies": "ten"}})
    assert [v.policy for v in found] == ["scaling-ceilings"]
    assert all("configuration is invalid" in v.message and "'ten'" in v.message for v in found)
