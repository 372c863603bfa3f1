"""Which endpoint to operate on, and the boto3 clients to do it with.

Names come from the stack outputs (`pulumi stack output <tenant>`) or arguments; never guessed.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sagezero.wiring import SCALABLE_DIMENSION, SERVICE_NAMESPACE, ic_resource_id


@dataclass(frozen=True)
class Target:
    endpoint_name: str
    inference_component_name: str

    @property
    def resource_id(self) -> str:
        return ic_resource_id(self.inference_component_name)

    def scalable(self) -> dict[str, str]:
        """The three keys every App Auto Scaling call on this component takes."""
        return {
            "ServiceNamespace": SERVICE_NAMESPACE,
            "ResourceId": self.resource_id,
            "ScalableDimension": SCALABLE_DIMENSION,
        }


@dataclass
class AwsClients:
    sagemaker: Any
    runtime: Any
    autoscaling: Any
    cloudwatch: Any

    @classmethod
    def create(cls, region: str | None = None, profile: str | None = None, **client_kwargs: Any) -> AwsClients:
        import boto3
        from botocore.exceptions import BotoCoreError

        from sagezero.ops.errors import OpsError

        try:
            session = boto3.Session(region_name=region, profile_name=profile)
            return cls(
                sagemaker=session.client("sagemaker", **client_kwargs),
                runtime=session.client("sagemaker-runtime", **client_kwargs),
                autoscaling=session.client("application-autoscaling", **client_kwargs),
                cloudwatch=session.client("cloudwatch", **client_kwargs),
            )
        except BotoCoreError as e:
            hints = {
                "ProfileNotFound": "set AWS_PROFILE to a profile in ~/.aws/config (or unset it)",
                "NoRegionError": "set AWS_DEFAULT_REGION or pass --region",
            }
            raise OpsError("aws session", type(e).__name__, str(e), hints.get(type(e).__name__)) from e


class OutputsError(ValueError):
    """Stack outputs that do not name any sagezero tenant, or not the one asked for."""


def targets_from_outputs(outputs: Any, where: str, tenant: str | None = None) -> dict[str, Target]:
    """Tenants in `pulumi stack output --json`: every output with endpoint_name and inference_component_name."""
    if not isinstance(outputs, dict):
        raise OutputsError(f"{where}: expected the JSON object `pulumi stack output --json` prints")
    found = {
        name: Target(str(v["endpoint_name"]), str(v["inference_component_name"]))
        for name, v in outputs.items()
        if isinstance(v, dict) and isinstance(v.get("endpoint_name"), str)
        and isinstance(v.get("inference_component_name"), str)
    }  # fmt: skip
    if not found:
        raise OutputsError(
            f"{where}: no output has endpoint_name and inference_component_name (is this a sagezero stack?)"
        )
    if tenant is not None:
        if tenant not in found:
            raise OutputsError(f"{where}: no tenant {tenant!r}; tenants: {', '.join(sorted(found))}")
        return {tenant: found[tenant]}
    return found
