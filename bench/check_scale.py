"""Benchmark: `sagezero check` end to end on stack exports of 100, 1,000 and 3,000 tenants.

The export is the prod stack's first tenant as `plan` declares it (inputs and placeholder outputs,
property dependencies), repeated with each name changed, so every tenant is a real, linked wiring.
Each size runs `sagezero check` in a fresh process (imports included, as a user runs it) beside the
floor measured in the same run: a fresh process that only parses the same JSON file.
Usage: .venv/bin/python bench/check_scale.py [sizes...]
"""

from __future__ import annotations

import datetime
import json
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
SIZES = (100, 1000, 3000)


def one_tenant() -> tuple[list[dict[str, Any]], str]:
    from sagezero.plan.engine import run_program

    plan = run_program(ROOT, "prod")
    first = plan.config.tenants[0].name
    out = []
    for r in plan.resources:
        if f"::{first}" not in r.urn and f"-{first}" not in r.urn:
            continue
        out.append({"urn": r.urn, "custom": r.custom, "type": r.type, "inputs": r.inputs, "outputs": r.state,
                    "parent": r.parent, "propertyDependencies": {k: v for k, v in r.property_dependencies.items() if v}})  # fmt: skip
    return out, first


def export(tenants: int, into: Path) -> Path:
    template, name = one_tenant()
    text = json.dumps(template)
    resources: list[Any] = []
    for i in range(tenants):
        resources += json.loads(text.replace(name, f"t{i:05d}"))
    path = into / f"export-{tenants}.json"
    path.write_text(json.dumps({"version": 3, "deployment": {"manifest": {}, "resources": resources}}))
    return path


def seconds(argv: list[str]) -> float:
    t0 = time.perf_counter()
    proc = subprocess.run(argv, capture_output=True, check=False)
    took = time.perf_counter() - t0
    if proc.returncode not in (0, 1):
        raise RuntimeError(proc.stderr.decode()[-2000:])
    return took


def main() -> None:
    sizes = tuple(int(a) for a in sys.argv[1:]) or SIZES
    print(f"# {datetime.date.today()}  {sys.executable} bench/check_scale.py {' '.join(map(str, sizes))}")
    print("| tenants | resources | check (s) | JSON parse floor (s) | ratio |")
    print("|---:|---:|---:|---:|---:|")
    with tempfile.TemporaryDirectory() as d:
        for n in sizes:
            path = export(n, Path(d))
            count = len(json.loads(path.read_text())["deployment"]["resources"])
            check = min(seconds([sys.executable, "-m", "sagezero.cli", "check", str(path)]) for _ in range(2))
            floor = min(
                seconds([sys.executable, "-c", f"import json; json.load(open({str(path)!r}))"]) for _ in range(2)
            )
            print(f"| {n:,} | {count:,} | {check:.2f} | {floor:.2f} | {check / floor:.1f}x |")


if __name__ == "__main__":
    main()
