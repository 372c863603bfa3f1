"""Delete one tenant's endpoint in the order AWS accepts.

For endpoints built by hand (the seed's boto3 scripts) or left behind by a failed run; a stack that
Pulumi manages is removed with `pulumi destroy`, which already orders deletes by dependency. AWS
rejects an endpoint delete while an inference component is still on it, and a target-tracking
policy's managed alarms must go with the policy, not before; hence one fixed order, shown before
anything is touched.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass

from sagezero.ops.errors import OpsError, call
from sagezero.ops.live import LiveStack, fetch, is_not_found
from sagezero.ops.target import AwsClients, Target

TEARDOWN_ORDER = (
    "alarm",
    "scaling-policy",
    "scheduled-action",
    "scalable-target",
    "inference-component",
    "endpoint",
    "endpoint-config",
    "model",
)
"""alarms -> policies/target -> inference component -> endpoint -> endpoint config -> model (FACTS.md)."""


@dataclass(frozen=True)
class Deletion:
    kind: str
    name: str


def plan_teardown(live: LiveStack) -> list[Deletion]:
    """Everything of this tenant that exists, in TEARDOWN_ORDER. Managed target-tracking alarms are left
    to App Auto Scaling, which deletes them with their policy (`fetch` never returns them)."""
    found = [Deletion("alarm", str(a["AlarmName"])) for a in live.alarms]
    found += [Deletion("scaling-policy", str(p["PolicyName"])) for p in live.policies]
    found += [Deletion("scheduled-action", str(a["ScheduledActionName"])) for a in live.scheduled_actions]
    found += [Deletion("scalable-target", str(t["ResourceId"])) for t in live.scalable_targets]
    if live.ic is not None:
        found.append(Deletion("inference-component", live.target.inference_component_name))
    if live.endpoint is not None:
        found.append(Deletion("endpoint", live.target.endpoint_name))
        found.append(Deletion("endpoint-config", str(live.endpoint["EndpointConfigName"])))
    model = ((live.ic or {}).get("Specification") or {}).get("ModelName")
    if model:
        found.append(Deletion("model", str(model)))
    elif live.by_variant:  # an asynchronous endpoint's variants name their models themselves
        variants = (live.endpoint_config or {}).get("ProductionVariants") or []
        found += [
            Deletion("model", m) for m in dict.fromkeys(str(v["ModelName"]) for v in variants if v.get("ModelName"))
        ]
    return sorted(found, key=lambda d: TEARDOWN_ORDER.index(d.kind))


def kept_after_teardown(live: LiveStack) -> list[str]:
    """What a teardown of this tenant leaves on purpose, to be said aloud: an asynchronous endpoint's S3
    objects (users' payloads and results, never deleted by sagezero) and SNS topics, and the fate of the
    requests still queued on it."""
    cfg = (live.endpoint_config or {}).get("AsyncInferenceConfig")
    if not isinstance(cfg, Mapping):
        return []
    out = cfg.get("OutputConfig") or {}
    paths = [str(p) for p in (out.get("S3OutputPath"), out.get("S3FailurePath")) if p]
    notes = [
        f"S3 objects under {' and '.join(paths) or 'the output path'} (results) and under the endpoint's "
        "input prefix (payloads): user data, never deleted here; they stay, and are billed, until you or a "
        "lifecycle rule delete them"
    ]
    topics = [
        str(t) for t in ((out.get("NotificationConfig") or {}).get(k) for k in ("SuccessTopic", "ErrorTopic")) if t
    ]
    if topics:
        notes.append(f"SNS topics {', '.join(dict.fromkeys(topics))}")
    notes.append(
        "requests still queued on the endpoint are dropped with it: their results never appear "
        "(`sagezero status` shows the backlog)"
    )
    return notes


def _wait_gone(clients: AwsClients, name: str, timeout_s: float, poll_s: float, sleep: Callable[[float], None]) -> None:
    """The endpoint delete is refused until the component is really gone, not just Deleting."""
    t0 = time.monotonic()
    while True:
        try:
            call(name, clients.sagemaker.describe_inference_component, InferenceComponentName=name)
        except OpsError as e:
            if is_not_found(e):
                return
            raise
        if time.monotonic() - t0 + poll_s > timeout_s:
            raise OpsError(name, "DeleteTimeout", f"still deleting after {timeout_s:.0f} s; run teardown again later")
        sleep(poll_s)


def teardown(
    clients: AwsClients,
    target: Target,
    *,
    execute: bool = False,
    timeout_s: float = 900,
    poll_s: float = 10,
    sleep: Callable[[float], None] = time.sleep,
    progress: Callable[[Deletion], None] | None = None,
    kept: Callable[[str], None] | None = None,
) -> list[Deletion]:
    """The ordered deletions; performed only with `execute=True`. `kept` hears, before anything is
    deleted, what the teardown leaves on purpose (`kept_after_teardown`)."""
    live = fetch(clients, target)
    steps = plan_teardown(live)
    if kept is not None and steps:
        for note in kept_after_teardown(live):
            kept(note)
    if not execute:
        return steps
    aas, sm = clients.autoscaling, clients.sagemaker
    # Each App Auto Scaling deletion names the unit its resource was read from (a component, or an
    # asynchronous endpoint's variant).
    units = {
        (kind, str(x[key])): {k: str(x[k]) for k in ("ServiceNamespace", "ResourceId", "ScalableDimension")}
        for kind, key, items in (("scaling-policy", "PolicyName", live.policies),
                                 ("scheduled-action", "ScheduledActionName", live.scheduled_actions),
                                 ("scalable-target", "ResourceId", live.scalable_targets))
        for x in items
    }  # fmt: skip
    for d in steps:
        if progress:
            progress(d)
        scal = units.get((d.kind, d.name), target.scalable())
        if d.kind == "alarm":
            call(d.name, clients.cloudwatch.delete_alarms, AlarmNames=[d.name])
        elif d.kind == "scaling-policy":
            call(d.name, aas.delete_scaling_policy, PolicyName=d.name, **scal)
        elif d.kind == "scheduled-action":
            call(d.name, aas.delete_scheduled_action, ScheduledActionName=d.name, **scal)
        elif d.kind == "scalable-target":
            call(d.name, aas.deregister_scalable_target, **scal)
        elif d.kind == "inference-component":
            call(d.name, sm.delete_inference_component, InferenceComponentName=d.name)
            _wait_gone(clients, d.name, timeout_s, poll_s, sleep)
        elif d.kind == "endpoint":
            call(d.name, sm.delete_endpoint, EndpointName=d.name)
        elif d.kind == "endpoint-config":
            call(d.name, sm.delete_endpoint_config, EndpointConfigName=d.name)
        elif d.kind == "model":
            call(d.name, sm.delete_model, ModelName=d.name)
    return steps
