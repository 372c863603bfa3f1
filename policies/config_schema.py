"""Each policy's configuration schema and defaults, and the check the Pulumi CLI applies to them.

Pure data plus jsonschema: never imports pulumi_policy, so `sagezero check` can reject a bad
`--policy-config` file before anything runs, with the same schema the pack reports over gRPC.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

import jsonschema

from sagezero.jsonfile import JsonFileError, read_json

SCHEMAS: dict[str, dict[str, dict[str, Any]]] = {
    "endpoint-min-instance-zero": {
        "requireOnInferenceComponentEndpoints": {
            "type": "boolean",
            "default": True,
            "description": "Also require managed instance scaling on variants that host inference components.",
        },
    },
    "scaling-ceilings": {
        "maxInstanceCount": {
            "type": "integer",
            "minimum": 1,
            "default": 10,
            "description": "Highest MaxInstanceCount.",
        },
        "maxCopies": {
            "type": "integer",
            "minimum": 1,
            "default": 10,
            "description": "Highest copy-count max capacity.",
        },
    },
    "instance-type-allowlist": {
        "allowedInstanceTypes": {
            "type": "array",
            "items": {"type": "string"},
            "default": [
                "ml.t3.*",
                "ml.m5.*",
                "ml.m6i.*",
                "ml.c5.*",
                "ml.c6i.*",
                "ml.c7i.*",
                "ml.g4dn.*",
                "ml.g5.*",
                "ml.g6.*",
                "ml.inf2.*",
            ],
            "description": "Glob patterns of the instance types the org allows.",
        },
    },
    "required-tags": {
        "requiredTags": {
            "type": "array",
            "items": {"type": "string"},
            "default": ["cost-center"],
            "description": "Tag keys every SageMaker model, endpoint config, endpoint and inference component carries.",
        },
    },
    "step-cooldown-covers-cold-start": {
        "minStepCooldownS": {
            "type": "integer",
            "minimum": 0,
            "default": 300,
            "description": "Shortest step-policy cooldown when more than one copy is allowed (about a cold start).",
        },
    },
    "execution-role-least-privilege": {
        "forbiddenManagedPolicies": {
            "type": "array",
            "items": {"type": "string"},
            "default": ["AdministratorAccess", "PowerUserAccess", "AmazonSageMakerFullAccess", "IAMFullAccess"],
            "description": "Managed policy names a SageMaker execution role must not carry.",
        },
    },
}
POLICIES_WITHOUT_CONFIG = (
    "inference-component-scalable-target-min-zero",
    "scale-from-zero-alarm",
    "scale-to-zero-target-tracking",
    "ecr-scan-and-immutable-tags",
    "endpoint-config-kms-key",
    "explicit-container-startup-timeout",
    "least-outstanding-requests-routing",
    "serverless-provisioned-concurrency",
    "async-bucket-private-and-encrypted",
    "model-in-vpc",
    "model-network-isolation",
)
ALL_POLICIES = (*SCHEMAS, *POLICIES_WITHOUT_CONFIG)
ENFORCEMENT_LEVELS = ("advisory", "mandatory", "remediate", "disabled")


class PolicyConfigError(ValueError):
    """A policy config file or value the pack cannot use; the message names the policy and key."""


def defaults(policy: str) -> dict[str, Any]:
    return {k: v["default"] for k, v in SCHEMAS.get(policy, {}).items() if "default" in v}


def json_schema(policy: str) -> dict[str, Any]:
    """The schema the CLI validates a policy's config against (unknown keys are rejected)."""
    props = {"enforcementLevel": {"type": "string", "enum": list(ENFORCEMENT_LEVELS)}}
    props.update({k: {kk: vv for kk, vv in v.items() if kk != "default"} for k, v in SCHEMAS.get(policy, {}).items()})
    return {"type": "object", "properties": props, "additionalProperties": False}


def _validate_one(policy: str, value: Any) -> list[str]:
    if isinstance(value, str):
        value = {"enforcementLevel": value}
    validator = jsonschema.Draft7Validator(json_schema(policy))
    problems = []
    for err in sorted(validator.iter_errors(value), key=lambda e: list(e.path)):
        where = ".".join(str(p) for p in err.path)
        problems.append(f"{policy}{'.' + where if where else ''}: {err.message}")
    return problems


def resolve(policy: str, given: Mapping[str, Any] | None) -> dict[str, Any]:
    """Defaults overlaid with the given config; PolicyConfigError when it does not fit the schema."""
    given = dict(given or {})
    problems = _validate_one(policy, given)
    if problems:
        raise PolicyConfigError("; ".join(problems))
    given.pop("enforcementLevel", None)
    return {**defaults(policy), **given}


def load_file(path: Path) -> dict[str, Any]:
    """A `--policy-pack-config` JSON file, checked as the CLI checks it: every problem at once."""
    try:
        doc = read_json(path)
    except JsonFileError as e:
        raise PolicyConfigError(str(e)) from None
    if not isinstance(doc, dict):
        raise PolicyConfigError(f"{path}: expected a JSON object keyed by policy name")
    problems = []
    for name, value in doc.items():
        if name == "all":
            if value not in ENFORCEMENT_LEVELS:
                problems.append(f"all: {value!r} is not one of {', '.join(ENFORCEMENT_LEVELS)}")
            continue
        if name not in ALL_POLICIES:
            problems.append(f"{name}: no such policy in this pack; known: {', '.join(ALL_POLICIES)}")
            continue
        problems.extend(_validate_one(name, value))
    if problems:
        raise PolicyConfigError(f"{path}: " + "; ".join(problems))
    return doc
