"""A private Docker daemon and an offline base image for the container tier and the benchmark.

Starts its own dockerd on a socket under /tmp (never touches another daemon), and makes the base
image with debootstrap from the Debian mirror apt already uses. In CI a missing daemon is an error;
on a laptop it is a skip with the reason.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest

ROOT_DIR = Path(os.environ.get("SAGEZERO_DOCKER_DIR", "/tmp/sagezero-docker"))
SOCKET = ROOT_DIR / "docker.sock"
BASE_IMAGE = "local/debian-py:bookworm"


_DAEMON: list[subprocess.Popen[bytes]] = []
"""The daemon this run started: it outlives the tests on purpose (the next run reuses it)."""


class UnavailableError(RuntimeError):
    pass


def _skip_or_fail(reason: str) -> None:
    if os.environ.get("CI", "").lower() in ("1", "true", "yes"):
        pytest.fail(f"container tier cannot run in CI: {reason}")
    pytest.skip(f"container tier skipped: {reason}")


def debian_mirror() -> str:
    for path in [Path("/etc/apt/sources.list"), *sorted(Path("/etc/apt/sources.list.d").glob("*"))]:
        if not path.is_file():
            continue
        text = path.read_text()
        m = re.search(r"^URIs:\s*(\S+/debian)\s*$", text, re.M) or re.search(r"^deb\s+(\S+/debian)\s+\S+", text, re.M)
        if m:
            return m.group(1)
    return "http://deb.debian.org/debian"


def _docker_env() -> dict[str, str]:
    return {**os.environ, "DOCKER_HOST": f"unix://{SOCKET}"}


def _ping() -> bool:
    try:
        return (
            subprocess.run(
                ["docker", "info"], env=_docker_env(), capture_output=True, timeout=20, check=False
            ).returncode
            == 0
        )
    except (OSError, subprocess.TimeoutExpired):
        return False


def ensure_daemon() -> None:
    if _ping():
        return
    dockerd = shutil.which("dockerd")
    if dockerd is None:
        raise UnavailableError("dockerd is not installed (apt-get install docker.io)")
    if os.geteuid() != 0:
        raise UnavailableError("starting dockerd needs root")
    ROOT_DIR.mkdir(parents=True, exist_ok=True)
    with (ROOT_DIR / "dockerd.log").open("ab") as log:  # the daemon keeps its own copy of the descriptor
        _DAEMON.append(
            subprocess.Popen(
                [dockerd, "--host", f"unix://{SOCKET}", "--data-root", str(ROOT_DIR / "data"), "--exec-root",
                 str(ROOT_DIR / "exec"), "--pidfile", str(ROOT_DIR / "dockerd.pid"), "--iptables=false", "--bridge=none"],
                stdout=log, stderr=log, start_new_session=True,
            )
        )  # fmt: skip
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if _ping():
            return
        time.sleep(0.5)
    raise UnavailableError(f"dockerd did not come up; see {ROOT_DIR / 'dockerd.log'}")


def ensure_base_image() -> str:
    env = _docker_env()
    if (
        subprocess.run(["docker", "image", "inspect", BASE_IMAGE], env=env, capture_output=True, check=False).returncode
        == 0
    ):
        return BASE_IMAGE
    if shutil.which("debootstrap") is None:
        raise UnavailableError("debootstrap is not installed (apt-get install debootstrap)")
    rootfs = ROOT_DIR / "rootfs"
    if not (rootfs / "usr/bin/python3").exists():
        shutil.rmtree(rootfs, ignore_errors=True)
        subprocess.run(
            ["debootstrap", "--variant=minbase", "--include=python3,python3-venv", "bookworm", str(rootfs), debian_mirror()],
            check=True, capture_output=True, timeout=900,
        )  # fmt: skip
        for junk in (
            "var/cache/apt/archives",
            "var/lib/apt/lists",
            "usr/share/doc",
            "usr/share/man",
            "usr/share/locale",
        ):
            for child in (rootfs / junk).glob("*"):
                if child.is_dir():
                    shutil.rmtree(child, ignore_errors=True)
                else:
                    child.unlink(missing_ok=True)
    with subprocess.Popen(["tar", "-C", str(rootfs), "-c", "."], stdout=subprocess.PIPE) as tar:
        subprocess.run(
            ["docker", "import", "-", BASE_IMAGE], stdin=tar.stdout, env=env, check=True, capture_output=True
        )
    return BASE_IMAGE


@contextmanager
def docker_host() -> Iterator[str]:
    """DOCKER_HOST set to the private daemon for the duration (restored after)."""
    old = os.environ.get("DOCKER_HOST")
    os.environ["DOCKER_HOST"] = f"unix://{SOCKET}"
    try:
        yield os.environ["DOCKER_HOST"]
    finally:
        if old is None:
            os.environ.pop("DOCKER_HOST", None)
        else:
            os.environ["DOCKER_HOST"] = old


def require() -> str:
    """Daemon up and base image present, or skip/fail with the reason."""
    try:
        ensure_daemon()
        return ensure_base_image()
    except (UnavailableError, subprocess.CalledProcessError, subprocess.TimeoutExpired) as e:
        _skip_or_fail(str(e))
        raise
