"""The pack's identity and its policies, in the order they are reported.

Importing this never starts a server; `serve()` does (and blocks), as the Pulumi CLI expects.
"""

from __future__ import annotations

from typing import Any

from sagezero.policies import hygiene, scaling, security

PACK_NAME = "sagezero-scale-to-zero"
POLICIES: list[Any] = [*scaling.POLICIES, *hygiene.POLICIES, *security.POLICIES]


def serve() -> None:
    from pulumi_policy import EnforcementLevel, PolicyPack

    PolicyPack(
        name=PACK_NAME,
        policies=POLICIES,
        enforcement_level=EnforcementLevel.ADVISORY,
        description="SageMaker endpoints that scale to zero must be able to wake up; cost and security guards.",
    )
