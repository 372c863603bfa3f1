"""Per-resource rules: instances can reach zero, and ceilings hold. Each judges one record alone.

The pack runs these as resource policies (so a preview stops at the resource), `check`, `plan` and
`verify` call the same functions on every record of the wiring.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from sagezero import wiring
from sagezero.rules.verdicts import CEILINGS, MIN_INSTANCES, Verdicts
from sagezero.values import Opaque, is_num, shown
from sagezero.wiring import EndpointConfig, ScalableTarget


def min_instances_zero(cfg: EndpointConfig, config: Mapping[str, Any], out: Verdicts) -> None:
    """Every real-time variant scales its instances to zero through managed instance scaling."""
    if not cfg.variants:
        out.find(MIN_INSTANCES, "aws-rejects", cfg.ref, f"endpoint config {cfg.label} has no production variants "
                 "(AWS requires at least one)")  # fmt: skip
    for v in cfg.variants:
        where = f"endpoint config {cfg.label} {v.where}"
        if isinstance(v.name, Opaque) and isinstance(v.mis_status, Opaque):
            out.cannot(MIN_INSTANCES, cfg.ref, "productionVariants", v.name.why)
            continue
        if isinstance(v.serverless, Opaque):
            out.cannot(MIN_INSTANCES, cfg.ref, f"{v.where}.serverlessConfig", v.serverless.why)
            continue
        if v.serverless is not None:
            continue
        if not v.has_mis:
            hosts_components = v.model_name is None
            if hosts_components and config.get("requireOnInferenceComponentEndpoints", True):
                out.find(
                    MIN_INSTANCES,
                    "no-managed-scaling",
                    cfg.ref,
                    f"{where} hosts inference components without managed instance scaling, so its instances never "
                    "go to zero. Fix: set ManagedInstanceScaling {Status: ENABLED, MinInstanceCount: 0, "
                    "MaxInstanceCount: N}.",
                )
            continue
        for what, value in (("status", v.mis_status), ("minInstanceCount", v.mis_min), ("maxInstanceCount", v.mis_max)):
            if isinstance(value, Opaque):
                out.cannot(MIN_INSTANCES, cfg.ref, f"{v.where}.managedInstanceScaling.{what}", value.why)
        if v.mis_status != "ENABLED" and not isinstance(v.mis_status, Opaque):
            out.find(
                MIN_INSTANCES,
                "managed-scaling-disabled",
                cfg.ref,
                f"{where} has managed instance scaling status {shown(v.mis_status)}. Fix: set Status ENABLED so "
                "instances can scale in to zero.",
            )
        if (is_num(v.mis_min) and v.mis_min != 0) or (v.mis_min is None and v.has_mis):
            out.find(
                MIN_INSTANCES,
                "min-instances",
                cfg.ref,
                f"{where} keeps MinInstanceCount {shown(v.mis_min)}, a standing cost while idle. "
                "Fix: set MinInstanceCount 0.",
            )
        if is_num(v.mis_max) and v.mis_max < 1:
            out.find(
                MIN_INSTANCES,
                "aws-rejects",
                cfg.ref,
                f"{where} has MaxInstanceCount {v.mis_max:g}: no instance could ever start, and AWS rejects it "
                "(at least 1). Fix: MaxInstanceCount >= 1.",
            )
        elif is_num(v.mis_max) and is_num(v.mis_min) and v.mis_min > v.mis_max:
            out.find(
                MIN_INSTANCES,
                "aws-rejects",
                cfg.ref,
                f"{where}: MinInstanceCount {v.mis_min:g} exceeds MaxInstanceCount {v.mis_max:g}; AWS rejects it.",
            )


def ceilings(node: EndpointConfig | ScalableTarget, config: Mapping[str, Any], out: Verdicts) -> None:
    """Max instances and max copies stay under the org's ceilings."""
    if isinstance(node, EndpointConfig):
        for v in node.variants:
            if isinstance(v.mis_max, Opaque):
                out.cannot(CEILINGS, node.ref, f"{v.where}.managedInstanceScaling.maxInstanceCount", v.mis_max.why)
            elif is_num(v.mis_max) and v.mis_max > config["maxInstanceCount"]:
                out.find(
                    CEILINGS,
                    "instances",
                    node.ref,
                    f"endpoint config {node.label} {v.where} allows {v.mis_max:g} instances, above the org ceiling "
                    f"of {config['maxInstanceCount']}. Fix: lower MaxInstanceCount or raise the ceiling in policy "
                    "config.",
                )
        return
    if node.dimension not in (wiring.SCALABLE_DIMENSION, wiring.VARIANT_DIMENSION):
        return
    high = node.max_capacity
    limit = config["maxCopies"] if node.dimension == wiring.SCALABLE_DIMENSION else config["maxInstanceCount"]
    if isinstance(high, Opaque):
        out.cannot(CEILINGS, node.ref, "maxCapacity", high.why)
    elif is_num(high) and high > limit:
        what = "copies" if node.dimension == wiring.SCALABLE_DIMENSION else "instances"
        out.find(
            CEILINGS,
            what,
            node.ref,
            f"scalable target {shown(node.resource_id)} allows {high:g} {what}, above the org ceiling of {limit}. "
            "Fix: lower MaxCapacity or raise the ceiling in policy config.",
        )
