"""What every validator needs: safe property reads, config with defaults, and a crash guard.

A validator wrapped by `guarded` never fails a preview on odd input: unreadable properties make
the policy not applicable with the reason, preview-time unknowns are skipped by the SDK.
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
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

from sagezero import wiring
from sagezero.engine_wiring import EngineResource, build_wiring, get, is_seq
from sagezero.policies import config_schema
from sagezero.wiring import UNKNOWN, number

Validator = Callable[[Any, ReportViolation], None]


def guarded(fn: Validator) -> Validator:
    @functools.wraps(fn)
    def wrapper(args: Any, report: ReportViolation) -> None:
        try:
            fn(args, report)
        except config_schema.PolicyConfigError as e:
            report(f"the policy's configuration is invalid: {e}. Fix the --policy-pack-config file.", None)
        except (KeyError, TypeError, AttributeError, ValueError, IndexError) as e:
            args.not_applicable(f"could not read the resource's properties ({type(e).__name__}: {e})")

    return wrapper


def config(policy: str, args: Any) -> dict[str, Any]:
    return config_schema.resolve(policy, args.get_config())


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


@dataclass
class Variant:
    """One production variant of an endpoint config, read the same way for aws and aws-native."""

    index: int
    name: Any
    instance_type: Any
    serverless: Any
    mis_status: Any
    mis_min: Any
    mis_max: Any
    has_mis: bool
    routing: Any
    model_name: Any
    startup_timeout: Any

    @property
    def where(self) -> str:
        return f"productionVariants[{self.index}] ({self.name if isinstance(self.name, str) else 'unnamed'})"


def variants(props: Any, resource_type: str) -> Iterator[Variant]:
    native = resource_type.startswith("aws-native:")
    raw = get(props, "productionVariants")
    if raw is UNKNOWN or not is_seq(raw):
        return
    for i, v in enumerate(raw):
        mis = get(v, "managedInstanceScaling")
        routing = (
            get(v, "routingConfig", "routingStrategy") if native else get(v, "routingConfigs", 0, "routingStrategy")
        )
        yield Variant(
            index=i,
            name=get(v, "variantName"),
            instance_type=get(v, "instanceType"),
            serverless=get(v, "serverlessConfig"),
            mis_status=get(mis, "status"),
            mis_min=number(get(mis, "minInstanceCount")),
            mis_max=number(get(mis, "maxInstanceCount")),
            has_mis=mis is not None,
            routing=routing,
            model_name=get(v, "modelName"),
            startup_timeout=number(get(v, "containerStartupHealthCheckTimeoutInSeconds")),
        )


def tag_keys(props: Any) -> set[str] | Any:
    tags = get(props, "tags")
    if tags is UNKNOWN:
        return UNKNOWN
    if isinstance(tags, Mapping):
        return set(tags)
    keys: set[str] = set()
    for t in tags if is_seq(tags) else []:
        k = get(t, "key")
        if isinstance(k, str):
            keys.add(k)
    return keys


def wake_paths(args: Any) -> list[wiring.WakePath]:
    """Every inference component's traced wiring in the stack (stack policies share this)."""
    return wiring.trace_all(build_wiring(engine_resource(r) for r in args.resources))
