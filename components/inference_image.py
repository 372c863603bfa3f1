"""The inference image: a private ECR repository and the image built from a Docker context and pushed to it.

Tags are the build context's content hash (the repository is tag-immutable), and consumers get the
digest-pinned reference, so a changed context rolls every endpoint that uses it. Never reads stack config.
"""

import fnmatch
import hashlib
import json
import os
from collections.abc import Mapping
from pathlib import Path
from typing import NotRequired, TypedDict

import pulumi
import pulumi_aws as aws
import pulumi_docker as docker

TYPE_TOKEN = "sagezero:index:InferenceImage"
# Not part of the image's behaviour; hashing them would roll endpoints for nothing.
_SKIP_DIRS = {"__pycache__", ".git", ".pytest_cache", ".mypy_cache", ".ruff_cache"}
_SKIP_SUFFIXES = (".pyc", ".pyo")


def default_context() -> Path | None:
    """The `image/` folder of the sagezero checkout this package was installed from, when present."""
    candidate = Path(__file__).resolve().parent.parent / "image"
    return candidate if (candidate / "Dockerfile").exists() else None


def _ignored(rel: str, patterns: list[str]) -> bool:
    """Whether .dockerignore keeps `rel` out of the build (plain and ** globs; `!` exceptions honoured)."""
    ignored = False
    for pattern in patterns:
        negate = pattern.startswith("!")
        pat = pattern[1:] if negate else pattern
        pat = pat.strip("/").removeprefix("**/")
        if fnmatch.fnmatch(rel, pat) or fnmatch.fnmatch(rel, f"{pat}/*") or fnmatch.fnmatch(Path(rel).name, pat):
            ignored = not negate
    return ignored


def context_digest(context: Path) -> str:
    """sha256 over the relative path and bytes of every file Docker would send, in a stable order."""
    ignore_file = context / ".dockerignore"
    patterns = [
        line.strip() for line in (ignore_file.read_text().splitlines() if ignore_file.exists() else [])
        if line.strip() and not line.startswith("#")
    ]  # fmt: skip
    h = hashlib.sha256()
    for root, dirs, files in os.walk(context):
        dirs[:] = sorted(d for d in dirs if d not in _SKIP_DIRS)
        for name in sorted(files):
            path = Path(root, name)
            if name.endswith(_SKIP_SUFFIXES) or _ignored(path.relative_to(context).as_posix(), patterns):
                continue
            h.update(path.relative_to(context).as_posix().encode() + b"\0")
            h.update(path.read_bytes())
            h.update(b"\0")
    return h.hexdigest()


class InferenceImageArgs(TypedDict):
    """Arguments for an InferenceImage."""

    context: NotRequired[str]
    """Docker build context holding a Dockerfile. Default: the `image/` folder shipped with sagezero."""
    dockerfile: NotRequired[str]
    """Dockerfile path relative to the context. Default: `Dockerfile`."""
    platform: NotRequired[str]
    """Target platform of the build. Default: `linux/amd64` (SageMaker hosts)."""
    build_args: NotRequired[dict[str, str]]
    """Docker build arguments (for example BASE_IMAGE)."""
    retain_images: NotRequired[int]
    """How many images the ECR lifecycle policy keeps. Default: 10."""
    tags: NotRequired[pulumi.Input[Mapping[str, pulumi.Input[str]]]]
    """Tags on the ECR repository."""


class InferenceImage(pulumi.ComponentResource):
    """ECR repository (scan on push, immutable tags, lifecycle) plus the image built and pushed to it."""

    image_uri: pulumi.Output[str]
    """Digest-pinned reference of the pushed image (`<repo>@sha256:...`)."""
    repository_url: pulumi.Output[str]
    """URL of the ECR repository."""
    repository_arn: pulumi.Output[str]
    """ARN of the ECR repository, for least-privilege pull grants."""
    context_digest: pulumi.Output[str]
    """Content hash of the build context, used as the immutable tag."""

    def __init__(self, name: str, args: InferenceImageArgs, opts: pulumi.ResourceOptions | None = None) -> None:
        super().__init__(TYPE_TOKEN, name, {}, opts)
        context = Path(args["context"]) if "context" in args else default_context()
        if context is None:
            # An installed wheel carries the server package but not the image's build context.
            raise ValueError(
                f"InferenceImage {name!r}: no build context given and this installation of sagezero has no "
                "image/ folder (it ships only in a source checkout); pass `context` here, or on the endpoint "
                "`image_context` (a folder with a Dockerfile) or an existing `image_uri`"
            )
        if not (context / args.get("dockerfile", "Dockerfile")).is_file():
            raise ValueError(
                f"InferenceImage {name!r}: build context {str(context)!r} has no "
                f"{args.get('dockerfile', 'Dockerfile')}; pass `context` (on the endpoint: `image_context`) "
                "pointing at a folder with one, or give the endpoint an existing `image_uri` instead"
            )
        retain = args.get("retain_images", 10)
        if not 1 <= retain <= 1000:
            raise ValueError(f"InferenceImage {name!r}: retain_images {retain} is outside 1-1000")
        digest = context_digest(context)
        child = pulumi.ResourceOptions(parent=self)

        repo = aws.ecr.Repository(
            f"{name}-repo",
            image_scanning_configuration={"scan_on_push": True},
            image_tag_mutability="IMMUTABLE",
            encryption_configurations=[{"encryption_type": "AES256"}],
            tags=pulumi.Output.from_input(args.get("tags") or {}).apply(lambda t: {"managed-by": "sagezero", **t}),
            opts=child,
        )
        aws.ecr.LifecyclePolicy(
            f"{name}-lifecycle",
            repository=repo.name,
            policy=json.dumps(
                {
                    "rules": [
                        {
                            "rulePriority": 1,
                            "description": f"keep the last {retain} images",
                            "selection": {"tagStatus": "any", "countType": "imageCountMoreThan", "countNumber": retain},
                            "action": {"type": "expire"},
                        }
                    ]
                }
            ),
            opts=child,
        )
        token = aws.ecr.get_authorization_token_output(
            registry_id=repo.registry_id, opts=pulumi.InvokeOptions(parent=self)
        )
        image = docker.Image(
            f"{name}-image",
            image_name=pulumi.Output.concat(repo.repository_url, ":", digest[:16]),
            build={
                "context": str(context),
                "dockerfile": str(context / args.get("dockerfile", "Dockerfile")),
                "platform": args.get("platform", "linux/amd64"),
                "args": args.get("build_args", {}),
            },
            registry={
                "server": repo.repository_url,
                "username": token.user_name,
                "password": pulumi.Output.secret(token.password),
            },
            opts=child,
        )
        self.image_uri = image.repo_digest
        self.repository_url = repo.repository_url
        self.repository_arn = repo.arn
        self.context_digest = pulumi.Output.from_input(digest)
        self.register_outputs(
            {
                "image_uri": self.image_uri,
                "repository_url": self.repository_url,
                "repository_arn": self.repository_arn,
                "context_digest": self.context_digest,
            }
        )
