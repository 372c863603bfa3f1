"""Judge a whole wiring once: every unit's wake path and return to zero, every resource-level rule.

The policy pack, `check`, `plan` and `verify` are thin adapters over `judge`: they build a `Wiring`
from their own source and read the findings and the not-judged list for the rules they report.
Linear in the number of resources (all links go through `wiring.Index`).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from sagezero import wiring
from sagezero.rules.alarm import Signal
from sagezero.rules.capacity import ceilings, min_instances_zero
from sagezero.rules.verdicts import CEILINGS, COOLDOWN, MIN_INSTANCES, SCALE_IN, TARGET_MIN, WAKE, Verdicts
from sagezero.rules.wake import Path, Unit, judge_unit
from sagezero.values import Opaque, is_num, shown
from sagezero.wiring import Endpoint, Index, InferenceComponent, Wiring

DEFAULTS: dict[str, dict[str, Any]] = {
    MIN_INSTANCES: {"requireOnInferenceComponentEndpoints": True},
    CEILINGS: {"maxInstanceCount": 10, "maxCopies": 10},
    COOLDOWN: {"minStepCooldownS": 300},
}


@dataclass
class Judgement:
    paths: list[Path] = field(default_factory=list)
    verdicts: Verdicts = field(default_factory=Verdicts)


def ic_unit(ic: InferenceComponent) -> Unit:
    rid = wiring.ic_resource_id(ic.name) if isinstance(ic.name, str) else ic.name
    label = f"inference component {ic.label}"
    return Unit(
        ic,
        label,
        rid if rid is not None else Opaque("the component has no name"),
        wiring.SCALABLE_DIMENSION,
        Signal(wiring.ALARM_METRIC, wiring.ALARM_DIMENSION, ic.name, ic),
        wiring.IC_TRACKING_METRICS,
        frozenset({"ConcurrentRequestsPerCopy", "InvocationsPerCopy"}),
    )


def variant_unit(endpoint: Endpoint, variant: str) -> Unit:
    name = endpoint.name
    rid = wiring.variant_resource_id(name, variant) if isinstance(name, str) else (name or Opaque("no endpoint name"))
    return Unit(
        endpoint,
        f"asynchronous endpoint {endpoint.label} variant {variant}",
        rid,
        wiring.VARIANT_DIMENSION,
        Signal(wiring.BACKLOG_WAKE_METRIC, wiring.ENDPOINT_DIMENSION, endpoint.name, endpoint, persistent=True),
        frozenset(),
        frozenset({wiring.BACKLOG_TRACKING_METRIC, "ApproximateBacklogSize"}),
    )


def _config(config: Mapping[str, Mapping[str, Any]] | None, rule: str) -> dict[str, Any]:
    return {**DEFAULTS.get(rule, {}), **dict((config or {}).get(rule) or {})}


def _host(idx: Index, ic: InferenceComponent, v: Verdicts) -> None:
    """The component's endpoint and variant exist and can hold a copy."""
    endpoint = idx.endpoint_of(ic)
    cfg = idx.config_of(endpoint) if endpoint is not None else None
    if cfg is None:
        hidden = next((x for x in (ic.endpoint_name, endpoint and endpoint.config_name) if isinstance(x, Opaque)), None)
        if hidden is not None:
            v.cannot(
                WAKE, ic.ref, "endpoint", f"the component's endpoint config cannot be found: a name is {hidden.why}"
            )
        return  # the endpoint lives in another stack: its config is judged there
    if isinstance(ic.variant_name, Opaque):
        v.cannot(WAKE, ic.ref, "variantName", ic.variant_name.why)
        return
    named = [x for x in cfg.variants if not x.shadow and isinstance(x.name, str)]
    variant = next((x for x in named if isinstance(ic.variant_name, str) and x.name == ic.variant_name), None)
    if variant is None and any(isinstance(x.name, Opaque) for x in cfg.variants):
        return
    if variant is None:
        v.find(WAKE, "no-variant", ic.ref, f"inference component {ic.label} names variant {shown(ic.variant_name)}, "
               f"which endpoint config {cfg.label} does not have ({', '.join(str(x.name) for x in named)})")  # fmt: skip
        return
    if variant.serverless is not None and not isinstance(variant.serverless, Opaque):
        v.find(WAKE, "aws-rejects", ic.ref, f"inference component {ic.label} sits on serverless variant "
               f"{variant.name}; serverless variants cannot host inference components and AWS rejects it")  # fmt: skip
    if cfg.is_async is True:
        v.find(WAKE, "aws-rejects", ic.ref, f"inference component {ic.label} sits on asynchronous endpoint config "
               f"{cfg.label}; inference components need a real-time endpoint")  # fmt: skip


def _variant_units(idx: Index, w: Wiring, v: Verdicts) -> list[Unit]:
    """Async variants that can reach zero instances; zero on a real-time variant is refused by AWS."""
    units: list[Unit] = []
    endpoints = {e.name.lower(): e for e in w.endpoints if isinstance(e.name, str)}
    for t in w.targets:
        if t.dimension != wiring.VARIANT_DIMENSION:
            continue
        endpoint: Endpoint | None = None
        variant: str | None = None
        for ref in t.linked_refs("resourceId"):
            node = idx.by_ref.get(ref)
            if isinstance(node, Endpoint):
                endpoint = node
        if isinstance(t.resource_id, str):
            parts = t.resource_id.split("/")
            if len(parts) == 4 and parts[0] == "endpoint" and parts[2] == "variant":
                endpoint = endpoint or endpoints.get(parts[1].lower())
                variant = parts[3]
        cfg = idx.config_of(endpoint) if endpoint is not None else None
        if variant is None and cfg is not None:
            named = [x.name for x in cfg.variants if not x.shadow]
            variant = named[0] if len(named) == 1 and isinstance(named[0], str) else None
        if endpoint is None or cfg is None or variant is None:
            if isinstance(t.resource_id, Opaque) or endpoint is not None:
                why = (
                    t.resource_id.why
                    if isinstance(t.resource_id, Opaque)
                    else "its endpoint config is not in this stack"
                )
                v.cannot(WAKE, t.ref, "resourceId", f"the variant this target scales cannot be told ({why})")
            continue
        if isinstance(cfg.is_async, Opaque):
            v.cannot(WAKE, cfg.ref, "asyncInferenceConfig", cfg.is_async.why)
            continue
        if not any(x.name == variant for x in cfg.variants if not x.shadow):
            v.find(WAKE, "no-variant", t.ref, f"scalable target {shown(t.resource_id)} scales variant {variant}, which "
                   f"endpoint config {cfg.label} does not have")  # fmt: skip
            continue
        if cfg.is_async:
            units.append(variant_unit(endpoint, variant))
        elif is_num(t.min_capacity) and t.min_capacity == 0:
            v.find(WAKE, "aws-rejects", t.ref, f"scalable target {shown(t.resource_id)} lets a real-time variant reach "
                   "zero instances; AWS allows that only for asynchronous endpoints (scale real-time endpoints to "
                   "zero through inference components)")  # fmt: skip
    return units


def _untargeted_variant_policies(w: Wiring, v: Verdicts) -> None:
    """Scaling policies on an endpoint's variants where no scalable target in the stack scales that
    endpoint's instances: App Auto Scaling refuses a policy on an unregistered target, so the variant
    stays at its initial count (a dropped target, or one registered on another dimension). A target of
    that endpoint on another variant is judged as its own unit (`no-variant`)."""
    if any(isinstance(t.resource_id, Opaque) or isinstance(t.dimension, Opaque) for t in w.targets):
        return  # a hidden target may be the one: nothing can be said
    endpoints = {
        t.resource_id.split("/")[1].lower()
        for t in w.targets
        if t.dimension == wiring.VARIANT_DIMENSION and isinstance(t.resource_id, str) and t.resource_id.count("/") == 3
    }
    for p in w.policies:
        rid = p.resource_id
        if p.dimension != wiring.VARIANT_DIMENSION or not isinstance(rid, str) or rid.count("/") != 3:
            continue
        if rid.split("/")[1].lower() in endpoints:
            continue
        v.find(WAKE, "no-scalable-target", p.ref, f"scaling policy {p.label} scales {rid} ({p.dimension}), which no "
               "scalable target in this stack registers: App Auto Scaling refuses a policy on an unregistered "
               "target, so the variant never leaves its initial instance count. Fix: register a scalable target "
               f"(MinCapacity 0) on {rid} with {wiring.VARIANT_DIMENSION}.")  # fmt: skip


def _cooldown(path: Path, config: Mapping[str, Any], v: Verdicts) -> None:
    """Advisory, found with the simulator: with more than one copy, a short step cooldown overshoots."""
    step, target = path.step, path.target
    if step is None or target is None or path.can_reach_zero is False:
        return
    high, cooldown = target.max_capacity, step.cooldown
    if not is_num(high) or high <= 1 or not is_num(cooldown):
        return
    least = config["minStepCooldownS"]
    if cooldown < least:
        v.find(COOLDOWN, "short-cooldown", step.ref,
               f"step policy for {path.unit.label} has Cooldown {cooldown:g} s while up to {high:g} copies are "
               "allowed: during a 3-6 min cold start the wake alarm re-fires every minute and each expired cooldown "
               "adds a copy on another instance (the simulator put it at +28% cost for the seed's settings with 3 "
               f"copies). Fix: Cooldown >= {least} s (about a cold start), or MaxCapacity 1.")  # fmt: skip


def _safely(v: Verdicts, rules: tuple[str, ...], ref: str, fn: Callable[[], object]) -> None:
    """One unit or resource at a time: a value no rule foresaw makes that one not judged, never the stack."""
    try:
        fn()
    except Exception as e:  # crash-proof by contract; the reason names the value's problem
        for rule in rules:
            v.cannot(rule, ref, "properties", f"could not judge ({type(e).__name__}: {str(e)[:160]})")


def judge(w: Wiring, config: Mapping[str, Mapping[str, Any]] | None = None) -> Judgement:
    """Every rule over the whole wiring; `config` is each rule's resolved policy config."""
    idx = w.index()
    j = Judgement()
    v = j.verdicts
    min_instances, limits, cooldown = (_config(config, r) for r in (MIN_INSTANCES, CEILINGS, COOLDOWN))
    # Each call below runs at once, inside its iteration: the closures need no bound defaults.
    for cfg in w.configs:
        _safely(v, (MIN_INSTANCES,), cfg.ref, lambda: min_instances_zero(cfg, min_instances, v))  # noqa: B023
        _safely(v, (CEILINGS,), cfg.ref, lambda: ceilings(cfg, limits, v))  # noqa: B023
    for t in w.targets:
        _safely(v, (CEILINGS,), t.ref, lambda: ceilings(t, limits, v))  # noqa: B023
    units = [ic_unit(ic) for ic in w.ics] + _variant_units(idx, w, v)
    for ic in w.ics:
        _safely(v, (WAKE,), ic.ref, lambda: _host(idx, ic, v))  # noqa: B023
    used: set[str] = set()
    unit_rules = (TARGET_MIN, WAKE, SCALE_IN)
    for unit in units:
        path = Path(unit)
        try:
            path = judge_unit(idx, unit)
            _cooldown(path, cooldown, path.verdicts)
            used.update(t.ref for t in path.targets)
        except Exception as e:  # crash-proof by contract, one unit at a time
            path.verdicts = Verdicts()
            for rule in unit_rules:
                path.verdicts.cannot(
                    rule, unit.node.ref, "properties", f"could not judge ({type(e).__name__}: {str(e)[:160]})"
                )
        j.paths.append(path)
        v.extend(path.verdicts)
    _safely(v, (WAKE,), "", lambda: _orphans(w, used, v))
    _safely(v, (WAKE,), "", lambda: _untargeted_variant_policies(w, v))
    return j


def _orphans(w: Wiring, used: set[str], v: Verdicts) -> None:
    """Targets on inference-component copies that nothing in the stack ties to a component."""
    for t in w.targets:
        if t.ref in used or t.dimension != wiring.SCALABLE_DIMENSION:
            continue
        hidden_name = next((ic.name for ic in w.ics if isinstance(ic.name, Opaque)), None)
        if isinstance(t.resource_id, Opaque):
            v.cannot(WAKE, t.ref, "resourceId", f"{t.resource_id.why}, and no reference ties it to a component")
        elif hidden_name is not None:
            v.cannot(
                WAKE, t.ref, "resourceId", f"cannot be tied to a component: a component's name is {hidden_name.why}"
            )
        else:
            v.find(WAKE, "orphan-target", t.ref, f"scalable target {shown(t.resource_id)} is tied to no inference "
                   "component in this stack (no reference, and no component of that name): its policies scale "
                   "nothing that is judged here. Fix: build ResourceId from the component's name.")  # fmt: skip
