"""The one `sagezero` command: plan, and (as they land) check, serve, warm, invoke, status, verify, simulate.

Parses arguments and maps failures to one clear line and an exit code; never prints a traceback for
bad input. Heavy imports (Pulumi) happen inside the subcommand that needs them.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, NoReturn, TypeVar

from sagezero import __version__

if TYPE_CHECKING:
    from sagezero.simulate.scenario import Scenario

EXIT_OK, EXIT_FINDINGS, EXIT_USAGE = 0, 1, 2
T = TypeVar("T")


class UsageError(Exception):
    """Bad input from the user: reported as one message, exit code 2."""


def _fail(message: str, code: int = EXIT_USAGE) -> NoReturn:
    sys.stderr.write(f"sagezero: {message}\n")
    raise SystemExit(code)


def _need_pulumi() -> None:
    try:
        import pulumi  # noqa: F401
    except ImportError:
        _fail("this command needs the Pulumi SDKs: pip install 'sagezero[pulumi]'")


def cmd_plan(args: argparse.Namespace) -> int:
    _need_pulumi()
    from sagezero.plan.engine import PlanError, run_program
    from sagezero.plan.render import DEFAULT_SECTIONS, as_json, write_text
    from sagezero.stackconfig import StackConfigError, project_dir_default

    project_dir = Path(args.project_dir) if args.project_dir else project_dir_default()
    if not (project_dir / "Pulumi.yaml").exists():
        _fail(f"no Pulumi.yaml in {project_dir}; run from the project folder or pass --project-dir")
    try:
        plan = run_program(project_dir, args.stack)
    except StackConfigError as e:
        _fail(str(e))
    except PlanError as e:
        _fail(f"the program failed for stack {args.stack!r}: {e}")
    except ValueError as e:  # component arguments rejected up front (SettingsError and friends)
        _fail(f"stack {args.stack!r}: {e}")
    sections = [build(plan) for build in DEFAULT_SECTIONS]
    from sagezero.plan.cost import cost_section

    sections.append(cost_section(plan))
    if not args.no_policy:
        from sagezero.plan.verdicts import policy_section

        sections.append(policy_section(plan.engine_resources(), _policy_config(args.policy_config)))
    if args.json:
        json.dump(as_json(plan, sections), sys.stdout, indent=2, default=str)
        sys.stdout.write("\n")
    else:
        write_text(plan, sections)
    return EXIT_FINDINGS if any(s.failed for s in sections) else EXIT_OK


def _policy_config(path: str | None) -> dict[str, object]:
    if path is None:
        return {}
    from sagezero.policies.config_schema import PolicyConfigError, load_file

    try:
        return load_file(Path(path))
    except PolicyConfigError as e:
        _fail(f"policy config rejected: {e}")


def cmd_check(args: argparse.Namespace) -> int:
    _need_pulumi()
    from sagezero.plan.verdicts import ExportError, policy_section, read_export

    try:
        resources = read_export(Path(args.export))
    except ExportError as e:
        _fail(str(e))
    section = policy_section(resources, _policy_config(args.policy_config))
    if args.json:
        json.dump({"export": args.export, "resources": len(resources), **section.data}, sys.stdout, indent=2)
        sys.stdout.write("\n")
    else:
        sys.stdout.write(f"sagezero check — {args.export} ({len(resources)} resources)\n")
        sys.stdout.write("\n".join(f"  {line}" for line in section.lines) + "\n")
    strict_fail = args.strict and bool(section.data.get("notJudged"))
    return EXIT_FINDINGS if section.failed or strict_fail else EXIT_OK


def _image_dir() -> Path:
    from sagezero.stackconfig import project_dir_default

    image = project_dir_default() / "image"
    if not (image / "Dockerfile").exists():
        _fail(f"no image/Dockerfile under {image.parent}; run from the sagezero checkout")
    return image


def cmd_local(args: argparse.Namespace) -> int:
    from sagezero import localdocker

    try:
        if args.action == "build":
            tag = localdocker.build(_image_dir(), args.tag, base_image=args.base_image)
            sys.stdout.write(f"built {tag} ({localdocker.image_size_mb(tag):.0f} MB)\n")
        elif args.action == "run":
            model = Path(args.model_dir) if args.model_dir else None
            if (
                model is not None
                and not (model / "code" / "inference.py").exists()
                and not (model / "model.json").exists()
            ):
                _fail(f"{model} has neither code/inference.py nor model.json")
            c = localdocker.run(args.tag, args.port, model_dir=model)
            ready = localdocker.wait_ready(args.port)
            sys.stdout.write(
                f"container {c.id[:12]} serving on http://127.0.0.1:{args.port} (ready in {ready:.2f} s, read-only root, "
                f"uid 1000)\nstop it with: docker stop {c.id[:12]}\n"
            )
        elif args.action == "invoke":
            body = Path(args.file).read_bytes() if args.file != "-" else sys.stdin.buffer.read()
            status, ctype, out = localdocker.invoke(args.port, body, args.content_type, args.accept)
            sys.stdout.write(out.decode("utf-8", "replace") + ("\n" if not out.endswith(b"\n") else ""))
            if status != 200:
                sys.stderr.write(f"sagezero: HTTP {status} ({ctype})\n")
                return EXIT_FINDINGS
    except localdocker.DockerError as e:
        _fail(str(e))
    except FileNotFoundError as e:
        _fail(f"{e.filename}: no such file")
    except OSError as e:
        _fail(f"cannot reach 127.0.0.1:{getattr(args, 'port', '?')}: {e}")
    return EXIT_OK


def cmd_serve(args: argparse.Namespace) -> int:
    import os

    try:
        from sagezero_serve.__main__ import main as serve_main
    except ImportError:
        _fail("the server needs its extras: pip install 'sagezero[serve]'")
    os.environ["SM_MODEL_DIR"] = str(Path(args.model_dir).resolve())
    os.environ["SAGEZERO_PORT"] = str(args.port)
    os.environ.setdefault("SAGEZERO_HOST", "127.0.0.1")
    return serve_main(["serve"])


def _ops_targets(args: argparse.Namespace, *, one: bool) -> tuple[object, dict[str, object]]:
    """Clients and the tenants to act on: from --endpoint, or from `pulumi stack output --json` (--outputs)."""
    from sagezero.ops import AwsClients, OpsError, Target
    from sagezero.ops.target import OutputsError, targets_from_outputs

    if args.outputs and args.endpoint:
        _fail("give --endpoint or --outputs, not both")
    if args.outputs:
        try:
            raw = sys.stdin.read() if args.outputs == "-" else Path(args.outputs).read_text()
            targets: dict[str, object] = dict(targets_from_outputs(json.loads(raw), args.outputs, args.tenant))
        except FileNotFoundError:
            _fail(f"{args.outputs}: no such file")
        except json.JSONDecodeError as e:
            _fail(f"{args.outputs}: not JSON ({e.msg} at line {e.lineno}); use `pulumi stack output --json`")
        except OutputsError as e:
            _fail(str(e))
        if one and len(targets) > 1:
            _fail(f"{args.outputs} has {len(targets)} tenants ({', '.join(sorted(targets))}); pick one with --tenant")
    elif args.endpoint:
        ic = args.inference_component or f"{args.endpoint}-ic"
        targets = {args.endpoint: Target(args.endpoint, ic)}
    else:
        _fail("name the endpoint: --endpoint NAME, or --outputs FILE from `pulumi stack output --json`")
    try:
        return AwsClients.create(region=args.region, profile=args.profile), targets
    except OpsError as e:
        _fail(str(e))


def _ops_target(args: argparse.Namespace) -> tuple[object, object]:
    clients, targets = _ops_targets(args, one=True)
    return clients, next(iter(targets.values()))


def cmd_warm(args: argparse.Namespace) -> int:
    import datetime as dt

    from sagezero.ops import OpsError, warm

    clients, target = _ops_target(args)

    def show(phase: str, info: dict[str, object]) -> None:
        sys.stderr.write(
            f"  [{info['elapsed_s']:5.0f} s] {phase} (instances {info['instances']}, copies {info['copies']})\n"
        )

    try:
        result = warm(clients, target, dt.timedelta(minutes=args.hold_minutes), wait=args.wait,  # type: ignore[arg-type]
                      timeout_s=args.timeout, progress=show)  # fmt: skip
    except OpsError as e:
        _fail(str(e), EXIT_FINDINGS)
    state = "already warm" if result.was_warm else "waking from zero"
    sys.stdout.write(
        f"{result.target.inference_component_name}: {state}; {result.current_copies} copy(ies) serving; "
        f"falls back to zero after {result.hold_until:%Y-%m-%d %H:%M} UTC\n"
    )
    return EXIT_OK


def cmd_invoke(args: argparse.Namespace) -> int:
    from sagezero.ops import OpsError, RetryPolicy, invoke

    clients, target = _ops_target(args)
    try:
        body = Path(args.file).read_bytes() if args.file != "-" else sys.stdin.buffer.read()
        result = invoke(clients, target, body, content_type=args.content_type, accept=args.accept,  # type: ignore[arg-type]
                        retry=RetryPolicy(deadline_s=args.deadline))  # fmt: skip
    except FileNotFoundError:
        _fail(f"{args.file}: no such file")
    except OpsError as e:
        _fail(str(e), EXIT_FINDINGS)
    sys.stdout.buffer.write(result.body + (b"" if result.body.endswith(b"\n") else b"\n"))
    if result.cold:
        sys.stderr.write(
            f"sagezero: cold start: answered after {result.waited_s:.0f} s and {result.attempts} attempts\n"
        )
    return EXIT_OK


def _simulate_scenarios(args: argparse.Namespace) -> list[Scenario]:
    from sagezero.settings import EndpointSettings
    from sagezero.simulate import Scenario, ScenarioError, check_profile, scenarios_for_stack
    from sagezero.simulate.scenario import apply_all, parse_assignment
    from sagezero.stackconfig import StackConfigError, load_stack, project_dir_default

    profile: dict[str, object] = {}
    if args.traffic in ("sessions", "poisson"):
        profile["kind"] = args.traffic
    elif args.traffic:
        profile.update(kind="trace", trace=str(Path(args.traffic).resolve()))
    for key, value in (("requestsPerDay", args.requests_per_day), ("sessionsPerDay", args.sessions_per_day),
                       ("days", args.days), ("client", args.client), ("holdMinutes", args.hold_minutes),
                       ("deadlineS", args.deadline), ("seed", args.seed), ("tenant", args.trace_tenant)):  # fmt: skip
        if value is not None:
            profile[key] = value
    try:
        if args.stack:
            project_dir = Path(args.project_dir) if args.project_dir else project_dir_default()
            try:
                config = load_stack(project_dir, args.stack)
            except StackConfigError as e:
                _fail(str(e))
            scenarios = [
                Scenario(
                    sc.label, sc.settings, {**sc.profile, **check_profile(profile, "options")}, base_dir=project_dir
                )
                for sc in scenarios_for_stack(config, project_dir, args.tenant)
            ]
        else:
            if args.tenant:
                _fail("--tenant needs --stack")
            scenarios = [Scenario("the seed's settings", EndpointSettings(), check_profile(profile, "options"))]
        overrides = [parse_assignment(text) for text in args.set or []]
        scenarios = [apply_all(sc, overrides) for sc in scenarios]
    except ScenarioError as e:
        _fail(str(e))
    return scenarios


def cmd_simulate(args: argparse.Namespace) -> int:
    try:
        from sagezero.simulate import ScenarioError, compare, load, run
        from sagezero.simulate import render as sim_render
        from sagezero.simulate import sweep as sim_sweep
        from sagezero.simulate.prices import PriceError
    except ImportError:
        _fail("the simulator needs numpy: pip install 'sagezero[simulate]'")
    from sagezero.simulate.plot import PlotError

    scenarios = _simulate_scenarios(args)
    try:
        prices = load(Path(args.prices) if args.prices else None)
    except PriceError as e:
        _fail(str(e))
    if (args.sweep or args.png or args.html) and len(scenarios) > 1:
        _fail(f"--sweep, --png and --html take one tenant; this stack has {len(scenarios)}: pick one with --tenant")
    docs: list[dict[str, object]] = []
    texts: list[str] = []
    png, page = (Path(args.png) if args.png else None), (Path(args.html) if args.html else None)
    try:
        sweep_over = sim_sweep.parse(args.sweep) if args.sweep else None
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
            comparison = compare(result, prices)
            texts.append(sim_render.text(sc, traffic, comparison, prices))
            docs.append(sim_render.as_json(sc, traffic, comparison, prices))
            if png or page:
                from sagezero.simulate import plot

                title = f"{sc.label}: {traffic.description}"
                plot.write(plot.timeline_figure(result, title), png=png, html_page=page, title=title, report=texts[-1])
    except (ScenarioError, PriceError, PlotError) as e:
        _fail(str(e))
    if args.json:
        json.dump(docs if len(docs) > 1 else docs[0], sys.stdout, indent=2, default=str)
        sys.stdout.write("\n")
    else:
        sys.stdout.write("\n\n".join(texts) + "\n")
        for path in (args.png, args.html):
            if path:
                sys.stdout.write(f"wrote {path}\n")
    return EXIT_OK


def _add_target_args(p: argparse.ArgumentParser) -> None:
    p.add_argument("--endpoint", help="endpoint name (stack output <tenant>.endpoint_name)")
    p.add_argument("--inference-component", help="inference component name (default: <endpoint>-ic)")
    p.add_argument("--outputs", metavar="FILE", help="`pulumi stack output --json` saved to FILE (or - for stdin)")
    p.add_argument("--tenant", help="with --outputs: only this tenant")
    p.add_argument("--region", help="AWS region (default: from the environment)")
    p.add_argument("--profile", help="AWS profile")


def _per_target(args: argparse.Namespace, read: Callable[[object, object], T]) -> list[T]:
    """Run one read-only operation on every tenant named; an AWS failure is one line, exit 1."""
    from sagezero.ops import OpsError

    clients, targets = _ops_targets(args, one=False)
    try:
        return [read(clients, target) for target in targets.values()]
    except OpsError as e:
        _fail(str(e), EXIT_FINDINGS)


def _emit(args: argparse.Namespace, docs: list[object], texts: list[str]) -> None:
    if args.json:
        json.dump(docs, sys.stdout, indent=2)
        sys.stdout.write("\n")
    else:
        sys.stdout.write("\n\n".join(texts) + "\n")


def cmd_status(args: argparse.Namespace) -> int:
    from sagezero.ops.status import render, status

    results = _per_target(args, status)  # type: ignore[arg-type]
    _emit(args, [s.as_dict() for s in results], [render(s) for s in results])
    return EXIT_OK


def cmd_verify(args: argparse.Namespace) -> int:
    from sagezero.ops.verify import render, verify

    reports = _per_target(args, verify)  # type: ignore[arg-type]
    docs: list[object] = [
        {"endpoint": r.target.endpoint_name, "inference_component": r.target.inference_component_name,
         "ok": not r.broken, "findings": [f.__dict__ for f in r.findings]}
        for r in reports
    ]  # fmt: skip
    _emit(args, docs, [render(r) for r in reports])
    return EXIT_FINDINGS if any(r.broken for r in reports) else EXIT_OK


def cmd_teardown(args: argparse.Namespace) -> int:
    from sagezero.ops import OpsError
    from sagezero.ops.teardown import Deletion, teardown

    clients, target = _ops_target(args)

    def show(d: Deletion) -> None:
        sys.stderr.write(f"  deleting {d.kind} {d.name}\n")

    try:
        steps = teardown(clients, target, execute=args.yes,  # type: ignore[arg-type]
                         progress=show)  # fmt: skip
    except OpsError as e:
        _fail(str(e), EXIT_FINDINGS)
    if not steps:
        sys.stdout.write("nothing to delete: no resources of this tenant were found\n")
    elif not args.yes:
        sys.stdout.write("would delete, in this order (run again with --yes to do it):\n")
        sys.stdout.write("".join(f"  {i}. {d.kind:<20} {d.name}\n" for i, d in enumerate(steps, 1)))
    else:
        sys.stdout.write(f"deleted {len(steps)} resource(s)\n")
    return EXIT_OK


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="sagezero",
        description="SageMaker endpoints that scale to zero and wake on demand.",
    )
    parser.add_argument("--version", action="version", version=f"sagezero {__version__}")
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    plan = sub.add_parser(
        "plan",
        help="show what `pulumi up` would create for a stack, offline (no AWS account, no Pulumi CLI)",
        description="Evaluate the real Pulumi program for a stack under Pulumi's mock engine and show the "
        "resource tree, key properties and the scale-to-zero wiring.",
    )
    plan.add_argument("--stack", "-s", default="dev", help="stack name (reads Pulumi.<stack>.yaml); default: dev")
    plan.add_argument("--project-dir", help="folder holding Pulumi.yaml (default: current folder or this checkout)")
    plan.add_argument("--json", action="store_true", help="machine-readable output")
    plan.add_argument("--policy-config", metavar="FILE", help="policy pack config (as --policy-pack-config)")
    plan.add_argument("--no-policy", action="store_true", help="skip the policy pack")
    plan.set_defaults(func=cmd_plan)

    check = sub.add_parser(
        "check",
        help="run the policy pack on a `pulumi stack export` file (audit any stack without its program)",
        description="Judge a deployed stack's resources with the policy pack. Exit codes: 0 pass, 1 a mandatory "
        "violation (or, with --strict, anything not judged), 2 the export could not be read.",
    )
    check.add_argument("export", help="file written by `pulumi stack export --file FILE` (--show-secrets to judge "
                       "secret values too)")  # fmt: skip
    check.add_argument("--strict", action="store_true", help="also fail (exit 1) when something could not be judged")
    check.add_argument("--policy-config", metavar="FILE", help="policy pack config (as --policy-pack-config)")
    check.add_argument("--json", action="store_true", help="machine-readable output")
    check.set_defaults(func=cmd_check)

    serve = sub.add_parser("serve", help="run the inference server here, without Docker, on a model folder")
    serve.add_argument("--model-dir", default="image/model", help="folder with code/inference.py and model files")
    serve.add_argument("--port", type=int, default=8080)
    serve.set_defaults(func=cmd_serve)

    local = sub.add_parser("local", help="build, run and invoke the inference image with Docker, as SageMaker runs it")
    lsub = local.add_subparsers(dest="action", required=True, metavar="ACTION")
    lb = lsub.add_parser("build", help="docker build image/")
    lb.add_argument("--tag", default="sagezero-serve:local")
    lb.add_argument("--base-image", help="BASE_IMAGE build argument (default: the Dockerfile's)")
    lr = lsub.add_parser("run", help="docker run <image> serve with a read-only root and only /tmp writable")
    lr.add_argument("--tag", default="sagezero-serve:local")
    lr.add_argument("--port", type=int, default=8080)
    lr.add_argument("--model-dir", help="mount this folder read-only at /opt/ml/model (your handler and model)")
    li = lsub.add_parser("invoke", help="POST a file to /invocations and print the answer")
    li.add_argument("file", help="request body file, or - for standard input")
    li.add_argument("--port", type=int, default=8080)
    li.add_argument("--content-type", default="application/json")
    li.add_argument("--accept")
    local.set_defaults(func=cmd_local)

    w = sub.add_parser(
        "warm", help="bring an endpoint to >= 1 copy now, hold it, and let it fall back to zero by itself"
    )
    _add_target_args(w)
    w.add_argument("--hold-minutes", type=float, default=30, help="keep at least one copy this long (default 30)")
    w.add_argument("--wait", action="store_true", help="wait until a copy is serving, showing the phases")
    w.add_argument("--timeout", type=float, default=900, help="seconds to wait with --wait (default 900)")
    w.set_defaults(func=cmd_warm)

    inv = sub.add_parser("invoke", help="invoke an endpoint, waking it and retrying through a cold start")
    _add_target_args(inv)
    inv.add_argument("file", help="request body file, or - for standard input")
    inv.add_argument("--content-type", default="application/json")
    inv.add_argument("--accept")
    inv.add_argument("--deadline", type=float, default=600, help="give up after this many seconds (default 600)")
    inv.set_defaults(func=cmd_invoke)

    st = sub.add_parser("status", help="one screen per tenant: copies, instances, alarm, recent scaling, idle left")
    _add_target_args(st)
    st.add_argument("--json", action="store_true", help="machine-readable output")
    st.set_defaults(func=cmd_status)

    ver = sub.add_parser(
        "verify",
        help="check a deployed stack's live wiring with the policy pack's rules (exit 1 on a break)",
        description="Read the live resources and check min 0 at every level, the step policy, and the "
        "NoCapacityInvocationFailures alarm wired to it. Run after `pulumi up` in CI.",
    )
    _add_target_args(ver)
    ver.add_argument("--json", action="store_true", help="machine-readable output")
    ver.set_defaults(func=cmd_verify)

    td = sub.add_parser(
        "teardown",
        help="delete a hand-built tenant in the order AWS accepts (shows the plan; --yes to delete)",
        description="For endpoints not managed by Pulumi (use `pulumi destroy` for those). Deletes alarms, "
        "policies, the scalable target, the inference component (waiting until gone), the endpoint, its "
        "config and the model, in that order.",
    )
    _add_target_args(td)
    td.add_argument("--yes", action="store_true", help="really delete")
    td.set_defaults(func=cmd_teardown)
    sim = sub.add_parser(
        "simulate",
        help="replay traffic through the scaling machinery: cold starts, waits and cost, before deploying",
        description="Event-driven model of the wake alarm, step and target-tracking policies, managed instance "
        "scaling and the clients. Settings from --stack (and sagezero:traffic), or the seed's defaults; "
        "override anything with --set KEY=VALUE (docs/simulator.md).",
    )
    sim.add_argument("--stack", "-s", help="read tenants' settings and sagezero:traffic from Pulumi.<stack>.yaml")
    sim.add_argument("--tenant", help="with --stack: only this tenant")
    sim.add_argument("--project-dir", help="folder holding Pulumi.yaml (default: current folder or this checkout)")
    sim.add_argument("--traffic", metavar="sessions|poisson|FILE",
                     help="generator, or a trace file (CSV or JSON lines: timestamp[, service_ms, tenant, event])")  # fmt: skip
    sim.add_argument("--trace-tenant", help="with a trace file: only rows of this tenant")
    sim.add_argument("--requests-per-day", type=float, help="poisson: mean requests per weekday")
    sim.add_argument("--sessions-per-day", type=float, help="sessions: mean logins per weekday")
    sim.add_argument("--days", type=int, help="days to generate (default 30)")
    sim.add_argument("--client", choices=("plain", "retry", "warm"),
                     help="plain invoke, invoke with wake-and-retry, or warm on login (default retry)")  # fmt: skip
    sim.add_argument("--hold-minutes", type=float, help="warm hold (default 30)")
    sim.add_argument("--deadline", type=float, help="invoke's retry deadline in seconds (default 600)")
    sim.add_argument("--seed", type=int, help="random seed (same seed, same result)")
    sim.add_argument("--set", action="append", metavar="KEY=VALUE",
                     help="override an endpoint setting (camelCase), traffic key or mechanics constant; repeatable")  # fmt: skip
    sim.add_argument("--sweep", metavar="KEY=V1,V2,..|KEY=LO..HI:N", help="run over one setting; mark the knee")
    sim.add_argument("--prices", metavar="FILE", help="price table (default: the shipped, dated prices.json)")
    sim.add_argument("--png", metavar="FILE", help="write the timeline (or the sweep's frontier) as PNG")
    sim.add_argument("--html", metavar="FILE", help="write a self-contained HTML page with the report and plot")
    sim.add_argument("--json", action="store_true", help="machine-readable output")
    sim.set_defaults(func=cmd_simulate)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    func: Callable[[argparse.Namespace], int] = args.func
    try:
        return func(args)
    except UsageError as e:
        _fail(str(e))
    except KeyboardInterrupt:
        _fail("interrupted", 130)


if __name__ == "__main__":
    raise SystemExit(main())
