"""``/metrics`` for Prometheus: sessions, agents by status, calls by state, callers waiting and
the longest wait, calls offered, answered and abandoned per queue, free agents, registered
phones (SIP), the store's health and backlog, command latency, the build, and what makes the
server late: the engine's step times, the event loop's lag and the garbage collector's pauses.
``deploy/grafana-dashboard.json`` draws them (docs/deploy.md)."""

from __future__ import annotations

import platform
from collections.abc import Callable, Iterator
from typing import TYPE_CHECKING

from prometheus_client import (
    CollectorRegistry,
    Counter,
    Gauge,
    Histogram,
)
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily
from prometheus_client.registry import Collector

from ucs import __version__
from ucs.core.effects import CallRecord, Effect, Unrecorded
from ucs.core.events import Attach, Command, Connect, Disconnect, Event
from ucs.core.ids import QueueId
from ucs.core.model import Cause
from ucs.core.session import ALIASES, METHODS
from ucs.runtime.monitor import GcPauses, LoopLag
from ucs.storage.store import Health
from ucs.web.exposition import Process, latest

if TYPE_CHECKING:
    from ucs.web.server import Server

__all__ = ["Metrics"]


class _Live(Collector):
    def __init__(self, server: Server, lag: LoopLag) -> None:
        self.server = server
        self.lag = lag

    def collect(self) -> Iterator[GaugeMetricFamily | CounterMetricFamily]:
        figures = self.server.center.figures(self.server.engine.clock())
        names = {q: c.name for q, c in self.server.center.directory.queues.items()}
        sessions = GaugeMetricFamily("ucs_sessions", "Agents logged in")
        sessions.add_metric([], figures.sessions)
        yield sessions
        agents = GaugeMetricFamily(
            "ucs_agents", "Agents by status (OFFLINE: not logged in too)", labels=["status"]
        )
        for status, n in figures.statuses.items():
            agents.add_metric([status.value], n)
        yield agents
        connections = GaugeMetricFamily("ucs_connections", "Open operator connections")
        connections.add_metric([], len(self.server.hub.connections))
        yield connections
        calls = GaugeMetricFamily("ucs_calls", "Live calls by state", labels=["state"])
        for state, n in figures.calls.items():
            calls.add_metric([state.name.lower()], n)
        yield calls
        waiting = GaugeMetricFamily(
            "ucs_callers_waiting", "Callers waiting for an agent", labels=["queue", "name"]
        )
        for q, n in sorted(figures.waiting.items()):
            waiting.add_metric([str(q), names.get(q, "")], n)
        yield waiting
        longest = GaugeMetricFamily(
            "ucs_longest_wait_seconds",
            "How long the caller who has waited longest in the queue has waited (0: nobody)",
            labels=["queue", "name"],
        )
        for q, seconds in sorted(figures.longest_wait.items()):
            longest.add_metric([str(q), names.get(q, "")], round(seconds, 3))
        yield longest
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
        forwarding = self.server.media.forwarded_calls
        if forwarding is not None:  # (rtpengine relays every SIP leg)
            forwarded = GaugeMetricFamily(
                "ucs_media_calls_forwarded",
                "Calls whose audio rtpengine forwards leg to leg now (no room: nothing mixed)",
            )
            forwarded.add_metric([], forwarding)
            yield forwarded
        if figures.registered is not None:  # a switch that knows registrations (SIP)
            phones = GaugeMetricFamily("ucs_phones_registered", "Phones registered (SIP)")
            phones.add_metric([], figures.registered)
            yield phones


def _queue_name(server: Server, queue: int) -> str:
    config = server.center.directory.queues.get(QueueId(queue))
    return config.name if config is not None else ""


class QueueCalls:
    """Calls offered, answered and abandoned per queue since the server started, counted from
    the call records the core writes: a call is offered to a queue when a record first names
    the queue (from outside, dialled, transferred or a callback: however it got there), and
    answered or abandoned (the caller hung up before anyone answered) when its final record
    comes; a call dialled under a campaign, dialled and answered (by the called party) the same
    way. Only live calls are remembered; a final record written again (``again``) counts
    nothing more."""

    def __init__(self, registry: CollectorRegistry, name_of: Callable[[int], str]) -> None:
        self.name_of = name_of
        """A queue's name, for the ``name`` label."""
        labels = ["queue", "name"]
        self.offered = Counter(
            "ucs_queue_offered", "Calls that entered the queue", labels, registry=registry
        )
        self.answered = Counter(
            "ucs_queue_answered", "Queue calls an agent answered", labels, registry=registry
        )
        self.abandoned = Counter(
            "ucs_queue_abandoned",
            "Queue calls whose caller hung up before anyone answered",
            labels,
            registry=registry,
        )
        self.dialled = Counter(
            "ucs_campaign_dialled",
            "Calls agents dialled under the campaign (an outgoing queue)",
            labels,
            registry=registry,
        )
        self.reached = Counter(
            "ucs_campaign_answered",
            "Calls dialled under the campaign that the called party answered",
            labels,
            registry=registry,
        )
        self._live: dict[str, int] = {}
        """The queue each live queue call is in (by uniqueid)."""
        self._dialling: set[str] = set()
        """The live calls dialled under a campaign, counted as dialled (by uniqueid)."""

    def _labels(self, queue: int) -> tuple[str, str]:
        return str(queue), self.name_of(queue)

    def observe(self, record: CallRecord) -> None:
        if record.again:  # (an account code set after the end: counted already)
            return
        uid = str(record.call["uniqueid"])
        queue = record.queue_id
        campaign = record.call.get("outbound_id")
        if queue is None and isinstance(campaign, int):
            self._dialled(uid, campaign, record)
            return
        self._dialling.discard(uid)  # (dialled, then transferred into a queue)
        if record.live:
            if queue is not None and self._live.get(uid) != queue:
                self._live[uid] = queue
                self.offered.labels(*self._labels(queue)).inc()
            return
        was = self._live.pop(uid, None)
        if queue is None:
            return
        if was != queue:  # ended in the step that queued it
            self.offered.labels(*self._labels(queue)).inc()
        if record.call.get("connected") is not None:
            self.answered.labels(*self._labels(queue)).inc()
        elif record.call.get("cause") == int(Cause.CALLER_HANGUP):
            self.abandoned.labels(*self._labels(queue)).inc()

    def _dialled(self, uid: str, campaign: int, record: CallRecord) -> None:
        """A call dialled under ``campaign``: dialled when a record first says so, answered
        when its final record has the called party's answer."""
        if record.live:
            if uid not in self._dialling:
                self._dialling.add(uid)
                self.dialled.labels(*self._labels(campaign)).inc()
            return
        if uid in self._dialling:
            self._dialling.discard(uid)
        else:  # ended in the step that dialled it
            self.dialled.labels(*self._labels(campaign)).inc()
        if record.call.get("connected") is not None:
            self.reached.labels(*self._labels(campaign)).inc()


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
        self._server = server
        self.registry = CollectorRegistry()
        Process(registry=self.registry)  # process_cpu_seconds_total, memory, fds
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
        self.build = Gauge(
            "ucs_build_info",
            "The server's version and Python (always 1)",
            ["version", "python"],
            registry=self.registry,
        )
        self.build.labels(__version__, platform.python_version()).set(1)
        self.partition = Gauge(
            "ucs_partition_epoch",
            "The partition this node of a cluster runs, and the epoch of its lease",
            ["partition", "node"],
            registry=self.registry,
        )
        lease = server.lease
        if lease is not None and lease.fence is not None:
            self.partition.labels(lease.partition, lease.node).set(lease.fence.epoch)
        self.queues = QueueCalls(self.registry, lambda q: _queue_name(server, q))
        self.unrecorded = Counter(
            "ucs_calls_unrecorded",
            "Answered calls of queues that record always which could not be recorded, by why: "
            "no_tools (the server cannot make recordings), no_audio (not on the softphone, or "
            "no media engine)",
            ["queue", "name", "reason"],
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
        for effect in effects:
            if isinstance(effect, CallRecord):
                self.queues.observe(effect)
            elif isinstance(effect, Unrecorded):
                queue = effect.queue
                name = _queue_name(self._server, queue) if queue is not None else ""
                self.unrecorded.labels(str(queue or ""), name, effect.reason).inc()
        if isinstance(event, Command):
            method = event.method if isinstance(event.method, str) else ""
            method = ALIASES.get(method, method)
            # Only the API's own names become labels: a client cannot grow the metrics.
            self.latency.labels(method if method in METHODS else "other").observe(seconds)

    def render(self) -> bytes:
        """The page, as ``prometheus_client.generate_latest`` writes it (``exposition.py``)."""
        return latest(self.registry)
