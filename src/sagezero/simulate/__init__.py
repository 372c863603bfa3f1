"""`sagezero simulate`: replay traffic through the scaling machinery a tenant's endpoint gets.

Pure Python and numpy (matplotlib only for pictures); no AWS, no Pulumi. `scenario` says what to
run, `engine` runs it, `summary` turns a run into costs and user-visible waits, `sweep` walks one
setting, `render` and `plot` show the results.
"""

from __future__ import annotations

from pathlib import Path

from sagezero.settings import Mode
from sagezero.simulate.async_engine import AsyncResult, run_async
from sagezero.simulate.engine import Client, ClientSettings, SimConfig, SimResult, run
from sagezero.simulate.prices import PriceTable, load
from sagezero.simulate.scenario import Scenario, ScenarioError, check_profile
from sagezero.simulate.summary import AsyncSummary, Comparison, Summary, compare, summarise, summarise_async
from sagezero.simulate.traffic import Traffic
from sagezero.stackconfig import StackConfig

__all__ = [
    "AsyncResult",
    "AsyncSummary",
    "Client",
    "ClientSettings",
    "Comparison",
    "PriceTable",
    "Scenario",
    "ScenarioError",
    "SimConfig",
    "SimResult",
    "Summary",
    "check_profile",
    "compare",
    "load",
    "monthly_estimate",
    "run",
    "run_async",
    "run_mode",
    "scenarios_for_stack",
    "summarise",
    "summarise_async",
]


def run_mode(config: SimConfig, traffic: Traffic) -> SimResult | AsyncResult:
    """The engine the settings' mode selects: `async_engine` for an asynchronous endpoint, else the
    real-time engine (scale-to-zero; serverless is priced, not replayed)."""
    if config.settings.mode is Mode.ASYNC:
        return run_async(config, traffic)
    return run(config, traffic)


def scenarios_for_stack(config: StackConfig, project_dir: Path, tenant: str | None = None) -> list[Scenario]:
    """One scenario per tenant, with the stack's `sagezero:traffic` profile."""
    profile = check_profile(config.traffic, f"stack {config.stack!r} sagezero:traffic")
    tenants = [t for t in config.tenants if tenant is None or t.name == tenant]
    if not tenants:
        known = ", ".join(t.name for t in config.tenants)
        raise ScenarioError(f"stack {config.stack!r} has no tenant {tenant!r}; tenants: {known}")
    # A trace with a tenant column replays each tenant's own rows (rows without one count for all).
    return [
        Scenario(f"stack {config.stack}, tenant {t.name}", t.settings, {"tenant": t.name, **profile},
                 base_dir=project_dir)
        for t in tenants
    ]  # fmt: skip


def monthly_estimate(config: StackConfig, project_dir: Path, prices: PriceTable) -> dict[str, float | str]:
    """Every tenant of the stack under its traffic profile, summed and scaled to 30 days; each tenant
    replayed by the engine its mode selects (an async tenant queues, a real-time one scales copies)."""
    zero = always = cold = 0.0
    p95 = 0.0
    description = ""
    asynchronous = 0
    scenarios = scenarios_for_stack(config, project_dir)
    for s in scenarios:
        traffic = s.checked_traffic()
        description = traffic.description
        cfg = s.sim_config(prices)
        if cfg.settings.mode is Mode.ASYNC:
            asynchronous += 1
            queued = summarise_async(run_async(cfg, traffic), prices)
            zero += queued.cost_per_month
            always += summarise(run(cfg.always_on(), traffic), prices).cost_per_month
            cold += queued.cold_starts_per_day
            p95 = max(p95, queued.answer_p95_s)
            continue
        c = compare(run(cfg, traffic), prices)
        zero += c.scale_to_zero.cost_per_month
        always += c.always_on.cost_per_month
        cold += c.scale_to_zero.cold_starts_per_day
        p95 = max(p95, c.scale_to_zero.wait_p95_s)
    return {"scale_to_zero": zero, "always_on": always, "cold_starts_per_day": cold / len(scenarios),
            "wait_p95_s": p95, "traffic": description, "tenants": len(scenarios), "async_tenants": asynchronous,
            "client": scenarios[0].client().mode.value, "currency": prices.currency, "prices_date": prices.date}  # fmt: skip
