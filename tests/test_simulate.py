"""The simulator: calibration against published behaviour, the machinery's rules one at a time,
traffic and trace input, costs, sweeps, and the command as a user runs it."""

from __future__ import annotations

import dataclasses
import json
import subprocess
from pathlib import Path

import numpy as np
import pytest

from sagezero.mechanics import Mechanics
from sagezero.settings import EndpointSettings, Mode
from sagezero.simulate import Client, ClientSettings, SimConfig, compare, run, summarise
from sagezero.simulate import prices as price_table
from sagezero.simulate import traffic as tg
from sagezero.simulate.engine import FAILED, SERVED, WAITED
from sagezero.simulate.scenario import Scenario, ScenarioError, apply, apply_all
from sagezero.simulate.sweep import Point, knee, parse, sweep
from tests.conftest import ROOT, run_cli_at

PRICES = price_table.load()
SEED = EndpointSettings()  # the seed's settings: ml.g5.xlarge, one copy, target 5, cooldowns 300/300/60
MONTH = 30 * tg.DAY


def config(settings: EndpointSettings = SEED, mode: Client = Client.PLAIN) -> SimConfig:
    return SimConfig(settings, PRICES.instance(settings.instance_type), client=ClientSettings(mode=mode))


def isolated_requests(every_s: float = 7200.0, then_s: float | None = None) -> tg.Traffic:
    """One request every `every_s` (each meets an idle endpoint); optionally a second `then_s` later."""
    first = np.arange(1800.0, MONTH, every_s)
    arrivals = np.sort(np.concatenate([first, first + then_s])) if then_s else first
    return tg.Traffic(arrivals, np.full(arrivals.size, 0.2), horizon_s=MONTH)


# ---- calibration: the seed's observations and AWS's published behaviour -------------------------


def test_calibration_cold_start_takes_3_to_6_minutes() -> None:
    """The seed measured 3-6 min from the first failed request to a served one (alarm path)."""
    r = run(config(), isolated_requests())
    user = np.array([w.served - w.first_failure for w in r.wakes if w.served and w.first_failure is not None]) / 60
    assert len(user) == 360
    assert np.percentile(user, 5) >= 3.0 and np.percentile(user, 95) <= 6.0, np.percentile(user, [5, 50, 95])


def test_calibration_zero_copies_answer_errors_at_once() -> None:
    """AWS: at zero copies an invocation fails immediately ("no capacity"); nothing queues."""
    r = run(config(), isolated_requests())
    assert (r.outcome == FAILED).all()
    np.testing.assert_array_equal(r.finished_at, r.traffic.arrivals)
    assert r.no_capacity_answers == r.traffic.arrivals.size


def test_calibration_idle_component_reaches_zero_in_10_to_15_minutes() -> None:
    """FACTS.md: ~10-15 min of idleness to zero copies with the seed's cooldowns."""
    tr = isolated_requests(then_s=480)  # the second request of each pair is served by the woken copy
    r = run(config(), tr)
    t, serving = np.array(r.timeline.t), np.array(r.timeline.serving)
    drops = t[1:][(serving[1:] == 0) & (serving[:-1] > 0)]
    idle = np.array([d - tr.arrivals[tr.arrivals < d].max() for d in drops]) / 60
    assert len(idle) == 360 and (r.outcome[1::2] == SERVED).all()
    assert idle.min() >= 10.0 and idle.max() <= 15.0, (idle.min(), idle.max())


# ---- the machinery, rule by rule ----------------------------------------------------------------


def test_without_the_alarm_firing_nothing_ever_wakes() -> None:
    """An alarm that needs more breaching periods than a lone failure gives never fires: the seed's
    'without pieces 6-7 an endpoint that reached zero copies never wakes up again'."""
    never = EndpointSettings(alarm_evaluation_periods=3, alarm_datapoints=3)
    r = run(config(never), isolated_requests())
    assert r.wakes == [] and r.instance_seconds == 0 and (r.outcome == FAILED).all()


def test_wake_and_retry_turns_failures_into_waits() -> None:
    r = run(config(mode=Client.RETRY), isolated_requests())
    assert (r.outcome == WAITED).all()
    waits = r.wait_s / 60
    assert waits.min() > 2.0 and waits.max() < 6.0


def test_warm_on_login_hides_the_cold_start_when_the_first_request_comes_later() -> None:
    tr = tg.sessions(sessions_per_day=10, first_request_s=0, days=7, seed=3)
    late = tg.Traffic(tr.arrivals + 400.0, tr.service_s, logins=tr.logins, horizon_s=tr.horizon_s + 400)
    r = run(config(mode=Client.WARM), late)
    assert (r.outcome == SERVED).all(), np.bincount(r.outcome)
    assert r.no_capacity_answers == 0


def test_target_tracking_scales_out_under_load_and_back_in() -> None:
    busy = EndpointSettings(max_copies=4, max_instance_count=4)
    day = (0.0,) * 6 + (1.0,) * 12 + (0.0,) * 6
    tr = tg.poisson(requests_per_day=1_000_000, days=1, seed=1, hourly=day)  # ~23 req/s at 200 ms in daytime
    r = run(config(busy, Client.RETRY), tr)
    assert max(r.timeline.serving) == 4, "scales out to max copies under load"
    assert r.timeline.serving[-1] == 0, "and back to zero at night"
    assert max(r.timeline.instances) <= 4


def test_copies_per_instance_come_from_memory_and_accelerators() -> None:
    cpu = EndpointSettings(instance_type="ml.c5.xlarge", accelerators=0, min_memory_mb=2048, max_copies=6,
                           max_instance_count=2)  # fmt: skip
    assert config(cpu).copies_per_instance() == 3  # (8192 - 1024) // 2048
    assert config(cpu).max_copies() == 6
    assert config(SEED).copies_per_instance() == 1  # one GPU, one accelerator per copy
    cores = EndpointSettings(instance_type="ml.c5.xlarge", accelerators=0, min_memory_mb=1024, cpu_cores=2)
    assert config(cores).copies_per_instance() == 2  # 4 vCPU / 2 cores, though memory would fit 7
    big = EndpointSettings(instance_type="ml.c5.xlarge", accelerators=0, min_memory_mb=9000)
    with pytest.raises(ValueError, match="no copy fits"):
        run(config(big), isolated_requests())


def test_always_on_never_waits_and_bills_the_whole_horizon() -> None:
    r = run(config(mode=Client.RETRY), isolated_requests())
    c = compare(r, PRICES)
    assert c.always_on.failed == 0 and c.always_on.waited == 0
    assert c.always_on.instance_hours == pytest.approx(30 * 24)
    assert c.scale_to_zero.cost < c.always_on.cost


def test_serverless_is_priced_only_where_the_model_fits() -> None:
    tr = isolated_requests()
    assert compare(run(config(mode=Client.RETRY), tr), PRICES).serverless.fits is False
    cpu = EndpointSettings(instance_type="ml.c5.xlarge", accelerators=0)
    sl = compare(run(config(cpu, Client.RETRY), tr), PRICES).serverless
    assert sl.fits and sl.cost is not None and sl.cost > 0


def test_same_seed_same_result_different_seed_different_draws() -> None:
    tr = tg.sessions(sessions_per_day=30, days=3, seed=5)
    a, b = run(config(mode=Client.RETRY), tr), run(config(mode=Client.RETRY), tr)
    np.testing.assert_array_equal(a.wait_s, b.wait_s)
    assert a.instance_seconds == b.instance_seconds
    other = SimConfig(SEED, PRICES.instance(SEED.instance_type), client=ClientSettings(Client.RETRY), seed=9)
    assert run(other, tr).instance_seconds != a.instance_seconds


# ---- traffic ------------------------------------------------------------------------------------


def test_generators_follow_their_settings() -> None:
    p = tg.poisson(requests_per_day=10_000, days=7, seed=1, weekend=1.0)
    assert abs(p.arrivals.size / 7 - 10_000) < 300
    assert np.all(np.diff(p.arrivals) >= 0) and p.arrivals.max() < p.horizon_s
    s = tg.sessions(sessions_per_day=50, requests_per_session=10, days=7, seed=1, weekend=1.0)
    assert abs(s.logins.size / 7 - 50) < 10 and abs(s.arrivals.size / s.logins.size - 10) < 1.5
    night = (s.arrivals % tg.DAY) < 5 * 3600
    assert night.mean() < 0.1, "business hours: little before 05:00 UTC"
    with pytest.raises(tg.TrafficError, match="requestsPerDay: expected a number"):
        tg.poisson(requests_per_day=-1)


def test_trace_files_csv_and_jsonl(tmp_path: Path) -> None:
    csv = tmp_path / "t.csv"
    csv.write_text("timestamp,service_ms,tenant,event\n2026-11-24T09:00:00Z,,acme,login\n"
                   "2026-11-24T09:01:00Z,250,acme,request\n1764000000,100,globex,\n2026-11-25T10:00:00,,acme,\n")  # fmt: skip
    t = tg.load_trace(csv, tenant="acme")
    assert t.arrivals.tolist() == [9 * 3600 + 60, tg.DAY + 10 * 3600]
    assert t.service_s.tolist() == [0.25, 0.2] and t.logins.tolist() == [9 * 3600.0] and t.days == 2
    jsonl = tmp_path / "t.jsonl"
    jsonl.write_text('{"timestamp": 100.5, "service_s": 1}\n\n{"timestamp": "1970-01-01T00:00:50Z"}\n')
    j = tg.load_trace(jsonl)
    assert j.arrivals.tolist() == [50.0, 100.5] and j.service_s.tolist() == [0.2, 1.0]


@pytest.mark.parametrize(
    ("name", "text", "error"),
    [
        ("a.csv", "time\n1\n", "expected a CSV header with a 'timestamp' column"),
        ("a.csv", "timestamp\nyesterday\n", "a.csv:2: timestamp 'yesterday' is neither epoch seconds nor ISO 8601"),
        ("a.csv", "timestamp,service_ms\n1,fast\n", "a.csv:2: service_ms 'fast' is not a number"),
        ("a.csv", "timestamp,event\n1,logout\n", "a.csv:2: event 'logout' must be 'request' or 'login'"),
        ("a.jsonl", '{"timestamp": 1}\n[1]\n', "a.jsonl:2: expected a JSON object per line"),
        ("a.jsonl", '{"timestamp": 1\n', "a.jsonl:1: not a JSON object"),
        ("a.csv", "timestamp,event\n1,login\n", "a.csv: no requests"),
        ("a.csv", "timestamp\n1\nnan\n", "a.csv:3: timestamp 'nan' is not a time from 1970 to 9999"),
        ("a.csv", "timestamp\ninf\n", "a.csv:2: timestamp 'inf' is not a time from 1970 to 9999"),
        ("a.csv", "timestamp\n-5\n", "a.csv:2: timestamp '-5' is not a time"),
        ("a.csv", "timestamp,service_ms\n1,2\n3\n", "a.csv:3: 1 field(s), but the header has 2 column(s)"),
        ("a.csv", "timestamp,service_ms\n1,2,3\n", "a.csv:2: 3 field(s), but the header has 2"),
        ("a.csv", "timestamp,service_ms,timestamp\n1,2,3\n", "a.csv:1: column 'timestamp' appears more than once"),
        (
            "a.csv",
            "timestamp\n0\n1\n31708800\n",
            "a.csv:4: this row makes the trace 368 days long, counted from "
            "the first row's day (a.csv:2); the simulator replays at most 366 days",
        ),
        ("a.csv", "timestamp,service_ms\n1,nan\n", "a.csv:2: service_ms 'nan' out of range"),
        ("a.jsonl", '{"timestamp": NaN}\n', "a.jsonl:1: not a JSON object (NaN is not a JSON number)"),
        ("a.jsonl", '{"timestamp": 1e999}\n', "a.jsonl:1: timestamp inf is not a time"),
        ("a.jsonl", '{"timestamp": [1]}\n', "a.jsonl:1: timestamp [1] is neither epoch seconds nor ISO 8601"),
        ("a.jsonl", '{"timestamp": ' + "9" * 400 + "}\n", "a.jsonl:1: timestamp 99999"),
        ("a.csv", "timestamp\n1\n\udcff\n", "a.csv:3: not UTF-8 text (byte 0xff); is it binary?"),
    ],
)
def test_trace_errors_name_file_and_line(tmp_path: Path, name: str, text: str, error: str) -> None:
    path = tmp_path / name
    path.write_bytes(text.encode("utf-8", "surrogateescape"))
    with pytest.raises(tg.TrafficError) as e:
        tg.load_trace(path)
    assert error in str(e.value).replace(str(tmp_path) + "/", ""), str(e.value)
    assert "\n" not in str(e.value) and len(str(e.value)) < 300 + 2 * len(str(path))


def test_a_csv_trace_with_a_blank_line_loads_without_a_numpy_warning(tmp_path: Path) -> None:
    """The fast numeric reader left numpy's 'Input line 3 contained no data' UserWarning on stderr (an
    error under the test suite's warning filter); the row reader now takes such a file."""
    import warnings

    path = tmp_path / "t.csv"
    path.write_text("timestamp,service_ms\n1764000000,100\n\n1764000060,100\n")
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        traffic = tg.load_trace(path)
    assert traffic.arrivals.tolist() == [0.0 + (1764000000 % 86400), 60.0 + (1764000000 % 86400)]


def test_a_folder_is_not_a_trace(tmp_path: Path) -> None:
    with pytest.raises(tg.TrafficError, match="is a folder, expected a trace file"):
        tg.load_trace(tmp_path)


# ---- scenarios, overrides, sweeps ---------------------------------------------------------------


def test_overrides_reach_settings_profile_and_mechanics() -> None:
    s = Scenario("t", SEED, {})
    s = apply(s, "scaleInCooldownS", "600")
    s = apply(s, "holdMinutes", "45")
    s = apply(s, "instance_provision_s", "60..90")
    assert s.settings.scale_in_cooldown_s == 600 and s.client().hold_s == 2700
    assert s.mechanics.instance_provision_s == (60.0, 90.0)
    for key, value, error in [
        ("scaleInCooldownS", "-5", "scaleInCooldownS"),
        ("bogus", "1", "not an endpoint setting, traffic key or mechanics constant"),
        ("instance_provision_s", "9..3", "expected a range lo..hi"),
        ("days", "many", "--set.days: expected a whole number, got 'many'"),
        ("holdMinutes", "nan", "--set holdMinutes: expected finite numbers, got 'nan'"),
        ("deadlineS", "-1", r"--set.deadlineS: expected a number >= 0, got -1"),
        ("instance_provision_s", "1..inf", "--set instance_provision_s: expected finite numbers"),
        ("targetValue", "-inf", "--set targetValue: expected finite numbers"),
        ("modelDataUrl", "s3://" + "a" * 2000, "--set modelDataUrl: a 2,005-character value; at most 1024"),
    ]:
        with pytest.raises(ScenarioError, match=error):
            apply(s, key, value)
    with pytest.raises(ScenarioError, match="poisson traffic has no logins"):
        Scenario("t", SEED, {"kind": "poisson", "client": "warm"}).sim_config(PRICES)


def test_overrides_are_checked_together_and_keep_the_rest() -> None:
    tagged = Scenario("t", EndpointSettings(tags={"team": "a"}, environment={"X": "1"}), {})
    cpu = apply_all(tagged, [("instanceType", "ml.c5.xlarge"), ("accelerators", "0")])
    assert (cpu.settings.instance_type, cpu.settings.accelerators) == ("ml.c5.xlarge", 0)
    assert cpu.settings.tags == {"team": "a"} and cpu.settings.environment == {"X": "1"}
    with pytest.raises(
        ScenarioError, match=r"accelerators: 1 accelerator\(s\) requested .* \(after --set instanceType"
    ):
        apply_all(tagged, [("instanceType", "ml.c5.xlarge")])


def test_sweep_parse_and_knee() -> None:
    assert parse("holdMinutes=0..60:4") == ("holdMinutes", ["0", "20", "40", "60"])
    assert parse("targetValue=1,5,10") == ("targetValue", ["1", "5", "10"])
    for bad in ("holdMinutes", "x=1", "x=5..1:3", "x=1..2:1"):
        with pytest.raises(ScenarioError):
            parse(bad)

    def point(value: str, cost: float, touched: float) -> Point:
        s = summarise(run(config(), isolated_requests(every_s=tg.DAY)), PRICES)
        from dataclasses import replace

        return Point(value, replace(s, cost=cost, requests=100, waited=int(touched * 100), failed=0))

    pts = [point("a", 1, 0.5), point("b", 2, 0.1), point("c", 3, 0.08), point("d", 4, 0.07)]
    assert knee(pts) == 1
    assert knee(pts[:2]) is None


def test_sweep_of_hold_time_trades_cost_for_waits() -> None:
    scenario = Scenario("t", SEED, {"kind": "sessions", "sessionsPerDay": 20, "days": 7, "client": "warm",
                                    "firstRequestS": 300})  # fmt: skip
    points = sweep(scenario, "holdMinutes", ["1", "15", "60", "240"], PRICES)  # warm refuses a hold of 0
    costs = [p.summary.cost for p in points]
    assert costs == sorted(costs)
    assert points[-1].touched < points[0].touched


# ---- the command --------------------------------------------------------------------------------


def sagezero(*args: str, cwd: Path = ROOT) -> subprocess.CompletedProcess[str]:
    """In this process (see `run_cli_at`); test_plan.py runs the entry point in a process of its own."""
    return run_cli_at(*args, cwd=cwd)


def test_cli_simulate_text_json_and_plots(tmp_path: Path) -> None:
    proc = sagezero("simulate", "--days", "3", "--client", "warm", "--png", str(tmp_path / "t.png"),
                    "--html", str(tmp_path / "t.html"))  # fmt: skip
    assert proc.returncode == 0, proc.stderr
    for text in ("sagezero simulate — the seed's settings", "cold starts per day", "always on (min 1)",
                 "cost per 30 days", "serverless: needs an accelerator"):  # fmt: skip
        assert text in proc.stdout
    assert (tmp_path / "t.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    page = (tmp_path / "t.html").read_text()
    assert page.startswith("<!doctype html>") and "<svg" in page and "cold starts per day" in page

    doc = json.loads(sagezero("simulate", "--days", "2", "--traffic", "poisson", "--json").stdout)
    assert doc["traffic"]["requests"] > 0 and doc["scale_to_zero"]["cost"] >= 0
    assert doc["always_on"]["instance_hours"] == pytest.approx(48)
    assert doc["prices"]["date"] == PRICES.date
    # the async column: the same requests, none failed, each touched by a cold start counted once
    assert doc["async"]["requests"] == doc["traffic"]["requests"] == doc["async"]["answered"]
    assert doc["async"]["cold"] <= doc["async"]["requests"] and doc["async"]["cost_per_month"] >= 0
    assert doc["scale_to_zero"]["touched"] >= doc["scale_to_zero"]["failed"]


def test_cli_simulate_compares_the_three_modes_side_by_side() -> None:
    proc = sagezero("simulate", "--days", "2")
    assert proc.returncode == 0, proc.stderr
    header = next(line for line in proc.stdout.splitlines() if "scale to zero" in line and "async" in line)
    assert header.split() == ["scale", "to", "zero", "async", "always", "on", "(min", "1)", "serverless"]
    for row in ("cost per 30 days", "answer p95", "touched by a cold start", "failed", "retried"):
        assert any(line.strip().startswith(row) for line in proc.stdout.splitlines()), row
    assert "woken by HasBacklogWithoutCapacity" in proc.stdout
    without = sagezero("simulate", "--days", "2", "--modes", "scale-to-zero,always-on")
    assert without.returncode == 0 and "woken by" not in without.stdout
    assert "async" not in json.loads(sagezero("simulate", "--days", "1", "--modes", "always-on", "--json").stdout)
    bad = sagezero("simulate", "--modes", "asnyc")
    assert bad.returncode != 0 and "expected a comma-separated list of" in bad.stderr


ASYNC_STACK = """config:
  aws:region: eu-west-1
  aws-native:region: eu-west-1
  sagezero:defaults:
    instanceType: ml.c5.xlarge
    accelerators: 0
    maxInstanceCount: 2
  sagezero:tenants:
    - name: queued
      mode: async
    - name: live
  sagezero:traffic:
    kind: poisson
    requestsPerDay: 300
"""


def test_cli_simulate_an_async_tenant_headlines_its_async_run(tmp_path: Path) -> None:
    """An async-mode tenant's own figures are the async engine's run (headline and column), whatever
    --modes says; a real-time tenant of the same stack keeps the real-time headline."""
    (tmp_path / "Pulumi.yaml").write_text((ROOT / "Pulumi.yaml").read_text())
    (tmp_path / "Pulumi.mixed.yaml").write_text(ASYNC_STACK)
    common = ("simulate", "--stack", "mixed", "--project-dir", str(tmp_path), "--days", "2", "--client", "retry")
    proc = sagezero(*common, "--modes", "scale-to-zero,always-on")
    assert proc.returncode == 0, proc.stderr
    queued, live = proc.stdout.split("sagezero simulate — ")[1:]
    assert "tenant queued" in queued and "tenant live" in live
    assert "HasBacklogWithoutCapacity" in queued.splitlines()[3], "the settings line is the async wiring"
    assert "queued for a cold start" in queued and "served at once" not in queued
    assert "async" in next(line for line in queued.splitlines() if "scale to zero" in line), "never left out"
    assert "served at once" in live and "async" not in next(ln for ln in live.splitlines() if "scale to zero" in ln)
    docs = json.loads(sagezero(*common, "--json").stdout)
    assert [d["headline"] for d in docs] == ["async", "scale_to_zero"]
    assert docs[0]["async"]["answered"] == docs[0]["traffic"]["requests"] > 0
    sweep_async = sagezero(*common, "--tenant", "queued", "--sweep", "scaleInCooldownS=60,600")
    assert sweep_async.returncode != 0 and "asynchronous endpoint" in sweep_async.stderr


def test_the_async_column_of_a_real_time_tenant_does_the_same_work_per_instance() -> None:
    """The async twin runs as many requests at once per instance as the real-time model does (copy
    concurrency x copies an instance holds), not the async setting's default of 4: otherwise the
    columns differ by an assumption, not by the mode. An async tenant keeps its own setting."""
    traffic = tg.poisson(requests_per_day=3000, days=1, seed=3)
    cpu = EndpointSettings(instance_type="ml.c5.xlarge", accelerators=0)
    for copy_concurrency, max_copies in ((1, 1), (3, 1), (2, 2)):
        mech = Mechanics(copy_concurrency=copy_concurrency)
        cfg = SimConfig(dataclasses.replace(cpu, max_copies=max_copies), PRICES.instance(cpu.instance_type), mech)
        q = compare(run(cfg, traffic), PRICES, with_async=True).async_
        assert q is not None and q.concurrency == copy_concurrency * max_copies
    queued = dataclasses.replace(cpu, mode=Mode.ASYNC, alarm_period_s=60, async_max_concurrent_invocations=6)
    cfg = SimConfig(queued, PRICES.instance(cpu.instance_type), Mechanics())
    q = compare(run(cfg, traffic), PRICES, with_async=True).async_
    assert q is not None and q.concurrency == 6


def test_a_sweep_refuses_what_only_the_async_engine_reads() -> None:
    """--sweep replays the real-time engine: an async-only constant would give identical points, and an
    async endpoint would be replayed by the wrong engine."""
    seed = Scenario("seed", EndpointSettings(), {"days": 1})
    with pytest.raises(ScenarioError, match="only the async engine reads it"):
        sweep(seed, "async_tracking_scale_in_datapoints", ["5", "15"], PRICES)
    cpu = Scenario(
        "cpu", EndpointSettings(instance_type="ml.c5.xlarge", accelerators=0, alarm_period_s=60), {"days": 1}
    )
    with pytest.raises(ScenarioError, match="asynchronous endpoint"):
        sweep(cpu, "mode", ["scale-to-zero", "async"], PRICES)


def test_cli_simulate_reads_the_stack_and_sweeps() -> None:
    proc = sagezero("simulate", "--stack", "dev", "--tenant", "globex", "--days", "2",
                    "--sweep", "scaleInCooldownS=60,600,1800")  # fmt: skip
    assert proc.returncode == 0, proc.stderr
    assert "stack dev, tenant globex" in proc.stdout and "ml.c5.xlarge" in proc.stdout
    assert proc.stdout.count(" USD ") >= 3


def test_cli_simulate_replays_each_tenants_rows_of_a_shared_trace(tmp_path: Path) -> None:
    trace = tmp_path / "all.csv"
    trace.write_text("timestamp,tenant\n" + "".join(f"{1764000000 + 60 * i},{'acme' if i % 3 else 'globex'}\n"
                                                       for i in range(300)))  # fmt: skip
    warm = sagezero("simulate", "--stack", "dev", "--traffic", str(trace))
    assert warm.returncode == 2 and "client 'warm' warms on login" in warm.stderr and "has no logins" in warm.stderr
    docs = json.loads(
        sagezero("simulate", "--stack", "dev", "--traffic", str(trace), "--client", "retry", "--json").stdout
    )
    assert {d["label"]: d["traffic"]["requests"] for d in docs} == {
        "stack dev, tenant acme": 200, "stack dev, tenant globex": 100,
    }  # fmt: skip


@pytest.mark.parametrize(
    ("args", "error"),
    [
        (["--set", "nope=1"], "--set nope: not an endpoint setting"),
        (["--set", "maxCopies"], "'maxCopies': expected KEY=VALUE"),
        (["--traffic", "/no/such.csv"], "/no/such.csv: no such file"),
        (["--stack", "dev", "--tenant", "nobody"], "stack 'dev' has no tenant 'nobody'; tenants: acme, globex"),
        (["--stack", "nope"], "Pulumi.nope.yaml: no such stack file; stacks here: dev, prod"),
        (["--tenant", "acme"], "--tenant needs --stack"),
        (["--stack", "dev", "--png", "x.png"], "pick one with --tenant"),
        (["--prices", "/no/prices.json"], "/no/prices.json: no such file"),
        (
            ["--set", "instanceType=ml.zz9.xlarge"],
            "--set instanceType=ml.zz9.xlarge: 'ml.zz9.xlarge' is not one of AWS's",
        ),
        (["--sweep", "holdMinutes=5"], "give 2 to 50 values"),
    ],
)
def test_cli_simulate_bad_input_is_one_line(args: list[str], error: str) -> None:
    proc = sagezero("simulate", "--days", "1", *args)
    assert proc.returncode == 2, (proc.stdout, proc.stderr)
    assert error in proc.stderr and "Traceback" not in proc.stderr, proc.stderr


def test_plan_shows_the_monthly_estimate() -> None:
    proc = sagezero("plan", "--stack", "dev", "--no-policy")
    assert proc.returncode == 0, proc.stderr
    line = proc.stdout.split("Monthly estimate", 1)[1].splitlines()[1]
    assert "/30 days scaling to zero vs" in line and "always on" in line and "2 tenant(s)" in line


def test_price_table_errors(tmp_path: Path) -> None:
    bad = tmp_path / "p.json"
    bad.write_text(json.dumps({"date": "x", "region": "r", "currency": "USD", "source": "s",
                               "instances": {"ml.a.b": {"per_hour": -1}}}))  # fmt: skip
    with pytest.raises(price_table.PriceError, match=r"instances.ml.a.b.per_hour: expected a number >= 0"):
        price_table.load(bad)
    with pytest.raises(price_table.PriceError, match=r"no price for ml\.x\.large"):
        PRICES.instance("ml.x.large")


def test_mechanics_sources_cover_every_constant() -> None:
    from dataclasses import fields

    from sagezero.mechanics import SOURCES

    assert set(SOURCES) == {f.name for f in fields(Mechanics)}
