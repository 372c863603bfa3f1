"""Resource property values as every source delivers them, made plain and honest about what is hidden.

A preview carries unknowns (the engine's sentinel strings, or the policy SDK's proxies that raise on
reading them); a `pulumi stack export` made without `--show-secrets` carries ciphertext. Rules must
judge every other value and say exactly which ones they could not read, so both become an `Opaque`
marker with its reason, never a string that looks like data and never an exception that switches a
whole rule off. Pure: no Pulumi import (the SDK's proxies are recognised by shape).
"""

from __future__ import annotations

import json
import math
from collections.abc import Mapping, Sequence
from typing import Any, Final


class Opaque:
    """A value that exists but cannot be read here; `why` says which case it is."""

    __slots__ = ("why",)

    def __init__(self, why: str) -> None:
        self.why = why

    def __repr__(self) -> str:
        return f"<{self.why}>"


UNKNOWN: Final = Opaque("not known until deployment")
SECRET: Final = Opaque("a secret (the export was made without --show-secrets)")

# The engine's sentinels for computed values during preview (pulumi.runtime and pulumi_policy agree).
ENGINE_UNKNOWNS: Final = frozenset(
    {
        "04da6b54-80e4-46f7-96ec-b56ff0331ba9",  # string
        "1c4a061d-8072-4f0a-a4cb-0ff528b18fe7",  # boolean
        "3eeb2bf0-c639-47a8-9e75-3b44932eb421",  # number
        "6a19a0b0-7e62-4c92-b797-7f8e31da9cc2",  # array
        "030794c1-ac77-496b-92df-f27374a8bd58",  # asset
        "e48ece36-62e2-4504-bad9-02848725956a",  # archive
        "dd056dcd-154b-4c76-9bd3-c8f88648b5ff",  # object
    }
)
SECRET_SIG: Final = "4dabf18193072939515e22adb298388d"
SECRET_MARK: Final = "1b47061264138c4ac30d75fd1eb44270"
SECRET_SHOWN: Final = "[secret]"
"""How Pulumi shows a secret value it will not disclose (`pulumi stack output --json`, and `plan`'s exports)."""
MAX_DEPTH: Final = 64
"""Deeper nesting than any AWS resource has: treated as malformed input, not recursed into."""


class ShapeError(ValueError):
    """Input whose shape no Pulumi source produces (too deep, a secret envelope without a value)."""


def is_opaque(value: Any) -> bool:
    return isinstance(value, Opaque)


def _target(value: Any) -> Any:
    """The raw container behind pulumi_policy's unknown-checking proxies (which raise on unknown reads)."""
    name = type(value).__name__
    if name in ("_DictProxy", "_ListProxy"):
        return value["__target"]
    return value


class PlainProps(dict[str, Any]):
    """A resource's properties already made plain: `plain` returns it as it is (each source converts once)."""


def plain(value: Any, depth: int = 0) -> Any:
    """Plain dicts, lists and scalars; unknowns and undisclosed secrets become `Opaque` markers."""
    if type(value) is PlainProps:
        return value
    if depth > MAX_DEPTH:
        raise ShapeError(f"values nested deeper than {MAX_DEPTH} levels")
    kind = type(value)
    if kind is str:
        return UNKNOWN if value in ENGINE_UNKNOWNS else value
    if kind in (int, float, bool) or value is None:
        return value
    value = _target(value)
    if isinstance(value, Mapping):
        if value.get(SECRET_SIG) == SECRET_MARK:
            return _secret(value, depth)
        out = {str(k): plain(v, depth + 1) for k, v in value.items()}
        return PlainProps(out) if depth == 0 else out
    if isinstance(value, str):
        return UNKNOWN if value in ENGINE_UNKNOWNS else value
    if isinstance(value, Sequence) and not isinstance(value, (bytes, bytearray)):
        return [plain(v, depth + 1) for v in value]
    if type(value).__name__ == "Secret" and hasattr(value, "value"):  # pulumi_policy.Secret
        return plain(value.value, depth + 1)
    return value


def _secret(envelope: Mapping[str, Any], depth: int) -> Any:
    if "plaintext" in envelope:  # `pulumi stack export --show-secrets`: the value, JSON-encoded
        text = envelope["plaintext"]
        try:
            return plain(json.loads(text), depth + 1) if isinstance(text, str) else plain(text, depth + 1)
        except json.JSONDecodeError:
            return text
    if "ciphertext" in envelope:
        return SECRET
    if "value" in envelope:  # the engine's wire form
        return plain(envelope["value"], depth + 1)
    raise ShapeError("a secret without plaintext, ciphertext or value")


def get(props: Any, *path: str | int) -> Any:
    """props[path...]: None when absent, the Opaque marker when hidden on the way.

    Reads plain values and, without raising, the policy SDK's proxies and raw engine sentinels."""
    cur = props
    for key in path:
        if isinstance(cur, Opaque):
            return cur
        cur = _target(cur)
        if isinstance(key, int):
            if not isinstance(cur, Sequence) or isinstance(cur, str) or key >= len(cur):
                return None
            cur = _target(cur)[key]
        else:
            if not isinstance(cur, Mapping):
                return None
            cur = cur.get(key)
        if cur is None:
            return None
        if isinstance(cur, str) and cur in ENGINE_UNKNOWNS:
            return UNKNOWN
    return cur


def number(value: Any) -> Any:
    """Engine numbers arrive as floats (0 -> 0.0); App Auto Scaling bounds may arrive as strings."""
    if isinstance(value, bool) or value is None or isinstance(value, Opaque):
        return value
    if isinstance(value, str):
        try:
            value = float(value)
        except ValueError:
            return value
    if isinstance(value, float) and value.is_integer():
        return int(value)
    return value


def is_num(value: Any) -> bool:
    """A finite number (never a bool): NaN, infinities and integers past a float are not numbers AWS takes."""
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        return False
    try:
        return math.isfinite(value)
    except OverflowError:
        return False


def shown(value: Any) -> str:
    """A value for a message: short, and never ciphertext or a proxy's repr."""
    if isinstance(value, Opaque):
        return f"<{value.why}>"
    text = value if isinstance(value, str) else json.dumps(value, default=str)
    return text if len(text) <= 80 else text[:77] + "..."
