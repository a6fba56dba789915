"""Where a run's latency tail comes from, from the server's own histograms (``/metrics``).

Before and after each scenario the benchmark reads the histograms of the engine's step times
(by kind: command, call, connection, timer), the event loop's lag (measured every 50 ms) and
the garbage collector's pauses (by generation); the difference is what that scenario caused.
Percentiles are bucket bounds (``≤ 2.5 ms``): exact enough to say whether a 100 ms tail comes
from long steps, a late loop or collections.
"""

from __future__ import annotations

import math
import re
from typing import Any

__all__ = ["HISTOGRAMS", "delta", "parse", "summary"]

HISTOGRAMS = ("ucs_engine_step_seconds", "ucs_loop_lag_seconds", "ucs_gc_pause_seconds")

_LINE = re.compile(r"^(\w+?)_(bucket|sum|count)(?:\{(.*)\})? ([0-9.e+-]+|\+Inf|NaN)$")

Histograms = dict[tuple[str, str], dict[str, Any]]
"""(name, labels other than ``le``) → {"buckets": {le: cumulative count}, "sum", "count"}"""


def parse(text: str) -> Histograms:
    """The histograms of ``HISTOGRAMS`` in a ``/metrics`` page."""
    out: Histograms = {}
    for line in text.splitlines():
        m = _LINE.match(line)
        if m is None or m.group(1) not in HISTOGRAMS:
            continue
        name, part, labels, value = m.groups()
        pairs = dict(re.findall(r'(\w+)="([^"]*)"', labels or ""))
        le = pairs.pop("le", None)
        key = (name, ",".join(f"{k}={v}" for k, v in sorted(pairs.items())))
        h = out.setdefault(key, {"buckets": {}, "sum": 0.0, "count": 0.0})
        if part == "bucket" and le is not None:
            h["buckets"][math.inf if le == "+Inf" else float(le)] = float(value)
        elif part in ("sum", "count"):
            h[part] = float(value)
    return out


def delta(before: Histograms, after: Histograms) -> Histograms:
    """What happened between two readings."""
    out: Histograms = {}
    for key, h in after.items():
        b = before.get(key, {"buckets": {}, "sum": 0.0, "count": 0.0})
        out[key] = {
            "buckets": {le: n - b["buckets"].get(le, 0.0) for le, n in h["buckets"].items()},
            "sum": h["sum"] - b["sum"],
            "count": h["count"] - b["count"],
        }
    return out


def _ms(h: dict[str, Any], le: float) -> float | str:
    """A bucket bound in ms; the last, unbounded bucket as "> the largest bound"."""
    if le != math.inf:
        return round(le * 1000, 2)
    return f"> {round(max(b for b in h['buckets'] if b != math.inf) * 1000, 2)}"


def _quantile(h: dict[str, Any], q: float) -> float | str | None:
    """The upper bound of the bucket holding the ``q`` quantile, in ms (None: no samples)."""
    if h["count"] <= 0:
        return None
    rank = q * h["count"]
    for le in sorted(h["buckets"]):
        if h["buckets"][le] >= rank:
            return _ms(h, le)
    return None


def summary(hists: Histograms) -> dict[str, dict[str, Any]]:
    """Per histogram and label: how many, total seconds, p50, p99, p99.9 and the largest
    bucket reached (ms, bucket bounds), and how many went over 25 and 100 ms."""
    out: dict[str, dict[str, Any]] = {}
    for (name, labels), h in sorted(hists.items()):
        if h["count"] <= 0:
            continue
        top, below = None, 0.0
        for le in sorted(h["buckets"]):
            if h["buckets"][le] > below:
                top = le  # the largest bucket with samples of its own
            below = h["buckets"][le]
        over = {
            limit: h["count"] - max((n for le, n in h["buckets"].items() if le <= limit), default=0)
            for limit in (0.025, 0.1)
        }
        short = name.removeprefix("ucs_").removesuffix("_seconds")
        out[f"{short}{'{' + labels + '}' if labels else ''}"] = {
            "count": int(h["count"]),
            "total_s": round(h["sum"], 3),
            "p50_ms": _quantile(h, 0.5),
            "p99_ms": _quantile(h, 0.99),
            "p999_ms": _quantile(h, 0.999),
            "max_bucket_ms": _ms(h, top) if top is not None else None,
            "over_25ms": int(over[0.025]),
            "over_100ms": int(over[0.1]),
        }
    return out
