"""Check a deployed tenant's live wiring with the rules the policy pack applies to the program.

After `pulumi up` the program and the account can still disagree (a console edit, a hand-made alarm,
a region that rewrote a value). `verify` reads the account and runs the very same `wiring.trace`,
plus the per-resource rules: MinInstanceCount 0, scalable-target min 0, a target-tracking policy.
A minimum of 1 held by `sagezero warm`'s own scheduled fall-back is reported, not failed.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass, field

from sagezero import wiring
from sagezero.ops.live import LiveStack, fetch, to_wiring
from sagezero.ops.target import AwsClients, Target
from sagezero.ops.warm import hold_times


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


def _check_instances(report: VerifyReport, live: LiveStack) -> None:
    ep = live.target.endpoint_name
    if live.endpoint is None:
        _break(report, "endpoint", ep, f"endpoint {ep} not found in this region")
        return
    cfg = live.endpoint_config
    cfg_name = str(live.endpoint.get("EndpointConfigName"))
    if cfg is None:
        _break(report, "endpoint-config", cfg_name, f"endpoint config {cfg_name} of {ep} not found")
        return
    for v in cfg.get("ProductionVariants", []):
        where = f"{cfg_name} variant {v.get('VariantName')}"
        mis = v.get("ManagedInstanceScaling")
        if not mis:
            _break(report, "min-instances-zero", cfg_name,
                   f"{where} has no managed instance scaling, so its instances never go to zero; "
                   "set ManagedInstanceScaling {Status: ENABLED, MinInstanceCount: 0}")  # fmt: skip
        elif mis.get("Status") != "ENABLED" or mis.get("MinInstanceCount") != 0:
            _break(report, "min-instances-zero", cfg_name,
                   f"{where} has managed instance scaling {mis.get('Status')} with MinInstanceCount "
                   f"{mis.get('MinInstanceCount')}; expected ENABLED and 0 (some regions reject 0)")  # fmt: skip
        else:
            _ok(report, "min-instances-zero", cfg_name,
                f"{where}: managed instance scaling ENABLED, instances {mis.get('MinInstanceCount')}.."
                f"{mis.get('MaxInstanceCount')}")  # fmt: skip


def _check_target(report: VerifyReport, live: LiveStack, path: wiring.WakePath, now: dt.datetime) -> None:
    rid = live.target.resource_id
    if path.target is None:
        _break(report, "scalable-target", rid,
               f"no scalable target on {rid} ({wiring.SCALABLE_DIMENSION}): copies never scale, up or down")  # fmt: skip
        return
    low, high = path.target.min_capacity, path.target.max_capacity
    if low == 0:
        _ok(report, "copies-min-zero", path.target.ref, f"copies {low}..{high}")
        return
    hold = [until for until in hold_times(live.scheduled_actions).values() if until > now]
    if hold:
        _ok(report, "copies-min-zero", path.target.ref,
            f"copies {low}..{high}: held warm by `sagezero warm` until {max(hold):%Y-%m-%d %H:%M} UTC, "
            "then back to 0")  # fmt: skip
    else:
        _break(report, "copies-min-zero", path.target.ref,
               f"scalable target MinCapacity is {low}, so copies never reach zero; set it to 0")  # fmt: skip


def verify(
    clients: AwsClients, target: Target, *, now: Callable[[], dt.datetime] = lambda: dt.datetime.now(dt.UTC)
) -> VerifyReport:
    """Read the tenant's resources and judge every link; no writes."""
    live = fetch(clients, target)
    report = VerifyReport(target)
    _check_ic(report, live)
    _check_instances(report, live)
    w, ic = to_wiring(live)
    path = wiring.trace(w, ic)
    _check_target(report, live, path, now())
    if path.target is None:
        return report
    if path.tracking is None:
        _break(report, "target-tracking", path.target.ref,
               f"no target-tracking policy on {wiring.TARGET_TRACKING_METRIC}: once woken, copies never scale "
               "back to zero")  # fmt: skip
    else:
        _ok(report, "target-tracking", path.tracking.ref,
            f"target tracking on {path.tracking.metric_type} at {path.tracking.target_value}")  # fmt: skip
    for b in path.breaks:
        _break(report, f"wake-path:{b.kind}", b.ref, b.message)
    if not path.breaks and path.alarm is not None and path.step is not None:
        _ok(report, "wake-path", path.alarm.ref,
            f"alarm {path.alarm.name} on {wiring.ALARM_METRIC} ({wiring.ALARM_DIMENSION}="
            f"{target.inference_component_name}) fires step policy {path.step.ref}")  # fmt: skip
    return report


def render(report: VerifyReport) -> str:
    t = report.target
    lines = [f"sagezero verify — {t.endpoint_name} / {t.inference_component_name}"]
    for f in report.findings:
        lines.append(f"  {'ok  ' if f.ok else 'FAIL'} {f.check}: {f.message}")
        if not f.ok:
            lines.append(f"       fix: {f.ref}")
    n = len(report.broken)
    lines.append(f"  {'wiring intact' if not n else f'{n} broken link(s)'}")
    return "\n".join(lines)
