"""Warm an inference component now, hold it warm, and make sure it falls back to zero on its own.

Schedules an App Auto Scaling action that puts MinCapacity back to 0 when the hold ends, then
raises MinCapacity to 1 (App Auto Scaling adds a copy at once, no alarm needed) — so a caller that
disappears never leaves an endpoint billing. Idempotent: many logins at once converge on the same
min (1) and the latest hold.

Only the calls that raise the minimum and schedule its fall-back are required. Reading the copy
count, pruning earlier holds and reading the instance count while waiting are optional: when one is
refused or fails, `warn` hears about it once and the warm goes on.
"""

from __future__ import annotations

import datetime as dt
import logging
import time
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from sagezero import clientbehaviour as behaviour
from sagezero.ops.errors import OpsError
from sagezero.ops.errors import call as _call
from sagezero.ops.target import AwsClients, Target

COOL_DOWN_PREFIX = "sagezero-cool-down"
_AT_FORMAT = "%Y-%m-%dT%H:%M:%S"

Progress = Callable[[str, dict[str, Any]], None]
Warn = Callable[[str], None]
"""Told, in one line, about an optional step that failed; the operation carried on."""
_log = logging.getLogger("sagezero.ops")


@dataclass(frozen=True)
class WarmResult:
    target: Target
    was_warm: bool
    desired_copies: int
    current_copies: int
    hold_until: dt.datetime
    serving: bool


def cool_down_action_name(target: Target, until: dt.datetime) -> str:
    """One action per hold end, so concurrent warms never overwrite each other's (possibly longer) hold."""
    return f"{COOL_DOWN_PREFIX}-{until:%Y%m%dT%H%M%S}-{target.inference_component_name}"[:256]


def scalable_target(clients: AwsClients, target: Target) -> dict[str, Any]:
    found = _call(
        target.resource_id,
        clients.autoscaling.describe_scalable_targets,
        ServiceNamespace=target.scalable()["ServiceNamespace"],
        ResourceIds=[target.resource_id],
        ScalableDimension=target.scalable()["ScalableDimension"],
    )["ScalableTargets"]
    if not found:
        raise OpsError(
            target.resource_id,
            "ObjectNotFoundException",
            "no scalable target is registered, so the component cannot be warmed or scale to zero",
        )
    return dict(found[0])


def copies(clients: AwsClients, target: Target) -> tuple[int, int, str]:
    """(desired, current, status) of the inference component."""
    ic = _call(
        target.inference_component_name,
        clients.sagemaker.describe_inference_component,
        InferenceComponentName=target.inference_component_name,
    )
    return (*copy_counts(ic), str(ic.get("InferenceComponentStatus")))


def copy_counts(ic: Mapping[str, Any] | None) -> tuple[int, int]:
    """(desired, current) copies from a DescribeInferenceComponent answer; (0, 0) when there is none."""
    rc = (ic or {}).get("RuntimeConfig") or {}
    return int(rc.get("DesiredCopyCount", 0)), int(rc.get("CurrentCopyCount", 0))


def instance_count(endpoint: Mapping[str, Any] | None) -> int:
    """Instances running now across the variants of a DescribeEndpoint answer."""
    return sum(int(v.get("CurrentInstanceCount", 0)) for v in (endpoint or {}).get("ProductionVariants", []))


def holds(clients: AwsClients, target: Target) -> dict[str, dt.datetime]:
    """sagezero's pending fall-back actions for this component: name -> when min goes back to 0."""
    found = _call(target.resource_id, clients.autoscaling.describe_scheduled_actions, **target.scalable())
    return hold_times(found["ScheduledActions"])


def hold_times(actions: Iterable[Mapping[str, Any]]) -> dict[str, dt.datetime]:
    """Among scheduled actions, sagezero's fall-backs to min 0, by name."""
    return {
        str(a["ScheduledActionName"]): until
        for a in actions
        if str(a.get("ScheduledActionName", "")).startswith(COOL_DOWN_PREFIX)
        and (a.get("ScalableTargetAction") or {}).get("MinCapacity", 0) == 0
        and (until := parse_at(str(a.get("Schedule", "")))) is not None
    }


def _extend_hold(clients: AwsClients, target: Target, until: dt.datetime, max_capacity: int, warn: Warn) -> dt.datetime:
    """Make sure min goes back to 0 no earlier than `until`; returns when it now will.

    App Auto Scaling has no compare-and-swap, so each caller writes its own action, then re-reads
    and deletes every action earlier than the latest. Whoever reads last sees all writes, so any
    interleaving of concurrent warms converges on the single latest hold.
    """
    existing = holds(clients, target)
    if existing and max(existing.values()) >= until:
        return max(existing.values())
    _call(
        target.resource_id,
        clients.autoscaling.put_scheduled_action,
        **target.scalable(),
        ScheduledActionName=cool_down_action_name(target, until),
        Schedule=f"at({until.strftime(_AT_FORMAT)})",
        Timezone="UTC",
        ScalableTargetAction={"MinCapacity": 0, "MaxCapacity": max_capacity},
    )
    current = holds(clients, target) or {cool_down_action_name(target, until): until}
    latest = max(current.values())
    for name, when in current.items():
        if when < latest:
            try:
                _call(name, clients.autoscaling.delete_scheduled_action, **target.scalable(), ScheduledActionName=name)
            except OpsError as e:
                if e.code != "ObjectNotFoundException":  # another warm removed it first
                    warn(
                        f"{e.resource}: could not remove this earlier fall-back ({e.code}); the minimum returns "
                        f"to 0 at {when:%H:%M} UTC, before this hold ends at {latest:%H:%M} UTC"
                    )
    return latest


def parse_at(schedule: str) -> dt.datetime | None:
    """The UTC time of a one-off `at(yyyy-mm-ddThh:mm:ss)` schedule; None for cron/rate schedules."""
    if not (schedule.startswith("at(") and schedule.endswith(")")):
        return None
    try:
        return dt.datetime.strptime(schedule[3:-1], _AT_FORMAT).replace(tzinfo=dt.UTC)
    except ValueError:
        return None


def warm(
    clients: AwsClients,
    target: Target,
    hold: dt.timedelta = dt.timedelta(minutes=behaviour.HOLD_MINUTES),
    *,
    wait: bool = False,
    timeout_s: float = behaviour.WARM_TIMEOUT_S,
    poll_s: float = behaviour.WARM_POLL_S,
    progress: Progress | None = None,
    now: Callable[[], dt.datetime] = lambda: dt.datetime.now(dt.UTC),
    sleep: Callable[[float], None] = time.sleep,
    warn: Warn | None = None,
) -> WarmResult:
    """Bring `target` to >= 1 copy now and keep it there for `hold`; optionally wait until it serves.

    `warn` (default: the `sagezero.ops` logger) hears about optional steps that failed."""
    warn = warn or _log.warning
    if (problem := behaviour.hold_problem(hold)) is not None:
        raise OpsError(target.resource_id, "InvalidHold", problem, "")
    st = scalable_target(clients, target)
    try:
        desired, current, _status = copies(clients, target)
    except OpsError as e:
        if wait:  # waiting is watching the copy count: without it there is nothing to wait on
            raise
        warn(f"{e.resource}: could not read the copy count ({e.code}); warming without it")
        desired = current = 0
    was_warm = desired >= 1 or int(st["MinCapacity"]) >= 1
    # The fall-back is scheduled before the minimum is raised: a caller that dies in between
    # leaves at worst a harmless action, never a component held warm forever.
    until = _extend_hold(clients, target, (now() + hold).replace(microsecond=0), int(st["MaxCapacity"]), warn)
    if int(st["MinCapacity"]) < 1:
        _call(
            target.resource_id,
            clients.autoscaling.register_scalable_target,
            **target.scalable(),
            MinCapacity=1,
            MaxCapacity=int(st["MaxCapacity"]),
        )
    serving = current >= 1
    if wait and not serving:
        current, serving = _wait_serving(
            clients=clients, target=target, timeout_s=timeout_s, poll_s=poll_s, progress=progress, sleep=sleep,
            warn=warn,
        )  # fmt: skip
    return WarmResult(target, was_warm, max(desired, 1), current, until, serving)


def phase(instances: int | None, current_copies: int, ic_status: str) -> str:
    """Where a cold start is, from what SageMaker reports (`instances` None: not known)."""
    if current_copies >= 1 and ic_status == "InService":
        return "serving"
    if instances is None:
        return "starting (instance count not readable)"
    if instances == 0:
        return "provisioning instance"
    return "pulling image and starting container (health check)"


def _wait_serving(
    *,
    clients: AwsClients,
    target: Target,
    timeout_s: float,
    poll_s: float,
    progress: Progress | None,
    sleep: Callable[[float], None],
    warn: Warn,
) -> tuple[int, bool]:
    t0 = time.monotonic()
    read_instances = True
    while True:
        _desired, current, status = copies(clients, target)
        instances: int | None = None
        if read_instances:  # only for showing the phase: optional
            try:
                ep = _call(target.endpoint_name, clients.sagemaker.describe_endpoint, EndpointName=target.endpoint_name)
                instances = instance_count(ep)
            except OpsError as e:
                read_instances = False
                warn(f"{e.resource}: could not read the instance count ({e.code}); phases are shown without it")
        now_phase = phase(instances, current, status)
        elapsed = time.monotonic() - t0
        if progress:
            progress(now_phase, {"elapsed_s": elapsed, "instances": instances, "copies": current, "status": status})
        if now_phase == "serving":
            return current, True
        if elapsed + poll_s > timeout_s:
            raise OpsError(
                target.inference_component_name,
                "WarmTimeout",
                f"still '{now_phase}' after {elapsed:.0f} s (cold starts took 3-6 min in the seed); "
                "the component keeps warming in the background",
                "wait longer, or check `sagezero status` and the endpoint's CloudWatch logs",
            )
        sleep(poll_s)
