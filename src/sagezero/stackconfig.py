"""Typed stack configuration: `Pulumi.<stack>.yaml` (or the engine's config bag) to tenants and settings.

Pure: never imports Pulumi, so `plan`, `simulate` and the program share one reading of the file,
and every problem is reported at once with the stack name and the exact key.

The file is untrusted input (a CI job runs `plan` on a pull request): it is read with bounded size,
aliases that expand to a bounded number of nodes, and NaN, infinities and oversized text are refused
by key before any setting is checked, so every message quotes at most a short excerpt.
"""

from __future__ import annotations

import json
import math
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from sagezero.boundedfile import FileProblemError, NotUtf8Error, read_bytes, utf8
from sagezero.quote import excerpt
from sagezero.settings import EndpointSettings, ImageSettings, Mode, Problem, build_settings, camel, unread_by

NAMESPACE = "sagezero"
TENANT_NAME = re.compile(r"^[a-z0-9](?:[a-z0-9-]{0,22}[a-z0-9])?$")
# Keys this program reads; anything else under `sagezero:` is a typo and fails loudly.
OBJECT_KEYS = ("defaults", "tenants", "image", "traffic")
_IMAGE_KEYS = {"context": str, "uri": str, "retainImages": int, "platform": str, "buildArgs": dict}
MAX_FILE_BYTES = 4 * 1024 * 1024
MAX_NODES = 100_000
"""Values a stack file may hold once YAML aliases are expanded: far above 1000 tenants, far below a bomb."""
MAX_TEXT = 4096
"""Longest text value: above any AWS name, ARN, URL or tag AWS accepts."""
MAX_PROBLEMS = 50
_EXCERPT = 40


def _plain(value: Any) -> str:
    """A value to paste into a suggested fix: as it is when short, else an excerpt."""
    text = str(value)
    return text if len(text) <= _EXCERPT else _show(value)


def _show(value: Any, limit: int = _EXCERPT) -> str:
    """A value in a message, cut to `limit` characters: named, never echoed in full."""
    return excerpt(value, limit)


def _why(message: object) -> str:
    """PyYAML's own explanation, on one line and bounded (it may quote the document)."""
    return " ".join(_show(str(message), 200)[1:-1].split())


class StackConfigError(ValueError):
    """Every problem in one stack's config, each line naming the stack and the key."""

    def __init__(self, stack: str, problems: list[Problem]) -> None:
        self.stack = stack
        self.problems = problems
        shown = [f"  - {_clip(f'{p.key}: {p.message}')}" for p in problems[:MAX_PROBLEMS]]
        if len(problems) > MAX_PROBLEMS:
            shown.append(f"  ... and {len(problems) - MAX_PROBLEMS} more")
        lines = "\n".join(shown)
        super().__init__(f"stack {_show(stack)} has {len(problems)} config problem(s):\n{lines}")


def _clip(line: str, limit: int = 600) -> str:
    """One problem on one line of bounded length, keeping the key (start) and the expectation (end)."""
    line = " ".join(line.split())
    return line if len(line) <= limit else f"{line[: limit // 2]} … {line[-limit // 3 :]}"


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
            value = json.loads(value)
        except json.JSONDecodeError:
            problems.append(Problem(key, "expected a structured value (mapping or list), got plain text"))
            return None
        except RecursionError:
            problems.append(Problem(key, "nested too deeply"))
            return None
        except ValueError:  # an integer of more digits than Python converts
            problems.append(Problem(key, "holds a number too long to read"))
            return None
    return _sanitised(key, value, problems)


def _sanitised(key: str, value: Any, problems: list[Problem]) -> Any:
    """`value` without the entries no check should see: non-finite numbers and oversized text (each
    reported by key here, once) and non-text keys; everything else is checked where it is used."""
    if isinstance(value, float) and not math.isfinite(value):
        problems.append(Problem(key, f"expected a finite number, got {value}"))
        return None
    if isinstance(value, str) and len(value) > MAX_TEXT:
        problems.append(Problem(key, f"a {len(value):,}-character value {_show(value)}; at most {MAX_TEXT}"))
        return None
    if isinstance(value, Mapping):
        out: dict[str, Any] = {}
        for k, v in value.items():
            if not isinstance(k, str) or len(k) > 100:
                problems.append(Problem(f"{key}.{_show(k)}", "keys must be names (text, at most 100 characters)"))
                continue
            clean = _sanitised(f"{key}.{k}", v, problems)
            if clean is not None or v is None:
                out[k] = clean
        return out
    if isinstance(value, list):
        return [_sanitised(f"{key}[{i}]", v, problems) for i, v in enumerate(value)]
    return value


def parse_stack_config(stack: str, values: Mapping[str, Any]) -> StackConfig:
    """Typed config for `stack` from `{"sagezero:tenants": ..., "aws:region": ...}`."""
    problems: list[Problem] = []
    ours: dict[str, Any] = {}
    for key_read, value in values.items():
        key: Any = key_read  # typed as text, but read from YAML: may be a number or a date
        if not isinstance(key, str):
            problems.append(Problem(_show(key), "config keys must be text such as sagezero:tenants"))
            continue
        ns, _, name = key.partition(":")
        if ns != NAMESPACE:
            continue
        if name not in OBJECT_KEYS:
            problems.append(
                Problem(
                    _show(key)[1:-1], f"unknown key; known keys: {', '.join(f'{NAMESPACE}:{k}' for k in OBJECT_KEYS)}"
                )
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
        defaults_raw = _unknown_secrets(defaults_raw)
        built, found = build_settings(defaults_raw, camel_keys=True)
        # Defaults serve tenants of every mode: a key the defaults' own mode never reads is judged for
        # the tenants that inherit it, not refused here.
        unread = {camel(n) for n in unread_by(_mode_of(defaults_raw) or Mode.SCALE_TO_ZERO)}
        found = [p for p in found if p.key not in unread]
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
    problems.extend(_region_problems(values))
    image_region = _ecr_region(image.uri or "")
    if image_region and isinstance(region, str) and not secret_placeholder(region) and image_region != region:
        problems.append(
            Problem(
                f"{NAMESPACE}:image.uri",
                f"the image is in ECR in {image_region} but aws:region is {region}; SageMaker pulls a model's image "
                f"only from its own region: push (or replicate) it to ECR in {region} and use that URI",
            )
        )
    native_needed = not tenants or any(t.settings.mode is Mode.SCALE_TO_ZERO for t in tenants)
    problems.extend(_provider_problems(values, native_needed=native_needed))
    if problems:
        raise StackConfigError(stack, problems)
    return StackConfig(
        stack=stack,
        region=region if isinstance(region, str) and not secret_placeholder(region) else None,
        image=image,
        tenants=tuple(tenants),
        defaults=defaults,
        traffic=dict(traffic),
    )


def config_role(values: Mapping[str, Any], package: str) -> str | None:
    """The role ARN a default provider assumes, from `aws:assumeRoles` (the last of the chain) or
    `aws-native:assumeRole`; engine config arrives as JSON text, a stack file parsed."""
    key = "assumeRoles" if package == "aws" else "assumeRole"
    raw = values.get(f"{package}:{key}")
    if isinstance(raw, str):
        try:
            raw = json.loads(raw)
        except (ValueError, RecursionError):  # not JSON, an integer too long to convert, nested too deeply
            return raw
    roles = raw if isinstance(raw, list) else [raw] if isinstance(raw, Mapping) else []
    arns = [str(r.get("roleArn") or r.get("role_arn") or "") for r in roles if isinstance(r, Mapping)]
    arns = [a for a in arns if a]
    return arns[-1] if arns else None


def role_fix(aws_role: str | None, native_role: str | None) -> str:
    """How to make the default aws and aws-native providers assume the same role (one wording for the
    stack-config check and the component's own)."""
    if aws_role:
        return f"set `aws-native:assumeRole: {{roleArn: {aws_role}}}`"
    return f"set `aws:assumeRoles: [{{roleArn: {native_role}}}]` (or remove `aws-native:assumeRole`)"


def _provider_problems(values: Mapping[str, Any], *, native_needed: bool = True) -> list[Problem]:
    """The inference component is an aws-native resource: its provider must deploy where the aws one does,
    as the same identity (region, profile, assumed role, keys). Without aws-native resources (every tenant
    serverless or async) there is nothing to compare."""
    if not native_needed:
        return []
    out = []
    for key in ("region", "profile", "accessKey"):
        aws_value, native_value = values.get(f"aws:{key}"), values.get(f"aws-native:{key}")
        if aws_value == native_value or secret_placeholder(aws_value) or secret_placeholder(native_value):
            continue
        if key == "accessKey":
            message = "aws:accessKey and aws-native:accessKey differ"
        else:
            message = f"{_show(native_value)} differs from aws:{key} {_show(aws_value)}"
        if aws_value is not None:
            fix = f"set `aws-native:{key}: {_plain(aws_value)}`" if key != "accessKey" else "give both the same keys"
        else:
            fix = f"set `aws:{key}: {_plain(native_value)}` (or remove `aws-native:{key}`)"
        out.append(
            Problem(
                f"aws-native:{key}",
                f"{message}: the inference component would not deploy where its endpoint does; {fix}",
            )
        )
    aws_role, native_role = config_role(values, "aws"), config_role(values, "aws-native")
    if aws_role != native_role:
        fix = role_fix(aws_role, native_role)
        out.append(
            Problem(
                "aws-native:assumeRole",
                f"{_show(native_role, 80)} differs from the role aws:assumeRoles assumes {_show(aws_role, 80)}: "
                f"the inference component would deploy as another identity (possibly another account) than its "
                f"endpoint; {fix}",
            )
        )
    return out


SECRET_PLACEHOLDER = "secret-placeholder"
"""What `plan` puts in place of a `secure:` value it cannot decrypt: unknown, never checked as a value."""


def secret_placeholder(value: Any) -> bool:
    return isinstance(value, str) and value == SECRET_PLACEHOLDER


_SECRET_STAND_INS = {
    "modelDataUrl": f"s3://{SECRET_PLACEHOLDER}/",
    "kmsKeyArn": f"arn:aws:kms:us-east-1:000000000000:key/{SECRET_PLACEHOLDER}",
    "asyncSuccessTopicArn": f"arn:aws:sns:us-east-1:000000000000:{SECRET_PLACEHOLDER}",
    "asyncErrorTopicArn": f"arn:aws:sns:us-east-1:000000000000:{SECRET_PLACEHOLDER}",
}
"""Values that pass every check in place of a `secure:` setting `plan` cannot decrypt (the others' checks
pass on the placeholder itself). The real value is checked where it is known: by the program at `pulumi up`."""


def _unknown_secrets(raw: Mapping[str, Any]) -> dict[str, Any]:
    """Settings with each undecrypted `secure:` value (the plan's placeholder) standing for an unknown
    valid value, so a secret is never refused for the placeholder's own text."""
    return {k: _SECRET_STAND_INS.get(k, v) if secret_placeholder(v) else v for k, v in raw.items()}


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
    inherited_by_some: set[str] = set()
    left_out: dict[str, set[str]] = {}
    for i, item in enumerate(raw):
        where = f"{key}[{i}]"
        entry = {"name": item} if isinstance(item, str) else item
        if not isinstance(entry, Mapping):
            problems.append(Problem(where, f"expected a mapping with a name, got {_show(entry)}"))
            continue
        name = entry.get("name")
        if not isinstance(name, str) or not TENANT_NAME.match(name):
            problems.append(
                Problem(
                    f"{where}.name",
                    f"{_show(name)} must be 1-24 lowercase letters, digits or hyphens (used in AWS names)",
                )
            )
            continue
        if name in seen:
            problems.append(
                Problem(f"{where}.name", f"duplicate tenant {_show(name)}: every tenant needs its own endpoint")
            )
            continue
        seen.add(name)
        overrides = _unknown_secrets({k: v for k, v in entry.items() if k != "name"})
        mode = _mode_of(overrides) or _mode_of(defaults_raw) or Mode.SCALE_TO_ZERO
        unread = {camel(n) for n in unread_by(mode)}
        inherited = {k: v for k, v in defaults_raw.items() if k not in overrides and k not in unread}
        inherited_by_some.update(inherited)
        for k in defaults_raw.keys() & unread - overrides.keys():
            left_out.setdefault(k, set()).add(mode.value)
        settings, found = build_settings({**inherited, **overrides}, camel_keys=True)
        # A fault already reported under defaults is not repeated for every tenant that inherits it.
        own = [p for p in found if p.key in overrides or p.key not in default_faults]
        problems.extend(Problem(f"{where}.{p.key}", p.message) for p in own)
        if settings is not None:
            tenants.append(Tenant(name, settings))
    for k in sorted(left_out.keys() - inherited_by_some):
        modes = " or ".join(sorted(left_out[k]))
        problems.append(
            Problem(
                f"{NAMESPACE}:defaults.{k}",
                f"no tenant reads it: every tenant that inherits it is in {modes} mode, which does not use it; "
                "remove it, or set it on the tenants of the mode that does",
            )
        )
    return tenants


def _mode_of(raw: Mapping[str, Any]) -> Mode | None:
    """The mode a mapping of settings names, if it names a valid one (an invalid one is reported by its
    own validation)."""
    try:
        return Mode(raw["mode"])
    except (KeyError, ValueError, TypeError):
        return None


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
            problems.append(Problem(f"{key}.{k}", f"expected {typ.__name__}, got {_show(v)}"))
        else:
            kwargs[_snake(k)] = v
    if kwargs.get("uri") and kwargs.get("context"):
        problems.append(Problem(key, "give either `uri` (an existing image) or `context` (build one), not both"))
    if kwargs.get("uri"):
        kwargs["context"] = None
    if not 1 <= kwargs.get("retain_images", 10) <= 1000:
        problems.append(Problem(f"{key}.retainImages", f"{kwargs['retain_images']} is outside 1-1000"))
    return ImageSettings(**kwargs)


def _region_problems(values: Mapping[str, Any]) -> list[Problem]:
    """`aws:region` / `aws-native:region` against the regions botocore's endpoint data lists for SageMaker."""
    import difflib

    from sagezero import awsmodel  # botocore's data loads only when a region is set

    out = []
    for key in ("aws:region", "aws-native:region"):
        value = values.get(key)
        if value is None or secret_placeholder(value):
            continue
        if not isinstance(value, str):
            out.append(Problem(key, f"expected a region name such as eu-west-1, got {_show(value)}"))
            continue
        known = awsmodel.regions("sagemaker")
        if value not in known:
            near = difflib.get_close_matches(value, sorted(known), n=3)
            hint = f"; did you mean {', '.join(near)}?" if near else ""
            out.append(
                Problem(
                    key,
                    f"{_show(value)} is not a region where SageMaker is available (botocore's endpoint data, "
                    f"every partition){hint}",
                )
            )
    return out


_ECR_REGION = re.compile(r"^\d{12}\.dkr\.ecr\.([a-z0-9-]+)\.amazonaws\.com(?:\.cn)?/")


def _ecr_region(uri: str) -> str | None:
    m = _ECR_REGION.match(uri)
    return m.group(1) if m else None


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
        project_config = project.get("config") or {}
        if not isinstance(project_config, Mapping):
            raise StackConfigError(stack, [Problem(f"{project_file.name}: config", "expected a mapping")])
        for k, v in project_config.items():
            values[k] = v.get("default", v.get("value")) if isinstance(v, Mapping) else v
    stack_doc = _load_yaml(stack_file, stack)
    config = stack_doc.get("config") or {}
    if not isinstance(config, Mapping):
        raise StackConfigError(stack, [Problem(f"{stack_file.name}: config", "expected a mapping")])
    values.update(config)
    return values


def _load_yaml(path: Path, stack: str) -> dict[str, Any]:
    def refuse(message: str) -> StackConfigError:
        return StackConfigError(stack, [Problem(path.name, message)])

    try:
        text = utf8(read_bytes(path, MAX_FILE_BYTES, expected="a YAML file",
                               too_large=f"larger than {MAX_FILE_BYTES:,} bytes; a stack file is a few kilobytes"))  # fmt: skip
    except FileProblemError as e:
        raise refuse(str(e)) from None
    except NotUtf8Error as e:
        raise refuse(f"{e}; is it binary?") from None
    try:
        doc = load_bounded_yaml(text) or {}
    except ScalarError as e:
        raise refuse(str(e)) from None
    except yaml.MarkedYAMLError as e:
        mark = e.problem_mark or e.context_mark
        where = f"line {mark.line + 1}: " if mark is not None else ""
        raise refuse(f"{where}not valid YAML ({_why(e.problem or e.context)})") from None
    except yaml.YAMLError as e:
        raise refuse(f"not valid YAML ({_why(e)})") from None
    if not isinstance(doc, dict):
        raise refuse("expected a YAML mapping at the top level")
    return doc


class ScalarError(yaml.YAMLError):
    """A scalar PyYAML parses but cannot construct (a date 2001-13-45, `!!int abc`, an integer of
    5,000 digits), with its line and the keys leading to it."""

    def __init__(self, reason: str, mark: yaml.Mark | None, path: str) -> None:
        self.reason, self.mark, self.path = reason, mark, path
        where = f"line {mark.line + 1}: " if mark is not None else ""
        super().__init__(f"{where}{path + ': ' if path else ''}{reason}")


def _path_to(root: yaml.Node | None, target: yaml.Node) -> str:
    """The keys and indices from `root` to `target`, as `config.sagezero:foo[0]` (bounded by the
    expanded-size check that ran when the document was composed)."""
    todo: list[tuple[yaml.Node, str]] = [(root, "")] if root is not None else []
    seen: set[int] = set()
    while todo:
        node, path = todo.pop()
        if node is target:
            return path
        if id(node) in seen:
            continue
        seen.add(id(node))
        if isinstance(node, yaml.MappingNode):
            for k, v in node.value:
                name = str(k.value) if isinstance(k, yaml.ScalarNode) else "?"
                todo += [(k, path), (v, f"{path}.{name}" if path else name)]
        elif isinstance(node, yaml.SequenceNode):
            todo += [(v, f"{path}[{i}]") for i, v in enumerate(node.value)]
    return ""


class _BoundedLoader(yaml.SafeLoader):
    """PyYAML's safe loader, refusing documents whose aliases would expand past MAX_NODES values (a
    "billion laughs" bomb is a few hundred bytes) or that refer to themselves; a scalar its
    constructors refuse with a plain ValueError is a ScalarError naming the line and key."""

    _root: yaml.Node | None = None

    def compose_document(self) -> yaml.Node | None:
        node: yaml.Node | None = super().compose_document()
        if node is not None:
            _check_expanded_size(node)
        self._root = node
        return node

    def construct_object(self, node: yaml.Node, deep: bool = False) -> Any:
        try:
            return super().construct_object(node, deep)
        except (ValueError, OverflowError) as e:
            path = _path_to(self._root, node).removeprefix("config.")
            raise ScalarError(f"{excerpt(node.value) if isinstance(node, yaml.ScalarNode) else 'value'} "
                              f"cannot be read ({str(e)[:80]})", node.start_mark, path) from None  # fmt: skip


def _children(node: yaml.Node) -> list[yaml.Node]:
    if isinstance(node, yaml.MappingNode):
        return [n for pair in node.value for n in pair]
    if isinstance(node, yaml.SequenceNode):
        return list(node.value)
    return []


def _check_expanded_size(root: yaml.Node) -> None:
    """Values the document holds with every alias expanded, counted without expanding (each shared
    node once, iteratively: no recursion limit to hit)."""
    sizes: dict[int, int] = {}
    ancestors: set[int] = set()
    stack: list[tuple[yaml.Node, bool]] = [(root, False)]
    while stack:
        node, finished = stack.pop()
        if finished:
            ancestors.discard(id(node))
            sizes[id(node)] = min(MAX_NODES + 1, 1 + sum(sizes[id(c)] for c in _children(node)))
            continue
        if id(node) in sizes:
            continue
        ancestors.add(id(node))
        stack.append((node, True))
        for child in _children(node):
            if id(child) in ancestors:
                raise yaml.YAMLError(f"line {node.start_mark.line + 1}: an alias refers to the value that holds it")
            stack.append((child, False))
    if sizes[id(root)] > MAX_NODES:
        raise yaml.YAMLError(f"expands to more than {MAX_NODES:,} values through its aliases (*name)")


def load_bounded_yaml(text: str) -> Any:
    """`yaml.safe_load`, with the expansion of aliases bounded; nesting deeper than Python's recursion
    limit is a YAMLError too."""
    loader = _BoundedLoader(text)
    try:
        return loader.get_single_data()
    except RecursionError:
        raise yaml.YAMLError("nested too deeply") from None
    finally:
        loader.dispose()


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
