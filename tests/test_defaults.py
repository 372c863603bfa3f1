"""The component's defaults pass the project's own policy pack, advisory rules included."""

from __future__ import annotations

from typing import Any

import pytest

pytest.importorskip("pulumi_policy")

from sagezero.components import ScaleToZeroEndpoint
from sagezero.plan.engine import evaluate
from sagezero.policies.runner import evaluate as run_pack
from tests.policy_fixtures import IMAGE, KMS


@pytest.mark.parametrize("copies", [1, 2, 3, 10])
def test_defaults_pass_every_pack_rule_whatever_the_copy_ceiling(copies: int) -> None:
    # Only what the pack asks an org to choose is given (a key and a cost centre); scaling is left at defaults.
    args: dict[str, Any] = {"image_uri": IMAGE, "kms_key_arn": KMS, "tags": {"cost-center": "ml"}}
    args |= {"max_copies": copies, "max_instance_count": copies}
    rec = evaluate(lambda: ScaleToZeroEndpoint("acme", args), stack="dev", region="eu-west-1")  # type: ignore[arg-type]
    report = run_pack([r.engine() for r in rec.resources if r.custom])
    assert [(v.policy, v.message) for v in report.verdicts] == []
