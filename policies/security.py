"""Network rules for SageMaker models an org opts into: run in its VPC, and without network access.

A model's container can reach the internet unless it runs in a VPC of the org's choosing or with
network isolation. Many teams need neither on day one, so both ship disabled (an advisory on every
model would be noise); an org turns either on as advisory or mandatory in policy config
(`"model-in-vpc": "mandatory"`, or `"all": ...`).
"""

from __future__ import annotations

from typing import Any

from pulumi_policy import EnforcementLevel, ReportViolation, ResourceValidationArgs

from sagezero.policies.support import guarded, label, make_policy
from sagezero.values import Opaque, get

MODEL_TYPES = frozenset({"aws:sagemaker/model:Model", "aws-native:sagemaker:Model"})


def _vpc(props: Any) -> tuple[Any, Any]:
    """(subnets, security groups) of a model's VPC config (the same member names on aws and aws-native)."""
    return get(props, "vpcConfig", "subnets"), get(props, "vpcConfig", "securityGroupIds")


@guarded
def model_in_vpc(args: ResourceValidationArgs, report: ReportViolation) -> None:
    if args.resource_type not in MODEL_TYPES:
        return
    subnets, groups = _vpc(args.props)
    hidden = next((v for v in (subnets, groups) if isinstance(v, Opaque)), None)
    if hidden is not None:
        args.not_applicable(f"the VPC config is {hidden.why}")
        return
    if not subnets or not groups:
        report(
            f"{label(args)} runs outside the org's VPC (no vpcConfig subnets and security groups), so its "
            "container can reach the internet. Fix: set vpcConfig (sagezero: vpcSubnetIds and vpcSecurityGroupIds).",
            None,
        )


@guarded
def model_network_isolation(args: ResourceValidationArgs, report: ReportViolation) -> None:
    if args.resource_type not in MODEL_TYPES:
        return
    isolated = get(args.props, "enableNetworkIsolation")
    if isinstance(isolated, Opaque):
        args.not_applicable(f"network isolation is {isolated.why}")
        return
    if isolated is not True:
        report(
            f"{label(args)} has network isolation off: the container may make outbound calls. Fix: set "
            "enableNetworkIsolation (sagezero: networkIsolation: true).",
            None,
        )


POLICIES = [
    make_policy(
        "model-in-vpc",
        "SageMaker models run in the org's VPC (subnets and security groups).",
        model_in_vpc,
        EnforcementLevel.DISABLED,
    ),
    make_policy(
        "model-network-isolation",
        "SageMaker model containers run with network isolation.",
        model_network_isolation,
        EnforcementLevel.DISABLED,
    ),
]
