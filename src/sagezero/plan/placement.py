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
from sagezero.stackconfig import config_role, secret_placeholder

AWS_PACKAGES = ("aws", "aws-native")
FROM_ENVIRONMENT = "(from the environment)"
SECRET_REGION = "(a secret: checked at pulumi up)"
AMBIENT = "(the ambient credentials' account)"
TENANT_TYPE = "sagezero:index:ScaleToZeroEndpoint"


@dataclass(frozen=True)
class Placement:
    """The provider a resource uses, the region it deploys to (None: from the environment) and the role it
    assumes (None: the ambient credentials), whose account is where the resource lands."""

    provider: str
    region: str | None
    role: str | None = None
    hidden: bool = False
    """The region is a `secure:` value the plan cannot read: unknown, never reported as a split."""

    @property
    def account(self) -> str:
        """The account of the assumed role, or where the ambient credentials point."""
        if self.role:
            parts = self.role.split(":")
            return parts[4] if len(parts) > 4 and parts[4] else self.role
        return AMBIENT

    @property
    def where(self) -> str:
        return SECRET_REGION if self.hidden else self.region or FROM_ENVIRONMENT


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
            return Placement(
                f"{pkg} provider {provider.name}",
                region if isinstance(region, str) else None,
                config_role({f"{pkg}:{_ROLE_KEY[pkg]}": provider.inputs.get(_ROLE_KEY[pkg])}, pkg),
            )
    region = config.get(f"{pkg}:region")
    hidden = secret_placeholder(region)
    known = isinstance(region, str) and not hidden
    return Placement(f"default {pkg}", region if known else None, config_role(config, pkg), hidden)


_ROLE_KEY = {"aws": "assumeRoles", "aws-native": "assumeRole"}


def tenant_of(r: PlannedResource, by_urn: Mapping[str, PlannedResource]) -> str:
    """The tenant a resource belongs to: its nearest ScaleToZeroEndpoint ancestor (components that group
    tenants, such as a fleet, may hold several in different places), else its top-level component (the
    shared image, a hand-written tenant), else "(stack)"."""
    top: PlannedResource | None = None
    node: PlannedResource | None = r
    while node is not None:
        if node.type == TENANT_TYPE:
            return node.name
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
        if not p.hidden:
            regions.setdefault(tenant, {}).setdefault(p.region, []).append(f"{r.name} ({p.provider})")
    out = []
    accounts: dict[str, dict[str, list[str]]] = {}
    for tenant, r, p in placements(resources, config):
        accounts.setdefault(tenant, {}).setdefault(p.role or AMBIENT, []).append(f"{r.name} ({p.provider})")
    for tenant, found_roles in accounts.items():
        if len(found_roles) > 1:
            parts = "; ".join(f"{role}: {', '.join(names)}" for role, names in found_roles.items())
            out.append(
                f"{tenant} is split across identities (accounts) — {parts}. Give the aws and aws-native providers "
                "the same assumed role (sagezero.components.provider_pair, or aws:assumeRoles with a matching "
                "aws-native:assumeRole)"
            )
    for tenant, found in regions.items():
        if len(found) > 1:
            parts = "; ".join(f"{region or FROM_ENVIRONMENT}: {', '.join(names)}" for region, names in found.items())
            out.append(
                f"{tenant} is split across regions — {parts}. Give the component matching aws and aws-native "
                "providers, or set aws-native:region to aws:region"
            )
    return out
