"""The price and instance-spec table the simulator bills with: shipped, dated, sourced, overridable.

Prices drift and differ by region, so the table carries its date and source into every report,
and `--prices FILE` replaces it (same JSON shape; see prices.json). It is also the one table of
instance specs (vCPUs, memory, accelerators) from which the simulator works out how many copies
fit on an instance; which instance types exist at all is AWS's list (botocore's
ProductionVariantInstanceType), and a test holds every row of this table to it.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from importlib import resources
from pathlib import Path
from typing import Any


class PriceError(ValueError):
    """A price file that cannot be used, or an instance type it does not list."""


@dataclass(frozen=True)
class InstanceSpec:
    instance_type: str
    per_hour: float
    vcpu: int
    memory_mb: int
    accelerators: int


@dataclass(frozen=True)
class Serverless:
    per_gb_second: float
    per_gb_processed: float
    provisioned_per_gb_second: float
    max_memory_mb: int


@dataclass(frozen=True)
class PriceTable:
    date: str
    region: str
    currency: str
    source: str
    instances: dict[str, InstanceSpec]
    serverless: Serverless

    def instance(self, instance_type: str) -> InstanceSpec:
        try:
            return self.instances[instance_type]
        except KeyError:
            raise PriceError(
                f"no price for {instance_type} in the price table ({self.region}, {self.date}); "
                f"add it to a copy of prices.json and pass --prices FILE "
                f"(listed: {', '.join(sorted(self.instances))})"
            ) from None


def _number(where: str, raw: Any, key: str, *, integer: bool = False) -> Any:
    value = raw.get(key) if isinstance(raw, dict) else None
    if isinstance(value, bool) or not isinstance(value, (int, float)) or value < 0:
        raise PriceError(f"{where}.{key}: expected a number >= 0, got {value!r}")
    if integer and not float(value).is_integer():
        raise PriceError(f"{where}.{key}: expected a whole number, got {value!r}")
    return int(value) if integer else float(value)


def parse(raw: Any, where: str) -> PriceTable:
    if not isinstance(raw, dict):
        raise PriceError(f"{where}: expected a JSON object like the shipped prices.json")
    for key in ("date", "region", "currency", "source"):
        if not isinstance(raw.get(key), str):
            raise PriceError(f"{where}: {key!r} must be a string (a price table says when and where it is from)")
    instances_raw = raw.get("instances")
    if not isinstance(instances_raw, dict) or not instances_raw:
        raise PriceError(f"{where}.instances: expected a mapping of instance type to price and specs")
    instances = {
        name: InstanceSpec(
            name,
            _number(f"{where}.instances.{name}", spec, "per_hour"),
            _number(f"{where}.instances.{name}", spec, "vcpu", integer=True),
            _number(f"{where}.instances.{name}", spec, "memory_mb", integer=True),
            _number(f"{where}.instances.{name}", spec, "accelerators", integer=True),
        )
        for name, spec in instances_raw.items()
    }
    sl = raw.get("serverless")
    serverless = Serverless(
        _number(f"{where}.serverless", sl, "per_gb_second"),
        _number(f"{where}.serverless", sl, "per_gb_processed"),
        _number(f"{where}.serverless", sl, "provisioned_per_gb_second"),
        _number(f"{where}.serverless", sl, "max_memory_mb", integer=True),
    )
    return PriceTable(raw["date"], raw["region"], raw["currency"], raw["source"], instances, serverless)


def load(path: Path | None = None) -> PriceTable:
    """The shipped table, or `path`."""
    if path is None:
        text = resources.files("sagezero.simulate").joinpath("prices.json").read_text()
        return parse(json.loads(text), "prices.json")
    try:
        return parse(json.loads(path.read_text()), str(path))
    except FileNotFoundError:
        raise PriceError(f"{path}: no such file") from None
    except json.JSONDecodeError as e:
        raise PriceError(f"{path}: not JSON ({e.msg} at line {e.lineno})") from None
