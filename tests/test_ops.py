"""warm and invoke against botocore's Stubber (every request and response checked against AWS's API models),
and invoke over real HTTP against a loopback runtime that answers "no capacity" before it serves."""

from __future__ import annotations

import dataclasses
import datetime as dt
import io
import itertools
import json
import logging
import math
import socket
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import boto3
import pytest
from botocore.response import StreamingBody
from botocore.stub import ANY, Stubber
from hypothesis import given, settings
from hypothesis import strategies as st

from sagezero import clientbehaviour as behaviour
from sagezero.ops import AwsClients, OpsError, RetryPolicy, invoke, warm
from sagezero.ops.warm import cool_down_action_name
from sagezero.settings import EndpointSettings
from tests.aws_stubs import DIM, NO_CAPACITY, NOW, RID, TARGET, clients, ic_answer, stubs, target_answer

__all__ = ["clients", "stubs"]  # fixtures


def _schedule(*untils: dt.datetime) -> dict[str, Any]:
    return {
        "ScheduledActions": [
            {
                "ScheduledActionName": cool_down_action_name(TARGET, until),
                "ScheduledActionARN": "arn:aws:autoscaling:eu-west-1:123456789012:scheduledAction:x",
                "ServiceNamespace": "sagemaker",
                "Schedule": f"at({until.strftime('%Y-%m-%dT%H:%M:%S')})",
                "ResourceId": RID,
                "ScalableDimension": DIM,
                "ScalableTargetAction": {"MinCapacity": 0, "MaxCapacity": 2},
                "CreationTime": NOW,
            }
            for until in untils
        ]
    }


SCAL = {"ServiceNamespace": "sagemaker", "ResourceId": RID, "ScalableDimension": DIM}


def expect_put_hold(stubs: dict[str, Stubber], until: dt.datetime, *, exact_time: bool = True) -> None:
    stubs["autoscaling"].add_response(
        "put_scheduled_action", {},
        {**SCAL, "ScheduledActionName": cool_down_action_name(TARGET, until) if exact_time else ANY,
         "Schedule": f"at({until.strftime('%Y-%m-%dT%H:%M:%S')})" if exact_time else ANY, "Timezone": "UTC",
         "ScalableTargetAction": {"MinCapacity": 0, "MaxCapacity": 2}},
    )  # fmt: skip


def expect_warm_from_zero(stubs: dict[str, Stubber], hold_min: int = 30, exact_time: bool = True) -> None:
    stubs["autoscaling"].add_response(
        "describe_scalable_targets",
        target_answer(0),
        {"ServiceNamespace": "sagemaker", "ResourceIds": [RID], "ScalableDimension": DIM},
    )
    stubs["sagemaker"].add_response(
        "describe_inference_component", ic_answer(0, 0), {"InferenceComponentName": TARGET.inference_component_name}
    )
    until = NOW + dt.timedelta(minutes=hold_min)
    stubs["autoscaling"].add_response("describe_scheduled_actions", {"ScheduledActions": []}, SCAL)
    expect_put_hold(stubs, until, exact_time=exact_time)
    stubs["autoscaling"].add_response("describe_scheduled_actions", _schedule(until), SCAL)
    # the fall-back exists before the minimum is raised
    stubs["autoscaling"].add_response("register_scalable_target", {}, {**SCAL, "MinCapacity": 1, "MaxCapacity": 2})


def test_warm_from_zero_raises_min_and_schedules_the_fall_back(clients: AwsClients, stubs: dict[str, Stubber]) -> None:
    expect_warm_from_zero(stubs)
    result = warm(clients, TARGET, now=lambda: NOW)
    assert result.was_warm is False
    assert result.hold_until == NOW + dt.timedelta(minutes=30)
    assert result.serving is False


def test_warm_when_already_warm_touches_nothing_but_a_shorter_hold(
    clients: AwsClients, stubs: dict[str, Stubber]
) -> None:
    stubs["autoscaling"].add_response("describe_scalable_targets", target_answer(1), None)
    stubs["sagemaker"].add_response("describe_inference_component", ic_answer(1, 1), None)
    later = NOW + dt.timedelta(hours=2)
    stubs["autoscaling"].add_response("describe_scheduled_actions", _schedule(later), None)
    result = warm(clients, TARGET, dt.timedelta(minutes=10), now=lambda: NOW)
    assert result.was_warm is True and result.serving is True
    assert result.hold_until == later, "a shorter hold must not cut another user's longer one"


def test_warm_extends_an_earlier_hold_and_removes_the_shorter_one(
    clients: AwsClients, stubs: dict[str, Stubber]
) -> None:
    stubs["autoscaling"].add_response("describe_scalable_targets", target_answer(1), None)
    stubs["sagemaker"].add_response("describe_inference_component", ic_answer(1, 1), None)
    early, late = NOW + dt.timedelta(minutes=5), NOW + dt.timedelta(minutes=30)
    stubs["autoscaling"].add_response("describe_scheduled_actions", _schedule(early), None)
    expect_put_hold(stubs, late)
    stubs["autoscaling"].add_response("describe_scheduled_actions", _schedule(early, late), None)
    stubs["autoscaling"].add_response(
        "delete_scheduled_action", {}, {**SCAL, "ScheduledActionName": cool_down_action_name(TARGET, early)}
    )
    assert warm(clients, TARGET, now=lambda: NOW).hold_until == late


def test_warm_and_wait_reports_phases_until_serving(clients: AwsClients, stubs: dict[str, Stubber]) -> None:
    expect_warm_from_zero(stubs)
    endpoint = {
        "EndpointName": TARGET.endpoint_name, "EndpointArn": "arn:aws:sagemaker:eu-west-1:1:endpoint/x",
        "EndpointStatus": "InService", "CreationTime": NOW, "LastModifiedTime": NOW,
    }  # fmt: skip
    for instances, copies_now in ((0, 0), (1, 0), (1, 1)):
        stubs["sagemaker"].add_response("describe_inference_component", ic_answer(1, copies_now), None)
        variant = {"VariantName": "AllTraffic", "CurrentInstanceCount": instances}
        stubs["sagemaker"].add_response("describe_endpoint", {**endpoint, "ProductionVariants": [variant]}, None)
    seen: list[str] = []
    result = warm(clients, TARGET, now=lambda: NOW, wait=True, poll_s=0, sleep=lambda s: None,
                  progress=lambda p, info: seen.append(p))  # fmt: skip
    assert result.serving is True
    assert seen == ["provisioning instance", "pulling image and starting container (health check)", "serving"]


def test_warm_without_a_scalable_target_says_so(clients: AwsClients, stubs: dict[str, Stubber]) -> None:
    stubs["autoscaling"].add_response("describe_scalable_targets", {"ScalableTargets": []}, None)
    with pytest.raises(OpsError) as e:
        warm(clients, TARGET)
    assert e.value.code == "ObjectNotFoundException" and RID in str(e.value)


def test_warm_with_bad_credentials_names_the_resource_and_code(clients: AwsClients, stubs: dict[str, Stubber]) -> None:
    stubs["autoscaling"].add_client_error("describe_scalable_targets", "UnrecognizedClientException", "bad token", 400)
    with pytest.raises(OpsError) as e:
        warm(clients, TARGET)
    assert str(e.value).startswith(f"{RID}: UnrecognizedClientException: bad token (hint: the credentials")


def _ok(payload: bytes) -> dict[str, Any]:
    return {"Body": StreamingBody(io.BytesIO(payload), len(payload)), "ContentType": "application/json"}


def test_invoke_succeeds_after_no_capacity_answers(clients: AwsClients, stubs: dict[str, Stubber]) -> None:
    for _ in range(3):
        stubs["runtime"].add_client_error("invoke_endpoint", "ValidationError", NO_CAPACITY, 400)
        if _ == 0:
            expect_warm_from_zero(stubs, exact_time=False)
    stubs["runtime"].add_response("invoke_endpoint", _ok(b"[0.98]"), {
        "EndpointName": TARGET.endpoint_name, "InferenceComponentName": TARGET.inference_component_name,
        "Body": b"[[1,2,3,4]]", "ContentType": "application/json"})  # fmt: skip
    sleeps: list[float] = []
    clock = iter(range(0, 10_000, 5))
    result = invoke(
        clients, TARGET, b"[[1,2,3,4]]", sleep=sleeps.append, clock=lambda: float(next(clock)), jitter=lambda: 1.0
    )
    assert result.body == b"[0.98]" and result.attempts == 4 and result.cold is True
    assert sleeps == [1.0, 2.0, 4.0], "capped exponential backoff"


def test_invoke_gives_up_at_the_deadline_with_a_clear_message(clients: AwsClients, stubs: dict[str, Stubber]) -> None:
    for _ in range(3):
        stubs["runtime"].add_client_error("invoke_endpoint", "ValidationError", NO_CAPACITY, 400)
    t = iter([0.0, 10.0, 50.0, 60.0])
    policy = RetryPolicy(deadline_s=60, warm_on_cold=False, base_s=30, cap_s=30)
    sleeps: list[float] = []
    with pytest.raises(OpsError) as e:
        invoke(clients, TARGET, b"{}", retry=policy, sleep=sleeps.append, clock=lambda: next(t), jitter=lambda: 1.0)
    assert sleeps == [30.0, 10.0], "the last try is at the deadline, not a full backoff before it"
    assert e.value.code == "DeadlineExceeded"
    assert "waking from zero copies" in str(e.value) and "sagezero warm" in str(e.value)


def test_throttling_is_retried_but_model_errors_are_not(clients: AwsClients, stubs: dict[str, Stubber]) -> None:
    stubs["runtime"].add_client_error("invoke_endpoint", "ThrottlingException", "slow down", 400)
    stubs["runtime"].add_response("invoke_endpoint", _ok(b"[1]"), None)
    assert invoke(clients, TARGET, b"{}", sleep=lambda s: None, jitter=lambda: 0.0).attempts == 2
    stubs["runtime"].add_client_error("invoke_endpoint", "ModelError", "Received client error (400) from primary", 424)
    with pytest.raises(OpsError) as e:
        invoke(clients, TARGET, b"{}", sleep=lambda s: pytest.fail("a model error must not be retried"))
    assert e.value.code == "ModelError" and TARGET.endpoint_name in str(e.value)


def test_botocores_own_failures_are_an_ops_error_on_one_line(clients: AwsClients) -> None:
    """No route to AWS (a closed loopback port): botocore raises, invoke names it with a hint."""
    from botocore.config import Config

    session = boto3.Session(region_name="eu-west-1", aws_access_key_id="x", aws_secret_access_key="x")
    runtime = session.client("sagemaker-runtime", endpoint_url="http://127.0.0.1:9",
                             config=Config(retries={"max_attempts": 1, "mode": "standard"}))  # fmt: skip
    unreachable = AwsClients(clients.sagemaker, runtime, clients.autoscaling, clients.cloudwatch)
    with pytest.raises(OpsError) as e:
        invoke(unreachable, TARGET, b"{}")
    assert e.value.code == "EndpointConnectionError" and "\n" not in str(e.value)
    assert str(e.value).startswith(f"{TARGET.endpoint_name}/{TARGET.inference_component_name}: EndpointConnectionError")
    assert "hint: AWS could not be reached" in str(e.value)


def test_payload_limits_are_checked_before_sending(clients: AwsClients, stubs: dict[str, Stubber]) -> None:
    with pytest.raises(OpsError, match="PayloadTooLarge"):
        invoke(clients, TARGET, b"x" * (6 * 1024 * 1024 + 1))
    with pytest.raises(OpsError, match="EmptyBody"):
        invoke(clients, TARGET, b"")
    with pytest.raises(OpsError, match="CustomAttributesTooLong"):
        invoke(clients, TARGET, b"{}", custom_attributes="a" * 1025)


# ---- waking is best effort: a refused or failed wake never fails a request the alarm will serve ----


def _denied(stubs: dict[str, Stubber], operation: str, service: str = "autoscaling") -> None:
    stubs[service].add_client_error(
        operation, "AccessDeniedException", f"User: arn:aws:sts::1:assumed-role/web/x is not authorized to perform: "
        f"{operation}", 400,
    )  # fmt: skip


def test_a_refused_wake_warns_once_and_retries_until_served(clients: AwsClients, stubs: dict[str, Stubber]) -> None:
    stubs["runtime"].add_client_error("invoke_endpoint", "ValidationError", NO_CAPACITY, 400)
    _denied(stubs, "describe_scalable_targets")  # the wake, tried once: a refusal is not retried
    for _ in range(3):
        stubs["runtime"].add_client_error("invoke_endpoint", "ValidationError", NO_CAPACITY, 400)
    stubs["runtime"].add_response("invoke_endpoint", _ok(b"[1]"), None)
    heard: list[str] = []
    result = invoke(clients, TARGET, b"{}", sleep=lambda s: None, jitter=lambda: 0.0, warn=heard.append)
    assert result.body == b"[1]" and result.attempts == 5 and result.cold
    assert len(heard) == 1 and result.warnings == tuple(heard)
    assert heard[0].startswith(f"{RID}: could not wake the component (AccessDeniedException)")
    assert "alarm wakes it instead" in heard[0] and "grant" in heard[0]


def test_a_wake_failing_validation_is_not_tried_again(clients: AwsClients, stubs: dict[str, Stubber]) -> None:
    """A missing role or PassRole fails the wake with ValidationException every time: one try, one warning."""
    stubs["runtime"].add_client_error("invoke_endpoint", "ValidationError", NO_CAPACITY, 400)
    stubs["autoscaling"].add_client_error("describe_scalable_targets", "ValidationException",
                                          "Unable to assume IAM role", 400)  # fmt: skip
    for _ in range(3):
        stubs["runtime"].add_client_error("invoke_endpoint", "ValidationError", NO_CAPACITY, 400)
    stubs["runtime"].add_response("invoke_endpoint", _ok(b"[1]"), None)
    heard: list[str] = []
    clock = itertools.count(0.0, 10.0)  # past any backoff: only a refusal stops a second wake
    result = invoke(clients, TARGET, b"{}", sleep=lambda s: None, clock=lambda: next(clock), jitter=lambda: 0.0,
                    warn=heard.append)  # fmt: skip
    assert result.attempts == 5 and len(heard) == 1 and "(ValidationException)" in heard[0]


def test_a_refused_wake_still_ends_at_the_deadline_and_says_why(clients: AwsClients, stubs: dict[str, Stubber]) -> None:
    stubs["runtime"].add_client_error("invoke_endpoint", "ValidationError", NO_CAPACITY, 400)
    _denied(stubs, "describe_scalable_targets")
    stubs["runtime"].add_client_error("invoke_endpoint", "ValidationError", NO_CAPACITY, 400)
    t = iter([0.0, 10.0, 30.0, 60.0])  # start, the wake's time left, after the first and the second try
    with pytest.raises(OpsError) as e:
        invoke(clients, TARGET, b"{}", retry=RetryPolicy(deadline_s=60), sleep=lambda s: None,
               clock=lambda: next(t), jitter=lambda: 1.0, warn=lambda m: None)  # fmt: skip
    assert e.value.code == "DeadlineExceeded" and "could not wake the component (AccessDeniedException)" in str(e.value)


def test_a_transient_wake_failure_is_tried_again_and_reported_once(
    clients: AwsClients, stubs: dict[str, Stubber]
) -> None:
    for _ in range(2):
        stubs["runtime"].add_client_error("invoke_endpoint", "ValidationError", NO_CAPACITY, 400)
        stubs["autoscaling"].add_client_error("describe_scalable_targets", "ThrottlingException", "Rate exceeded", 400)
    stubs["runtime"].add_client_error("invoke_endpoint", "ValidationError", NO_CAPACITY, 400)
    expect_warm_from_zero(stubs, exact_time=False)  # the third answer's wake gets through
    stubs["runtime"].add_client_error("invoke_endpoint", "ValidationError", NO_CAPACITY, 400)  # no fourth wake
    stubs["runtime"].add_response("invoke_endpoint", _ok(b"[1]"), None)
    heard: list[str] = []
    clock = itertools.count(0.0, 10.0)  # past each wake's backoff (5 s, then 10 s)
    result = invoke(clients, TARGET, b"{}", sleep=lambda s: None, clock=lambda: next(clock), jitter=lambda: 0.0,
                    warn=heard.append)  # fmt: skip
    assert result.attempts == 5
    assert heard == [f"{RID}: could not wake the component (ThrottlingException); its NoCapacityInvocationFailures "
                     "alarm wakes it instead, retrying until the deadline"]  # fmt: skip


def test_without_a_warn_callback_the_warning_goes_to_the_ops_logger(
    clients: AwsClients, stubs: dict[str, Stubber], caplog: pytest.LogCaptureFixture
) -> None:
    stubs["runtime"].add_client_error("invoke_endpoint", "ValidationError", NO_CAPACITY, 400)
    _denied(stubs, "describe_scalable_targets")
    stubs["runtime"].add_response("invoke_endpoint", _ok(b"[1]"), None)
    with caplog.at_level(logging.WARNING, logger="sagezero.ops"):
        invoke(clients, TARGET, b"{}", sleep=lambda s: None, jitter=lambda: 0.0)
    assert [r.name for r in caplog.records] == ["sagezero.ops"]
    assert "AccessDeniedException" in caplog.records[0].getMessage()


def test_warm_goes_on_when_the_copy_count_cannot_be_read(clients: AwsClients, stubs: dict[str, Stubber]) -> None:
    stubs["autoscaling"].add_response("describe_scalable_targets", target_answer(0), None)
    _denied(stubs, "describe_inference_component", "sagemaker")
    until = NOW + dt.timedelta(minutes=30)
    stubs["autoscaling"].add_response("describe_scheduled_actions", {"ScheduledActions": []}, SCAL)
    expect_put_hold(stubs, until)
    stubs["autoscaling"].add_response("describe_scheduled_actions", _schedule(until), SCAL)
    stubs["autoscaling"].add_response("register_scalable_target", {}, {**SCAL, "MinCapacity": 1, "MaxCapacity": 2})
    heard: list[str] = []
    result = warm(clients, TARGET, now=lambda: NOW, warn=heard.append)
    assert result.hold_until == until and result.was_warm is False
    assert heard == [f"{TARGET.inference_component_name}: could not read the copy count (AccessDeniedException); "
                     "warming without it"]  # fmt: skip


def test_warm_and_wait_needs_the_copy_count(clients: AwsClients, stubs: dict[str, Stubber]) -> None:
    stubs["autoscaling"].add_response("describe_scalable_targets", target_answer(0), None)
    _denied(stubs, "describe_inference_component", "sagemaker")
    with pytest.raises(OpsError, match="AccessDeniedException"):
        warm(clients, TARGET, now=lambda: NOW, wait=True, warn=pytest.fail)


def test_warm_reports_an_earlier_hold_it_could_not_remove(clients: AwsClients, stubs: dict[str, Stubber]) -> None:
    stubs["autoscaling"].add_response("describe_scalable_targets", target_answer(1), None)
    stubs["sagemaker"].add_response("describe_inference_component", ic_answer(1, 1), None)
    early, late = NOW + dt.timedelta(minutes=5), NOW + dt.timedelta(minutes=30)
    stubs["autoscaling"].add_response("describe_scheduled_actions", _schedule(early), None)
    expect_put_hold(stubs, late)
    stubs["autoscaling"].add_response("describe_scheduled_actions", _schedule(early, late), None)
    _denied(stubs, "delete_scheduled_action")
    heard: list[str] = []
    assert warm(clients, TARGET, now=lambda: NOW, warn=heard.append).hold_until == late
    assert heard == [f"{cool_down_action_name(TARGET, early)}: could not remove this earlier fall-back "
                     "(AccessDeniedException); the minimum returns to 0 at 12:05 UTC, before this hold ends at "
                     "12:30 UTC"]  # fmt: skip


def test_warm_and_wait_shows_phases_without_the_instance_count(clients: AwsClients, stubs: dict[str, Stubber]) -> None:
    expect_warm_from_zero(stubs)
    stubs["sagemaker"].add_response("describe_inference_component", ic_answer(1, 0), None)
    _denied(stubs, "describe_endpoint", "sagemaker")  # asked once, then not again
    stubs["sagemaker"].add_response("describe_inference_component", ic_answer(1, 1), None)
    seen: list[str] = []
    heard: list[str] = []
    result = warm(clients, TARGET, now=lambda: NOW, wait=True, poll_s=0, sleep=lambda s: None,
                  progress=lambda p, info: seen.append(p), warn=heard.append)  # fmt: skip
    assert result.serving and seen == ["starting (instance count not readable)", "serving"]
    assert len(heard) == 1 and "could not read the instance count (AccessDeniedException)" in heard[0]


# ---- over real HTTP: botocore's own error parsing of SageMaker's no-capacity answer ----------------


class _FakeRuntime(BaseHTTPRequestHandler):
    """A loopback stand-in for the SageMaker runtime endpoint: N no-capacity answers, then 200."""

    remaining_failures = 0
    seen: list[dict[str, str]] = []  # noqa: RUF012 - shared across handler instances on purpose

    def do_POST(self) -> None:
        length = int(self.headers.get("Content-Length", 0))
        self.rfile.read(length)
        type(self).seen.append({"path": self.path, "ic": self.headers.get("X-Amzn-SageMaker-Inference-Component", "")})
        if type(self).remaining_failures > 0:
            type(self).remaining_failures -= 1
            body = json.dumps({"ErrorCode": "CLIENT_ERROR_FROM_MODEL", "Message": NO_CAPACITY}).encode()
            self.send_response(400)
            self.send_header(
                "x-amzn-ErrorType", "ValidationError:http://internal.amazon.com/coral/com.amazon.sagemaker/"
            )
        else:
            body = b"[0.42]"
            self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args: object) -> None:
        pass


class _DeniedAutoscaling(BaseHTTPRequestHandler):
    """A loopback App Auto Scaling (JSON 1.1) that refuses every call, as for a web backend's role."""

    targets: list[str] = []  # noqa: RUF012 - shared across handler instances on purpose

    def do_POST(self) -> None:
        self.rfile.read(int(self.headers.get("Content-Length", 0)))
        type(self).targets.append(self.headers.get("X-Amz-Target", ""))
        body = json.dumps({"__type": "AccessDeniedException", "Message": "User: arn:aws:sts::1:assumed-role/web/x "
                           "is not authorized to perform: application-autoscaling:DescribeScalableTargets"}).encode()  # fmt: skip
        self.send_response(400)
        self.send_header("Content-Type", "application/x-amz-json-1.1")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args: object) -> None:
        pass


@contextmanager
def loopback(handler: type[BaseHTTPRequestHandler]) -> Iterator[str]:
    """Serve `handler` on a free loopback port; stop the thread and close the socket afterwards."""
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()
        thread.join()


def _http_client(service: str, url: str) -> Any:
    session = boto3.Session(region_name="eu-west-1", aws_access_key_id="x", aws_secret_access_key="x")
    return session.client(service, endpoint_url=url)  # type: ignore[call-overload]


def test_invoke_over_http_retries_through_no_capacity(stubs: dict[str, Stubber], clients: AwsClients) -> None:
    _FakeRuntime.remaining_failures = 3
    _FakeRuntime.seen = []
    with loopback(_FakeRuntime) as url:
        http_clients = AwsClients(clients.sagemaker, _http_client("sagemaker-runtime", url), clients.autoscaling,
                                  clients.cloudwatch)  # fmt: skip
        result = invoke(
            http_clients, TARGET, b"[[1,2,3,4]]", retry=RetryPolicy(warm_on_cold=False, base_s=0.01, cap_s=0.02)
        )
    assert result.body == b"[0.42]" and result.attempts == 4 and result.cold
    assert {s["ic"] for s in _FakeRuntime.seen} == {TARGET.inference_component_name}
    assert _FakeRuntime.seen[0]["path"] == f"/endpoints/{TARGET.endpoint_name}/invocations"


def test_invoke_over_http_keeps_retrying_when_app_auto_scaling_refuses_the_wake(clients: AwsClients) -> None:
    """The web backend's case end to end: botocore parses the refusal, invoke warns once, asks no
    more, and the request is served once the (alarm-woken) component answers."""
    _FakeRuntime.remaining_failures = 3
    _FakeRuntime.seen = []
    _DeniedAutoscaling.targets = []
    heard: list[str] = []
    with loopback(_FakeRuntime) as runtime_url, loopback(_DeniedAutoscaling) as scaling_url:
        http_clients = AwsClients(clients.sagemaker, _http_client("sagemaker-runtime", runtime_url),
                                  _http_client("application-autoscaling", scaling_url), clients.cloudwatch)  # fmt: skip
        result = invoke(http_clients, TARGET, b"[[1]]", retry=RetryPolicy(base_s=0.01, cap_s=0.02), warn=heard.append)
    assert result.body == b"[0.42]" and result.attempts == 4 and result.cold
    assert _DeniedAutoscaling.targets == ["AnyScaleFrontendService.DescribeScalableTargets"]
    assert len(heard) == 1 and "could not wake the component (AccessDeniedException)" in heard[0]


def test_a_wake_that_never_answers_still_ends_at_the_deadline() -> None:
    """App Auto Scaling accepts the connection and never answers: the wake gets what is left of the
    deadline (one attempt, short timeouts), is reported once, is not retried on every no-capacity
    answer, and invoke ends near its deadline, not after botocore's 60 s read timeout times 5."""
    _FakeRuntime.remaining_failures = 10_000
    _FakeRuntime.seen = []
    silent = socket.socket()
    silent.bind(("127.0.0.1", 0))
    silent.listen(16)  # the kernel completes the handshake; nobody ever reads or answers
    heard: list[str] = []
    try:
        with loopback(_FakeRuntime) as runtime_url:
            made = AwsClients.create(region="eu-west-1", endpoint_url=f"http://127.0.0.1:{silent.getsockname()[1]}",
                                     aws_access_key_id="x", aws_secret_access_key="x")  # fmt: skip
            http_clients = dataclasses.replace(made, runtime=_http_client("sagemaker-runtime", runtime_url))
            t0 = time.monotonic()
            with pytest.raises(OpsError) as e:
                invoke(http_clients, TARGET, b"[[1]]", retry=RetryPolicy(deadline_s=2.0, base_s=0.05, cap_s=0.1),
                       warn=heard.append)  # fmt: skip
            took = time.monotonic() - t0
    finally:
        silent.close()
    assert e.value.code == "DeadlineExceeded"
    assert took < 4.0, f"invoke --deadline 2 ran {took:.1f} s"
    assert len(heard) == 1 and "could not wake the component (ReadTimeoutError)" in heard[0]


def test_ops_client_imports_without_pulumi() -> None:
    """A web backend has boto3 but not Pulumi: the client must load there."""
    import subprocess
    import sys

    code = (
        "import sys\n"
        "class Block:\n"
        "    def find_spec(self, name, path=None, target=None):\n"
        "        if name.split('.')[0] in ('pulumi', 'pulumi_aws', 'pulumi_aws_native', 'pulumi_docker', 'pulumi_policy'):\n"
        "            raise ImportError('blocked: ' + name)\n"
        "sys.meta_path.insert(0, Block())\n"
        "from sagezero.ops import warm, invoke, AwsClients, Target\n"
        "print('ok')\n"
    )
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=False)
    assert proc.returncode == 0 and proc.stdout.strip() == "ok", proc.stderr


@pytest.mark.parametrize(
    ("env", "args", "text"),
    [
        ({"AWS_PROFILE": "no-such-profile"}, ["warm", "--endpoint", "e"], "ProfileNotFound"),
        ({}, ["warm", "--endpoint", "e"], "NoRegionError: You must specify a region. (hint: set AWS_DEFAULT_REGION"),
        (
            {"AWS_DEFAULT_REGION": "eu-west-1"},
            ["invoke", "--endpoint", "e", "/no/such/file"],
            "/no/such/file: no such file",
        ),
    ],
)
def test_cli_setup_problems_are_one_line(env: dict[str, str], args: list[str], text: str) -> None:
    import os
    import subprocess
    import sys

    base = {k: v for k, v in os.environ.items() if not k.startswith("AWS_")}
    full = {**base, "AWS_ACCESS_KEY_ID": "x", "AWS_SECRET_ACCESS_KEY": "x", "AWS_EC2_METADATA_DISABLED": "true",
            "AWS_CONFIG_FILE": "/nonexistent", **env}  # fmt: skip
    proc = subprocess.run(
        [sys.executable, "-m", "sagezero.cli", *args], capture_output=True, text=True, env=full, check=False
    )
    assert proc.returncode == 2
    assert text in proc.stderr and "Traceback" not in proc.stderr


# ---- one client behaviour: the library, the simulator and the CLI share it -----------------------


@given(attempt=st.integers(1, 10**6), jitter=st.floats(0, 1, exclude_max=True),
       base=st.floats(0, 100), cap=st.floats(0, 1000))  # fmt: skip
@settings(max_examples=200)
def test_backoff_is_full_jitter_under_the_cap_for_any_attempt(
    attempt: int, jitter: float, base: float, cap: float
) -> None:
    delay = behaviour.backoff_s(attempt, jitter, base_s=base, cap_s=cap)
    assert 0 <= delay <= cap and math.isfinite(delay)
    assert delay == pytest.approx(min(cap, base * 2.0 ** min(attempt - 1, 62)) * jitter)


def test_the_simulator_models_the_client_the_library_is() -> None:
    from sagezero.cli import build_parser
    from sagezero.simulate import ClientSettings
    from sagezero.simulate.scenario import Scenario

    sim, lib = ClientSettings(), RetryPolicy()
    assert (sim.deadline_s, sim.backoff_base_s, sim.backoff_cap_s) == (lib.deadline_s, lib.base_s, lib.cap_s)
    assert sim.hold_s == lib.hold.total_seconds() == Scenario("t", EndpointSettings(), {}).client().hold_s
    assert (lib.deadline_s, lib.base_s, lib.cap_s) == (
        behaviour.DEADLINE_S,
        behaviour.BACKOFF_BASE_S,
        behaviour.BACKOFF_CAP_S,
    )
    assert build_parser().parse_args(["warm", "--endpoint", "e"]).hold_minutes * 60 == sim.hold_s
    assert build_parser().parse_args(["invoke", "--endpoint", "e", "f"]).deadline == sim.deadline_s


@pytest.mark.parametrize(
    "policy",
    [{"deadline_s": math.nan}, {"deadline_s": math.inf}, {"deadline_s": -1.0}, {"base_s": math.nan}, {"cap_s": -1.0},
     {"hold": dt.timedelta(0)}, {"hold": dt.timedelta(days=8)}],
)  # fmt: skip
def test_a_retry_policy_that_would_never_end_is_refused(policy: dict[str, Any]) -> None:
    with pytest.raises(ValueError, match="RetryPolicy"):
        RetryPolicy(**policy)


def test_operations_commands_start_without_pulumi(tmp_path: Any) -> None:
    """`sagezero invoke` on a web backend's host: the CLI package must not pull Pulumi in on the way."""
    import subprocess
    import sys

    body = tmp_path / "body.json"
    body.write_bytes(b"")
    code = (
        "import sys\n"
        "class Block:\n"
        "    def find_spec(self, name, path=None, target=None):\n"
        "        if name.split('.')[0].startswith('pulumi'):\n"
        "            raise ImportError('blocked: ' + name)\n"
        "sys.meta_path.insert(0, Block())\n"
        "from sagezero.cli import main\n"
        f"sys.exit(main(['invoke', '--endpoint', 'e', {str(body)!r}]))\n"
    )
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=False)
    assert proc.returncode == 2 and "is empty; nothing was sent" in proc.stderr, proc.stderr
