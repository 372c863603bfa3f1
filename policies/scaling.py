"""Mandatory rules: every endpoint can reach zero, every zero-capable unit can wake, costs are capped.

Thin adapters: each policy reads its own rule's findings from `sagezero.rules` (shared with `check`,
`plan` and `verify`) and reports them; what could not be judged becomes the not-applicable reason.
Judges any program's aws and aws-native resources, not only sagezero's component.
"""

from __future__ import annotations

from typing import Any

from pulumi_policy import EnforcementLevel, ReportViolation, ResourceValidationArgs, StackValidationArgs

from sagezero.engine_wiring import EngineResource, to_node
from sagezero.policies.support import config, guarded, judged, make_policy, report_verdicts
from sagezero.rules import Verdicts
from sagezero.rules.capacity import ceilings, min_instances_zero
from sagezero.rules.verdicts import CEILINGS, MIN_INSTANCES, SCALE_IN, TARGET_MIN, WAKE
from sagezero.wiring import EndpointConfig, ScalableTarget


def _node(args: ResourceValidationArgs) -> Any:
    return to_node(EngineResource(args.resource_type, args.urn, args.props, {}, args.name))


@guarded
def endpoint_min_instance_zero(args: ResourceValidationArgs, report: ReportViolation) -> None:
    node = _node(args)
    if isinstance(node, EndpointConfig):
        out = Verdicts()
        min_instances_zero(node, config(MIN_INSTANCES, args), out)
        report_verdicts(args, report, out, urn=args.urn)


@guarded
def scaling_ceilings(args: ResourceValidationArgs, report: ReportViolation) -> None:
    node = _node(args)
    if isinstance(node, (EndpointConfig, ScalableTarget)):
        out = Verdicts()
        ceilings(node, config(CEILINGS, args), out)
        report_verdicts(args, report, out, urn=args.urn)


def _stack_rule(rule: str) -> Any:
    @guarded
    def validate(args: StackValidationArgs, report: ReportViolation) -> None:
        report_verdicts(args, report, judged(args).verdicts.for_rule(rule))

    validate.__name__ = rule.replace("-", "_")
    return validate


def _policy(name: str, description: str, validate: Any, stack: bool = False) -> Any:
    return make_policy(name, description, validate, EnforcementLevel.MANDATORY, stack=stack)


POLICIES = [
    _policy(
        MIN_INSTANCES,
        "Real-time endpoint variants scale instances to zero (managed instance scaling ENABLED, MinInstanceCount 0).",
        endpoint_min_instance_zero,
    ),
    _policy(
        TARGET_MIN,
        "Every inference component (copies) and asynchronous endpoint variant (instances) has a scalable target "
        "with MinCapacity 0.",
        _stack_rule(TARGET_MIN),
        stack=True,
    ),
    _policy(
        WAKE,
        "Every unit that can reach zero (inference component, asynchronous variant) wakes on its first failed or "
        "queued request: an alarm that trips on it fires a step policy that adds capacity.",
        _stack_rule(WAKE),
        stack=True,
    ),
    _policy(
        SCALE_IN,
        "Every unit that can reach zero has a target-tracking policy that can scale it back down to zero.",
        _stack_rule(SCALE_IN),
        stack=True,
    ),
    _policy(CEILINGS, "Max instance count and max copy count stay under the org's ceilings.", scaling_ceilings),
]
