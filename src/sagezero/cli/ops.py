"""`warm`, `invoke` (and `invoke --async`), `status`, `verify`, `teardown`: operating deployed tenants
through `sagezero.ops`.

boto3 only, as the library: these commands never import Pulumi. Names, durations and request files
are checked before credentials are looked up, so bad input is exit 2 and an AWS refusal exit 1.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import re
import sys
from collections.abc import Callable
from typing import TYPE_CHECKING, TypeVar

from sagezero import clientbehaviour as behaviour
from sagezero.cli.common import (
    EXIT_FINDINGS,
    EXIT_OK,
    aws_name,
    deadline_seconds,
    excerpt,
    fail,
    header_value,
    hold_minutes,
    number,
    output_file,
    read_bytes,
    read_text,
    region,
    text,
    whole,
)

if TYPE_CHECKING:
    from sagezero.ops import AwsClients, Target

T = TypeVar("T")
MAX_OUTPUTS_BYTES = 64 * 1024 * 1024
MAX_BODY_BYTES = 6 * 1024 * 1024  # the real-time InvokeEndpoint limit (sagezero.ops.invoke checks it too)


def _warn(message: str) -> None:
    sys.stderr.write(f"sagezero: warning: {message}\n")


def _targets(args: argparse.Namespace, *, one: bool) -> tuple[AwsClients, dict[str, Target]]:
    """Clients and the tenants to act on: from --endpoint, or from `pulumi stack output --json` (--outputs)."""
    from sagezero.ops import AwsClients, OpsError, Target
    from sagezero.ops.target import OutputsError, targets_from_outputs

    if args.outputs and args.endpoint:
        fail("give --endpoint or --outputs, not both")
    if args.tenant and not args.outputs:
        fail("--tenant picks a tenant from --outputs; with --endpoint, name the endpoint itself")
    if args.outputs:
        where = "standard input" if args.outputs == "-" else args.outputs
        raw = read_text(args.outputs, "--outputs", limit=MAX_OUTPUTS_BYTES)
        try:
            doc = json.loads(raw)
        except json.JSONDecodeError as e:
            fail(f"--outputs {where}:{e.lineno}: not JSON ({e.msg}); use `pulumi stack output --json`")
        except RecursionError:
            fail(f"--outputs {where}: nested too deeply to be `pulumi stack output --json`")
        except ValueError:  # an integer of more digits than Python converts
            fail(f"--outputs {where}: holds a number too long to read; use `pulumi stack output --json`")
        try:
            targets: dict[str, Target] = dict(targets_from_outputs(doc, where, args.tenant))
        except OutputsError as e:
            fail(str(e))
        for tenant, found in targets.items():
            for what, name in (("endpoint_name", found.endpoint_name), ("inference_component_name",
                                                                         found.inference_component_name)):  # fmt: skip
                if what == "inference_component_name" and not name and doc[tenant].get("mode") == "async":
                    continue  # an asynchronous tenant has no inference component
                try:
                    aws_name(what)(name)
                except argparse.ArgumentTypeError as e:
                    fail(f"--outputs {where}: tenant {excerpt(tenant)}: {e}")
        if one and len(targets) > 1:
            fail(f"{where} has {len(targets)} tenants ({', '.join(sorted(targets))}); pick one with --tenant")
    elif args.endpoint:
        ic = args.inference_component or f"{args.endpoint}-ic"
        if len(ic) > 63:
            fail(f"--endpoint {args.endpoint}: {ic} would be longer than 63 characters; pass --inference-component")
        targets = {args.endpoint: Target(args.endpoint, ic)}
    else:
        fail("name the endpoint: --endpoint NAME, or --outputs FILE from `pulumi stack output --json`")
    try:
        return AwsClients.create(region=args.region, profile=args.profile), targets
    except OpsError as e:
        fail(str(e))


def _target(args: argparse.Namespace, *, needs_component: bool = True) -> tuple[AwsClients, Target]:
    clients, targets = _targets(args, one=True)
    target = next(iter(targets.values()))
    if needs_component and not target.inference_component_name:
        fail(f"{target.endpoint_name} has no inference component (an asynchronous or serverless tenant); this "
             "command acts on inference components (send an asynchronous tenant requests with `invoke --async`)")  # fmt: skip
    return clients, target


def cmd_warm(args: argparse.Namespace) -> int:
    from sagezero.ops import OpsError, warm

    clients, target = _target(args)

    def show(phase: str, info: dict[str, object]) -> None:
        sys.stderr.write(
            f"  [{info['elapsed_s']:5.0f} s] {phase} (instances {info['instances']}, copies {info['copies']})\n"
        )

    try:
        result = warm(clients, target, dt.timedelta(minutes=args.hold_minutes), wait=args.wait,
                      timeout_s=args.timeout, progress=show, warn=_warn)  # fmt: skip
    except OpsError as e:
        fail(str(e), EXIT_FINDINGS)
    state = "already warm" if result.was_warm else "waking from zero"
    sys.stdout.write(
        f"{result.target.inference_component_name}: {state}; {result.current_copies} copy(ies) serving; "
        f"falls back to zero after {result.hold_until:%Y-%m-%d %H:%M} UTC\n"
    )
    return EXIT_OK


class _DefaultDeadline(float):
    """`--deadline` when not given: equal to the real-time default, but recognisable, so `invoke --async`
    can wait its own (longer) default instead."""


def s3_location(text: str) -> str:
    """An `s3://bucket/prefix/` the payload is uploaded under (checked before credentials are read)."""
    from sagezero.ops.invoke_async import S3UriError, parse_input_prefix

    try:
        parse_input_prefix(text)
    except S3UriError as e:
        raise argparse.ArgumentTypeError(str(e)) from None
    return text


def queue_url(text: str) -> str:
    """An SQS queue URL (`https://sqs.<region>.amazonaws.com/<account>/<name>`)."""
    if not re.fullmatch(r"https?://[^\s/]+/[0-9]{1,12}/[A-Za-z0-9_-]{1,80}(\.fifo)?", text):
        raise argparse.ArgumentTypeError(
            f"expected an SQS queue URL such as https://sqs.eu-west-1.amazonaws.com/123456789012/name, got {excerpt(text)}"
        )
    return text


def _accepted(inference_id: str, output_location: str) -> None:
    """Said at once, so a wait cut short (Ctrl+C, a closed terminal) still left the result's address."""
    sys.stderr.write(f"sagezero: request {inference_id} queued; its result will appear at {output_location}\n")
    sys.stderr.flush()


def _needs_newline(body: bytes) -> bool:
    """A text result gets a final newline for the terminal; a binary one (an image, a tensor) is written
    byte for byte, since `> file` must hold exactly what S3 holds."""
    if body.endswith(b"\n"):
        return False
    try:
        body.decode("utf-8")
    except UnicodeDecodeError:
        return False
    return True


def cmd_invoke_async(args: argparse.Namespace) -> int:
    """`invoke --async`: the payload file is checked (and its output file's folder) before any AWS client
    exists; an endpoint that is not asynchronous, or has no input location, is the user's mistake (exit 2)."""
    from sagezero.ops.errors import (
        BadPayloadError,
        NoInputLocationError,
        NotAsyncEndpointError,
        OpsError,
        QueueRegionError,
    )
    from sagezero.ops.invoke_async import WaitPolicy, invoke_async, payload_problem

    if args.file == "-":
        fail("invoke --async uploads a file (up to 1 GB) in parts: give its path, not standard input")
    if (problem := payload_problem(args.file)) is not None:
        fail(problem)
    try:
        with open(args.file, "rb"):
            pass
    except OSError as e:
        fail(f"payload {args.file}: cannot read ({e.strerror or e})")
    output = output_file(args.output, "--output") if args.output else None
    deadline = behaviour.ASYNC_DEADLINE_S if isinstance(args.deadline, _DefaultDeadline) else float(args.deadline)
    clients, target = _target(args, needs_component=False)
    try:
        result = invoke_async(
            clients, target.endpoint_name, args.file, content_type=args.content_type, accept=args.accept,
            input_location=args.input_location or target.async_input_location or None,
            invocation_timeout_s=args.invocation_timeout,
            sqs_queue_url=args.sqs_queue_url, output=output, wait=WaitPolicy(deadline_s=deadline),
            on_accepted=_accepted, warn=_warn,
        )  # fmt: skip
    except (BadPayloadError, NotAsyncEndpointError, NoInputLocationError, QueueRegionError) as e:
        fail(str(e))
    except OpsError as e:
        fail(str(e), EXIT_FINDINGS)
    if result.body is not None:
        sys.stdout.buffer.write(result.body + (b"\n" if _needs_newline(result.body) else b""))
    sys.stderr.write(
        f"sagezero: request {result.inference_id}: result after {result.waited_s:.0f} s"
        + (" (queued through a cold start)" if result.cold else "")
        + (f", saved to {result.saved_to}" if result.saved_to else "")
        + f"; output {result.output_location}\n"
    )
    return EXIT_OK


def cmd_invoke(args: argparse.Namespace) -> int:
    if args.asynchronous:
        return cmd_invoke_async(args)
    for flag, value in (("--input-location", args.input_location), ("--sqs-queue-url", args.sqs_queue_url),
                        ("--output", args.output), ("--invocation-timeout", args.invocation_timeout)):  # fmt: skip
        if value is not None:
            fail(f"{flag} is for asynchronous requests: add --async")
    # The body is read and checked before any AWS client exists: an empty or oversized request is
    # the user's mistake (exit 2), never a call that SageMaker refuses.
    if args.file == "-" and args.outputs == "-":
        fail("--outputs - and the request file - both read standard input; save one of them to a file")
    body = read_bytes(args.file, "request file", limit=MAX_BODY_BYTES)
    if not body:
        fail(f"request file {'standard input' if args.file == '-' else args.file}: is empty; nothing was sent")
    from sagezero.ops import OpsError, RetryPolicy, invoke

    clients, target = _target(args)
    try:
        result = invoke(clients, target, body, content_type=args.content_type, accept=args.accept,
                        retry=RetryPolicy(deadline_s=args.deadline), warn=_warn)  # fmt: skip
    except OpsError as e:
        fail(str(e), EXIT_FINDINGS)
    sys.stdout.buffer.write(result.body + (b"\n" if _needs_newline(result.body) else b""))
    if result.cold:
        sys.stderr.write(
            f"sagezero: cold start: answered after {result.waited_s:.0f} s and {result.attempts} attempts\n"
        )
    return EXIT_OK


def _per_target(args: argparse.Namespace, read: Callable[[AwsClients, Target], T]) -> list[T]:
    """Run one read-only operation on every tenant named; an AWS failure is one line, exit 1."""
    from sagezero.ops import OpsError

    clients, targets = _targets(args, one=False)
    try:
        return [read(clients, target) for target in targets.values()]
    except OpsError as e:
        fail(str(e), EXIT_FINDINGS)


def _emit(args: argparse.Namespace, docs: list[object], texts: list[str]) -> None:
    if args.json:
        json.dump(docs, sys.stdout, indent=2)
        sys.stdout.write("\n")
    else:
        sys.stdout.write("\n\n".join(texts) + "\n")


def cmd_status(args: argparse.Namespace) -> int:
    from sagezero.ops.status import render, status

    results = _per_target(args, status)
    _emit(args, [s.as_dict() for s in results], [render(s) for s in results])
    return EXIT_OK


def cmd_verify(args: argparse.Namespace) -> int:
    from sagezero.ops.verify import render, verify

    reports = _per_target(args, verify)
    docs: list[object] = [
        {"endpoint": r.target.endpoint_name, "inference_component": r.target.inference_component_name,
         "asynchronous": r.asynchronous, "ok": not r.broken, "findings": [f.__dict__ for f in r.findings]}
        for r in reports
    ]  # fmt: skip
    _emit(args, docs, [render(r) for r in reports])
    return EXIT_FINDINGS if any(r.broken for r in reports) else EXIT_OK


def cmd_teardown(args: argparse.Namespace) -> int:
    from sagezero.ops import OpsError
    from sagezero.ops.teardown import Deletion, teardown

    # An asynchronous tenant has no component: its endpoint variant is what teardown removes.
    clients, target = _target(args, needs_component=False)
    kept: list[str] = []

    def show(d: Deletion) -> None:
        sys.stderr.write(f"  deleting {d.kind} {d.name}\n")

    try:
        steps = teardown(clients, target, execute=args.yes, progress=show, kept=kept.append)
    except OpsError as e:
        fail(str(e), EXIT_FINDINGS)
    # Said in the plan and after the deletion alike: what stays (user data) and what is lost (the queue).
    notes = "".join(f"  - {note}\n" for note in kept)
    if not steps:
        sys.stdout.write("nothing to delete: no resources of this tenant were found\n")
    elif not args.yes:
        sys.stdout.write("would delete, in this order (run again with --yes to do it):\n")
        sys.stdout.write("".join(f"  {i}. {d.kind:<20} {d.name}\n" for i, d in enumerate(steps, 1)))
        sys.stdout.write(f"not deleted, and not touched:\n{notes}" if notes else "")
    else:
        sys.stdout.write(f"deleted {len(steps)} resource(s)\n")
        sys.stdout.write(f"not deleted:\n{notes}" if notes else "")
    return EXIT_OK


def _add_target_args(p: argparse.ArgumentParser) -> None:
    p.add_argument("--endpoint", type=aws_name("an endpoint name"),
                   help="endpoint name (stack output <tenant>.endpoint_name)")  # fmt: skip
    p.add_argument("--inference-component", type=aws_name("an inference component name"),
                   help="inference component name (default: <endpoint>-ic)")  # fmt: skip
    p.add_argument("--outputs", metavar="FILE", help="`pulumi stack output --json` saved to FILE (or - for stdin)")
    p.add_argument("--tenant", type=text("a tenant name"), help="with --outputs: only this tenant")
    p.add_argument("--region", type=region, help="AWS region (default: from the environment)")
    p.add_argument("--profile", type=text("an AWS profile name"), help="AWS profile")


def add_commands(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    w = sub.add_parser(
        "warm", help="bring an endpoint to >= 1 copy now, hold it, and let it fall back to zero by itself"
    )
    _add_target_args(w)
    w.add_argument("--hold-minutes", type=hold_minutes, default=behaviour.HOLD_MINUTES,
                   help=f"keep at least one copy this long (default {behaviour.HOLD_MINUTES:g})")  # fmt: skip
    w.add_argument("--wait", action="store_true", help="wait until a copy is serving, showing the phases")
    w.add_argument("--timeout", type=number("seconds to wait", lo=0, lo_open=True), default=behaviour.WARM_TIMEOUT_S,
                   help=f"seconds to wait with --wait (default {behaviour.WARM_TIMEOUT_S:g})")  # fmt: skip
    w.set_defaults(func=cmd_warm)

    inv = sub.add_parser(
        "invoke",
        help="invoke an endpoint, waking it and retrying through a cold start (--async: through S3)",
        description="Real-time: send FILE (<= 6 MB), waking the component and retrying until --deadline. "
        "--async: upload FILE (<= 1 GB) to the endpoint's S3 input prefix, queue it with InvokeEndpointAsync, "
        "and wait for the result object; at the deadline the request stays queued and its output location "
        "is printed to fetch later.",
    )
    _add_target_args(inv)
    inv.add_argument("file", help="request body file, or - for standard input (real-time only)")
    inv.add_argument("--content-type", type=header_value("a Content-Type"), default="application/json")
    inv.add_argument("--accept", type=header_value("an Accept type"))
    inv.add_argument("--deadline", type=deadline_seconds, default=_DefaultDeadline(behaviour.DEADLINE_S),
                     help=f"give up after this many seconds (default {behaviour.DEADLINE_S:g}; "
                     f"with --async {behaviour.ASYNC_DEADLINE_S:g}, after which the request stays queued)")  # fmt: skip
    asy = inv.add_argument_group("asynchronous endpoints")
    asy.add_argument("--async", dest="asynchronous", action="store_true",
                     help="send FILE through S3 to an asynchronous endpoint and wait for its result")  # fmt: skip
    asy.add_argument("--input-location", type=s3_location, metavar="S3URI",
                     help="s3://bucket/prefix/ to upload under (default: the endpoint's sagezero:async-input tag)")  # fmt: skip
    asy.add_argument("--invocation-timeout", type=whole("seconds a request may run", lo=1, hi=3600),
                     help="InvocationTimeoutSeconds (default: the endpoint's tag, else AWS's 900)")  # fmt: skip
    asy.add_argument("--sqs-queue-url", type=queue_url, metavar="URL",
                     help="an SQS queue subscribed to the endpoint's SNS topics: wait on it instead of polling S3")  # fmt: skip
    asy.add_argument("--output", metavar="FILE", help="write the result to FILE instead of standard output")
    inv.set_defaults(func=cmd_invoke)

    st = sub.add_parser("status", help="one screen per tenant: copies, instances, alarm, recent scaling, idle left")
    _add_target_args(st)
    st.add_argument("--json", action="store_true", help="machine-readable output")
    st.set_defaults(func=cmd_status)

    ver = sub.add_parser(
        "verify",
        help="check a deployed stack's live wiring with the policy pack's rules (exit 1 on a break)",
        description="Read the live resources (read-only) and judge them with the policy pack's own rules: "
        "min 0 at every level, the wake alarm (NoCapacityInvocationFailures for a component, "
        "HasBacklogWithoutCapacity for an async endpoint) firing a step policy that adds capacity, and "
        "target tracking back to zero. Exit 1 on any break. Run after `pulumi up` in CI.",
    )
    _add_target_args(ver)
    ver.add_argument("--json", action="store_true", help="machine-readable output")
    ver.set_defaults(func=cmd_verify)

    td = sub.add_parser(
        "teardown",
        help="delete a hand-built tenant in the order AWS accepts (shows the plan; --yes to delete)",
        description="For endpoints not managed by Pulumi (use `pulumi destroy` for those). Deletes alarms, "
        "policies, the scalable target, the inference component (waiting until gone), the endpoint, its "
        "config and the model, in that order. An asynchronous endpoint's S3 objects (payloads, results) and "
        "SNS topics are never deleted; the plan says so.",
    )
    _add_target_args(td)
    td.add_argument("--yes", action="store_true", help="really delete")
    td.set_defaults(func=cmd_teardown)
