"""One tenant, one region, one account: the aws and aws-native providers a component's children use.

The inference component is an aws-native resource; everything else is aws. Pulumi never ties the two
providers together: given only an aws provider, the aws-native child would silently get the default
aws-native provider, whose region comes from `aws-native:region` or the environment — never from the
aws provider or `aws:region` (pulumi-aws-native #264, #1355). A tenant would then be split across
regions (or accounts). This module picks the aws-native provider that matches the aws one, derives
it when none is given, and refuses a mismatch with a message that says how to fix it.
"""

from __future__ import annotations

import weakref
from dataclasses import dataclass
from typing import Any

import pulumi
import pulumi_aws as aws
import pulumi_aws_native as aws_native

from sagezero.stackconfig import config_role, role_fix, secret_placeholder

FIX = (
    "pass both providers (opts=ResourceOptions(providers=[aws_provider, aws_native_provider])) built from the "
    "same region, profile and role — sagezero.components.provider_pair() makes such a pair — or, for the "
    "default providers, set `aws-native:region` (and profile) to the same values as `aws:region`"
)

# Providers made together by provider_pair: the aws one's twin is used without comparing outputs.
_TWINS: weakref.WeakKeyDictionary[pulumi.ProviderResource, pulumi.ProviderResource] = weakref.WeakKeyDictionary()


class ProviderMismatchError(ValueError):
    """The aws and aws-native providers of one tenant would deploy to different places."""


@dataclass(frozen=True)
class Providers:
    """What a component passes to its children."""

    aws: pulumi.ProviderResource | None
    """The aws provider for aws children (None: the default one)."""
    native: pulumi.ProviderResource | None
    """The aws-native provider for the inference component (None: the default one)."""
    region: pulumi.Output[str]
    """Where the tenant deploys ("" when it comes from the environment); fails when the providers disagree."""
    profile: pulumi.Output[str] | None = None
    """The shared profile both providers use; fails when they disagree (None: nothing to compare)."""


def provider_pair(
    name: str,
    *,
    region: pulumi.Input[str],
    profile: pulumi.Input[str] | None = None,
    role_arn: pulumi.Input[str] | None = None,
    opts: pulumi.ResourceOptions | None = None,
) -> tuple[aws.Provider, aws_native.Provider]:
    """An aws and an aws-native provider for the same region, profile and assumed role."""
    aws_args: dict[str, Any] = {"region": region}
    native_args: dict[str, Any] = {"region": region}
    if profile is not None:
        aws_args["profile"] = native_args["profile"] = profile
    if role_arn is not None:
        aws_args["assume_roles"] = [{"role_arn": role_arn}]
        native_args["assume_role"] = {"role_arn": role_arn}
    aws_provider = aws.Provider(name, opts=opts, **aws_args)
    native_provider = aws_native.Provider(f"{name}-native", opts=opts, **native_args)
    _TWINS[aws_provider] = native_provider
    return aws_provider, native_provider


def _config_mismatch(where: str) -> str | None:
    """The first setting in which the default aws and aws-native providers differ, as an error message."""
    aws_config, native_config = pulumi.Config("aws"), pulumi.Config("aws-native")
    for key in ("region", "profile", "accessKey"):
        a, n = aws_config.get(key), native_config.get(key)
        if a != n and not secret_placeholder(a) and not secret_placeholder(n):  # plan: undecrypted, unknown
            shown = ("set" if a else "unset", "set" if n else "unset") if key == "accessKey" else (repr(a), repr(n))
            fix = (
                f"set `aws-native:{key}` to {a!r} (`pulumi config set aws-native:{key} {a}`)"
                if a and key != "accessKey"
                else f"set `aws:{key}` to {n!r} (or remove `aws-native:{key}`)"
                if key != "accessKey"
                else "give aws and aws-native the same keys"
            )
            return (
                f"{where}: aws:{key} is {shown[0]} but aws-native:{key} is {shown[1]}, so the inference component "
                f"(aws-native) would not deploy where its endpoint (aws) does; {fix}, or {FIX}"
            )
    values = {
        "aws:assumeRoles": aws_config.get("assumeRoles"),
        "aws-native:assumeRole": native_config.get("assumeRole"),
    }
    a, n = config_role(values, "aws"), config_role(values, "aws-native")
    if a != n:
        return (
            f"{where}: aws:assumeRoles assumes {a!r} but aws-native:assumeRole assumes {n!r}, so the inference "
            f"component (aws-native) would deploy as another identity, possibly in another account; "
            f"{role_fix(a, n)}, or {FIX}"
        )
    return None


def matched(component: pulumi.ComponentResource, where: str, *, native_needed: bool = True) -> Providers:
    """The providers a component's children must use; raises ProviderMismatchError when they cannot agree.

    Without aws-native children (serverless mode) there is nothing to split, and nothing is derived.
    """
    given = component._providers  # what `provider=`/`providers=` (and the parent) handed the component
    aws_provider, native = given.get("aws"), given.get("aws-native")
    if not native_needed:
        region = _output(aws_provider, "region") if aws_provider else pulumi.Config("aws").get("region")
        return Providers(aws_provider, None, pulumi.Output.from_input(region).apply(lambda r: str(r or "")))
    if aws_provider is None and native is None:
        problem = _config_mismatch(where)
        if problem:
            raise ProviderMismatchError(problem)
        return Providers(None, None, pulumi.Output.from_input(pulumi.Config("aws").get("region") or ""))
    if aws_provider is None:
        raise ProviderMismatchError(
            f"{where}: given an aws-native provider but no aws provider, so the endpoint would use the default "
            f"aws provider and the inference component yours; {FIX}"
        )
    config = _terraform_config(aws_provider)
    built_apart = native is not None and _TWINS.get(aws_provider) is not native
    if native is None:
        native = _TWINS.get(aws_provider) or _derive(component, where, aws_provider, config)
    if _TWINS.get(aws_provider) is native:
        return Providers(aws_provider, native, config.apply(lambda c: str(c.get("region") or "")))
    if built_apart:
        config = config.apply(lambda c: _same_identity(where, c))
    # Checked one setting at a time: an unset property is unknown during a preview and would hide the rest.
    region = pulumi.Output.all(config, _output(native, "region")).apply(lambda v: _compare(where, "region", *v))
    profile = pulumi.Output.all(config, _output(native, "profile")).apply(lambda v: _compare(where, "profile", *v))
    return Providers(aws_provider, native, region, profile)


def _terraform_config(aws_provider: pulumi.ProviderResource) -> pulumi.Output[dict[str, Any]]:
    """The aws provider's own settings (region, profile, assume_role, keys), asked of the provider itself.

    A provider object does not expose every input (its assumed roles, for one), so the provider's
    `terraformConfig` method is the one place that reports them all.
    """
    if not isinstance(aws_provider, aws.Provider):
        raise ProviderMismatchError(f"expected a pulumi_aws.Provider for the aws package, got {type(aws_provider)!r}")
    return aws_provider.terraform_config().apply(lambda r: dict(r.result or {}))


def _roles(where: str, config: dict[str, Any]) -> list[str]:
    roles = config.get("assume_role") or []
    arns = [str(r.get("role_arn")) for r in roles if isinstance(r, dict) and r.get("role_arn")]
    if len(arns) > 1:
        raise ProviderMismatchError(
            f"{where}: the aws provider chains {len(arns)} assumed roles and aws-native can assume only one; {FIX}"
        )
    return arns


def _same_identity(where: str, config: dict[str, Any]) -> dict[str, Any]:
    """`config`, when a separately built aws-native provider can be trusted to act as the same identity.

    An aws-native provider does not report its assumed role or keys back to the program (they are not
    outputs of the provider resource), so a pair built apart cannot be compared on them. When the aws
    provider assumes a role or carries keys, the pair is refused: the aws-native one would have to be
    known to assume the same role (the same account) with the same keys.
    """
    arns = _roles(where, config)
    if arns or config.get("access_key"):
        what = f"assumes role {arns[0]}" if arns else "carries its own access keys"
        raise ProviderMismatchError(
            f"{where}: the aws provider {what}, and sagezero cannot read the assumed role or keys of an "
            "aws-native provider built apart from it, so the inference component might deploy to another "
            "account; pass only the aws provider (sagezero derives an aws-native provider with the same region, "
            "profile, role and keys) or build both with sagezero.components.provider_pair()"
        )
    return config


def _compare(where: str, key: str, config: dict[str, Any], native_value: Any) -> str:
    """The aws provider's `key` when the aws-native provider has the same, else ProviderMismatchError."""
    _roles(where, config)
    aws_value = config.get(key)
    if (aws_value or None) != (native_value or None):
        raise ProviderMismatchError(
            f"{where}: the aws provider's {key} is {aws_value!r} but the aws-native provider's is "
            f"{native_value!r}; {FIX}"
        )
    return str(aws_value or "")


def _output(provider: pulumi.ProviderResource, key: str) -> pulumi.Output[Any]:
    """A provider's input as the engine reports it back (providers' outputs are their inputs)."""
    value = getattr(provider, key, None)
    return value if isinstance(value, pulumi.Output) else pulumi.Output.from_input(value)


def _derive(
    component: pulumi.ComponentResource,
    where: str,
    aws_provider: pulumi.ProviderResource,
    config: pulumi.Output[dict[str, Any]],
) -> aws_native.Provider:
    """An aws-native provider with the aws provider's region, profile, assumed role and credentials."""

    def role(c: dict[str, Any]) -> dict[str, str] | None:
        arns = _roles(where, c)
        return {"role_arn": arns[0]} if arns else None

    def secret(key: str) -> pulumi.Output[Any]:
        return pulumi.Output.secret(config.apply(lambda c: c.get(key) or None))

    return aws_native.Provider(
        f"{component._name}-aws-native",
        region=config.apply(lambda c: c.get("region") or None),
        profile=config.apply(lambda c: c.get("profile") or None),
        assume_role=config.apply(role),  # type: ignore[arg-type]
        access_key=secret("access_key"),
        secret_key=secret("secret_key"),
        token=secret("token"),
        opts=pulumi.ResourceOptions(parent=component, depends_on=[aws_provider]),
    )
