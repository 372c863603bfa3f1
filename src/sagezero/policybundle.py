"""A self-contained, publishable copy of the policy pack: `python -m sagezero.policybundle OUT_DIR`.

`pulumi policy publish` uploads a pack folder, and the CLI installs its requirements.txt into a
fresh virtualenv wherever the pack runs. sagezero is not on PyPI, so the pack cannot ask for it;
instead the bundle vendors the few pure modules the rules import (`sagezero.wiring`,
`engine_wiring`, `jsonfile` and `sagezero.policies`) next to its `__main__.py` — the Python pack
host runs the folder with `runpy`, which puts it first on `sys.path` — and its requirements.txt
names registry packages only. The repository's `policies/` folder stays the development pack
(it uses the project's virtualenv); the bundle is what gets published.
"""

from __future__ import annotations

import shutil
import sys
from importlib import metadata
from pathlib import Path

import sagezero

PACKAGE = Path(sagezero.__file__).resolve().parent
# The modules outside sagezero.policies that the rules import (pure Python, no Pulumi program code).
VENDORED = ("__init__.py", "wiring.py", "engine_wiring.py", "jsonfile.py")


def pack_yaml() -> str:
    """PulumiPolicy.yaml for the bundle: no virtualenv option, so the CLI builds one from requirements.txt."""
    return (
        "description: SageMaker endpoints that scale to zero must be able to wake up; cost and security guards.\n"
        "runtime: python\n"
        f"version: {metadata.version('sagezero')}\n"
    )


def bundle(out: Path) -> Path:
    """Write the publishable pack to `out` (replaced if it exists) and return it."""
    policies = PACKAGE / "policies"
    if out.exists():
        shutil.rmtree(out)
    (out / "sagezero" / "policies").mkdir(parents=True)
    for name in VENDORED:
        shutil.copyfile(PACKAGE / name, out / "sagezero" / name)
    for source in sorted(policies.glob("*.py")):
        if source.name != "__main__.py":
            shutil.copyfile(source, out / "sagezero" / "policies" / source.name)
    shutil.copytree(policies / "examples", out / "examples")
    shutil.copyfile(policies / "__main__.py", out / "__main__.py")
    shutil.copyfile(policies / "requirements.txt", out / "requirements.txt")
    (out / "PulumiPolicy.yaml").write_text(pack_yaml())
    return out


def main(argv: list[str] | None = None) -> int:
    args = sys.argv[1:] if argv is None else argv
    if len(args) != 1:
        print("usage: python -m sagezero.policybundle OUT_DIR", file=sys.stderr)
        return 2
    out = bundle(Path(args[0]))
    print(f"policy pack written to {out}; publish it with: pulumi policy publish {out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
