"""Benchmark: `sagezero simulate` on a 30-day trace of 1 million requests (goal: under 5 s).

Writes a 1,000,000-row CSV trace (Poisson, business hours, 4 copies on up to 4 instances so the
machinery works: scale-out by day, scale to zero at night), then times, in this process:
loading the trace, one simulation, the always-on comparison run, and the async engine on the same
traffic (min of three, interleaved with the real-time engine, so the ratio is from one run); and,
in a fresh process as a user runs it, the whole command (`sagezero simulate --traffic FILE`),
imports included.
The reference measured in the same run is the floor any simulator pays: reading the CSV.
Usage: .venv/bin/python bench/simulate_month.py
"""

from __future__ import annotations

import datetime
import json
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

from sagezero.settings import EndpointSettings
from sagezero.simulate import Client, ClientSettings, SimConfig, compare, run
from sagezero.simulate import prices as price_table
from sagezero.simulate import traffic as tg
from sagezero.simulate.async_engine import run_async

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
REQUESTS = 1_000_000
DAYS = 30
SETTINGS = EndpointSettings(max_copies=4, max_instance_count=4)


def write_trace(path: Path) -> int:
    t = tg.poisson(requests_per_day=REQUESTS / DAYS / 0.8, days=DAYS, seed=7)  # weekends at 0.3 of weekdays
    t = tg.Traffic(t.arrivals[:REQUESTS], t.service_s[:REQUESTS], horizon_s=t.horizon_s)
    start = datetime.datetime(2026, 11, 1, tzinfo=datetime.UTC).timestamp()
    with path.open("w") as f:
        f.write("timestamp,service_ms\n")
        for a, s in zip((t.arrivals + start).tolist(), (t.service_s * 1000).tolist(), strict=True):
            f.write(f"{a:.3f},{s:.1f}\n")
    return int(t.arrivals.size)


def main() -> None:
    prices = price_table.load()
    with tempfile.TemporaryDirectory() as tmp:
        trace = Path(tmp) / "month.csv"
        rows = write_trace(trace)
        t0 = time.perf_counter()
        traffic = tg.load_trace(trace)
        load_s = time.perf_counter() - t0
        cfg = SimConfig(SETTINGS, prices.instance(SETTINGS.instance_type), client=ClientSettings(Client.RETRY))
        t0 = time.perf_counter()
        result = run(cfg, traffic)
        sim_s = time.perf_counter() - t0
        t0 = time.perf_counter()
        comparison = compare(result, prices)
        compare_s = time.perf_counter() - t0
        rt_times, async_times = [], []
        for _ in range(3):
            t0 = time.perf_counter()
            run(cfg, traffic)
            rt_times.append(time.perf_counter() - t0)
            t0 = time.perf_counter()
            queued = run_async(cfg, traffic)
            async_times.append(time.perf_counter() - t0)
        cmd = [sys.executable, "-m", "sagezero.cli", "simulate", "--traffic", str(trace),
               "--set", "maxCopies=4", "--set", "maxInstanceCount=4", "--json"]  # fmt: skip
        t0 = time.perf_counter()
        proc = subprocess.run(cmd, capture_output=True, text=True, check=True, cwd=ROOT)
        cli_s = time.perf_counter() - t0
    doc = json.loads(proc.stdout)
    z = comparison.scale_to_zero
    out = {
        "date": datetime.date.today().isoformat(),
        "command": "bench/simulate_month.py",
        "requests": rows,
        "days": DAYS,
        "trace_load_s": round(load_s, 3),
        "simulate_s": round(sim_s, 3),
        "per_request_us": round(sim_s / rows * 1e6, 2),
        "simulate_vs_trace_load": round(sim_s / load_s, 2),
        "always_on_comparison_s": round(compare_s, 3),
        "cli_end_to_end_s": round(cli_s, 3),
        "realtime_min_of_3_s": round(min(rt_times), 3),
        "async_min_of_3_s": round(min(async_times), 3),
        "async_vs_realtime": round(min(async_times) / min(rt_times), 2),
        "async_answered": int(queued.answered_at.size - queued.unanswered),
        "async_instance_hours": round(queued.instance_seconds / 3600, 1),
        "async_peak_instances": queued.peak_instances,
        "served": z.served,
        "waited": z.waited,
        "failed": z.failed,
        "max_copies_seen": max(result.timeline.serving),
        "cold_starts_per_day": round(z.cold_starts_per_day, 2),
        "instance_hours": round(z.instance_hours, 1),
        "cost_usd": round(z.cost, 2),
        "always_on_cost_usd": round(comparison.always_on.cost, 2),
        "cli_cost_usd": round(doc["scale_to_zero"]["cost"], 2),
        "python": sys.version.split()[0],
        "numpy": np.__version__,
    }
    (HERE / "results").mkdir(exist_ok=True)
    (HERE / "results" / "simulate_month.json").write_text(json.dumps(out, indent=2) + "\n")
    print(json.dumps(out, indent=2))


if __name__ == "__main__":
    main()
