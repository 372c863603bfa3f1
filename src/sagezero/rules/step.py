"""Judge a wake step policy: does every breach its alarms can produce add capacity from zero, soon enough?

App Auto Scaling picks the step whose interval holds the breach delta (datapoint - threshold; lower
bound inclusive, upper exclusive) and applies it to the current capacity, which is 0 at wake time.
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass
from typing import Any

from sagezero.rules.verdicts import LinkJudgement
from sagezero.values import Opaque, is_num, shown
from sagezero.wiring import ScalingPolicy, Step

ADJUSTMENT_TYPES = ("ChangeInCapacity", "ExactCapacity", "PercentChangeInCapacity")


@dataclass
class StepJudgement(LinkJudgement):
    policy: ScalingPolicy


def step_for(steps: list[Step], delta: float, *, below: bool = False) -> Step | None:
    """The step App Auto Scaling applies for a breach of `delta` (datapoint - threshold). Above the
    threshold the lower bound is inclusive and the upper exclusive; below it, the other way round."""
    for s in steps:
        lo = float(s.lower) if is_num(s.lower) else float("-inf")
        hi = float(s.upper) if is_num(s.upper) else float("inf")
        if (lo < delta <= hi) if below else (lo <= delta < hi):
            return s
    return None


def capacity_from_zero(policy: ScalingPolicy, step: Step) -> float:
    """Desired copies after this step fires at zero copies."""
    adj = float(step.adjustment) if is_num(step.adjustment) else 0.0
    if policy.adjustment_type == "ExactCapacity":
        return adj
    if policy.adjustment_type == "PercentChangeInCapacity":
        # A percentage of 0 is 0; MinAdjustmentMagnitude is the least App Auto Scaling scales by.
        least = policy.min_adjustment_magnitude
        return float(least) if adj > 0 and is_num(least) and least >= 1 else 0.0
    return adj


def _shape(j: StepJudgement, steps: list[Step]) -> None:
    p = j.policy
    if not steps:
        j.rejected.append(("aws-rejects", f"step policy {p.label} has no StepAdjustments"))
        return
    if any(not is_num(s.adjustment) for s in steps):
        j.rejected.append(("aws-rejects", f"step policy {p.label}: every step needs a numeric ScalingAdjustment"))
    ordered = sorted(steps, key=lambda s: float(s.lower) if is_num(s.lower) else float("-inf"))
    for a, b in itertools.pairwise(ordered):
        if not (is_num(a.upper) and is_num(b.lower) and float(a.upper) == float(b.lower)):
            j.rejected.append(
                (
                    "aws-rejects",
                    f"step policy {p.label}: step intervals must neither overlap nor leave gaps "
                    f"([{shown(a.lower)}, {shown(a.upper)}) then [{shown(b.lower)}, {shown(b.upper)}))",
                )
            )
            return


def judge_step(
    policy: ScalingPolicy, deltas: list[float], unbounded: bool, *, max_cooldown_s: float, below: bool = False
) -> StepJudgement:
    """`deltas`: the breach deltas its alarm produces for 1, 2, ... failures; `unbounded`: they keep growing."""
    j = StepJudgement(policy)
    p = policy
    for what, value in (("adjustmentType", p.adjustment_type), ("stepAdjustments", p.steps), ("cooldown", p.cooldown)):
        if isinstance(value, Opaque):
            j.unjudged.append((what, value.why))
    if j.unjudged:
        return j
    if p.adjustment_type not in ADJUSTMENT_TYPES:
        j.rejected.append(
            ("aws-rejects", f"step policy {p.label}: AdjustmentType {shown(p.adjustment_type)} is not one of AWS's")
        )
        return j
    steps: list[Step] = list(p.steps) if isinstance(p.steps, list) else []
    if any(isinstance(x, Opaque) for s in steps for x in (s.lower, s.upper, s.adjustment)):
        j.unjudged.append(("stepAdjustments", "a step bound or adjustment is not known until deployment"))
        return j
    _shape(j, steps)
    _coverage(j, steps, deltas, unbounded, below)
    if is_num(p.cooldown) and p.cooldown > max_cooldown_s:
        j.breaks.append(
            (
                "cooldown-blocks-wake",
                f"step policy {p.label} has Cooldown {p.cooldown:g} s, longer than the earliest return to zero copies "
                f"({max_cooldown_s:g} s after a wake): a request arriving then waits out the rest of the cooldown "
                "before anything wakes the component",
            )
        )
    return j


def _coverage(j: StepJudgement, steps: list[Step], deltas: list[float], unbounded: bool, below: bool) -> None:
    p = j.policy
    probe: list[Any] = list(deltas)
    if unbounded:
        bounds = [float(x) for s in steps for x in (s.lower, s.upper) if is_num(x)]
        probe.append(max([*bounds, *deltas, 0.0]) + 1e6)  # past every finite bound: the tail interval
    for delta in probe:
        chosen = step_for(steps, delta, below=below)
        if chosen is None:
            j.breaks.append(
                (
                    "uncovered-breach",
                    f"step policy {p.label}: no step covers a breach of {delta:+g} relative to the threshold, so "
                    "that alarm adds nothing",
                )
            )
            return
        if capacity_from_zero(p, chosen) < 1:
            how = shown(p.adjustment_type)
            j.breaks.append(
                (
                    "adds-nothing",
                    f"step policy {p.label}: at zero copies the step for a breach of {delta:+g} ({how} "
                    f"{shown(chosen.adjustment)}) leaves 0 copies; expected at least 1",
                )
            )
            return
