"""Call records as a spreadsheet reads them (``/api/cdr?format=csv``, ``ucs cdr --csv``).

What a spreadsheet opening the file needs, and what it must never do:

- a UTF-8 byte-order mark first, so that Excel reads ``Nováková`` as written;
- times in ISO 8601 with their offset, in the server's time zone (``2026-12-02T10:15:03+01:00``),
  and beside them the durations a report sums: ``wait_seconds`` (created to answered, or to
  the end when nobody answered), ``talk_seconds`` (answered to the end) and ``duration_seconds``;
- the cause's name beside its number (``cause_name``: ``caller_hangup``), ``true``/``false``;
- no cell that a spreadsheet would run as a formula: text beginning with ``=``, ``+``, ``-``,
  ``@``, a tab or a carriage return is prefixed with ``'`` (OWASP, CSV injection), which
  spreadsheets show as text. Numbers are written as numbers.

Query times (``since``, ``until``) are taken as Unix seconds or ISO 8601 (``parse_time``).
"""

from __future__ import annotations

import csv
import io
import json
import re
from collections.abc import Iterable
from datetime import date, datetime, time, tzinfo
from typing import Any

from ucs.core.model import CALL_FIELDS, Cause

__all__ = ["BOM", "CSV_FIELDS", "csv_cell", "csv_rows", "parse_time", "spreadsheet_row"]

BOM = "\ufeff"
"""The UTF-8 byte-order mark the CSV starts with."""

_TIMES = ("created", "connected", "disconnected", "now")
_FIRST = [
    "uniqueid",
    "created",
    "connected",
    "disconnected",
    "wait_seconds",
    "talk_seconds",
    "duration_seconds",
    "direction",
    "state",
    "cause",
    "cause_name",
    "caller_number",
    "caller_name",
    "caller_username",
    "called_number",
    "connected_number",
    "connected_name",
    "connected_username",
    "agents",
]
CSV_FIELDS = [*_FIRST, *sorted(CALL_FIELDS - set(_FIRST)), "account_codes", "account_codes_text"]
"""The CSV's columns: the ones a report reads first (with ``agents``: every agent who was on
the call, a transferred call's too, space-separated), then every other field of the Call, the
account codes as JSON, and as text (``SALE = Sale closed / web; OWN``: code, ``= label`` when
it came from the queue's list, ``/ sub-code`` when one was given)."""

_FORMULA = ("=", "+", "-", "@", "\t", "\r")
"""What a spreadsheet takes a cell for a formula by (OWASP, CSV injection)."""
_CAUSES = {int(c): c.name.lower() for c in Cause}


def csv_cell(value: Any) -> Any:
    """A CSV cell as written: objects and lists as JSON, booleans as ``true``/``false``, text
    that a spreadsheet would run as a formula prefixed with ``'``; numbers as they are."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, dict | list):
        value = json.dumps(value, ensure_ascii=False)
    if isinstance(value, str) and value.startswith(_FORMULA):
        return "'" + value
    return value


def _iso(moment: Any, tz: tzinfo) -> str | None:
    if not isinstance(moment, int | float) or isinstance(moment, bool):
        return None
    return datetime.fromtimestamp(moment, tz).isoformat(timespec="seconds")


def _seconds(start: Any, end: Any) -> int | None:
    if not isinstance(start, int | float) or not isinstance(end, int | float):
        return None
    return max(0, round(end - start))


def _code_text(code: dict[str, Any]) -> str:
    text = str(code.get("accountCode", ""))
    if code.get("label"):
        text += f" = {code['label']}"
    if code.get("subAccountCode"):
        text += f" / {code['subAccountCode']}"
    return text


def spreadsheet_row(record: dict[str, Any], tz: tzinfo) -> dict[str, Any]:
    """One call record as its CSV row (before cells are escaped)."""
    row = dict(record)
    created, connected, ended = (record.get(k) for k in ("created", "connected", "disconnected"))
    row["wait_seconds"] = _seconds(created, connected if connected is not None else ended)
    row["talk_seconds"] = _seconds(connected, ended)
    row["duration_seconds"] = _seconds(created, ended)
    row["cause_name"] = _CAUSES.get(record.get("cause"))  # type: ignore[arg-type]
    row["agents"] = " ".join(record.get("agents") or ())
    row["account_codes_text"] = "; ".join(_code_text(c) for c in record.get("account_codes") or ())
    for key in _TIMES:
        row[key] = _iso(record.get(key), tz)
    return row


def csv_rows(records: Iterable[dict[str, Any]], tz: tzinfo, *, header: bool) -> str:
    """``records`` as CSV text (with the header line and the byte-order mark when ``header``)."""
    out = io.StringIO()
    writer = csv.DictWriter(out, fieldnames=CSV_FIELDS, extrasaction="ignore")
    if header:
        out.write(BOM)
        writer.writeheader()
    for record in records:
        writer.writerow({k: csv_cell(v) for k, v in spreadsheet_row(record, tz).items()})
    return out.getvalue()


_NUMBER = re.compile(r"^[0-9]+(\.[0-9]+)?$")


def parse_time(text: str, tz: tzinfo) -> float:
    """A query's moment as Unix seconds: Unix seconds as they are, or ISO 8601 — a date
    (``2026-12-02``: its midnight) or a date and time, in the server's time zone ``tz`` when
    it names no offset. Raises ``ValueError`` saying what is accepted."""
    text = text.strip()
    if _NUMBER.match(text):
        return float(text)
    try:
        if len(text) == 10:
            moment = datetime.combine(date.fromisoformat(text), time(0))
        else:
            moment = datetime.fromisoformat(text)
    except ValueError:
        raise ValueError(
            f"{text[:64]!r} is neither Unix seconds nor an ISO 8601 date or time "
            "(2026-12-02, 2026-12-02T08:00, 2026-12-02T08:00:00+01:00)"
        ) from None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=tz)
    return moment.timestamp()
