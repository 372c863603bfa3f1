"""What to simulate: one tenant's settings, the traffic profile, the client behaviour, and overrides.

A traffic profile is a flat mapping with camelCase keys, the same in `sagezero:traffic` stack config
and on the command line, so `plan`'s monthly estimate and `simulate` read it one way. Every bad key
or value is reported with where it came from and what was expected.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from sagezero import clientbehaviour as behaviour
from sagezero.mechanics import Mechanics, MechanicsError, override
from sagezero.settings import CAMEL_TO_FIELD, FIELD_NAMES, EndpointSettings, build_settings, camel
from sagezero.simulate import traffic as tg
from sagezero.simulate.engine import Client, ClientSettings, SimConfig
from sagezero.simulate.machinery import Machinery
from sagezero.simulate.prices import PriceTable
from sagezero.simulate.traffic import Traffic, TrafficError

KINDS = ("sessions", "poisson", "trace")
# key -> (type, default); the generator keys, then the client keys
PROFILE_KEYS: dict[str, tuple[type, Any]] = {
    "kind": (str, "sessions"),
    "trace": (str, None),
    "tenant": (str, None),
    "days": (int, 30),
    "seed": (int, 0),
    "requestsPerDay": (float, 2000.0),
    "sessionsPerDay": (float, 20.0),
    "requestsPerSession": (float, 20.0),
    "sessionMinutes": (float, 15.0),
    "firstRequestS": (float, 60.0),
    "weekend": (float, 0.3),
    "serviceMs": (float, 200.0),
    "serviceSigma": (float, 0.5),
    "hourly": (list, None),
    "client": (str, "retry"),
    "holdMinutes": (float, behaviour.HOLD_MINUTES),
    "deadlineS": (float, behaviour.DEADLINE_S),
}
CLIENT_KEYS = ("client", "holdMinutes", "deadlineS")


class ScenarioError(ValueError):
    """A setting, profile key or override that cannot be simulated, with where it came from."""


@dataclass(frozen=True)
class Scenario:
    label: str
    settings: EndpointSettings
    profile: Mapping[str, Any]
    mechanics: Mechanics = field(default_factory=Mechanics)
    base_dir: Path = Path(".")
    machinery: Machinery | None = None
    """The scaling wiring to replay; None: what the component deploys for `settings`."""

    def client(self) -> ClientSettings:
        p = self.merged()
        try:
            mode = Client(p["client"])
        except ValueError:
            raise ScenarioError(
                f"{self.label}: client {p['client']!r} must be one of {', '.join(c.value for c in Client)}"
            ) from None
        return ClientSettings(mode=mode, hold_s=float(p["holdMinutes"]) * 60, deadline_s=float(p["deadlineS"]))

    def merged(self) -> dict[str, Any]:
        return {**{k: d for k, (_, d) in PROFILE_KEYS.items()}, **self.profile}

    def traffic(self) -> Traffic:
        p = self.merged()
        kind = p["kind"]
        hourly = tuple(p["hourly"]) if p["hourly"] else tg.BUSINESS_HOURS
        common: dict[str, Any] = {"days": int(p["days"]), "seed": int(p["seed"]), "hourly": hourly, "weekend": float(p["weekend"]),
                  "service_ms": float(p["serviceMs"]), "service_sigma": float(p["serviceSigma"])}  # fmt: skip
        try:
            if kind == "poisson":
                return tg.poisson(requests_per_day=float(p["requestsPerDay"]), **common)
            if kind == "sessions":
                return tg.sessions(
                    sessions_per_day=float(p["sessionsPerDay"]),
                    requests_per_session=float(p["requestsPerSession"]),
                    session_minutes=float(p["sessionMinutes"]),
                    first_request_s=float(p["firstRequestS"]),
                    **common,
                )
            if kind == "trace":
                if not p["trace"]:
                    raise TrafficError("kind trace needs trace: FILE (CSV or JSON lines)")
                path = Path(p["trace"])
                return tg.load_trace(path if path.is_absolute() else self.base_dir / path, tenant=p["tenant"],
                                     default_service_ms=float(p["serviceMs"]))  # fmt: skip
        except TrafficError as e:
            raise ScenarioError(f"{self.label}: {e}") from None
        raise ScenarioError(f"{self.label}: traffic kind {kind!r} must be one of {', '.join(KINDS)}")

    def checked_traffic(self) -> Traffic:
        """The traffic, refused when the client cannot act on it (warm on login without logins)."""
        traffic = self.traffic()
        if self.client().mode is Client.WARM and traffic.logins.size == 0:
            raise ScenarioError(
                f"{self.label}: client 'warm' warms on login, and {traffic.description} has no logins; "
                "add event=login rows to the trace, or use client retry"
            )
        return traffic

    def sim_config(self, prices: PriceTable) -> SimConfig:
        client = self.client()
        instance = prices.instance(self.settings.instance_type)
        config = SimConfig(
            self.settings, instance, self.mechanics, client, seed=int(self.merged()["seed"]), machinery=self.machinery
        )
        if (problem := config.fit_problem()) is not None:
            raise ScenarioError(f"{self.label}: {problem}")
        if client.mode is Client.WARM and self.merged()["kind"] == "poisson":
            raise ScenarioError(
                f"{self.label}: client 'warm' warms on login, and poisson traffic has no logins; "
                "use kind: sessions, or a trace with event=login rows"
            )
        return config


def check_profile(raw: Any, where: str) -> dict[str, Any]:
    """A traffic profile with every key known and typed; errors name `where` and the key."""
    if not isinstance(raw, Mapping):
        raise ScenarioError(f"{where}: expected a mapping of traffic settings (see docs/simulator.md)")
    out: dict[str, Any] = {}
    problems: list[str] = []
    for key, value in raw.items():
        if key not in PROFILE_KEYS:
            problems.append(f"{where}.{key}: unknown key; known: {', '.join(PROFILE_KEYS)}")
            continue
        typ = PROFILE_KEYS[key][0]
        if typ is float and isinstance(value, (int, float)) and not isinstance(value, bool):
            out[key] = float(value)
        elif typ is int and isinstance(value, int) and not isinstance(value, bool):
            out[key] = value
        elif typ is int and isinstance(value, float) and value.is_integer():
            out[key] = int(value)
        elif (typ is str and isinstance(value, str)) or (
            typ is list and isinstance(value, list) and all(isinstance(v, (int, float)) for v in value)
        ):
            out[key] = value
        else:
            problems.append(f"{where}.{key}: expected {typ.__name__}, got {value!r}")
    if problems:
        raise ScenarioError("\n".join(problems))
    return out


def parse_assignment(text: str) -> tuple[str, str]:
    key, sep, value = text.partition("=")
    if not sep or not key.strip() or not value.strip():
        raise ScenarioError(f"{text!r}: expected KEY=VALUE")
    return key.strip(), value.strip()


def apply(scenario: Scenario, key: str, value: str) -> Scenario:
    return apply_all(scenario, [(key, value)])


def apply_all(scenario: Scenario, assignments: list[tuple[str, str]]) -> Scenario:
    """Overrides, each an endpoint setting (camelCase, as in stack config), a traffic/client profile key,
    or a mechanics constant (see `sagezero.mechanics`). Endpoint settings are checked together, so
    `instanceType` and `accelerators` can change in one go."""
    mechanics_names = {f.name for f in dataclasses.fields(Mechanics)}
    given: dict[str, str] = {}
    profile = dict(scenario.profile)
    mechanics = scenario.mechanics
    for key, value in assignments:
        if key in CAMEL_TO_FIELD or key in FIELD_NAMES:
            given[camel(CAMEL_TO_FIELD.get(key, key))] = value
        elif key in PROFILE_KEYS:
            profile.update(check_profile({key: _number_or_text(value)}, "--set"))
        elif key in mechanics_names:
            try:
                mechanics = override(mechanics, {key: value})
            except MechanicsError as e:
                raise ScenarioError(f"--set {e}") from None
        else:
            raise ScenarioError(
                f"--set {key}: not an endpoint setting, traffic key or mechanics constant "
                f"(endpoint settings: {', '.join(sorted(CAMEL_TO_FIELD))}; traffic: {', '.join(PROFILE_KEYS)}; "
                f"mechanics: {', '.join(sorted(mechanics_names))})"
            )
    settings = scenario.settings
    if given and scenario.machinery is not None:
        raise ScenarioError(
            f"{scenario.label}: --set {', '.join(given)}: this tenant replays its deployed wiring (--export); change "
            "the stack and export it again, or simulate the stack config with --stack"
        )
    if given:
        raw = {camel(k): v for k, v in dataclasses.asdict(settings).items() if v is not None}
        raw.update({k: _number_or_text(v) for k, v in given.items()})
        built, problems = build_settings(raw, camel_keys=True)
        if built is None:
            raise ScenarioError("; ".join(
                f"--set {p.key}={given[p.key]}: {p.message}" if p.key in given
                else f"{p.key}: {p.message} (after --set {', '.join(f'{k}={v}' for k, v in given.items())})"
                for p in problems
            ))  # fmt: skip
        settings = built
    return dataclasses.replace(scenario, settings=settings, profile=profile, mechanics=mechanics)


def _number_or_text(value: str) -> Any:
    for conv in (int, float):
        try:
            return conv(value)
        except ValueError:
            pass
    return value
