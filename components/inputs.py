"""Settings that may come from other resources: validated now when known, when resolved otherwise.

A KMS key, a model-data URL, tags, environment values, VPC subnets/security groups and an async
endpoint's bucket and topics usually come from other resources (`key.arn`, `bucket.bucket`, `subnet.id`).
Which settings these are is declared once, on the settings themselves (`input=True` in their metadata).
The component takes them as `pulumi.Input`; what is already known is validated at construction with the
other settings, and what is not is validated by the same rules (same messages) the moment the engine
resolves it, before any resource that uses it is created.
"""

from __future__ import annotations

import dataclasses
import inspect
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import pulumi

from sagezero.settings import ASYNC_FIELDS, EndpointSettings, Mode, SettingsError, build_settings

INPUT_FIELDS = tuple(f.name for f in dataclasses.fields(EndpointSettings) if f.metadata.get("input"))
"""The settings a component arg may give as a `pulumi.Input`, in declaration order (from the settings'
metadata, so a new Input setting cannot be forgotten here)."""


_PARTNERS = {"vpc_subnet_ids": "vpc_security_group_ids", "vpc_security_group_ids": "vpc_subnet_ids"}
STAND_IN: dict[str, Any] = {
    "vpc_subnet_ids": ["subnet-0"],
    "vpc_security_group_ids": ["sg-0"],
    "async_bucket": "bucket-stand-in",
    "async_success_topic_arn": "arn:aws:sns:us-east-1:000000000000:stand-in",
    "async_error_topic_arn": "arn:aws:sns:us-east-1:000000000000:stand-in",
}
"""Valid values that stand for an Input not resolved yet, so the rules between settings (VPC pairing;
async keys only in async mode; created topics or given ones) are checked at construction."""


def is_known(value: Any) -> bool:
    """Whether a value holds no Output or awaitable anywhere inside it."""
    if isinstance(value, pulumi.Output) or inspect.isawaitable(value):
        return False
    if isinstance(value, Mapping):
        return all(is_known(v) for v in value.values())
    if isinstance(value, Sequence) and not isinstance(value, str):
        return all(is_known(v) for v in value)
    return True


def split(args: Mapping[str, Any]) -> tuple[dict[str, Any], dict[str, Any]]:
    """(settings known now, Inputs that resolve later) from component args."""
    known = {k: v for k, v in args.items() if k not in INPUT_FIELDS or is_known(v)}
    later = {k: v for k, v in args.items() if k in INPUT_FIELDS and not is_known(v)}
    for field in later.keys() & STAND_IN.keys():
        known[field] = STAND_IN[field]  # keeps the cross-setting rules checkable; the real value comes later
    return known, later


def validated(where: str, field: str, value: pulumi.Input[Any], mode: Mode = Mode.SCALE_TO_ZERO) -> pulumi.Output[Any]:
    """`value` once resolved, or the SettingsError that field would have raised if known up front (in
    `mode`: async mode holds some values to stricter rules, e.g. the KMS key must be a key ARN)."""

    def check(resolved: Any) -> Any:
        if resolved is None:
            return None
        # Pairing (subnets with security groups) is checked at construction from which args are given;
        # here a stand-in partner keeps it from masking the value's own rules.
        partner = _PARTNERS.get(field)
        raw = {field: resolved, **({partner: STAND_IN[partner]} if partner else {})}
        if field in ASYNC_FIELDS or mode is Mode.ASYNC:  # the mode was checked at construction
            raw["mode"] = "async"
        _settings, problems = build_settings(raw, camel_keys=False)
        own = [p for p in problems if p.key == field]
        if own:
            raise SettingsError(own, where)
        return resolved

    return pulumi.Output.from_input(value).apply(check)


KEY_STAND_IN = "x"
"""A value every environment entry and tag accepts: stands for values not known yet while the keys are checked."""


def check_keys(where: str, field: str, value: Mapping[str, Any]) -> None:
    """A mapping whose keys are known but some values are not (environment names, tag keys): the keys and
    the count are checked now, so a preview refuses a bad name instead of passing it until `pulumi up`."""
    _settings, problems = build_settings({field: {k: KEY_STAND_IN for k in value}}, camel_keys=False)
    own = [p for p in problems if p.key == field]
    if own:
        raise SettingsError(own, where)


@dataclass(frozen=True)
class Resolved:
    """The values children receive: plain where known, validated Outputs where not."""

    environment: pulumi.Input[Mapping[str, str]]
    model_data_url: pulumi.Input[str] | None
    kms_key_arn: pulumi.Input[str] | None
    tags: pulumi.Input[Mapping[str, str]]
    vpc_subnet_ids: pulumi.Input[Sequence[str]] | None
    vpc_security_group_ids: pulumi.Input[Sequence[str]] | None
    async_bucket: pulumi.Input[str] | None
    async_success_topic_arn: pulumi.Input[str] | None
    async_error_topic_arn: pulumi.Input[str] | None

    @property
    def vpc(self) -> bool:
        return bool(self.vpc_subnet_ids) or bool(self.vpc_security_group_ids)


def resolve(where: str, known: Any, later: Mapping[str, Any]) -> Resolved:
    """Each input field from the validated settings, or its deferred Input validated on resolution."""
    values: dict[str, Any] = {}
    for field in INPUT_FIELDS:
        if field in later and isinstance(later[field], Mapping):
            check_keys(where, field, later[field])
        if field in later:
            values[field] = validated(where, field, later[field], known.mode)
        else:
            value = getattr(known, field)
            if isinstance(value, Mapping):
                value = dict(value)
            elif isinstance(value, tuple):
                value = list(value) or None
            values[field] = value
    values["environment"] = values["environment"] or {}
    values["tags"] = values["tags"] or {}
    return Resolved(**values)


def s3_prefix(url: pulumi.Input[str] | None) -> tuple[pulumi.Input[str], pulumi.Input[str]] | None:
    """(bucket, key prefix) of an s3:// model-data URL, as Inputs, for a read grant scoped to it."""
    if url is None:
        return None
    if isinstance(url, str):
        bucket, _, key = url[5:].partition("/")
        return bucket, key
    parts = pulumi.Output.from_input(url).apply(lambda u: str(u or "")[5:].partition("/"))  # type: ignore[arg-type]
    return parts.apply(lambda p: p[0]), parts.apply(lambda p: p[2])
