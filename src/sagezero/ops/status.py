"""One screen per tenant: is it up, how many copies, is the wake alarm armed, and how long until zero.

An asynchronous tenant has instances instead of copies, and a queue: its screen shows the instances
(desired and serving, and what the scalable target allows), the backlog, the age of the oldest queued
request and whether requests wait without capacity (the signal its wake alarm watches).

Read-only. The idle-time estimate uses the same target-tracking behaviour the simulator models
(`sagezero.mechanics`), so "~6 min left" here and the simulator's timeline tell the same story.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, TypeVar

from sagezero import wiring
from sagezero.mechanics import DEFAULT, Mechanics
from sagezero.ops.errors import OpsError, call
from sagezero.ops.live import fetch
from sagezero.ops.target import AwsClients, Target
from sagezero.ops.warm import copy_counts, hold_times, instance_count

INVOCATIONS_METRIC = "Invocations"
BACKLOG_METRIC = "ApproximateBacklogSize"
OLDEST_METRIC = "ApproximateAgeOfOldestRequest"
BACKLOG_LOOKBACK = dt.timedelta(minutes=15)
"""SageMaker publishes the queue metrics every minute while the endpoint exists; the latest datapoint in
this window is the queue now (none: nothing was queued lately)."""
T = TypeVar("T")


@dataclass(frozen=True)
class Activity:
    start: dt.datetime
    status: str
    description: str
    cause: str


@dataclass(frozen=True)
class AlarmState:
    name: str
    state: str
    reason: str


@dataclass
class Status:
    target: Target
    now: dt.datetime
    endpoint_status: str | None
    ic_status: str | None
    desired_copies: int
    current_copies: int
    instances: int
    min_copies: int | None
    max_copies: int | None
    alarms: list[AlarmState] = field(default_factory=list)
    activities: list[Activity] = field(default_factory=list)
    last_invocation: dt.datetime | None = None
    lookback: dt.timedelta = dt.timedelta(hours=3)
    hold_until: dt.datetime | None = None
    idle_left: dt.timedelta | None = None
    unavailable: dict[str, str] = field(default_factory=dict)
    """Optional reads that failed (e.g. a role without cloudwatch:GetMetricStatistics): what, and why."""
    asynchronous: bool = False
    """An asynchronous endpoint: no component; `instances` and `desired_instances` are its variant's,
    `min_copies`/`max_copies` what its scalable target allows in instances."""
    desired_instances: int | None = None
    backlog: float | None = None
    """ApproximateBacklogSize (Average) of the latest minute; None: no datapoint lately."""
    oldest_request_age_s: float | None = None
    backlog_without_capacity: float | None = None
    """HasBacklogWithoutCapacity of the latest minute: 1 while requests wait and no instance runs."""

    def as_dict(self) -> dict[str, Any]:
        def iso(t: dt.datetime | None) -> str | None:
            return t.isoformat() if t else None

        extra: dict[str, Any] = {}
        if self.asynchronous:
            extra = {
                "desired_instances": self.desired_instances,
                "allowed_instances": {"min": self.min_copies, "max": self.max_copies},
                "backlog": {
                    "size": self.backlog,
                    "oldest_request_age_s": self.oldest_request_age_s,
                    "without_capacity": self.backlog_without_capacity,
                },
            }
        return {
            "asynchronous": self.asynchronous,
            **extra,
            "endpoint": self.target.endpoint_name,
            "inference_component": self.target.inference_component_name,
            "now": iso(self.now),
            "endpoint_status": self.endpoint_status,
            "inference_component_status": self.ic_status,
            "copies": {"desired": self.desired_copies, "current": self.current_copies,
                       "min": self.min_copies, "max": self.max_copies},
            "instances": self.instances,
            "alarms": [a.__dict__ for a in self.alarms],
            "activities": [{**a.__dict__, "start": iso(a.start)} for a in self.activities],
            "last_invocation": iso(self.last_invocation),
            "hold_until": iso(self.hold_until),
            "idle_left_s": self.idle_left.total_seconds() if self.idle_left is not None else None,
            "unavailable": dict(self.unavailable),
        }  # fmt: skip


def _last_invocation(
    clients: AwsClients, target: Target, now: dt.datetime, lookback: dt.timedelta
) -> dt.datetime | None:
    """End of the latest minute with at least one invocation, from the component's CloudWatch metric."""
    points = call(
        target.inference_component_name,
        clients.cloudwatch.get_metric_statistics,
        Namespace=wiring.ALARM_NAMESPACE,
        MetricName=INVOCATIONS_METRIC,
        Dimensions=[{"Name": wiring.ALARM_DIMENSION, "Value": target.inference_component_name}],
        StartTime=now - lookback,
        EndTime=now,
        Period=60,
        Statistics=["Sum"],
    )["Datapoints"]
    busy = [p["Timestamp"] for p in points if float(p.get("Sum", 0)) > 0]
    return min(max(busy) + dt.timedelta(seconds=60), now) if busy else None


def _latest(clients: AwsClients, endpoint: str, metric: str, now: dt.datetime) -> float | None:
    """The Average of `metric` (AWS/SageMaker, EndpointName) in its latest minute within BACKLOG_LOOKBACK."""
    points = call(
        endpoint,
        clients.cloudwatch.get_metric_statistics,
        Namespace=wiring.ALARM_NAMESPACE,
        MetricName=metric,
        Dimensions=[{"Name": wiring.ENDPOINT_DIMENSION, "Value": endpoint}],
        StartTime=now - BACKLOG_LOOKBACK,
        EndTime=now,
        Period=60,
        Statistics=["Average"],
    )["Datapoints"]
    if not points:
        return None
    return float(max(points, key=lambda p: p["Timestamp"]).get("Average", 0.0))


def idle_left(
    *,
    now: dt.datetime,
    current_copies: int,
    last_invocation: dt.datetime | None,
    lookback: dt.timedelta,
    hold_until: dt.datetime | None,
    mechanics: Mechanics = DEFAULT,
) -> dt.timedelta | None:
    """How long until target tracking removes the last copy if no request arrives; None at zero.

    Scale-in needs the load metric below target for `tracking_scale_in_s`; a `warm` hold keeps the
    minimum at 1 until it ends, after which the already-firing low alarm acts within a minute.
    """
    if current_copies == 0:
        return None
    idle_for = now - last_invocation if last_invocation else lookback
    left = dt.timedelta(seconds=mechanics.tracking_scale_in_s) - idle_for
    if hold_until is not None and hold_until > now:
        left = max(left, hold_until - now + dt.timedelta(seconds=mechanics.alarm_action_repeat_s))
    return max(left, dt.timedelta(0))


def _activities(clients: AwsClients, scalable: dict[str, str], limit: int) -> list[Activity]:
    found = call(scalable["ResourceId"], clients.autoscaling.describe_scaling_activities, **scalable, MaxResults=limit)[
        "ScalingActivities"
    ]
    return [
        Activity(a["StartTime"], str(a.get("StatusCode", "")), str(a.get("Description", "")), str(a.get("Cause", "")))
        for a in found[:limit]
    ]


def status(
    clients: AwsClients,
    target: Target,
    *,
    now: Callable[[], dt.datetime] = lambda: dt.datetime.now(dt.UTC),
    activities: int = 5,
    lookback: dt.timedelta = dt.timedelta(hours=3),
    mechanics: Mechanics = DEFAULT,
) -> Status:
    at = now()
    live = fetch(clients, target)
    st = live.scalable_targets[0] if live.scalable_targets else None
    desired, current = copy_counts(live.ic)
    unavailable: dict[str, str] = {}

    def optional(what: str, read: Callable[[], T], empty: T) -> T:
        """Best effort: a screen with one line missing beats no screen for a narrowly scoped role."""
        try:
            return read()
        except OpsError as e:
            unavailable[what] = e.code or str(e)[:120]
            return empty

    wake_metric = wiring.BACKLOG_WAKE_METRIC if live.asynchronous else wiring.ALARM_METRIC
    scalable = live.scalable[0] if live.scalable else target.scalable()
    s = Status(
        target=target,
        now=at,
        endpoint_status=str(live.endpoint["EndpointStatus"]) if live.endpoint else None,
        ic_status=str(live.ic["InferenceComponentStatus"]) if live.ic else None,
        desired_copies=desired,
        current_copies=current,
        instances=instance_count(live.endpoint),
        min_copies=int(st["MinCapacity"]) if st else None,
        max_copies=int(st["MaxCapacity"]) if st else None,
        alarms=[
            AlarmState(str(a["AlarmName"]), str(a.get("StateValue", "?")), str(a.get("StateReason", "")))
            for a in live.alarms
            if a.get("MetricName") == wake_metric
        ],
        activities=optional("scaling activities", lambda: _activities(clients, scalable, activities), []) if st else [],
        lookback=lookback,
        hold_until=max(hold_times(live.scheduled_actions).values(), default=None),
        unavailable=unavailable,
        asynchronous=live.asynchronous,
    )  # fmt: skip
    if live.asynchronous:
        ep = target.endpoint_name
        variants = (live.endpoint or {}).get("ProductionVariants") or []
        s.desired_instances = sum(int(v.get("DesiredInstanceCount", 0) or 0) for v in variants)
        s.backlog = optional("backlog", lambda: _latest(clients, ep, BACKLOG_METRIC, at), None)
        s.oldest_request_age_s = optional("oldest request", lambda: _latest(clients, ep, OLDEST_METRIC, at), None)
        s.backlog_without_capacity = optional(
            "backlog without capacity", lambda: _latest(clients, ep, wiring.BACKLOG_WAKE_METRIC, at), None
        )
        return s
    if not target.inference_component_name:
        # No component named (an async or serverless tenant's outputs) and no endpoint config to say
        # which: there is no component metric to read (an empty dimension is a ParamValidationError).
        return s
    s.last_invocation = optional("last invocation", lambda: _last_invocation(clients, target, at, lookback), None)
    s.idle_left = idle_left(
        now=at, current_copies=s.current_copies, last_invocation=s.last_invocation, lookback=lookback,
        hold_until=s.hold_until, mechanics=mechanics,
    )  # fmt: skip
    return s


def _ago(delta: dt.timedelta) -> str:
    secs = int(delta.total_seconds())
    if secs < 90:
        return f"{secs} s"
    if secs < 5400:
        return f"{round(secs / 60)} min"
    return f"{secs / 3600:.1f} h"


def _render_async(s: Status) -> str:
    """An asynchronous tenant: instances, the wake alarm, the queue."""
    allowed = f" (allowed {s.min_copies}..{s.max_copies})" if s.min_copies is not None else ", NO scalable target"
    rows: list[tuple[str, str]] = [
        ("endpoint", f"{s.endpoint_status or 'NOT FOUND'}, {s.instances} instance(s) serving, "
                     f"{s.desired_instances if s.desired_instances is not None else '?'} desired{allowed}"),
    ]  # fmt: skip
    if s.alarms:
        rows += [("wake alarm", f"{a.name}: {a.state}") for a in s.alarms]
    else:
        rows.append(
            ("wake alarm", f"NONE on {wiring.BACKLOG_WAKE_METRIC}: a queue at zero instances never wakes it "
                           "(run `sagezero verify`)")
        )  # fmt: skip

    def metric(what: str, value: float | None, shown: str) -> str:
        if what in s.unavailable:
            return f"unavailable ({s.unavailable[what]})"
        return shown if value is not None else f"no datapoint in the last {_ago(BACKLOG_LOOKBACK)}"

    backlog = metric("backlog", s.backlog, f"~{s.backlog or 0:g} request(s) queued ({BACKLOG_METRIC}, latest minute)")
    rows.append(("backlog", backlog))
    age = s.oldest_request_age_s
    rows.append(("oldest request", metric("oldest request", age, f"waiting {_ago(dt.timedelta(seconds=age or 0))}")))
    waiting = s.backlog_without_capacity
    rows.append(
        ("without capacity", metric("backlog without capacity", waiting,
            "YES: requests are queued and no instance runs; the wake alarm should start one (3-6 min)"
            if waiting else "no")),
    )  # fmt: skip
    if "scaling activities" in s.unavailable:
        rows.append(("recent scaling", f"unavailable ({s.unavailable['scaling activities']})"))
    return _screen(s, f"{s.target.endpoint_name} (asynchronous)", rows)


def _screen(s: Status, title: str, rows: list[tuple[str, str]]) -> str:
    """One tenant's screen: the title line, the rows aligned, then recent scaling activities."""
    width = max(len(k) for k, _ in rows)
    out = [f"sagezero status — {title}  ({s.now:%Y-%m-%d %H:%M} UTC)"]
    out += [f"  {k:<{width}}  {v}" for k, v in rows]
    out += _render_activities(s)
    return "\n".join(out)


def _render_activities(s: Status) -> list[str]:
    out: list[str] = []
    if s.activities:
        out.append("  recent scaling")
        for a in s.activities:
            out.append(f"    {a.start:%m-%d %H:%M}  {a.status:<11} {a.description}")
            if a.cause:
                out.append(f"    {'':11}  cause: {a.cause}")
    return out


def render(s: Status) -> str:
    if s.asynchronous:
        return _render_async(s)
    t = s.target
    rows: list[tuple[str, str]] = [
        ("endpoint", f"{s.endpoint_status or 'NOT FOUND'}, {s.instances} instance(s)"),
        (
            "component",
            f"{s.ic_status or 'NOT FOUND'}, {s.current_copies} copy(ies) serving, {s.desired_copies} desired"
            + (f" (allowed {s.min_copies}..{s.max_copies})" if s.min_copies is not None else ", NO scalable target"),
        )
        if t.inference_component_name
        else ("component", "none named (an asynchronous or serverless tenant); its endpoint is what to look for"),
    ]
    if s.alarms:
        rows += [("wake alarm", f"{a.name}: {a.state}") for a in s.alarms]
    else:
        rows.append(("wake alarm", f"NONE on {wiring.ALARM_METRIC}: at zero it never wakes (run `sagezero verify`)"))
    if s.hold_until and s.hold_until > s.now:
        rows.append(("held warm", f"until {s.hold_until:%H:%M} UTC (sagezero warm), then min 0"))
    named = bool(t.inference_component_name)  # nothing is read for a component nobody named
    if named:
        if "last invocation" in s.unavailable:
            last = f"unavailable ({s.unavailable['last invocation']})"
        elif s.last_invocation:
            last = f"{_ago(s.now - s.last_invocation)} ago"
        else:
            last = f"none in the last {_ago(s.lookback)}"
        rows.append(("last invocation", last))
    if "scaling activities" in s.unavailable:
        rows.append(("recent scaling", f"unavailable ({s.unavailable['scaling activities']})"))
    if named:
        rows.append(
            ("idle left", "at zero copies: the next request fails fast and wakes it (3-6 min)")
            if s.idle_left is None
            else ("idle left", f"~{_ago(s.idle_left)} before scale-in to zero if no request arrives (estimate)")
        )
    return _screen(s, f"{t.endpoint_name} / {t.inference_component_name}", rows)
