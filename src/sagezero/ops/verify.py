"""Check a deployed tenant's live wiring with the rules the policy pack applies to the program.

After `pulumi up` the program and the account can still disagree (a console edit, a hand-made alarm,
a region that rewrote a value). `verify` reads the account into the neutral wiring model and runs
the very same rules the policy pack runs (`sagezero.rules`), plus the component's own state.
A minimum of 1 held by `sagezero warm`'s own scheduled fall-back is reported, not failed. An
asynchronous tenant is judged the same way, its endpoint variant being the unit that scales to zero.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass, field

from sagezero.ops.live import LiveStack, fetch, to_wiring
from sagezero.ops.target import AwsClients, Target
from sagezero.ops.warm import hold_times
from sagezero.rules import Judgement, judge
from sagezero.rules.verdicts import MIN_INSTANCES, SCALE_IN, TARGET_MIN, WAKE


@dataclass(frozen=True)
class Finding:
    """One check. `ok` False is a break; `ref` is the ARN or name to fix."""

    check: str
    ok: bool
    ref: str
    message: str


@dataclass
class VerifyReport:
    target: Target
    findings: list[Finding] = field(default_factory=list)
    asynchronous: bool = False
    """The tenant is an asynchronous endpoint (its variant scales to zero; there is no component)."""

    @property
    def broken(self) -> list[Finding]:
        return [f for f in self.findings if not f.ok]


def _ok(report: VerifyReport, check: str, ref: str, message: str) -> None:
    report.findings.append(Finding(check, True, ref, message))


def _break(report: VerifyReport, check: str, ref: str, message: str) -> None:
    report.findings.append(Finding(check, False, ref, message))


def _check_ic(report: VerifyReport, live: LiveStack) -> None:
    name = live.target.inference_component_name
    if live.ic is None:
        _break(report, "inference-component", name, f"inference component {name} not found in this region")
        return
    status = str(live.ic.get("InferenceComponentStatus"))
    if live.ic.get("EndpointName") != live.target.endpoint_name:
        _break(report, "inference-component", name,
               f"{name} is on endpoint {live.ic.get('EndpointName')!r}, not {live.target.endpoint_name!r}")  # fmt: skip
    elif status == "Failed":
        reason = live.ic.get("FailureReason", "no reason given")
        _break(report, "inference-component", name, f"{name} is Failed: {reason}")
    else:
        _ok(report, "inference-component", name, f"{name} is {status}")


RULES = (MIN_INSTANCES, TARGET_MIN, WAKE, SCALE_IN)
"""The pack's mandatory wiring rules, judged on the live account exactly as on a program."""


def _held_until(live: LiveStack, now: dt.datetime) -> dt.datetime | None:
    hold = [until for until in hold_times(live.scheduled_actions).values() if until > now]
    return max(hold) if hold else None


def verify(
    clients: AwsClients, target: Target, *, now: Callable[[], dt.datetime] = lambda: dt.datetime.now(dt.UTC)
) -> VerifyReport:
    """Read the tenant's resources and judge every link with the pack's own rules; no writes."""
    live = fetch(clients, target)
    report = VerifyReport(target, asynchronous=live.asynchronous)
    if not live.by_variant:
        _check_ic(report, live)
    if live.endpoint is None:
        _break(report, "endpoint", target.endpoint_name, f"endpoint {target.endpoint_name} not found in this region")
    elif live.endpoint_config is None:
        name = str(live.endpoint.get("EndpointConfigName"))
        _break(report, "endpoint-config", name, f"endpoint config {name} of {target.endpoint_name} not found")
    w, _ic = to_wiring(live)
    until = _held_until(live, now())
    for t in w.targets:
        if until is not None and t.min_capacity == 1:
            # `sagezero warm` holds MinCapacity 1 and has scheduled the fall-back to 0: judge the wiring at 0.
            t.min_capacity = 0
            _ok(
                report,
                "warm-hold",
                t.ref,
                f"MinCapacity 1 held by `sagezero warm` until {until:%Y-%m-%d %H:%M} UTC, then back to 0",
            )
    judgement = judge(w)
    # The wake and scale-in rules judge a unit only along a target that lets it reach zero: without one
    # (`no-scalable-target`, `min-capacity`) they found nothing because nothing was there, so no "ok".
    traced = any(p.target is not None and p.can_reach_zero is not False for p in judgement.paths)
    # A tenant judged by its variants whose endpoint (or config) is not there has nothing to judge: no
    # "ok" for rules that found nothing because there was nothing (the endpoint's own break says it).
    absent = live.by_variant and live.endpoint_config is None
    for rule in RULES:
        mine = judgement.verdicts.for_rule(rule)
        for f in mine.findings:
            _break(report, f"{rule}:{f.kind}", f.ref, f.message)
        for u in mine.unjudged:
            _break(report, f"{rule}:not-judged", u.ref, f"could not judge {u.what}: {u.why}")
        if not mine.findings and not mine.unjudged and not absent and (traced or rule not in (WAKE, SCALE_IN)):
            unit = target.endpoint_name if live.by_variant else target.inference_component_name
            _ok(report, rule, unit, _passed(rule, judgement, by_variant=live.by_variant))
    return report


def _passed(rule: str, judgement: Judgement, *, by_variant: bool = False) -> str:
    path = judgement.paths[0] if judgement.paths else None
    if rule == WAKE and path is not None and path.alarm is not None and path.step is not None:
        return f"alarm {path.alarm.label} on {path.alarm.metric} fires step policy {path.step.label}"
    if rule == TARGET_MIN and path is not None and path.target is not None:
        unit = "instances" if by_variant else "copies"
        return f"{unit} {path.target.min_capacity}..{path.target.max_capacity}"
    return "intact"


def render(report: VerifyReport) -> str:
    t = report.target
    unit = "(asynchronous)" if report.asynchronous else f"/ {t.inference_component_name or 'no component'}"
    lines = [f"sagezero verify — {t.endpoint_name} {unit}"]
    for f in report.findings:
        lines.append(f"  {'ok  ' if f.ok else 'FAIL'} {f.check}: {f.message}")
        if not f.ok:
            lines.append(f"       fix: {f.ref}")
    n = len(report.broken)
    lines.append(f"  {'wiring intact' if not n else f'{n} broken link(s)'}")
    return "\n".join(lines)
