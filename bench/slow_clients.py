"""Benchmark: slow clients beside a normal load, this server against a reference build, same run.

N connections send a request's headers and then trickle its body one byte a second (and M more
trickle their headers); meanwhile wrk runs a normal load (1 thread, 4 connections) on /invocations.
Reported per server: the normal load's success rate, p50/p99 latency and requests/s, alone and with
the slow clients. The reference is the server as of a git revision (default `main`, i.e. before
bounded reads and counting requests only once read), extracted to a temporary folder and run with
the same Python, model and settings, so both are measured on the same machine minutes apart.
Usage (from the repository; needs wrk): .venv/bin/python bench/slow_clients.py [--reference-rev REV]
Bounded: about 4 x (warm-up + measurement) seconds; the slow clients cost almost no CPU.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import datetime
import http.client
import json
import os
import socket
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
MODEL = HERE / "models" / "linear"


def log(msg: str) -> None:
    print(f"[bench] {msg}", file=sys.stderr, flush=True)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def extract(rev: str, into: Path) -> Path:
    """The server package as of rev, as an importable folder."""
    archive = subprocess.run(
        ["git", "-C", str(ROOT), "archive", rev, "image/sagezero_serve"], capture_output=True, check=True
    )
    subprocess.run(["tar", "-x", "-C", str(into)], input=archive.stdout, check=True)
    return into / "image"


class Slow:
    """Connections that trickle: `body` of them one body byte a second, `headers` one header byte a second.

    A connection the server closes is reopened at once, so the pressure stays for the whole run.
    """

    def __init__(self, port: int, body: int, headers: int) -> None:
        self.port, self.body, self.headers = port, body, headers
        self.reopened = 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=lambda: asyncio.run(self._main()), daemon=True)

    def __enter__(self) -> Slow:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join(timeout=10)

    async def _main(self) -> None:
        tasks = [asyncio.create_task(self._one(True)) for _ in range(self.body)]
        tasks += [asyncio.create_task(self._one(False)) for _ in range(self.headers)]
        while not self._stop.is_set():
            await asyncio.sleep(0.1)
        for t in tasks:
            t.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)

    async def _one(self, body: bool) -> None:
        head = b"POST /invocations HTTP/1.1\r\nHost: bench\r\nContent-Type: application/json\r\n"
        first, rest = (
            (head + b"Content-Length: 4096\r\n\r\n", b"[" * 4096)
            if body
            else (b"POST /invocations HTTP/1.1\r\n", b"X-Slow: " + b"a" * 4096)
        )
        while not self._stop.is_set():
            try:
                reader, writer = await asyncio.open_connection("127.0.0.1", self.port)
            except OSError:
                await asyncio.sleep(0.1)
                continue
            try:
                writer.write(first)
                await writer.drain()
                for i in range(len(rest)):
                    if reader.at_eof():
                        break
                    writer.write(rest[i : i + 1])
                    await writer.drain()
                    answered = b""
                    with contextlib.suppress(TimeoutError):
                        answered = await asyncio.wait_for(reader.read(1), timeout=1.0)  # early if the server answers
                    if answered or reader.at_eof():
                        await asyncio.sleep(1.0)  # answered or cut off: come back a second later
                        break
            except (OSError, ConnectionError):
                pass
            finally:
                writer.close()
            self.reopened += 1


def wrk(port: int, seconds: int) -> dict[str, float]:
    out = subprocess.run(
        ["wrk", "-t1", "-c4", f"-d{seconds}s", "--timeout", "5s", "-s", str(HERE / "post.lua"), f"http://127.0.0.1:{port}/invocations"],
        capture_output=True, text=True, check=True,
    ).stdout  # fmt: skip
    line = next(x for x in out.splitlines() if x.startswith("WRK "))
    kv = {k: int(v) for k, v in (p.split("=") for p in line.split()[1:])}
    errors = kv["connect"] + kv["read"] + kv["write"] + kv["timeout"]
    ok = kv["requests"] - kv["non2xx"]
    return {
        "requests": kv["requests"],
        "success_rate": ok / max(1, kv["requests"] + kv["connect"] + kv["timeout"]),
        "ok_per_s": ok / (kv["duration_us"] / 1e6),
        "p50_ms": kv["p50_us"] / 1000,
        "p99_ms": kv["p99_us"] / 1000,
        "non2xx": kv["non2xx"],
        "socket_errors": errors,
    }


def ready(port: int, proc: subprocess.Popen[bytes], timeout: float = 30) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"server exited with {proc.returncode}")
        try:
            c = http.client.HTTPConnection("127.0.0.1", port, timeout=2)
            c.request("GET", "/ping")
            if c.getresponse().status == 200:
                return
        except OSError:
            pass
        time.sleep(0.02)
    raise TimeoutError("server not ready")


def measure(name: str, package_parent: Path, args: argparse.Namespace) -> dict[str, Any]:
    port = free_port()
    env = {**os.environ, "PYTHONPATH": str(package_parent), "SM_MODEL_DIR": str(MODEL), "SAGEZERO_HOST": "127.0.0.1",
           "SAGEZERO_PORT": str(port), "SAGEZERO_WORKERS": "2", "SAGEZERO_MAX_QUEUE": "64"}  # fmt: skip
    proc = subprocess.Popen(
        [sys.executable, "-m", "sagezero_serve", "serve"], env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
    )
    try:
        ready(port, proc)
        wrk(port, 1)  # warm-up
        log(f"{name}: normal load alone, {args.seconds} s")
        alone = wrk(port, args.seconds)
        with Slow(port, args.slow_body, args.slow_headers) as slow:
            time.sleep(args.settle)
            log(f"{name}: with {args.slow_body} body + {args.slow_headers} header tricklers, {args.seconds} s")
            crowded = wrk(port, args.seconds)
            reopened = slow.reopened
        return {"alone": alone, "with_slow_clients": crowded, "slow_connections_reopened": reopened}
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--reference-rev", default="main", help="git revision whose server is the reference (default main)")
    ap.add_argument("--slow-body", type=int, default=70, help="connections trickling a body (default 70)")
    ap.add_argument("--slow-headers", type=int, default=20, help="connections trickling headers (default 20)")
    ap.add_argument("--seconds", type=int, default=10, help="each measurement (default 10)")
    ap.add_argument("--settle", type=float, default=2.0, help="seconds the slow clients get before the load starts")
    ap.add_argument("--out", type=Path, default=HERE / "results" / "slow_clients.json")
    args = ap.parse_args()
    with tempfile.TemporaryDirectory(prefix="sagezero-ref-") as tmp:
        reference = measure(f"reference ({args.reference_rev})", extract(args.reference_rev, Path(tmp)), args)
    current = measure("this tree", ROOT / "image", args)
    result = {
        "date": datetime.date.today().isoformat(),
        "command": "python bench/slow_clients.py " + " ".join(sys.argv[1:]),
        "cores": os.cpu_count(),
        "settings": {k: str(v) for k, v in vars(args).items()},
        "reference": reference,
        "current": current,
    }
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(result, indent=2))
    print(f"{'':<34}{'success':>9}{'ok/s':>9}{'p50 ms':>9}{'p99 ms':>9}")
    for name, doc in (("reference " + args.reference_rev, reference), ("this tree", current)):
        for phase in ("alone", "with_slow_clients"):
            m = doc[phase]
            print(
                f"{name + ', ' + phase:<34}{m['success_rate']:>9.1%}{m['ok_per_s']:>9.0f}{m['p50_ms']:>9.2f}{m['p99_ms']:>9.2f}"
            )
        print(f"{'':<34}slow connections reopened: {doc['slow_connections_reopened']}")


if __name__ == "__main__":
    main()
