"""The wake and return-to-zero rules for one unit that can sit at zero: an inference component, or a
variant of an asynchronous endpoint.

A pass means: a request that finds no capacity trips an alarm that will fire a scaling action that
will add capacity, and idle capacity will go back to zero. Each link is judged by behaviour
(`rules.alarm`, `rules.step`); a link that cannot be read is reported as not judged, and while the
target's minimum is itself unknown, breaks are reported as not judged too (they matter only if the
minimum turns out to be 0).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from sagezero import wiring
from sagezero.mechanics import Mechanics
from sagezero.rules.alarm import AlarmJudgement, Signal, judge_alarm
from sagezero.rules.step import StepJudgement, judge_step
from sagezero.rules.verdicts import SCALE_IN, TARGET_MIN, WAKE, Verdicts
from sagezero.values import Opaque, is_num, shown
from sagezero.wiring import Alarm, Index, Node, ScalableTarget, ScalingPolicy


def earliest_return_to_zero_s(m: Mechanics | None = None) -> float:
    """The soonest copies can be back at zero after a wake: the fastest cold start, then the scale-in window.
    A step cooldown longer than this can hold off the next wake."""
    m = m or Mechanics()
    cold = m.instance_provision_s[0] + m.image_pull_s_per_gb[0] * m.image_size_gb + m.container_start_s[0]
    return cold + m.tracking_scale_in_s


@dataclass
class Unit:
    """Something that can sit at zero and must wake: its scalable target and the signal that wakes it."""

    node: Node
    label: str
    resource_id: Any
    dimension: str
    signal: Signal
    tracking_metrics: frozenset[str]
    custom_tracking_metrics: frozenset[str]


@dataclass
class Path:
    """The links found for one unit (for `plan`'s picture and `verify`'s lines)."""

    unit: Unit
    targets: list[ScalableTarget] = field(default_factory=list)
    """Every scalable target tied to the unit (one is right; more is its own finding)."""
    target: ScalableTarget | None = None
    step: ScalingPolicy | None = None
    alarm: Alarm | None = None
    tracking: ScalingPolicy | None = None
    can_reach_zero: bool | None = None
    """True: MinCapacity 0; None: not known; False: copies never reach zero (nothing to wake)."""
    verdicts: Verdicts = field(default_factory=Verdicts)


class _Out:
    """Findings for one unit; while the minimum is unknown, wake breaks become 'not judged'."""

    def __init__(self, path: Path, conditional: bool) -> None:
        self.v = path.verdicts
        self.conditional = conditional

    def find(self, rule: str, kind: str, ref: str, message: str) -> None:
        if self.conditional:
            self.v.cannot(
                rule, ref, f"[{kind}]", f"the scalable target's MinCapacity is not known; if it is 0: {message}"
            )
        else:
            self.v.find(rule, kind, ref, message)

    def cannot(self, rule: str, ref: str, what: str, why: str) -> None:
        self.v.cannot(rule, ref, what, why)


def _counted(unit: Unit) -> str:
    """What the unit's scalable target counts: copies of an inference component, instances of a variant."""
    return "copies" if unit.dimension == wiring.SCALABLE_DIMENSION else "instances"


def judge_unit(idx: Index, unit: Unit) -> Path:
    path = Path(unit)
    v = path.verdicts
    targets = path.targets = idx.targets_for(unit.resource_id, unit.node, unit.dimension)
    if not targets:
        hidden = unit.resource_id if isinstance(unit.resource_id, Opaque) else idx.hidden_target()
        if hidden is not None:
            v.cannot(TARGET_MIN, unit.node.ref, "scalable target", f"cannot be tied to {unit.label}: a name or id is "
                     f"{hidden.why}")  # fmt: skip
        else:
            v.find(
                TARGET_MIN,
                "no-scalable-target",
                unit.node.ref,
                f"{unit.label} has no scalable target on {unit.dimension}: its {_counted(unit)} stay at the initial "
                f"count and never reach zero. Fix: register a scalable target (MinCapacity 0) on "
                f"{shown(unit.resource_id)}.",
            )
        return path
    if len(targets) > 1:
        v.find(
            WAKE,
            "duplicate-target",
            targets[1].ref,
            f"{len(targets)} scalable targets register {shown(unit.resource_id)}; App Auto Scaling keeps one per "
            "resource and dimension, so the others' settings are lost. Fix: keep one.",
        )
    target = next((t for t in targets if t.min_capacity == 0), targets[0])
    path.target = target
    low = target.min_capacity
    if isinstance(low, Opaque):
        v.cannot(TARGET_MIN, target.ref, "minCapacity", low.why)
        path.can_reach_zero = None
    elif is_num(low) and low == 0:
        path.can_reach_zero = True
    else:
        path.can_reach_zero = False
        v.find(
            TARGET_MIN,
            "min-capacity",
            target.ref,
            f"scalable target {shown(target.resource_id)} has MinCapacity {shown(low)}: {_counted(unit)} never go "
            f"to zero. Fix: set MinCapacity 0 (a step-scaling alarm brings the first one back).",
        )
    _target_link(target, unit, v)
    if path.can_reach_zero is False:
        return path
    out = _Out(path, conditional=path.can_reach_zero is None)
    _target_limits(target, out)
    policies = [p for p in idx.policies_on(target) if _attached(p, target, unit, out)]
    hidden_type = next((p.policy_type for p in policies if isinstance(p.policy_type, Opaque)), None)
    for p in policies:
        if isinstance(p.policy_type, Opaque):
            v.cannot(WAKE, p.ref, "policyType", p.policy_type.why)
    steps = [p for p in policies if p.policy_type == "StepScaling"]
    trackings = [p for p in policies if p.policy_type == "TargetTrackingScaling"]
    if steps or hidden_type is None:
        _wake(idx, unit, path, steps, out)
    if trackings or hidden_type is None:
        _scale_in(unit, path, trackings, out)
    _schedules(idx, target, unit, out)
    return path


def _schedules(idx: Index, target: ScalableTarget, unit: Unit, out: _Out) -> None:
    """A recurring schedule that raises the minimum, with none that brings it back to 0, keeps capacity up."""
    actions = idx.scheduled_on(target)
    raising = [a for a in actions if a.recurring and is_num(a.min_capacity) and a.min_capacity >= 1]
    lowering = [a for a in actions if a.recurring and a.min_capacity == 0]
    for a in actions:
        if isinstance(a.schedule, Opaque) or isinstance(a.min_capacity, Opaque):
            out.cannot(
                SCALE_IN, a.ref, "schedule", (a.schedule if isinstance(a.schedule, Opaque) else a.min_capacity).why
            )
    if raising and not lowering:
        a = raising[0]
        out.find(SCALE_IN, "scheduled-minimum", a.ref, f"scheduled action {a.label} ({shown(a.schedule)}) sets "
                 f"MinCapacity {a.min_capacity:g} on {unit.label} and no recurring action sets it back to 0: "
                 "capacity never returns to zero")  # fmt: skip


def _attached(p: ScalingPolicy, target: ScalableTarget, unit: Unit, out: _Out) -> bool:
    """A policy tied to the target by reference must also name it: AWS attaches policies by value.
    (Judged against the id the unit needs; a wrong id on the target itself is its own finding.)"""
    want = unit.resource_id if isinstance(unit.resource_id, str) else target.resource_id
    pairs = (("resourceId", p.resource_id, want), ("scalableDimension", p.dimension, unit.dimension),
             ("serviceNamespace", p.namespace, wiring.SERVICE_NAMESPACE))  # fmt: skip
    for what, mine, theirs in pairs:
        if isinstance(mine, str) and isinstance(theirs, str) and mine != theirs:
            out.find(WAKE, "policy-target-mismatch", p.ref, f"scaling policy {p.label} is tied to scalable target "
                     f"{shown(target.resource_id)} but its {what} is {shown(mine)}, not {shown(theirs)}: AWS attaches "
                     "it elsewhere (or refuses it), so it never acts on this target")  # fmt: skip
            return False
    return True


def _target_link(target: ScalableTarget, unit: Unit, v: Verdicts) -> None:
    if isinstance(target.dimension, Opaque):
        v.cannot(WAKE, target.ref, "scalableDimension", target.dimension.why)
    rid, want = target.resource_id, unit.resource_id
    if isinstance(rid, Opaque) or isinstance(want, Opaque):
        if target.linked_refs("resourceId"):
            v.cannot(WAKE, target.ref, "resourceId", (rid if isinstance(rid, Opaque) else want).why)
        return
    if not isinstance(rid, str) or rid != str(want):
        v.find(
            WAKE,
            "target-resource-id",
            target.ref,
            f"scalable target is tied to {unit.label} by reference, but its ResourceId is {shown(rid)}; App Auto "
            f"Scaling needs {shown(want)}. Fix: build the id from the component's name.",
        )
    if isinstance(target.namespace, str) and target.namespace != wiring.SERVICE_NAMESPACE:
        v.find(
            WAKE,
            "target-namespace",
            target.ref,
            f"scalable target uses namespace {target.namespace!r}, expected 'sagemaker'",
        )


def _target_limits(target: ScalableTarget, out: _Out) -> None:
    high, low = target.max_capacity, target.min_capacity
    if isinstance(high, Opaque):
        out.cannot(WAKE, target.ref, "maxCapacity", high.why)
    elif is_num(high) and high < 1:
        out.find(WAKE, "max-capacity-zero", target.ref, f"scalable target {shown(target.resource_id)} has MaxCapacity "
                 f"{high:g}: nothing can ever add a copy. Fix: MaxCapacity >= 1.")  # fmt: skip
    elif is_num(high) and is_num(low) and low > high:
        out.find(WAKE, "aws-rejects", target.ref, f"MinCapacity {low:g} exceeds MaxCapacity {high:g}; AWS rejects it")
    if isinstance(target.scale_out_suspended, Opaque):
        out.cannot(WAKE, target.ref, "suspendedState.dynamicScalingOutSuspended", target.scale_out_suspended.why)
    elif target.scale_out_suspended:
        out.find(WAKE, "scale-out-suspended", target.ref, f"scalable target {shown(target.resource_id)} has dynamic "
                 "scale-out suspended: the wake policy's action is ignored. Fix: DynamicScalingOutSuspended false.")  # fmt: skip
    if isinstance(target.scale_in_suspended, Opaque):
        out.cannot(SCALE_IN, target.ref, "suspendedState.dynamicScalingInSuspended", target.scale_in_suspended.why)
    elif target.scale_in_suspended:
        out.find(SCALE_IN, "scale-in-suspended", target.ref, f"scalable target {shown(target.resource_id)} has dynamic "
                 "scale-in suspended: copies never go back to zero. Fix: DynamicScalingInSuspended false.")  # fmt: skip


def _fires(alarm: Alarm, step: ScalingPolicy) -> bool | None:
    """Whether the alarm's actions hold the step policy's ARN; None: hidden until deployment."""
    if isinstance(alarm.actions, Opaque):
        return None
    known = [a for a in alarm.actions if isinstance(a, str)]
    if isinstance(step.arn, str):
        if step.arn in known:
            return True
        return None if len(known) < len(alarm.actions) else False
    return None if alarm.links("alarmActions", step) else False


def _wake(idx: Index, unit: Unit, path: Path, steps: list[ScalingPolicy], out: _Out) -> None:
    sig, label = unit.signal, unit.label
    if not steps:
        out.find(WAKE, "no-step-policy", path.target.ref if path.target else unit.node.ref,
                 f"{label} can scale to zero but has no step-scaling policy to wake it; add a StepScaling policy "
                 "(ChangeInCapacity, lower bound 0, +1) on its scalable target")  # fmt: skip
        return
    max_cooldown = earliest_return_to_zero_s()
    good = False
    maybe: list[tuple[str, str, str]] = []  # what stops a pair that is clean as far as known from passing
    pending: list[tuple[str, str, str]] = []
    others: list[tuple[str, str, str]] = []
    breaks: list[tuple[str, str, str]] = []
    wired_any = False
    for step in steps:
        for alarm in idx.alarms_firing(step):
            wired = _fires(alarm, step)
            if wired is False:
                breaks.append(("not-wired", alarm.ref, f"alarm {alarm.label} is tied to the step policy by reference "
                               f"but its actions are {shown(alarm.actions)}, not the policy's ARN {shown(step.arn)}"))  # fmt: skip
                continue
            wired_any = True
            aj: AlarmJudgement = judge_alarm(alarm, sig)
            sj: StepJudgement = judge_step(
                step, aj.deltas or [0.0], aj.unbounded, max_cooldown_s=max_cooldown, below=aj.below and bool(aj.deltas)
            )
            for kind, msg in aj.spurious + aj.rejected:
                out.find(WAKE, kind, alarm.ref, msg)
            for kind, msg in sj.rejected:
                out.find(WAKE, kind, step.ref, msg)
            hidden = [(alarm.ref, w, y) for w, y in aj.unjudged] + [(step.ref, w, y) for w, y in sj.unjudged]
            if wired is None:
                hidden.append((alarm.ref, "alarmActions", "not known until deployment (tied by reference)"))
            found = [(k, alarm.ref, m) for k, m in aj.breaks] + [(k, step.ref, m) for k, m in sj.breaks]
            foreign = [b for b in aj.breaks if b[0] == "wrong-metric"]
            if foreign and not hidden:
                # Another metric's alarm on the wake policy: when it fires cannot be told from here.
                others.append((alarm.ref, "alarm on another metric", f"{foreign[0][1]}; it also fires the wake "
                                "policy, and sagezero cannot tell when (it could keep the unit from staying at zero)"))  # fmt: skip
            clean = not found and not aj.spurious and not aj.rejected and not sj.rejected
            if clean and not hidden and not good:
                good = True
                path.alarm, path.step = alarm, step
            elif not good:
                path.alarm, path.step = path.alarm or alarm, path.step or step
            if clean:
                maybe += hidden
            else:
                pending += hidden  # this pair cannot wake whatever the hidden values are: its breaks stand
            breaks += found
    if good:
        for ref, what, why in others:
            out.cannot(WAKE, ref, what, why)
        return
    for ref, what, why in maybe + pending:
        out.cannot(WAKE, ref, what, why)
    if maybe:
        return  # a pair that is clean as far as known may yet wake it: no verdict on the others
    for kind, ref, msg in breaks:
        out.find(WAKE, kind, ref, f"{label}: {msg}")
    if wired_any or any(k == "not-wired" for k, _, _ in breaks):
        return
    path.step = path.step or steps[0]
    hidden_link = next((s.arn for s in steps if isinstance(s.arn, Opaque) and not idx.alarms_firing(s)), None)
    hidden_link = hidden_link or idx.hidden_alarm()
    watching = [a for a in idx.alarms_watching(sig.metric, sig.dimension, sig.value, unit.node)]
    if hidden_link is not None:
        out.cannot(WAKE, (watching[0] if watching else unit.node).ref, "alarm actions",
                   f"whether an alarm fires the step policy cannot be told: an ARN or alarm action is "
                   f"{hidden_link.why}")  # fmt: skip
    elif watching:
        a = watching[0]
        path.alarm = a
        out.find(WAKE, "not-wired", a.ref, f"alarm {a.label} watches {label} but its actions do not include the step "
                 "policy's ARN; set AlarmActions to the step-scaling policy ARN")  # fmt: skip
    else:
        out.find(WAKE, "no-alarm", unit.node.ref, f"no CloudWatch alarm on {sig.series} fires the step policy, so "
                 f"at zero {label} never wakes up; add one ({_alarm_recipe(sig)})")  # fmt: skip


def _alarm_recipe(sig: Signal) -> str:
    """The alarm sagezero's component deploys for this kind of signal: the fix to suggest."""
    if sig.persistent:  # HasBacklogWithoutCapacity: published once a minute while requests wait
        return "Average, >= 1, period 60 s"
    return "Maximum, >= 1, period 30 s"


def _tracking_problem(unit: Unit, p: ScalingPolicy) -> tuple[str, str] | Opaque | None:
    """None: this policy lets the unit go back to zero when idle; (kind, message): it holds capacity up;
    Opaque: cannot be told."""
    for value in (p.target_value, p.metric_type, p.custom_metric):
        if isinstance(value, Opaque):
            return value
    if is_num(p.target_value) and p.target_value <= 0:
        return "tracking-target", f"target tracking {p.label} has TargetValue {p.target_value:g}, must be above 0"
    if p.custom_metric is not None:
        ns, metric, dims = p.custom_metric
        if isinstance(dims, Opaque):
            return dims
        own = isinstance(dims, Mapping) and dict(dims) == {unit.signal.dimension: unit.signal.value}
        if ns == wiring.ALARM_NAMESPACE and isinstance(metric, str) and metric in unit.custom_tracking_metrics:
            if own:
                return None
            return (
                "tracking-metric",
                f"target tracking {p.label} follows {metric} of {shown(dims)}, not of "
                f"{unit.label} ({unit.signal.dimension}={shown(unit.signal.value)})",
            )
        return Opaque(f"customized metric {shown(ns)}/{shown(metric)}: sagezero cannot tell whether it falls when "
                      f"{unit.label} is idle")  # fmt: skip
    if isinstance(p.metric_type, str) and p.metric_type in unit.tracking_metrics:
        return None
    expected = ", ".join(sorted(unit.tracking_metrics | unit.custom_tracking_metrics))
    return (
        "tracking-metric",
        f"target tracking {p.label} follows {shown(p.metric_type)}, which does not measure "
        f"{unit.label}'s load; expected {expected}",
    )


def _scale_in(unit: Unit, path: Path, trackings: list[ScalingPolicy], out: _Out) -> None:
    """App Auto Scaling scales in only when every target-tracking policy with scale-in enabled agrees, so
    each of them must fall when idle, and at least one must be able to scale in."""
    target = path.target
    assert target is not None
    if not trackings:
        metric = sorted(unit.tracking_metrics | unit.custom_tracking_metrics)[0]
        out.find(SCALE_IN, "no-target-tracking", target.ref, f"{unit.label} can be at zero but no target-tracking "
                 "policy scales it back down once woken, so it stays at its peak. Fix: add a TargetTrackingScaling "
                 f"policy on {metric} on the same scalable target.")  # fmt: skip
        return
    path.tracking = trackings[0]
    hidden_flag = [p for p in trackings if isinstance(p.disable_scale_in, Opaque)]
    for p in hidden_flag:
        out.cannot(SCALE_IN, p.ref, "disableScaleIn", p.disable_scale_in.why)
    voting = [p for p in trackings if p.disable_scale_in is not True and p not in hidden_flag]
    if not voting:
        if not hidden_flag:
            p = trackings[0]
            out.find(SCALE_IN, "scale-in-disabled", p.ref, f"target tracking {p.label} has DisableScaleIn true (and no "
                     "other policy scales in): capacity never goes back to zero")  # fmt: skip
        return
    for p in voting:
        verdict = _tracking_problem(unit, p)
        if verdict is None:
            path.tracking = p
        elif isinstance(verdict, Opaque):
            out.cannot(SCALE_IN, p.ref, "targetTrackingScalingPolicyConfiguration", verdict.why)
        else:
            kind, msg = verdict
            out.find(SCALE_IN, kind, p.ref, msg + " (scale-in needs every target-tracking policy to agree)")
