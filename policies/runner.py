"""Run the pack in process over any list of resources (a plan, a `pulumi stack export`), as the CLI would.

Same policies, enforcement levels and config as over gRPC; used by `sagezero plan` and `sagezero
check`. The wiring rules are judged once for the whole stack (`sagezero.rules`); the other policies
run their validators against small argument objects of our own, so nothing here depends on the
policy SDK's private classes. Never starts the gRPC server.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from sagezero.engine_wiring import EngineResource, build_wiring
from sagezero.policies.config_schema import PolicyConfigError, resolve
from sagezero.policies.pack import PACK_NAME, POLICIES
from sagezero.policies.support import NotApplicable
from sagezero.rules import judge
from sagezero.rules.verdicts import CEILINGS, COOLDOWN, MIN_INSTANCES, SCALE_IN, TARGET_MIN, WAKE
from sagezero.values import plain

JUDGED_RULES = frozenset({MIN_INSTANCES, TARGET_MIN, WAKE, SCALE_IN, CEILINGS, COOLDOWN})


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


@dataclass(frozen=True)
class NotJudged:
    """Something a policy could not judge, and why (unknown at preview, undisclosed secret, odd input)."""

    policy: str
    urn: str
    reason: str


@dataclass
class Report:
    pack: str
    verdicts: list[Verdict] = field(default_factory=list)
    not_judged: list[NotJudged] = field(default_factory=list)
    policies_run: int = 0

    @property
    def mandatory(self) -> list[Verdict]:
        return [v for v in self.verdicts if v.mandatory]


def level(policy: Any, config: Mapping[str, Any]) -> str:
    """The enforcement level the CLI would apply: per-policy config, then `all`, then the policy's own."""
    given = config.get(policy.name)
    if isinstance(given, str):
        found = given
    elif isinstance(given, Mapping) and "enforcementLevel" in given:
        found = str(given["enforcementLevel"])
    elif "all" in config:
        found = str(config["all"])
    else:
        found = getattr(policy.enforcement_level, "value", None) or "advisory"
    return "mandatory" if found == "remediate" else found


def _props(policy_config: Any) -> dict[str, Any] | None:
    if isinstance(policy_config, Mapping):
        return {k: v for k, v in policy_config.items() if k != "enforcementLevel"} or None
    return None


class _Dep:
    __slots__ = ("urn",)

    def __init__(self, urn: str) -> None:
        self.urn = urn


class _Resource:
    """What a validator reads of a resource (the SDK's PolicyResource has the same attribute names)."""

    def __init__(self, r: EngineResource, props: dict[str, Any]) -> None:
        self.resource_type, self.urn, self.name, self.props = r.type, r.urn, r.name, props
        self.property_dependencies = {k: [_Dep(u) for u in v] for k, v in (r.property_dependencies or {}).items()}


class _Args:
    props_are_plain = True

    def __init__(self, config: dict[str, Any] | None) -> None:
        self._config = config

    def get_config(self) -> dict[str, Any] | None:
        return self._config

    def not_applicable(self, reason: str) -> None:
        raise NotApplicable(reason)


class _ResourceArgs(_Args):
    def __init__(self, r: _Resource, config: dict[str, Any] | None) -> None:
        super().__init__(config)
        self.resource_type, self.urn, self.name, self.props = r.resource_type, r.urn, r.name, r.props


class _StackArgs(_Args):
    def __init__(self, resources: list[_Resource], config: dict[str, Any] | None) -> None:
        super().__init__(config)
        self.resources = resources


def evaluate(resources: Iterable[EngineResource], config: Mapping[str, Any] | None = None) -> Report:
    """Every enabled policy over `resources`; config is a validated --policy-pack-config mapping."""
    config = dict(config or {})
    items = list(resources)
    plain_items = [_Resource(r, plain(r.props)) for r in items]  # each resource's values made plain once
    report = Report(PACK_NAME)
    enabled = [(p, level(p, config)) for p in POLICIES]
    enabled = [(p, lv) for p, lv in enabled if lv != "disabled"]
    report.policies_run = len(enabled)
    judged_configs: dict[str, dict[str, Any]] = {}
    for p, lv in enabled:
        if p.name in JUDGED_RULES:
            try:
                judged_configs[p.name] = resolve(p.name, _props(config.get(p.name)))
            except PolicyConfigError as e:
                msg = f"the policy's configuration is invalid: {e}. Fix the --policy-pack-config file."
                report.verdicts.append(Verdict(p.name, lv, msg, None))
    verdicts = None
    if judged_configs:
        wiring = build_wiring(
            EngineResource(r.type, r.urn, p.props, r.property_dependencies, r.name)
            for r, p in zip(items, plain_items, strict=True)
        )
        try:
            verdicts = judge(wiring, judged_configs).verdicts
        except Exception as e:  # crash-proof like the pack under the engine; listed, never a silent pass
            for name in judged_configs:
                report.not_judged.append(NotJudged(name, "", f"could not judge ({type(e).__name__}: {str(e)[:200]})"))
            verdicts = None
    for policy, lv in enabled:
        if policy.name in JUDGED_RULES:
            if verdicts is None or policy.name not in judged_configs:
                continue
            mine = verdicts.for_rule(policy.name)
            report.verdicts += [Verdict(policy.name, lv, f"[{f.kind}] {f.message}", f.ref) for f in mine.findings]
            report.not_judged += [NotJudged(policy.name, u.ref, u.message) for u in mine.unjudged]
            continue
        _run_validator(policy, lv, _props(config.get(policy.name)), plain_items, report)
    return report


def _run_validator(policy: Any, lv: str, cfg: dict[str, Any] | None, items: list[_Resource], report: Report) -> None:
    def reporter(message: str, urn: str | None = None, *, where: str | None = None) -> None:
        report.verdicts.append(Verdict(policy.name, lv, message, urn or where))

    if hasattr(policy, "validate") and type(policy).__name__ == "StackValidationPolicy":
        try:
            policy.validate(_StackArgs(items, cfg), reporter)
        except NotApplicable as e:
            report.not_judged.append(NotJudged(policy.name, "", e.reason))
        return
    for r in items:
        try:
            policy.validate(_ResourceArgs(r, cfg), lambda m, u=None, _w=r.urn: reporter(m, u, where=_w))
        except NotApplicable as e:
            report.not_judged.append(NotJudged(policy.name, r.urn, e.reason))
