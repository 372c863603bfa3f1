"""Benchmark: the offline plan for 1, 10 and 100 tenants, and the policy pack over gRPC on the 100-tenant stack.

Plan: the real program under the mock engine, in a fresh process per size (imports included, as a
user runs `sagezero plan`), and the evaluation alone in process; growth is fitted per tenant.
Policy: the pack started as the Pulumi CLI starts it; Configure, Analyze for every resource and
AnalyzeStack, timed end to end over loopback gRPC.
Usage: .venv/bin/python bench/plan_and_policy.py
"""

from __future__ import annotations

import datetime
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import yaml

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
SIZES = (1, 10, 100)


def project_with(tenants: int, into: Path) -> Path:
    for name in ("Pulumi.yaml", "__main__.py"):
        shutil.copy(ROOT / name, into / name)
    shutil.copytree(ROOT / "image", into / "image", ignore=shutil.ignore_patterns("__pycache__"))
    doc = yaml.safe_load((ROOT / "Pulumi.prod.yaml").read_text())
    doc["config"]["sagezero:tenants"] = [{"name": f"tenant-{i:03d}"} for i in range(tenants)]
    doc["config"]["sagezero:defaults"]["maxCopies"] = 2
    (into / "Pulumi.bench.yaml").write_text(yaml.safe_dump(doc))
    return into


def cli_seconds(project: Path) -> float:
    t0 = time.perf_counter()
    proc = subprocess.run(
        [sys.executable, "-m", "sagezero.cli", "plan", "--stack", "bench", "--project-dir", str(project), "--json"],
        capture_output=True, check=False,
    )  # fmt: skip
    took = time.perf_counter() - t0
    if proc.returncode != 0:
        raise RuntimeError(proc.stderr.decode()[-2000:])
    return took


def in_process_seconds(project: Path) -> tuple[float, list[Any]]:
    from sagezero.plan.engine import run_program

    t0 = time.perf_counter()
    plan = run_program(project, "bench")
    return time.perf_counter() - t0, plan.resources


def slope(xs: list[float], ys: list[float]) -> tuple[float, float]:
    n = len(xs)
    mx, my = sum(xs) / n, sum(ys) / n
    b = sum((x - mx) * (y - my) for x, y in zip(xs, ys, strict=True)) / sum((x - mx) ** 2 for x in xs)
    return b, my - b * mx


def policy_over_grpc(resources: list[Any]) -> dict[str, float]:
    import grpc
    from google.protobuf import struct_pb2
    from pulumi.runtime.proto import analyzer_pb2, analyzer_pb2_grpc

    def struct(props: dict[str, Any]) -> struct_pb2.Struct:
        s = struct_pb2.Struct()
        s.update(props)
        return s

    items = [r for r in resources if r.custom]
    t_start = time.perf_counter()
    proc = subprocess.Popen(
        [sys.executable, "-u", "-m", "pulumi.policy", "127.0.0.1:9", str(ROOT / "policies")],
        stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True,
    )  # fmt: skip
    try:
        assert proc.stdout is not None
        port = proc.stdout.readline().strip()
        t_up = time.perf_counter()
        with grpc.insecure_channel(f"127.0.0.1:{port}") as ch:
            stub = analyzer_pb2_grpc.AnalyzerStub(ch)
            stub.Configure(analyzer_pb2.ConfigureAnalyzerRequest(policyConfig={}), timeout=60)
            t0 = time.perf_counter()
            diagnostics = 0
            for r in items:
                req = analyzer_pb2.AnalyzeRequest(type=r.type, properties=struct(r.state), urn=r.urn, name=r.name)
                diagnostics += len(stub.Analyze(req, timeout=60).diagnostics)
            t1 = time.perf_counter()
            stack = analyzer_pb2.AnalyzeStackRequest(
                resources=[
                    analyzer_pb2.AnalyzerResource(
                        type=r.type, properties=struct(r.state), urn=r.urn, name=r.name, parent=r.parent or "",
                        propertyDependencies={k: analyzer_pb2.AnalyzerPropertyDependencies(urns=v)
                                              for k, v in r.property_dependencies.items() if v},
                    )
                    for r in items
                ]
            )  # fmt: skip
            diagnostics += len(stub.AnalyzeStack(stack, timeout=120).diagnostics)
            t2 = time.perf_counter()
    finally:
        proc.terminate()
        proc.wait(timeout=10)
    return {
        "resources": len(items),
        "pack_start_s": t_up - t_start,
        "analyze_all_s": t1 - t0,
        "analyze_stack_s": t2 - t1,
        "total_s": t2 - t0,
        "diagnostics": diagnostics,
    }


def main() -> None:
    sys.path.insert(0, str(ROOT))
    result: dict[str, Any] = {"date": datetime.date.today().isoformat(), "command": "python bench/plan_and_policy.py",
                              "cores": os.cpu_count(), "plan": {}}  # fmt: skip
    resources_100: list[Any] = []
    with tempfile.TemporaryDirectory() as tmp:  # warm-up: imports are paid once, not by the first size
        in_process_seconds(project_with(1, Path(tmp)))
    for n in SIZES:
        with tempfile.TemporaryDirectory() as tmp:
            project = project_with(n, Path(tmp))
            cli = cli_seconds(project)
            inproc, resources = in_process_seconds(project)
            result["plan"][n] = {"cli_s": cli, "evaluate_s": inproc, "resources": len(resources)}
            print(f"plan {n:>3} tenants: {len(resources):>5} resources, CLI {cli:6.2f} s, evaluation {inproc:6.2f} s")
            if n == 100:
                resources_100 = resources
    per_tenant = {n: result["plan"][n]["evaluate_s"] / n for n in SIZES}
    b, a = slope([float(n) for n in SIZES], [result["plan"][n]["evaluate_s"] for n in SIZES])
    result["plan_fit"] = {"seconds_per_tenant_fit": b, "intercept_s": a, "seconds_per_tenant": per_tenant}
    print(
        "plan growth: "
        + ", ".join(f"{per_tenant[n] * 1000:.0f} ms/tenant at {n}" for n in SIZES)
        + f"; least-squares {b * 1000:.1f} ms per tenant"
    )
    result["policy"] = policy_over_grpc(resources_100)
    p = result["policy"]
    print(
        f"policy over gRPC, {p['resources']} resources: Analyze x{p['resources']} {p['analyze_all_s']:.2f} s + "
        f"AnalyzeStack {p['analyze_stack_s']:.2f} s = {p['total_s']:.2f} s (pack start {p['pack_start_s']:.2f} s)"
    )
    out = HERE / "results" / "plan_and_policy.json"
    out.parent.mkdir(exist_ok=True)
    out.write_text(json.dumps(result, indent=2))


if __name__ == "__main__":
    main()
