"""The inference image: a private ECR repository and the image built from a Docker context and pushed to it.

Tags are the build context's content hash (the repository is tag-immutable), and consumers get the
digest-pinned reference, so a changed context rolls every endpoint that uses it. Never reads stack config.
"""

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


def default_context() -> Path | None:
    """The `image/` folder of the sagezero checkout this package was installed from, when present."""
    candidate = Path(__file__).resolve().parent.parent / "image"
    return candidate if (candidate / "Dockerfile").exists() else None


def dockerignore_patterns(context: Path) -> list[str]:
    """The patterns of `context/.dockerignore`, as Docker reads them (comments and blank lines dropped)."""
    ignore_file = context / ".dockerignore"
    if not ignore_file.exists():
        return []
    lines = (line.strip() for line in ignore_file.read_text().splitlines())
    return [line for line in lines if line and not line.startswith("#")]


def sent_paths(context: Path, dockerfile: str = "Dockerfile") -> list[str]:
    """Every path Docker sends as the build context, by Docker's own .dockerignore rules.

    docker-py's `exclude_paths` is a port of moby's pattern matcher: patterns match the whole path
    from the context root (`*.md` is not `sub/README.md`), `**` spans directories, `!` re-includes,
    and the Dockerfile and .dockerignore are always sent.
    """
    from docker.utils.build import exclude_paths  # type: ignore[import-untyped]

    return sorted(exclude_paths(str(context), dockerignore_patterns(context), dockerfile=dockerfile))


def context_digest(
    context: Path,
    dockerfile: str = "Dockerfile",
    platform: str = "",
    build_args: Mapping[str, str] | None = None,
) -> str:
    """sha256 over everything that decides the image: each path Docker sends (with its bytes, or its
    link target), the Dockerfile's name, the platform and the build arguments."""
    h = hashlib.sha256()
    h.update(json.dumps([dockerfile, platform, sorted((build_args or {}).items())]).encode() + b"\0")
    for rel in sent_paths(context, dockerfile):
        path = context / rel
        if path.is_symlink():
            h.update(b"l:" + rel.encode() + b"\0" + os.readlink(path).encode())
        elif path.is_dir():
            h.update(b"d:" + rel.encode())
        else:
            h.update(b"f:" + rel.encode() + b"\0" + path.read_bytes())
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
        digest = context_digest(
            context, args.get("dockerfile", "Dockerfile"), args.get("platform", "linux/amd64"), args.get("build_args")
        )
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
