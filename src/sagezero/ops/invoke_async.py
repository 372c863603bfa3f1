"""Send one request to an asynchronous endpoint and wait (until a deadline) for its result in S3.

An asynchronous endpoint at zero instances queues the request and wakes on its backlog, so unlike
`invoke` there is nothing to retry: the payload goes to S3, `InvokeEndpointAsync` enqueues it, and
the client waits for the output (or failure) object — by polling S3 with capped backoff, or, when the
caller gives an SQS queue subscribed to the endpoint's SNS topics, by long-polling that queue (S3 is
still checked between receives, so a lost or unsubscribed notice costs time, never the result).
A request is never lost: once accepted, a deadline ends the wait with `StillQueuedError`, which names
the output location to fetch later. boto3 only (a web backend imports this).
"""

from __future__ import annotations

import json
import logging
import os
import random
import re
import time
import uuid
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any
from urllib.parse import unquote

from boto3.exceptions import Boto3Error
from botocore.exceptions import BotoCoreError, ClientError, ParamValidationError

from sagezero import clientbehaviour as behaviour
from sagezero.ops.errors import (
    DENIED_CODES,
    BadPayloadError,
    InferenceFailedError,
    NoInputLocationError,
    NotAsyncEndpointError,
    OpsError,
    QueueRegionError,
    StillQueuedError,
    call,
    error_code,
    from_boto,
)
from sagezero.ops.target import AwsClients

INPUT_TAG = "sagezero:async-input"
"""Endpoint tag (set by the component) naming the S3 prefix requests are uploaded under."""
TIMEOUT_TAG = "sagezero:async-invocation-timeout-s"
"""Endpoint tag (set by the component) with the InvocationTimeoutSeconds each request is sent with."""
INVOCATION_TIMEOUT_RANGE = (1, 3600)
"""InvocationTimeoutSeconds as AWS's API model allows it."""
FAILURE_READ_BYTES = 4096
"""Bytes of a failure object read for the error message (it is bounded again when shown)."""
MAX_OUTPUT_IN_MEMORY = 64 * 1024 * 1024
"""A result larger than this is not read into memory: the caller passes `output=` to stream it to a file."""

Clock = Callable[[], float]
Payload = bytes | str | os.PathLike[str]
_NOT_FOUND = frozenset({"404", "NoSuchKey", "NotFound"})
# The region in an SQS queue URL: sqs.<region>.amazonaws.com[.cn], or the legacy <region>.queue.amazonaws.com
# and queue.amazonaws.com (us-east-1). Any other host (a local stand-in) names no region.
_SQS_HOST = re.compile(r"https?://(?:sqs\.([a-z0-9-]+)|([a-z0-9-]+)\.queue|(queue))\.amazonaws\.com(?:\.cn)?/", re.I)
_log = logging.getLogger("sagezero.ops")


def queue_region(url: str) -> str | None:
    """The region an SQS queue URL names, or None when its host is not an AWS one."""
    m = _SQS_HOST.match(url)
    if not m:
        return None
    return (m.group(1) or m.group(2) or "us-east-1").lower()


# AWS's bucket naming rules (3-63 lowercase letters, digits, dots, hyphens; starts and ends alphanumeric).
_BUCKET = re.compile(r"[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]")


# ---- parsers ------------------------------------------------------------------------------------


class S3UriError(ValueError):
    """Not an `s3://bucket/key` URI that S3 would accept."""


# The https:// forms SageMaker's S3 paths also take (`(https|s3)://...` in its API model): path style
# (s3[.-<region>].amazonaws.com/<bucket>/<key>) and virtual-hosted style (<bucket>.s3[.-<region>]...).
_S3_HOST = r"s3(?:[.-](?:dualstack\.)?[a-z0-9-]+)?\.amazonaws\.com(?:\.cn)?"
_HTTPS_PATH = re.compile(rf"https://{_S3_HOST}/([^/]*)/?(.*)", re.S)
_HTTPS_VHOST = re.compile(rf"https://([^/]+?)\.{_S3_HOST}(?:/(.*))?", re.S)


def parse_s3_uri(uri: object, *, key_required: bool = False) -> tuple[str, str]:
    """(bucket, key) of `s3://bucket/key`, or of the `https://` S3 URLs SageMaker also accepts (an
    endpoint config may name its output path so, and InvokeEndpointAsync then answers in that form).
    Checked here because a malformed location would otherwise surface as an S3 or SageMaker parameter
    error after the payload was uploaded."""
    if isinstance(uri, str) and uri.startswith("https://"):
        m = _HTTPS_PATH.fullmatch(uri) or _HTTPS_VHOST.fullmatch(uri)
        if m is None:
            raise S3UriError(f"{uri[:120]!r}: not an S3 URL (https://<bucket>.s3.<region>.amazonaws.com/<key>)")
        bucket, key = m.group(1), unquote(m.group(2) or "")
    elif not isinstance(uri, str) or not uri.startswith("s3://"):
        raise S3UriError(f"expected an s3://bucket/prefix URI, got {uri!r:.120}")
    else:
        bucket, _, key = uri[len("s3://") :].partition("/")
    if not _BUCKET.fullmatch(bucket) or ".." in bucket:
        raise S3UriError(f"{uri[:120]!r}: {bucket[:70]!r} is not a valid S3 bucket name")
    if key_required and not key:
        raise S3UriError(f"{uri[:120]!r}: names no object key")
    if len(key.encode("utf-8", "surrogatepass")) > 1024 or any(ord(c) < 32 or ord(c) == 127 for c in key):
        raise S3UriError(f"{uri[:120]!r}: the key is longer than 1024 bytes or holds control characters")
    return bucket, key


def parse_input_prefix(uri: object) -> tuple[str, str]:
    """(bucket, key prefix) of the `s3://bucket/prefix/` payloads are uploaded under. ASCII only: the
    payload's location travels to SageMaker in an HTTP header (X-Amzn-SageMaker-InputLocation), where
    botocore sends a non-ASCII key as raw UTF-8 bytes that an HTTP/1.1 server reads as Latin-1: the
    request would be queued for an object that does not exist."""
    bucket, key = parse_s3_uri(uri)
    if not key.isascii():
        raise S3UriError(f"{str(uri)[:120]!r}: the prefix holds non-ASCII characters, which SageMaker receives "
                         "in an HTTP header; use an ASCII prefix")  # fmt: skip
    return bucket, key


@dataclass(frozen=True)
class Notice:
    """What SageMaker's SNS notification says about one request."""

    inference_id: str
    completed: bool
    output_location: str | None
    failure_location: str | None
    failure_reason: str


def parse_notice(body: object) -> Notice | None:
    """The notice in one SQS message body, or None when it is not one (another producer's message).

    SQS receives SageMaker's JSON either wrapped in SNS's envelope (`{"Type": "Notification",
    "Message": "<json>"}`) or, with raw message delivery, as it is. Never raises: a shared queue can
    hold anything, and one odd message must not end the wait."""
    doc = _json(body)
    if isinstance(doc, dict) and doc.get("Type") == "Notification" and "Message" in doc:
        doc = _json(doc["Message"])
    if not isinstance(doc, dict):
        return None
    inference_id, status = doc.get("inferenceId"), doc.get("invocationStatus")
    if not isinstance(inference_id, str) or not inference_id or status not in ("Completed", "Failed"):
        return None
    response = doc.get("responseParameters")
    response = response if isinstance(response, dict) else {}

    def text(value: object) -> str | None:
        return value if isinstance(value, str) and value else None

    reason = doc.get("failureReason")
    return Notice(
        inference_id,
        status == "Completed",
        text(response.get("outputLocation")),
        text(response.get("failureLocation")) or text(doc.get("failureLocation")),
        reason if isinstance(reason, str) else "",
    )


def _json(value: object) -> object:
    if not isinstance(value, str) or len(value) > 256 * 1024:  # SQS's message size limit
        return None
    try:
        return json.loads(value)
    except (ValueError, RecursionError):
        return None


# ---- discovery ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class AsyncEndpoint:
    """An asynchronous endpoint as its config and tags describe it."""

    name: str
    output_path: str
    failure_path: str | None
    success_topic: str | None
    error_topic: str | None
    input_prefix: str | None
    """From the `sagezero:async-input` tag; None when the endpoint has none."""
    invocation_timeout_s: int | None
    instances: int
    """Instances serving when it was described; 0 means the request queues through a cold start."""


def describe_async(clients: AwsClients, endpoint: str) -> AsyncEndpoint:
    """DescribeEndpoint → DescribeEndpointConfig → ListTags; refuses a real-time endpoint."""
    sm = clients.sagemaker
    ep = call(endpoint, sm.describe_endpoint, EndpointName=endpoint)
    config_name = str(ep.get("EndpointConfigName", ""))
    cfg = call(config_name, sm.describe_endpoint_config, EndpointConfigName=config_name)
    async_cfg = cfg.get("AsyncInferenceConfig")
    if not isinstance(async_cfg, Mapping):
        raise NotAsyncEndpointError(endpoint)
    out = async_cfg.get("OutputConfig") or {}
    notify = out.get("NotificationConfig") or {}
    tags: dict[str, str] = {}
    arn = ep.get("EndpointArn")
    if arn:
        pages = sm.get_paginator("list_tags").paginate(ResourceArn=arn)
        try:
            for page in pages:
                tags.update({str(t["Key"]): str(t["Value"]) for t in page.get("Tags", [])})
        except ClientError as e:
            # A narrow role (a web backend's) may invoke without sagemaker:ListTags: it then passes the
            # input location itself, and the missing tag is named by NoInputLocationError if it does not.
            if error_code(e) not in DENIED_CODES:
                raise from_boto(endpoint, e) from e
            tags = {}
        except BotoCoreError as e:
            raise from_boto(endpoint, e) from e
    timeout = tags.get(TIMEOUT_TAG)
    return AsyncEndpoint(
        name=endpoint,
        output_path=str(out.get("S3OutputPath", "")),
        failure_path=out.get("S3FailurePath") or None,
        success_topic=notify.get("SuccessTopic") or None,
        error_topic=notify.get("ErrorTopic") or None,
        input_prefix=tags.get(INPUT_TAG) or None,
        # A hand-edited tag that AWS would refuse is ignored (AWS's own default applies), not fatal.
        invocation_timeout_s=_timeout_tag(timeout),
        instances=sum(int(v.get("CurrentInstanceCount", 0) or 0) for v in ep.get("ProductionVariants") or []),
    )


def _timeout_tag(value: str | None) -> int | None:
    """The timeout tag's seconds, or None when it is absent or a value AWS would refuse. ASCII digits
    only: a tag value may hold any Unicode digit ("²" is one to `str.isdigit`, not to `int`)."""
    lo, hi = INVOCATION_TIMEOUT_RANGE
    if not value or not (value.isascii() and value.isdigit()) or len(value) > 6:
        return None
    seconds = int(value)
    return seconds if lo <= seconds <= hi else None


# ---- the request --------------------------------------------------------------------------------


@dataclass(frozen=True)
class AsyncResult:
    inference_id: str
    input_location: str
    output_location: str
    body: bytes | None
    """The result, or None when it was saved to `saved_to`."""
    saved_to: Path | None
    content_type: str
    cold: bool
    """The endpoint had no instance when the request was sent: it queued through a cold start."""
    upload_s: float
    waited_s: float
    """From the start of the call to the result (upload included)."""
    checks: int
    """How many times S3 (or the queue) was asked for the result."""
    notified: bool
    """The result was found through the SQS notice rather than by polling S3."""


@dataclass(frozen=True)
class WaitPolicy:
    deadline_s: float = behaviour.ASYNC_DEADLINE_S
    base_s: float = behaviour.ASYNC_POLL_BASE_S
    cap_s: float = behaviour.ASYNC_POLL_CAP_S
    sqs_wait_s: int = behaviour.ASYNC_SQS_WAIT_S

    def __post_init__(self) -> None:
        # A NaN deadline would wait forever; a negative poll would crash sleep().
        if not isinstance(self.deadline_s, (int, float)) or behaviour.async_deadline_problem(self.deadline_s):
            raise ValueError(
                f"WaitPolicy.deadline_s: {behaviour.async_deadline_problem(-1.0)}, got {self.deadline_s!r}"
            )
        for name in ("base_s", "cap_s"):
            value = getattr(self, name)
            if not (isinstance(value, (int, float)) and 0 <= value < float("inf")):
                raise ValueError(f"WaitPolicy.{name}: expected a finite number >= 0, got {value!r}")
        if not (isinstance(self.sqs_wait_s, int) and 0 <= self.sqs_wait_s <= 20):
            raise ValueError(f"WaitPolicy.sqs_wait_s: SQS waits 0-20 s, got {self.sqs_wait_s!r}")


def _open(path: Path) -> IO[bytes]:
    """Open a payload file (a seam: tests wrap the file to prove it is read in parts)."""
    return path.open("rb")


def payload_problem(payload: Payload) -> str | None:
    """Why `payload` cannot be sent (empty, too large, missing, a folder), or None; the CLI asks first."""
    return _payload_problem(payload)[2]


def _payload_problem(payload: Payload) -> tuple[Path | None, int, str | None]:
    """(path or None, size, why it cannot be sent or None)."""
    limit = behaviour.ASYNC_MAX_PAYLOAD_BYTES
    if isinstance(payload, bytes):
        size = len(payload)
        path = None
    else:
        path = Path(payload)
        if path.is_dir():
            return path, 0, f"payload {path}: is a folder, expected a file"
        try:
            size = path.stat().st_size
        except FileNotFoundError:
            return path, 0, f"payload {path}: no such file"
        except OSError as e:
            return path, 0, f"payload {path}: cannot read ({e.strerror or e})"
        if not path.is_file():
            return path, 0, f"payload {path}: not a regular file"
    where = f"payload {path}" if path else "payload"
    if size == 0:
        return path, 0, f"{where} is empty; nothing was sent"
    if size > limit:
        return path, size, f"{where} is {size:,} bytes, over the {limit:,}-byte limit of an asynchronous request"
    return path, size, None


def _upload(clients: AwsClients, endpoint: str, payload: Payload, path: Path | None, *, bucket: str, key: str) -> None:
    """Upload in parts of ASYNC_UPLOAD_CHUNK_BYTES (S3 multipart above one part): a 1 GB file costs a
    few parts of memory, and a failed part is retried alone."""
    from boto3.s3.transfer import TransferConfig

    chunk = behaviour.ASYNC_UPLOAD_CHUNK_BYTES
    config = TransferConfig(multipart_threshold=chunk, multipart_chunksize=chunk, max_concurrency=4)
    resource = f"s3://{bucket}/{key}"
    try:
        if path is None:
            assert isinstance(payload, bytes)
            clients.s3.put_object(Bucket=bucket, Key=key, Body=payload)
        else:
            try:
                f = _open(path)
            except OSError as e:
                raise BadPayloadError(endpoint, f"payload {path}: cannot read ({e.strerror or e})") from e
            with f:
                clients.s3.upload_fileobj(f, bucket, key, Config=config)
    except (ClientError, BotoCoreError) as e:
        raise from_boto(resource, e) from e
    except OSError as e:  # the file failed while being read (s3transfer reads it on its threads)
        raise BadPayloadError(endpoint, f"payload {path}: failed while uploading ({e.strerror or e})") from e


_FORBIDDEN = frozenset({"403", "Forbidden", "AccessDenied"})


def _head(clients: AwsClients, location: str, forbidden: set[str] | None = None) -> Mapping[str, Any] | None:
    """The object's metadata, or None while it is not there. S3 answers a missing key with 403, not 404,
    to an identity without s3:ListBucket on the bucket (a least-privilege web backend's role): with
    `forbidden` given, a 403 is "not there yet" too, and the location is added to it."""
    bucket, key = parse_s3_uri(location, key_required=True)
    try:
        return dict(clients.s3.head_object(Bucket=bucket, Key=key))
    except ClientError as e:
        if error_code(e) in _NOT_FOUND:
            return None
        if forbidden is not None and error_code(e) in _FORBIDDEN:
            forbidden.add(location)
            return None
        raise from_boto(location, e) from e
    except BotoCoreError as e:
        raise from_boto(location, e) from e


def _failure_text(clients: AwsClients, location: str) -> str:
    """The start of the failure object; its absence (expired, not readable) leaves the reason empty."""
    bucket, key = parse_s3_uri(location, key_required=True)
    try:
        obj = clients.s3.get_object(Bucket=bucket, Key=key, Range=f"bytes=0-{FAILURE_READ_BYTES - 1}")
        with obj["Body"] as body:
            data: bytes = body.read(FAILURE_READ_BYTES)
    except (ClientError, BotoCoreError):
        return ""
    return " ".join(data.decode("utf-8", "replace").split())


def _fetch(clients: AwsClients, location: str, size: int, output: Path | None) -> tuple[bytes | None, Path | None]:
    bucket, key = parse_s3_uri(location, key_required=True)
    try:
        if output is not None:
            try:
                clients.s3.download_file(bucket, key, str(output))
            except Boto3Error as e:  # RetriesExceededError: the stream broke more often than s3transfer retries
                raise OpsError(location, type(e).__name__, f"downloading the result failed ({e})") from e
            except OSError as e:  # the folder went away during the wait, the disk filled, ...
                raise OpsError(str(output), "OutputNotSaved", f"could not write the result to {output} "
                               f"({e.strerror or e})", f"copy it yourself: aws s3 cp {location} FILE") from e  # fmt: skip
            return None, output

        def too_large(size: str) -> OpsError:
            # The result exists: sending the request again (to add --output) would run it twice.
            return OpsError(location, "OutputTooLarge", f"the result is {size} bytes, too large to hold in "
                            "memory", f"copy it: aws s3 cp {location} FILE (next time pass --output FILE)")  # fmt: skip

        if size > MAX_OUTPUT_IN_MEMORY:
            raise too_large(f"{size:,}")
        obj = clients.s3.get_object(Bucket=bucket, Key=key)
        with obj["Body"] as body:
            # Bounded again: the object may have been replaced since HEAD measured it.
            data: bytes = body.read(MAX_OUTPUT_IN_MEMORY + 1)
        if len(data) > MAX_OUTPUT_IN_MEMORY:
            raise too_large(f"over {MAX_OUTPUT_IN_MEMORY:,}")
        return data, None
    except (ClientError, BotoCoreError) as e:
        raise from_boto(location, e) from e


def _discard(clients: AwsClients, bucket: str, key: str) -> bool:
    """Delete a payload this call uploaded (a fresh key: nobody else's data) that will never be read."""
    try:
        clients.s3.delete_object(Bucket=bucket, Key=key)
        return True
    except (ClientError, BotoCoreError):
        return False


ENQUEUE_RETRYABLE = frozenset({"ThrottlingException", "Throttling", "TooManyRequestsException", "ServiceUnavailable"})
"""InvokeEndpointAsync's answers that mean "not queued, try again"."""


def _enqueue(
    clients: AwsClients,
    endpoint: str,
    request: Mapping[str, Any],
    *,
    bucket: str,
    key: str,
    output_path: str,
    sleep: Callable[[float], None],
    jitter: Callable[[], float],
    time_left: Callable[[], float],
) -> Mapping[str, Any]:
    """InvokeEndpointAsync, sent again while it is throttled or unavailable (within the deadline).

    A refusal (a 4xx answer, or a request botocore would not send) queued nothing: the payload just
    uploaded is deleted (it is ours, under a fresh key) and the error says so. Any other failure (a 5xx,
    a connection lost after sending) may have queued the request anyway: the payload stays and the error
    names the inference id and where its result would appear."""
    iid = str(request["InferenceId"])
    input_uri = f"s3://{bucket}/{key}"
    attempt = 0
    while True:
        attempt += 1
        try:
            return dict(clients.runtime.invoke_endpoint_async(**request))
        except ClientError as e:
            code = error_code(e)
            status = int(e.response.get("ResponseMetadata", {}).get("HTTPStatusCode") or 0)
            retry = code in ENQUEUE_RETRYABLE or status in (429, 503)
            if retry and attempt < behaviour.ASYNC_ENQUEUE_ATTEMPTS and time_left() > 0:
                sleep(min(behaviour.backoff_s(attempt, jitter()), max(time_left(), 0.0)))
                continue
            refused = retry or 400 <= status < 500
            error = from_boto(endpoint, e)
        except ParamValidationError as e:
            refused, error = True, from_boto(endpoint, e)
        except BotoCoreError as e:
            refused, error = False, from_boto(endpoint, e)
        if refused:
            deleted = _discard(clients, bucket, key)
            fate = "the uploaded payload was deleted" if deleted else f"the uploaded payload stays at {input_uri}"
            what = f"after {attempt} attempts" if attempt > 1 else "at once"
            detail = f"{error.detail}; SageMaker refused the request {what}, nothing was queued; {fate}"
        else:
            detail = (
                f"{error.detail}; request {iid} may have been queued anyway: if so, its result will appear "
                f"under {output_path} (its payload stays at {input_uri})"
            )
        raise OpsError(error.resource, error.code, detail, error.hint) from error


class _Queue:
    """Notices from an SQS queue subscribed to the endpoint's topics. Messages about other requests
    are made visible again at once (other clients share the queue); ours is deleted once read."""

    def __init__(self, clients: AwsClients, url: str, inference_id: str) -> None:
        self.sqs, self.url, self.inference_id = clients.sqs, url, inference_id

    def wait(self, seconds: int) -> tuple[Notice | None, bool]:
        """(our notice or None, whether others' messages came back instead of a full long poll)."""
        try:
            got = self.sqs.receive_message(
                QueueUrl=self.url, MaxNumberOfMessages=10, WaitTimeSeconds=max(0, min(seconds, 20))
            )
            mine: Notice | None = None
            others = False
            for m in got.get("Messages", []):
                notice = parse_notice(m.get("Body"))
                if notice is not None and notice.inference_id == self.inference_id:
                    # Ours, and every copy of it (SNS delivers at least once): nobody else would ever
                    # delete a duplicate, and it would circle among the other waiters until it expired.
                    mine = mine or notice
                    self.sqs.delete_message(QueueUrl=self.url, ReceiptHandle=m["ReceiptHandle"])
                else:
                    others = True
                    self.sqs.change_message_visibility(
                        QueueUrl=self.url, ReceiptHandle=m["ReceiptHandle"], VisibilityTimeout=0
                    )
            return mine, others
        except (ClientError, BotoCoreError) as e:
            raise from_boto(self.url, e) from e


def invoke_async(
    clients: AwsClients,
    endpoint: str,
    payload: Payload,
    *,
    content_type: str = "application/json",
    accept: str | None = None,
    input_location: str | None = None,
    invocation_timeout_s: int | None = None,
    sqs_queue_url: str | None = None,
    output: str | os.PathLike[str] | None = None,
    wait: WaitPolicy = WaitPolicy(),
    sleep: Callable[[float], None] = time.sleep,
    clock: Clock = time.monotonic,
    jitter: Callable[[], float] = random.random,
    new_id: Callable[[], str] = lambda: uuid.uuid4().hex,
    on_accepted: Callable[[str, str], None] | None = None,
    warn: Callable[[str], None] | None = None,
) -> AsyncResult:
    """Upload `payload` (bytes, or a file streamed in parts), enqueue it, and wait for its result.

    `input_location` (an `s3://bucket/prefix/`) overrides the endpoint's `sagezero:async-input` tag;
    `output` streams the result to that file instead of returning it. Raises `BadPayloadError`,
    `NotAsyncEndpointError`, `NoInputLocationError` before anything is uploaded; `InferenceFailedError` with the
    failure object's text; `StillQueuedError` at the deadline (the request stays accepted).
    `on_accepted(inference_id, output_location)` is told as soon as SageMaker accepts the request, so a
    caller that is interrupted while waiting still knows where the result will be. `warn` hears about a
    queue that cannot be read (the wait goes on by polling S3); without it, the `sagezero.ops` logger does."""
    if clients.s3 is None:
        raise OpsError(endpoint, "NoS3Client", "asynchronous requests need an S3 client (AwsClients.s3)", "")
    if sqs_queue_url is not None and clients.sqs is None:
        raise OpsError(endpoint, "NoSqsClient", "waiting on a queue needs an SQS client (AwsClients.sqs)", "")
    if sqs_queue_url is not None:
        theirs, ours = queue_region(sqs_queue_url), getattr(clients.sqs.meta, "region_name", None)
        if theirs and ours and theirs != ours:
            raise QueueRegionError(sqs_queue_url, theirs, ours)
    lo, hi = INVOCATION_TIMEOUT_RANGE
    if invocation_timeout_s is not None and not lo <= invocation_timeout_s <= hi:
        raise ValueError(f"invocation_timeout_s: AWS allows {lo}-{hi} seconds, got {invocation_timeout_s}")
    path, _size, problem = _payload_problem(payload)
    if problem is not None:
        raise BadPayloadError(endpoint, problem)
    start = clock()
    info = describe_async(clients, endpoint)
    if sqs_queue_url is not None and not (info.success_topic or info.error_topic):
        # Nothing publishes to the queue: 20-second long polls would only slow finding the result.
        (warn or _log.warning)(f"endpoint {endpoint} has no SNS topics (NotificationConfig), so the queue "
                               "hears nothing of its requests; waiting by polling S3")  # fmt: skip
        sqs_queue_url = None
    prefix = input_location or info.input_prefix
    if prefix is None:
        raise NoInputLocationError(endpoint, INPUT_TAG)
    try:
        bucket, key_prefix = parse_input_prefix(prefix)
    except S3UriError as e:
        where = "--input-location" if input_location else f"tag {INPUT_TAG}"
        raise OpsError(endpoint, "BadInputLocation", f"{where}: {e}", "") from e
    inference_id = new_id()
    key = f"{key_prefix.rstrip('/')}/{inference_id}" if key_prefix.strip("/") else inference_id
    try:
        _upload(clients, endpoint, payload, path, bucket=bucket, key=key)
    except KeyboardInterrupt:
        # Ctrl+C while uploading: s3transfer finishes (or aborts) what it started before the interrupt
        # reaches us, which can leave a whole payload (up to 1 GB, billed) that nothing will ever read.
        _discard(clients, bucket, key)
        raise
    uploaded = clock()
    input_uri = f"s3://{bucket}/{key}"
    request: dict[str, Any] = {
        "EndpointName": endpoint,
        "InputLocation": input_uri,
        "InferenceId": inference_id,
        "ContentType": content_type,
    }
    if accept:
        request["Accept"] = accept
    timeout = invocation_timeout_s if invocation_timeout_s is not None else info.invocation_timeout_s
    if timeout is not None:
        request["InvocationTimeoutSeconds"] = timeout
    accepted = _enqueue(clients, endpoint, request, bucket=bucket, key=key, output_path=info.output_path,
                        sleep=sleep, jitter=jitter, time_left=lambda: wait.deadline_s - (clock() - start))  # fmt: skip
    output_location = str(accepted.get("OutputLocation") or "")
    failure_location = accepted.get("FailureLocation") or None
    inference_id = str(accepted.get("InferenceId") or inference_id)
    try:
        parse_s3_uri(output_location, key_required=True)
        if failure_location:
            parse_s3_uri(failure_location, key_required=True)
    except S3UriError as e:
        raise OpsError(endpoint, "NoOutputLocation", f"SageMaker accepted request {inference_id} but named no "
                       f"usable result location ({e}); look for it under {info.output_path}", "") from e  # fmt: skip
    if on_accepted is not None:
        on_accepted(inference_id, output_location)
    try:
        return _wait(clients, endpoint, info, wait, sleep=sleep, clock=clock, jitter=jitter, start=start,
                     uploaded=uploaded, inference_id=inference_id, input_uri=input_uri,
                     output_location=output_location, failure_location=failure_location,
                     sqs_queue_url=sqs_queue_url, output=output, warn=warn or _log.warning)  # fmt: skip
    except (InferenceFailedError, StillQueuedError):
        raise
    except OpsError as e:
        # Reading the result failed (no s3:GetObject, the network): the request itself is accepted and
        # runs; the error must still say where its result will be.
        raise OpsError(e.resource, e.code, f"{e.detail}; request {inference_id} was accepted and its result "
                       f"will appear at {output_location}", e.hint) from e  # fmt: skip


def _wait(
    clients: AwsClients,
    endpoint: str,
    info: AsyncEndpoint,
    wait: WaitPolicy,
    *,
    sleep: Callable[[float], None],
    clock: Clock,
    jitter: Callable[[], float],
    start: float,
    uploaded: float,
    inference_id: str,
    input_uri: str,
    output_location: str,
    failure_location: str | None,
    sqs_queue_url: str | None,
    output: str | os.PathLike[str] | None,
    warn: Callable[[str], None],
) -> AsyncResult:
    """Until the deadline: the output object (a result), the failure object (InferenceFailedError), or
    the queue's notice; StillQueuedError when the deadline passes first."""

    queue = _Queue(clients, sqs_queue_url, inference_id) if sqs_queue_url else None
    checks = 0
    forbidden: set[str] = set()
    told = False

    def head_of(location: str) -> Mapping[str, Any] | None:
        nonlocal told
        found = _head(clients, location, forbidden)
        if forbidden and not told:
            told = True
            warn(f"S3 answers 403 for {sorted(forbidden)[0]}: not written yet, seen by an identity without "
                 "s3:ListBucket (S3 then answers 403 instead of 404), or one without s3:GetObject on it; "
                 f"waiting on for request {inference_id}")  # fmt: skip
        return found

    out_path = Path(output) if output is not None else None

    def done(head: Mapping[str, Any], notified: bool) -> AsyncResult:
        body, saved = _fetch(clients, output_location, int(head.get("ContentLength", 0)), out_path)
        return AsyncResult(
            inference_id, input_uri, output_location, body, saved, str(head.get("ContentType", "")),
            info.instances == 0, uploaded - start, clock() - start, checks, notified,
        )  # fmt: skip

    def failed(reason: str, location: str) -> InferenceFailedError:
        return InferenceFailedError(endpoint, inference_id, location, reason or _failure_text(clients, location))

    while True:
        checks += 1
        head = head_of(output_location)
        if head is not None:
            return done(head, notified=False)
        if failure_location and head_of(failure_location) is not None:
            raise failed("", failure_location)
        remaining = wait.deadline_s - (clock() - start)
        if remaining <= 0:
            raise StillQueuedError(endpoint, inference_id, output_location, failure_location, clock() - start)
        if queue is not None:
            try:
                notice, others = queue.wait(min(wait.sqs_wait_s, int(remaining)))
            except OpsError as e:
                # A queue that cannot be read (deleted, no permission) costs the notice, not the result.
                warn(f"cannot read the notification queue ({e}); waiting for request {inference_id} by polling S3")
                queue = None
                continue
            if notice is not None and notice.completed:
                head = head_of(output_location)
                if head is not None:
                    return done(head, notified=True)
                if output_location in forbidden:  # written, says SageMaker: so the 403 is a refusal
                    raise OpsError(output_location, "AccessDenied", "the result is written (the notice says "
                                   "so) but S3 refuses to read it", "the caller needs s3:GetObject on it")  # fmt: skip
            elif notice is not None:
                raise failed(notice.failure_reason, notice.failure_location or failure_location or output_location)
            if others:
                # A queue shared with other waiters answers at once with their notices (made visible
                # again for them): pause instead of receiving them in a hot loop.
                sleep(min(behaviour.ASYNC_SQS_SHARED_PAUSE_S, max(remaining, 0.0)))
                continue
            if wait.sqs_wait_s > 0 and remaining >= 1:
                continue  # the long poll was the wait
        delay = behaviour.backoff_s(checks, 0.5 + jitter() / 2, base_s=wait.base_s, cap_s=wait.cap_s)
        sleep(min(delay, max(remaining, 0.0)))
