"""Mutation spot-checks for the rules: break one line at a time in a scratch copy; a test must fail.

A rule whose line can be broken without any test failing is not yet tested. Runs in a copy of the
tracked files (never the working tree), with the project's interpreter and the copy first on the path.
Usage: .venv/bin/python scripts/mutation_check.py      (about two minutes; not part of CI)
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
TESTS = ["tests/test_rules.py", "tests/test_policies.py", "tests/test_check_cases.py", "tests/test_differential.py"]
MUTATIONS = [
    ("src/sagezero/rules/alarm.py", 'j.breaks.append(("actions-disabled"', 'j.unjudged.append(("actions-disabled"'),
    ("src/sagezero/rules/alarm.py", "if set(dims) != {signal.dimension}:", "if signal.dimension not in dims:"),
    ("src/sagezero/rules/alarm.py", "value != str(signal.value)", "value.lower() != str(signal.value).lower()"),
    ("src/sagezero/rules/alarm.py", "    if idle:\n", "    if False:\n"),
    ("src/sagezero/rules/alarm.py", 'if _breaching(a, model("serving", 0)):', "if False:"),
    ("src/sagezero/rules/alarm.py", "if breaching_periods < m or not one:", "if not one:"),
    ("src/sagezero/rules/alarm.py", 'if a.treat_missing == "ignore" and', "if False and"),
    ("src/sagezero/rules/step.py", "if capacity_from_zero(p, chosen) < 1:", "if capacity_from_zero(p, chosen) < 0:"),
    ("src/sagezero/rules/step.py", "        if chosen is None:\n", "        if chosen is None and False:\n"),
    ("src/sagezero/rules/step.py", "if is_num(p.cooldown) and p.cooldown > max_cooldown_s:", "if False:"),
    ("src/sagezero/rules/step.py", "(lo < delta <= hi) if below else (lo <= delta < hi)", "lo <= delta < hi"),
    ("src/sagezero/rules/wake.py", "elif target.scale_out_suspended:", "elif False:"),
    ("src/sagezero/rules/wake.py", "elif target.scale_in_suspended:", "elif False:"),
    ("src/sagezero/rules/wake.py", "elif is_num(high) and high < 1:", "elif False:"),
    ("src/sagezero/rules/wake.py", "        if step.arn in known:\n", "        if True:\n"),
    ("src/sagezero/rules/wake.py", "if self.conditional:", "if False:"),
    ("src/sagezero/rules/wake.py", "                pending += hidden", "                maybe += hidden"),
    ("src/sagezero/rules/wake.py", "    if raising and not lowering:", "    if False:"),
    ("src/sagezero/rules/wake.py", "if isinstance(mine, str) and isinstance(theirs, str) and mine != theirs:", "if False:"),
    ("src/sagezero/rules/judge.py", "        elif is_num(t.min_capacity) and t.min_capacity == 0:", "        elif False:"),
    ("src/sagezero/rules/judge.py", '    _safely(v, (WAKE,), "", lambda: _orphans(w, used, v))', "    pass"),
    ("src/sagezero/rules/capacity.py", "if (is_num(v.mis_min) and v.mis_min != 0)", "if False and (is_num(v.mis_min) and v.mis_min != 0)"),
    ("src/sagezero/engine_wiring.py", '"shadowProductionVariants", True', '"shadowVariantsTypo", True'),
]  # fmt: skip


def main() -> int:
    with tempfile.TemporaryDirectory() as tmp:
        scratch = Path(tmp) / "copy"
        files = subprocess.run(["git", "ls-files", "-z"], cwd=ROOT, capture_output=True, check=True).stdout
        for rel in filter(None, files.decode().split("\0")):
            src, dst = ROOT / rel, scratch / rel
            dst.parent.mkdir(parents=True, exist_ok=True)
            if src.is_symlink():
                dst.symlink_to(os.readlink(src))
            elif src.is_file():
                shutil.copy2(src, dst)
        env = {
            **os.environ,
            "PYTHONPATH": f"{scratch / 'src'}{os.pathsep}{scratch}",
            "SAGEZERO_DIFFERENTIAL_EXAMPLES": "60",
        }
        survivors = 0
        for path, old, new in MUTATIONS:
            f = scratch / path
            text = f.read_text()
            if text.count(old) != 1:
                print(f"STALE    {path}: {old.strip()[:60]!r} is not in the file once; update this list")
                survivors += 1
                continue
            f.write_text(text.replace(old, new))
            run = subprocess.run([sys.executable, "-m", "pytest", "-x", "-q", "-n", "2", "-p", "no:cacheprovider", *TESTS],
                                 cwd=scratch, env=env, capture_output=True, text=True, check=False)  # fmt: skip
            f.write_text(text)
            caught = run.returncode != 0
            survivors += not caught
            print(f"{'caught  ' if caught else 'SURVIVED'} {path}: {old.strip()[:70]}", flush=True)
        print(f"{len(MUTATIONS) - survivors} of {len(MUTATIONS)} mutations caught")
        return 1 if survivors else 0


if __name__ == "__main__":
    raise SystemExit(main())
