"""The ``ucs`` command."""

from __future__ import annotations

import gc
import os
import time
from pathlib import Path
from typing import TYPE_CHECKING, Any

import typer

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
    """Print a valid SSO token for USERNAME (CONTRACT §4)."""
    typer.echo(
        make_token(
            secret or os.environ.get("UCS_SSO_SECRET") or DEMO_SSO_SECRET,
            username,
            int(time.time()),
        )
    )


# --- administration through a running server's REST API -------------------------------------

_url = typer.Option("http://127.0.0.1:8080", "--url", envvar="UCS_URL", help="The server.")
_token = typer.Option(
    "",
    "--token",
    envvar="UCS_ADMIN_TOKEN",
    help="The admin token (default: the file ucs-admin-token that `ucs serve` wrote, else the "
    "demo's demo-admin-token).",
    show_default=False,
)


def _admin_token(given: str) -> str:
    if given:
        return given
    path = Path(os.environ.get("UCS_ADMIN_TOKEN_FILE", "ucs-admin-token"))
    try:
        return path.read_text().strip() or "demo-admin-token"
    except OSError:
        return "demo-admin-token"


def _api(url: str, token: str, method: str, path: str, body: Any = None) -> Any:
    import httpx

    try:
        r = httpx.request(
            method,
            url.rstrip("/") + path,
            json=body,
            headers={"Authorization": f"Bearer {_admin_token(token)}"},
            timeout=30,
        )
    except httpx.HTTPError as err:
        typer.echo(f"ucs: cannot reach {url}: {err}", err=True)
        raise typer.Exit(code=2) from err
    if r.status_code >= 400:
        try:
            detail = r.json().get("detail", r.text)
        except ValueError:
            detail = r.text
        typer.echo(f"ucs: {r.status_code}: {detail}", err=True)
        raise typer.Exit(code=1)
    return r.json() if r.content and "json" in r.headers.get("content-type", "") else r.text


def _table(rows: list[dict[str, Any]], columns: list[str]) -> None:
    from rich.console import Console
    from rich.table import Table

    table = Table(*columns)
    for row in rows:
        table.add_row(*("" if row.get(c) is None else str(row.get(c)) for c in columns))
    Console().print(table)


agent_app = typer.Typer(help="Agents.", no_args_is_help=True)
queue_app = typer.Typer(help="Queues and memberships.", no_args_is_help=True)
phone_app = typer.Typer(help="Phones (lines).", no_args_is_help=True)
sim_app = typer.Typer(help="The simulated switch.", no_args_is_help=True)
app.add_typer(agent_app, name="agent")
app.add_typer(queue_app, name="queue")
app.add_typer(phone_app, name="phone")
app.add_typer(sim_app, name="sim")


@agent_app.command("list")
def agent_list(url: str = _url, token: str = _token) -> None:
    """List the agents."""
    rows = _api(url, token, "GET", "/api/agents")
    for row in rows:
        row["queues"] = ",".join(str(m["queue"]) for m in row["memberships"])
    _table(rows, ["id", "username", "firstname", "lastname", "superuser", "queues"])


@agent_app.command("add")
def agent_add(
    username: str,
    password: str = typer.Option(..., prompt=True, hide_input=True, confirmation_prompt=True),
    firstname: str = "",
    lastname: str = "",
    queue: list[int] = typer.Option([], "--queue", help="Member of this queue (repeatable)."),
    url: str = _url,
    token: str = _token,
) -> None:
    """Add an agent."""
    body = {
        "username": username,
        "password": password,
        "firstname": firstname,
        "lastname": lastname,
        "memberships": [{"queue": q} for q in queue],
    }
    row = _api(url, token, "POST", "/api/agents", body)
    typer.echo(f"agent {row['username']} added with id {row['id']}")


@agent_app.command("passwd")
def agent_passwd(
    agent_id: int,
    password: str = typer.Option(..., prompt=True, hide_input=True, confirmation_prompt=True),
    url: str = _url,
    token: str = _token,
) -> None:
    """Set an agent's password."""
    _api(url, token, "PATCH", f"/api/agents/{agent_id}", {"password": password})
    typer.echo(f"password of agent {agent_id} changed")


@agent_app.command("remove")
def agent_remove(agent_id: int, url: str = _url, token: str = _token) -> None:
    """Remove an agent."""
    _api(url, token, "DELETE", f"/api/agents/{agent_id}")
    typer.echo(f"agent {agent_id} removed")


@queue_app.command("list")
def queue_list(url: str = _url, token: str = _token) -> None:
    """List the queues."""
    rows = _api(url, token, "GET", "/api/queues")
    columns = (
        "id name type strategy ring_timeout wrapup weight number rona_reason campaign "
        "callback_retries"
    ).split()
    _table(rows, columns)


@queue_app.command("add")
def queue_add(
    name: str,
    outgoing: bool = typer.Option(False, "--outgoing", help="A campaign, for dial()."),
    strategy: str = "longest-idle",
    ring_timeout: float = 15.0,
    wrapup: float = 0.0,
    weight: int = 0,
    number: str | None = None,
    rona_reason: str | None = typer.Option(
        None, help="AUX reason for an agent who lets a call ring out (default: none)."
    ),
    campaign: int | None = typer.Option(
        None, help="The outgoing queue the queue's callback requests are dialled under."
    ),
    callback_retries: int | None = typer.Option(
        None, help="Times a callback whose number does not answer goes back (default 1)."
    ),
    url: str = _url,
    token: str = _token,
) -> None:
    """Add a queue."""
    body = {
        "name": name,
        "type": 0 if outgoing else 1,
        "strategy": strategy,
        "ring_timeout": ring_timeout,
        "wrapup": wrapup,
        "weight": weight,
        "number": number,
        "rona_reason": rona_reason,
        "campaign": campaign,
        "callback_retries": callback_retries,
    }
    row = _api(url, token, "POST", "/api/queues", {k: v for k, v in body.items() if v is not None})
    typer.echo(f"queue {row['name']} added with id {row['id']}")


@queue_app.command("member")
def queue_member(
    queue_id: int,
    agent_id: int,
    priority: int = 1,
    supervisor: bool = False,
    team: int | None = None,
    remove: bool = typer.Option(False, "--remove", help="Take the agent out of the queue."),
    url: str = _url,
    token: str = _token,
) -> None:
    """Make an agent a member of a queue (or change or remove the membership)."""
    path = f"/api/queues/{queue_id}/members/{agent_id}"
    if remove:
        _api(url, token, "DELETE", path)
        typer.echo(f"agent {agent_id} left queue {queue_id}")
        return
    body = {"queue": queue_id, "priority": priority, "supervisor": supervisor, "team_id": team}
    _api(url, token, "PUT", path, body)
    typer.echo(f"agent {agent_id} is a member of queue {queue_id}")


@phone_app.command("list")
def phone_list(url: str = _url, token: str = _token) -> None:
    """List the phones."""
    _table(_api(url, token, "GET", "/api/lines"), ["id", "identifier", "extension", "name"])


@phone_app.command("add")
def phone_add(
    identifier: str,
    extension: str,
    name: str = "",
    secret: str = typer.Option("", help="SIP password of the phone."),
    url: str = _url,
    token: str = _token,
) -> None:
    """Add a phone."""
    body = {"identifier": identifier, "extension": extension, "name": name, "secret": secret}
    row = _api(url, token, "POST", "/api/lines", body)
    typer.echo(f"phone {row['identifier']} added as line {row['id']}")


@sim_app.command("call")
def sim_call(
    queue: int,
    number: str = typer.Option("+420601123456", "--from", help="The caller's number."),
    name: str | None = None,
    url: str = _url,
    token: str = _token,
) -> None:
    """An outside caller rings into a queue (simulated switch)."""
    body = {"queue": queue, "from": number, **({"name": name} if name else {})}
    row = _api(url, token, "POST", "/api/sim/calls", body)
    typer.echo(row["uniqueid"])


@sim_app.command("hangup")
def sim_hangup(uniqueid: str, url: str = _url, token: str = _token) -> None:
    """The outside caller of a live call hangs up."""
    _api(url, token, "POST", f"/api/sim/calls/{uniqueid}/hangup")
    typer.echo(f"{uniqueid} hung up")


@app.command()
def cdr(
    csv_out: bool = typer.Option(False, "--csv", help="CSV instead of a table."),
    limit: int = typer.Option(100, min=1, help="How many records."),
    offset: int = typer.Option(0, min=0, help="Records to skip first."),
    url: str = _url,
    token: str = _token,
) -> None:
    """Show the call records, oldest first (fetched a page of at most 10,000 at a time)."""
    import csv
    import io

    from ucs.web.api.reports import MAX_PAGE

    rows: list[dict[str, Any]] = []
    done = 0
    while done < limit:
        size = min(MAX_PAGE, limit - done)
        query = f"/api/cdr?limit={size}&offset={offset + done}"
        if csv_out:
            text = _api(url, token, "GET", query + "&format=csv")
            got = max(0, len(list(csv.reader(io.StringIO(text)))) - 1)
            # Each page starts with the header line: it is written once.
            typer.echo(text if done == 0 else text.partition("\r\n")[2], nl=False)
        else:
            page = _api(url, token, "GET", query)
            rows.extend(page)
            got = len(page)
        done += got
        if got < size:
            break
    if csv_out:
        return
    for row in rows:
        row["codes"] = ",".join(c["accountCode"] for c in row["account_codes"])
    _table(
        rows,
        "uniqueid direction caller_number called_number connected_username cause codes".split(),
    )


def main() -> None:
    app()


if __name__ == "__main__":
    main()
