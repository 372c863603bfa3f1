"""Async mode's settings: parsed from the stack config, refused where they would be ignored or break the
layout, and given as Inputs exactly where the settings' metadata says."""

from __future__ import annotations

import dataclasses
from typing import Any

import pytest

from sagezero.settings import EndpointSettings, Mode, SettingsError, build_settings
from sagezero.stackconfig import SECRET_PLACEHOLDER, StackConfigError, parse_stack_config

TOPIC = "arn:aws:sns:eu-west-1:123456789012:done"


def _tenant(**keys: object) -> EndpointSettings:
    cfg = parse_stack_config("dev", {"sagezero:tenants": [{"name": "q", "mode": "async", **keys}]})
    return cfg.tenants[0].settings


def test_an_async_tenant_parses_with_a_minute_alarm_and_no_accelerators() -> None:
    s = _tenant(instanceType="ml.g5.xlarge", asyncBucket="team-queue", asyncBacklogTarget=2.5)
    assert s.mode is Mode.ASYNC
    assert (s.alarm_period_s, s.accelerators) == (60, 0)
    assert (s.async_bucket, s.async_backlog_target) == ("team-queue", 2.5)


@pytest.mark.parametrize(
    ("keys", "text"),
    [
        ({"mode": "scale-to-zero", "asyncExpiryDays": 3}, "tenants[0].asyncExpiryDays: only async mode uses it"),
        ({"mode": "serverless", "accelerators": 0, "asyncBucket": "b-1"}, "tenants[0].asyncBucket: only async mode"),
        (
            {"asyncBucket": "s3://team-queue/x"},
            "tenants[0].asyncBucket: 's3://team-queue/x' must be a bare bucket name",
        ),
        ({"asyncBucket": "Team_Queue"}, "tenants[0].asyncBucket: 'Team_Queue' is not an S3 bucket name"),
        ({"asyncBucket": "arn:aws:s3:::team-queue"}, "must be a bare bucket name, not an ARN (give 'team-queue')"),
        ({"asyncBucket": "team-queue", "asyncExpiryDays": 3}, "tenants[0].asyncExpiryDays: 3 would be ignored"),
        ({"asyncBucket": "a..b"}, "is not an S3 bucket name"),
        ({"asyncBucket": "10.0.0.1"}, "is not an S3 bucket name"),
        ({"asyncNotifications": True, "asyncSuccessTopicArn": TOPIC}, "asyncNotifications: creates the success"),
        ({"asyncErrorTopicArn": "arn:aws:sqs:eu-west-1:123456789012:q"}, "asyncErrorTopicArn: 'arn:aws:sqs"),
        ({"alarmPeriodS": 30}, "alarmPeriodS: 30 is shorter than the minute HasBacklogWithoutCapacity"),
        ({"asyncInvocationTimeoutS": 3601}, "asyncInvocationTimeoutS: 3601 is outside 1-3600"),
        ({"asyncMaxConcurrentInvocations": 0}, "asyncMaxConcurrentInvocations: 0 is outside 1-1000"),
        ({"accelerators": 1}, "accelerators: async endpoints have no inference component"),
        ({"maxCopies": 3}, "tenants[0].maxCopies: 3: async endpoints scale instances, not inference-component copies"),
        ({"targetValue": 2}, "tenants[0].targetValue: 2.0: async target tracking holds queued requests per instance"),
        ({"minMemoryMb": 4096}, "tenants[0].minMemoryMb: 4096: async endpoints have no inference component"),
        ({"cpuCores": 2}, "tenants[0].cpuCores: 2.0: async endpoints have no inference component"),
        ({"serverlessMemoryMb": 4096}, "tenants[0].serverlessMemoryMb: 4096: only serverless mode uses it"),
    ],
)
def test_async_mistakes_name_the_stack_tenant_and_key(keys: dict[str, object], text: str) -> None:
    entry = {"name": "q", "mode": "async", **keys}
    with pytest.raises(StackConfigError) as e:
        parse_stack_config("dev", {"sagezero:tenants": [entry]})
    assert str(e.value).startswith("stack 'dev' has ")
    assert text in str(e.value), str(e.value)


def test_undecryptable_topic_arns_plan_as_unknown_valid_values() -> None:
    s = _tenant(asyncSuccessTopicArn=SECRET_PLACEHOLDER, asyncErrorTopicArn=SECRET_PLACEHOLDER)
    assert s.async_success_topic_arn and s.async_success_topic_arn.endswith(SECRET_PLACEHOLDER)


def test_input_fields_are_the_settings_marked_input() -> None:
    from sagezero.components.inputs import INPUT_FIELDS, Resolved

    marked = [f.name for f in dataclasses.fields(EndpointSettings) if f.metadata.get("input")]
    assert list(INPUT_FIELDS) == marked
    assert {"async_bucket", "async_success_topic_arn", "async_error_topic_arn"} <= set(INPUT_FIELDS)
    assert sorted(f.name for f in dataclasses.fields(Resolved)) == sorted(marked), "every Input reaches the children"


def test_a_resolved_async_input_is_checked_by_its_own_rules_only() -> None:
    _s, problems = build_settings({"mode": "async", "async_bucket": "ok-bucket"}, camel_keys=False)
    assert problems == []


def test_secret_stack_values_reach_the_component_as_secret_inputs() -> None:
    pytest.importorskip("pulumi")
    from sagezero.program import secret_inputs

    s = dataclasses.replace(EndpointSettings(), mode=Mode.ASYNC, async_bucket="team-queue", async_error_topic_arn=TOPIC)
    assert {"async_bucket", "async_error_topic_arn"} <= set(secret_inputs(s))
    assert "async_success_topic_arn" not in secret_inputs(s)


@pytest.mark.parametrize("key", ["alias/queue-key", "arn:aws:kms:eu-west-1:123456789012:alias/queue-key", "abcd-1234"])
def test_an_async_tenants_kms_key_must_be_a_key_arn(key: str) -> None:
    with pytest.raises(StackConfigError, match=r"tenants\[0\]\.kmsKeyArn: .* must be a key ARN"):
        _tenant(kmsKeyArn=key)
    realtime = parse_stack_config("dev", {"sagezero:tenants": [{"name": "r", "kmsKeyArn": key}]})
    assert realtime.tenants[0].settings.kms_key_arn == key


def test_an_undecryptable_kms_key_plans_for_an_async_tenant() -> None:
    from_defaults = parse_stack_config(
        "dev",
        {"sagezero:defaults": {"kmsKeyArn": SECRET_PLACEHOLDER}, "sagezero:tenants": [{"name": "q", "mode": "async"}]},
    )
    assert from_defaults.tenants[0].settings.mode is Mode.ASYNC
    assert _tenant(kmsKeyArn=SECRET_PLACEHOLDER).kms_key_arn


@pytest.mark.parametrize(
    ("period", "periods", "accepted"),
    [(60, 100, True), (1800, 48, True), (1800, 49, False), (3600, 30, True), (86_400, 7, True), (86_400, 8, False)],
)
def test_the_alarm_window_is_held_to_cloudwatchs_limit(period: int, periods: int, accepted: bool) -> None:
    # PutMetricAlarm: Period x EvaluationPeriods <= 604,800 s, and <= 86,400 s when Period < 3,600 s.
    keys = {"alarmPeriodS": period, "alarmEvaluationPeriods": periods}
    if accepted:
        assert _tenant(**keys).alarm_evaluation_periods == periods
    else:
        with pytest.raises(StackConfigError, match=r"tenants\[0\]\.alarmEvaluationPeriods: .* CloudWatch allows"):
            _tenant(**keys)


def test_an_all_async_stack_needs_no_aws_native_region() -> None:
    # Async tenants create no aws-native resource (no inference component), like serverless ones.
    values = {"sagezero:tenants": ["a", "b"], "aws:region": "eu-west-1", "sagezero:defaults": {"mode": "async"}}
    assert parse_stack_config("s", values).region == "eu-west-1"
    mixed = {**values, "sagezero:tenants": ["a", {"name": "b", "mode": "serverless", "accelerators": 0}]}
    assert parse_stack_config("s", mixed).region == "eu-west-1"
    with pytest.raises(StackConfigError, match="aws-native:region"):
        parse_stack_config("s", {**values, "sagezero:tenants": ["a", {"name": "b", "mode": "scale-to-zero"}]})


def _stack(defaults: dict[str, object], tenants: list[dict[str, object]]) -> list[EndpointSettings]:
    cfg = parse_stack_config("prod", {"sagezero:defaults": defaults, "sagezero:tenants": tenants})
    return [t.settings for t in cfg.tenants]


def test_stack_defaults_serve_tenants_of_both_modes() -> None:
    """Real-time keys in the defaults (the shipped prod stack's maxCopies, accelerators, targetValue) are
    left out for an async tenant, and async keys for a real-time one, instead of refusing the stack."""
    realtime, queued = _stack(
        {"instanceType": "ml.g5.xlarge", "accelerators": 1, "maxCopies": 2, "targetValue": 5, "asyncExpiryDays": 3},
        [{"name": "acme"}, {"name": "batch", "mode": "async"}],
    )
    assert (realtime.mode, realtime.max_copies, realtime.accelerators) == (Mode.SCALE_TO_ZERO, 2, 1)
    assert realtime.async_expiry_days == EndpointSettings().async_expiry_days
    assert (queued.mode, queued.accelerators, queued.async_expiry_days) == (Mode.ASYNC, 0, 3)
    assert queued.max_copies == EndpointSettings().max_copies


def test_async_defaults_with_a_real_time_tenant_that_overrides_the_mode() -> None:
    queued, realtime = _stack(
        {"mode": "async", "maxCopies": 3}, [{"name": "b"}, {"name": "a", "mode": "scale-to-zero"}]
    )
    assert (queued.mode, realtime.mode, realtime.max_copies) == (Mode.ASYNC, Mode.SCALE_TO_ZERO, 3)


def test_a_default_no_tenant_reads_is_refused_naming_the_key() -> None:
    with pytest.raises(StackConfigError, match=r"sagezero:defaults\.asyncExpiryDays: no tenant reads it: every tenant "
                       r"that inherits it is in scale-to-zero mode"):  # fmt: skip
        _stack({"asyncExpiryDays": 3}, [{"name": "acme"}])


def test_a_tenants_own_key_its_mode_never_reads_is_still_refused() -> None:
    with pytest.raises(StackConfigError, match=r"tenants\[1\]\.maxCopies: 3: async endpoints scale instances"):
        _stack({"maxCopies": 2}, [{"name": "a"}, {"name": "b", "mode": "async", "maxCopies": 3}])


def test_a_bad_default_value_is_still_reported_for_the_tenants_that_inherit_it() -> None:
    with pytest.raises(StackConfigError, match=r"tenants\[0\]\.asyncExpiryDays: 0 is outside 1-3650"):
        _stack({"asyncExpiryDays": 0}, [{"name": "b", "mode": "async"}])


def test_settings_from_the_parser_are_not_checked_again_but_copies_are(monkeypatch: pytest.MonkeyPatch) -> None:
    settings = _tenant()
    calls: list[EndpointSettings] = []
    original = EndpointSettings.problems

    def counted(self: EndpointSettings) -> list[Any]:
        calls.append(self)
        return original(self)

    monkeypatch.setattr(EndpointSettings, "problems", counted)
    assert settings.validated() is settings and calls == []
    copy = dataclasses.replace(settings, alarm_period_s=30)
    with pytest.raises(SettingsError, match="alarm_period_s: 30 is shorter"):
        copy.validated("q")
    assert calls == [copy]
