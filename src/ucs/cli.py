"""The ``ucs`` command."""

from __future__ import annotations

import gc
import os
import re
import socket
import time
from pathlib import Path
from typing import TYPE_CHECKING

import typer

from ucs.commands.directory import agent_app, aux_app, phone_app, queue_app, settings_app
from ucs.commands.records import audit, cdr, sim_app, stats_app
from ucs.core.directory import PARTITION_PATTERN
from ucs.core.sso import make_token

if TYPE_CHECKING:
    from ucs.web.server import Server

__all__ = ["app", "main"]

app = typer.Typer(add_completion=False, help="ucs: open contact-center server.")

DEMO_SSO_SECRET = "demo-sso-secret"


@app.command()
def serve(
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
        journal=journal,
        shed_lag=shed_lag,
        keep_wait=keep_wait or None,
        writer_process=True,
        node=(node or socket.gethostname()) if cluster else "",
        partition=partition,
        advertise=advertise,
        media=media,
        media_rtp_ip=media_rtp_ip,
        media_ice_interface=media_ice_interface,
        recordings_dir=recordings_dir,
        recording_retention_days=recording_retention_days,
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
    server = build_server(settings)
    _check_demo_credentials(server, demo=demo, allowed=allow_demo_credentials)
    # Full collections froze the loop for 100-200 ms at 200 calls/s (docs/performance.md): what
    # start-up built lives as long as the process, so it is frozen out of the collector's sight,
    # and rarer young collections promote less, so full ones become rare. A young collection
    # takes time in proportion to its threshold: 50,000 held the loop 40-90 ms on a slow day,
    # 10,000 holds it under 10 ms (ucs_gc_pause_seconds), with full ones as rare as before.
    gc.collect()
    gc.freeze()
    gc.set_threshold(10_000, 50, 100)
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
