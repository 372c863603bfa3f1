"""Benchmark: sagezero's inference server against AWS's toolkit on multi-model-server, same machine, same run.

Both serve the same trivial linear model (bench/models/linear, bench/reference_mms). Measured for each:
seconds from process start to the first 200 on /invocations, p50/p99 latency and requests/s with wrk
(8 connections, 2 threads, 3 s warm-up + 10 s), resident memory of the whole process tree, and the
answers to bad input. Then the image: container start -> first successful invocation, and its size.
Usage (root, from the repository): .venv/bin/python bench/serve_vs_reference.py [--skip-container]
Installs wrk, Java 17 (Debian) and the reference's PyPI packages (in /tmp/sagezero-bench) when missing.
Stops only the processes it started.
"""

from __future__ import annotations

import argparse
import contextlib
import datetime
import http.client
import json
import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
WORK = Path("/tmp/sagezero-bench")
PORT = 8080
BODY = b"[[1.0, 2.0, 3.0]]"
EXPECTED = [4.75]


def log(msg: str) -> None:
    print(f"[bench] {msg}", file=sys.stderr, flush=True)


def ensure_tools() -> None:
    missing = [pkg for cmd, pkg in (("wrk", "wrk"), ("java", "openjdk-17-jre-headless")) if shutil.which(cmd) is None]
    if missing:
        log(f"apt-get install {' '.join(missing)}")
        subprocess.run(["apt-get", "update", "-qq"], check=True, capture_output=True)
        subprocess.run(["apt-get", "install", "-y", "-qq", *missing], check=True, capture_output=True,
                       env={**os.environ, "DEBIAN_FRONTEND": "noninteractive"})  # fmt: skip


def reference_venv() -> Path:
    venv = WORK / "mms-venv"
    py = venv / "bin" / "python"
    if not py.exists():
        subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True)
    ok = subprocess.run([str(py), "-c", "import sagemaker_inference, mms"], capture_output=True, check=False)
    if ok.returncode != 0:
        log("pip install sagemaker-inference multi-model-server (reference)")
        subprocess.run([str(py), "-m", "pip", "install", "-q", "sagemaker-inference", "multi-model-server"],
                       check=True, capture_output=True)  # fmt: skip
    return venv


def post(path: str, body: bytes, timeout: float = 5) -> tuple[int | str, bytes]:
    c = http.client.HTTPConnection("127.0.0.1", PORT, timeout=timeout)
    try:
        c.request("POST", path, body=body, headers={"Content-Type": "application/json"})
        r = c.getresponse()
        return r.status, r.read()
    except (OSError, http.client.HTTPException) as e:
        return type(e).__name__, b""
    finally:
        c.close()


def first_ok(t0: float, proc: subprocess.Popen[bytes], timeout: float = 180) -> float:
    while time.time() - t0 < timeout:
        if proc.poll() is not None:
            raise RuntimeError(f"server exited with {proc.returncode} before answering")
        status, body = post("/invocations", BODY)
        if status == 200:
            got = json.loads(body)
            assert [round(x, 6) for x in got] == EXPECTED, got
            return time.time() - t0
        time.sleep(0.005)
    raise TimeoutError("no 200 on /invocations")


def descendants(pid: int) -> set[int]:
    children: dict[int, list[int]] = {}
    for d in Path("/proc").iterdir():
        if d.name.isdigit():
            try:
                ppid = int((d / "stat").read_text().rsplit(")", 1)[1].split()[1])
            except (OSError, IndexError, ValueError):
                continue
            children.setdefault(ppid, []).append(int(d.name))
    out, todo = set(), [pid]
    while todo:
        p = todo.pop()
        out.add(p)
        todo.extend(children.get(p, []))
    return out


def rss_mb(pids: set[int]) -> float:
    total = 0
    for p in pids:
        try:
            for line in Path(f"/proc/{p}/status").read_text().splitlines():
                if line.startswith("VmRSS:"):
                    total += int(line.split()[1])
        except OSError:
            continue
    return total / 1024


def wrk() -> dict[str, float]:
    lua = str(HERE / "post.lua")
    url = f"http://127.0.0.1:{PORT}/invocations"
    subprocess.run(["wrk", "-t2", "-c8", "-d3s", "-s", lua, url], capture_output=True, check=True)
    out = subprocess.run(
        ["wrk", "-t2", "-c8", "-d10s", "-s", lua, url], capture_output=True, text=True, check=True
    ).stdout
    line = next(x for x in out.splitlines() if x.startswith("WRK "))
    kv = {k: int(v) for k, v in (p.split("=") for p in line.split()[1:])}
    return {
        "p50_ms": kv["p50_us"] / 1000,
        "p99_ms": kv["p99_us"] / 1000,
        "rps": kv["requests"] / (kv["duration_us"] / 1e6),
        "non2xx": kv["non2xx"],
        "errors": kv["connect"] + kv["read"] + kv["write"] + kv["timeout"],
    }


def bad_inputs() -> dict[str, str]:
    out = {}
    status, body = post("/invocations", b'{"not valid json', timeout=60)
    out["malformed_json"] = f"{status} {body.decode('utf-8', 'replace')[:90]!r}"
    big = b"[" + b"[1.0, 2.0, 3.0]," * (7 * 1024 * 1024 // 16) + b"[1.0, 2.0, 3.0]]"
    status, body = post("/invocations", big, timeout=60)
    out["body_7mb"] = f"{status} {body.decode('utf-8', 'replace')[:90]!r}"
    return out


def stop(pids: set[int]) -> None:
    for sig in (signal.SIGTERM, signal.SIGKILL):
        for p in pids:
            with contextlib.suppress(ProcessLookupError):
                os.kill(p, sig)
        deadline = time.time() + 10
        while time.time() < deadline and any(Path(f"/proc/{p}").exists() and "Z" not in _state(p) for p in pids):
            time.sleep(0.1)


def _state(pid: int) -> str:
    try:
        return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except OSError:
        return "Z"


def port_free() -> bool:
    import socket

    with socket.socket() as s:
        return s.connect_ex(("127.0.0.1", PORT)) != 0


def measure(
    name: str, cmd: list[str], env: dict[str, str], cwd: Path, extra_pid_file: Path | None = None
) -> dict[str, Any]:
    if not port_free():
        raise RuntimeError(f"port {PORT} is in use; stop that server first")
    log(f"{name}: start")
    t0 = time.time()
    proc = subprocess.Popen(cmd, env=env, cwd=cwd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    pids = {proc.pid}
    try:
        ready = first_ok(t0, proc)
        if extra_pid_file is not None and extra_pid_file.exists():
            pids.add(int(extra_pid_file.read_text().strip()))
        log(f"{name}: ready in {ready:.3f} s; wrk")
        load = wrk()
        tree: set[int] = set()
        for p in pids:
            tree |= descendants(p)
        pids |= tree
        memory = rss_mb(tree)
        bad = bad_inputs()
        return {"ready_s": ready, **load, "rss_mb": memory, "bad_input": bad}
    finally:
        for p in list(pids):
            pids |= descendants(p)
        stop(pids)
        proc.wait(timeout=30)


def measure_ours() -> dict[str, Any]:
    env = {**os.environ, "SM_MODEL_DIR": str(HERE / "models" / "linear"), "SAGEMAKER_BIND_TO_PORT": str(PORT),
           "SAGEZERO_HOST": "127.0.0.1"}  # fmt: skip
    return measure("sagezero", [sys.executable, "-m", "sagezero_serve", "serve"], env, WORK)


def measure_reference(venv: Path) -> dict[str, Any]:
    run = WORK / "mms-run"
    tmp = run / "tmp"
    tmp.mkdir(parents=True, exist_ok=True)
    (tmp / ".model_server.pid").unlink(missing_ok=True)
    model_dir = Path("/opt/ml/model")  # the toolkit reads its model from this fixed path
    created = not model_dir.exists()
    model_dir.mkdir(parents=True, exist_ok=True)
    target = model_dir / "model.json"
    backup = target.read_bytes() if target.exists() else None
    shutil.copy(HERE / "models" / "linear" / "model.json", target)
    env = {**os.environ, "PATH": f"{venv / 'bin'}:{os.environ['PATH']}", "PYTHONPATH": str(HERE / "reference_mms"),
           "TMPDIR": str(tmp), "SAGEMAKER_BIND_TO_PORT": str(PORT)}  # fmt: skip
    try:
        return measure(
            "reference (sagemaker-inference + multi-model-server)",
            [str(venv / "bin" / "python"), str(HERE / "reference_mms" / "entrypoint.py")],
            env,
            run,
            extra_pid_file=tmp / ".model_server.pid",
        )
    finally:
        if backup is None:
            target.unlink(missing_ok=True)
        else:
            target.write_bytes(backup)
        if created:
            shutil.rmtree(model_dir, ignore_errors=True)
        Path("/tmp/.mms.sock.9000").unlink(missing_ok=True)


def measure_container() -> dict[str, Any]:
    sys.path.insert(0, str(ROOT))
    from sagezero import localdocker
    from tests import docker_env

    docker_env.ensure_daemon()
    base = docker_env.ensure_base_image()
    with docker_env.docker_host():
        tag = localdocker.build(ROOT / "image", "sagezero-serve:bench", base_image=base)
        size = localdocker.image_size_mb(tag)
        t0 = time.time()
        c = localdocker.run(tag, PORT, model_dir=None)
        try:
            while time.time() - t0 < 60:
                status, _ = post("/invocations", (ROOT / "image" / "examples" / "request.json").read_bytes())
                if status == 200:
                    break
                time.sleep(0.005)
            first = time.time() - t0
        finally:
            c.remove()
    return {"container_first_ok_s": first, "image_mb": size, "base": base}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--skip-container", action="store_true")
    ap.add_argument("--out", type=Path, default=HERE / "results" / "serve.json")
    args = ap.parse_args()
    WORK.mkdir(parents=True, exist_ok=True)
    ensure_tools()
    venv = reference_venv()
    ours = measure_ours()
    ref = measure_reference(venv)
    result: dict[str, Any] = {
        "date": datetime.date.today().isoformat(),
        "command": "python bench/serve_vs_reference.py",
        "cores": os.cpu_count(),
        "ours": ours,
        "reference": ref,
        "ratios": {
            "ready_speedup": ref["ready_s"] / ours["ready_s"],
            "p99_ratio_ours_over_ref": ours["p99_ms"] / ref["p99_ms"],
            "throughput_ratio": ours["rps"] / ref["rps"],
            "memory_fraction": ours["rss_mb"] / ref["rss_mb"],
        },
    }
    if not args.skip_container:
        result["container"] = measure_container()
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(result, indent=2))
    r = result["ratios"]
    print(f"{'figure':<28}{'sagezero':>14}{'reference':>14}{'ratio':>12}")
    print(
        f"{'first 200 after start (s)':<28}{ours['ready_s']:>14.3f}{ref['ready_s']:>14.3f}{r['ready_speedup']:>11.1f}x"
    )
    print(f"{'p50 (ms)':<28}{ours['p50_ms']:>14.2f}{ref['p50_ms']:>14.2f}")
    print(f"{'p99 (ms)':<28}{ours['p99_ms']:>14.2f}{ref['p99_ms']:>14.2f}{r['p99_ratio_ours_over_ref']:>11.2f}x")
    print(f"{'requests/s':<28}{ours['rps']:>14.0f}{ref['rps']:>14.0f}{r['throughput_ratio']:>11.2f}x")
    print(
        f"{'memory, process tree (MB)':<28}{ours['rss_mb']:>14.1f}{ref['rss_mb']:>14.1f}{r['memory_fraction']:>11.2f}x"
    )
    for k in ("malformed_json", "body_7mb"):
        print(f"{k:<28} ours: {ours['bad_input'][k]}\n{'':<28} ref:  {ref['bad_input'][k]}")
    if "container" in result:
        c = result["container"]
        print(
            f"container start -> first 200: {c['container_first_ok_s']:.3f} s; image {c['image_mb']:.0f} MB (base {c['base']})"
        )


if __name__ == "__main__":
    main()
