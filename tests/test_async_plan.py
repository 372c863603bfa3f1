"""`sagezero plan` over a stack with an async tenant: its resources, its wake path drawn like the real-time
one, and AWS's request rules, next to a real-time tenant."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.test_plan import _copy_project, run_cli

pytest.importorskip("pulumi")

STACK = """\
config:
  aws:region: eu-west-1
  aws-native:region: eu-west-1
  sagezero:image:
    uri: 123456789012.dkr.ecr.eu-west-1.amazonaws.com/team/model:v1
  sagezero:defaults:
    instanceType: ml.c5.xlarge
    accelerators: 0
    minMemoryMb: 1024
    kmsKeyArn: arn:aws:kms:eu-west-1:123456789012:key/abc
    tags:
      cost-center: ml
  sagezero:tenants:
    - name: live
    - name: queued
      mode: async
      maxInstanceCount: 2
      asyncNotifications: true
      asyncBacklogTarget: 3
"""


@pytest.fixture(scope="module")
def project(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return _copy_project(tmp_path_factory.mktemp("async"), STACK)


def test_plan_draws_the_async_wake_path(project: Path) -> None:
    proc = run_cli("plan", "--stack", "bad", "--project-dir", str(project))
    assert proc.returncode == 0, proc.stdout + proc.stderr
    out = proc.stdout
    wake = out[out.index("asynchronous endpoint sagezero-bad-queued variant AllTraffic") :].splitlines()[:6]
    assert [line.strip() for line in wake] == [
        "asynchronous endpoint sagezero-bad-queued variant AllTraffic",
        "request queued in S3 at 0 instances -> alarm sagezero-bad-queued-no-capacity: HasBacklogWithoutCapacity "
        "Average >= 1 over 60 s (1 of 1)",
        "-> fires step policy: ChangeInCapacity 1 (cooldown 360 s)",
        "-> scalable target endpoint/sagezero-bad-queued/variant/AllTraffic: 0..2",
        "-> an instance starts and works through the queued requests",
        "idle -> target tracking (3 queued per instance) scales back to 0",
    ]
    assert out.count("wake path complete") == 2, "the real-time tenant's path and the async one"
    assert "inference component sagezero-bad-live-ic" in out
    assert "every request matches AWS's published rules" in out
    assert "public access blocked" in out and "denies requests without TLS" in out
    assert "endpoint/sagezero-bad-queued/variant/AllTraffic instances 0..2" in out
    assert "step +1 instance when alarmed" in out and "target tracking 3 ApproximateBacklogSizePerInstance" in out


def test_plan_json_carries_the_async_path_and_no_native_provider_for_it(project: Path) -> None:
    proc = run_cli("plan", "--stack", "bad", "--project-dir", str(project), "--json")
    assert proc.returncode == 0, proc.stderr
    doc = json.loads(proc.stdout)
    units = {w["unit"]: w for w in doc["wiring"]}
    path = units["asynchronous endpoint sagezero-bad-queued variant AllTraffic"]
    assert path["breaks"] == [] and path["notJudged"] == []
    assert all(path[k] for k in ("alarm", "stepPolicy", "scalableTarget", "targetTracking"))
    assert doc["awsRules"] == []
    queued = [r for r in doc["resources"] if "queued" in r["name"] and r["custom"]]
    assert not [r for r in queued if r["type"].startswith("aws-native:")]


def test_the_monthly_estimate_replays_an_async_tenant_as_a_queue() -> None:
    """An async tenant's estimate is what the async engine bills, not the real-time replay of its settings."""
    from sagezero.simulate import load, monthly_estimate, run, run_async, summarise, summarise_async
    from sagezero.simulate.scenario import Scenario
    from sagezero.stackconfig import parse_stack_config

    traffic = {"kind": "sessions", "sessionsPerDay": 20, "requestsPerSession": 20, "sessionMinutes": 15}
    values = {
        "aws:region": "eu-west-1",
        "aws-native:region": "eu-west-1",
        "sagezero:image": {"uri": "123456789012.dkr.ecr.eu-west-1.amazonaws.com/team/model:v1"},
        "sagezero:defaults": {"instanceType": "ml.c5.xlarge", "accelerators": 0},
        "sagezero:tenants": [{"name": "queued", "mode": "async", "accelerators": 0}],
        "sagezero:traffic": traffic,
    }
    config = parse_stack_config("a", values)
    prices = load()
    estimate = monthly_estimate(config, Path("."), prices)
    scenario = Scenario("x", config.tenants[0].settings, {"tenant": "queued", **traffic})
    cfg = scenario.sim_config(prices)
    queued = summarise_async(run_async(cfg, scenario.checked_traffic()), prices)
    realtime = summarise(run(cfg, scenario.checked_traffic()), prices)
    assert estimate["async_tenants"] == 1
    assert estimate["scale_to_zero"] == pytest.approx(queued.cost_per_month)
    assert queued.cost_per_month != pytest.approx(realtime.cost_per_month), "the two engines must differ here"


ASYNC_ONLY = """\
config:
  aws:region: eu-west-1
  sagezero:image:
    uri: 123456789012.dkr.ecr.eu-west-1.amazonaws.com/team/model:v1
  sagezero:defaults:
    instanceType: ml.c5.xlarge
    kmsKeyArn:
      secure: v1:abc
  sagezero:tenants:
    - name: queued
      mode: async
"""


def test_an_all_async_stack_with_a_secure_key_plans_without_an_aws_native_region(tmp_path: Path) -> None:
    # No inference component, so no aws-native provider to align; the undecryptable key is no key to judge.
    project = _copy_project(tmp_path, ASYNC_ONLY)
    proc = run_cli("plan", "--stack", "bad", "--project-dir", str(project))
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert "asynchronous endpoint sagezero-bad-queued variant AllTraffic" in proc.stdout
    assert "wake path complete" in proc.stdout and "0 mandatory" in proc.stdout
