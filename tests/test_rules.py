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
