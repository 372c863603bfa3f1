"""Proof against Docker itself: the files a real build puts in the image are exactly those the tag hashes."""

from __future__ import annotations

from pathlib import Path

import pytest

from sagezero import localdocker
from sagezero.components.inference_image import context_digest, sent_paths
from tests import docker_env

pytestmark = pytest.mark.container

IGNORE = """
*.md
**/*.tmp
build
!build/keep.txt
**/__pycache__
"""
FILES = {
    "README.md": "top",
    "sub/README.md": "nested",
    "sub/app.py": "print(1)",
    "sub/deep/x.tmp": "scratch",
    "sub/__pycache__/app.cpython-311.pyc": "bytecode",
    "build/out.bin": "artefact",
    "build/keep.txt": "kept",
    "notes.md.txt": "not markdown",
}


def test_the_image_holds_exactly_what_the_tag_hashes(tmp_path: Path) -> None:
    base = docker_env.require()
    context = tmp_path / "ctx"
    for rel, text in FILES.items():
        (context / rel).parent.mkdir(parents=True, exist_ok=True)
        (context / rel).write_text(text)
    (context / ".dockerignore").write_text(IGNORE)
    (context / "Dockerfile").write_text("ARG BASE_IMAGE\nFROM ${BASE_IMAGE}\nCOPY . /ctx\n")
    tag = f"sagezero-dockerignore:{context_digest(context)[:16]}"
    with docker_env.docker_host():
        localdocker.build(context, tag, base_image=base)
        listed = localdocker.docker("run", "--rm", "--network", "none", tag, "find", "/ctx", "-type", "f")
        localdocker.docker("image", "rm", "-f", tag, check=False)
    in_image = {line.removeprefix("/ctx/") for line in listed.split()}
    hashed = {p for p in sent_paths(context) if (context / p).is_file()}
    assert in_image == hashed
    assert in_image == {".dockerignore", "Dockerfile", "sub/README.md", "sub/app.py", "build/keep.txt", "notes.md.txt"}
