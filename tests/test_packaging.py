"""Shippable packages: the wheel runs the component from a fresh virtualenv, and the policy pack bundle
runs over gRPC from a folder outside the repository with registry-only requirements."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import sysconfig
import textwrap
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import ROOT, grpc_plugin

pytest.importorskip("pulumi")
grpc = pytest.importorskip("grpc")
pytestmark = pytest.mark.package

from google.protobuf import empty_pb2  # noqa: E402
from pulumi.runtime.proto import analyzer_pb2, analyzer_pb2_grpc  # noqa: E402

from tests.policy_fixtures import component_baseline, mutate  # noqa: E402

ENV = {k: v for k, v in os.environ.items() if not k.startswith(("PYTHON", "VIRTUAL_ENV"))}


def run(cmd: list[str], cwd: Path, timeout: int = 600) -> str:
    proc = subprocess.run(cmd, cwd=cwd, capture_output=True, text=True, timeout=timeout, check=False, env=ENV)
    assert proc.returncode == 0, f"{cmd}: {proc.stdout[-2000:]}\n{proc.stderr[-3000:]}"
    return proc.stdout


def venv(path: Path) -> Path:
    run([sys.executable, "-m", "venv", str(path)], cwd=path.parent)
    return path / "bin" / "python"


PROGRAM = textwrap.dedent(
    """
    import json, sys
    from importlib import metadata
    import sagezero
    from sagezero.components import ScaleToZeroEndpoint
    from sagezero.plan.engine import evaluate

    image = "123456789012.dkr.ecr.eu-west-1.amazonaws.com/m@sha256:" + "a" * 64
    rec = evaluate(lambda: ScaleToZeroEndpoint("acme", {"image_uri": image, "instance_type": "ml.c7i.xlarge"}))
    try:
        evaluate(lambda: ScaleToZeroEndpoint("bare", {}))
        error = ""
    except ValueError as e:
        error = str(e)
    print(json.dumps({"file": sagezero.__file__, "version": metadata.version("sagezero"),
                      "types": sorted(r.type for r in rec.resources), "error": error}))
    """
)


def test_the_wheel_runs_the_component_from_a_fresh_virtualenv(tmp_path: Path) -> None:
    # Built from a copy, so setuptools' build/ and egg-info never land in the checkout.
    source = tmp_path / "source"
    junk = shutil.ignore_patterns(
        ".venv", ".git", "build", "dist", "*.egg-info", "__pycache__", ".*_cache", ".hypothesis"
    )
    shutil.copytree(ROOT, source, symlinks=True, ignore=junk)
    dist = tmp_path / "dist"
    run([sys.executable, "-m", "pip", "wheel", "--no-deps", "-q", "-w", str(dist), str(source)], cwd=tmp_path)
    (wheel,) = dist.glob("sagezero-*.whl")
    python = venv(tmp_path / "venv")
    run([str(python), "-m", "pip", "install", "-q", "--no-deps", str(wheel)], cwd=tmp_path)
    # The Pulumi SDKs are large: the fresh venv borrows them from this one (after its own site-packages,
    # so sagezero itself can only come from the wheel).
    site = Path(run([str(python), "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"], tmp_path).strip())
    (site / "zz_dependencies.pth").write_text(sysconfig.get_paths()["purelib"] + "\n")
    out = json.loads(run([str(python), "-c", PROGRAM], cwd=tmp_path).strip().splitlines()[-1])
    assert out["file"].startswith(str(site)), "sagezero must come from the installed wheel"
    assert "aws-native:sagemaker:InferenceComponent" in out["types"]
    assert "image_context" in out["error"] and "image_uri" in out["error"]
    assert (site / "sagezero" / "components" / "PulumiPlugin.yaml").exists()


@pytest.fixture(scope="module")
def bundled_pack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Any]:
    work = tmp_path_factory.mktemp("pack")
    run([sys.executable, "-m", "sagezero.policybundle", str(work / "built")], cwd=work)
    pack = work / "elsewhere" / "policy-pack"
    shutil.copytree(work / "built", pack)  # out of the repository, as `pulumi policy publish` would upload it
    python = venv(work / "venv")
    run([str(python), "-m", "pip", "install", "-q", "--disable-pip-version-check", "-r", "requirements.txt"], pack)
    with (
        grpc_plugin([str(python), "-u", "-m", "pulumi.policy", "127.0.0.1:9", str(pack)], pack) as address,
        grpc.insecure_channel(address) as channel,
    ):
        yield pack, analyzer_pb2_grpc.AnalyzerStub(channel)


def test_the_bundle_asks_only_the_registry() -> None:
    from sagezero.policybundle import pack_yaml

    requirements = [
        line for line in (ROOT / "policies" / "requirements.txt").read_text().splitlines() if line and line[0] != "#"
    ]
    assert requirements and all("@" not in r and "file:" not in r and "/" not in r for r in requirements)
    assert "virtualenv" not in pack_yaml()


def test_the_bundled_pack_judges_a_stack_over_grpc(bundled_pack: Any) -> None:
    from tests.test_policy_grpc import analyze_stack

    pack, stub = bundled_pack
    assert "file:" not in (pack / "requirements.txt").read_text()
    info = stub.GetAnalyzerInfo(empty_pb2.Empty(), timeout=30)
    from sagezero.policies.pack import POLICIES

    # The bundle carries every policy the repository's pack has (the bundle is built from the same modules).
    assert info.name == "sagezero-scale-to-zero"
    assert sorted(p.name for p in info.policies) == sorted(p.name for p in POLICIES)
    baseline = component_baseline()
    mandatory = [d for d in analyze_stack(stub, baseline) if d.enforcementLevel == analyzer_pb2.MANDATORY]
    assert mandatory == []
    broken = mutate(baseline, "acme-no-capacity", lambda _p: "drop")
    diags = [d.policyName for d in analyze_stack(stub, broken) if d.enforcementLevel == analyzer_pb2.MANDATORY]
    assert diags == ["scale-from-zero-alarm"]
