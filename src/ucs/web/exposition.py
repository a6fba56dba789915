"""``/metrics`` rendered cheaply, byte for byte as ``prometheus_client.generate_latest``.

The library formats every sample from scratch at each scrape: its labels sorted, each name and
value escaped, for the few hundred samples of the engine's histograms, on the event loop (2-5 ms
a scrape on a busy machine: docs/performance.md, "The event loop's share"). Here the text
before each value (name and labels) and each metric's ``# HELP``/``# TYPE`` lines are worked
out once and kept; only the values are formatted at each scrape. ``tests/server/test_monitor.py``
checks the output against the library's on the server's own registry.

The open file descriptors (``process_open_fds``) are counted from the size Linux gives
``/proc/self/fd`` (6.2 and later) rather than by listing it: a listing of a server's thousands
of sockets took as long as all the rest of a scrape.
"""

from __future__ import annotations

import os
from collections.abc import Iterable

from prometheus_client import ProcessCollector
from prometheus_client.metrics_core import CounterMetricFamily, GaugeMetricFamily, Metric
from prometheus_client.openmetrics import exposition as om
from prometheus_client.registry import Collector
from prometheus_client.samples import Sample
from prometheus_client.utils import floatToGoString

__all__ = ["Process", "latest"]

_MOST = 10_000
"""Texts kept before the cache starts again (label values come from the configuration, which
can change: queue names)."""

_prefixes: dict[tuple[str, tuple[tuple[str, str], ...]], str] = {}
_heads: dict[tuple[str, str, str], tuple[str, tuple[str, str, str], list[str]]] = {}


def _escaped_name(name: str) -> str:
    return om.escape_metric_name(name, om.UNDERSCORES)


def _help(name: str, documentation: str) -> str:
    text = documentation.replace("\\", r"\\").replace("\n", r"\n")
    return f"# HELP {_escaped_name(name)} {text}\n"


def _value_text(value: str) -> str:
    """A label's value escaped as the library does (label values may be any UTF-8)."""
    return value.replace("\\", r"\\").replace("\n", r"\n").replace('"', r"\"")


def _prefix(sample: Sample) -> str:
    """The sample's line before its value: its name and labels, as the library writes them."""
    key = (sample.name, tuple(sample.labels.items()))
    text = _prefixes.get(key)
    if text is None:
        labels = ",".join(
            f'{om.escape_label_name(k, om.UNDERSCORES)}="{_value_text(v)}"'
            for k, v in sorted(sample.labels.items())
        )
        text = _escaped_name(sample.name) + (f"{{{labels}}}" if labels else "") + " "
        if len(_prefixes) >= _MOST:
            _prefixes.clear()
        _prefixes[key] = text
    return text


def _line(sample: Sample) -> str:
    value = floatToGoString(sample.value)  # type: ignore[no-untyped-call]
    if sample.timestamp is None:
        return f"{_prefix(sample)}{value}\n"
    return f"{_prefix(sample)}{value} {int(float(sample.timestamp) * 1000):d}\n"


def _head(metric: Metric) -> tuple[str, tuple[str, str, str], list[str]]:
    """The metric's ``# HELP`` and ``# TYPE`` lines, the names of its OpenMetrics samples
    (``_created``, ``_gcount``, ``_gsum``) and their own two lines each."""
    key = (metric.name, metric.type, metric.documentation)
    found = _heads.get(key)
    if found is not None:
        return found
    name, kind = metric.name, metric.type
    renamed = {"counter": "_total", "info": "_info"}
    mname = name + renamed.get(kind, "")
    mtype = {"info": "gauge", "stateset": "gauge", "gaugehistogram": "histogram"}.get(kind, kind)
    if kind == "unknown":
        mtype = "untyped"
    head = _help(mname, metric.documentation) + f"# TYPE {_escaped_name(mname)} {mtype}\n"
    suffixes = ("_created", "_gcount", "_gsum")  # in the order the library sorts them
    tails = [
        _help(name + s, metric.documentation) + f"# TYPE {_escaped_name(name + s)} gauge\n"
        for s in suffixes
    ]
    found = (head, (name + suffixes[0], name + suffixes[1], name + suffixes[2]), tails)
    if len(_heads) >= _MOST:
        _heads.clear()
    _heads[key] = found
    return found


def latest(registry: Collector) -> bytes:
    """What ``generate_latest(registry)`` returns (its default escaping), faster."""
    output: list[str] = []
    for metric in registry.collect():
        head, names, tails = _head(metric)
        output.append(head)
        extra: dict[int, list[str]] = {}
        try:
            for s in metric.samples:
                name = s.name
                if name in names:  # OpenMetrics' own samples: a gauge of their own, after
                    extra.setdefault(names.index(name), []).append(_line(s))
                else:
                    output.append(_line(s))
        except Exception as exception:
            exception.args = (exception.args or ("",)) + (metric,)
            raise
        for i in sorted(extra):
            output.append(tails[i])
            output.extend(extra[i])
    return "".join(output).encode("utf-8")


class Process(ProcessCollector):
    """``prometheus_client.ProcessCollector``'s metrics, with the open descriptors counted
    from ``/proc/PID/fd``'s size where Linux gives it, plus one: the library's count includes
    the descriptor of its own listing."""

    def collect(self) -> Iterable[Metric]:
        if not self._btime:
            return []
        pid = os.path.join(self._proc, str(self._pid()).strip())
        result: list[Metric] = []
        prefix, ticks = self._prefix, self._ticks
        try:
            with open(os.path.join(pid, "stat"), "rb") as stat:
                parts = stat.read().split(b")")[-1].split()
            result += [
                GaugeMetricFamily(
                    prefix + "virtual_memory_bytes",
                    "Virtual memory size in bytes.",
                    value=float(parts[20]),
                ),
                GaugeMetricFamily(
                    prefix + "resident_memory_bytes",
                    "Resident memory size in bytes.",
                    value=float(parts[21]) * self._pagesize,
                ),
                GaugeMetricFamily(
                    prefix + "start_time_seconds",
                    "Start time of the process since unix epoch in seconds.",
                    value=float(parts[19]) / ticks + self._btime,
                ),
                CounterMetricFamily(
                    prefix + "cpu_seconds_total",
                    "Total user and system CPU time spent in seconds.",
                    value=float(parts[11]) / ticks + float(parts[12]) / ticks,
                ),
            ]
        except OSError:
            pass
        try:
            most = None
            with open(os.path.join(pid, "limits"), "rb") as limits:
                for line in limits:
                    if line.startswith(b"Max open file"):
                        most = float(line.split()[3])
                        break
            fds = os.path.join(pid, "fd")
            count = os.stat(fds).st_size
            count = count + 1 if count > 0 else len(os.listdir(fds))
        except OSError:
            return result
        doc = "Number of open file descriptors."
        result.append(GaugeMetricFamily(prefix + "open_fds", doc, count))
        if most is not None:
            doc = "Maximum number of open file descriptors."
            result.append(GaugeMetricFamily(prefix + "max_fds", doc, value=most))
        return result
