"""``/metrics`` rendered by ``ucs.web.exposition`` says byte for byte what
``prometheus_client.generate_latest`` says (issue 14: the loop's CPU a call)."""

from __future__ import annotations

import os
import socket

import httpx
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from prometheus_client import (
    CollectorRegistry,
    Counter,
    Enum,
    Gauge,
    Histogram,
    Info,
    ProcessCollector,
    Summary,
    generate_latest,
)
from prometheus_client.core import GaugeHistogramMetricFamily
from prometheus_client.registry import Collector

from tests.server.conftest import Running
from ucs.client import Operator
from ucs.web import exposition
from ucs.web.exposition import Process, latest
from ucs.web.metrics import Metrics

_text = st.text(max_size=12)
_label = st.text(alphabet='ab_\\"\n é€{},=', max_size=6)
_amount = st.one_of(
    st.integers(min_value=0, max_value=10**12),
    st.floats(min_value=0, max_value=1e300, allow_nan=False),
)
_observed = st.floats(allow_nan=False, allow_infinity=False, min_value=-1e9, max_value=1e9)


class _Fixed(Collector):
    """A collector of metric families made up front (a gauge histogram: what no metric class
    of the library makes, and the library's ``_gsum`` and ``_gcount`` samples)."""

    def __init__(self, values: list[float]) -> None:
        self.values = values

    def collect(self):  # type: ignore[no-untyped-def]
        family = GaugeHistogramMetricFamily("ucs_gh", "a gauge histogram", labels=["q"])
        family.add_metric(["x"], [("1.0", 2.0), ("+Inf", 3.0)], gsum_value=self.values[0])
        yield family


@settings(max_examples=60, deadline=None)
@given(
    labels=st.lists(_label, min_size=1, max_size=4),
    amounts=st.lists(_amount, min_size=1, max_size=5),
    observed=st.lists(_observed, min_size=1, max_size=20),
    doc=_text,
)
def test_the_page_is_the_librarys_for_any_labels_values_and_types(
    labels: list[str], amounts: list[float], observed: list[float], doc: str
) -> None:
    registry = CollectorRegistry()
    counter = Counter("ucs_c", doc or "a counter", ["queue", "name"], registry=registry)
    gauge = Gauge("ucs_g", "a gauge\\with\nlines", ["a_b"], registry=registry)
    plain = Gauge("ucs_plain", "no labels", registry=registry)
    hist = Histogram("ucs_h", "a histogram", ["kind"], registry=registry, buckets=(0.001, 1, 5))
    summary = Summary("ucs_s", "a summary", registry=registry)
    Info("ucs_i", "an info", registry=registry).info({"version": labels[0]})
    Enum("ucs_e", "a state set", states=["a", "b"], registry=registry).state("b")
    registry.register(_Fixed(amounts))
    for i, label in enumerate(labels):
        amount = amounts[i % len(amounts)]
        counter.labels(label, labels[-1]).inc(amount)
        gauge.labels(label).set(-amount if i % 2 else amount)
        plain.set(amount)
    for i, value in enumerate(observed):
        hist.labels(labels[i % len(labels)]).observe(value)
        summary.observe(value)
    assert latest(registry) == generate_latest(registry)
    assert latest(registry) == generate_latest(registry)  # and again, from what it kept


def test_a_cache_full_of_texts_starts_again_and_says_the_same() -> None:
    registry = CollectorRegistry()
    counter = Counter("ucs_many", "many labels", ["n"], registry=registry)
    for n in range(exposition._MOST + 10):
        counter.labels(str(n)).inc()
    assert latest(registry) == generate_latest(registry)
    assert len(exposition._prefixes) <= exposition._MOST


def test_the_process_metrics_are_the_librarys_and_count_descriptors_as_it_does() -> None:
    ours, theirs = CollectorRegistry(), CollectorRegistry()
    Process(registry=ours)
    ProcessCollector(registry=theirs)
    opened = [socket.socket() for _ in range(50)]
    try:
        a = {s.name: s for m in ours.collect() for s in m.samples}
        b = {s.name: s for m in theirs.collect() for s in m.samples}
        fds = len(os.listdir("/proc/self/fd"))
    finally:
        for s in opened:
            s.close()
    assert sorted(a) == sorted(b)
    assert a["process_open_fds"].value == b["process_open_fds"].value == fds
    for name in ("process_max_fds", "process_start_time_seconds", "process_virtual_memory_bytes"):
        assert a[name].value == b[name].value
    page, theirs_page = latest(ours).decode(), generate_latest(theirs).decode()
    heads = [line for line in page.splitlines() if line.startswith("#")]
    assert heads == [line for line in theirs_page.splitlines() if line.startswith("#")]


@pytest.mark.anyio
async def test_the_servers_page_is_what_the_library_would_render(running: Running) -> None:
    metrics = next(
        getattr(o, "__self__")  # noqa: B009 (the observer is the Metrics' bound method)
        for o in running.server.engine.observers
        if isinstance(getattr(o, "__self__", None), Metrics)
    )
    async with Operator(running.url) as op, httpx.AsyncClient(base_url=running.url) as http:
        await op.login("agent1", "agent1-pass")
        await op.select_identifier("phone1")
        served = (await http.get("/metrics")).text
        # Back to back, with nothing run on the loop in between: the same figures.
        ours, theirs = latest(metrics.registry), generate_latest(metrics.registry)
    assert 'ucs_command_seconds_count{method="login"} 1.0' in served
    # Figures that move on their own between the two renderings: the process's, the
    # store's backlog, which the writer's thread changes as it commits (CI saw 4, then 0),
    # and the engine's lag, the worst of the last second by the clock (CI saw 0.00055, then
    # 0.0011). Their lines are compared up to the value.
    moving = (
        "process_cpu_seconds_total ",
        "process_resident_memory_bytes ",
        "ucs_storage_backlog ",
        "ucs_engine_lag_seconds ",
    )

    def steady(page: bytes) -> list[str]:
        return [
            x.rsplit(" ", 1)[0] if x.startswith(moving) else x for x in page.decode().splitlines()
        ]

    assert steady(ours) == steady(theirs)
