"""Every wiring case, judged in process: a correct form passes, each change gives exactly its finding."""

from __future__ import annotations

from typing import Any

import pytest

pytest.importorskip("pulumi_policy")

from sagezero.engine_wiring import EngineResource
from sagezero.policies.runner import evaluate
from tests.policy_fixtures import async_baseline, first_preview, mutate, native_baseline, two_tenants
from tests.wiring_cases import CASES, Case


def mandatory(case: Case) -> set[tuple[str, str]]:
    report = evaluate(case.resources())
    assert report.not_judged == [], report.not_judged
    found = set()
    for v in report.mandatory:
        assert v.message.startswith("["), v.message
        found.add((v.policy, v.message[1 : v.message.index("]")]))
    return found


@pytest.mark.parametrize("base", [native_baseline, async_baseline], ids=["native", "async"])
def test_baselines_pass(base: object) -> None:
    report = evaluate(base())  # type: ignore[operator]
    assert (report.verdicts, report.not_judged) == ([], [])


@pytest.mark.parametrize("case", CASES, ids=[c.id for c in CASES])
def test_each_case_gives_exactly_its_findings(case: Case) -> None:
    assert mandatory(case) == set(case.expect)


def test_breaks_under_an_unknown_minimum_are_not_judged_not_violations() -> None:
    from sagezero.engine_wiring import ENGINE_UNKNOWN

    unknown_min = mutate(native_baseline(), "target", lambda p: p.update(minCapacity=ENGINE_UNKNOWN))
    no_alarm = mutate(unknown_min, "alarm", lambda p: "drop")
    report = evaluate(no_alarm)
    assert report.mandatory == [], "a minimum of 1 would need no wake path: no violation until it is known"
    reasons = {(n.policy, n.reason) for n in report.not_judged}
    assert ("inference-component-scalable-target-min-zero", "minCapacity: not known until deployment") in reasons
    assert any(p == "scale-from-zero-alarm" and r.startswith("[no-alarm]: the scalable target's MinCapacity is not "
               "known; if it is 0:") for p, r in reasons), reasons  # fmt: skip
    known = evaluate(mutate(native_baseline(), "alarm", lambda p: "drop"))
    assert [v.policy for v in known.mandatory] == ["scale-from-zero-alarm"]


# ---- found by a hostile review: never a silent pass, never a false violation, never the whole stack ----


def _not_judged(resources: list[EngineResource]) -> tuple[set[tuple[str, str]], list[str]]:
    report = evaluate(resources)
    found = {(v.policy, v.message[1 : v.message.index("]")]) for v in report.mandatory}
    return found, [f"{n.policy}: {n.reason}" for n in report.not_judged]


def test_known_breaks_of_a_pair_stand_beside_its_preview_unknowns() -> None:
    stack = first_preview(two_tenants(), "acme")
    stack = mutate(stack, "acme-no-capacity", lambda p: p.update(threshold=5.0))
    found, hidden = _not_judged(stack)
    assert found == {("scale-from-zero-alarm", "misses-first-failure")}, "threshold 5 cannot trip, whatever the ARN"
    assert any("alarmActions: not known until deployment" in h for h in hidden)


def test_an_odd_value_in_one_tenant_leaves_the_others_judged() -> None:
    stack = mutate(two_tenants(), "globex-no-capacity", lambda p: "drop")
    odds: list[dict[str, Any]] = [{"evaluationPeriods": float("inf")}, {"comparisonOperator": {}},
                                  {"extendedStatistic": "pnan"}]  # fmt: skip
    for odd in odds:

        def change(p: dict[str, Any], o: dict[str, Any] = odd) -> None:
            p.update(o)

        found, _ = _not_judged(mutate(stack, "acme-no-capacity", change))
        assert ("scale-from-zero-alarm", "no-alarm") in found, odd
    weird = mutate(stack, "acme-target-tracking", lambda p: p.update(
        targetTrackingScalingPolicyConfiguration={"predefinedMetricSpecification": {"predefinedMetricType": []}}))  # fmt: skip
    found, _ = _not_judged(weird)
    assert ("scale-from-zero-alarm", "no-alarm") in found


def test_another_metrics_alarm_on_the_wake_policy_is_not_judged() -> None:
    extra = native_baseline()
    alarm = next(r for r in extra if r.name == "alarm")
    props = dict(alarm.props) | {"alarmName": "idle-breacher", "metricName": "Invocations", "statistic": "Sum",
                                 "comparisonOperator": "LessThanOrEqualToThreshold", "threshold": 0.0,
                                 "treatMissingData": "breaching",
                                 "dimensions": [{"name": "EndpointName", "value": "byhand"}]}  # fmt: skip
    extra.append(EngineResource(alarm.type, alarm.urn + "2", props, {}, "alarm2"))
    found, hidden = _not_judged(extra)
    assert found == set()
    assert any("alarm on another metric" in h and "Invocations" in h for h in hidden), hidden


def test_a_second_tracking_policy_on_another_metric_is_not_judged() -> None:
    extra = native_baseline()
    tracking = next(r for r in extra if r.name == "tracking")
    cpu = {"namespace": "AWS/EC2", "metricName": "CPUUtilization", "statistic": "Average", "dimensions": []}
    props = dict(tracking.props) | {"policyName": "cpu", "targetTrackingScalingPolicyConfiguration": {
        "targetValue": 50.0, "customizedMetricSpecification": cpu}}  # fmt: skip
    extra.append(EngineResource(tracking.type, tracking.urn + "2", props, {}, "tracking2"))
    found, hidden = _not_judged(extra)
    assert found == set()
    assert any("AWS/EC2/CPUUtilization" in h for h in hidden), hidden


def test_math_outside_the_subset_is_not_judged() -> None:
    from tests.wiring_cases import _math

    found, hidden = _not_judged(mutate(native_baseline(), "alarm", _math("m1 ** 2")))
    assert found == set()
    assert any("outside what sagezero evaluates" in h for h in hidden)


SECRET = {"4dabf18193072939515e22adb298388d": "1b47061264138c4ac30d75fd1eb44270", "ciphertext": "v1:AAAA"}


@pytest.mark.parametrize(
    ("name", "change"),
    [
        ("alarm", lambda p: p.update(alarmActions=SECRET)),
        ("alarm", lambda p: p.update(alarmActions=[SECRET])),
        ("wake", lambda p: p.update(arn=SECRET)),
        ("wake", lambda p: p.update(policyType=SECRET)),
        ("target", lambda p: p.update(scalableDimension=SECRET)),
        ("ic", lambda p: p.update(inferenceComponentName=SECRET)),
        ("endpoint", lambda p: p.update(endpointConfigName=SECRET)),
        ("alarm", lambda p: p["dimensions"][0].update(value=SECRET)),
    ],
)
def test_a_hidden_secret_is_not_judged_never_a_violation(name: str, change: Any) -> None:
    found, hidden = _not_judged(mutate(native_baseline(), name, change))
    assert found == set()
    assert any("secret" in h for h in hidden), hidden


def test_async_target_with_an_unknown_id_is_judged_through_its_endpoint() -> None:
    from sagezero.engine_wiring import ENGINE_UNKNOWN

    stack = async_baseline()
    endpoint = next(r for r in stack if r.name == "aendpoint").urn
    for name in ("atarget", "atracking", "awake"):
        stack = mutate(stack, name, lambda p: p.update(resourceId=ENGINE_UNKNOWN))
        stack = [EngineResource(r.type, r.urn, r.props, {"resourceId": [endpoint]} if r.name == name else
                                r.property_dependencies, r.name) for r in stack]  # fmt: skip
    broken = mutate(mutate(stack, "aalarm", lambda p: "drop"), "awake", lambda p: "drop")
    found, _ = _not_judged(broken)
    assert ("scale-from-zero-alarm", "no-step-policy") in found
