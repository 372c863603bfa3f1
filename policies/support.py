"""What every validator needs: safe property reads, config with defaults, and a crash guard.

A validator wrapped by `guarded` never fails a preview on odd input: unreadable properties make
the policy not applicable with the reason, preview-time unknowns are skipped by the SDK.
"""

from __future__ import annotations

import functools
import json
from collections.abc import Callable, Mapping
from typing import Any

from pulumi_policy import (
    EnforcementLevel,
    PolicyConfigSchema,
    PolicyResource,
    ReportViolation,
    ResourceValidationArgs,
    ResourceValidationPolicy,
    StackValidationPolicy,
)

from sagezero.engine_wiring import EngineResource, build_wiring, get, is_seq
from sagezero.engine_wiring import variants as read_variants
from sagezero.policies import config_schema
from sagezero.rules import Judgement, Verdicts, judge
from sagezero.values import Opaque, plain
from sagezero.wiring import Variant

Validator = Callable[[Any, ReportViolation], None]


class NotApplicable(Exception):  # noqa: N818 - mirrors the SDK's signal for the in-process runner
    """Raised by the in-process runner's `not_applicable`, as the SDK raises its own."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


def guarded(fn: Validator) -> Validator:
    """Never fail a preview: anything a resource holds that the rules cannot read makes the policy not
    applicable, with the reason (the CLI lists it), instead of an exception that stops the engine."""

    @functools.wraps(fn)
    def wrapper(args: Any, report: ReportViolation) -> None:
        try:
            if not getattr(args, "props_are_plain", False):
                _plain_props(args)
            fn(args, report)
        except config_schema.PolicyConfigError as e:
            report(f"the policy's configuration is invalid: {e}. Fix the --policy-pack-config file.", None)
        except Exception as e:  # crash-proof by contract: a policy must never take a preview down
            if type(e).__name__ == "_NotApplicableError" or isinstance(e, NotApplicable):  # args.not_applicable
                raise
            args.not_applicable(f"could not read the resource's properties ({type(e).__name__}: {str(e)[:200]})")

    return wrapper


def _plain_props(args: Any) -> None:
    """Plain values with Opaque markers, so no read raises on a preview's unknowns (which would switch
    the whole policy off for every resource, not just the one unknown value)."""
    if hasattr(args, "resources"):
        for r in args.resources:
            r.props = plain(r.props)
    else:
        args.props = plain(args.props)


def report_verdicts(args: Any, report: ReportViolation, verdicts: Verdicts, *, urn: str | None = None) -> None:
    """Findings as violations; then what could not be judged, plainly, as the policy's not-applicable reason."""
    for f in verdicts.findings:
        report(f"[{f.kind}] {f.message}", None if f.ref == urn else f.ref)
    if verdicts.unjudged:
        items = "; ".join(f"{u.ref.rsplit('::', 1)[-1]} {u.what}: {u.why}" for u in verdicts.unjudged[:20])
        more = f" (and {len(verdicts.unjudged) - 20} more)" if len(verdicts.unjudged) > 20 else ""
        args.not_applicable(f"not judged: {items}{more}")


def config(policy: str, args: Any) -> dict[str, Any]:
    given = args.get_config()
    key = (policy, json.dumps(given, sort_keys=True, default=str))
    if key not in _RESOLVED:  # the same config for every resource: check it against the schema once
        _RESOLVED[key] = config_schema.resolve(policy, given)
    return dict(_RESOLVED[key])


_RESOLVED: dict[tuple[str, str], dict[str, Any]] = {}


def schema(policy: str) -> PolicyConfigSchema | None:
    props = config_schema.SCHEMAS.get(policy)
    return PolicyConfigSchema(properties=props) if props else None


def make_policy(
    name: str, description: str, validate: Validator, level: EnforcementLevel, *, stack: bool = False
) -> Any:
    """A resource or stack policy with the schema from config_schema; one place builds them all."""
    cls = StackValidationPolicy if stack else ResourceValidationPolicy
    return cls(
        name=name, description=description, validate=validate, enforcement_level=level, config_schema=schema(name)
    )


def engine_resource(r: PolicyResource) -> EngineResource:
    return EngineResource(
        type=r.resource_type,
        urn=r.urn,
        props=r.props,
        property_dependencies={k: [d.urn for d in v] for k, v in r.property_dependencies.items()},
        name=r.name,
    )


def label(args: ResourceValidationArgs | PolicyResource) -> str:
    return f"{args.resource_type} {args.name!r}"


def variants(props: Any, resource_type: str) -> list[Variant]:
    return read_variants(plain(props), resource_type.startswith("aws-native:"))


def tag_keys(props: Any) -> set[str] | Any:
    tags = get(props, "tags")
    if isinstance(tags, Opaque):
        return tags
    if isinstance(tags, Mapping):
        return set(tags)
    keys: set[str] = set()
    for t in tags if is_seq(tags) else []:
        k = get(t, "key")
        if isinstance(k, str):
            keys.add(k)
    return keys


def judged(args: Any, configs: dict[str, dict[str, Any]] | None = None) -> Judgement:
    """The shared rules over every resource in the stack (stack policies each read their own rule)."""
    return judge(build_wiring(engine_resource(r) for r in args.resources), configs)
