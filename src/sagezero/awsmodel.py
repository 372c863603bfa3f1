"""AWS's own request rules, offline: botocore's service models checked member by member.

botocore ships every request shape AWS publishes — required members, enums, numeric ranges,
lengths and patterns — but its `ParamValidator` checks only types, required members and minimums.
This module applies the rest, so a bad instance type, environment variable name or tag is refused
with AWS's rule before anything is deployed, and no list of valid values is kept by hand.
Pure: botocore's JSON models only, no client, no credentials, no network.
"""

from __future__ import annotations

import functools
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import botocore.session
import regex  # AWS patterns use Java's Unicode classes (\p{L}, \p{Z}, \p{N}); Python's `re` has none
from botocore.model import ListShape, MapShape, ServiceModel, Shape, StringShape, StructureShape


@dataclass(frozen=True)
class Violation:
    """One value AWS would refuse: where in the request, and the rule from AWS's model."""

    path: str
    rule: str

    def __str__(self) -> str:
        return f"{self.path}: {self.rule}"


@functools.cache
def service(name: str) -> ServiceModel:
    """A service model from botocore's shipped JSON (loaded once per process)."""
    return botocore.session.get_session().get_service_model(name)


def shape(service_name: str, shape_name: str) -> Shape:
    return service(service_name).shape_for(shape_name)


def enum(service_name: str, shape_name: str) -> tuple[str, ...]:
    """The values AWS accepts for an enum shape, e.g. every SageMaker hosting instance type."""
    s = shape(service_name, shape_name)
    return tuple(s.enum) if isinstance(s, StringShape) else ()


@functools.cache
def regions(service_name: str) -> frozenset[str]:
    """Every region botocore's endpoint data lists for a service, across all partitions (aws, aws-cn, GovCloud, ...)."""
    session = botocore.session.get_session()
    return frozenset(
        r for p in session.get_available_partitions() for r in session.get_available_regions(service_name, p)
    )


def request_shape(service_name: str, operation: str) -> StructureShape:
    s = service(service_name).operation_model(operation).input_shape
    assert isinstance(s, StructureShape)
    return s


# Java spells the supplementary planes as a UTF-16 surrogate-pair range; Python strings hold code points.
_SURROGATE_RANGE = "\\uD800\\uDC00-\\uDBFF\\uDFFF"


@functools.cache
def _pattern(text: str) -> regex.Pattern[str]:
    return regex.compile(text.replace(_SURROGATE_RANGE, "\\U00010000-\\U0010FFFF"))


def check(s: Shape, value: Any, path: str = "") -> list[Violation]:
    """Every rule of `s` that `value` breaks. Unknown values (None) are skipped: checked once known."""
    if value is None:
        return []
    out: list[Violation] = []
    meta = s.metadata
    kind = s.type_name
    if isinstance(s, StructureShape):
        if not isinstance(value, Mapping):
            return [Violation(path, f"must be a {s.name} structure")]
        for member in s.required_members:
            if value.get(member) is None:
                out.append(Violation(_join(path, member), "is required"))
        for key, item in value.items():
            if key not in s.members:
                out.append(Violation(_join(path, key), f"is not a member of {s.name}"))
            else:
                out += check(s.members[key], item, _join(path, key))
        return out
    if isinstance(s, ListShape):
        if not isinstance(value, Sequence) or isinstance(value, str):
            return [Violation(path, "must be a list")]
        out += _length(len(value), meta, path, "entries")
        for i, item in enumerate(value):
            out += check(s.member, item, f"{path}[{i}]")
        return out
    if isinstance(s, MapShape):
        if not isinstance(value, Mapping):
            return [Violation(path, "must be a mapping")]
        out += _length(len(value), meta, path, "entries")
        for key, item in value.items():
            out += [Violation(v.path, f"key {v.rule}") for v in check(s.key, key, path)]
            out += check(s.value, item, f"{path}.{key}")
        return out
    if kind == "string":
        if not isinstance(value, str):
            return [Violation(path, f"must be a string, got {value!r}")]
        if isinstance(s, StringShape) and s.enum and value not in s.enum:
            return [Violation(path, f"{value!r} is not one of AWS's {len(s.enum)} {s.name} values")]
        out += _length(len(value), meta, path, "characters")
        if "pattern" in meta and not _pattern(meta["pattern"]).fullmatch(value):
            out.append(Violation(path, f"{value!r} does not match AWS's pattern {meta['pattern']}"))
        return out
    if kind in ("integer", "long", "float", "double"):
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            return [Violation(path, f"must be a number, got {value!r}")]
        if "min" in meta and value < meta["min"]:
            out.append(Violation(path, f"{value} is below AWS's minimum {meta['min']}"))
        if "max" in meta and value > meta["max"]:
            out.append(Violation(path, f"{value} is above AWS's maximum {meta['max']}"))
        return out
    if kind == "boolean" and not isinstance(value, bool):
        return [Violation(path, f"must be true or false, got {value!r}")]
    return out


def _length(n: int, meta: Mapping[str, Any], path: str, unit: str) -> list[Violation]:
    if "min" in meta and n < meta["min"]:
        return [Violation(path, f"has {n} {unit}; AWS requires at least {meta['min']}")]
    if "max" in meta and n > meta["max"]:
        return [Violation(path, f"has {n} {unit}; AWS allows at most {meta['max']}")]
    return []


def _join(path: str, key: str) -> str:
    return f"{path}.{key}" if path else key


def check_request(service_name: str, operation: str, params: Mapping[str, Any]) -> list[Violation]:
    """Every rule of `operation`'s request that `params` breaks (members not given are not required here
    when the caller could not know them yet: pass None for those)."""
    return check(request_shape(service_name, operation), params)


def check_member(service_name: str, operation: str, member_path: str, value: Any) -> list[Violation]:
    """Rules of one member of a request, e.g. ("sagemaker", "CreateEndpointConfig", "KmsKeyId")."""
    s: Shape = request_shape(service_name, operation)
    for part in member_path.split("."):
        if isinstance(s, ListShape):
            s = s.member
        assert isinstance(s, StructureShape), f"{member_path}: {part} is not inside a structure"
        s = s.members[part]
    return check(s, value, member_path)
