"""Composition: one function builds the whole server from its settings."""

from __future__ import annotations

import asyncio
import logging
import os
import secrets
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from datetime import UTC, tzinfo
from importlib import resources
from pathlib import Path
from typing import TYPE_CHECKING, Any

from argon2 import PasswordHasher
from argon2.exceptions import Argon2Error, InvalidHashError
from fastapi import FastAPI, HTTPException, Request, WebSocket
from fastapi.exceptions import RequestValidationError
from fastapi.openapi.docs import get_swagger_ui_html
from fastapi.responses import FileResponse, JSONResponse, Response
from fastapi.staticfiles import StaticFiles
from prometheus_client import CONTENT_TYPE_LATEST
from sqlalchemy.exc import InterfaceError, OperationalError
from starlette.types import ASGIApp, Receive, Scope, Send

from ucs.core.center import Center, last_midnight
from ucs.core.directory import DEFAULT_PARTITION, AgentConfig, Directory
from ucs.core.effects import (
    AgentRecord,
    CallRecord,
    Keep,
    LoginLocked,
    SessionRecord,
    StatusRecord,
)
from ucs.core.errors import Forbidden, InvalidArgument, StorageUnavailable, UcsError
from ucs.core.events import Kept, Reconfigure
from ucs.core.ids import AgentId
from ucs.core.sso import make_token
from ucs.crm import demo as demo_crm
from ucs.crm.service import Crm
from ucs.crm.settings import LOOKUP_KEY, WEBHOOK_KEY, LookupConfig, load_lookup, load_webhook
from ucs.media.conductor import Conductor
from ucs.media.plane import media_plane
from ucs.runtime.engine import Engine
from ucs.runtime.tokens import Tokens, token_digest
from ucs.storage import partitions
from ucs.storage.audit import AuditLog
from ucs.storage.lease import Keeper, Lease
from ucs.storage.store import Health, Store, TokenIssued, TokensRevoked
from ucs.switch.base import Switch
from ucs.switch.simulated import SimulatedSwitch
from ucs.web import cluster, demo_ring, handoff, home
from ucs.web.admission import Admission
from ucs.web.api import (
    admin,
    audit,
    crm,
    periods,
    readers,
    recordings,
    reports,
    sim,
    sounds,
    staff,
    team,
)
from ucs.web.api.audit import AuditTrail
from ucs.web.api.auth import AdminGate
from ucs.web.api.plain import refusal
from ucs.web.api.staff import AdminSessions, actor_of
from ucs.web.health import OffLoopHealth, Publisher
from ucs.web.hub import Hub
from ucs.web.limits import DEFAULT_BODY, DEFAULT_BODY_TIMEOUT, BodyLimit
from ucs.web.metrics import Metrics
from ucs.web.origins import OriginPolicy, own_origins
from ucs.web.pressure import Backpressure
from ucs.web.replay import Answers
from ucs.web.startup import Steps
from ucs.web.ws import operator_socket

if TYPE_CHECKING:
    from ucs.switch.sip import SipSwitch

__all__ = ["Server", "Settings", "build_server", "create_app", "password_hasher"]

log = logging.getLogger("ucs.server")

_WIDGET = str(resources.files("ucs") / "widget")
_ADMIN = str(resources.files("ucs") / "admin")
_WALLBOARD = str(resources.files("ucs") / "wallboard")
_REPORTS = str(resources.files("ucs") / "reports")
"""The reports page (``/reports/``): charts and tables of ``/api/reports/…``."""
"""The web admin (``/admin/``): plain ES modules over the REST API."""
"""The operator component: plain ES modules, served as they are (no build step)."""
_TYPED_WIDGET_FILES = {
    "operator.d.ts": "application/typescript; charset=utf-8",
    "operator.mjs": "text/javascript; charset=utf-8",
}
"""Files of the component whose type the system's MIME table may get wrong."""


def _widget_file(name: str, media: str) -> Any:
    async def serve() -> FileResponse:
        return FileResponse(f"{_WIDGET}/{name}", media_type=media)

    return serve


_DEMO_CRM = str(resources.files("ucs") / "democrm")
"""The demo CRM (``/demo/crm/``, demo mode only)."""
_SWAGGER_UI = str(resources.files("fastapi_offline") / "static")
"""Swagger UI 5 as fastapi-offline ships it, so that /api/docs needs no CDN."""


def password_hasher() -> PasswordHasher:
    """argon2id with OWASP's recommended minimum cost (19 MiB, 2 passes), so that checking a
    password holds the engine for milliseconds, not tens of them."""
    return PasswordHasher(time_cost=2, memory_cost=19 * 1024, parallelism=1)


@dataclass
class Settings:
    host: str = "127.0.0.1"
    port: int = 8080
    db: str = "sqlite:///ucs.db"
    demo: bool = False
    sso_secret: str = ""
    admin_token: str = ""
    region: str = "CZ"
    allowed_origins: tuple[str, ...] = ()
    tz: tzinfo | None = None
    admin_token_file: str = "ucs-admin-token"
    """Where a newly made admin token is written (mode 0600), never to the log."""
    admin_token_digest: str = ""
    """SHA-256 of the admin token: all the server keeps of it (the database too)."""
    admin_token_generated: bool = False
    """The admin token was made at this start and written to ``admin_token_file``."""
    switch: str = "simulated"
    """``simulated`` (CONTRACT §7) or ``sip`` (real phones, CONTRACT §9)."""
    sip_host: str = "127.0.0.1"
    sip_port: int = 5060
    sip_trunk: str = ""
    """``HOST:PORT`` of the SIP trunk peer (``--switch sip``)."""
    sip_proxy: str = ""
    """``HOST:PORT[,…]`` of the SIP proxies in front (Kamailio's front socket): a request from
    one comes from where its ``X-UCS-Source`` header says (authentication, failures)."""
    sip_advertise: str = ""
    """``HOST:PORT`` where the other nodes of a cluster reach this node's SIP (redirects and
    calls across partitions); empty: ``sip_host:sip_port``."""
    journal: str = ""
    """Where records wait while the database is unavailable (``UCS_JOURNAL``); by default
    beside the SQLite file, or in the working directory (``Store``)."""
    # Limits on connections and requests (docs/security.md, "Bad input and overload").
    hello_timeout: float = 10.0
    """Seconds a WebSocket has to say ``hello``; then it is closed (4408)."""
    pending_per_address: int = 256
    """Connections one client address may hold without a session (WebSockets), and without
    a first request head (HTTP); more are refused. The benchmark logs in 200 at once."""
    trusted_proxies: tuple[str, ...] = ()
    """Addresses or networks (``127.0.0.1``, ``10.0.0.0/8``) of the proxies in front
    (HAProxy, ``option forwardfor``) whose ``X-Forwarded-For`` header says the client's
    address: the per-address limits and the log use that address for connections from them.
    Empty: the header is never trusted (from anyone else it never is)."""
    connections_per_session: int = 50
    """Connections (tabs, windows) one agent's session may have; one more is refused (4429)."""
    head_timeout: float = 10.0
    """Seconds an HTTP request head may take to arrive whole."""
    max_head: int = 64 * 1024
    """Largest HTTP request head (request line and headers), in bytes."""
    keep_alive: int = 9
    """Seconds an idle kept-alive HTTP connection stays open: longer than common clients keep
    one for reuse (httpx, the SDK's library, 5 s), else a request sent on a connection the
    server is closing at that moment fails with a reset; shorter than ``head_timeout``."""
    max_body: int = DEFAULT_BODY
    """Largest HTTP request body, in bytes, unless ``body_limits`` gives its route another."""
    body_limits: tuple[tuple[str, int], ...] = ()
    """(path prefix, bytes): body limits of routes that take more (or less) than ``max_body``."""
    body_timeout: float = DEFAULT_BODY_TIMEOUT
    """Seconds a request body may take to arrive whole."""
    media: str = "off"
    """``auto`` (Janus when installed), ``janus`` or ``off`` (docs/media.md). ``ucs serve``
    says ``auto``; servers built in tests and programs have no media unless they ask."""
    media_dir: str = ""
    """The media engine's runtime directory (configuration, API socket, log); by default a
    new temporary one."""
    media_rtp_ip: str = "127.0.0.1"
    """The address the media engine receives plain RTP on (simulated callers, SIP legs)."""
    media_ice_interface: str = ""
    """The only interface the engine offers browsers (``ice_enforce_list``); empty: any."""
    media_ports: str = "20000-40000"
    media_relay: str = "auto"
    """``auto``: rtpengine, when it is installed, relays every SIP leg (``ucs.media.relay``),
    reads RFC 4733 keys, and forwards calls that need no mixing leg to leg
    (``ucs.media.forwarding``); ``keys``: it relays only legs that send RFC 4733 keys (every
    call's audio goes through a room); ``off``: never (keys come by SIP INFO only)."""
    media_relay_ip: str = ""
    """The address rtpengine relays on; empty: ``media_rtp_ip``."""
    sounds_dir: str = ""
    """Where the sounds callers hear are kept (``ucs.media.sounds``); by default
    ``ucs-sounds`` beside the SQLite database, or in the working directory."""
    recordings_dir: str = ""
    """Where recorded calls are kept (``ucs.media.recorder``); by default ``ucs-recordings``
    beside the SQLite database, or in the working directory."""
    recording_retention_days: float = 0.0
    """Recordings older than this many days are removed (checked hourly); 0 keeps them."""
    media_prefix: tuple[str, ...] = ()
    """A command the engine is started under (``ip netns exec NAME`` in the tests)."""
    writer_process: bool = False
    """The store's writer writes from a child process of its own (``storage/committer.py``),
    not a thread of the server's, where its Python work would hold the interpreter's lock the
    event loop needs. ``ucs serve`` sets it; servers that tests start by the hundred inside
    one process keep the thread (a child's start-up costs half a second of CPU)."""
    softphone_grace: float = 30.0
    """Seconds an agent whose phone is the browser softphone stays as it is after the last
    tab of its session closed; then it goes OFFLINE (``core/presence.py``)."""
    keep_wait: float | None = 2.0
    """Seconds a new call waits at most for its record to be committed (or journalled)
    before it rings anybody (``core/keeping.py``: every call that rang is in the call records,
    kill -9 included); None rings at once."""
    node: str = ""
    """This node's name in a cluster (``--cluster --node``, ``web/cluster.py``); empty: a
    server on its own."""
    partition: str = ""
    """The partition a node of a cluster runs: the one it was told to (``--partition``), else
    set once it holds one (``web/cluster.py``). Empty for a server on its own, which runs
    every partition."""
    advertise: str = ""
    """The URL clients reach this node at (``--advertise``): where other nodes hand them on
    to. Empty: ``http://host:port/``."""
    lease_seconds: float = 3.0
    """How long a node's lease holds without renewal: a standby takes over a paused or cut-off
    owner after it (a dead one at once)."""
    health_port: int = 0
    """A port of its own where a thread answers ``/healthz`` off the event loop, from what the
    loop last said (``web/health.py``: a starved node is not taken for a dead one); 0: none."""
    shed_lag: float = 0.0
    """REST requests that add work are refused (503, ``Retry-After``) while the event loop
    lags more than this many seconds (``web/pressure.py``); 0: never. ``ucs serve`` sets
    0.5 (``--shed-lag``). A server run inside a test shares its loop with the test's own work
    (a browser driver, Hypothesis), so there the lag would not be the server's."""


@dataclass
class Server:
    """Everything one running server holds, built once and passed to the routes."""

    settings: Settings
    store: Store
    password_hashes: dict[str, str]
    hasher: PasswordHasher = field(default_factory=password_hasher)
    center: Center = field(init=False)
    switch: SimulatedSwitch = field(init=False)
    hub: Hub = field(init=False)
    engine: Engine = field(init=False)
    crm: Crm = field(init=False)
    """The CRM integration: caller lookup, events to the CRM (CONTRACT §12)."""
    media: Conductor = field(init=False)
    """The media plane (``ucs.media``): what callers and softphones hear."""
    sip: SipSwitch | None = field(init=False, default=None)
    """The SIP switch the engine drives (``--switch sip``); else None."""
    tokens: Tokens = field(default_factory=Tokens)
    lease: Lease | None = None
    """A node of a cluster's lease on its partition (``web/cluster.py``)."""
    keeper: Keeper | None = None
    """What renews ``lease`` each second, from the moment it was taken (``web/cluster.py``)."""
    catalog: Directory = field(init=False)
    """The whole directory, every partition's: what the administration sees. The center runs
    the part of it that is this node's partition (all of it, on a server on its own)."""
    answers: dict[str, Answers] = field(default_factory=dict, repr=False)
    """Answers to recent requests, by session token (or connection): see ``replay.py``."""
    reconfiguring: asyncio.Lock = field(default_factory=asyncio.Lock, repr=False)
    _verified: dict[tuple[str, str], bool] = field(default_factory=dict, repr=False)
    _decoy_hash: str = field(default="", repr=False)
    _stored_sso: str | None = field(default=None, repr=False)
    """The SSO secret in the database at the last load of the directory (None: none yet)."""
    directory_version: str = ""
    """In a cluster, the version of the directory this node loaded last (``hold``): read
    before the directory itself, so a change made meanwhile is loaded at the next renewal."""
    whereabouts: handoff.Whereabouts = field(init=False, repr=False)
    """Where other partitions' agents belong and who runs those partitions (the hand-off's
    look-ups, kept a short while)."""
    steps: Steps = field(default_factory=Steps, repr=False)
    """The start's steps, timed (``startup.py``): logged once the server serves."""

    def __post_init__(self) -> None:
        kwargs: dict[str, Any] = {}
        if self.settings.tz is not None:
            kwargs["tz"] = self.settings.tz
        if self.settings.node:
            self.directory_version = partitions.directory_version(self.store.engine)
        self.catalog = self.store.load_directory(self.settings.region)
        self.whereabouts = handoff.Whereabouts(self.store.engine, lambda: self.catalog)
        self._stored_sso = self.store.setting("sso_secret") or ""
        directory = self.runs(self.catalog)
        self.steps.mark("directory")
        self.center = Center(
            directory,
            time.time(),
            passwords=self.check_password,
            sso_secret=self.settings.sso_secret,
            first_seq=self.store.max_seq() + 1,
            softphone_grace=self.settings.softphone_grace,
            uniqueid_prefix=_uniqueid_prefix(self.settings),
            keep_wait=self.settings.keep_wait,
            **kwargs,
        )
        self.switch = SimulatedSwitch(region=directory.region)
        self.hub = Hub(self._clients_of)
        if self.settings.switch == "sip":
            from ucs.switch.sip.config import sip_switch  # sippy only when asked for

            self.sip = sip_switch(self.settings, self.store, lambda: self.catalog)
        driver: Switch = self.sip if self.sip is not None else self.switch
        policy = self.store.writer.outbox
        policy.username = self._username
        policy.base_url = f"http://{self.settings.host}:{self.settings.port}"
        self.crm = Crm(lambda event: self.engine.submit(event), self.store.engine, policy)
        # Before ``resume``: calls that were live at the last stop tell the CRM they ended.
        self.crm.set_webhook(load_webhook(self.store.setting(WEBHOOK_KEY)))
        self.engine = Engine(
            self.center,
            driver,
            clients=self.hub,
            store=self.store,
            crm=self.crm.lookup,
            refusal=self.store.refusal,
        )
        if self.sip is not None:
            self.sip.attach(self.engine)
        self.engine.observers.append(self._watch)
        self.media = media_plane(self.settings, self.engine, self.switch, self.store.engine)
        if self.sip is not None and self.media.supervisor is not None:
            self.sip.use_media(self.media)  # the calls' audio is anchored in the engine
        self.engine.observers.append(self.media.observe)
        self.steps.mark("core")

    def runs(self, catalog: Directory) -> Directory:
        """The part of the directory this server runs: its partition's in a cluster."""
        return catalog.only(self.settings.partition) if self.settings.node else catalog

    async def reload_directory(self) -> None:
        """Load the configuration as stored and give it to the core. One at a time: a reload
        that started earlier must never be applied after one that started later."""
        async with self.reconfiguring:
            catalog = await asyncio.to_thread(self.store.load_directory, self.settings.region)
            hashes = await asyncio.to_thread(self.store.password_hashes)
            stored = await asyncio.to_thread(self.store.setting, "sso_secret")
            self.catalog = catalog
            self.password_hashes = hashes
            # The SSO secret an administrator changed since the last load (at another node of
            # a cluster, maybe); one set in the environment stays until someone changes it.
            changed = self._stored_sso is not None and stored and stored != self._stored_sso
            self._stored_sso = stored or ""
            if changed:
                self.settings.sso_secret = stored or ""
                self.engine.submit(Reconfigure(self.runs(catalog), sso_secret=stored))
            else:
                self.engine.submit(Reconfigure(self.runs(catalog)))

    def tell_kept(self, loop: asyncio.AbstractEventLoop) -> None:
        """From now on the store's writer tells the core, on ``loop``, which new calls' records
        are kept (``Keep`` → ``Kept``): those calls may ring."""

        def kept(asked: list[Keep]) -> None:
            event = Kept(tuple(a.uniqueid for a in asked))
            loop.call_soon_threadsafe(self._submit_kept, event)

        self.store.writer.on_kept = kept

    def _submit_kept(self, event: Kept) -> None:
        try:
            self.engine.submit(event)
        except Exception:
            log.exception("handing kept records to the core failed")

    def _watch(self, event: Any, effects: list[Any], seconds: float) -> None:
        for effect in effects:
            if isinstance(effect, SessionRecord) and effect.phase is None:
                # The session ended (logout, agent removed): its tokens and history go too.
                self.revoke_tokens(effect.agent)
                self.hub.forget_agent(effect.agent)
            elif isinstance(effect, LoginLocked):  # the core does no IO: it is logged here
                log.warning(
                    "login locked: username=%s for %d s", effect.username, round(effect.seconds)
                )

    def _username(self, agent: int) -> str | None:
        """An agent's username (asked from the store's thread: the directory is replaced,
        never changed, so a read sees one whole)."""
        config = self.center.directory.agents.get(AgentId(agent))
        return config.username if config is not None else None

    def _clients_of(self, agent: AgentId) -> set[Any]:
        return set(self.center.connections_of(agent) or ())

    async def verify_ahead(self, username: object, password: object) -> None:
        """Check a password in a worker thread just before the core asks for it."""
        if not isinstance(username, str) or not isinstance(password, str):
            return
        if len(password) > 256:
            return
        # An unknown username costs the same hashing as a known one: timing tells nothing.
        stored = self.password_hashes.get(username) or self._decoy()
        known = self.center.directory.agent_by_username(username) is not None
        try:  # a locked username is refused by the core anyway: spend no hashing on it
            self.center.throttle.check(username, time.time(), known=known)
        except UcsError:
            return
        ok = await asyncio.to_thread(self._verify, stored, password)
        self._verified[(username, password)] = ok

    def decoy_hash(self) -> str:
        """A hash no password matches, for unknown usernames (the same hashing cost)."""
        return self._decoy()

    def verify_password(self, stored: str, password: str) -> bool:
        """Whether ``password`` matches the argon2 hash ``stored`` (blocking: run in a thread)."""
        return self._verify(stored, password)

    def _decoy(self) -> str:
        if not self._decoy_hash:
            self._decoy_hash = self.hasher.hash(secrets.token_urlsafe(16))
        return self._decoy_hash

    def forget_ahead(self, username: object, password: object) -> None:
        """Drop what ``verify_ahead`` kept, used or not: no password stays in memory."""
        if isinstance(username, str) and isinstance(password, str):
            self._verified.pop((username, password), None)

    def check_password(self, agent: AgentConfig, password: str) -> bool:
        ahead = self._verified.pop((agent.username, password), None)
        if ahead is not None:
            return ahead
        stored = self.password_hashes.get(agent.username)
        if stored is None:
            return False
        return self._verify(stored, password)

    def _verify(self, stored: str, password: str) -> bool:
        try:
            return self.hasher.verify(stored, password)
        except (Argon2Error, InvalidHashError, UnicodeError):
            return False

    def issue_token(self, agent: AgentId) -> str:
        token, dropped = self.tokens.issue(agent)
        self.store.deliver(TokenIssued(token_digest(token), agent, tuple(dropped)))
        for digest in dropped:
            self.answers.pop(f"t:{digest}", None)
        return token

    def revoke_tokens(self, agent: AgentId) -> None:
        for digest in self.tokens.revoke(agent):
            self.answers.pop(f"t:{digest}", None)
        self.store.deliver(TokensRevoked(agent))

    def resume(self) -> None:
        """After a start: calls live at the last stop end with cause 0; agents, phones,
        statuses, statistics and session tokens come back as they were."""
        now = time.time()
        steps = self.steps
        ended = self.store.end_live_calls(now)
        if ended:
            log.warning("%d calls were live when the server stopped; recorded with cause 0", ended)
        steps.mark("live calls")
        days = self.store.queue_days(last_midnight(now, self.center.tz))
        today = {q: day for q, day in days.items() if q in self.center.directory.queues}
        steps.mark("queue days")
        states, sessions = self.store.agent_states(), self.store.sessions()
        steps.mark("agent states and sessions")
        effects = self.center.restore(states, sessions, now, queue_days=today)
        for effect in effects:
            if isinstance(effect, CallRecord | AgentRecord | SessionRecord | StatusRecord):
                self.store.deliver(effect)
        steps.mark("restore")
        for digest, agent in self.store.tokens().items():
            if self.center.logged_in(agent):
                self.tokens.adopt(digest, agent)
        steps.mark("tokens")


def _uniqueid_prefix(settings: Settings) -> str:
    """What the uniqueids a node of a cluster makes begin with: its partition's name, but
    for ``main``, whose uniqueids are those of a server on its own."""
    if not settings.node or settings.partition == DEFAULT_PARTITION:
        return ""
    return f"{settings.partition}-"


def _admin_token(settings: Settings, store: Store) -> None:
    """The admin token: from the environment, else the digest in the database, else a new one,
    written to ``settings.admin_token_file`` (mode 0600) for the administrator to read."""
    if settings.admin_token:
        settings.admin_token_digest = token_digest(settings.admin_token)
        return
    digest = store.setting("admin_token_sha256")
    if digest is None:
        token = secrets.token_urlsafe(32)
        path = Path(settings.admin_token_file)
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "w") as f:
            f.write(token + "\n")
        digest = token_digest(token)
        store.set_setting("admin_token_sha256", digest)
        settings.admin_token_generated = True
    settings.admin_token_digest = digest


def _crm_settings(server: Server) -> None:
    """Caller lookup as stored; in ``--demo`` with none stored, in the demo CRM."""
    settings = server.settings
    raw = server.store.setting(LOOKUP_KEY)
    lookup = load_lookup(raw)
    if raw is None and settings.demo:
        host = settings.host if settings.host not in ("", "0.0.0.0", "::") else "127.0.0.1"
        url = f"http://{'[' + host + ']' if ':' in host else host}:{settings.port}/demo/crm/lookup"
        lookup = LookupConfig(url, 800)
    server.crm.set_lookup(lookup)


def build_server(settings: Settings) -> Server:
    """Open (and migrate) the database, seed the demo data into an empty one, and resume."""
    from ucs.demo import (
        DEMO_ADMIN_TOKEN,
        DEMO_PASSWORDS,
        DEMO_PHONE_SECRETS,
        DEMO_SSO_SECRET,
        demo_directory,
    )

    store = Store(
        settings.db,
        journal=settings.journal,
        process=settings.writer_process,
        cluster=bool(settings.node),
        tz=settings.tz or UTC,
    )
    store.migrate()
    if settings.node:  # a standby's writer process is ready long before it takes over
        store.prestart()
    lease = cluster.take_partition(settings, store)  # a standby waits here
    steps = Steps()  # the start (a take-over) is timed from the lease taken
    keeper = cluster.keep(lease)  # renewed from now on: loading may take longer than a lease
    store.recover()
    steps.mark("recover")
    hasher = password_hasher()
    if settings.demo and store.is_empty():
        hashes = {user: hasher.hash(pw) for user, pw in DEMO_PASSWORDS.items()}
        store.seed(demo_directory(settings.region), hashes, DEMO_PHONE_SECRETS)
        store.set_setting("sso_secret", DEMO_SSO_SECRET)
        store.set_setting("admin_token_sha256", token_digest(DEMO_ADMIN_TOKEN))
    if not settings.sso_secret:
        settings.sso_secret = store.setting("sso_secret") or ""
    _admin_token(settings, store)
    hashes = store.password_hashes()
    steps.mark("settings")
    server = Server(settings, store, hashes, hasher, lease=lease, keeper=keeper, steps=steps)
    server.resume()
    _crm_settings(server)
    store.start()
    steps.mark("writer")
    return server


def health_answer(server: Server) -> tuple[int, dict[str, Any]]:
    """What ``/healthz`` answers: its status code and body (also off the loop, ``health.py``)."""
    body = {
        **server.store.status(),
        "sessions": len(server.center.sessions),
        **cluster.status(server),
    }
    return (503 if server.store.health is Health.FAILING else 200), body


def create_app(server: Server) -> ASGIApp:
    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        keeper = cluster.hold(server)
        server.tell_kept(asyncio.get_running_loop())
        server.engine.start()
        server.media.start()
        metrics.start()
        server.crm.start()
        if server.sip is not None:
            server.sip.start()
        checks = None
        if server.settings.health_port:
            host = server.settings.host
            checks = Publisher(
                OffLoopHealth(host, server.settings.health_port),
                lambda: health_answer(server),
                (host, server.settings.port),
            )
            checks.start()
        server.steps.mark("started")
        cluster.log.info("%s", cluster.started(server))
        yield
        if checks is not None:  # first: the balancer stops sending work at once
            await checks.stop()
        if server.sip is not None:
            server.sip.stop()
        metrics.stop()
        await server.media.stop()
        await server.crm.close()
        server.engine.stop()
        server.store.stop()
        cluster.let_go(server, keeper)

    app = FastAPI(
        title="ucs",
        summary="Contact-center server: administration, reports and the call simulator.",
        lifespan=lifespan,
        openapi_url="/api/openapi.json",
        docs_url=None,  # served below from the bundled Swagger UI: no CDN needed
        redoc_url=None,
    )
    app.state.server = server
    app.state.admin_sessions = sessions = AdminSessions()
    app.state.audit = audit_log = AuditLog(server.store.engine)
    app.add_exception_handler(RequestValidationError, refusal)
    app.mount("/api/docs/assets", StaticFiles(directory=_SWAGGER_UI), name="swagger-assets")

    @app.get("/api/docs", include_in_schema=False)
    async def docs() -> Response:
        return get_swagger_ui_html(
            openapi_url="/api/openapi.json",
            title="ucs: REST API",
            swagger_js_url="/api/docs/assets/swagger-ui-bundle.js",
            swagger_css_url="/api/docs/assets/swagger-ui.css",
            swagger_favicon_url="/api/docs/assets/favicon.png",
        )

    # Served with their types whatever the system's MIME table says (.ts is video there).
    for name, media in _TYPED_WIDGET_FILES.items():
        app.add_api_route(
            f"/operator/{name}",
            _widget_file(name, media),
            methods=["GET", "HEAD"],
            include_in_schema=False,
        )
    app.mount("/operator", StaticFiles(directory=_WIDGET, html=True), name="operator")
    if server.settings.demo:

        @app.get("/demo/crm/token/{username}", include_in_schema=False)
        async def demo_sso_token(username: str) -> dict[str, str]:
            """What a CRM's back end does: make an SSO token (demo mode only)."""
            if server.center.directory.agent_by_username(username) is None:
                raise HTTPException(404, f"no agent {username}")
            return {"token": make_token(server.settings.sso_secret, username, int(time.time()))}

        @app.get("/demo/crm/lookup", include_in_schema=False)
        async def demo_lookup(request: Request, number: str = "") -> Response:
            """What a CRM's lookup endpoint does (CONTRACT §12): who the number is."""
            found = demo_crm.answer(number, str(request.url_for("demo-crm", path="")))
            if found is None:
                return JSONResponse({"detail": "no such contact"}, status_code=404)
            return JSONResponse(found)

        @app.get("/demo/crm/contacts", include_in_schema=False)
        async def demo_contacts() -> list[dict[str, str]]:
            return list(demo_crm.CONTACTS)

        app.include_router(demo_ring.router)
        app.mount("/demo/crm", StaticFiles(directory=_DEMO_CRM, html=True), name="demo-crm")
    app.include_router(home.router)
    app.include_router(sim.router)
    app.include_router(reports.router)
    app.include_router(admin.router)
    app.include_router(sounds.router)
    app.include_router(staff.router)
    app.include_router(audit.router)
    app.include_router(crm.router)
    app.include_router(team.router)
    app.include_router(recordings.router)
    app.include_router(periods.router)
    app.add_exception_handler(Forbidden, readers.refused)
    app.add_exception_handler(InvalidArgument, readers.refused)
    app.mount("/reports", StaticFiles(directory=_REPORTS, html=True), name="reports")
    app.mount("/wallboard", StaticFiles(directory=_WALLBOARD, html=True), name="wallboard")
    app.mount("/admin", StaticFiles(directory=_ADMIN, html=True), name="admin")
    metrics = Metrics(server)

    @app.get("/healthz", tags=["health"])
    async def healthz() -> JSONResponse:
        """Liveness and storage: `status` is `ok`, `degraded` (the database cannot be
        written: records wait in the local journal, `backlog` of them) or `failing` (the
        journal cannot be written either: new calls and commands are refused; answered 503)."""
        status, body = health_answer(server)
        return JSONResponse(body, status_code=status)

    async def storage_unavailable(request: Request, exc: Exception) -> Response:
        """The database cannot be reached (a read), or nothing can be kept (a new call)."""
        if isinstance(exc, UcsError):
            code, message = exc.code, exc.message
        else:
            log.warning("database unavailable for %s: %s", request.url.path, exc)
            code, message = "STORAGE_UNAVAILABLE", "the database is unavailable; try again"
        return JSONResponse(
            {"code": code, "detail": message}, status_code=503, headers={"Retry-After": "5"}
        )

    app.add_exception_handler(StorageUnavailable, storage_unavailable)
    app.add_exception_handler(OperationalError, storage_unavailable)
    app.add_exception_handler(InterfaceError, storage_unavailable)

    @app.get("/metrics", tags=["health"], include_in_schema=False)
    async def prometheus() -> Response:
        return Response(metrics.render(), media_type=CONTENT_TYPE_LATEST)

    allowed: tuple[str, ...] | None = server.settings.allowed_origins
    if not allowed:
        allowed = None if server.settings.demo else ()
    own = own_origins(server.settings.host, server.settings.port)
    settings = server.settings
    # Inside the origin check (so that refusals carry CORS headers), before anything reads a
    # body: the admin token first, then the body's size and pace, then the audit trail;
    # innermost, the simulator's fast lane (``api/sim.py``).
    app.add_middleware(sim.FastLane, server=server)
    app.add_middleware(
        AuditTrail,
        audit=audit_log,
        actor=lambda token: actor_of(token, settings.admin_token_digest, sessions),
    )
    app.add_middleware(
        BodyLimit,
        default=settings.max_body,
        routes={"/api/sounds/": sounds.MAX_SOUND_BYTES, **dict(settings.body_limits)},
        timeout=settings.body_timeout,
    )
    if settings.shed_lag > 0:
        app.add_middleware(
            Backpressure,
            lag=lambda: metrics.lag.lag,
            limit=settings.shed_lag,
            shed=metrics.shed.inc,
        )
    app.add_middleware(
        AdminGate,
        expected=lambda: settings.admin_token_digest,
        session=lambda token: sessions.who(token, time.time()) is not None,
        reader=lambda token: sessions.supervisor(token, time.time()) is not None,
        reader_paths=staff.READER_PATHS,
        public=("/api/openapi.json", "/api/docs", "/api/admin/login", "/api/admin/logout"),
        # Recordings decide for themselves: supervisors' session tokens may fetch some.
        public_prefixes=("/api/docs/", "/api/recordings"),
    )
    app.add_middleware(OriginPolicy, allowed=allowed, own=own)
    admission = Admission(
        settings.pending_per_address, lambda client: server.center.agent_of(client) is not None
    )

    async def socket(scope: Scope, receive: Receive, send: Send) -> None:
        await operator_socket(WebSocket(scope, receive, send), server, admission)

    server.steps.mark("app")
    return _Root(app, OriginPolicy(socket, allowed=allowed, own=own))


class _Root:
    """The ASGI application: ``/ws`` goes straight to the operator protocol behind the origin
    check alone, everything else to FastAPI (``/node/NAME/…`` as ``/…``: ``handoff.node_scope``).
    Thousands of sockets stay open for hours; through FastAPI's middleware and routing each
    would keep some 11 KB of their frames."""

    def __init__(self, api: FastAPI, sockets: ASGIApp) -> None:
        self.api, self.sockets = api, sockets

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "websocket" and handoff.socket_path(scope.get("path", "")):
            await self.sockets(scope, receive, send)
        elif scope["type"] == "http":
            await self.api(handoff.node_scope(scope), receive, send)
        else:
            await self.api(scope, receive, send)
