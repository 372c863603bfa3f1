"""`sagezero simulate --export`: what a stack actually holds, replayed, hand-built wirings included."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

pytest.importorskip("pulumi")

from sagezero.cli import main
from tests.policy_fixtures import async_baseline, mutate, native_baseline, two_tenants
from tests.test_check_cases import export_doc


def simulate(tmp_path: Path, capsys: pytest.CaptureFixture[str], resources: list, *flags: str) -> tuple[int, str, str]:  # type: ignore[type-arg]
    path = tmp_path / "state.json"
    path.write_text(json.dumps(export_doc(resources)))
    try:
        code = main(["simulate", "--export", str(path), "--days", "2", "--client", "plain", "--json", *flags])
    except SystemExit as e:
        code = int(e.code or 0)
    out, err = capsys.readouterr()
    return code, out, err


def test_each_tenant_replays_its_own_wiring(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    stack = mutate(two_tenants(), "globex-no-capacity", lambda p: "drop")
    code, out, err = simulate(tmp_path, capsys, stack)
    assert code == 0, err
    docs = {d["label"].split(" ")[0]: d for d in json.loads(out)}
    assert set(docs) == {"acme-dev-ic", "globex-dev-ic"}
    acme, globex = docs["acme-dev-ic"]["scale_to_zero"], docs["globex-dev-ic"]["scale_to_zero"]
    assert globex["failed"] == globex["requests"] > 0, "no alarm: at zero it never wakes"
    assert globex["instance_hours"] == 0
    assert docs["globex-dev-ic"]["machinery"]["alarm"] is None
    assert acme["served"] > 0 and acme["failed"] < acme["requests"]


def test_a_hand_built_stack_and_one_tenant(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, out, err = simulate(tmp_path, capsys, native_baseline(), "--tenant", "byhand-ic")
    assert code == 0, err
    assert json.loads(out)["scale_to_zero"]["served"] > 0
    slow = mutate(native_baseline(), "wake", lambda p: p["stepScalingPolicyConfiguration"].update(cooldown=3600.0))
    code, out, _ = simulate(tmp_path, capsys, slow, "--tenant", "byhand-ic")
    assert json.loads(out)["scale_to_zero"]["failed"] > 0


def test_an_async_endpoint_is_replayed_by_the_async_engine(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """An export holding an asynchronous endpoint is simulated (not "no inference component in it"),
    its own wiring replayed by the async engine and shown as the headline."""
    code, out, err = simulate(tmp_path, capsys, async_baseline())
    assert code == 0, err
    doc = json.loads(out)
    assert doc["headline"] == "async" and doc["label"].startswith("queued/AllTraffic")
    assert doc["async_machinery"]["alarm"]["evaluation_periods"] == 2, "the deployed alarm, not the settings'"
    assert doc["async_machinery"]["concurrency"] == 4, "MaxConcurrentInvocationsPerInstance not set: the default"
    one = mutate(async_baseline(), "aconfig",
                 lambda p: p["asyncInferenceConfig"].update(clientConfig={"maxConcurrentInvocationsPerInstance": 1.0}))  # fmt: skip
    code, out, err = simulate(tmp_path, capsys, one)
    assert code == 0, err
    assert json.loads(out)["async_machinery"]["concurrency"] == 1, "read from the endpoint config"
    assert doc["async"]["answered"] == doc["traffic"]["requests"] > 0
    code, out, err = simulate(
        tmp_path, capsys, mutate(async_baseline(), "aalarm", lambda p: "drop"), "--tenant", "queued"
    )
    assert code == 0, err
    assert json.loads(out)["async"]["woken_by"].startswith("target tracking alone")


def test_an_async_endpoint_without_target_tracking_gives_strict_json(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """No tracking policy: no backlog target — not `Infinity`, which is not JSON."""

    def strict(constant: str) -> None:
        raise AssertionError(f"{constant} in --json output")

    code, out, err = simulate(tmp_path, capsys, mutate(async_baseline(), "atracking", lambda p: "drop"))
    assert code == 0, err
    assert json.loads(out, parse_constant=strict)["async"]["backlog_target"] is None


@pytest.mark.parametrize(
    ("flags", "says"),
    [
        (("--set", "stepCooldownS=300"), "replays its deployed wiring"),
        (("--tenant", "nobody"), "nothing named 'nobody' to simulate"),
        (("--stack", "dev"), "two sources of tenants"),
    ],
)
def test_bad_uses_are_one_line(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], flags: tuple[str, ...], says: str
) -> None:
    code, out, err = simulate(tmp_path, capsys, native_baseline(), *flags)
    assert code == 2 and out == "" and says in err and err.count("\n") == 1, err


def test_a_metric_math_alarm_is_refused_with_the_reason(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    from tests.wiring_cases import _math

    code, _, err = simulate(tmp_path, capsys, mutate(native_baseline(), "alarm", _math("FILL(m1, 0)")))
    assert code == 2 and "metric-math alarm" in err
