"""`plan`'s one-line monthly estimate: the stack's tenants under its `sagezero:traffic` profile."""

from __future__ import annotations

from sagezero.plan.engine import Plan
from sagezero.plan.render import Section
from sagezero.stackconfig import project_dir_default

TITLE = "Monthly estimate"


def cost_section(plan: Plan) -> Section:
    if not plan.config.traffic:
        return Section(TITLE, ["no traffic profile: add sagezero:traffic to the stack config (docs/simulator.md)"],
                       None, "cost")  # fmt: skip
    try:
        from sagezero.simulate import ScenarioError, load, monthly_estimate
        from sagezero.simulate.prices import PriceError
    except ImportError:
        return Section(TITLE, ["the estimate needs the simulator: pip install 'sagezero[simulate]'"], None, "cost")
    try:
        e = monthly_estimate(plan.config, plan.project_dir or project_dir_default(), load())
    except (ScenarioError, PriceError, ValueError) as err:
        return Section(TITLE, [f"cannot estimate: {err}"], None, "cost", failed=True)
    cur = e["currency"]
    line = (
        f"~{e['scale_to_zero']:,.0f} {cur}/30 days scaling to zero vs {e['always_on']:,.0f} {cur} always on "
        f"({e['tenants']} tenant(s){_of_which_async(e)}; {e['cold_starts_per_day']:.1f} cold starts/day each; p95 wait "
        f"{e['wait_p95_s']:.1f} s; client {e['client']}; {e['traffic']}; prices {e['prices_date']})"
    )
    return Section(TITLE, [line], e, "cost")


def _of_which_async(e: dict[str, float | str]) -> str:
    """Async tenants are replayed as queues (their p95 is the time to answer, not a retry wait)."""
    n = e.get("async_tenants") or 0
    return f", {n:g} async" if n else ""
