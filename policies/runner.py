"""Run the pack in process over any list of resources (a plan, a `pulumi stack export`), like the CLI would.

Same policies, same enforcement-level rules and config as over gRPC; used by `sagezero plan` and
`sagezero check`. Never starts the gRPC server.
"""

from __future__ import annotations

import asyncio
import inspect
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from pulumi_policy import (
    EnforcementLevel,
    PolicyCustomTimeouts,
    PolicyResource,
    PolicyResourceOptions,
    ResourceValidationArgs,
    ResourceValidationPolicy,
    StackValidationArgs,
    StackValidationPolicy,
)
from pulumi_policy.policy import _NotApplicableError
from pulumi_policy.proxy import UnknownValueError, unknown_checking_proxy

from sagezero.engine_wiring import EngineResource
from sagezero.policies.pack import PACK_NAME, POLICIES


@dataclass(frozen=True)
class Verdict:
    """One violation, as `pulumi preview` would print it."""

    policy: str
    level: str
    message: str
    urn: str | None

    @property
    def mandatory(self) -> bool:
        return self.level == "mandatory"


@dataclass
class Report:
    pack: str
    verdicts: list[Verdict] = field(default_factory=list)
    not_applicable: list[tuple[str, str, str]] = field(default_factory=list)
    policies_run: int = 0

    @property
    def mandatory(self) -> list[Verdict]:
        return [v for v in self.verdicts if v.mandatory]


def _level(policy: Any, config: Mapping[str, Any]) -> EnforcementLevel:
    given = config.get(policy.name)
    if isinstance(given, str):
        return EnforcementLevel(given)
    if isinstance(given, Mapping) and "enforcementLevel" in given:
        return EnforcementLevel(given["enforcementLevel"])
    if "all" in config:
        return EnforcementLevel(config["all"])
    return policy.enforcement_level or EnforcementLevel.ADVISORY


def _props(policy_config: Any) -> dict[str, Any] | None:
    if isinstance(policy_config, Mapping):
        return {k: v for k, v in policy_config.items() if k != "enforcementLevel"} or None
    return None


def _opts(parent: str | None) -> PolicyResourceOptions:
    return PolicyResourceOptions(False, [], None, [], PolicyCustomTimeouts(0, 0, 0), [], parent)


def _run(result: Any) -> None:
    if inspect.isawaitable(result):
        asyncio.new_event_loop().run_until_complete(result)


def evaluate(resources: Iterable[EngineResource], config: Mapping[str, Any] | None = None) -> Report:
    """Every enabled policy over `resources`; config is a validated --policy-pack-config mapping."""
    config = dict(config or {})
    items = list(resources)
    report = Report(PACK_NAME)
    by_urn: dict[str, PolicyResource] = {}
    for r in items:
        by_urn[r.urn] = PolicyResource(
            r.type, unknown_checking_proxy(dict(r.props)), r.urn, r.name, _opts(r.parent), None, None, [], {}
        )
    for r in items:
        pr = by_urn[r.urn]
        pr.parent = by_urn.get(r.parent or "")
        for k, urns in (r.property_dependencies or {}).items():
            pr.property_dependencies[k] = [by_urn[u] for u in urns if u in by_urn]
            pr.dependencies.extend(d for d in pr.property_dependencies[k] if d not in pr.dependencies)

    for policy in POLICIES:
        level = _level(policy, config)
        if level == EnforcementLevel.DISABLED:
            continue
        report.policies_run += 1
        shown = "mandatory" if level == EnforcementLevel.REMEDIATE else level.value
        policy_config = _props(config.get(policy.name))

        def reporter(message: str, urn: str | None = None, *, _p: str = policy.name, _l: str = shown) -> None:
            report.verdicts.append(Verdict(_p, _l, message, urn))

        try:
            if isinstance(policy, StackValidationPolicy):
                _run(policy.validate(StackValidationArgs(list(by_urn.values()), policy_config), reporter))
            elif isinstance(policy, ResourceValidationPolicy):
                for pr in by_urn.values():
                    args = ResourceValidationArgs(
                        pr.resource_type, pr.props, pr.urn, pr.name, pr.opts, None, policy_config
                    )

                    def per_resource(message: str, urn: str | None = None, *, _u: str = pr.urn) -> None:
                        reporter(message, urn or _u)

                    try:
                        _run(policy.validate(args, per_resource))
                    except _NotApplicableError as e:
                        report.not_applicable.append((policy.name, pr.urn, e.reason or ""))
                    except UnknownValueError as e:
                        report.not_applicable.append((policy.name, pr.urn, f"unknown during preview: {e.message}"))
        except _NotApplicableError as e:
            report.not_applicable.append((policy.name, "", e.reason or ""))
        except UnknownValueError as e:
            report.not_applicable.append((policy.name, "", f"unknown during preview: {e.message}"))
    return report
