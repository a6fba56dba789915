"""``/metrics`` for Prometheus: sessions, calls by state, callers waiting, free agents,
registered phones (SIP), the store's health and backlog, command latency, and what makes the
server late: the engine's step times, the event loop's lag and the garbage collector's pauses."""

from __future__ import annotations

from collections.abc import Iterator
from typing import TYPE_CHECKING

from prometheus_client import CollectorRegistry, Counter, Histogram, generate_latest
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily
from prometheus_client.registry import Collector

from ucs.core.effects import Effect
from ucs.core.events import Attach, Command, Connect, Disconnect, Event
from ucs.core.session import ALIASES, METHODS
from ucs.runtime.monitor import GcPauses, LoopLag
from ucs.storage.store import Health

if TYPE_CHECKING:
    from ucs.web.server import Server

__all__ = ["Metrics"]


class _Live(Collector):
    def __init__(self, server: Server, lag: LoopLag) -> None:
        self.server = server
        self.lag = lag

    def collect(self) -> Iterator[GaugeMetricFamily | CounterMetricFamily]:
        figures = self.server.center.figures()
        sessions = GaugeMetricFamily("ucs_sessions", "Agents logged in")
        sessions.add_metric([], figures.sessions)
        yield sessions
        connections = GaugeMetricFamily("ucs_connections", "Open operator connections")
        connections.add_metric([], len(self.server.hub.connections))
        yield connections
        calls = GaugeMetricFamily("ucs_calls", "Live calls by state", labels=["state"])
        for state, n in figures.calls.items():
            calls.add_metric([state.name.lower()], n)
        yield calls
        waiting = GaugeMetricFamily(
            "ucs_callers_waiting", "Callers waiting for an agent", labels=["queue"]
        )
        for q, n in sorted(figures.waiting.items()):
            waiting.add_metric([str(q)], n)
        yield waiting
        free = GaugeMetricFamily(
            "ucs_agents_free", "Agents free for a queue call (READY, phone usable, on no call)"
        )
        free.add_metric([], figures.free)
        yield free
        store = self.server.store
        health = GaugeMetricFamily(
            "ucs_storage_health",
            "1 for the store's health: ok, degraded (records wait in the journal), failing "
            "(the journal fails too: new calls and commands are refused)",
            labels=["state"],
        )
        for level in Health:
            health.add_metric([level.value], 1 if store.health is level else 0)
        yield health
        backlog = GaugeMetricFamily(
            "ucs_storage_backlog", "Records accepted and not yet in the database"
        )
        backlog.add_metric([], store.writer.backlog)
        yield backlog
        rejected = CounterMetricFamily(
            "ucs_storage_rejected_records",
            "Records the database refused for themselves (each logged), never written",
        )
        rejected.add_metric([], store.errors)
        yield rejected
        lag = GaugeMetricFamily(
            "ucs_engine_lag_seconds",
            "How late the event loop runs: the worst lag of the last second (commands, pushes "
            "and HTTP requests all wait that long)",
        )
        lag.add_metric([], self.lag.lag)
        yield lag
        yield from _crm(self.server)
        if figures.registered is not None:  # a switch that knows registrations (SIP)
            phones = GaugeMetricFamily("ucs_phones_registered", "Phones registered (SIP)")
            phones.add_metric([], figures.registered)
            yield phones


def _crm(server: Server) -> Iterator[GaugeMetricFamily | CounterMetricFamily]:
    """The CRM integration: events for the webhook, caller lookups."""
    webhook = server.crm.webhook
    pending = GaugeMetricFamily(
        "ucs_crm_webhook_pending", "Events for the CRM's webhook not yet delivered"
    )
    pending.add_metric([], webhook.pending)
    yield pending
    delivered = CounterMetricFamily(
        "ucs_crm_webhook_delivered", "Events delivered to the CRM's webhook (2xx)"
    )
    delivered.add_metric([], webhook.delivered)
    yield delivered
    failed = CounterMetricFamily(
        "ucs_crm_webhook_failed", "Events given up after 24 hours of tries"
    )
    failed.add_metric([], webhook.failed)
    yield failed
    lookups = CounterMetricFamily(
        "ucs_crm_lookups", "Caller lookups: answered by the CRM, or failed", labels=["outcome"]
    )
    lookups.add_metric(["answered"], server.crm.lookup.done)
    lookups.add_metric(["failed"], server.crm.lookup.failed)
    yield lookups


_FINE = (
    0.0001,
    0.00025,
    0.0005,
    0.001,
    0.0025,
    0.005,
    0.01,
    0.025,
    0.05,
    0.1,
    0.25,
    0.5,
    1.0,
    2.5,
)
"""Buckets for steps, lags and pauses: from 0.1 ms (a plain step) to seconds (a stuck loop)."""


def _kind(event: Event | None) -> str:
    if event is None:
        return "timer"
    if isinstance(event, Command):
        return "command"
    if isinstance(event, Connect | Disconnect | Attach):
        return "connection"
    return "call"


class Metrics:
    """The server's Prometheus registry; ``start`` (on the running loop) and ``stop`` the
    loop-lag and GC watches."""

    def __init__(self, server: Server) -> None:
        self.registry = CollectorRegistry()
        self.steps = Histogram(
            "ucs_engine_step_seconds",
            "Time the core takes per step: a command, a call event (switch, simulator), a "
            "connection coming or going, or the timers due",
            ["kind"],
            buckets=_FINE,
            registry=self.registry,
        )
        # Each step observes one: the children looked up once, not at every step.
        self._steps = {k: self.steps.labels(k) for k in ("command", "call", "connection", "timer")}
        self.loop_lag = Histogram(
            "ucs_loop_lag_seconds",
            "How late the event loop woke, measured every 50 ms",
            buckets=_FINE,
            registry=self.registry,
        )
        self.gc_pauses = Histogram(
            "ucs_gc_pause_seconds",
            "Garbage collections and how long each held the process",
            ["generation"],
            buckets=_FINE,
            registry=self.registry,
        )
        self.shed = Counter(
            "ucs_rest_shed",
            "REST requests refused (503) because the event loop was behind (web/pressure.py)",
            registry=self.registry,
        )
        self.lag = LoopLag(self.loop_lag.observe)
        self.gc = GcPauses(lambda gen, seconds: self.gc_pauses.labels(str(gen)).observe(seconds))
        self.registry.register(_Live(server, self.lag))
        self.latency = Histogram(
            "ucs_command_seconds",
            "Time the core takes to carry out a command",
            ["method"],
            buckets=(0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1),
            registry=self.registry,
        )
        server.engine.observers.append(self.observe)

    def start(self) -> None:
        self.lag.start()
        self.gc.install()

    def stop(self) -> None:
        self.lag.stop()
        self.gc.uninstall()

    def observe(self, event: Event | None, effects: list[Effect], seconds: float) -> None:
        self._steps[_kind(event)].observe(seconds)
        if isinstance(event, Command):
            method = event.method if isinstance(event.method, str) else ""
            method = ALIASES.get(method, method)
            # Only the API's own names become labels: a client cannot grow the metrics.
            self.latency.labels(method if method in METHODS else "other").observe(seconds)

    def render(self) -> bytes:
        return generate_latest(self.registry)
