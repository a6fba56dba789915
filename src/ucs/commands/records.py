"""``ucs cdr``, ``ucs stats``, ``ucs sim``: the call records, today's statistics and the
simulated switch, through the REST API."""

from __future__ import annotations

import csv
import io
import json
from typing import Any
from urllib.parse import urlencode

import typer

from ucs.commands.rest import JSON, TOKEN, URL, api, show

__all__ = ["audit", "cdr", "sim_app", "stats_app"]

sim_app = typer.Typer(help="The simulated switch.", no_args_is_help=True)
stats_app = typer.Typer(help="Today's statistics.", no_args_is_help=True)

_WHEN = "Unix seconds, or ISO 8601 (2026-12-02, 2026-12-02T08:00, with an offset or not)."


def cdr(
    csv_out: bool = typer.Option(False, "--csv", help="CSV (for a spreadsheet) instead."),
    as_json: bool = JSON,
    since: str | None = typer.Option(None, help=f"Calls created at or after: {_WHEN}"),
    until: str | None = typer.Option(None, help=f"Calls created before: {_WHEN}"),
    queue: int | None = typer.Option(None, help="Calls of this queue (id)."),
    agent: int | None = typer.Option(None, help="Calls with this agent on them (id)."),
    limit: int = typer.Option(100, min=1, help="How many records."),
    offset: int = typer.Option(0, min=0, help="Records to skip first."),
    url: str = URL,
    token: str = TOKEN,
) -> None:
    """Show the call records, oldest first (fetched a page of at most 10,000 at a time)."""
    from ucs.web.api.reports import MAX_PAGE

    where = {"since": since, "until": until, "queue": queue, "agent": agent}
    filters = {k: v for k, v in where.items() if v is not None}
    rows: list[dict[str, Any]] = []
    done = 0
    while done < limit:
        size = min(MAX_PAGE, limit - done)
        query = urlencode({**filters, "limit": size, "offset": offset + done})
        if csv_out:
            text = api(url, token, "GET", f"/api/cdr?{query}&format=csv")
            got = max(0, len(list(csv.reader(io.StringIO(text)))) - 1)
            # Each page starts with the byte-order mark and the header line: written once.
            typer.echo(text if done == 0 else text.partition("\r\n")[2], nl=False)
        else:
            page = api(url, token, "GET", f"/api/cdr?{query}")
            rows.extend(page)
            got = len(page)
        done += got
        if got < size:
            break
    if csv_out:
        return
    if as_json:
        typer.echo(json.dumps(rows, ensure_ascii=False, indent=2))
        return
    for row in rows:
        row["codes"] = ",".join(c["accountCode"] for c in row["account_codes"])
    columns = "uniqueid direction caller_number called_number connected_username cause codes"
    show(rows, columns.split(), False)


def audit(
    actor: str | None = typer.Option(None, help="Only this actor's changes (admin or a username)."),
    limit: int = typer.Option(50, min=1, max=1000, help="How many entries, newest first."),
    as_json: bool = JSON,
    url: str = URL,
    token: str = TOKEN,
) -> None:
    """Who changed what through the administration API, newest first."""
    query = urlencode({k: v for k, v in (("actor", actor), ("limit", limit)) if v is not None})
    page = api(url, token, "GET", f"/api/audit?{query}")
    if as_json:
        typer.echo(json.dumps(page["entries"], ensure_ascii=False, indent=2))
        return
    from datetime import datetime

    rows = [
        {
            **e,
            "at": datetime.fromtimestamp(e["at"]).isoformat(timespec="seconds"),
            "change": f"{e['method']} {e['path']}",
            "body": json.dumps(e["body"], ensure_ascii=False) if e["body"] is not None else "",
        }
        for e in page["entries"]
    ]
    show(rows, ["at", "actor", "change", "status", "body"], False)


@stats_app.command("agents")
def stats_agents(url: str = URL, token: str = TOKEN, as_json: bool = JSON) -> None:
    """Every agent's status and today's figures (seconds)."""
    rows = api(url, token, "GET", "/api/stats/agents")
    columns = "id status in_calls_answered in_calls_unanswered talktime acwtime auxtime readytime"
    show(rows, columns.split(), as_json)


@stats_app.command("queues")
def stats_queues(url: str = URL, token: str = TOKEN, as_json: bool = JSON) -> None:
    """Per queue: callers waiting now, agents, and today's totals."""
    rows = api(url, token, "GET", "/api/stats/queues")
    columns = "queue_id name waiting longest_wait logged_in free answered unanswered abandoned"
    show(rows, columns.split(), as_json)


@sim_app.command("call")
def sim_call(
    queue: int,
    number: str = typer.Option("+420601123456", "--from", help="The caller's number."),
    name: str | None = None,
    url: str = URL,
    token: str = TOKEN,
) -> None:
    """An outside caller rings into a queue (simulated switch); prints its uniqueid."""
    body = {"queue": queue, "from": number, **({"name": name} if name else {})}
    row = api(url, token, "POST", "/api/sim/calls", body)
    typer.echo(row["uniqueid"])


@sim_app.command("hangup")
def sim_hangup(uniqueid: str, url: str = URL, token: str = TOKEN) -> None:
    """The outside caller of a live call hangs up."""
    api(url, token, "POST", f"/api/sim/calls/{uniqueid}/hangup")
    typer.echo(f"{uniqueid} hung up")


@sim_app.command("press")
def sim_press(uniqueid: str, digits: str, url: str = URL, token: str = TOKEN) -> None:
    """The outside caller of a live call presses keys (1: leave a callback request while
    waiting in a queue whose callback_offer is on)."""
    api(url, token, "POST", f"/api/sim/calls/{uniqueid}/dtmf", {"digits": digits})
    typer.echo(f"{uniqueid} pressed {digits}")
