"""`simulate`: replay traffic through the scaling machinery before deploying.

The options become a traffic profile and scenarios in `sagezero.simulate.scenario` (the same code
reads `sagezero:traffic`), so this module only parses, reports and writes.
"""

from __future__ import annotations

import argparse
import json
import math
import sys
from pathlib import Path
from typing import TYPE_CHECKING

from sagezero import clientbehaviour as behaviour
from sagezero.cli.common import (
    EXIT_OK,
    deadline_seconds,
    excerpt,
    existing_dir,
    fail,
    hold_minutes,
    number,
    output_file,
    read_text,
    text,
    whole,
)

if TYPE_CHECKING:
    from sagezero.simulate.prices import PriceTable
    from sagezero.simulate.scenario import Scenario

MAX_PRICES_BYTES = 16 * 1024 * 1024
MODES = ("scale-to-zero", "async", "always-on", "serverless")
"""What `--modes` names; only `async` costs a run of its own that can be left out."""


def _modes(value: str) -> frozenset[str]:
    """`--modes a,b`: known names only, so a typo is refused rather than silently dropping a column."""
    names = frozenset(v.strip() for v in value.split(",") if v.strip())
    unknown = sorted(names - set(MODES))
    if unknown or not names:
        raise argparse.ArgumentTypeError(f"expected a comma-separated list of {', '.join(MODES)}, got {excerpt(value)}")
    return names


def _scenarios(args: argparse.Namespace) -> list[Scenario]:
    from sagezero.simulate.scenario import FLAG_KEYS, ScenarioError, profile_from_flags, scenarios
    from sagezero.stackconfig import StackConfigError, load_stack, project_dir_default

    try:
        flags = profile_from_flags(args.traffic, {attr: getattr(args, attr) for attr in FLAG_KEYS})
        config = None
        project_dir = existing_dir(args.project_dir, "--project-dir") if args.project_dir else project_dir_default()
        if args.stack:
            try:
                config = load_stack(project_dir, args.stack)
            except StackConfigError as e:
                fail(str(e))
        export = Path(args.export) if args.export else None
        return scenarios(config, project_dir, args.tenant, flags, assignments=args.set or [], export=export)
    except ScenarioError as e:
        fail(str(e))


def _prices(path: str | None) -> PriceTable:
    from sagezero.jsonfile import JsonFileError, loads
    from sagezero.simulate.prices import PriceError, load, parse

    try:
        if path is None:
            return load()
        return parse(loads(read_text(path, "--prices", limit=MAX_PRICES_BYTES), path), path)
    except (PriceError, JsonFileError) as e:
        fail(str(e))


def cmd_simulate(args: argparse.Namespace) -> int:
    try:
        from sagezero.simulate import ScenarioError, compare, run
        from sagezero.simulate import render as sim_render
        from sagezero.simulate import sweep as sim_sweep
        from sagezero.simulate.prices import PriceError
    except ImportError:
        fail("the simulator needs numpy: pip install 'sagezero[simulate]'")
    from sagezero.simulate.plot import PlotError

    png = output_file(args.png, "--png") if args.png else None
    page = output_file(args.html, "--html") if args.html else None
    scenarios = _scenarios(args)
    prices = _prices(args.prices)
    if (args.sweep or png or page) and len(scenarios) > 1:
        fail(f"--sweep, --png and --html take one tenant; this stack has {len(scenarios)}: pick one with --tenant")
    if (args.sweep or png or page) and scenarios[0].is_async:
        fail(f"--sweep, --png and --html replay the real-time machinery, and {scenarios[0].label} is an asynchronous "
             "endpoint: simulate it without them (its async run is the headline)")  # fmt: skip
    docs: list[dict[str, object]] = []
    texts: list[str] = []
    try:
        sweep_over = sim_sweep.parse(args.sweep) if args.sweep else None
        if sweep_over is not None:
            for value in sweep_over[1]:
                if _is_non_finite(value):
                    fail(f"--sweep {excerpt(args.sweep)}: expected finite values, got {excerpt(value)}")
        for sc in scenarios:
            if sweep_over is not None:
                key, values = sweep_over
                points = sim_sweep.sweep(sc, key, values, prices)
                knee = sim_sweep.knee(points)
                texts.append(sim_render.sweep_text(sc, key, points, knee, prices))
                docs.append({"label": sc.label, **sim_render.sweep_json(key, points, knee)})
                if png or page:
                    from sagezero.simulate import plot

                    fig = plot.frontier_figure(key, points, knee, prices.currency)
                    plot.write(fig, png=png, html_page=page, title=f"sagezero sweep {key}", report=texts[-1])
                continue
            traffic = sc.checked_traffic()
            result = run(sc.sim_config(prices), traffic)
            # an async tenant's own figures are the async run: it is never left out
            comparison = compare(result, prices, with_async=sc.is_async or "async" in args.modes)
            texts.append(sim_render.text(sc, traffic, comparison, prices))
            docs.append(sim_render.as_json(sc, traffic, comparison, prices))
            if png or page:
                from sagezero.simulate import plot

                title = f"{sc.label}: {traffic.description}"
                plot.write(plot.timeline_figure(result, title), png=png, html_page=page, title=title, report=texts[-1])
    except (ScenarioError, PriceError, PlotError) as e:
        fail(str(e))
    if args.json:
        json.dump(docs if len(docs) > 1 else docs[0], sys.stdout, indent=2, default=str)
        sys.stdout.write("\n")
    else:
        sys.stdout.write("\n\n".join(texts) + "\n")
        for path in (args.png, args.html):
            if path:
                sys.stdout.write(f"wrote {path}\n")
    return EXIT_OK


def _is_non_finite(value: str) -> bool:
    try:
        return not math.isfinite(float(value))
    except ValueError:
        return False


def add_commands(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    sim = sub.add_parser(
        "simulate",
        help="replay traffic through the scaling machinery: cold starts, waits and cost, before deploying",
        description="Event-driven model of the wake alarm, step and target-tracking policies, managed instance "
        "scaling and the clients. Settings from --stack (and sagezero:traffic), or the seed's defaults; "
        "override anything with --set KEY=VALUE (docs/simulator.md).",
    )
    per_day = "a mean count per weekday"
    sim.add_argument("--stack", "-s", type=text("a stack name (letters, digits, '-', '_', '.')",
                                                pattern=r"[A-Za-z0-9_.-]{1,100}"),
                     help="read tenants' settings and sagezero:traffic from Pulumi.<stack>.yaml")  # fmt: skip
    sim.add_argument(
        "--export",
        metavar="FILE",
        help="replay what a `pulumi stack export` file holds: each inference "
        "component's real alarm, policies and target, hand-built ones too",
    )
    sim.add_argument("--tenant", type=text("a tenant name"), help="with --stack or --export: only this tenant")
    sim.add_argument("--project-dir", help="folder holding Pulumi.yaml (default: current folder or this checkout)")
    sim.add_argument("--traffic", metavar="sessions|poisson|FILE",
                     help="generator, or a trace file (CSV or JSON lines: timestamp[, service_ms, tenant, event])")  # fmt: skip
    sim.add_argument("--trace-tenant", type=text("a tenant name"), help="with a trace file: only rows of this tenant")
    sim.add_argument("--requests-per-day", type=number(per_day), help="poisson: mean requests per weekday")
    sim.add_argument("--sessions-per-day", type=number(per_day), help="sessions: mean logins per weekday")
    sim.add_argument("--days", type=whole("a number of days", lo=1, hi=366), help="days to generate (default 30)")
    sim.add_argument("--client", choices=("plain", "retry", "warm"),
                     help="plain invoke, invoke with wake-and-retry, or warm on login (default retry)")  # fmt: skip
    sim.add_argument("--hold-minutes", type=hold_minutes,
                     help=f"warm hold (default {behaviour.HOLD_MINUTES:g})")  # fmt: skip
    sim.add_argument("--deadline", type=deadline_seconds,
                     help=f"invoke's retry deadline in seconds (default {behaviour.DEADLINE_S:g})")  # fmt: skip
    sim.add_argument("--seed", type=whole("a random seed"), help="random seed (same seed, same result)")
    sim.add_argument("--set", action="append", metavar="KEY=VALUE",
                     help="override an endpoint setting (camelCase), traffic key or mechanics constant; repeatable; "
                     "list keys take comma-separated values (hourly=0,0,1,...)")  # fmt: skip
    sim.add_argument("--sweep", metavar="KEY=V1,V2,..|KEY=LO..HI:N", help="run over one setting; mark the knee")
    sim.add_argument("--prices", metavar="FILE", help="price table (default: the shipped, dated prices.json)")
    sim.add_argument("--png", metavar="FILE", help="write the timeline (or the sweep's frontier) as PNG")
    sim.add_argument("--html", metavar="FILE", help="write a self-contained HTML page with the report and plot")
    sim.add_argument("--modes", type=_modes, default=frozenset(MODES),
                     help="modes compared on the same traffic, comma-separated (default: all; scale-to-zero, "
                     "always-on and serverless are always shown, and async for an asynchronous endpoint): "
                     + ", ".join(MODES))  # fmt: skip
    sim.add_argument("--json", action="store_true", help="machine-readable output")
    sim.set_defaults(func=cmd_simulate)
