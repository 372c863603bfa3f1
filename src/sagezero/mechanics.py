"""How AWS's scaling machinery behaves around a scale-to-zero endpoint, as numbers with their sources.

One place for the behaviour that `status` (idle time left) and `simulate` (the whole model) assume,
so the estimate on screen and the simulation agree. Pure data: no boto3, no Pulumi. Every value is
overridable (`simulate --set name=value`); the `SOURCES` table says where each default comes from and
how sure it is, and docs/simulator.md repeats it for readers.
"""

from __future__ import annotations

import dataclasses
import math
from dataclasses import dataclass
from typing import Any

from sagezero.quote import excerpt


@dataclass(frozen=True)
class Mechanics:
    """Behaviour not set by the stack's config. Times in seconds."""

    # -- CloudWatch / App Auto Scaling ---------------------------------------------------------------
    alarm_action_repeat_s: float = 60.0
    """An alarm with an Auto Scaling action re-invokes it once a minute while it stays in ALARM."""
    alarm_evaluation_delay_s: float = 10.0
    """Lag between a datapoint's period closing and the alarm evaluating it (metric ingestion)."""
    scaling_activity_delay_s: float = 5.0
    """From a policy invocation to SageMaker receiving the new desired copy count."""
    tracking_period_s: float = 10.0
    """Period of the high-resolution ConcurrentRequestsPerCopy metric target tracking watches."""
    tracking_scale_out_datapoints: int = 3
    """Target tracking's managed high alarm: datapoints above target before it scales out."""
    tracking_scale_in_s: float = 600.0
    """Target tracking's managed low alarm: how long the metric must stay below target before scale-in."""
    tracking_scale_in_threshold: float = 0.9
    """The low alarm fires below this fraction of the target value."""
    no_capacity_zero_samples: int = 1
    """1: every invocation adds one sample to NoCapacityInvocationFailures — 1 for a no-capacity failure,
    0 for any other answered request — so a period with only served requests has a datapoint (0 under
    Maximum); 0: only failures add samples, and such a period is missing data."""

    # -- SageMaker: copies and instances -------------------------------------------------------------
    instance_provision_s: tuple[float, float] = (120.0, 240.0)
    """Launching an instance for managed instance scaling (uniform range)."""
    image_pull_s_per_gb: tuple[float, float] = (15.0, 40.0)
    """Pulling the image from ECR onto a fresh instance, per GB (uniform range)."""
    container_start_s: tuple[float, float] = (20.0, 60.0)
    """Container start to the first passing /ping (model load), on a warm instance."""
    copy_stop_s: float = 30.0
    """Removing a copy: drain and stop its container."""
    instance_idle_release_s: float = 300.0
    """Managed instance scaling releases an instance this long after its last copy leaves."""
    reserved_memory_mb: int = 1_024
    """Memory SageMaker keeps for itself on each instance."""
    image_size_gb: float = 0.2
    """Compressed image size (sagezero's image on a slim base: ~0.2 GB)."""
    copy_concurrency: int = 1
    """Requests one copy works on at once (the container's worker pool); more wait in its queue."""

    # -- SageMaker asynchronous inference ------------------------------------------------------------
    async_metric_period_s: float = 60.0
    """Period of the backlog metrics an async endpoint publishes (ApproximateBacklogSize,
    ApproximateBacklogSizePerInstance, HasBacklogWithoutCapacity); target tracking's datapoints."""
    async_tracking_scale_in_datapoints: int = 15
    """Target tracking's managed low alarm on a standard-resolution metric: this many one-period datapoints
    below the scale-in threshold before it scales in (the high alarm uses `tracking_scale_out_datapoints`)."""
    async_request_ttl_s: float = 21_600.0
    """RequestTTLSeconds: a request still queued this long after it arrived is marked expired and never
    runs (AWS's default; sagezero's client sends none)."""


DEFAULT = Mechanics()

SOURCES: dict[str, str] = {
    "alarm_action_repeat_s": "CloudWatch user guide, 'Alarm actions': Auto Scaling actions repeat each minute in ALARM",
    "alarm_evaluation_delay_s": "estimate: CloudWatch evaluates shortly after a period closes; order of seconds",
    "scaling_activity_delay_s": "estimate: App Auto Scaling activity start as seen in DescribeScalingActivities",
    "tracking_period_s": "SageMaker: ...ConcurrentRequestsPerCopyHighResolution is emitted every 10 s",
    "tracking_scale_out_datapoints": "App Auto Scaling target tracking: high alarm on 3 datapoints",
    "tracking_scale_in_s": "calibrated: idle to zero copies took ~10-15 min with the seed's cooldowns (FACTS.md); "
    "standard-resolution target tracking uses 15 datapoints of 1 min",
    "tracking_scale_in_threshold": "App Auto Scaling target tracking: scale in only when ~10% below target",
    "no_capacity_zero_samples": "assumption: SageMaker's per-invocation error metrics (Invocation4XXErrors, "
    "Invocation5XXErrors) send 1 for a failing and 0 for any other invocation (SageMaker developer guide, "
    "'Amazon SageMaker AI metrics in Amazon CloudWatch'); NoCapacityInvocationFailures is taken to do the same",
    "instance_provision_s": "calibrated with the image and container terms to the seed's 3-6 min cold start",
    "image_pull_s_per_gb": "estimate: ECR pull and extract on a fresh instance, 25-75 MB/s",
    "container_start_s": "estimate: model load and first passing /ping; sagezero's server is ready in 0.15 s",
    "copy_stop_s": "estimate: drain in-flight requests and stop the container",
    "instance_idle_release_s": "estimate: managed instance scaling releases empty instances after some minutes",
    "reserved_memory_mb": "estimate: memory SageMaker's agents use on each instance",
    "image_size_gb": "measured: sagezero's image is 0.195 GB (docs/benchmarks.md)",
    "copy_concurrency": "conservative: one prediction at a time per copy, as a GPU model; sagezero_serve runs "
    "SAGEZERO_WORKERS (default: the CPU count) at once",
    "async_metric_period_s": "SageMaker developer guide, 'Monitoring asynchronous endpoints': the backlog metrics "
    "are published at a one-minute frequency",
    "async_tracking_scale_in_datapoints": "App Auto Scaling user guide, target tracking: the managed low alarm "
    "needs 15 datapoints of 1 min (the high alarm 3 of 1 min) on standard-resolution metrics",
    "async_request_ttl_s": "SageMaker Runtime API, InvokeEndpointAsync RequestTTLSeconds: maximum age in the queue "
    "before a request is marked expired, default 6 hours (21,600 s); sagezero's invoke-async sends none",
}


POSITIVE = frozenset(
    {
        "alarm_action_repeat_s",
        "tracking_period_s",
        "tracking_scale_out_datapoints",
        "copy_concurrency",
        "async_metric_period_s",
        "async_tracking_scale_in_datapoints",
        "async_request_ttl_s",
    }
)
"""Intervals and counts the model divides by or steps with: 0 would divide by zero or never advance."""


class MechanicsError(ValueError):
    """A `--set name=value` the model cannot use."""


def override(base: Mechanics, assignments: dict[str, str]) -> Mechanics:
    """Apply `name=value` strings (ranges as `lo..hi`), with errors that say what was expected."""
    fields = {f.name: f for f in dataclasses.fields(Mechanics)}
    changes: dict[str, Any] = {}
    for name, raw in assignments.items():
        if name not in fields:
            raise MechanicsError(f"unknown setting {name!r}; known: {', '.join(sorted(fields))}")
        current = getattr(base, name)
        try:
            if isinstance(current, tuple):
                lo, _, hi = raw.partition("..")
                value: Any = (float(lo), float(hi or lo))
                if not (0 <= value[0] <= value[1] < math.inf):  # also NaN
                    raise ValueError
            else:
                value = int(raw) if isinstance(current, int) else float(raw)
                if not (0 <= value < math.inf) or (name in POSITIVE and value <= 0):  # also NaN
                    raise ValueError
        except ValueError:
            whole = "a whole number" if isinstance(current, int) else "a finite number"
            shape = (
                "a range lo..hi (seconds, 0 <= lo <= hi)"
                if isinstance(current, tuple)
                else f"{whole} > 0"
                if name in POSITIVE
                else f"{whole} >= 0"
            )
            raise MechanicsError(f"{name}={excerpt(raw)}: expected {shape}") from None
        changes[name] = value
    return dataclasses.replace(base, **changes)
