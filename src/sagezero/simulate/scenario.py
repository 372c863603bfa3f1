"""What to simulate: one tenant's settings, the traffic profile, the client behaviour, and overrides.

A traffic profile is a flat mapping with camelCase keys, the same in `sagezero:traffic` stack config
and on the command line, so `plan`'s monthly estimate and `simulate` read it one way. Every bad key
or value is reported with where it came from and what was expected; numbers must be finite and not
negative (a NaN hold or deadline would never end, a negative one would end before it began).
"""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from sagezero import clientbehaviour as behaviour
from sagezero.mechanics import Mechanics, MechanicsError, override
from sagezero.quote import excerpt
from sagezero.settings import CAMEL_TO_FIELD, FIELD_NAMES, EndpointSettings, Mode, build_settings, camel
from sagezero.simulate import traffic as tg
from sagezero.simulate.engine import Client, ClientSettings, SimConfig
from sagezero.simulate.machinery import AsyncMachinery, Machinery
from sagezero.simulate.prices import PriceTable
from sagezero.simulate.traffic import Traffic, TrafficError

if TYPE_CHECKING:
    from sagezero.stackconfig import StackConfig

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
# The `simulate` options that set a profile key: option attribute -> key.
FLAG_KEYS = {
    "requests_per_day": "requestsPerDay",
    "sessions_per_day": "sessionsPerDay",
    "days": "days",
    "client": "client",
    "hold_minutes": "holdMinutes",
    "deadline": "deadlineS",
    "seed": "seed",
    "trace_tenant": "tenant",
}
_EXCERPT = 40


def _show(value: Any) -> str:
    """A value in a message, cut short: a megabyte of YAML is named, not echoed."""
    return excerpt(value, _EXCERPT)


def _raw(text: str) -> str:
    """A value as typed after `--set KEY=`: as it is when short, else an excerpt."""
    return text if len(text) <= _EXCERPT else _show(text)


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
    async_machinery: AsyncMachinery | None = None
    """An asynchronous endpoint's deployed wiring (`--export`); None: the async wiring for `settings`."""

    @property
    def is_async(self) -> bool:
        """The tenant is an asynchronous endpoint: its own figures are the async engine's run."""
        return self.async_machinery is not None or self.settings.mode is Mode.ASYNC

    def client(self) -> ClientSettings:
        p = self.merged()
        try:
            mode = Client(p["client"])
        except ValueError:
            raise ScenarioError(
                f"{self.label}: client {_show(p['client'])} must be one of {', '.join(c.value for c in Client)}"
            ) from None
        # the limits the real client keeps (`warm`, RetryPolicy): a client it refuses is not simulated
        hold, deadline = float(p["holdMinutes"]), float(p["deadlineS"])
        if (problem := behaviour.hold_minutes_problem(hold)) is not None:
            raise ScenarioError(f"{self.label}: holdMinutes: {problem}, got {_show(p['holdMinutes'])}")
        if (problem := behaviour.deadline_problem(deadline)) is not None:
            raise ScenarioError(f"{self.label}: deadlineS: {problem}, got {_show(p['deadlineS'])}")
        return ClientSettings(mode=mode, hold_s=hold * 60, deadline_s=deadline)

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
        raise ScenarioError(f"{self.label}: traffic kind {_show(kind)} must be one of {', '.join(KINDS)}")

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
            self.settings,
            instance,
            self.mechanics,
            client,
            seed=int(self.merged()["seed"]),
            machinery=self.machinery,
            async_machinery=self.async_machinery,
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
            problems.append(f"{where}.{_show(key)}: unknown key; known: {', '.join(PROFILE_KEYS)}")
            continue
        typ = PROFILE_KEYS[key][0]
        if _is_number(value) and not math.isfinite(value):
            problems.append(f"{where}.{key}: expected a finite number, got {_show(value)}")
        elif _is_number(value) and value < 0:
            problems.append(f"{where}.{key}: expected a number >= 0, got {_show(value)}")
        elif typ is float and _is_number(value):
            out[key] = float(value)
        elif typ is int and _is_number(value) and (isinstance(value, int) or float(value).is_integer()):
            out[key] = int(value)
        elif typ is str and isinstance(value, str):
            out[key] = value
        elif typ is list and isinstance(value, list) and all(_is_number(v) and 0 <= v < math.inf for v in value):
            out[key] = [float(v) for v in value]
        else:
            shape = (
                "a list of finite numbers >= 0" if typ is list else ("a whole number" if typ is int else typ.__name__)
            )
            problems.append(f"{where}.{key}: expected {shape}, got {_show(value)}")
    if problems:
        raise ScenarioError("\n".join(problems))
    return out


def _is_number(value: Any) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool)


def profile_from_flags(traffic: str | None, flags: Mapping[str, Any]) -> dict[str, Any]:
    """The profile keys the `simulate` options set (`traffic`: a generator name or a trace file;
    `flags`: option attribute -> value, None when not given), checked like stack config."""
    profile: dict[str, Any] = {}
    if traffic in ("sessions", "poisson"):
        profile["kind"] = traffic
    elif traffic:
        profile.update(kind="trace", trace=str(Path(traffic).resolve()))
    for attr, key in FLAG_KEYS.items():
        if flags.get(attr) is not None:
            profile[key] = flags[attr]
    return check_profile(profile, "options")


def scenarios(
    config: StackConfig | None,
    project_dir: Path,
    tenant: str | None,
    flags_profile: Mapping[str, Any],
    *,
    assignments: Sequence[str] = (),
    export: Path | None = None,
) -> list[Scenario]:
    """What `simulate` runs: each tenant of the stack (its `sagezero:traffic` under the options'
    profile), or each inference component of a stack export (its real wiring), or the seed's
    settings without either; then every `--set KEY=VALUE`."""
    if export is not None:
        from sagezero.simulate.exported import scenarios_from_export  # it imports this module

        if config is not None:
            raise ScenarioError("--export and --stack are two sources of tenants: give one")
        found = scenarios_from_export(export, flags_profile, tenant)
    elif config is not None:
        from sagezero.simulate import scenarios_for_stack  # the package imports this module

        found = [
            Scenario(sc.label, sc.settings, {**sc.profile, **flags_profile}, base_dir=project_dir)
            for sc in scenarios_for_stack(config, project_dir, tenant)
        ]
    else:
        if tenant:
            raise ScenarioError("--tenant needs --stack or --export")
        found = [Scenario("the seed's settings", EndpointSettings(), dict(flags_profile))]
    overrides = [parse_assignment(text) for text in assignments]
    return [apply_all(sc, overrides) for sc in found]


def parse_assignment(text: str) -> tuple[str, str]:
    key, sep, value = text.partition("=")
    if not sep or not key.strip() or not value.strip():
        raise ScenarioError(f"--set {_show(text)}: expected KEY=VALUE")
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
        _check_finite(key, value)
        if key in CAMEL_TO_FIELD or key in FIELD_NAMES:
            given[camel(CAMEL_TO_FIELD.get(key, key))] = value
        elif key in PROFILE_KEYS and PROFILE_KEYS[key][0] is list:
            profile.update(check_profile({key: [_number_or_text(v.strip()) for v in value.split(",")]}, "--set"))
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
    if given and (scenario.machinery is not None or scenario.async_machinery is not None):
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
                f"--set {p.key}={_raw(given[p.key])}: {p.message}" if p.key in given
                else f"{p.key}: {p.message} (after --set {', '.join(f'{k}={_raw(v)}' for k, v in given.items())})"
                for p in problems
            ))  # fmt: skip
        settings = built
    return dataclasses.replace(scenario, settings=settings, profile=profile, mechanics=mechanics)


MAX_VALUE = 1024
"""Longest `--set` value: an S3 URL or a list of 24 weights fits; a pasted file does not."""


def _check_finite(key: str, value: str) -> None:
    """NaN and infinities are refused for every kind of key (settings, profile, mechanics ranges),
    and so are values no key can take, before any message would quote them."""
    if len(value) > MAX_VALUE:
        raise ScenarioError(f"--set {key[:_EXCERPT]}: a {len(value):,}-character value; at most {MAX_VALUE}")
    for part in value.replace("..", ",").split(","):
        number = _number_or_text(part.strip())
        if isinstance(number, float) and not math.isfinite(number):
            raise ScenarioError(f"--set {key}: expected finite numbers, got {_show(value)}")


def _number_or_text(value: str) -> Any:
    for conv in (int, float):
        try:
            return conv(value)
        except ValueError:
            pass
    return value
