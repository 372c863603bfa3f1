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
