"""Terminal tables and JSON for simulation results and sweeps."""

from __future__ import annotations

import dataclasses
from typing import Any

from sagezero.simulate.engine import Client
from sagezero.simulate.machinery import async_from_settings
from sagezero.simulate.prices import PriceTable
from sagezero.simulate.scenario import Scenario
from sagezero.simulate.summary import AsyncSummary, Comparison, Summary
from sagezero.simulate.sweep import Point
from sagezero.simulate.traffic import Traffic


def _s(seconds: float | None) -> str:
    if seconds is None:
        return "-"
    if seconds < 1:
        return f"{seconds * 1000:.0f} ms"
    if seconds < 120:
        return f"{seconds:.1f} s"
    return f"{seconds / 60:.1f} min"


def _money(value: float | None, currency: str) -> str:
    if value is None:
        return "n/a"
    return f"{value:,.2f} {currency}" if value < 1000 else f"{value:,.0f} {currency}"


def settings_line(scenario: Scenario) -> str:
    s, m = scenario.settings, scenario.machinery
    if m is not None:  # a deployed wiring: describe what it holds, not the component's settings
        alarm = (
            f"alarm {m.alarm.statistic} {m.alarm.comparison} {m.alarm.threshold:g}, {m.alarm.datapoints}/"
            f"{m.alarm.evaluation_periods} x {m.alarm.period_s:g} s"
            + ("" if m.alarm.fires_step and m.alarm.sees_failures and m.alarm.actions_enabled else " (never wakes it)")
            if m.alarm
            else "no wake alarm"
        )
        step = f"step {m.step.adjustment_type}, cooldown {m.step.cooldown_s:g} s" if m.step else "no step policy"
        tracking = f"target {m.tracking.target_value:g} concurrent/copy" if m.tracking else "no target tracking"
        return (
            f"{s.instance_type}, copies {m.min_copies}..{m.max_copies} on instances {m.min_instances}.."
            f"{m.max_instances}, {tracking}, {step}, {alarm}"
        )
    return (
        f"{s.instance_type}, copies 0..{s.max_copies} on instances 0..{s.max_instance_count}, target "
        f"{s.target_value:g} concurrent/copy, scale-in cooldown {s.scale_in_cooldown_s} s, step cooldown "
        f"{s.step_cooldown_s} s, alarm {s.alarm_datapoints}/{s.alarm_evaluation_periods} x {s.alarm_period_s} s"
    )


def _users(s: Summary) -> list[tuple[str, str]]:
    n = max(1, s.requests)
    return [
        ("requests", f"{s.requests:,}"),
        ("served at once", f"{s.served:,} ({s.served / n:.1%})"),
        ("waited (cold start)", f"{s.waited:,} ({s.waited / n:.1%})"),
        ("failed", f"{s.failed:,} ({s.failed / n:.1%})"),
        *([("still retrying at the end", f"{s.unfinished:,}")] if s.unfinished else []),
        ("wait p50 / p95 / p99 / max", " / ".join(_s(v) for v in (s.wait_p50_s, s.wait_p95_s, s.wait_p99_s, s.wait_max_s))),
        ("cold starts per day", f"{s.cold_starts_per_day:.1f}"),
        ("cold start p50 / max", f"{_s(s.cold_start_p50_s)} / {_s(s.cold_start_max_s)} (copy asked -> serving)"),
        ("first failure -> serving p50", _s(s.user_cold_start_p50_s)),
        ("no-capacity answers", f"{s.no_capacity_answers:,}"),
    ]  # fmt: skip


def async_settings_line(scenario: Scenario) -> str:
    """The asynchronous endpoint's wiring: what the async engine replays for this tenant."""
    s = scenario.settings
    m = scenario.async_machinery or async_from_settings(s)
    a, st, tr = m.alarm, m.step, m.tracking
    alarm = (
        f"alarm HasBacklogWithoutCapacity {a.statistic} {a.comparison} {a.threshold:g}, {a.datapoints}/"
        f"{a.evaluation_periods} x {a.period_s:g} s"
        + ("" if m.alarm_runs_step() and a.sees_failures else " (never wakes it)")
        if a
        else "no wake alarm"
    )
    step = f"step {st.adjustment_type}, cooldown {st.cooldown_s:g} s" if st else "no step policy"
    tracking = f"backlog target {tr.target_value:g} per instance" if tr else "no target tracking"
    return (
        f"{s.instance_type}, instances {m.min_instances}..{m.max_instances}, {m.concurrency} request(s) at once "
        f"per instance, {tracking}, {step}, {alarm}"
    )


def _async_users(q: AsyncSummary) -> list[tuple[str, str]]:
    n = max(1, q.requests)
    return [
        ("requests", f"{q.requests:,}"),
        ("answered", f"{q.answered:,} ({q.answered / n:.1%})"),
        ("queued for a cold start", f"{q.cold:,} ({q.cold / n:.1%})"),
        *([("never answered", f"{q.unanswered:,} ({q.expired:,} expired in the queue, {q.timed_out:,} timed out)")] if q.unanswered else []),
        ("answer p50 / p95 / p99 / max", " / ".join(_s(v) for v in (q.answer_p50_s, q.answer_p95_s, q.answer_p99_s, q.answer_max_s))),
        ("queue wait p99", _s(q.queue_wait_p99_s)),
        ("cold starts per day", f"{q.cold_starts_per_day:.1f}"),
        ("cold start p50", f"{_s(q.cold_start_p50_s)} (first request queued -> instance in service)"),
        ("peak instances", f"{q.peak_instances:,}"),
    ]  # fmt: skip


def text(scenario: Scenario, traffic: Traffic, comparison: Comparison, prices: PriceTable) -> str:
    z, sl, q = comparison.scale_to_zero, comparison.serverless, comparison.async_
    cur = prices.currency
    client = scenario.client()
    queued = scenario.is_async and q is not None
    out = [
        f"sagezero simulate — {scenario.label}",
        f"  traffic   {traffic.description}",
        f"  client    {client.mode.value}"
        + (f", warm hold {client.hold_s / 60:g} min" if client.mode is not Client.PLAIN else "")
        + (" (the real-time columns; async requests queue)" if queued else ""),
        f"  settings  {async_settings_line(scenario) if queued else settings_line(scenario)}",
        *(
            [
                "  (an asynchronous endpoint: the lines below are its async run; the scale-to-zero and always-on "
                "columns replay the real-time machinery on the same instance type, for comparison)"
            ]
            if queued
            else []
        ),
        "",
    ]
    rows = _async_users(q) if queued and q is not None else _users(z)
    width = max(len(k) for k, _ in rows)
    out += [f"  {k:<{width}}  {v}" for k, v in rows]
    out += ["", *_table(comparison, cur, scenario.mechanics.copy_concurrency)]
    out += [
        "",
        f"  serverless: {sl.reason}",
        f"  prices: {prices.region}, {prices.date} ({prices.source.split(' ')[0]})",
    ]
    return "\n".join(out)


def _table(c: Comparison, cur: str, copy_concurrency: int = 1) -> list[str]:
    """The modes side by side on the same traffic; the async column only when it was run."""
    z, a, sl, q = c.scale_to_zero, c.always_on, c.serverless, c.async_
    cols = [("scale to zero", 16), *([("async", 16)] if q is not None else []), ("always on (min 1)", 20),
            ("serverless", 14)]  # fmt: skip

    def row(label: str, zv: str, qv: str, av: str, sv: str) -> str:
        values = [zv, *([qv] if q is not None else []), av, sv]
        return f"  {label:<24}" + "".join(f"{v:>{w}}" for v, (_, w) in zip(values, cols, strict=True))

    def touched(s: Summary) -> str:
        return f"{s.touched:,} ({s.touched / max(1, s.requests):.1%})"

    qn = max(1, q.requests) if q is not None else 1
    out = [
        f"  {'':<24}" + "".join(f"{name:>{w}}" for name, w in cols),
        row("copy-hours", f"{z.copy_hours:,.1f}", "-", f"{a.copy_hours:,.1f}", "-"),
        row("instance-hours", f"{z.instance_hours:,.1f}", f"{q.instance_hours:,.1f}" if q else "", f"{a.instance_hours:,.1f}", "-"),
        row("cost, this run", _money(z.cost, cur), _money(q.cost, cur) if q else "", _money(a.cost, cur), _money(sl.cost, cur)),
        row("cost per 30 days", _money(z.cost_per_month, cur), _money(q.cost_per_month, cur) if q else "",
            _money(a.cost_per_month, cur), _money(sl.cost_per_month, cur)),
        row("answer p50", _s(z.answer_p50_s), _s(q.answer_p50_s) if q else "", _s(a.answer_p50_s), "-"),
        row("answer p95", _s(z.answer_p95_s), _s(q.answer_p95_s) if q else "", _s(a.answer_p95_s), "-"),
        row("answer p99", _s(z.answer_p99_s), _s(q.answer_p99_s) if q else "", _s(a.answer_p99_s), "-"),
        row("wait p99", _s(z.wait_p99_s), _s(q.queue_wait_p99_s) if q else "", _s(a.wait_p99_s), "-"),
        row("touched by a cold start", touched(z), f"{q.cold:,} ({q.cold / qn:.1%})" if q else "", touched(a), "-"),
        row("failed", f"{z.failed:,}", f"{q.unanswered:,}" if q else "", f"{a.failed:,}", "-"),
        row("retried", f"{z.retried:,}", "0" if q else "", f"{a.retried:,}", "-"),
    ]  # fmt: skip
    if q is not None:
        out += [
            "",
            f"  async: same instance type, {q.concurrency} request(s) at once per instance (real-time: "
            f"{copy_concurrency} per copy), "
            + (
                "no target tracking"
                if q.backlog_target is None
                else f"backlog target {q.backlog_target:g} per instance"
            )
            + f", woken by {q.woken_by};",
            "  requests queue instead of failing (answer = queue wait + service); cold start p50 "
            f"{_s(q.cold_start_p50_s)} (first request queued -> instance in service)",
        ]
    return out


def _async_json(s: AsyncSummary) -> dict[str, Any]:
    return {**dataclasses.asdict(s), "cost_per_month": s.cost_per_month}


def sweep_text(scenario: Scenario, key: str, points: list[Point], knee: int | None, prices: PriceTable) -> str:
    out = [
        f"sagezero simulate --sweep {key} — {scenario.label}",
        f"  settings  {settings_line(scenario)}",
        "",
        f"  {key:>16} {'cost/30 days':>14} {'touched':>9} {'failed':>8} {'wait p95':>10} {'wait p99':>10} "
        f"{'cold/day':>9} {'inst-h':>8}",
    ]
    for i, p in enumerate(points):
        s = p.summary
        mark = "  <- knee" if i == knee else ""
        out.append(
            f"  {p.value:>16} {_money(s.cost_per_month, prices.currency):>14} {p.touched:>9.2%} {s.failed:>8,} "
            f"{_s(s.wait_p95_s):>10} {_s(s.wait_p99_s):>10} {s.cold_starts_per_day:>9.1f} {s.instance_hours:>8.1f}{mark}"
        )
    out += ["", "  touched: share of requests that waited for a cold start or failed"]
    if knee is None:
        out.append("  no knee: the frontier has fewer than three efficient points, or is a straight line")
    return "\n".join(out)


def _summary_json(s: Summary) -> dict[str, Any]:
    return {**dataclasses.asdict(s), "cost_per_month": s.cost_per_month, "touched": s.touched}


def as_json(scenario: Scenario, traffic: Traffic, comparison: Comparison, prices: PriceTable) -> dict[str, Any]:
    return {
        "label": scenario.label,
        "traffic": {
            "description": traffic.description,
            "requests": int(traffic.arrivals.size),
            "logins": int(traffic.logins.size),
            "days": traffic.days,
        },
        "client": dataclasses.asdict(scenario.client()),
        "settings": {
            k: v for k, v in dataclasses.asdict(scenario.settings).items() if k not in ("environment", "tags")
        },
        "mechanics": dataclasses.asdict(scenario.mechanics),
        **({"machinery": dataclasses.asdict(scenario.machinery)} if scenario.machinery is not None else {}),
        "headline": "async" if scenario.is_async and comparison.async_ is not None else "scale_to_zero",
        **({"async_machinery": dataclasses.asdict(scenario.async_machinery)} if scenario.async_machinery else {}),
        "scale_to_zero": _summary_json(comparison.scale_to_zero),
        "always_on": _summary_json(comparison.always_on),
        "serverless": {
            **dataclasses.asdict(comparison.serverless),
            "cost_per_month": comparison.serverless.cost_per_month,
        },
        **({"async": _async_json(comparison.async_)} if comparison.async_ is not None else {}),
        "prices": {"date": prices.date, "region": prices.region, "currency": prices.currency, "source": prices.source},
    }


def sweep_json(key: str, points: list[Point], knee: int | None) -> dict[str, Any]:
    return {
        "key": key,
        "knee": points[knee].value if knee is not None else None,
        "points": [{"value": p.value, "touched": p.touched, **_summary_json(p.summary)} for p in points],
    }
