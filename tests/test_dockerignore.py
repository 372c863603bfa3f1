"""The image tag hashes exactly what Docker sends, by Docker's own .dockerignore rules, and what it builds with."""

from __future__ import annotations

from pathlib import Path

import pytest

pytest.importorskip("docker")

from sagezero.components.inference_image import context_digest, sent_paths

IGNORE = """
# top-level markdown only; sub/README.md is still sent
*.md
**/*.tmp
build
!build/keep.txt
Dockerfile
"""


def make_context(root: Path) -> Path:
    for rel, text in {
        "Dockerfile": "FROM scratch\nCOPY . /ctx\n",
        ".dockerignore": IGNORE,
        "README.md": "top",
        "sub/README.md": "nested",
        "sub/app.py": "print(1)",
        "sub/deep/x.tmp": "scratch",
        "build/out.bin": "artefact",
        "build/keep.txt": "kept",
    }.items():
        (root / rel).parent.mkdir(parents=True, exist_ok=True)
        (root / rel).write_text(text)
    return root


def files(context: Path) -> set[str]:
    return {p for p in sent_paths(context) if (context / p).is_file()}


def test_patterns_match_from_the_context_root_as_docker_does(tmp_path: Path) -> None:
    assert files(make_context(tmp_path)) == {
        ".dockerignore",
        "Dockerfile",  # ignored, yet always sent: the builder needs it
        "sub/README.md",
        "sub/app.py",
        "build/keep.txt",
    }


@pytest.mark.parametrize(
    ("change", "rolls"),
    [
        ("sub/README.md", True),
        ("Dockerfile", True),
        ("build/keep.txt", True),
        ("README.md", False),
        ("build/out.bin", False),
        ("sub/deep/x.tmp", False),
    ],
)
def test_the_tag_changes_exactly_when_docker_would_send_something_else(
    tmp_path: Path, change: str, rolls: bool
) -> None:
    context = make_context(tmp_path)
    before = context_digest(context)
    (context / change).write_text("changed")
    assert (context_digest(context) != before) is rolls


def test_build_arguments_platform_and_dockerfile_are_part_of_the_tag(tmp_path: Path) -> None:
    context = make_context(tmp_path)
    base = context_digest(context, "Dockerfile", "linux/amd64", {"BASE_IMAGE": "a"})
    assert context_digest(context, "Dockerfile", "linux/amd64", {"BASE_IMAGE": "b"}) != base
    assert context_digest(context, "Dockerfile", "linux/arm64", {"BASE_IMAGE": "a"}) != base
    assert context_digest(context, "Dockerfile", "linux/amd64", {"BASE_IMAGE": "a"}) == base
