"""Typed stack configuration: `Pulumi.<stack>.yaml` (or the engine's config bag) to tenants and settings.

Pure: never imports Pulumi, so `plan`, `simulate` and the program share one reading of the file,
and every problem is reported at once with the stack name and the exact key.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from sagezero.settings import EndpointSettings, ImageSettings, Problem, build_settings, camel

NAMESPACE = "sagezero"
TENANT_NAME = re.compile(r"^[a-z0-9](?:[a-z0-9-]{0,22}[a-z0-9])?$")
# Keys this program reads; anything else under `sagezero:` is a typo and fails loudly.
OBJECT_KEYS = ("defaults", "tenants", "image", "traffic")
_IMAGE_KEYS = {"context": str, "uri": str, "retainImages": int, "platform": str, "buildArgs": dict}


class StackConfigError(ValueError):
    """Every problem in one stack's config, each line naming the stack and the key."""

    def __init__(self, stack: str, problems: list[Problem]) -> None:
        self.stack = stack
        self.problems = problems
        lines = "\n".join(f"  - {p.key}: {p.message}" for p in problems)
        super().__init__(f"stack {stack!r} has {len(problems)} config problem(s):\n{lines}")


@dataclass(frozen=True)
class Tenant:
    """One customer: an isolated endpoint with its own settings."""

    name: str
    settings: EndpointSettings


@dataclass(frozen=True)
class StackConfig:
    """The whole stack, ready for the program, the plan or the simulator."""

    stack: str
    region: str | None
    image: ImageSettings
    tenants: tuple[Tenant, ...]
    defaults: EndpointSettings
    traffic: Mapping[str, Any] = field(default_factory=dict)


def _as_object(key: str, value: Any, problems: list[Problem]) -> Any:
    """The engine hands structured config over as JSON text; files hand it over parsed."""
    if isinstance(value, str):
        try:
            return json.loads(value)
        except json.JSONDecodeError:
            problems.append(Problem(key, "expected a structured value (mapping or list), got plain text"))
            return None
    return value


def parse_stack_config(stack: str, values: Mapping[str, Any]) -> StackConfig:
    """Typed config for `stack` from `{"sagezero:tenants": ..., "aws:region": ...}`."""
    problems: list[Problem] = []
    ours: dict[str, Any] = {}
    for key, value in values.items():
        ns, _, name = key.partition(":")
        if ns != NAMESPACE:
            continue
        if name not in OBJECT_KEYS:
            problems.append(
                Problem(key, f"unknown key; known keys: {', '.join(f'{NAMESPACE}:{k}' for k in OBJECT_KEYS)}")
            )
            continue
        ours[name] = _as_object(key, value, problems)

    defaults_raw = ours.get("defaults") or {}
    defaults = EndpointSettings()
    default_faults: set[str] = set()
    if not isinstance(defaults_raw, Mapping):
        problems.append(Problem(f"{NAMESPACE}:defaults", "expected a mapping of endpoint settings"))
        defaults_raw = {}
    else:
        built, found = build_settings(defaults_raw, camel_keys=True)
        problems.extend(Problem(f"{NAMESPACE}:defaults.{p.key}", p.message) for p in found)
        defaults = built or defaults
        default_faults = {p.key for p in found}

    tenants = _parse_tenants(ours.get("tenants"), defaults_raw, default_faults, problems)
    image = _parse_image(ours.get("image") or {}, problems)
    traffic = ours.get("traffic") or {}
    if not isinstance(traffic, Mapping):
        problems.append(Problem(f"{NAMESPACE}:traffic", "expected a mapping (see docs/simulator.md)"))
        traffic = {}

    region = values.get("aws:region")
    problems.extend(_provider_problems(values))
    if problems:
        raise StackConfigError(stack, problems)
    return StackConfig(
        stack=stack,
        region=region if isinstance(region, str) else None,
        image=image,
        tenants=tuple(tenants),
        defaults=defaults,
        traffic=dict(traffic),
    )


def _provider_problems(values: Mapping[str, Any]) -> list[Problem]:
    """The inference component is an aws-native resource: its provider must deploy where the aws one does."""
    out = []
    for key in ("region", "profile"):
        aws_value, native_value = values.get(f"aws:{key}"), values.get(f"aws-native:{key}")
        if aws_value != native_value:
            out.append(
                Problem(
                    f"aws-native:{key}",
                    f"{native_value!r} differs from aws:{key} {aws_value!r}: the inference component would not "
                    f"deploy where its endpoint does; set `aws-native:{key}: {aws_value}`"
                    + ("" if aws_value is not None else f" and `aws:{key}` together"),
                )
            )
    return out


def _parse_tenants(
    raw: Any, defaults_raw: Mapping[str, Any], default_faults: set[str], problems: list[Problem]
) -> list[Tenant]:
    key = f"{NAMESPACE}:tenants"
    if raw is None:
        problems.append(Problem(key, "required: a list of tenants, e.g. [{name: acme}]"))
        return []
    if not isinstance(raw, list) or not raw:
        problems.append(Problem(key, "expected a non-empty list of tenants, e.g. [{name: acme}]"))
        return []
    tenants: list[Tenant] = []
    seen: set[str] = set()
    for i, item in enumerate(raw):
        where = f"{key}[{i}]"
        entry = {"name": item} if isinstance(item, str) else item
        if not isinstance(entry, Mapping):
            problems.append(Problem(where, f"expected a mapping with a name, got {entry!r}"))
            continue
        name = entry.get("name")
        if not isinstance(name, str) or not TENANT_NAME.match(name):
            problems.append(
                Problem(
                    f"{where}.name", f"{name!r} must be 1-24 lowercase letters, digits or hyphens (used in AWS names)"
                )
            )
            continue
        if name in seen:
            problems.append(Problem(f"{where}.name", f"duplicate tenant {name!r}: every tenant needs its own endpoint"))
            continue
        seen.add(name)
        overrides = {k: v for k, v in entry.items() if k != "name"}
        settings, found = build_settings({**defaults_raw, **overrides}, camel_keys=True)
        # A fault already reported under defaults is not repeated for every tenant that inherits it.
        own = [p for p in found if p.key in overrides or p.key not in default_faults]
        problems.extend(Problem(f"{where}.{p.key}", p.message) for p in own)
        if settings is not None:
            tenants.append(Tenant(name, settings))
    return tenants


def _parse_image(raw: Any, problems: list[Problem]) -> ImageSettings:
    key = f"{NAMESPACE}:image"
    if not isinstance(raw, Mapping):
        problems.append(Problem(key, "expected a mapping with `context` (a Docker build context) or `uri`"))
        return ImageSettings()
    kwargs: dict[str, Any] = {}
    for k, v in raw.items():
        typ = _IMAGE_KEYS.get(k)
        if typ is None:
            problems.append(Problem(f"{key}.{k}", f"unknown key; known keys: {', '.join(_IMAGE_KEYS)}"))
        elif not isinstance(v, typ) or isinstance(v, bool):
            problems.append(Problem(f"{key}.{k}", f"expected {typ.__name__}, got {v!r}"))
        else:
            kwargs[_snake(k)] = v
    if kwargs.get("uri") and kwargs.get("context"):
        problems.append(Problem(key, "give either `uri` (an existing image) or `context` (build one), not both"))
    if kwargs.get("uri"):
        kwargs["context"] = None
    if not 1 <= kwargs.get("retain_images", 10) <= 1000:
        problems.append(Problem(f"{key}.retainImages", f"{kwargs['retain_images']} is outside 1-1000"))
    return ImageSettings(**kwargs)


def _snake(key: str) -> str:
    return re.sub(r"([A-Z])", lambda m: "_" + m.group(1).lower(), key)


def project_dir_default() -> Path:
    """The folder holding Pulumi.yaml: the current one, or the repository this package came from."""
    here = Path.cwd()
    if (here / "Pulumi.yaml").exists():
        return here
    repo = Path(__file__).resolve().parents[2]
    return repo if (repo / "Pulumi.yaml").exists() else here


def read_stack_values(project_dir: Path, stack: str) -> dict[str, Any]:
    """The config bag the CLI would build: Pulumi.yaml project config, then Pulumi.<stack>.yaml."""
    project_file = project_dir / "Pulumi.yaml"
    stack_file = project_dir / f"Pulumi.{stack}.yaml"
    if not stack_file.exists():
        found = sorted(p.name[len("Pulumi.") : -len(".yaml")] for p in project_dir.glob("Pulumi.*.yaml"))
        raise StackConfigError(
            stack, [Problem(str(stack_file), f"no such stack file; stacks here: {', '.join(found) or 'none'}")]
        )
    values: dict[str, Any] = {}
    if project_file.exists():
        project = _load_yaml(project_file, stack)
        for k, v in (project.get("config") or {}).items():
            values[k] = v.get("default", v.get("value")) if isinstance(v, Mapping) else v
    stack_doc = _load_yaml(stack_file, stack)
    config = stack_doc.get("config") or {}
    if not isinstance(config, Mapping):
        raise StackConfigError(stack, [Problem(f"{stack_file.name}: config", "expected a mapping")])
    values.update(config)
    return values


def _load_yaml(path: Path, stack: str) -> dict[str, Any]:
    try:
        doc = yaml.safe_load(path.read_text()) or {}
    except yaml.YAMLError as e:
        raise StackConfigError(stack, [Problem(path.name, f"not valid YAML: {e}")]) from None
    if not isinstance(doc, dict):
        raise StackConfigError(stack, [Problem(path.name, "expected a YAML mapping at the top level")])
    return doc


def load_stack(project_dir: Path, stack: str) -> StackConfig:
    """Read and validate one stack's file."""
    return parse_stack_config(stack, read_stack_values(project_dir, stack))


__all__ = [
    "StackConfig",
    "StackConfigError",
    "Tenant",
    "camel",
    "load_stack",
    "parse_stack_config",
    "read_stack_values",
]
