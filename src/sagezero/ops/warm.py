"""Warm an inference component now, hold it warm, and make sure it falls back to zero on its own.

Raises the scalable target's MinCapacity to 1 (App Auto Scaling then adds a copy at once, no alarm
needed) and schedules an App Auto Scaling action that puts MinCapacity back to 0 when the hold
ends — so a caller that disappears never leaves an endpoint billing. Idempotent: many logins at
once converge on the same min (1) and the latest hold.
"""

from __future__ import annotations

import datetime as dt
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from botocore.exceptions import ClientError, EndpointConnectionError, NoCredentialsError, NoRegionError

from sagezero.ops.errors import OpsError, from_boto
from sagezero.ops.target import AwsClients, Target

COOL_DOWN_PREFIX = "sagezero-cool-down"
_AT_FORMAT = "%Y-%m-%dT%H:%M:%S"

Progress = Callable[[str, dict[str, Any]], None]


@dataclass(frozen=True)
class WarmResult:
    target: Target
    was_warm: bool
    desired_copies: int
    current_copies: int
    hold_until: dt.datetime
    serving: bool


def cool_down_action_name(target: Target) -> str:
    return f"{COOL_DOWN_PREFIX}-{target.inference_component_name}"[:256]


def _call(resource: str, fn: Callable[..., Any], **kwargs: Any) -> Any:
    try:
        return fn(**kwargs)
    except (ClientError, NoCredentialsError, NoRegionError, EndpointConnectionError) as e:
        raise from_boto(resource, e) from e


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
    rc = ic.get("RuntimeConfig", {})
    return (
        int(rc.get("DesiredCopyCount", 0)),
        int(rc.get("CurrentCopyCount", 0)),
        str(ic.get("InferenceComponentStatus")),
    )


def _scheduled_until(clients: AwsClients, target: Target) -> dt.datetime | None:
    actions = _call(
        target.resource_id,
        clients.autoscaling.describe_scheduled_actions,
        ServiceNamespace=target.scalable()["ServiceNamespace"],
        ScheduledActionNames=[cool_down_action_name(target)],
        ResourceId=target.resource_id,
        ScalableDimension=target.scalable()["ScalableDimension"],
    )["ScheduledActions"]
    for a in actions:
        schedule = str(a.get("Schedule", ""))
        if schedule.startswith("at(") and schedule.endswith(")"):
            return dt.datetime.strptime(schedule[3:-1], _AT_FORMAT).replace(tzinfo=dt.UTC)
    return None


def warm(
    clients: AwsClients,
    target: Target,
    hold: dt.timedelta = dt.timedelta(minutes=30),
    *,
    wait: bool = False,
    timeout_s: float = 900,
    poll_s: float = 10,
    progress: Progress | None = None,
    now: Callable[[], dt.datetime] = lambda: dt.datetime.now(dt.UTC),
    sleep: Callable[[float], None] = time.sleep,
) -> WarmResult:
    """Bring `target` to >= 1 copy now and keep it there for `hold`; optionally wait until it serves."""
    if hold <= dt.timedelta(0) or hold > dt.timedelta(days=7):
        raise OpsError(target.resource_id, "InvalidHold", f"hold {hold} must be between 1 second and 7 days", "")
    st = scalable_target(clients, target)
    desired, current, _status = copies(clients, target)
    was_warm = desired >= 1 or int(st["MinCapacity"]) >= 1
    if int(st["MinCapacity"]) < 1:
        _call(
            target.resource_id,
            clients.autoscaling.register_scalable_target,
            **target.scalable(),
            MinCapacity=1,
            MaxCapacity=int(st["MaxCapacity"]),
        )
    until = (now() + hold).replace(microsecond=0)
    existing = _scheduled_until(clients, target)
    if existing is None or existing < until:
        _call(
            target.resource_id,
            clients.autoscaling.put_scheduled_action,
            ServiceNamespace=target.scalable()["ServiceNamespace"],
            ScheduledActionName=cool_down_action_name(target),
            ResourceId=target.resource_id,
            ScalableDimension=target.scalable()["ScalableDimension"],
            Schedule=f"at({until.strftime(_AT_FORMAT)})",
            Timezone="UTC",
            ScalableTargetAction={"MinCapacity": 0, "MaxCapacity": int(st["MaxCapacity"])},
        )
    else:
        until = existing
    serving = current >= 1
    if wait and not serving:
        current, serving = _wait_serving(
            clients=clients, target=target, timeout_s=timeout_s, poll_s=poll_s, progress=progress, sleep=sleep
        )
    return WarmResult(target, was_warm, max(desired, 1), current, until, serving)


def phase(instances: int, current_copies: int, ic_status: str) -> str:
    """Where a cold start is, from what SageMaker reports."""
    if current_copies >= 1 and ic_status == "InService":
        return "serving"
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
) -> tuple[int, bool]:
    t0 = time.monotonic()
    while True:
        _desired, current, status = copies(clients, target)
        ep = _call(target.endpoint_name, clients.sagemaker.describe_endpoint, EndpointName=target.endpoint_name)
        instances = sum(int(v.get("CurrentInstanceCount", 0)) for v in ep.get("ProductionVariants", []))
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
