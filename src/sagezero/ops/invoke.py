"""Invoke through a cold start: on "no capacity", wake the component and retry until a deadline.

Like a serverless activator, but on the client: capped exponential backoff with full jitter,
only for no-capacity and throttling/unavailable answers; any other error is raised at once with
the AWS code. Payload limits are checked before anything is sent.

Waking is best effort. A web backend's role often may only call `sagemaker:InvokeEndpoint`; when
the wake is refused, the component still wakes through its NoCapacityInvocationFailures alarm, so
invoke warns once and keeps retrying until its deadline instead of failing a request that would
have been served a few minutes later.
"""

from __future__ import annotations

import datetime as dt
import logging
import math
import random
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from botocore.exceptions import BotoCoreError, ClientError

from sagezero import clientbehaviour as behaviour
from sagezero.ops.errors import DENIED_CODES, OpsError, error_code, error_message, from_boto
from sagezero.ops.target import AwsClients, Target
from sagezero.ops.warm import Warn, warm

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
_log = logging.getLogger("sagezero.ops")


def is_no_capacity(code: str, message: str) -> bool:
    """SageMaker's immediate answer for a zero-copy component (HTTP 400 ValidationError)."""
    return code in ("ValidationError", "ValidationException") and "no capacity" in message.lower()


@dataclass(frozen=True)
class RetryPolicy:
    deadline_s: float = behaviour.DEADLINE_S
    """Give up after this long (the seed's cold starts took 3-6 minutes)."""
    base_s: float = behaviour.BACKOFF_BASE_S
    cap_s: float = behaviour.BACKOFF_CAP_S
    warm_on_cold: bool = True
    """On the first no-capacity answer, raise the component's minimum (as `warm`) instead of waiting for the alarm."""
    hold: dt.timedelta = field(default=dt.timedelta(minutes=behaviour.HOLD_MINUTES))

    def __post_init__(self) -> None:
        # A NaN deadline would never pass and retry forever; a negative backoff would crash sleep().
        if not isinstance(self.deadline_s, (int, float)) or behaviour.deadline_problem(self.deadline_s) is not None:
            raise ValueError(f"RetryPolicy.deadline_s: {behaviour.deadline_problem(math.nan)}, got {self.deadline_s!r}")
        for name in ("base_s", "cap_s"):
            value = getattr(self, name)
            if not (isinstance(value, (int, float)) and math.isfinite(value) and value >= 0):
                raise ValueError(f"RetryPolicy.{name}: expected a finite number >= 0, got {value!r}")
        if (problem := behaviour.hold_problem(self.hold)) is not None:
            raise ValueError(f"RetryPolicy.hold: {problem}")


@dataclass(frozen=True)
class InvokeResult:
    body: bytes
    content_type: str
    attempts: int
    waited_s: float
    cold: bool
    warnings: tuple[str, ...] = ()
    """What went wrong on the way without failing the call (e.g. the wake was not allowed)."""


WAKE_MIN_S = 0.5
"""A wake is not started with less than this left before the deadline."""
WAKE_BACKOFF_S = (5.0, 60.0)
"""After a transient wake failure (throttled, timed out, unreachable) the next wake waits this long, doubling to the cap."""


class _Wake:
    """The optional wake: tried on the first no-capacity answer, again (backing off) after a
    transient failure, never again once refused; each distinct failure is reported once. Every wake
    fits in what is left of the deadline: its calls get one attempt and timeouts no longer than that."""

    def __init__(
        self, clients: AwsClients, target: Target, hold: dt.timedelta, warn: Warn, clock: Callable[[], float]
    ) -> None:
        self.clients, self.target, self.hold, self.clock = clients, target, hold, clock
        self.done = False
        self.failures = 0
        self.not_before = -math.inf
        self.warnings: list[str] = []
        self._warn = warn

    def note(self, message: str) -> None:
        if message not in self.warnings:
            self.warnings.append(message)
            self._warn(message)

    def __call__(self, remaining: Callable[[], float]) -> None:
        if self.done or (self.failures and self.clock() < self.not_before):
            return
        remaining_s = remaining()
        if remaining_s < WAKE_MIN_S:
            return
        try:
            warm(self.clients.bounded(remaining_s), self.target, self.hold, warn=self.note)
        except OpsError as e:
            # A validation failure (e.g. the scalable target's role is missing or may not be passed)
            # will fail the same way every time: like a refusal, it is not tried again.
            refused = e.code in DENIED_CODES or e.code in ("ValidationException", "ValidationError")
            self.done = refused
            if not refused:
                self.failures += 1
                base, cap = WAKE_BACKOFF_S
                # The shared formula without jitter: wakes are spaced, not spread.
                self.not_before = self.clock() + behaviour.backoff_s(self.failures, 1.0, base_s=base, cap_s=cap)
            self.note(
                f"{e.resource}: could not wake the component ({e.code}); its NoCapacityInvocationFailures alarm "
                "wakes it instead, retrying until the deadline"
                + (" (grant the App Auto Scaling actions in the README to wake sooner)" if refused else "")
            )
        else:
            self.done = True


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
    warn: Warn | None = None,
) -> InvokeResult:
    """Send `body`, waking the component and retrying through a cold start; `warn` (default: the
    `sagezero.ops` logger) hears once about each optional step that failed."""
    if not body:
        raise OpsError(target.endpoint_name, "EmptyBody", "the request body is empty; nothing was sent", "")
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
    resource = f"{target.endpoint_name}/{target.inference_component_name}"
    wake = _Wake(clients, target, retry.hold, warn or _log.warning, clock)
    start = clock()
    attempts = 0
    cold = False
    while True:
        attempts += 1
        try:
            resp = clients.runtime.invoke_endpoint(**kwargs)
            return InvokeResult(
                resp["Body"].read(), str(resp.get("ContentType", "")), attempts, clock() - start, cold,
                tuple(wake.warnings),
            )  # fmt: skip
        except ClientError as e:
            code, message = error_code(e), error_message(e)
            if is_no_capacity(code, message):
                cold = True
                if retry.warm_on_cold:
                    wake(lambda: retry.deadline_s - (clock() - start))
            elif code not in RETRYABLE_CODES:
                raise from_boto(resource, e) from e
        except BotoCoreError as e:  # credentials, region, parameters, connection: botocore already retried
            raise from_boto(resource, e) from e
        delay = behaviour.backoff_s(attempts, jitter(), base_s=retry.base_s, cap_s=retry.cap_s)
        remaining = retry.deadline_s - (clock() - start)
        if remaining <= 0:
            raise OpsError(
                target.inference_component_name,
                "DeadlineExceeded",
                f"no answer within {retry.deadline_s:.0f} s ({attempts} attempts"
                + (", the component is waking from zero copies" if cold else "")
                + (f"; {len(wake.warnings)} warning(s): {wake.warnings[0]}" if wake.warnings else "")
                + ")",
                "cold starts take 3-6 minutes; warm the endpoint when a user logs in (`sagezero warm`)",
            )
        sleep(min(delay, remaining))  # the last try lands on the deadline, not a backoff before it
