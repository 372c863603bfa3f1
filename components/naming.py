"""Physical AWS names for a component's children: readable, unique per stack, within AWS limits.

Never calls AWS; the same inputs always give the same names, so plans and live checks agree.
"""

from __future__ import annotations

import hashlib
import re

_INVALID = re.compile(r"[^a-zA-Z0-9-]+")
# SageMaker endpoint / inference-component names: <= 63 chars of [a-zA-Z0-9-], no leading/trailing '-'.
SAGEMAKER_NAME_MAX = 63
# Room left for the longest suffix added to the base ("-no-capacity-wake", "-target-tracking").
BASE_MAX = 40


def physical_base(*parts: str) -> str:
    """A name base from parts (e.g. project, stack, tenant), shortened with a stable hash when long."""
    raw = "-".join(p for p in parts if p)
    clean = _INVALID.sub("-", raw).strip("-")
    clean = re.sub(r"-{2,}", "-", clean)
    if len(clean) <= BASE_MAX:
        return clean
    digest = hashlib.sha256(raw.encode()).hexdigest()[:8]
    return f"{clean[: BASE_MAX - 9].rstrip('-')}-{digest}"
