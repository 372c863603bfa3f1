"""Timeline and frontier pictures: PNG files, and a self-contained HTML page with the timeline as SVG.

matplotlib is imported here only, with the non-interactive Agg backend, so the simulator runs
without it and a headless CI machine never needs a display.
"""

from __future__ import annotations

import html
import io
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np

from sagezero.simulate.engine import FAILED, SERVED, WAITED, SimResult
from sagezero.simulate.sweep import Point


class PlotError(RuntimeError):
    """matplotlib missing, or the file cannot be written."""


def _pyplot() -> Any:
    try:
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError:
        raise PlotError("plots need matplotlib: pip install 'sagezero[simulate]'") from None
    return plt


def timeline_figure(result: SimResult, title: str) -> Any:
    plt = _pyplot()
    tr, tl = result.traffic, result.timeline
    hours = tr.horizon_s / 3600
    bin_s = max(60.0, tr.horizon_s / 1500)
    edges = np.arange(0.0, tr.horizon_s + bin_s, bin_s)
    fig, (ax1, ax2) = plt.subplots(2, 1, figsize=(12, 6), sharex=True, height_ratios=(1, 1.2))
    bottom = np.zeros(edges.size - 1)
    for code, label, colour in (
        (SERVED, "served", "#3b8e3b"),
        (WAITED, "waited", "#e69f00"),
        (FAILED, "failed", "#d62728"),
    ):
        counts, _ = np.histogram(tr.arrivals[result.outcome == code], edges)
        # stairs draw one polygon per series, not one rectangle per bin: a month stays fast to render
        ax1.stairs(bottom + counts, edges / 3600, baseline=bottom.copy(), fill=True, color=colour, label=label)
        bottom += counts
    ax1.set_ylabel(f"requests / {bin_s / 60:g} min")
    ax1.legend(loc="upper right", fontsize=8)
    ax1.set_title(title, fontsize=10)
    t = np.asarray([*tl.t, tr.horizon_s]) / 3600
    for series, label, style in ((tl.serving, "copies serving", "-"), (tl.desired, "desired copies", "--"),
                                 (tl.instances, "instances", ":")):  # fmt: skip
        ax2.step(t, [*list(series), series[-1] if series else 0], where="post", linestyle=style, label=label)
    top = max([1, *tl.desired, *tl.instances]) + 0.5
    for times, label, colour, y in ((tl.alarm_fired, "wake alarm fired", "#d62728", 0.97),
                                    (tl.warms, "warm", "#1f77b4", 0.93), (tl.scale_ins, "scale-in", "#7f7f7f", 0.89)):  # fmt: skip
        if times:
            ax2.plot(
                np.asarray(times) / 3600, np.full(len(times), top * y), "|", color=colour, label=label, markersize=8
            )
    ax2.set_ylim(0, top)
    from matplotlib.ticker import MaxNLocator

    ax2.yaxis.set_major_locator(MaxNLocator(integer=True))
    ax2.set_ylabel("count")
    ax2.set_xlabel("hours from start (UTC)")
    ax2.set_xlim(0, hours)
    ax2.legend(loc="upper center", bbox_to_anchor=(0.5, -0.18), fontsize=8, ncols=6, frameon=False)
    fig.tight_layout()
    return fig


def frontier_figure(key: str, points: list[Point], knee: int | None, currency: str) -> Any:
    plt = _pyplot()
    fig, ax = plt.subplots(figsize=(7, 5))
    xs = [p.summary.cost_per_month for p in points]
    ys = [p.touched * 100 for p in points]
    ax.plot(xs, ys, "o-", color="#1f77b4")
    for p, x, y in zip(points, xs, ys, strict=True):
        ax.annotate(f"{key}={p.value}", (x, y), textcoords="offset points", xytext=(5, 5), fontsize=7)
    if knee is not None:
        ax.plot([xs[knee]], [ys[knee]], "D", color="#d62728", markersize=10, label="knee")
        ax.legend()
    ax.set_xlabel(f"cost per 30 days ({currency})")
    ax.set_ylabel("requests touched by a cold start (%)")
    ax.set_title(f"cost vs cold starts over {key}", fontsize=10)
    fig.tight_layout()
    return fig


def write(fig: Any, *, png: Path | None, html_page: Path | None, title: str, report: str) -> None:
    """Save one figure as PNG and/or inside a self-contained HTML page, then release it."""
    plt = _pyplot()
    try:
        if png is not None:
            _write(png, lambda: fig.savefig(png, dpi=110))
        if html_page is not None:
            buf = io.StringIO()
            fig.savefig(buf, format="svg")
            page = _page(title, report, buf.getvalue())
            _write(html_page, lambda: html_page.write_text(page))
    finally:
        plt.close(fig)


def _write(path: Path, save: Callable[[], object]) -> None:
    try:
        save()
    except OSError as e:
        raise PlotError(f"{path}: cannot write ({e.strerror})") from None


def _page(title: str, report: str, svg: str) -> str:
    """One file, no scripts or external assets: the report as text and the figure as inline SVG."""
    svg = svg[svg.index("<svg") :]
    return (
        "<!doctype html>\n<html lang=en><head><meta charset=utf-8>"
        f"<title>{html.escape(title)}</title>"
        "<style>body{font-family:system-ui,sans-serif;margin:2em;max-width:1200px}"
        "pre{background:#f6f6f6;padding:1em;overflow-x:auto}svg{width:100%;height:auto}</style></head><body>"
        f"<h1>{html.escape(title)}</h1><pre>{html.escape(report)}</pre>{svg}</body></html>\n"
    )
