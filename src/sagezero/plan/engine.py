"""Evaluate the real Pulumi program offline under Pulumi's mock engine and record what it registers.

Records every RegisterResource exactly as the engine would receive it (camelCase inputs, parent,
dependencies, property dependencies, ignoreChanges). Never calls a cloud API or the Pulumi CLI;
computed values (ARNs, auto-names, digests) are placeholders and are reported as such.
"""

from __future__ import annotations

import ast
import asyncio
import hashlib
import json
import os
import runpy
import sys
import threading
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pulumi
import yaml
from google.protobuf import json_format
from pulumi.runtime import mocks as pulumi_mocks
from pulumi.runtime import rpc
from pulumi.runtime.proto import provider_pb2
from pulumi.runtime.settings import SETTINGS
from pulumi.runtime.stack import run_in_stack
from pulumi.runtime.sync_await import _sync_await

from sagezero.engine_wiring import EngineResource
from sagezero.stackconfig import SECRET_PLACEHOLDER, StackConfig, parse_stack_config, read_stack_values
from sagezero.values import SECRET_SHOWN

PLACEHOLDER_ACCOUNT = "123456789012"
DEFAULT_REGION = "us-east-1"
PROVIDER_PREFIX = "pulumi:providers:"


def _terraform_config(inputs: Mapping[str, Any]) -> dict[str, Any]:
    """What pulumi-aws's `terraformConfig` reports for a provider with these engine inputs."""
    out: dict[str, Any] = {}
    for key, tf in (("region", "region"), ("profile", "profile"), ("accessKey", "access_key")):
        if inputs.get(key):
            out[tf] = inputs[key]
    roles = inputs.get("assumeRoles")
    if isinstance(roles, str):
        roles = json.loads(roles)
    if roles:
        out["assume_role"] = [{"role_arn": r.get("role_arn") or r.get("roleArn")} for r in roles]
    return out


@dataclass
class PlannedResource:
    """One resource as `pulumi up` would register it."""

    urn: str
    type: str
    name: str
    custom: bool
    parent: str | None
    inputs: dict[str, Any]
    outputs: dict[str, Any] = field(default_factory=dict)
    dependencies: list[str] = field(default_factory=list)
    property_dependencies: dict[str, list[str]] = field(default_factory=dict)
    ignore_changes: list[str] = field(default_factory=list)
    delete_before_replace: bool | None = None
    protect: bool = False
    provider: str | None = None
    """`<urn>::<id>` of the explicit provider; None when the package's default provider is used."""

    @property
    def state(self) -> dict[str, Any]:
        """Inputs overlaid with (placeholder) outputs: what a stack export would hold."""
        return {**self.inputs, **self.outputs}

    def engine(self) -> EngineResource:
        """The neutral form the wiring model and the policy pack read."""
        return EngineResource(self.type, self.urn, self.state, self.property_dependencies, self.name, self.parent)


@dataclass
class Plan:
    """What the program would create for one stack."""

    project: str
    stack: str
    region: str
    config: StackConfig
    resources: list[PlannedResource]
    exports: dict[str, Any]
    project_dir: Path | None = None
    """Where Pulumi.yaml is: relative paths in stack config (a traffic trace) start here."""
    values: dict[str, Any] = field(default_factory=dict)
    """The raw config bag (all namespaces): default providers read their region from it."""

    def engine_resources(self) -> list[EngineResource]:
        return [r.engine() for r in self.resources]


class PlanError(RuntimeError):
    """The program failed under the mock engine; the message is the program's own."""


def _digest(*parts: str, n: int = 8) -> str:
    return hashlib.sha256("\0".join(parts).encode()).hexdigest()[:n]


class PlaceholderMocks(pulumi_mocks.Mocks):
    """Gives every resource the computed outputs AWS would, with obviously fake account and ids."""

    def __init__(self, region: str) -> None:
        self.region = region
        self.providers: dict[str, dict[str, Any]] = {}
        """Inputs of every explicit provider, by `<urn>::<id>` and by URN (filled by the monitor)."""

    def _arn(self, service: str, resource: str) -> str:
        return f"arn:aws:{service}:{self.region}:{PLACEHOLDER_ACCOUNT}:{resource}"

    def new_resource(self, args: pulumi_mocks.MockResourceArgs) -> tuple[str | None, dict[str, Any]]:
        region = self.providers.get(args.provider or "", {}).get("region")
        if isinstance(region, str) and region != self.region:
            # ARNs name the region the resource's own provider deploys to.
            return PlaceholderMocks(region)._new_resource(args)
        return self._new_resource(args)

    def _new_resource(self, args: pulumi_mocks.MockResourceArgs) -> tuple[str | None, dict[str, Any]]:
        t, inputs = args.typ, dict(args.inputs)
        auto = f"{args.name}-{_digest(t, args.name, n=7)}"
        out: dict[str, Any] = {}
        name = inputs.get("name") or auto
        if t == "aws:ecr/repository:Repository":
            out = {
                "name": name,
                "arn": self._arn("ecr", f"repository/{name}"),
                "registryId": PLACEHOLDER_ACCOUNT,
                "repositoryUrl": f"{PLACEHOLDER_ACCOUNT}.dkr.ecr.{self.region}.amazonaws.com/{name}",
            }
        elif t == "docker:index/image:Image":
            image_name = str(inputs.get("imageName", ""))
            repo = image_name.rsplit(":", 1)[0]
            out = {"repoDigest": f"{repo}@sha256:{_digest(image_name, n=64)}", "registryServer": repo.split("/")[0]}
        elif t == "aws:iam/role:Role":
            out = {"name": name, "arn": f"arn:aws:iam::{PLACEHOLDER_ACCOUNT}:role/{name}"}
        elif t == "aws:sagemaker/model:Model":
            out = {"name": name, "arn": self._arn("sagemaker", f"model/{name}")}
        elif t == "aws:sagemaker/endpointConfiguration:EndpointConfiguration":
            out = {"name": name, "arn": self._arn("sagemaker", f"endpoint-config/{name}")}
        elif t == "aws:sagemaker/endpoint:Endpoint":
            out = {"name": name, "arn": self._arn("sagemaker", f"endpoint/{name}")}
        elif t == "aws-native:sagemaker:InferenceComponent":
            ic = inputs.get("inferenceComponentName") or auto
            out = {
                "inferenceComponentName": ic,
                "inferenceComponentArn": self._arn("sagemaker", f"inference-component/{ic}"),
            }
        elif t == "aws:appautoscaling/target:Target":
            out = {
                "arn": self._arn("application-autoscaling", f"scalable-target/{_digest(str(inputs.get('resourceId')))}")
            }
        elif t == "aws:appautoscaling/policy:Policy":
            out = {
                "arn": self._arn(
                    "autoscaling",
                    f"scalingPolicy:{_digest(name, n=8)}-0000-0000-0000-000000000000:"
                    f"resource/{inputs.get('serviceNamespace')}/{inputs.get('resourceId')}:policyName/{name}",
                )
            }
        elif t == "aws:cloudwatch/metricAlarm:MetricAlarm":
            out = {"name": name, "arn": self._arn("cloudwatch", f"alarm:{name}")}
        elif t == "aws:s3/bucket:Bucket":
            # S3 auto-names from bucket_prefix; bucket ARNs carry neither region nor account.
            bucket = (
                inputs.get("bucket") or f"{inputs.get('bucketPrefix') or args.name + '-'}{_digest(t, args.name, n=26)}"
            )
            out = {"bucket": bucket, "arn": f"arn:aws:s3:::{bucket}", "id": bucket}
        elif t == "aws:sns/topic:Topic":
            out = {"name": name, "arn": self._arn("sns", name)}
        elif args.custom:
            out = {"name": name} if "name" not in inputs else {}
            pkg, _, member = t.partition(":")
            if pkg == "aws" and "arn" not in inputs:  # e.g. a KMS key whose ARN another resource takes
                service, _, kind = member.partition("/")
                out["arn"] = self._arn(service, f"{kind.partition(':')[0].lower()}/{name}")
        resource_id = out.pop("id", None) or out.get("name") or name  # a bucket's id is its name
        return (str(resource_id) if args.custom else None), {**inputs, **out}

    def call(self, args: pulumi_mocks.MockCallArgs) -> tuple[dict[str, Any], list[tuple[str, str]]]:
        if args.token == "pulumi:providers:aws/terraformConfig":
            return {"result": _terraform_config(self.providers.get(str(args.args.get("__self__")), {}))}, []
        if args.token == "aws:ecr/getAuthorizationToken:getAuthorizationToken":
            return {
                "authorizationToken": "placeholder",
                "expiresAt": "2099-01-01T00:00:00Z",
                "id": self.region,
                "password": "placeholder",
                "proxyEndpoint": f"https://{PLACEHOLDER_ACCOUNT}.dkr.ecr.{self.region}.amazonaws.com",
                "userName": "AWS",
            }, []
        if args.token == "aws:index/getCallerIdentity:getCallerIdentity":
            return {"accountId": PLACEHOLDER_ACCOUNT, "arn": "", "id": PLACEHOLDER_ACCOUNT, "userId": ""}, []
        if args.token == "aws:index/getRegion:getRegion":
            return {"name": self.region, "region": self.region, "id": self.region}, []
        return {}, []


def _on_own_loop(handler: Callable[[Any], Any], request: Any) -> Any:
    """The mock monitor runs on executor threads and leaves an event loop on each; closing ours
    here keeps interpreter shutdown from tripping over half-collected loops (and their sockets)."""
    if threading.current_thread() is threading.main_thread():
        return handler(request)
    loop = asyncio.new_event_loop()
    asyncio.set_event_loop(loop)
    try:
        return handler(request)
    finally:
        asyncio.set_event_loop(None)
        loop.close()


class RecordingMonitor(pulumi_mocks.MockMonitor):
    """The mock monitor, keeping each registration's options the plain mocks API throws away."""

    def __init__(self, mocks: PlaceholderMocks) -> None:
        super().__init__(mocks)
        self.placeholders = mocks
        self.planned: dict[str, PlannedResource] = {}
        self.exports: dict[str, Any] = {}

    def RegisterResource(self, request: Any) -> Any:  # noqa: N802 - gRPC method name
        return _on_own_loop(self._register, request)

    def Invoke(self, request: Any) -> Any:  # noqa: N802 - gRPC method name
        return _on_own_loop(super().Invoke, request)

    def _register(self, request: Any) -> Any:
        response = super().RegisterResource(request)  # type: ignore[no-untyped-call]
        if request.type == "pulumi:pulumi:Stack":
            self.stack_urn = response.urn
            return response
        state = rpc.deserialize_properties(response.object) if response.object else {}
        inputs = rpc.deserialize_properties(request.object)
        if request.type.startswith(PROVIDER_PREFIX):
            self.placeholders.providers[f"{response.urn}::{response.id}"] = self.placeholders.providers[
                response.urn
            ] = inputs
        self.planned[response.urn] = PlannedResource(
            urn=response.urn,
            type=request.type,
            name=request.name,
            custom=bool(request.custom),
            parent=request.parent or None,
            inputs=_plain(inputs),
            outputs={k: v for k, v in _plain(state).items() if k not in inputs or inputs[k] != v},
            dependencies=list(request.dependencies),
            property_dependencies={k: list(v.urns) for k, v in request.propertyDependencies.items()},
            ignore_changes=list(request.ignoreChanges),
            delete_before_replace=request.deleteBeforeReplace if request.deleteBeforeReplaceDefined else None,
            protect=bool(request.protect),
            provider=request.provider or None,
        )
        return response

    def Call(self, request: Any) -> Any:  # noqa: N802 - gRPC method name
        """Provider method calls (the mock monitor has none): answered by the mocks' `call`."""
        return _on_own_loop(self._call, request)

    def _call(self, request: Any) -> Any:
        raw = json_format.MessageToDict(request.args)
        self_ref = raw.get("__self__")
        args = {"__self__": self_ref.get("urn") if isinstance(self_ref, dict) else self_ref}
        ret, _failures = self.placeholders.call(pulumi_mocks.MockCallArgs(request.tok, args, request.provider))
        return provider_pb2.CallResponse(**{"return": _sync_await(rpc.serialize_properties(ret, {}))})

    def RegisterResourceOutputs(self, request: Any) -> Any:  # noqa: N802 - gRPC method name
        if request.urn == getattr(self, "stack_urn", None) and request.outputs:
            self.exports = _plain(rpc.deserialize_properties(request.outputs))
        return super().RegisterResourceOutputs(request)  # type: ignore[no-untyped-call]


def _plain(value: Any) -> Any:
    """Engine values to JSON-able Python: secrets stay visible only as a marker."""
    if isinstance(value, Mapping):
        if value.get(rpc._special_sig_key) == rpc._special_secret_sig:
            return SECRET_SHOWN
        return {str(k): _plain(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_plain(v) for v in value]
    if isinstance(value, float) and value.is_integer():
        return int(value)
    return value


def project_name(project_dir: Path) -> str:
    doc = yaml.safe_load((project_dir / "Pulumi.yaml").read_text()) or {}
    return str(doc.get("name", project_dir.name))


def engine_config(values: Mapping[str, Any]) -> dict[str, str]:
    """Config as the language host hands it to a program: scalars as text, structures as JSON."""
    return {k: v if isinstance(v, str) else json.dumps(v) for k, v in values.items()}


@contextmanager
def _env(key: str, value: str) -> Iterator[None]:
    old = os.environ.get(key)
    os.environ[key] = value
    try:
        yield
    finally:
        if old is None:
            os.environ.pop(key, None)
        else:
            os.environ[key] = old


@dataclass
class Recording:
    """What one evaluation registered with the engine."""

    resources: list[PlannedResource]
    exports: dict[str, Any]


def evaluate(
    program: Callable[[], object],
    *,
    project: str = "sagezero",
    stack: str = "dev",
    region: str = DEFAULT_REGION,
    config: Mapping[str, Any] | None = None,
    preview: bool = True,
    secret_keys: list[str] | None = None,
) -> Recording:
    """Run `program` in a fresh stack under the mock engine and record every registration."""
    mocks = PlaceholderMocks(region)
    monitor = RecordingMonitor(mocks)
    with (
        _env("PULUMI_CONFIG", json.dumps(engine_config(config or {}))),
        _env("PULUMI_CONFIG_SECRET_KEYS", json.dumps(secret_keys or [])),
    ):
        pulumi.runtime.set_all_config({})
        pulumi_mocks.set_mocks(mocks, project=project, stack=stack, preview=preview, monitor=monitor)
        # set_mocks leaves a finished root stack behind; run the program in a fresh one, as the CLI does,
        # so its exports are registered on it.
        pulumi.runtime.settings.ROOT.set(None)
        SETTINGS.rpc_manager.clear()
        SETTINGS.outputs.clear()

        def run() -> None:
            program()

        _sync_await(run_in_stack(run))
    return Recording(list(monitor.planned.values()), monitor.exports)


def conceal(values: Mapping[str, Any]) -> tuple[dict[str, Any], list[str]]:
    """Config with every `secure:` value replaced by a placeholder, and the keys that held one.

    Offline there is no key to decrypt with; the CLI would hand the program the plain value and
    list the key in PULUMI_CONFIG_SECRET_KEYS, and so does the plan, with a placeholder.
    """
    secret: list[str] = []

    def walk(v: Any) -> tuple[Any, bool]:
        if isinstance(v, Mapping):
            if set(v) == {"secure"}:
                return SECRET_PLACEHOLDER, True
            pairs = {k: walk(x) for k, x in v.items()}
            return {k: x for k, (x, _) in pairs.items()}, any(f for _, f in pairs.values())
        if isinstance(v, list):
            items = [walk(x) for x in v]
            return [x for x, _ in items], any(f for _, f in items)
        return v, False

    out: dict[str, Any] = {}
    for key, value in values.items():
        out[key], found = walk(value)
        if found:
            secret.append(key)
    return out, secret


def is_sagezero_entry(program: Path) -> bool:
    """Whether a `__main__.py` only runs sagezero's own program (`from sagezero.program import main; main()`)."""
    try:
        body = ast.parse(program.read_text()).body
    except (OSError, SyntaxError):
        return False
    if body and isinstance(body[0], ast.Expr) and isinstance(body[0].value, ast.Constant):
        body = body[1:]  # the module docstring
    return (
        len(body) == 2
        and isinstance(body[0], ast.ImportFrom)
        and body[0].module == "sagezero.program"
        and [a.name for a in body[0].names] == ["main"]
        and isinstance(body[1], ast.Expr)
        and isinstance(body[1].value, ast.Call)
        and isinstance(body[1].value.func, ast.Name)
        and body[1].value.func.id == "main"
        and not body[1].value.args
    )


def run_program(project_dir: Path, stack: str, *, values: Mapping[str, Any] | None = None, direct: bool = True) -> Plan:
    """Run `project_dir/__main__.py` for `stack` under the mock engine, as `pulumi preview` would.

    When that file only runs sagezero's own program (and `direct`), the program is declared from the
    config parsed here, so each tenant's settings are validated once, not re-read from the engine's
    config and validated again by the program and the component.
    """
    values, secret_keys = conceal(read_stack_values(project_dir, stack) if values is None else values)
    config = parse_stack_config(stack, values)  # every config problem surfaces before any resource
    region = config.region or DEFAULT_REGION
    project = project_name(project_dir)
    program = project_dir / "__main__.py"
    if direct and is_sagezero_entry(program):
        from sagezero.program import declare

        def run() -> object:
            return declare(config)
    else:

        def run() -> object:
            return runpy.run_path(str(program), run_name="__main__")

    sys.path.insert(0, str(project_dir))
    cwd = Path.cwd()
    os.chdir(project_dir)  # the CLI runs programs from the project folder; relative paths rely on it
    try:
        recording = evaluate(
            run,
            project=project,
            stack=stack,
            region=region,
            config=values,
            secret_keys=secret_keys,
        )
    except pulumi.RunError as e:
        raise PlanError(str(e)) from None
    finally:
        os.chdir(cwd)
        sys.path.remove(str(project_dir))
    return Plan(
        project=project,
        stack=stack,
        region=region,
        config=config,
        resources=recording.resources,
        exports=recording.exports,
        project_dir=project_dir,
        values=values,
    )
