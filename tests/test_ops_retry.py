"""One retry layer: botocore's mode set explicitly, and no botocore retries under invoke's own loop."""

from __future__ import annotations

import pytest
from botocore.config import Config

from sagezero.ops.target import CONTROL_RETRIES, RUNTIME_RETRIES, AwsClients


@pytest.fixture
def clients(monkeypatch: pytest.MonkeyPatch) -> AwsClients:
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
    monkeypatch.delenv("AWS_RETRY_MODE", raising=False)
    monkeypatch.delenv("AWS_MAX_ATTEMPTS", raising=False)
    return AwsClients.create(region="eu-west-1", config=Config(connect_timeout=3))


def test_control_plane_clients_use_standard_mode_explicitly(clients: AwsClients) -> None:
    for client in (clients.sagemaker, clients.autoscaling, clients.cloudwatch):
        retries = client.meta.config.retries
        assert retries["mode"] == "standard" and retries["total_max_attempts"] == CONTROL_RETRIES["total_max_attempts"]


def test_invocations_are_retried_only_by_invoke(clients: AwsClients) -> None:
    retries = clients.runtime.meta.config.retries
    assert retries["mode"] == RUNTIME_RETRIES["mode"] and retries["total_max_attempts"] == 1


def test_a_callers_config_is_kept(clients: AwsClients) -> None:
    assert clients.runtime.meta.config.connect_timeout == 3
