"""Physical AWS names for a component's children: readable, unique per stack, within AWS limits.

SageMaker names are case-insensitive and only [a-zA-Z0-9-], so `prod_eu`, `prod-eu` and `Prod-EU`
would all clean up to the same endpoint name in one account and region. A name is therefore kept
as written only when cleaning cannot have merged it with another: lowercase, and hyphens only in
the last part (so `x` + `a-b` and `x-a` + `b` cannot meet). Anything else keeps a readable
lowercase form plus a hash of the parts exactly as given. Never calls AWS; the same inputs always
give the same names, so plans and live checks agree.
"""

from __future__ import annotations

import hashlib
import re

_INVALID = re.compile(r"[^a-z0-9-]+")
_PLAIN = re.compile(r"^[a-z0-9]+$")
_PLAIN_LAST = re.compile(r"^[a-z0-9]+(-[a-z0-9]+)*$")
# SageMaker endpoint / inference-component names: <= 63 chars of [a-zA-Z0-9-], no leading/trailing '-'.
SAGEMAKER_NAME_MAX = 63
# Room left for the longest suffix added to the base ("-no-capacity-wake", "-target-tracking").
BASE_MAX = 40
_DIGEST = 8


def _kept_as_written(parts: list[str]) -> bool:
    *head, last = parts
    return all(_PLAIN.match(p) for p in head) and bool(_PLAIN_LAST.match(last))


def physical_base(*parts: str) -> str:
    """A name base from parts (e.g. project, stack, tenant); distinct parts never give the same base."""
    given = [p for p in parts if p]
    if not given:
        raise ValueError("a physical name needs at least one non-empty part")
    clean = re.sub(r"-{2,}", "-", _INVALID.sub("-", "-".join(given).lower())).strip("-")
    if _kept_as_written(given) and len(clean) <= BASE_MAX:
        return clean
    digest = hashlib.sha256("\0".join(given).encode()).hexdigest()[:_DIGEST]
    head = clean[: BASE_MAX - _DIGEST - 1].rstrip("-")
    return f"{head}-{digest}" if head else digest
