"""Mandatory rules: every endpoint can reach zero, every zero-capable component can wake, costs are capped.

Judges any program's aws and aws-native resources, not only sagezero's component; the wake-path
logic is `sagezero.wiring`, shared with `plan` and `verify`.
"""

from __future__ import annotations

from typing import Any

from pulumi_policy import (
    EnforcementLevel,
    ReportViolation,
    ResourceValidationArgs,
    StackValidationArgs,
)

from sagezero import wiring
from sagezero.engine_wiring import ENDPOINT_CONFIG_TYPES, TARGET_TYPES, get
from sagezero.policies.support import config, guarded, label, make_policy, variants, wake_paths
from sagezero.wiring import UNKNOWN, number


@guarded
def endpoint_min_instance_zero(args: ResourceValidationArgs, report: ReportViolation) -> None:
    if args.resource_type not in ENDPOINT_CONFIG_TYPES:
        return
    cfg = config("endpoint-min-instance-zero", args)
    for v in variants(args.props, args.resource_type):
        if v.serverless:
            continue
        if not v.has_mis:
            if cfg["requireOnInferenceComponentEndpoints"] and v.model_name is None:
                report(
                    f"{label(args)} {v.where} hosts inference components without managed instance scaling, so its "
                    "instances never go to zero. Fix: set ManagedInstanceScaling {Status: ENABLED, "
                    "MinInstanceCount: 0, MaxInstanceCount: N}.",
                    None,
                )
            continue
        if v.mis_status is UNKNOWN or v.mis_min is UNKNOWN:
            args.not_applicable(f"{v.where}: managed instance scaling is not known until deployment")
        if v.mis_status != "ENABLED":
            report(
                f"{label(args)} {v.where} has managed instance scaling status {v.mis_status!r}. "
                "Fix: set Status ENABLED so instances can scale in to zero.",
                None,
            )
        if v.mis_min != 0:
            report(
                f"{label(args)} {v.where} keeps MinInstanceCount {v.mis_min!r}, a standing cost while idle. "
                "Fix: set MinInstanceCount 0.",
                None,
            )


@guarded
def scalable_target_min_zero(args: ResourceValidationArgs, report: ReportViolation) -> None:
    if args.resource_type not in TARGET_TYPES:
        return
    if get(args.props, "scalableDimension") != wiring.SCALABLE_DIMENSION:
        return
    low = number(get(args.props, "minCapacity"))
    if low is UNKNOWN:
        args.not_applicable("minCapacity is not known until deployment")
    if low != 0:
        report(
            f"{label(args)} on {get(args.props, 'resourceId')} has MinCapacity {low!r}: copies never go to zero. "
            "Fix: set MinCapacity 0 (a step-scaling alarm brings the first copy back).",
            None,
        )


@guarded
def scaling_ceilings(args: ResourceValidationArgs, report: ReportViolation) -> None:
    if args.resource_type not in ENDPOINT_CONFIG_TYPES | TARGET_TYPES:
        return
    cfg = config("scaling-ceilings", args)
    if args.resource_type in ENDPOINT_CONFIG_TYPES:
        for v in variants(args.props, args.resource_type):
            if isinstance(v.mis_max, (int, float)) and v.mis_max > cfg["maxInstanceCount"]:
                report(
                    f"{label(args)} {v.where} allows {v.mis_max} instances, above the org ceiling of "
                    f"{cfg['maxInstanceCount']}. Fix: lower MaxInstanceCount or raise the ceiling in policy config.",
                    None,
                )
    elif args.resource_type in TARGET_TYPES and get(args.props, "scalableDimension") == wiring.SCALABLE_DIMENSION:
        high = number(get(args.props, "maxCapacity"))
        if isinstance(high, (int, float)) and high > cfg["maxCopies"]:
            report(
                f"{label(args)} allows {high} copies, above the org ceiling of {cfg['maxCopies']}. "
                "Fix: lower MaxCapacity or raise maxCopies in policy config.",
                None,
            )


@guarded
def scale_from_zero_alarm(args: StackValidationArgs, report: ReportViolation) -> None:
    for path in wake_paths(args):
        if not wiring.can_reach_zero(path):
            continue
        for b in path.breaks:
            report(f"[{b.kind}] {b.message}", b.ref)


@guarded
def scale_to_zero_target_tracking(args: StackValidationArgs, report: ReportViolation) -> None:
    for path in wake_paths(args):
        if wiring.can_reach_zero(path) and path.tracking is None and path.target is not None:
            name = path.ic.name if isinstance(path.ic.name, str) else path.ic.ref
            report(
                f"inference component {name} can be at zero copies but no target-tracking policy scales it back "
                f"down once woken, so it stays at its peak. Fix: add a TargetTrackingScaling policy on "
                f"{wiring.TARGET_TRACKING_METRIC} on the same scalable target.",
                path.target.ref,
            )


def _policy(name: str, description: str, validate: Any, stack: bool = False) -> Any:
    return make_policy(name, description, validate, EnforcementLevel.MANDATORY, stack=stack)


POLICIES = [
    _policy(
        "endpoint-min-instance-zero",
        "Real-time endpoint variants scale instances to zero (managed instance scaling ENABLED, MinInstanceCount 0).",
        endpoint_min_instance_zero,
    ),
    _policy(
        "inference-component-scalable-target-min-zero",
        "Scalable targets on inference-component copy counts have MinCapacity 0.",
        scalable_target_min_zero,
    ),
    _policy(
        "scale-from-zero-alarm",
        "Every inference component that can reach zero copies has a NoCapacityInvocationFailures alarm wired to "
        "a step-scaling policy that adds a copy.",
        scale_from_zero_alarm,
        stack=True,
    ),
    _policy(
        "scale-to-zero-target-tracking",
        "Every inference component that can reach zero copies has a target-tracking policy to scale back down.",
        scale_to_zero_target_tracking,
        stack=True,
    ),
    _policy(
        "scaling-ceilings",
        "Max instance count and max copy count stay under the org's ceilings.",
        scaling_ceilings,
    ),
]
