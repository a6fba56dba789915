"""The ``ucs`` command."""

from __future__ import annotations

import gc
import os
import re
import socket
import sys
import time
from pathlib import Path
from typing import TYPE_CHECKING

import typer

from ucs.commands.directory import agent_app, aux_app, phone_app, queue_app, settings_app
from ucs.commands.records import audit, cdr, sim_app, stats_app
from ucs.core.directory import PARTITION_PATTERN
from ucs.core.sso import make_token

if TYPE_CHECKING:
    from ucs.web.server import Server, Settings
    from ucs.workers import Worker

__all__ = ["app", "main"]

app = typer.Typer(add_completion=False, help="ucs: open contact-center server.")

DEMO_SSO_SECRET = "demo-sso-secret"


@app.command()
def serve(
    ctx: typer.Context,
    host: str = typer.Option("127.0.0.1", envvar="UCS_HOST"),
    port: int = typer.Option(8080, envvar="UCS_PORT"),
    db: str = typer.Option("sqlite:///ucs.db", envvar="UCS_DB"),
    demo: bool = typer.Option(False, "--demo", help="Fill an empty database with demo data."),
    allow_demo_credentials: bool = typer.Option(
        False,
        "--allow-demo-credentials",
        envvar="UCS_ALLOW_DEMO_CREDENTIALS",
        help="Start without --demo although demo credentials are in force (with a warning).",
    ),
    shed_lag: float = typer.Option(
        0.5,
        "--shed-lag",
        envvar="UCS_SHED_LAG",
        help="Refuse REST requests that add work (503, Retry-After) while the event loop "
        "lags more than this many seconds; 0: never.",
    ),
    health_port: int = typer.Option(
        0,
        "--health-port",
        envvar="UCS_HEALTH_PORT",
        min=0,
        max=65535,
        help="Answer /healthz on this port too, from a thread off the event loop, for a load "
        "balancer's health check (a node starved of CPU answers at once; deploy/haproxy.cfg "
        "checks there); 0: none.",
    ),
    keep_wait: float = typer.Option(
        2.0,
        "--keep-wait",
        envvar="UCS_KEEP_WAIT",
        min=0,
        help="A new call rings nobody until its record is committed (or journalled), this "
        "many seconds at most, so every call that rang is in the call records after a "
        "kill -9; 0: ring at once.",
    ),
    access_log: bool = typer.Option(
        False,
        "--access-log",
        envvar="UCS_ACCESS_LOG",
        help="Log a line per HTTP request (method, path, status). Off by default: at 200 "
        "calls/s it cost a tenth of the event loop.",
    ),
    switch: str = typer.Option(
        "simulated",
        envvar="UCS_SWITCH",
        help="simulated, or sip for real phones (docs/telephony.md).",
    ),
    sip_host: str = typer.Option("127.0.0.1", envvar="UCS_SIP_HOST", help="SIP address."),
    sip_port: int = typer.Option(5060, envvar="UCS_SIP_PORT", help="SIP port (UDP)."),
    sip_trunk: str = typer.Option(
        "", envvar="UCS_SIP_TRUNK", help="HOST:PORT of the SIP trunk (--switch sip)."
    ),
    sip_proxy: str = typer.Option(
        "",
        envvar="UCS_SIP_PROXY",
        help="HOST:PORT of the SIP proxy in front (Kamailio's address): requests from it come "
        "from the address its X-UCS-Source header names (docs/deploy.md, SIP in a cluster).",
    ),
    sip_advertise: str = typer.Option(
        "",
        envvar="UCS_SIP_ADVERTISE",
        help="HOST:PORT the other nodes of a cluster reach this node's SIP at (default: "
        "--sip-host:--sip-port); docs/deploy.md, SIP in a cluster.",
    ),
    journal: str = typer.Option(
        "",
        envvar="UCS_JOURNAL",
        help="Where records wait while the database is unavailable (default: beside the "
        "SQLite file, else ucs-DBNAME.ucs-journal here). Put it on a disk of its own.",
    ),
    media: str = typer.Option(
        "auto",
        envvar="UCS_MEDIA",
        help="Media engine: auto (Janus when installed), janus, or off (docs/media.md).",
    ),
    media_rtp_ip: str = typer.Option(
        "127.0.0.1", envvar="UCS_MEDIA_RTP_IP", help="Address the engine takes plain RTP on."
    ),
    media_ice_interface: str = typer.Option(
        "", envvar="UCS_MEDIA_ICE_INTERFACE", help="Only interface offered to browsers (ICE)."
    ),
    media_relay: str = typer.Option(
        "auto",
        envvar="UCS_MEDIA_RELAY",
        help="rtpengine in front of the engine for SIP legs: auto (when installed: every "
        "leg, its RFC 4733 keys read, and calls that need no mixing forwarded by rtpengine "
        "alone), keys (only legs that send RFC 4733 keys) or off (docs/media.md).",
    ),
    media_relay_ip: str = typer.Option(
        "",
        envvar="UCS_MEDIA_RELAY_IP",
        help="Address rtpengine relays SIP legs' RTP on (default: --media-rtp-ip).",
    ),
    recordings_dir: str = typer.Option(
        "",
        envvar="UCS_RECORDINGS_DIR",
        help="Where recorded calls are kept (default: ucs-recordings beside the SQLite file).",
    ),
    recording_retention_days: float = typer.Option(
        0.0,
        envvar="UCS_RECORDING_RETENTION_DAYS",
        min=0,
        help="Remove recordings older than this many days (0: keep them).",
    ),
    cluster: bool = typer.Option(
        False,
        "--cluster",
        envvar="UCS_CLUSTER",
        help="Run as a node of a cluster on PostgreSQL: serve the partition while holding its "
        "lease, wait as a standby otherwise (docs/deploy.md, 'A cluster').",
    ),
    node: str = typer.Option(
        "", envvar="UCS_NODE", help="This node's name in the cluster (default: the host name)."
    ),
    partition: str = typer.Option(
        "",
        envvar="UCS_PARTITION",
        help="Run this partition only (default: the first whose lease is free, of all the "
        "partitions queues and agents are in).",
    ),
    advertise: str = typer.Option(
        "",
        envvar="UCS_ADVERTISE",
        help="The URL clients reach this node at, where other nodes hand them on to "
        "(default: http://HOST:PORT/; behind HAProxy: https://ADDRESS/node/NAME/).",
    ),
    trusted_proxy: str = typer.Option(
        "",
        "--trusted-proxy",
        envvar="UCS_TRUSTED_PROXIES",
        help="Addresses or networks (comma-separated) of the proxies in front, such as "
        "HAProxy with option forwardfor, whose X-Forwarded-For header gives the client's "
        "address (the per-address limits, the log); never trusted from anyone else. Default: "
        "none; with --workers, the local HAProxy's (127.0.0.1).",
    ),
    workers: int = typer.Option(
        1,
        "--workers",
        envvar="UCS_WORKERS",
        min=1,
        help="With --cluster: run this many nodes on this machine (NODE-1 … NODE-N) behind "
        "HAProxy on HOST:PORT (e.g. --workers $(nproc); default 1: this process is the node). "
        "docs/deploy.md, 'One machine, every core'.",
    ),
) -> None:
    """Start the contact-center server."""
    import uvicorn

    from ucs.web.listener import uvicorn_options
    from ucs.web.server import Settings, build_server, create_app

    settings = Settings(
        host=host,
        port=port,
        db=db,
        demo=demo,
        switch=switch,
        sip_host=sip_host,
        sip_port=sip_port,
        sip_trunk=sip_trunk,
        sip_advertise=sip_advertise,
        sip_proxy=sip_proxy,
        journal=journal,
        shed_lag=shed_lag,
        health_port=health_port,
        keep_wait=keep_wait or None,
        writer_process=True,
        node=(node or socket.gethostname()) if cluster else "",
        partition=partition,
        advertise=advertise,
        media=media,
        media_rtp_ip=media_rtp_ip,
        media_ice_interface=media_ice_interface,
        media_relay=media_relay,
        media_relay_ip=media_relay_ip,
        recordings_dir=recordings_dir,
        recording_retention_days=recording_retention_days,
        trusted_proxies=_trusted_proxies(trusted_proxy),
        sso_secret=os.environ.get("UCS_SSO_SECRET", ""),
        admin_token=os.environ.get("UCS_ADMIN_TOKEN", ""),
        admin_token_file=os.environ.get("UCS_ADMIN_TOKEN_FILE", "ucs-admin-token"),
        region=os.environ.get("UCS_REGION", "CZ"),
        allowed_origins=tuple(
            o.strip() for o in os.environ.get("UCS_ALLOWED_ORIGINS", "").split(",") if o.strip()
        ),
    )
    if switch not in ("simulated", "sip"):
        raise typer.BadParameter(
            f"unknown switch {switch!r}: simulated or sip", param_hint="--switch"
        )
    if cluster and not db.startswith(("postgresql://", "postgres://")):
        raise typer.BadParameter(
            "a cluster's nodes share one PostgreSQL database (postgresql://…)", param_hint="--db"
        )
    if node and not cluster:
        raise typer.BadParameter("--node names a node of a cluster: add --cluster")
    if (partition or advertise) and not cluster:
        raise typer.BadParameter("--partition and --advertise are a node's: add --cluster")
    if partition and not re.match(PARTITION_PATTERN, partition):
        raise typer.BadParameter(
            "1 to 32 lower-case letters, digits, - and _", param_hint="--partition"
        )
    if advertise and not advertise.startswith(("http://", "https://")):
        raise typer.BadParameter("an http:// or https:// URL", param_hint="--advertise")
    if media not in ("auto", "janus", "off"):
        raise typer.BadParameter(
            f"unknown media {media!r}: auto, janus or off", param_hint="--media"
        )
    if workers > 1:
        raise typer.Exit(_supervise(ctx, settings, workers))
    _logging(access_log)
    server = build_server(settings)
    _check_demo_credentials(server, demo=demo, allowed=allow_demo_credentials)
    server.steps.mark("credentials check")
    # Full collections froze the loop for 100-200 ms at 200 calls/s (docs/performance.md): what
    # start-up built lives as long as the process, so it is frozen out of the collector's sight,
    # and rarer young collections promote less, so full ones become rare. A young collection
    # takes time in proportion to its threshold: 50,000 held the loop 40-90 ms on a slow day,
    # 10,000 holds it under 10 ms (ucs_gc_pause_seconds), with full ones as rare as before.
    gc.collect()
    gc.freeze()
    gc.set_threshold(10_000, 50, 100)
    server.steps.mark("gc")
    typer.echo(f"ucs: contact center on http://{host}:{port} (database {db})")
    if settings.admin_token_generated:
        where = Path(settings.admin_token_file).resolve()
        typer.echo(f"ucs: a new admin token was written to {where} (readable by you alone)")
    # httptools with bounded request heads, keep-alive and WebSocket frames (ucs.web.listener).
    uvicorn.run(
        create_app(server),
        host=host,
        port=port,
        log_level="info",
        access_log=access_log,
        **uvicorn_options(settings),
    )


def _trusted_proxies(value: str) -> tuple[str, ...]:
    """``--trusted-proxy``: addresses or networks, each checked."""
    import ipaddress

    found = tuple(p.strip() for p in value.split(",") if p.strip())
    for proxy in found:
        try:
            ipaddress.ip_network(proxy, strict=False)
        except ValueError:
            raise typer.BadParameter(
                f"{proxy!r} is not an IP address or network", param_hint="--trusted-proxy"
            ) from None
    return found


_EACH_SOCKET = frozenset({'%s - "WebSocket %s" [accepted]', "connection open", "connection closed"})
"""uvicorn's (and websockets') lines for each WebSocket that opens or closes: left out unless
``--access-log``. A thousand agents reconnecting at once after a take-over made 3,000 of them,
a tenth of the node's CPU then (docs/performance.md); refusals are still logged."""


def _each_socket(record: object) -> bool:
    return getattr(record, "msg", None) not in _EACH_SOCKET


def _logging(access_log: bool) -> None:
    """ucs's warnings on stderr as uvicorn's lines are (``WARNING:  …``), and the cluster's
    information too: a node's start says how long each step of it took (``web/startup.py``).
    Without ``--access-log``, no line for each WebSocket either."""
    import logging

    from uvicorn.logging import DefaultFormatter

    if not access_log:
        logging.getLogger("uvicorn.error").addFilter(_each_socket)

    handler = logging.StreamHandler()
    handler.setFormatter(DefaultFormatter("%(levelprefix)s %(message)s"))
    logging.getLogger("ucs").addHandler(handler)
    logging.getLogger("ucs").setLevel(logging.WARNING)
    logging.getLogger("ucs.cluster").setLevel(logging.INFO)


def _supervise(ctx: typer.Context, settings: Settings, count: int) -> int:
    """``--workers N`` (N > 1): N nodes of the cluster behind HAProxy (``ucs.workers``)."""
    import asyncio

    from ucs.web.cluster import advertised
    from ucs.web.origins import own_origins
    from ucs.workers import HAPROXY_PACKAGE, Supervisor, haproxy_binary, plan

    if not settings.node:
        raise typer.BadParameter(
            f"--workers {count} runs {count} nodes of a cluster on one PostgreSQL database: "
            "add --cluster (and --db postgresql://…), or --workers 1",
            param_hint="--workers",
        )
    if settings.switch == "sip":
        raise typer.BadParameter(
            "with --switch sip every worker would answer on the one SIP address: --workers 1, "
            "one node per SIP address behind Kamailio (docs/deploy.md, SIP in a cluster)",
            param_hint="--workers",
        )
    haproxy = haproxy_binary()
    if haproxy is None:
        typer.echo(
            f"ucs: not started: --workers {count} puts the workers behind HAProxy, which is not "
            f"installed: install Debian's {HAPROXY_PACKAGE!r} package (apt-get install "
            f"{HAPROXY_PACKAGE}), or start with --workers 1",
            err=True,
        )
        return 2
    public = advertised(settings)
    nodes = plan(settings.node, count, public)
    origins = list(settings.allowed_origins)
    if origins or not settings.demo:  # the demo's default, any origin, is kept
        scheme, _, rest = public.partition("://")
        origins += [*own_origins(settings.host, settings.port), f"{scheme}://{rest.split('/')[0]}"]
    params = {p.name: p for p in ctx.command.params if p.name}
    base = {**ctx.params, "workers": 1, "cluster": True, "host": "127.0.0.1"}
    # HAProxy reaches the workers from the loopback, the client's address in X-Forwarded-For.
    base["trusted_proxy"] = ",".join(settings.trusted_proxies) or "127.0.0.1"

    def env(worker: Worker) -> dict[str, str]:
        values = {**base, "node": worker.name, "port": worker.port, "advertise": worker.advertise}
        values["health_port"] = worker.health
        out = {**os.environ, "UCS_ALLOWED_ORIGINS": ",".join(dict.fromkeys(origins))}
        for name, value in values.items():
            envvar = params[name].envvar
            if isinstance(envvar, str) and value is not None:
                out[envvar] = ("1" if value else "0") if isinstance(value, bool) else str(value)
        return out

    argv = [sys.executable, "-m", "ucs.cli", "serve"]
    for name, value in base.items():  # what has no variable: --demo
        if not isinstance(params[name].envvar, str) and value:
            argv += (
                [params[name].opts[0]]
                if isinstance(value, bool)
                else [params[name].opts[0], str(value)]
            )
    names = ", ".join(w.name for w in nodes)
    typer.echo(
        f"ucs: contact center on http://{settings.host}:{settings.port} (database "
        f"{settings.db}): {count} workers ({names}) behind HAProxy"
    )
    supervisor = Supervisor(
        nodes, argv, env, host=settings.host, port=settings.port, haproxy=haproxy
    )
    return asyncio.run(supervisor.run())


def _check_demo_credentials(server: Server, *, demo: bool, allowed: bool) -> None:
    """Demo credentials in force (``ucs.demo.demo_credentials``): with ``--demo`` or when
    allowed, one warning line naming them; else no start (exit code 2), saying how to change
    each. docs/deploy.md, "From the demo to production"."""
    from ucs.demo import demo_credentials

    found = demo_credentials(server.store, server.settings)
    if not found:
        return
    if demo or allowed:
        named = "; ".join(c.what for c in found)
        typer.echo(
            f"ucs: warning: demo credentials in force, anyone may know them: {named}", err=True
        )
        return
    server.store.stop()
    lines = ["ucs: not started: demo credentials are in force and --demo is not given:"]
    lines += [f"  - {c.what}: {c.change}" for c in found]
    lines += [
        "Change them (start once with --allow-demo-credentials on 127.0.0.1 to reach the API),",
        "or run the demo with --demo. --allow-demo-credentials (or UCS_ALLOW_DEMO_CREDENTIALS=1)",
        "starts anyway, with a warning (docs/deploy.md).",
    ]
    typer.echo("\n".join(lines), err=True)
    raise typer.Exit(2)


@app.command("sso-token")
def sso_token(
    username: str,
    secret: str = typer.Option(
        None, envvar="UCS_SSO_SECRET", help="The SSO secret (demo: demo-sso-secret)."
    ),
) -> None:
    """Print a valid SSO token for USERNAME (docs/api.md, "Single sign-on")."""
    typer.echo(
        make_token(
            secret or os.environ.get("UCS_SSO_SECRET") or DEMO_SSO_SECRET,
            username,
            int(time.time()),
        )
    )


# --- administration through a running server's REST API (ucs.commands) ------------------------

app.add_typer(agent_app, name="agent")
app.add_typer(queue_app, name="queue")
app.add_typer(phone_app, name="phone")
app.add_typer(aux_app, name="aux")
app.add_typer(settings_app, name="settings")
app.add_typer(stats_app, name="stats")
app.add_typer(sim_app, name="sim")
app.command()(cdr)
app.command()(audit)


def main() -> None:
    app()


if __name__ == "__main__":
    main()
