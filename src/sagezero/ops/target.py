"""Which endpoint to operate on, and the boto3 clients to do it with.

Names come from the stack outputs (`pulumi stack output <tenant>`) or arguments; never guessed.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from sagezero.values import SECRET_SHOWN
from sagezero.wiring import SCALABLE_DIMENSION, SERVICE_NAMESPACE, ic_resource_id


@dataclass(frozen=True)
class Target:
    endpoint_name: str
    inference_component_name: str
    async_input_location: str = ""
    """An async tenant's input prefix, when the stack outputs name it (else the endpoint's tag is read)."""

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


# One retry layer per call. Control-plane calls (describe, put, register) use botocore's standard
# mode: throttling and transient errors, capped backoff, 5 attempts. Invocations get none from
# botocore: `invoke` retries them itself until its deadline, and retries inside retries would
# multiply the attempts and overrun that deadline.
CONTROL_RETRIES: dict[str, Any] = {"mode": "standard", "total_max_attempts": 5}
RUNTIME_RETRIES: dict[str, Any] = {"mode": "standard", "total_max_attempts": 1}
# `invoke`'s optional wake must fit in what is left of the caller's deadline: one attempt per call,
# connect and read timeouts no longer than that (and never botocore's 60 s read timeout).
WAKE_RETRIES: dict[str, Any] = {"mode": "standard", "total_max_attempts": 1}
WAKE_TIMEOUT_CAP_S = 10.0


@dataclass
class AwsClients:
    sagemaker: Any
    runtime: Any
    autoscaling: Any
    cloudwatch: Any
    s3: Any = None
    """Asynchronous requests only: uploads the payload, reads the result (None: `invoke_async` refuses)."""
    sqs: Any = None
    """Asynchronous requests only, optional: the queue a caller subscribed to the endpoint's SNS topics."""
    wake_factory: Callable[[float], AwsClients] | None = field(default=None, repr=False, compare=False, kw_only=True)
    """Builds control-plane clients whose calls end within the given seconds (set by `create`)."""

    def bounded(self, timeout_s: float) -> AwsClients:
        """Clients for an optional step that must end within about `timeout_s` per call: one attempt,
        connect/read timeouts of at most that. Clients built by hand (stubs) are returned as they are."""
        if self.wake_factory is None:
            return self
        return self.wake_factory(timeout_s)

    @classmethod
    def create(cls, region: str | None = None, profile: str | None = None, **client_kwargs: Any) -> AwsClients:
        import boto3
        from botocore.config import Config
        from botocore.exceptions import BotoCoreError

        from sagezero.ops.errors import OpsError

        given = client_kwargs.pop("config", None)

        def client(service: Any, retries: Any, timeout_s: float | None = None) -> Any:
            config = (
                Config(retries=retries)
                if timeout_s is None
                else Config(retries=retries, connect_timeout=timeout_s, read_timeout=timeout_s)
            )
            return session.client(service, config=given.merge(config) if given else config, **client_kwargs)

        def bounded(timeout_s: float) -> AwsClients:
            t = max(0.1, min(timeout_s, WAKE_TIMEOUT_CAP_S))
            return cls(
                sagemaker=client("sagemaker", WAKE_RETRIES, t),
                runtime=runtime,
                autoscaling=client("application-autoscaling", WAKE_RETRIES, t),
                cloudwatch=client("cloudwatch", WAKE_RETRIES, t),
            )

        try:
            session = boto3.Session(region_name=region, profile_name=profile)
            runtime = client("sagemaker-runtime", RUNTIME_RETRIES)
            return cls(
                sagemaker=client("sagemaker", CONTROL_RETRIES),
                runtime=runtime,
                autoscaling=client("application-autoscaling", CONTROL_RETRIES),
                cloudwatch=client("cloudwatch", CONTROL_RETRIES),
                s3=client("s3", CONTROL_RETRIES),
                sqs=client("sqs", CONTROL_RETRIES),
                wake_factory=bounded,
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
        name: Target(
            str(v["endpoint_name"]),
            str(v["inference_component_name"]),
            v["async_input_location"] if isinstance(v.get("async_input_location"), str) else "",
        )
        for name, v in outputs.items()
        if isinstance(v, dict) and isinstance(v.get("endpoint_name"), str)
        and isinstance(v.get("inference_component_name"), str)
    }  # fmt: skip
    hidden = sorted(name for name, v in outputs.items() if v == SECRET_SHOWN and (tenant is None or name == tenant))
    if hidden:
        # `pulumi stack output --json` prints a secret output as this string: a tenant whose outputs hold a
        # secret (a `secure:` stack value) would otherwise vanish, and `verify` pass without looking at it.
        raise OutputsError(
            f'{where}: the outputs of {", ".join(map(repr, hidden))} are secret ("{SECRET_SHOWN}"); '
            "write the file with `pulumi stack output --json --show-secrets`"
        )
    if not found:
        raise OutputsError(
            f"{where}: no output has endpoint_name and inference_component_name (is this a sagezero stack?)"
        )
    if tenant is not None:
        if tenant not in found:
            raise OutputsError(f"{where}: no tenant {tenant!r}; tenants: {', '.join(sorted(found))}")
        return {tenant: found[tenant]}
    return found
