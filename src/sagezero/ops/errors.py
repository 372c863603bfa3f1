"""One error type for every failed AWS call: which resource, which AWS code, and what to do.

Never swallows the original exception: it stays chained for the log.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

_HINTS = {
    "NoCredentialsError": "no AWS credentials found: set AWS_PROFILE or AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY",
    "NoRegionError": "no AWS region: set AWS_DEFAULT_REGION (or pass --region)",
    "ProfileNotFound": "set AWS_PROFILE to a profile in ~/.aws/config (or unset it)",
    "ExpiredTokenException": "the AWS session token expired: refresh your credentials",
    "UnrecognizedClientException": "the credentials are not valid in this account/region",
    "AccessDeniedException": "the caller lacks this permission; the README (Cold starts) lists the IAM actions used",
    "ValidationException": "AWS rejected the request's parameters",
    "ValidationError": "AWS rejected the request's parameters",
    "ResourceNotFound": "check the endpoint / inference component names (stack outputs) and the region",
    "ObjectNotFoundException": "no scalable target is registered for this inference component",
    "ThrottlingException": "AWS throttled the call; retry later or lower the request rate",
    "ModelError": "the container answered with an error; see its CloudWatch log",
    "ParamValidationError": "a name or value does not fit the AWS API (names: letters, digits, hyphens, <= 63)",
    "EndpointConnectionError": "AWS could not be reached: check the network, the region and AWS_ENDPOINT_URL*",
}
# Answers that mean "this identity may not do that": retrying cannot help, so an optional call stops trying.
DENIED_CODES = frozenset({"AccessDeniedException", "AccessDenied", "UnauthorizedOperation", "UnauthorizedException"})


class OpsError(RuntimeError):
    """An operation on `resource` failed with AWS error `code`."""

    def __init__(self, resource: str, code: str, message: str, hint: str | None = None) -> None:
        self.resource = resource
        self.code = code
        self.hint = hint if hint is not None else _HINTS.get(code, "")
        one_line = " ".join(message.split())  # botocore's parameter errors span lines; a CLI error is one
        self.detail = one_line
        super().__init__(f"{resource}: {code}: {one_line}" + (f" (hint: {self.hint})" if self.hint else ""))


def from_boto(resource: str, exc: Exception) -> OpsError:
    """Wrap a botocore ClientError or credentials/region error."""
    response: Any = getattr(exc, "response", None)
    if isinstance(response, dict):
        err = response.get("Error", {})
        return OpsError(resource, str(err.get("Code", type(exc).__name__)), str(err.get("Message", exc)))
    return OpsError(resource, type(exc).__name__, str(exc))


def error_code(exc: Exception) -> str:
    response: Any = getattr(exc, "response", None)
    if isinstance(response, dict):
        return str(response.get("Error", {}).get("Code", ""))
    return type(exc).__name__


def error_message(exc: Exception) -> str:
    response: Any = getattr(exc, "response", None)
    if isinstance(response, dict):
        return str(response.get("Error", {}).get("Message", ""))
    return str(exc)


def call(resource: str, fn: Callable[..., Any], **kwargs: Any) -> Any:
    """Make one AWS call; any AWS, credentials, region, parameter or connection failure becomes an OpsError."""
    from botocore.exceptions import BotoCoreError, ClientError

    try:
        return fn(**kwargs)
    except (ClientError, BotoCoreError) as e:
        raise from_boto(resource, e) from e


# ---- asynchronous requests: one subclass per way `invoke_async` can end without a result ----------

FAILURE_TEXT_LIMIT = 1000
"""Characters of a failure object (the container's error text) quoted in an error: enough to read, never a flood."""


class NotAsyncEndpointError(OpsError):
    """The endpoint is real-time: it has no AsyncInferenceConfig, so nothing would read the S3 input."""

    def __init__(self, endpoint: str) -> None:
        super().__init__(
            endpoint,
            "NotAsynchronous",
            f"endpoint {endpoint} is real-time (its endpoint config has no AsyncInferenceConfig)",
            "invoke it without --async (`sagezero invoke`), which wakes it and retries through a cold start",
        )


class NoInputLocationError(OpsError):
    """Nobody said where to upload the payload: no argument and no `sagezero:async-input` tag."""

    def __init__(self, endpoint: str, tag: str) -> None:
        super().__init__(
            endpoint,
            "NoInputLocation",
            f"no S3 input location for endpoint {endpoint}: it has no {tag} tag",
            "pass --input-location s3://<bucket>/<prefix>/ (a prefix the endpoint's role may read)",
        )


class QueueRegionError(OpsError):
    """The SQS queue is in another region than the SQS client: every receive would answer "no such queue"."""

    def __init__(self, url: str, queue_region: str, client_region: str) -> None:
        super().__init__(
            url,
            "QueueInOtherRegion",
            f"the queue is in {queue_region}, the SQS client in {client_region}: it would never be found there",
            "use a queue in the endpoint's region (subscribed to its SNS topics), or leave --sqs-queue-url out",
        )


class BadPayloadError(OpsError):
    """The payload cannot be sent (empty, too large, not a readable file); nothing was uploaded."""

    def __init__(self, endpoint: str, message: str) -> None:
        super().__init__(endpoint, "BadPayload", message, "")


class InferenceFailedError(OpsError):
    """SageMaker ran the request and it failed: the failure object's text (bounded) is in the message."""

    def __init__(self, endpoint: str, inference_id: str, failure_location: str, reason: str) -> None:
        self.inference_id = inference_id
        self.failure_location = failure_location
        self.reason = reason[:FAILURE_TEXT_LIMIT]
        shown = self.reason + (" …" if len(reason) > FAILURE_TEXT_LIMIT else "")
        super().__init__(
            endpoint,
            "InferenceFailed",
            f"request {inference_id} failed: {shown or 'no reason given'} (details: {failure_location})",
            "see the endpoint's CloudWatch log for the container's side",
        )


class StillQueuedError(OpsError):
    """The deadline passed before a result: the request was accepted and is still queued or running.

    Never a lost request: the result will appear at `output_location` (or a failure at
    `failure_location`), so the message says where to fetch it later."""

    def __init__(
        self, endpoint: str, inference_id: str, output_location: str, failure_location: str | None, waited_s: float
    ) -> None:
        self.inference_id = inference_id
        self.output_location = output_location
        self.failure_location = failure_location
        super().__init__(
            endpoint,
            "StillQueued",
            f"request {inference_id} was accepted but has no result after {waited_s:.0f} s; it is still queued "
            f"or running: fetch the result later from {output_location}"
            + (f" (a failure would appear at {failure_location})" if failure_location else ""),
            "an endpoint at zero instances takes 3-6 minutes to wake; wait longer with --deadline",
        )
