"""A self-contained, publishable copy of the policy pack: `python -m sagezero.policybundle OUT_DIR`.

`pulumi policy publish` uploads a pack folder, and the CLI installs its requirements.txt into a
fresh virtualenv wherever the pack runs. sagezero is not on PyPI, so the pack cannot ask for it;
instead the bundle vendors the rules and the pure modules they import (found by following the
imports, e.g. `sagezero.wiring`, `engine_wiring`, `jsonfile`) next to its `__main__.py` — the Python pack
host runs the folder with `runpy`, which puts it first on `sys.path` — and its requirements.txt
names registry packages only. The repository's `policies/` folder stays the development pack
(it uses the project's virtualenv); the bundle is what gets published.
"""

from __future__ import annotations

import ast
import shutil
import sys
from importlib import metadata
from pathlib import Path

import sagezero

PACKAGE = Path(sagezero.__file__).resolve().parent


def _module_file(module: str) -> Path | None:
    """The source file of `sagezero.x.y` inside this package (a module or a package's __init__)."""
    parts = module.split(".")[1:]
    base = PACKAGE.joinpath(*parts)
    for candidate in (base.with_suffix(".py"), base / "__init__.py"):
        if parts and candidate.is_file():
            return candidate
    return PACKAGE / "__init__.py" if not parts else None


def _imports(path: Path) -> set[str]:
    """The sagezero modules a file imports (`import sagezero.x`, `from sagezero.x import y`, `from sagezero import x`)."""
    found: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            found |= {a.name for a in node.names if a.name.split(".")[0] == "sagezero"}
        elif isinstance(node, ast.ImportFrom) and node.module and node.module.split(".")[0] == "sagezero":
            found.add(node.module)
            found |= {f"{node.module}.{a.name}" for a in node.names}  # submodules imported by name
    return found


def vendored() -> list[Path]:
    """Every sagezero source file the rules need: the policies, what they import, transitively, and the
    packages' __init__ files on the way. Followed from the code, so a refactor cannot leave one out."""
    todo = sorted((PACKAGE / "policies").glob("*.py"))
    seen: set[Path] = set()
    while todo:
        path = todo.pop()
        if path in seen:
            continue
        seen.add(path)
        rel = path.relative_to(PACKAGE)
        todo += [PACKAGE.joinpath(*rel.parts[:i], "__init__.py") for i in range(len(rel.parts))]
        todo += [f for f in (_module_file(m) for m in _imports(path)) if f is not None]
    return sorted(p for p in seen if p.name != "__main__.py" or p.parent != PACKAGE / "policies")


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
    for source in vendored():
        target = out / "sagezero" / source.relative_to(PACKAGE)
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(source, target)
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
