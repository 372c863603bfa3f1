"""`invoke_async` and `sagezero invoke --async` end to end: S3, SNS, SQS and the SageMaker control plane are
moto (in process); the SageMaker runtime is a loopback stand-in spoken to over real HTTP that, like AWS,
accepts the request at once and, after a simulated cold start, reads the input object from S3 and writes
the output (or failure) object, publishing the endpoint's SNS notice when it has topics."""

from __future__ import annotations

import functools
import importlib
import io
import json
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import boto3
import pytest
from botocore.awsrequest import AWSResponse
from hypothesis import given, settings
from hypothesis import strategies as st
from moto import mock_aws

from sagezero import clientbehaviour as behaviour
from sagezero.ops import AwsClients
from sagezero.ops.errors import (
    BadPayloadError,
    InferenceFailedError,
    NoInputLocationError,
    NotAsyncEndpointError,
    OpsError,
    StillQueuedError,
)
from sagezero.ops.invoke_async import WaitPolicy, invoke_async, parse_notice, parse_s3_uri

mod = importlib.import_module("sagezero.ops.invoke_async")  # the package's `invoke_async` is the function

BUCKET = "sagezero-async"
EP = "sagezero-prod-queued"
INPUT = f"s3://{BUCKET}/{EP}/input/"
FAST = WaitPolicy(deadline_s=10.0, base_s=0.02, cap_s=0.05, sqs_wait_s=1)
ACCOUNT = "123456789012"


@dataclass
class Runtime:
    """The stand-in's behaviour and what it saw."""

    cold_start_s: float = 0.0
    """Extra start-up time, after the gate below (the notice tests use it to outlast a first SQS receive)."""
    polled: threading.Event = field(default_factory=threading.Event)
    """Set when the client's HeadObject has answered: an accepted request's result appears only after the
    client has looked once and found nothing, as a cold start makes it, without a fixed sleep that either
    wastes time or, on a busy machine, races the first look."""
    outcome: str = "ok"
    """ok: writes the output; fail: writes the failure object; never: keeps the request queued."""
    body: bytes | None = None
    """The result written (default: `{"bytes": <payload size>}`)."""
    extension: str = ""
    """Written under <S3OutputPath><extension> (as S3OutputPathExtension does): not where the config says."""
    seen: list[dict[str, str]] = field(default_factory=list)
    workers: list[threading.Thread] = field(default_factory=list)


def _handler(rt: Runtime, session: boto3.Session) -> type[BaseHTTPRequestHandler]:
    sm: Any = session.client("sagemaker")
    s3: Any = session.client("s3")
    sns: Any = session.client("sns")

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            self.rfile.read(int(self.headers.get("Content-Length", 0)))
            parts = self.path.split("/")
            endpoint = parts[2] if len(parts) == 4 and parts[3] == "async-invocations" else ""
            h = {k: self.headers.get(f"X-Amzn-SageMaker-{k}", "") for k in
                 ("InputLocation", "Inference-Id", "Content-Type", "Accept", "InvocationTimeoutSeconds")}  # fmt: skip
            rt.seen.append({"path": self.path, **h})
            ep = sm.describe_endpoint(EndpointName=endpoint)
            cfg = sm.describe_endpoint_config(EndpointConfigName=ep["EndpointConfigName"]).get("AsyncInferenceConfig")
            if cfg is None:  # as AWS answers an async call to a real-time endpoint
                return self._answer(
                    400, {"message": "Endpoint is not an async endpoint"}, {"x-amzn-ErrorType": "ValidationError"}
                )
            out = cfg["OutputConfig"]
            iid = h["Inference-Id"]
            output = f"{out['S3OutputPath'].rstrip('/')}/{rt.extension}{iid}.out"
            failure = f"{out['S3FailurePath'].rstrip('/')}/{rt.extension}{iid}-error.out"
            worker = threading.Thread(target=self._work, args=(h["InputLocation"], iid, output, failure, out))
            rt.polled.clear()  # before the 202: only a look at S3 after the acceptance opens the gate
            rt.workers.append(worker)
            worker.start()
            self._answer(202, {"InferenceId": iid}, {"X-Amzn-SageMaker-OutputLocation": output,
                                                     "X-Amzn-SageMaker-FailureLocation": failure})  # fmt: skip

        def _work(self, source: str, iid: str, output: str, failure: str, out: dict[str, Any]) -> None:
            rt.polled.wait()  # instances start, the container loads: the client's first look finds nothing
            time.sleep(rt.cold_start_s)
            if rt.outcome == "never":
                return
            bucket, key = parse_s3_uri(source)
            data = s3.get_object(Bucket=bucket, Key=key)["Body"].read()
            topics = out.get("NotificationConfig", {})
            notice: dict[str, Any] = {"awsRegion": "eu-west-1", "eventTime": "2026-11-25T12:00:00.000Z",
                                      "receivedTime": "2026-11-25T11:59:00.000Z", "inferenceId": iid,
                                      "eventVersion": "1.0", "eventSource": "aws:sagemaker",
                                      "eventName": "InferenceResult", "requestParameters": {"inputLocation": source}}  # fmt: skip
            if rt.outcome == "ok":
                bucket, key = parse_s3_uri(output)
                result = rt.body if rt.body is not None else b'{"bytes": %d}' % len(data)
                s3.put_object(Bucket=bucket, Key=key, Body=result, ContentType="application/json")
                notice |= {"invocationStatus": "Completed", "responseParameters": {"outputLocation": output,
                                                                                   "contentType": "application/json"}}  # fmt: skip
                topic = topics.get("SuccessTopic")
            else:
                bucket, key = parse_s3_uri(failure)
                reason = "ClientError: Received server error (500) from model: CUDA out of memory. " + "x" * 3000
                s3.put_object(Bucket=bucket, Key=key, Body=reason.encode())
                notice |= {"invocationStatus": "Failed", "failureReason": reason[:200],
                           "responseParameters": {"failureLocation": failure}}  # fmt: skip
                topic = topics.get("ErrorTopic")
            if topic:
                sns.publish(TopicArn=topic, Message=json.dumps(notice))

        def _answer(self, status: int, body: dict[str, Any], headers: dict[str, str]) -> None:
            raw = json.dumps(body).encode()
            self.send_response(status)
            for k, v in {**headers, "Content-Type": "application/json", "Content-Length": str(len(raw))}.items():
                self.send_header(k, v)
            self.end_headers()
            self.wfile.write(raw)

        def log_message(self, *args: object) -> None:
            pass

    return Handler


@contextmanager
def _serve(rt: Runtime, session: boto3.Session) -> Iterator[str]:
    server = ThreadingHTTPServer(("127.0.0.1", 0), _handler(rt, session))
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.01})  # quick shutdown
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()
        thread.join()
        rt.polled.set()  # a request whose client never looked (refused, interrupted) ends its worker
        for w in rt.workers:
            w.join()


@dataclass
class World:
    clients: AwsClients
    runtime: Runtime
    session: boto3.Session

    def endpoint(self, name: str, *, asynchronous: bool = True, tags: dict[str, str] | None = None,
                 topics: dict[str, str] | None = None) -> None:  # fmt: skip
        sm = self.clients.sagemaker
        cfg: dict[str, Any] = {}
        if asynchronous:
            out: dict[str, Any] = {"S3OutputPath": f"s3://{BUCKET}/{name}/output/",
                                   "S3FailurePath": f"s3://{BUCKET}/{name}/failure/"}  # fmt: skip
            if topics:
                out["NotificationConfig"] = topics
            cfg["AsyncInferenceConfig"] = {"OutputConfig": out}
        sm.create_endpoint_config(EndpointConfigName=f"{name}-config", ProductionVariants=[{
            "VariantName": "AllTraffic", "ModelName": "m", "InstanceType": "ml.g4dn.xlarge",
            "InitialInstanceCount": 1}], **cfg)  # fmt: skip
        given = {INPUT_TAG: f"s3://{BUCKET}/{name}/input/", TIMEOUT_TAG: "900"} if tags is None else tags
        sm.create_endpoint(EndpointName=name, EndpointConfigName=f"{name}-config",
                           Tags=[{"Key": k, "Value": v} for k, v in given.items()])  # fmt: skip

    def keys(self, prefix: str = "") -> list[str]:
        found = self.clients.s3.list_objects_v2(Bucket=BUCKET, Prefix=prefix).get("Contents", [])
        return sorted(o["Key"] for o in found)


INPUT_TAG, TIMEOUT_TAG = mod.INPUT_TAG, mod.TIMEOUT_TAG


@functools.cache
def _session() -> boto3.Session:
    """One session for every test: it caches the service models (loading them per test was most of its
    time); boto3 cannot share a botocore session between two of its own (S3's methods are injected once)."""
    return boto3.Session(region_name="eu-west-1", aws_access_key_id="x", aws_secret_access_key="x")


@pytest.fixture
def world(monkeypatch: pytest.MonkeyPatch) -> Iterator[World]:
    for k, v in {"AWS_ACCESS_KEY_ID": "x", "AWS_SECRET_ACCESS_KEY": "x", "AWS_DEFAULT_REGION": "eu-west-1"}.items():
        monkeypatch.setenv(k, v)
    with mock_aws():
        session = _session()
        rt = Runtime()
        with _serve(rt, session) as url:
            clients = AwsClients(
                sagemaker=session.client("sagemaker"),
                runtime=session.client("sagemaker-runtime", endpoint_url=url),
                autoscaling=session.client("application-autoscaling"),
                cloudwatch=session.client("cloudwatch"),
                s3=session.client("s3"),
                sqs=session.client("sqs"),
            )
            clients.s3.meta.events.register("after-call.s3.HeadObject", lambda **_: rt.polled.set())
            clients.s3.create_bucket(Bucket=BUCKET, CreateBucketConfiguration={"LocationConstraint": "eu-west-1"})
            clients.sagemaker.create_model(ModelName="m", ExecutionRoleArn=f"arn:aws:iam::{ACCOUNT}:role/r",
                                           PrimaryContainer={"Image": f"{ACCOUNT}.dkr.ecr.eu-west-1.amazonaws.com/x:1"})  # fmt: skip
            w = World(clients, rt, session)
            w.endpoint(EP)
            yield w


# ---- the request, end to end --------------------------------------------------------------------


def test_a_request_is_uploaded_queued_and_its_result_read(world: World) -> None:
    result = invoke_async(world.clients, EP, b'{"x": [1, 2, 3]}', accept="application/json", wait=FAST)
    assert result.body == b'{"bytes": 16}' and result.content_type == "application/json"
    assert result.input_location == f"{INPUT}{result.inference_id}"
    assert result.output_location == f"s3://{BUCKET}/{EP}/output/{result.inference_id}.out"
    assert result.checks > 1 and not result.notified and result.waited_s >= world.runtime.cold_start_s
    (seen,) = world.runtime.seen
    assert seen == {"path": f"/endpoints/{EP}/async-invocations", "InputLocation": result.input_location,
                    "Inference-Id": result.inference_id, "Content-Type": "application/json",
                    "Accept": "application/json", "InvocationTimeoutSeconds": "900"}  # fmt: skip
    assert world.keys(f"{EP}/input/") == [f"{EP}/input/{result.inference_id}"]


def test_a_request_sent_at_zero_instances_is_reported_as_queued_through_a_cold_start(world: World) -> None:
    def at_zero(parsed: dict[str, Any], **_: Any) -> None:
        for v in parsed.get("ProductionVariants", []):
            v["CurrentInstanceCount"] = 0

    events = world.clients.sagemaker.meta.events
    events.register("after-call.sagemaker.DescribeEndpoint", at_zero)
    try:
        assert invoke_async(world.clients, EP, b"[1]", wait=FAST).cold is True
    finally:
        events.unregister("after-call.sagemaker.DescribeEndpoint", at_zero)
    assert invoke_async(world.clients, EP, b"[1]", wait=FAST).cold is False


def test_an_explicit_input_location_and_timeout_win_over_the_tags(world: World) -> None:
    other = f"s3://{BUCKET}/elsewhere"
    result = invoke_async(world.clients, EP, b"1", input_location=other, invocation_timeout_s=60, wait=FAST)
    assert result.input_location == f"{other}/{result.inference_id}"
    assert world.runtime.seen[0]["InvocationTimeoutSeconds"] == "60"


def test_a_failed_request_raises_with_the_failure_objects_text(world: World) -> None:
    world.runtime.outcome = "fail"
    with pytest.raises(InferenceFailedError) as e:
        invoke_async(world.clients, EP, b"[]", wait=FAST)
    assert "CUDA out of memory" in str(e.value) and e.value.failure_location.endswith("-error.out")
    assert len(str(e.value)) < 1500, "the failure text is bounded"
    assert isinstance(e.value, OpsError) and e.value.code == "InferenceFailed"


def test_the_deadline_leaves_the_request_queued_and_says_where_to_look(world: World) -> None:
    world.runtime.outcome = "never"
    t0 = time.monotonic()
    with pytest.raises(StillQueuedError) as e:
        invoke_async(world.clients, EP, b"[]", wait=WaitPolicy(deadline_s=0.4, base_s=0.02, cap_s=0.05))
    assert time.monotonic() - t0 < 2.0
    assert e.value.output_location in str(e.value) and "still queued" in str(e.value)
    assert world.runtime.seen and world.keys(f"{EP}/input/"), "the request was sent and its input kept"


def test_a_result_that_cannot_be_read_still_names_the_accepted_request(world: World) -> None:
    """A role that may upload but not read results: the request runs anyway, and the error says where."""

    def forbidden(**_: Any) -> tuple[AWSResponse, dict[str, Any]]:
        return AWSResponse("https://s3.invalid", 403, {}, None), {"Error": {"Code": "403", "Message": "Forbidden"}}  # type: ignore[arg-type]

    heard: list[tuple[str, str]] = []
    world.clients.s3.meta.events.register("before-call.s3.GetObject", forbidden)
    try:
        with pytest.raises(OpsError) as e:
            invoke_async(world.clients, EP, b"[1]", wait=FAST, on_accepted=lambda i, o: heard.append((i, o)))
    finally:
        world.clients.s3.meta.events.unregister("before-call.s3.GetObject", forbidden)
    ((iid, output),) = heard
    assert e.value.code == "403" and f"request {iid} was accepted and its result will appear at {output}" in str(
        e.value
    )


def test_a_real_time_endpoint_is_refused_before_anything_is_uploaded(world: World) -> None:
    world.endpoint("realtime", asynchronous=False)
    with pytest.raises(NotAsyncEndpointError, match="real-time") as e:
        invoke_async(world.clients, "realtime", b"[]", input_location=INPUT, wait=FAST)
    assert "without --async" in str(e.value)
    assert world.keys() == [] and world.runtime.seen == []


def test_no_input_location_names_the_flag(world: World) -> None:
    world.endpoint("untagged", tags={})
    with pytest.raises(NoInputLocationError, match="--input-location"):
        invoke_async(world.clients, "untagged", b"[]", wait=FAST)
    assert world.keys() == []
    result = invoke_async(world.clients, "untagged", b"[]", input_location=f"s3://{BUCKET}/in/", wait=FAST)
    assert result.body == b'{"bytes": 2}'
    assert "InvocationTimeoutSeconds" not in world.runtime.seen[0] or world.runtime.seen[0][
        "InvocationTimeoutSeconds"] == "", "no tag, no argument: AWS's default applies"  # fmt: skip


def test_a_malformed_input_location_or_payload_is_refused_before_upload(world: World, tmp_path: Path) -> None:
    for bad in ("http://bucket/x", "s3://", "s3://B/x", "s3://a/x", "s3://bu..ck/x"):
        with pytest.raises(OpsError, match="BadInputLocation"):
            invoke_async(world.clients, EP, b"[]", input_location=bad, wait=FAST)
    for payload in (b"", tmp_path / "none.json", tmp_path):
        with pytest.raises(BadPayloadError):
            invoke_async(world.clients, EP, payload, wait=FAST)
    assert world.keys() == [] and world.runtime.seen == []


def _queue(world: World, name: str, *topics: str) -> str:
    """An SQS queue subscribed to `topics` (SNS delivers in its envelope, as without raw delivery)."""
    sqs, sns = world.clients.sqs, world.session.client("sns")
    url: str = sqs.create_queue(QueueName=name)["QueueUrl"]
    qarn = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
    for topic in topics:
        sns.subscribe(TopicArn=topic, Protocol="sqs", Endpoint=qarn)
    return url


SLOW_S3 = WaitPolicy(deadline_s=10.0, base_s=5.0, cap_s=5.0, sqs_wait_s=5)
"""Polling S3 alone would take 5 s to see the result: finding it sooner proves the notice did it."""


def test_the_notice_on_an_sqs_queue_ends_the_wait(world: World) -> None:
    sns = world.session.client("sns")
    ok, err = (sns.create_topic(Name=n)["TopicArn"] for n in ("ok", "err"))
    url = _queue(world, "notices", ok, err)
    world.endpoint("notified", topics={"SuccessTopic": ok, "ErrorTopic": err})
    world.runtime.cold_start_s = 0.5
    t0 = time.monotonic()
    result = invoke_async(world.clients, "notified", b"[1]", sqs_queue_url=url, wait=SLOW_S3)
    assert result.notified and result.body == b'{"bytes": 3}'
    assert time.monotonic() - t0 < 3.0
    assert world.clients.sqs.receive_message(QueueUrl=url, WaitTimeSeconds=0).get("Messages") is None, "ours deleted"


def test_a_shared_queue_keeps_other_requests_notices_for_their_owners(world: World) -> None:
    sns, sqs = world.session.client("sns"), world.clients.sqs
    ok = sns.create_topic(Name="ok")["TopicArn"]
    url = _queue(world, "shared", ok)
    world.endpoint("notified", topics={"SuccessTopic": ok})
    sns.publish(TopicArn=ok, Message=json.dumps({"inferenceId": "someone-else", "invocationStatus": "Completed"}))
    sqs.send_message(QueueUrl=url, MessageBody="not json at all")
    world.runtime.cold_start_s = 0.3
    t0 = time.monotonic()
    result = invoke_async(world.clients, "notified", b"[1]", sqs_queue_url=url, wait=SLOW_S3)
    assert result.body == b'{"bytes": 3}' and time.monotonic() - t0 < 3.0, "no 5 s S3 backoff, no hot loop"
    assert result.checks <= 4, f"{result.checks} checks: others' notices must not make the wait spin"
    time.sleep(0.2)  # our notice (if S3 answered first) is in flight; it may stay, others must
    left = sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10, WaitTimeSeconds=0).get("Messages", [])
    owners = {n.inference_id if n else None for n in (parse_notice(m["Body"]) for m in left)}
    assert {"someone-else", None} <= owners, "the other two messages are visible again"


def test_a_failure_notice_on_the_queue_raises_with_its_reason(world: World) -> None:
    err = world.session.client("sns").create_topic(Name="err")["TopicArn"]
    url = _queue(world, "errors", err)
    world.endpoint("failing", topics={"ErrorTopic": err})
    world.runtime.outcome = "fail"
    with pytest.raises(InferenceFailedError, match="CUDA out of memory"):
        invoke_async(world.clients, "failing", b"[1]", sqs_queue_url=url, wait=SLOW_S3)


class _PartReader(io.RawIOBase):
    """A payload file that refuses to be read whole: each read is checked against the part size."""

    def __init__(self, path: Path) -> None:
        self.f = path.open("rb")
        self.largest = 0

    def readinto(self, b: Any) -> int:
        raise AssertionError("readinto reads without a size")

    def read(self, size: int = -1) -> bytes:
        if size is None or size < 0 or size > behaviour.ASYNC_UPLOAD_CHUNK_BYTES:
            raise AssertionError(f"read({size}) would hold more than one part in memory")
        self.largest = max(self.largest, size)
        return self.f.read(size)

    def seek(self, offset: int, whence: int = 0) -> int:
        return self.f.seek(offset, whence)

    def tell(self) -> int:
        return self.f.tell()

    def seekable(self) -> bool:
        return True

    def readable(self) -> bool:
        return True

    def close(self) -> None:
        self.f.close()
        super().close()


def test_a_large_payload_is_streamed_from_its_file_in_parts(
    world: World, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    big = tmp_path / "big.bin"
    size = 50 * 1024 * 1024
    with big.open("wb") as f:
        f.truncate(size)
    readers: list[_PartReader] = []

    def opener(path: Path) -> _PartReader:
        readers.append(_PartReader(path))
        return readers[-1]

    monkeypatch.setattr(mod, "_open", opener)
    result = invoke_async(world.clients, EP, big, content_type="application/octet-stream", wait=FAST)
    assert result.body == b'{"bytes": %d}' % size
    assert readers and readers[0].largest == behaviour.ASYNC_UPLOAD_CHUNK_BYTES and readers[0].closed


def test_a_result_can_be_streamed_to_a_file(world: World, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    out = tmp_path / "result.json"
    result = invoke_async(world.clients, EP, b"[1]", output=out, wait=FAST)
    assert result.body is None and result.saved_to == out and out.read_bytes() == b'{"bytes": 3}'
    monkeypatch.setattr(mod, "MAX_OUTPUT_IN_MEMORY", 5)
    with pytest.raises(OpsError, match=r"OutputTooLarge: the result is 12 bytes") as e:
        invoke_async(world.clients, EP, b"[1]", wait=FAST)
    # The result exists: the way out is to copy it, never to send the request again (it would run twice).
    assert f"aws s3 cp s3://{BUCKET}/{EP}/output/" in str(e.value) and "was accepted" in str(e.value)


@pytest.mark.parametrize("policy", [{"deadline_s": float("nan")}, {"deadline_s": -1.0}, {"deadline_s": 1e9},
                                    {"base_s": float("inf")}, {"sqs_wait_s": 21}])  # fmt: skip
def test_a_wait_that_would_never_end_is_refused(policy: dict[str, Any]) -> None:
    with pytest.raises(ValueError, match="WaitPolicy"):
        WaitPolicy(**policy)


# ---- parsers ------------------------------------------------------------------------------------


@given(st.one_of(st.none(), st.integers(), st.text(max_size=300), st.binary(max_size=50),
                 st.recursive(st.none() | st.booleans() | st.text(max_size=20) | st.integers(),
                              lambda c: st.lists(c, max_size=3) | st.dictionaries(st.text(max_size=10), c, max_size=4),
                              max_leaves=12).map(json.dumps)))  # fmt: skip
@settings(max_examples=300, deadline=None)
def test_parse_notice_never_raises(body: object) -> None:
    notice = parse_notice(body)
    assert notice is None or (isinstance(notice.inference_id, str) and notice.inference_id)


@given(iid=st.text(min_size=1, max_size=64), ok=st.booleans(), raw=st.booleans(), reason=st.text(max_size=50))
@settings(max_examples=100, deadline=None)
def test_parse_notice_reads_sagemakers_message_raw_or_in_snss_envelope(
    iid: str, ok: bool, raw: bool, reason: str
) -> None:
    msg = json.dumps({"inferenceId": iid, "invocationStatus": "Completed" if ok else "Failed", "failureReason": reason,
                      "responseParameters": {"outputLocation": "s3://b/o/1.out"}})  # fmt: skip
    body = msg if raw else json.dumps({"Type": "Notification", "MessageId": "m", "Message": msg})
    notice = parse_notice(body)
    assert notice is not None and (notice.inference_id, notice.completed, notice.failure_reason) == (iid, ok, reason)
    assert notice.output_location == "s3://b/o/1.out"


@given(st.text(max_size=200))
@settings(max_examples=300, deadline=None)
def test_parse_s3_uri_accepts_or_refuses_with_its_own_error(uri: str) -> None:
    try:
        bucket, key = parse_s3_uri(uri)
    except mod.S3UriError:
        return
    assert uri.startswith("https://") or uri in (f"s3://{bucket}/{key}", f"s3://{bucket}")


@given(bucket=st.from_regex(r"[a-z0-9][a-z0-9-]{1,20}[a-z0-9]", fullmatch=True),
       key=st.text(st.characters(min_codepoint=32, max_codepoint=0x10FFFF, exclude_categories=["Cs"]), max_size=100))  # fmt: skip
@settings(max_examples=200, deadline=None)
def test_parse_s3_uri_round_trips_valid_locations(bucket: str, key: str) -> None:
    assert parse_s3_uri(f"s3://{bucket}/{key}".replace("\x7f", "")) == (bucket, key.replace("\x7f", ""))


# ---- the command --------------------------------------------------------------------------------


@pytest.fixture
def cli(world: World, monkeypatch: pytest.MonkeyPatch) -> World:
    """`sagezero` in process, on the world's clients, polling S3 fast."""
    from functools import partial

    from sagezero.ops import target as target_mod

    monkeypatch.setattr(target_mod.AwsClients, "create", classmethod(lambda cls, **kw: world.clients))
    monkeypatch.setattr(mod, "WaitPolicy", partial(WaitPolicy, base_s=0.02, cap_s=0.05))
    return world


def test_cli_async_waits_its_own_default_deadline_unless_given_one(
    cli: World, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    waits: list[float] = []

    def recording(deadline_s: float) -> WaitPolicy:
        waits.append(deadline_s)
        return WaitPolicy(deadline_s=deadline_s, base_s=0.02, cap_s=0.05)

    monkeypatch.setattr(mod, "WaitPolicy", recording)
    (tmp_path / "req").write_bytes(b"[1]")
    assert _run("invoke", "--async", "--endpoint", EP, str(tmp_path / "req")) == 0
    assert _run("invoke", "--async", "--endpoint", EP, "--deadline", "600", str(tmp_path / "req")) == 0
    assert waits == [behaviour.ASYNC_DEADLINE_S, 600.0]


def _run(*args: str) -> int:
    from sagezero.cli import main

    try:
        return main(list(args))
    except SystemExit as e:
        return int(e.code or 0)


def test_cli_prints_the_result_and_where_it_came_from(
    cli: World, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    body = tmp_path / "req.json"
    body.write_bytes(b"[1, 2]")
    assert _run("invoke", "--async", "--endpoint", EP, str(body)) == 0
    out, err = capsys.readouterr()
    assert out == '{"bytes": 6}\n'
    assert "result after" in err and f"s3://{BUCKET}/{EP}/output/" in err


def test_cli_writes_the_result_to_a_file(cli: World, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    body, out = tmp_path / "req.json", tmp_path / "res.json"
    body.write_bytes(b"[1]")
    assert _run("invoke", "--async", "--endpoint", EP, "--output", str(out), str(body)) == 0
    assert out.read_bytes() == b'{"bytes": 3}' and capsys.readouterr().out == ""


@pytest.mark.parametrize(
    ("setup", "args", "code", "text"),
    [
        ("fail", [], 1, "InferenceFailed: request"),
        ("never", ["--deadline", "0.3"], 1, "still queued or running: fetch the result later from s3://"),
        ("realtime", [], 2, "is real-time"),
        ("untagged", [], 2, "pass --input-location s3://"),
    ],
)
def test_cli_failures_are_one_line(
    cli: World, tmp_path: Path, capsys: pytest.CaptureFixture[str], setup: str, args: list[str], code: int, text: str
) -> None:
    body = tmp_path / "req.json"
    body.write_bytes(b"[1]")
    endpoint = EP
    if setup in ("fail", "never"):
        cli.runtime.outcome = setup
    else:
        endpoint = setup
        cli.endpoint(setup, asynchronous=setup != "realtime", tags={} if setup == "untagged" else None)
    assert _run("invoke", "--async", "--endpoint", endpoint, *args, str(body)) == code
    lines = capsys.readouterr().err.strip().splitlines()
    assert text in lines[-1] and "Traceback" not in "".join(lines), lines
    accepted = setup in ("fail", "never")
    assert len(lines) == 1 + accepted, "the error is one line, after the one saying where the result will be"
    assert ("its result will appear at s3://" in lines[0]) == accepted


@pytest.mark.parametrize(
    ("args", "text"),
    [
        (["{d}/none.json"], "{d}/none.json: no such file"),
        (["{d}"], "is a folder, expected a file"),
        (["{d}/empty"], "is empty; nothing was sent"),
        (["-"], "not standard input"),
        (["--input-location", "s3://Bad_Bucket/x", "{d}/req"], "not a valid S3 bucket name"),
        (["--sqs-queue-url", "not-a-url", "{d}/req"], "expected an SQS queue URL"),
        (["--output", "{d}/no/such/out", "{d}/req"], "no such folder"),
        (["--invocation-timeout", "0", "{d}/req"], "a whole number from 1 to 3600"),
    ],
)
def test_cli_bad_input_is_one_line_before_any_aws_call(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], args: list[str], text: str
) -> None:
    (tmp_path / "empty").write_bytes(b"")
    (tmp_path / "req").write_bytes(b"[1]")
    given = [a.replace("{d}", str(tmp_path)) for a in args]
    assert _run("invoke", "--async", "--endpoint", EP, *given) == 2
    err = capsys.readouterr().err
    assert text.replace("{d}", str(tmp_path)) in err and len(err.strip().splitlines()) == 1, err


def test_cli_async_flags_need_async(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    (tmp_path / "req").write_bytes(b"[1]")
    assert _run("invoke", "--endpoint", EP, "--input-location", INPUT, str(tmp_path / "req")) == 2
    assert "--input-location is for asynchronous requests: add --async" in capsys.readouterr().err


def test_the_parser_shows_the_real_time_default_deadline() -> None:
    from sagezero.cli import build_parser

    args = build_parser().parse_args(["invoke", "--async", "--endpoint", "e", "f"])
    assert args.deadline == behaviour.DEADLINE_S, "the real-time default is shown (and modelled by the simulator)"


# ---- found by a hostile review: each test failed before its fix -----------------------------------


def test_a_timeout_tag_holding_a_unicode_digit_is_ignored_not_a_crash(world: World) -> None:
    """AWS accepts any Unicode digit in a tag value; "²" is a digit to `str.isdigit` but not to `int`."""
    for value in ("²", "٣٠", "9" * 40):
        name = f"odd-tag-{len(world.runtime.seen)}"
        world.endpoint(name, tags={INPUT_TAG: f"s3://{BUCKET}/{name}/input/", TIMEOUT_TAG: value})
        assert invoke_async(world.clients, name, b"[1]", wait=FAST).body == b'{"bytes": 3}'
        assert world.runtime.seen[-1]["InvocationTimeoutSeconds"] == "", "AWS's default applies"


def test_cli_a_result_that_cannot_be_saved_names_where_it_is(
    cli: World, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """The --output folder vanishes during a long wait (a cleaned /tmp): the request ran, its result is in
    S3, and the error must say where (it was a bare `r.json.1a2b: No such file`, exit 2)."""
    body, folder = tmp_path / "req.json", tmp_path / "results"
    body.write_bytes(b"[1]")
    folder.mkdir()

    def clean_tmp(**_: Any) -> None:
        if folder.exists():
            folder.rmdir()

    cli.clients.s3.meta.events.register("before-call.s3.HeadObject", clean_tmp)
    try:
        code = _run("invoke", "--async", "--endpoint", EP, "--output", str(folder / "r.json"), str(body))
    finally:
        cli.clients.s3.meta.events.unregister("before-call.s3.HeadObject", clean_tmp)
    lines = capsys.readouterr().err.strip().splitlines()
    assert code == 1 and "OutputNotSaved" in lines[-1], lines
    assert f"its result will appear at s3://{BUCKET}/{EP}/output/" in lines[-1], lines
    assert "aws s3 cp s3://" in lines[-1]


def test_every_copy_of_our_notice_leaves_a_shared_queue(world: World, monkeypatch: pytest.MonkeyPatch) -> None:
    """SNS delivers at least once: a second copy of our notice was made visible again "for its owner",
    who had already gone, and circled among the other waiters until it expired."""
    sqs = world.clients.sqs
    url = sqs.create_queue(QueueName="dups")["QueueUrl"]
    topic = world.session.client("sns").create_topic(Name="ok")["TopicArn"]
    world.endpoint("dupes", topics={"SuccessTopic": topic})
    world.runtime.outcome = "never"
    world.clients.s3.put_object(Bucket=BUCKET, Key="dupes/output/fixed.out", Body=b"done")
    notice = json.dumps({"inferenceId": "fixed", "invocationStatus": "Completed",
                         "responseParameters": {"outputLocation": f"s3://{BUCKET}/dupes/output/fixed.out"}})  # fmt: skip
    for _ in range(2):
        sqs.send_message(QueueUrl=url, MessageBody=notice)
    original = mod._head
    heads: list[str] = []

    def first_miss(clients: AwsClients, location: str, *rest: Any) -> Any:  # the first HEAD precedes the notice
        heads.append(location)
        return None if len(heads) == 1 else original(clients, location, *rest)

    monkeypatch.setattr(mod, "_head", first_miss)
    result = invoke_async(world.clients, "dupes", b"[1]", sqs_queue_url=url, new_id=lambda: "fixed", wait=SLOW_S3)
    assert result.notified and result.body == b"done"
    left = sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10, WaitTimeSeconds=0).get("Messages", [])
    assert left == [], "no copy of a finished request's notice stays behind"


def _answers(world: World, *answers: tuple[int, str]) -> list[int]:
    """InvokeEndpointAsync answers these (status, code) in turn, then reaches the stand-in; returns the
    list the number of calls is appended to."""
    calls: list[int] = []

    def answer(**_: Any) -> tuple[AWSResponse, dict[str, Any]] | None:
        calls.append(1)
        if len(calls) > len(answers):
            return None
        status, code = answers[len(calls) - 1]
        meta = {"HTTPStatusCode": status}
        return AWSResponse("https://runtime.invalid", status, {}, None), {  # type: ignore[arg-type]
            "Error": {"Code": code, "Message": f"{code} from the stand-in"}, "ResponseMetadata": meta}  # fmt: skip

    world.clients.runtime.meta.events.register("before-call.sagemaker-runtime.InvokeEndpointAsync", answer)
    return calls


def test_a_throttled_or_unavailable_enqueue_is_sent_again(world: World) -> None:
    """The runtime client makes one attempt per call (botocore retries nothing there): a throttled
    InvokeEndpointAsync ended the call at once, its payload left behind in S3."""
    calls = _answers(world, (400, "ThrottlingException"), (503, "ServiceUnavailable"))
    slept: list[float] = []
    result = invoke_async(world.clients, EP, b"[1]", wait=FAST, sleep=slept.append)
    assert result.body == b'{"bytes": 3}' and len(calls) == 3 and len(world.runtime.seen) == 1
    assert len(slept) >= 2 and all(0 <= s <= behaviour.BACKOFF_CAP_S for s in slept)


def test_a_refused_enqueue_deletes_its_payload_and_says_nothing_was_queued(world: World) -> None:
    _answers(world, *[(400, "ThrottlingException")] * behaviour.ASYNC_ENQUEUE_ATTEMPTS)
    with pytest.raises(OpsError, match=r"ThrottlingException: .*refused the request after 5 attempts, nothing was "
                       r"queued; the uploaded payload was deleted"):  # fmt: skip
        invoke_async(world.clients, EP, b"[1]", wait=FAST, sleep=lambda s: None)
    assert world.keys(f"{EP}/input/") == [] and world.runtime.seen == []


def test_an_enqueue_that_may_have_queued_keeps_its_payload_and_names_the_output_path(world: World) -> None:
    _answers(world, (500, "InternalFailure"))
    with pytest.raises(OpsError) as e:
        invoke_async(world.clients, EP, b"[1]", wait=FAST, new_id=lambda: "maybe", sleep=lambda s: None)
    assert e.value.code == "InternalFailure"
    assert (
        f"request maybe may have been queued anyway: if so, its result will appear under s3://{BUCKET}/{EP}/output/"
        in str(e.value)
    )
    assert world.keys(f"{EP}/input/") == [f"{EP}/input/maybe"], "the payload stays for a request that may run"


def test_a_queue_in_another_region_is_refused_before_anything_is_uploaded(
    cli: World, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """The SQS client asks its own region for the queue: every receive answered NonExistentQueue, after
    the request had been uploaded and queued."""
    far = cli.session.client("sqs", region_name="us-east-1").create_queue(QueueName="far")["QueueUrl"]
    assert mod.queue_region(far) == "us-east-1"
    (tmp_path / "req").write_bytes(b"[1]")
    assert _run("invoke", "--async", "--endpoint", EP, "--sqs-queue-url", far, str(tmp_path / "req")) == 2
    err = capsys.readouterr().err
    assert "QueueInOtherRegion: the queue is in us-east-1, the SQS client in eu-west-1" in err, err
    assert cli.keys() == [] and cli.runtime.seen == []


@pytest.mark.parametrize(
    ("url", "region"),
    [("https://sqs.eu-west-1.amazonaws.com/123456789012/q", "eu-west-1"),
     ("https://sqs.cn-north-1.amazonaws.com.cn/123456789012/q", "cn-north-1"),
     ("https://ap-south-1.queue.amazonaws.com/123456789012/q", "ap-south-1"),
     ("https://queue.amazonaws.com/123456789012/q", "us-east-1"),
     ("http://localhost:4566/000000000000/q", None)],
)  # fmt: skip
def test_queue_region_reads_every_sqs_url_form(url: str, region: str | None) -> None:
    assert mod.queue_region(url) == region


def test_a_queue_that_cannot_be_read_costs_the_notice_not_the_result(
    cli: World, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """A deleted queue (or one the role may not read) ended the wait with an error although the result
    was about to be in S3; the module says a lost notice costs time, never the result."""
    gone = "https://sqs.eu-west-1.amazonaws.com/123456789012/deleted-queue"
    (tmp_path / "req").write_bytes(b"[1]")
    cli.endpoint("notified", topics={"SuccessTopic": cli.session.client("sns").create_topic(Name="ok")["TopicArn"]})
    assert _run("invoke", "--async", "--endpoint", "notified", "--sqs-queue-url", gone, str(tmp_path / "req")) == 0
    out, err = capsys.readouterr()
    assert out == '{"bytes": 3}\n'
    assert "warning: cannot read the notification queue" in err and "NonExistentQueue" in err, err


def test_a_non_ascii_input_prefix_is_refused_before_upload(
    world: World, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """The input location travels in an HTTP header: botocore sent the key's UTF-8 bytes, the stand-in
    (an HTTP/1.1 server, as AWS's front door is) read them as Latin-1, and the request was queued for an
    object that does not exist; it waited out the deadline. Refused at once now, nothing uploaded."""
    with pytest.raises(OpsError, match=r"BadInputLocation: --input-location: .*non-ASCII"):
        invoke_async(world.clients, EP, b"[1]", input_location=f"s3://{BUCKET}/données/", wait=FAST)
    world.endpoint("tagged", tags={INPUT_TAG: f"s3://{BUCKET}/日本/"})
    with pytest.raises(OpsError, match=f"BadInputLocation: tag {INPUT_TAG}: .*non-ASCII"):
        invoke_async(world.clients, "tagged", b"[1]", wait=FAST)
    assert world.keys() == [] and world.runtime.seen == []
    (tmp_path / "req").write_bytes(b"[1]")
    assert (
        _run("invoke", "--async", "--endpoint", EP, "--input-location", f"s3://{BUCKET}/é/", str(tmp_path / "req")) == 2
    )
    assert "non-ASCII" in capsys.readouterr().err


def test_an_upload_that_fails_midway_leaves_no_parts_behind(world: World, tmp_path: Path) -> None:
    """A part refused midway (here the second of four): the multipart upload is aborted (no stored,
    billed parts), nothing is queued, and the error names the object."""
    big = tmp_path / "big.bin"
    with big.open("wb") as f:
        f.truncate(3 * behaviour.ASYNC_UPLOAD_CHUNK_BYTES + 1)
    parts: list[int] = []

    def second_refused(**_: Any) -> tuple[AWSResponse, dict[str, Any]] | None:
        parts.append(1)
        if len(parts) < 2:
            return None
        return AWSResponse("https://s3.invalid", 403, {}, None), {"Error": {"Code": "AccessDenied", "Message": "no"}}  # type: ignore[arg-type]

    world.clients.s3.meta.events.register("before-call.s3.UploadPart", second_refused)
    with pytest.raises(OpsError, match=f"s3://{BUCKET}/{EP}/input/.*AccessDenied"):
        invoke_async(world.clients, EP, big, wait=FAST)
    assert world.clients.s3.list_multipart_uploads(Bucket=BUCKET).get("Uploads") is None
    assert world.keys() == [] and world.runtime.seen == []


def _no_list_bucket(world: World) -> None:
    """S3 as an identity with s3:GetObject but not s3:ListBucket sees it: HEAD of a missing key is 403."""
    asked: list[str] = []
    plain = world.session.client("s3")

    def remember(params: dict[str, Any], **_: Any) -> None:
        asked.append(params["Key"])

    def forbid_missing(**_: Any) -> tuple[AWSResponse, dict[str, Any]] | None:
        if plain.list_objects_v2(Bucket=BUCKET, Prefix=asked[-1]).get("KeyCount"):
            return None
        return AWSResponse("https://s3.invalid", 403, {}, None), {"Error": {"Code": "403", "Message": "Forbidden"}}  # type: ignore[arg-type]

    world.clients.s3.meta.events.register("before-parameter-build.s3.HeadObject", remember)
    world.clients.s3.meta.events.register("before-call.s3.HeadObject", forbid_missing)


def test_a_role_without_list_bucket_still_gets_its_result(world: World) -> None:
    """AWS answers HeadObject on a missing key with 403 to an identity without s3:ListBucket: the first
    poll, before the result existed, ended the wait with "403 Forbidden" for every least-privilege role."""
    _no_list_bucket(world)
    heard: list[str] = []
    result = invoke_async(world.clients, EP, b"[1]", wait=FAST, warn=heard.append)
    assert result.body == b'{"bytes": 3}' and result.checks > 1
    assert len(heard) == 1 and "s3:ListBucket" in heard[0], heard


def test_a_result_never_readable_without_list_bucket_ends_still_queued_naming_it(world: World) -> None:
    _no_list_bucket(world)
    world.runtime.outcome = "never"
    heard: list[str] = []
    with pytest.raises(StillQueuedError) as e:
        invoke_async(world.clients, EP, b"[1]", wait=WaitPolicy(deadline_s=0.3, base_s=0.02, cap_s=0.05),
                     warn=heard.append)  # fmt: skip
    assert f"s3://{BUCKET}/{EP}/output/" in str(e.value) and len(heard) == 1


@pytest.mark.parametrize("outcome", ["ok", "fail"])
def test_the_locations_sagemaker_answers_are_the_ones_watched(world: World, outcome: str) -> None:
    """The result is looked for where InvokeEndpointAsync's answer says (OutputLocation, FailureLocation),
    never where the config's paths would put it: an S3OutputPathExtension moves it."""
    world.runtime.extension, world.runtime.outcome = "2026/11/25/", outcome
    if outcome == "ok":
        result = invoke_async(world.clients, EP, b"[1]", wait=FAST)
        assert result.output_location == f"s3://{BUCKET}/{EP}/output/2026/11/25/{result.inference_id}.out"
        assert result.body == b'{"bytes": 3}'
    else:
        with pytest.raises(InferenceFailedError, match="CUDA out of memory") as e:
            invoke_async(world.clients, EP, b"[1]", wait=FAST)
        assert "/failure/2026/11/25/" in e.value.failure_location


def test_cli_interrupted_while_waiting_has_already_said_where_the_result_will_be(
    cli: World, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    (tmp_path / "req").write_bytes(b"[1]")
    cli.runtime.outcome = "never"

    def ctrl_c(**_: Any) -> None:
        raise KeyboardInterrupt

    cli.clients.s3.meta.events.register("before-call.s3.HeadObject", ctrl_c)
    assert _run("invoke", "--async", "--endpoint", EP, str(tmp_path / "req")) == 130
    lines = capsys.readouterr().err.strip().splitlines()
    assert f"its result will appear at s3://{BUCKET}/{EP}/output/" in lines[0] and "interrupted" in lines[-1], lines


def test_a_role_without_list_tags_can_still_send_with_an_explicit_location(world: World) -> None:
    """sagemaker:ListTags only serves the defaults: a web backend's role that may not read tags but names
    the input location itself was refused with AccessDeniedException before anything was sent."""

    def denied(**_: Any) -> tuple[AWSResponse, dict[str, Any]]:
        return AWSResponse("https://sm.invalid", 400, {}, None), {  # type: ignore[arg-type]
            "Error": {"Code": "AccessDeniedException", "Message": "not authorized to perform: sagemaker:ListTags"}}  # fmt: skip

    world.clients.sagemaker.meta.events.register("before-call.sagemaker.ListTags", denied)
    result = invoke_async(world.clients, EP, b"[1]", input_location=INPUT, invocation_timeout_s=60, wait=FAST)
    assert result.body == b'{"bytes": 3}' and world.runtime.seen[0]["InvocationTimeoutSeconds"] == "60"
    with pytest.raises(NoInputLocationError, match="--input-location"):
        invoke_async(world.clients, EP, b"[1]", wait=FAST)


def test_cli_prints_a_binary_result_byte_for_byte(
    cli: World, tmp_path: Path, capsysbinary: pytest.CaptureFixture[bytes]
) -> None:
    """`sagezero invoke --async img.jpg > mask.png`: a newline was appended to every result not ending in
    one, corrupting binary output; text still gets its newline for the terminal."""
    (tmp_path / "req").write_bytes(b"[1]")
    cli.runtime.body = png = b"\x89PNG\r\n\x1a\n\x00\xff\xfe"
    assert _run("invoke", "--async", "--endpoint", EP, str(tmp_path / "req")) == 0
    assert capsysbinary.readouterr().out == png
    cli.runtime.body = b'{"ok": true}'
    assert _run("invoke", "--async", "--endpoint", EP, str(tmp_path / "req")) == 0
    assert capsysbinary.readouterr().out == b'{"ok": true}\n'


def test_a_queue_for_an_endpoint_without_topics_is_not_waited_on(world: World) -> None:
    """Nothing publishes to the queue of an endpoint without NotificationConfig: each 20 s long poll was
    pure delay before the next look at S3. Said once, then S3 is polled."""
    url = world.clients.sqs.create_queue(QueueName="silent")["QueueUrl"]
    heard: list[str] = []
    t0 = time.monotonic()
    result = invoke_async(world.clients, EP, b"[1]", sqs_queue_url=url, wait=WaitPolicy(
        deadline_s=10.0, base_s=0.02, cap_s=0.05, sqs_wait_s=5), warn=heard.append)  # fmt: skip
    assert result.body == b'{"bytes": 3}' and not result.notified and time.monotonic() - t0 < 3.0
    assert len(heard) == 1 and "has no SNS topics" in heard[0]


def test_https_s3_locations_that_sagemaker_accepts_are_understood(world: World) -> None:
    """SageMaker's S3 paths take `(https|s3)://`: an endpoint config naming its output path as an https
    URL makes InvokeEndpointAsync answer in that form, and the client refused to wait for it
    ("named no usable result location") after the request was queued. An https input location works too."""
    host = f"https://{BUCKET}.s3.eu-west-1.amazonaws.com"
    sm = world.clients.sagemaker
    sm.create_endpoint_config(EndpointConfigName="https-config", ProductionVariants=[{
        "VariantName": "AllTraffic", "ModelName": "m", "InstanceType": "ml.g4dn.xlarge", "InitialInstanceCount": 1}],
        AsyncInferenceConfig={"OutputConfig": {"S3OutputPath": f"{host}/https/output/",
                                               "S3FailurePath": f"https://s3.eu-west-1.amazonaws.com/{BUCKET}/https/failure/"}})  # fmt: skip
    sm.create_endpoint(EndpointName="https", EndpointConfigName="https-config")
    result = invoke_async(world.clients, "https", b"[1]", input_location=f"{host}/https/in%20put/", wait=FAST)
    assert result.body == b'{"bytes": 3}' and result.output_location.startswith(f"{host}/https/output/")
    assert result.input_location == f"s3://{BUCKET}/https/in put/{result.inference_id}"
    world.runtime.outcome = "fail"
    with pytest.raises(InferenceFailedError, match="CUDA out of memory"):
        invoke_async(world.clients, "https", b"[1]", input_location=f"s3://{BUCKET}/https/input/", wait=FAST)
    for bad in ("https://example.com/bucket/key", f"http://{BUCKET}.s3.amazonaws.com/k"):
        with pytest.raises(mod.S3UriError):
            parse_s3_uri(bad)


def test_cli_a_download_that_keeps_breaking_names_the_accepted_request(
    cli: World, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """boto3's download_file gives up on a stream that keeps breaking with its own RetriesExceededError,
    which is not a botocore error: it escaped as "internal error ... please report it" (exit 70), and a
    library caller's exception did not say where the result was."""
    from botocore.exceptions import ReadTimeoutError

    class Breaking:
        def read(self, *_: Any) -> bytes:
            raise ReadTimeoutError(endpoint_url="https://s3.invalid")

        def close(self) -> None:
            pass

    def broken_stream(**_: Any) -> tuple[AWSResponse, dict[str, Any]]:
        return AWSResponse("https://s3.invalid", 200, {}, None), {"Body": Breaking(), "ContentLength": 12}  # type: ignore[arg-type]

    cli.clients.s3.meta.events.register("before-call.s3.GetObject", broken_stream)
    (tmp_path / "req").write_bytes(b"[1]")
    code = _run("invoke", "--async", "--endpoint", EP, "--output", str(tmp_path / "out"), str(tmp_path / "req"))
    lines = capsys.readouterr().err.strip().splitlines()
    assert code == 1 and "RetriesExceededError" in lines[-1] and "internal error" not in lines[-1], lines
    assert f"its result will appear at s3://{BUCKET}/{EP}/output/" in lines[-1], lines


def test_ctrl_c_while_uploading_leaves_no_payload_behind(world: World) -> None:
    """s3transfer completes (or aborts) what it started before a Ctrl+C reaches the caller: a whole
    payload (up to 1 GB) stayed in S3, never queued, never read. Here the interrupt lands just after the
    object is stored."""

    def ctrl_c(**_: Any) -> None:
        raise KeyboardInterrupt

    world.clients.s3.meta.events.register("after-call.s3.PutObject", ctrl_c)
    with pytest.raises(KeyboardInterrupt):
        invoke_async(world.clients, EP, b"[1]", wait=FAST)
    assert world.keys() == [] and world.runtime.seen == []


def test_a_result_replaced_by_a_larger_one_after_head_is_still_bounded_in_memory(
    world: World, monkeypatch: pytest.MonkeyPatch
) -> None:
    """HEAD measures the result, GET reads it: an object replaced in between (or a HEAD that lies) was
    read whole into memory. The read is bounded by the limit itself now."""

    def shrink(parsed: dict[str, Any], **_: Any) -> None:
        parsed["ContentLength"] = 1

    world.clients.s3.meta.events.register("after-call.s3.HeadObject", shrink)
    monkeypatch.setattr(mod, "MAX_OUTPUT_IN_MEMORY", 5)
    with pytest.raises(OpsError, match=r"OutputTooLarge: the result is over 5 bytes") as e:
        invoke_async(world.clients, EP, b"[1]", wait=FAST)
    assert "was accepted and its result will appear at" in str(e.value)


def test_cli_takes_the_input_location_from_the_stack_outputs(
    cli: World, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """`--outputs` from `pulumi stack output --json` names the tenant's async_input_location: a caller whose
    endpoint carries no (readable) input tag still sends, without --input-location."""
    cli.endpoint("untagged", tags={})
    (tmp_path / "req").write_bytes(b"[1]")
    outputs = tmp_path / "outputs.json"
    outputs.write_text(json.dumps({"batch": {
        "endpoint_name": "untagged", "inference_component_name": "", "mode": "async",
        "async_input_location": f"s3://{BUCKET}/untagged/input/"}}))  # fmt: skip
    assert _run("invoke", "--async", "--outputs", str(outputs), str(tmp_path / "req")) == 0
    assert cli.keys("untagged/input/") and "result after" in capsys.readouterr().err
    assert _run("invoke", "--async", "--endpoint", "untagged", str(tmp_path / "req")) == 2, "no tag, no outputs"
