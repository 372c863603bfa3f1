"""Application Auto Scaling's step-scaling policy, as a pure function of its spec and the breach.

The engine owns the cooldown and the clamping to the scalable target (they need time and the
target's current minimum); what is left here — which interval the breach falls in and what capacity
its adjustment asks for — is the part a broken wiring most often gets wrong (no interval containing
the breach, an ExactCapacity of 0, a percentage of zero copies), so it is kept testable on its own.
"""

from __future__ import annotations

import math

from sagezero.simulate.machinery import StepInterval, StepSpec


def interval(steps: tuple[StepInterval, ...], delta: float) -> StepInterval | None:
    """The step whose bounds contain `delta` (lower inclusive, upper exclusive, None unbounded)."""
    for s in steps:
        if (s.lower is None or delta >= s.lower) and (s.upper is None or delta < s.upper):
            return s
    return None


def new_capacity(adjustment_type: str, adjustment: float, desired: int, min_magnitude: int | None) -> int:
    """The desired copy count an adjustment asks for, before the scalable target's bounds.

    PercentChangeInCapacity: that percentage of the current desired count, rounded toward zero, then
    raised to `min_magnitude` (in the adjustment's direction) when given — so a percentage of zero
    copies adds nothing unless a minimum magnitude is set.
    """
    if adjustment_type == "ChangeInCapacity":
        return desired + int(adjustment)
    if adjustment_type == "ExactCapacity":
        return int(adjustment)
    if adjustment_type == "PercentChangeInCapacity":
        change = math.trunc(desired * adjustment / 100.0)
        if min_magnitude is not None and adjustment > 0:
            change = max(change, min_magnitude)
        elif min_magnitude is not None and adjustment < 0:
            change = min(change, -min_magnitude)
        return desired + change
    raise ValueError(f"unknown adjustment type {adjustment_type!r}")


def apply(spec: StepSpec, desired: int, delta: float) -> int | None:
    """The capacity the policy asks for at this breach delta; None when no interval contains it (the
    policy does nothing, and no cooldown starts)."""
    s = interval(spec.steps, delta)
    if s is None:
        return None
    return new_capacity(spec.adjustment_type, s.adjustment, desired, spec.min_adjustment_magnitude)
