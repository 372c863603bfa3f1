"""Invoke through a cold start: on "no capacity", wake the component and retry until a deadline.

Like a serverless activator, but on the client: capped exponential backoff with full jitter,
only for no-capacity and throttling/unavailable answers; any other error is raised at once with
the AWS code. Payload limits are checked before anything is sent.
"""

from __future__ import annotations

import datetime as dt
import random
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from botocore.exceptions import ClientError

from sagezero.ops.errors import OpsError, error_code, error_message, from_boto
from sagezero.ops.target import AwsClients, Target
from sagezero.ops.warm import warm

MAX_PAYLOAD_BYTES = 6 * 1024 * 1024  # real-time InvokeEndpoint limit
MAX_CUSTOM_ATTRIBUTES = 1024
RETRYABLE_CODES = frozenset(
    {
        "ThrottlingException",
        "ServiceUnavailable",
        "InternalFailure",
        "InternalDependencyException",
        "ModelNotReadyException",
    }
)


def is_no_capacity(code: str, message: str) -> bool:
    """SageMaker's immediate answer for a zero-copy component (HTTP 400 ValidationError)."""
    return code in ("ValidationError", "ValidationException") and "no capacity" in message.lower()


@dataclass(frozen=True)
class RetryPolicy:
    deadline_s: float = 600.0
    """Give up after this long (the seed's cold starts took 3-6 minutes)."""
    base_s: float = 1.0
    cap_s: float = 20.0
    warm_on_cold: bool = True
    """On the first no-capacity answer, raise the component's minimum (as `warm`) instead of waiting for the alarm."""
    hold: dt.timedelta = field(default=dt.timedelta(minutes=30))


@dataclass(frozen=True)
class InvokeResult:
    body: bytes
    content_type: str
    attempts: int
    waited_s: float
    cold: bool


def invoke(
    clients: AwsClients,
    target: Target,
    body: bytes,
    *,
    content_type: str = "application/json",
    accept: str | None = None,
    custom_attributes: str | None = None,
    retry: RetryPolicy = RetryPolicy(),
    sleep: Callable[[float], None] = time.sleep,
    clock: Callable[[], float] = time.monotonic,
    jitter: Callable[[], float] = random.random,
) -> InvokeResult:
    if len(body) > MAX_PAYLOAD_BYTES:
        raise OpsError(
            target.endpoint_name, "PayloadTooLarge", f"{len(body)} bytes exceeds the {MAX_PAYLOAD_BYTES}-byte limit", ""
        )
    if custom_attributes is not None and len(custom_attributes) > MAX_CUSTOM_ATTRIBUTES:
        raise OpsError(
            target.endpoint_name, "CustomAttributesTooLong", f"{len(custom_attributes)} > 1024 characters", ""
        )
    kwargs: dict[str, Any] = {
        "EndpointName": target.endpoint_name,
        "InferenceComponentName": target.inference_component_name,
        "Body": body,
        "ContentType": content_type,
    }
    if accept:
        kwargs["Accept"] = accept
    if custom_attributes is not None:
        kwargs["CustomAttributes"] = custom_attributes
    start = clock()
    attempts = 0
    cold = warmed = False
    while True:
        attempts += 1
        try:
            resp = clients.runtime.invoke_endpoint(**kwargs)
            return InvokeResult(resp["Body"].read(), str(resp.get("ContentType", "")), attempts, clock() - start, cold)
        except ClientError as e:
            code, message = error_code(e), error_message(e)
            if is_no_capacity(code, message):
                cold = True
                if retry.warm_on_cold and not warmed:
                    warm(clients, target, retry.hold)
                    warmed = True
            elif code not in RETRYABLE_CODES:
                raise from_boto(f"{target.endpoint_name}/{target.inference_component_name}", e) from e
        delay = min(retry.cap_s, retry.base_s * 2 ** (attempts - 1)) * jitter()
        remaining = retry.deadline_s - (clock() - start)
        if remaining <= 0:
            raise OpsError(
                target.inference_component_name,
                "DeadlineExceeded",
                f"no answer within {retry.deadline_s:.0f} s ({attempts} attempts"
                + (", the component is waking from zero copies" if cold else "")
                + ")",
                "cold starts take 3-6 minutes; warm the endpoint when a user logs in (`sagezero warm`)",
            )
        sleep(min(delay, remaining))  # the last try lands on the deadline, not a backoff before it
