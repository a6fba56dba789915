"""The options of ``ucs queue add`` and ``ucs queue set`` for a queue's dispositions (the
account codes its calls may be given), and how ``ucs queue list`` shows them."""

from __future__ import annotations

from typing import Any

import typer

__all__ = ["DISPOSITION", "FREE_TEXT", "NO_DISPOSITIONS", "parse", "shown"]

DISPOSITION = typer.Option(
    None,
    "--disposition",
    help='An account code agents may give the queue\'s calls, "CODE=Label" ("CODE" alone: '
    "labelled by its code); repeat it for each, in the order agents see them. `queue set` "
    "replaces the whole list.",
)
NO_DISPOSITIONS = typer.Option(
    False, "--no-dispositions", help="Remove the queue's list: its calls take any code."
)
FREE_TEXT = typer.Option(
    None,
    "--free-text-codes/--no-free-text-codes",
    help="Agents may also type codes not on the list (a queue without a list takes any).",
)


def parse(given: list[str] | None, clear: bool = False) -> list[dict[str, str]] | None:
    """The ``dispositions`` of a request body from the options (None: not given)."""
    if clear:
        if given:
            raise typer.BadParameter("--disposition and --no-dispositions exclude each other")
        return []
    if not given:
        return None
    found = []
    for item in given:
        code, _, label = item.partition("=")
        found.append({"code": code.strip(), "label": (label or code).strip()})
    return found


def shown(row: dict[str, Any]) -> dict[str, Any]:
    """A queue row for the table: its list as ``CODE=Label; …``."""
    listed = "; ".join(f"{d['code']}={d['label']}" for d in row.get("dispositions") or ())
    return {**row, "dispositions": listed}
