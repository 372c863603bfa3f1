"""Where each planned resource deploys: its provider and region, and whether a tenant is split.

The inference component is an aws-native resource and everything else is aws; nothing in Pulumi
ties the two providers together, so a tenant can end up half in one region and half in another.
The plan reads the provider of every registration (explicit providers carry their inputs; default
providers read `<package>:region` from stack config) and fails when one tenant spans two places.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from sagezero.plan.engine import PROVIDER_PREFIX, PlannedResource

AWS_PACKAGES = ("aws", "aws-native")
FROM_ENVIRONMENT = "(from the environment)"


@dataclass(frozen=True)
class Placement:
    """The provider a resource uses and the region it deploys to (None: from the environment)."""

    provider: str
    region: str | None

    @property
    def where(self) -> str:
        return self.region or FROM_ENVIRONMENT


def package(resource_type: str) -> str:
    return resource_type.partition(":")[0]


def place(r: PlannedResource, by_urn: Mapping[str, PlannedResource], config: Mapping[str, Any]) -> Placement | None:
    """Where `r` deploys, or None for resources no AWS provider manages (components, docker)."""
    pkg = package(r.type)
    if not r.custom or pkg not in AWS_PACKAGES or r.type.startswith(PROVIDER_PREFIX):
        return None
    if r.provider:
        provider = by_urn.get(r.provider.rsplit("::", 1)[0])
        if provider is not None:
            region = provider.inputs.get("region")
            return Placement(f"{pkg} provider {provider.name}", region if isinstance(region, str) else None)
    region = config.get(f"{pkg}:region")
    return Placement(f"default {pkg}", region if isinstance(region, str) else None)


def tenant_of(r: PlannedResource, by_urn: Mapping[str, PlannedResource]) -> str:
    """The top-level component a resource belongs to (a tenant, the shared image), or "(stack)"."""
    top: PlannedResource | None = None
    node: PlannedResource | None = r
    while node is not None:
        if not node.custom:
            top = node
        node = by_urn.get(node.parent) if node.parent else None
    return top.name if top is not None else "(stack)"


def placements(
    resources: Sequence[PlannedResource], config: Mapping[str, Any]
) -> list[tuple[str, PlannedResource, Placement]]:
    """(tenant, resource, placement) for every AWS resource, in registration order."""
    by_urn = {r.urn: r for r in resources}
    out = []
    for r in resources:
        p = place(r, by_urn, config)
        if p is not None:
            out.append((tenant_of(r, by_urn), r, p))
    return out


def splits(resources: Sequence[PlannedResource], config: Mapping[str, Any]) -> list[str]:
    """One message per tenant whose resources would deploy to more than one region."""
    regions: dict[str, dict[str | None, list[str]]] = {}
    for tenant, r, p in placements(resources, config):
        regions.setdefault(tenant, {}).setdefault(p.region, []).append(f"{r.name} ({p.provider})")
    out = []
    for tenant, found in regions.items():
        if len(found) > 1:
            parts = "; ".join(f"{region or FROM_ENVIRONMENT}: {', '.join(names)}" for region, names in found.items())
            out.append(
                f"{tenant} is split across regions — {parts}. Give the component matching aws and aws-native "
                "providers, or set aws-native:region to aws:region"
            )
    return out
