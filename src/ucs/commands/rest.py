"""How a command reaches the server's REST API and shows what it answers.

``--url`` (``UCS_URL``) and ``--token`` (``UCS_ADMIN_TOKEN``; else the ``ucs-admin-token`` file
that ``ucs serve`` wrote, else the demo's token) on every command; ``--json`` on every command
that lists, printing the API's JSON as it came. Tables never cut a value short: ids keep their
whole width on one line (they are copied into the next command), and a column of text too
narrow for the terminal folds onto the next line.
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

import typer

__all__ = ["JSON", "TOKEN", "URL", "api", "refusal", "show"]

URL = typer.Option("http://127.0.0.1:8080", "--url", envvar="UCS_URL", help="The server.")
TOKEN = typer.Option(
    "",
    "--token",
    envvar="UCS_ADMIN_TOKEN",
    help="The admin token (default: the file ucs-admin-token that `ucs serve` wrote, else the "
    "demo's demo-admin-token).",
    show_default=False,
)
JSON = typer.Option(False, "--json", help="Print the API's JSON instead of a table.")


def _admin_token(given: str) -> str:
    if given:
        return given
    path = Path(os.environ.get("UCS_ADMIN_TOKEN_FILE", "ucs-admin-token"))
    try:
        return path.read_text().strip() or "demo-admin-token"
    except OSError:
        return "demo-admin-token"


def refusal(detail: Any) -> str:
    """A refusal's ``detail`` in words: FastAPI's list of field errors as ``field: message``
    lines, anything else as it is."""
    if isinstance(detail, list):
        lines = []
        for error in detail:
            if not isinstance(error, dict):
                lines.append(str(error))
                continue
            where = [str(p) for p in error.get("loc", ()) if p not in ("body", "query", "path")]
            lines.append(f"{'.'.join(where) or 'request'}: {error.get('msg', '')}")
        return "\n".join(lines)
    return str(detail)


def api(url: str, token: str, method: str, path: str, body: Any = None) -> Any:
    """The API's answer (JSON decoded, or text); a refusal or no server ends the command with
    its message on standard error (exit code 1, or 2 when the server cannot be reached)."""
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
        typer.echo(f"ucs: {r.status_code}: {refusal(detail)}", err=True)
        raise typer.Exit(code=1)
    if not r.content:
        return None
    return r.json() if "json" in r.headers.get("content-type", "") else r.text


def show(rows: Any, columns: list[str], as_json: bool) -> None:
    """``rows`` as JSON (``--json``) or as a table of ``columns``, no value cut short."""
    if as_json:
        typer.echo(json.dumps(rows, ensure_ascii=False, indent=2))
        return
    from rich.console import Console
    from rich.table import Table

    cells = [["" if row.get(c) is None else str(row.get(c)) for c in columns] for row in rows]
    table = Table()
    for i, column in enumerate(columns):
        if _is_id(column):
            width = max([len(column), *(len(r[i]) for r in cells)])
            table.add_column(column, no_wrap=True, min_width=width)
        else:
            table.add_column(column, overflow="fold")
    for r in cells:
        table.add_row(*r)
    Console().print(table)


def _is_id(column: str) -> bool:
    return column in ("id", "uniqueid", "agent") or column.endswith("_id")
