"""CloudWatch's evaluation of the wake alarm, as pure functions the engine calls once per period.

Kept apart from the event loop so each rule (statistic, comparison, M of N, missing data) can be
pinned by a test on its own, and so the engine only has to decide *when* to evaluate: a period with
invocations and the N periods after it (after those the window is all missing, so the state cannot
change again until the next invocation). That keeps an idle alarm free: O(periods with traffic),
never O(seconds).

The metric: NoCapacityInvocationFailures gets one sample per invocation — 1 for a no-capacity
failure, 0 for any other answered request (`Mechanics.no_capacity_zero_samples`); a period without
invocations has no datapoint (missing data).
"""

from __future__ import annotations

from collections.abc import Sequence

from sagezero.simulate.machinery import AlarmSpec

OK, ALARM, INSUFFICIENT_DATA = "OK", "ALARM", "INSUFFICIENT_DATA"


def datapoint(statistic: str, failures: int, served: int) -> float | None:
    """One period's datapoint from its samples: `failures` ones and `served` zeros (None: no samples)."""
    samples = failures + served
    if samples == 0:
        return None
    if statistic == "Maximum":
        return 1.0 if failures else 0.0
    if statistic == "Minimum":
        return 0.0 if served else 1.0
    if statistic == "Sum":
        return float(failures)
    if statistic == "SampleCount":
        return float(samples)
    if statistic == "Average":
        return failures / samples
    raise ValueError(f"unknown statistic {statistic!r}")


def breaches(comparison: str, value: float, threshold: float) -> bool:
    """Whether one datapoint is outside the threshold."""
    if comparison == "GreaterThanOrEqualToThreshold":
        return value >= threshold
    if comparison == "GreaterThanThreshold":
        return value > threshold
    if comparison == "LessThanThreshold":
        return value < threshold
    if comparison == "LessThanOrEqualToThreshold":
        return value <= threshold
    raise ValueError(f"unknown comparison {comparison!r}")


def evaluate(spec: AlarmSpec, window: Sequence[float | None], state: str) -> str:
    """The alarm's state after evaluating `window` (the last `evaluation_periods` datapoints, oldest
    first; None: missing), given its current `state`.

    ALARM when at least `datapoints` of them breach. Missing datapoints: `breaching` counts them as
    breaching, `notBreaching` as not. `missing` and `ignore` fill them with nothing, so the present
    datapoints decide only when they can: ALARM when enough of them breach, OK when one of them does
    not breach; otherwise — all missing, or only breaching ones, too few for ALARM —
    INSUFFICIENT_DATA (`missing`) or the current state (`ignore`).

    That is CloudWatch's table "How alarm state is evaluated when data is missing" (user guide,
    "Configuring how CloudWatch alarms treat missing data"): with 2 of 3 datapoints to alarm, `- - X`
    gives INSUFFICIENT_DATA under `missing` and "retain current state" under `ignore`, while `- - 0`
    gives OK under both. Not modelled: CloudWatch's look-back over a few periods before the window
    for present datapoints when some are missing (the table's `0 - X - -` is OK because of the 0
    before the window; read here as `X - -`).
    """
    present = [v for v in window if v is not None]
    missing = len(window) - len(present)
    bad = sum(1 for v in present if breaches(spec.comparison, v, spec.threshold))
    treat = spec.treat_missing
    if treat == "breaching":
        bad += missing
    elif treat not in ("notBreaching", "missing", "ignore"):
        raise ValueError(f"unknown treat_missing {treat!r}")
    if bad >= spec.datapoints:
        return ALARM
    if missing and treat in ("missing", "ignore") and bad == len(present):
        # nothing present contradicts a breach, yet too few breach: the data cannot decide
        return INSUFFICIENT_DATA if treat == "missing" else state
    return OK


def breach_delta(aggregation: str, window: Sequence[float | None], threshold: float) -> float:
    """What the step policy selects its interval with: the alarm's present datapoints aggregated
    (the policy's MetricAggregationType) minus the threshold. With no datapoint present (an alarm in
    ALARM only through `breaching` missing data) the metric is taken to sit at the threshold: 0."""
    present = [v for v in window if v is not None]
    if not present:
        return 0.0
    if aggregation == "Maximum":
        value = max(present)
    elif aggregation == "Minimum":
        value = min(present)
    elif aggregation == "Average":
        value = sum(present) / len(present)
    else:
        raise ValueError(f"unknown metric aggregation {aggregation!r}")
    return value - threshold
