"""Every wiring case, judged in process: a correct form passes, each change gives exactly its finding."""

from __future__ import annotations

import pytest

pytest.importorskip("pulumi_policy")

from sagezero.policies.runner import evaluate
from tests.policy_fixtures import async_baseline, native_baseline
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
    from tests.policy_fixtures import mutate

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
