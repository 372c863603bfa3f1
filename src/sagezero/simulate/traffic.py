"""Traffic to replay: a trace file (CSV or JSON lines) or a generator, as sorted arrays of seconds.

Generators are vectorised (numpy) so a month of a million requests costs well under a second;
they draw from their own random stream, so changing a scaling setting never changes the traffic.
A trace is user input: every way a file or row can be wrong (binary, ragged, duplicate columns,
NaN or infinite times, a span longer than the simulator replays) is a TrafficError naming the file
and line, never a numpy or csv exception.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import json
import math
import os
import stat
import warnings
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt

from sagezero.boundedfile import FileProblemError, NotUtf8Error, read_bytes, utf8
from sagezero.quote import excerpt

DAY = 86_400.0
MAX_DAYS = 366
"""The longest traffic the simulator replays (generators and traces alike)."""
MAX_REQUESTS = 50_000_000
"""The most requests one simulation replays (a generator's expected count, or a trace's rows)."""
MAX_TRACE_BYTES = 128 * 1024 * 1024
"""The largest trace file read (about 6 million CSV rows of epoch seconds and service times)."""
MAX_TRACE_ROWS = 5_000_000
"""The most rows read from a trace file."""
_LAST_EPOCH = 253_402_300_799.0  # 9999-12-31T23:59:59Z, the last time ISO 8601 can write
_EXCERPT = 40

# Relative load by hour of day (UTC), a business-hours shape: quiet nights, a morning ramp, a
# lunch dip, an evening tail. Used by both generators unless `hourly` is given.
BUSINESS_HOURS = (
    0.2, 0.1, 0.1, 0.1, 0.1, 0.2, 0.5, 1.5, 3.0, 4.0, 4.0, 3.5,
    2.5, 3.5, 4.0, 4.0, 3.5, 2.5, 1.5, 1.0, 0.8, 0.6, 0.4, 0.3,
)  # fmt: skip


class TrafficError(ValueError):
    """Traffic that cannot be simulated: a bad trace row or generator setting, named exactly."""


@dataclass(frozen=True)
class Traffic:
    arrivals: npt.NDArray[np.float64]
    """Request times, seconds from the start of the first day, sorted."""
    service_s: npt.NDArray[np.float64]
    """How long each request keeps a copy busy."""
    logins: npt.NDArray[np.float64] = field(default_factory=lambda: np.zeros(0))
    """User logins (sorted): when `warm` on login would be called."""
    horizon_s: float = DAY
    description: str = ""

    @property
    def days(self) -> float:
        return self.horizon_s / DAY


def _service(rng: np.random.Generator, n: int, median_ms: float, sigma: float) -> npt.NDArray[np.float64]:
    """Log-normal service times: most requests near the median, a long tail."""
    return np.asarray((median_ms / 1000.0) * np.exp(sigma * rng.standard_normal(n)), dtype=np.float64)


def _hourly_rates(per_day: float, days: int, hourly: tuple[float, ...], weekend: float) -> npt.NDArray[np.float64]:
    weights = np.asarray(hourly, dtype=np.float64)
    per_hour = per_day * weights / weights.sum()
    rates = np.tile(per_hour, days)
    weekday = (np.arange(days * 24) // 24) % 7
    return np.asarray(np.where(weekday >= 5, rates * weekend, rates), dtype=np.float64)


def _times_in_hours(rng: np.random.Generator, rates: npt.NDArray[np.float64]) -> npt.NDArray[np.float64]:
    """A Poisson process that is constant within each hour: counts per hour, then uniform times."""
    counts = rng.poisson(rates)
    hours = np.repeat(np.arange(len(rates), dtype=np.float64), counts)
    return np.sort(hours * 3600.0 + rng.uniform(0.0, 3600.0, hours.size))


def _show(value: Any) -> str:
    return excerpt(value, _EXCERPT)


def _check(name: str, value: float, lo: float, hi: float) -> None:
    if not (isinstance(value, (int, float)) and not isinstance(value, bool) and lo <= value <= hi):
        raise TrafficError(f"{name}: expected a number from {lo:g} to {hi:g}, got {_show(value)}")


def _check_volume(expected: float, keys: str) -> None:
    """Refuse, before drawing anything, traffic whose expected request count would exhaust memory."""
    if expected > MAX_REQUESTS:
        raise TrafficError(
            f"{keys}: about {expected:.3g} requests expected; the simulator replays at most {MAX_REQUESTS:,}"
        )


def _check_common(days: int, weekend: float, service_ms: float, hourly: tuple[float, ...]) -> None:
    """The settings both generators share."""
    _check("days", days, 1, MAX_DAYS)
    _check("weekend", weekend, 0, 10)
    _check("serviceMs", service_ms, 0.1, 3.6e6)
    if len(hourly) != 24 or not all(0 <= h <= 1e6 for h in hourly) or sum(hourly) <= 0:
        raise TrafficError("hourly: expected 24 weights from 0 to 1e6 (hours 0-23 UTC), not all zero")


def poisson(
    *,
    requests_per_day: float,
    days: int = 1,
    seed: int = 0,
    hourly: tuple[float, ...] = BUSINESS_HOURS,
    weekend: float = 0.3,
    service_ms: float = 200.0,
    service_sigma: float = 0.5,
) -> Traffic:
    """Independent requests following a daily pattern (weekends scaled by `weekend`)."""
    _check("requestsPerDay", requests_per_day, 0, 1e8)
    _check_common(days, weekend, service_ms, hourly)
    _check_volume(requests_per_day * days * max(1.0, weekend), "requestsPerDay × days (× weekend when > 1)")
    rng = np.random.default_rng([seed, 101])
    arrivals = _times_in_hours(rng, _hourly_rates(requests_per_day, int(days), hourly, weekend))
    return Traffic(
        arrivals,
        _service(rng, arrivals.size, service_ms, service_sigma),
        horizon_s=days * DAY,
        description=f"poisson: {requests_per_day:g} requests/day, {days} day(s), business hours",
    )


def sessions(
    *,
    sessions_per_day: float,
    requests_per_session: float = 20.0,
    session_minutes: float = 15.0,
    first_request_s: float = 60.0,
    days: int = 1,
    seed: int = 0,
    hourly: tuple[float, ...] = BUSINESS_HOURS,
    weekend: float = 0.3,
    service_ms: float = 200.0,
    service_sigma: float = 0.5,
) -> Traffic:
    """The seed platform's shape: a user logs in, sends a burst over N minutes, leaves.

    The first request comes `first_request_s` (exponential mean) after the login: the window that
    warm-on-login has to hide a 3-6 minute cold start in.
    """
    _check("sessionsPerDay", sessions_per_day, 0, 1e7)
    _check("requestsPerSession", requests_per_session, 1, 1e5)
    _check("sessionMinutes", session_minutes, 0, 24 * 60)
    _check("firstRequestS", first_request_s, 0, DAY)
    _check_common(days, weekend, service_ms, hourly)
    _check_volume(
        sessions_per_day * days * max(1.0, weekend) * requests_per_session,
        "sessionsPerDay × requestsPerSession × days (× weekend when > 1)",
    )
    rng = np.random.default_rng([seed, 202])
    logins = _times_in_hours(rng, _hourly_rates(sessions_per_day, int(days), hourly, weekend))
    per = 1 + rng.poisson(requests_per_session - 1, logins.size)
    first = logins + rng.exponential(first_request_s, logins.size) if first_request_s > 0 else logins
    start = np.repeat(first, per)
    # the first request of each session at `first`, the rest spread over the session
    offsets = rng.uniform(0.0, session_minutes * 60.0, start.size)
    if per.size:
        offsets[np.concatenate(([0], np.cumsum(per)[:-1]))] = 0.0
    arrivals = np.sort(start + offsets)
    arrivals = arrivals[arrivals < days * DAY]
    return Traffic(
        arrivals,
        _service(rng, arrivals.size, service_ms, service_sigma),
        logins=logins,
        horizon_s=days * DAY,
        description=(
            f"sessions: {sessions_per_day:g} logins/day, ~{requests_per_session:g} requests over "
            f"{session_minutes:g} min each, {days} day(s)"
        ),
    )


# ---- trace files --------------------------------------------------------------------------------


def _timestamp(value: Any, where: str) -> float:
    """Epoch seconds from a number or text (epoch seconds or ISO 8601), finite and 1970-9999."""
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        t = float(value) if isinstance(value, float) or abs(value) <= _LAST_EPOCH else math.nan
    elif isinstance(value, str):
        text = value.strip()
        try:
            t = float(text)
        except ValueError:
            try:
                parsed = dt.datetime.fromisoformat(text.replace("Z", "+00:00"))
            except ValueError:
                raise TrafficError(
                    f"{where}: timestamp {_show(value)} is neither epoch seconds nor ISO 8601 (2026-11-25T09:00:00Z)"
                ) from None
            if parsed.tzinfo is None:
                parsed = parsed.replace(tzinfo=dt.UTC)
            try:
                t = parsed.timestamp()
            except (OverflowError, ValueError):
                t = math.nan
    elif value is None or value == "":
        raise TrafficError(f"{where}: missing timestamp")
    else:
        raise TrafficError(f"{where}: timestamp {_show(value)} is neither epoch seconds nor ISO 8601")
    if not (0 <= t <= _LAST_EPOCH):  # also NaN
        raise TrafficError(f"{where}: timestamp {_show(value)} is not a time from 1970 to 9999")
    return t


def _no_constant(name: str) -> Any:
    raise ValueError(f"{name} is not a JSON number")


def _check_file(path: Path) -> None:
    """A regular file of at most MAX_TRACE_BYTES: never a device (/dev/zero), FIFO or socket, which
    could be read without end."""
    if path.is_dir():
        raise TrafficError(f"{path}: is a folder, expected a trace file (CSV or JSON lines)")
    try:
        info = os.stat(path)
    except FileNotFoundError:
        raise TrafficError(f"{path}: no such file") from None
    except OSError as e:
        raise TrafficError(f"{path}: cannot read ({e.strerror or e})") from None
    if not stat.S_ISREG(info.st_mode):
        raise TrafficError(f"{path}: not a regular file (a device, FIFO or socket); save the trace to a file")
    if info.st_size > MAX_TRACE_BYTES:
        raise TrafficError(
            f"{path}: {info.st_size:,} bytes is larger than the {MAX_TRACE_BYTES:,} bytes a trace may have"
        )


def _too_many_rows(path: Path) -> TrafficError:
    return TrafficError(f"{path}: more than {MAX_TRACE_ROWS:,} rows; the simulator replays at most that many")


def _text(path: Path) -> str:
    """The whole file as text; a missing, unreadable or binary file is named (with the line of the
    first byte that is not UTF-8)."""
    _check_file(path)
    try:  # the file may have grown since it was checked: the read is bounded too
        return utf8(
            read_bytes(path, MAX_TRACE_BYTES, too_large=f"larger than the {MAX_TRACE_BYTES:,} bytes a trace may have")
        )
    except FileProblemError as e:
        raise TrafficError(f"{path}: {e}") from None
    except NotUtf8Error as e:
        raise TrafficError(f"{path}:{e.line}: not UTF-8 text (byte 0x{e.byte:02x}); is it binary?") from None


def _rows(path: Path, text: str) -> Iterator[tuple[str, Mapping[str, Any]]]:
    if path.suffix in (".jsonl", ".ndjson", ".json"):
        for n, line in enumerate(text.splitlines(), 1):
            if not line.strip():
                continue
            try:
                row = json.loads(line, parse_constant=_no_constant)
            except json.JSONDecodeError as e:
                raise TrafficError(f"{path}:{n}: not a JSON object ({e.msg})") from None
            except (ValueError, RecursionError) as e:
                raise TrafficError(f"{path}:{n}: not a JSON object ({str(e)[:_EXCERPT]})") from None
            if not isinstance(row, dict):
                raise TrafficError(f"{path}:{n}: expected a JSON object per line")
            yield f"{path}:{n}", row
        return
    reader = csv.reader(io.StringIO(text, newline=""))
    try:
        header = next(reader, None)
        if not header or "timestamp" not in [h.strip() for h in header]:
            raise TrafficError(
                f"{path}: expected a CSV header with a 'timestamp' column (optional: service_ms or service_s, tenant, "
                "event)"
            )
        names = [h.strip() for h in header]
        if dup := sorted({h for h in names if names.count(h) > 1}):
            raise TrafficError(f"{path}:1: column {_show(dup[0])} appears more than once in the header")
        for fields in reader:
            where = f"{path}:{reader.line_num}"
            if not fields:
                continue
            if len(fields) != len(names):
                raise TrafficError(f"{where}: {len(fields)} field(s), but the header has {len(names)} column(s)")
            yield where, dict(zip(names, fields, strict=True))
    except csv.Error as e:
        raise TrafficError(f"{path}:{reader.line_num}: not CSV ({e})") from None


def _service_of(row: Mapping[str, Any], where: str, default_s: float) -> float:
    for key, scale in (("service_s", 1.0), ("service_ms", 0.001)):
        raw = row.get(key)
        if raw in (None, ""):
            continue
        if isinstance(raw, bool) or not isinstance(raw, (int, float, str)):
            raise TrafficError(f"{where}: {key} {_show(raw)} is not a number")
        try:
            value = float(raw) * scale
        except (ValueError, OverflowError):
            raise TrafficError(f"{where}: {key} {_show(raw)} is not a number") from None
        if not (0 <= value <= 3600):  # also NaN
            raise TrafficError(f"{where}: {key} {_show(raw)} out of range (0 to 1 hour)")
        return value
    return default_s


def load_trace(path: Path, *, tenant: str | None = None, default_service_ms: float = 200.0) -> Traffic:
    """Requests (and logins: rows with event=login) from CSV or JSON lines; time starts at 00:00 UTC
    of the first day so hour-of-day effects line up."""
    _check_file(path)
    fast = _numeric_csv(path, default_service_ms) if tenant is None else None
    if fast is not None:
        return _from_epoch(path, fast[0], fast[1], [])
    text = _text(path)
    times: list[float] = []
    service: list[float] = []
    logins: list[float] = []
    first, latest = (math.inf, ""), (-math.inf, "")
    for n, (where, row) in enumerate(_rows(path, text), 1):
        if n > MAX_TRACE_ROWS:
            raise _too_many_rows(path)
        if tenant is not None and row.get("tenant") not in (None, "", tenant):
            continue
        t = _timestamp(row.get("timestamp"), where)
        first, latest = min(first, (t, where)), max(latest, (t, where))
        event = row.get("event") or "request"
        if event == "login":
            logins.append(t)
        elif event == "request":
            times.append(t)
            service.append(_service_of(row, where, default_service_ms / 1000.0))
        else:
            raise TrafficError(f"{where}: event {_show(event)} must be 'request' or 'login'")
    if not times:
        raise TrafficError(f"{path}: no requests" + (f" for tenant {tenant!r}" if tenant else ""))
    _check_span(first, latest)
    return _from_epoch(path, np.asarray(times), np.asarray(service), logins)


def _days(first: float, last: float) -> int:
    """Whole UTC days from the first row's midnight to just past the last row."""
    return max(1, math.ceil((last - math.floor(first / DAY) * DAY + 1) / DAY))


def _check_span(first: tuple[float, str], latest: tuple[float, str]) -> None:
    if (days := _days(first[0], latest[0])) > MAX_DAYS:
        raise TrafficError(
            f"{latest[1]}: this row makes the trace {days:,} days long, counted from the first row's day "
            f"({first[1]}); the simulator replays at most {MAX_DAYS} days"
        )


def _numeric_csv(
    path: Path, default_service_ms: float
) -> tuple[npt.NDArray[np.float64], npt.NDArray[np.float64]] | None:
    """A CSV of epoch seconds and service times only, parsed in C straight from the file (a month of
    1M rows in ~0.4 s); None for anything else — unreadable, binary, odd rows — which the row reader
    handles with line-precise errors."""
    if path.suffix in (".jsonl", ".ndjson", ".json"):
        return None
    try:
        with path.open("rb") as f:
            header = [h.strip() for h in f.readline().decode("ascii").split(",")]
            if not f.readline().strip():
                return None  # no rows: the row reader says so (numpy would only warn)
    except (OSError, UnicodeDecodeError):
        return None
    if header[:1] != ["timestamp"] or not set(header[1:]) <= {"service_ms", "service_s"} or len(header) > 2:
        return None
    try:
        with warnings.catch_warnings():
            # numpy warns about a blank line (and skips it): the row reader then reads the file its own way
            warnings.simplefilter("error", UserWarning)
            data = np.loadtxt(path, delimiter=",", skiprows=1, ndmin=2, dtype=np.float64, encoding="utf-8",
                              max_rows=MAX_TRACE_ROWS + 1)  # fmt: skip
    except (ValueError, UnicodeDecodeError, UserWarning):
        return None
    if data.shape[0] > MAX_TRACE_ROWS:
        raise _too_many_rows(path)
    if data.shape[0] == 0 or data.shape[1] != len(header) or not np.isfinite(data).all():
        return None
    times = data[:, 0]
    if (times < 0).any() or (times > _LAST_EPOCH).any():
        return None
    if len(header) == 1:
        service = np.full(times.size, default_service_ms / 1000.0)
    else:
        service = data[:, 1] * (0.001 if header[1] == "service_ms" else 1.0)
        if ((service < 0) | (service > 3600)).any():
            return None  # let the row reader name the bad line
    if _days(float(times.min()), float(times.max())) > MAX_DAYS:
        return None  # the row reader names the line that makes the span too long
    return times, service


def _from_epoch(
    path: Path, arr: npt.NDArray[np.float64], service: npt.NDArray[np.float64], logins: list[float]
) -> Traffic:
    times = arr
    first = min(arr.min(), min(logins) if logins else math.inf)
    start = math.floor(first / DAY) * DAY
    order = np.argsort(arr, kind="stable")
    end = max(arr.max(), max(logins) if logins else -math.inf)
    days = _days(first, end)
    return Traffic(
        arr[order] - start,
        service[order],
        logins=np.sort(np.asarray(logins, dtype=np.float64)) - start,
        horizon_s=days * DAY,
        description=f"trace {path.name}: {times.size:,} requests, {len(logins):,} logins, {days} day(s)",
    )
