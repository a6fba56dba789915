"""The journal: records the database could not take, kept on the local disk until it can.

While the database is unavailable the writer appends each batch here (``append``: one write,
then ``fsync``), and new records follow them here, so the order stays the order in which the
core made them. Once the database answers again the writer replays the journal in order
(``entries``), marking in the database, in the same transaction as each chunk, how far it got
(``replayed_key``), so that a crash in the middle of a replay neither loses nor doubles a record;
then the file is removed (``clear``). A journal left by a killed server is replayed at the next
start, before anything is read.

The file is text, one record a line: ``<crc32 in hex> <json>``, after a first line naming the
journal (``{"journal": id}``). A line cut short by a crash (no newline, or a checksum that does
not match at the end of the file) is the tail of an ``append`` that never finished: it is cut
off when the journal is opened. Only the writer's thread uses a journal.
"""

from __future__ import annotations

import json
import logging
import os
import secrets
import zlib
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import Any

from ucs.core.call import AccountCode
from ucs.core.effects import AgentRecord, CallRecord, SessionRecord, StatusRecord
from ucs.core.ids import AgentId, LineId
from ucs.core.model import Phase, Status

__all__ = [
    "Journal",
    "NoJournal",
    "OutboxEvents",
    "Record",
    "RowDeleted",
    "RowUpserted",
    "TokenIssued",
    "TokensRevoked",
    "decode",
    "encode",
    "replayed_key",
]

log = logging.getLogger("ucs.store")

replayed_key = "journal_replayed"
"""The ``settings`` row that says how far the journal has been replayed: ``"<id> <n>"``."""


class TokenIssued:
    """A session token was issued: ``digest`` is its SHA-256, all that is stored; ``dropped``
    are the digests of the agent's oldest tokens, no longer valid."""

    __slots__ = ("agent", "digest", "dropped")

    def __init__(self, digest: str, agent: AgentId, dropped: tuple[str, ...] = ()) -> None:
        self.digest, self.agent, self.dropped = digest, agent, dropped


class TokensRevoked:
    __slots__ = ("agent",)

    def __init__(self, agent: AgentId) -> None:
        self.agent = agent


class RowUpserted:
    """Insert ``row`` into ``table`` (its name), or update the row with the same ``keys``."""

    __slots__ = ("keys", "row", "table")

    def __init__(self, table: str, row: dict[str, Any], keys: tuple[str, ...]) -> None:
        self.table, self.row, self.keys = table, row, keys


class OutboxEvents:
    """Events for the CRM's webhook (rows of ``crm_outbox``, ``outbox.py``), written in the
    transaction of the records they tell of."""

    __slots__ = ("rows",)

    def __init__(self, rows: list[dict[str, Any]]) -> None:
        self.rows = rows


class RowDeleted:
    """Delete the rows of ``table`` whose ``column`` is ``value``."""

    __slots__ = ("column", "table", "value")

    def __init__(self, table: str, column: str, value: Any) -> None:
        self.table, self.column, self.value = table, column, value


Record = (
    CallRecord
    | AgentRecord
    | StatusRecord
    | SessionRecord
    | TokenIssued
    | TokensRevoked
    | RowUpserted
    | RowDeleted
    | OutboxEvents
)


def encode(item: Record) -> dict[str, Any]:
    """A record as JSON-able data (``decode`` gives it back)."""
    match item:
        case CallRecord():
            return {
                "k": "call",
                "call": dict(item.call),
                "codes": [[a.code, a.sub, a.label] for a in item.account_codes],
                "queue": item.queue_id,
                "live": item.live,
                "agents": [list(a) for a in item.agents],
                "enqueued": item.enqueued,
                "handled_by": item.handled_by,
                "missed": [list(m) for m in item.missed],
            }
        case AgentRecord():
            return {"k": "agent", "agent": item.agent, "state": dict(item.state)}
        case StatusRecord():
            return {
                "k": "status",
                "agent": item.agent,
                "status": item.status.value,
                "reason": item.reason,
                "at": item.at,
                "by": item.by,
                "wrapped": list(item.wrapped) if item.wrapped is not None else None,
                "previous": (
                    [item.previous[0].value, item.previous[1], item.previous[2]]
                    if item.previous is not None
                    else None
                ),
            }
        case SessionRecord():
            return {
                "k": "session",
                "agent": item.agent,
                "phase": item.phase.value if item.phase is not None else None,
                "identifier": item.identifier,
                "line": item.line,
                "last": item.last_identifier,
                "sound": item.ringing_sound,
                "theme": item.theme,
            }
        case TokenIssued():
            return {
                "k": "token",
                "digest": item.digest,
                "agent": item.agent,
                "dropped": list(item.dropped),
            }
        case TokensRevoked():
            return {"k": "revoked", "agent": item.agent}
        case RowUpserted():
            return {"k": "upsert", "table": item.table, "row": item.row, "keys": list(item.keys)}
        case RowDeleted():
            return {"k": "delete", "table": item.table, "column": item.column, "value": item.value}
        case OutboxEvents():
            return {"k": "outbox", "rows": item.rows}
    raise TypeError(f"not a record: {item!r}")


def decode(data: dict[str, Any]) -> Record:
    kind = data["k"]
    if kind == "call":
        return CallRecord(
            call=data["call"],
            # [code, sub, label]; [code, sub] before dispositions (0012)
            account_codes=tuple(
                AccountCode(c[0], c[1], c[2] if len(c) > 2 else None) for c in data["codes"]
            ),
            queue_id=data["queue"],
            live=data["live"],
            agents=tuple((a[0], a[1]) for a in data.get("agents", ())),  # absent before 0005
            # absent before migration 0011:
            enqueued=data.get("enqueued"),
            handled_by=data.get("handled_by"),
            missed=tuple((m[0], m[1]) for m in data.get("missed", ())),
        )
    if kind == "agent":
        return AgentRecord(AgentId(data["agent"]), data["state"])
    if kind == "status":
        by = data.get("by")  # absent before migration 0009
        wrapped = data.get("wrapped")  # absent before migration 0011
        previous = data.get("previous")
        return StatusRecord(
            AgentId(data["agent"]),
            Status(data["status"]),
            data["reason"],
            data["at"],
            AgentId(by) if by is not None else None,
            (str(wrapped[0]), float(wrapped[1])) if wrapped else None,
            (Status(previous[0]), previous[1], float(previous[2])) if previous else None,
        )
    if kind == "session":
        line = data["line"]
        return SessionRecord(
            AgentId(data["agent"]),
            Phase(data["phase"]) if data["phase"] is not None else None,
            data["identifier"],
            LineId(line) if line is not None else None,
            data["last"],
            data["sound"],
            data["theme"],
        )
    if kind == "token":
        return TokenIssued(data["digest"], AgentId(data["agent"]), tuple(data["dropped"]))
    if kind == "revoked":
        return TokensRevoked(AgentId(data["agent"]))
    if kind == "upsert":
        return RowUpserted(data["table"], data["row"], tuple(data["keys"]))
    if kind == "delete":
        return RowDeleted(data["table"], data["column"], data["value"])
    if kind == "outbox":
        return OutboxEvents(list(data["rows"]))
    raise ValueError(f"unknown record kind {kind!r}")


def _line(payload: dict[str, Any]) -> bytes:
    text = json.dumps(payload, separators=(",", ":"), ensure_ascii=False).encode()
    return b"%08x %s\n" % (zlib.crc32(text), text)


def _parse(line: bytes) -> dict[str, Any] | None:
    """The payload of a whole line, or None when it is cut short or damaged."""
    if not line.endswith(b"\n") or len(line) < 10 or line[8:9] != b" ":
        return None
    text = line[9:-1]
    try:
        if int(line[:8], 16) != zlib.crc32(text):
            return None
        payload = json.loads(text)
    except ValueError:
        return None
    return payload if isinstance(payload, dict) else None


class Journal:
    """An append-only file of records, each with its number (1, 2, …) within the journal."""

    def __init__(self, path: str | os.PathLike[str]) -> None:
        self.path = Path(path)
        self.id = ""
        """Names this journal (a new one at each creation), so a mark of how far an old one
        was replayed never applies to a new one."""
        self.count = 0
        """Records appended since the journal was made (the number of the last one)."""
        self.replayed = 0
        """Records known to be in the database already (the mark, or this run's replay)."""
        self.size = 0
        self._fd: int | None = None
        if self.path.exists():
            self._open_existing()

    @property
    def pending(self) -> int:
        """Records in the journal that are not in the database yet."""
        return self.count - self.replayed

    def append(self, items: Iterable[Record]) -> None:
        """Write ``items`` at the end and ``fsync``; on failure (a full disk), the file is as
        it was and ``OSError`` is raised."""
        if self._fd is None:
            self._create()
        assert self._fd is not None
        lines = []
        n = self.count
        for item in items:
            n += 1
            lines.append(_line({"n": n, **encode(item)}))
        data = b"".join(lines)
        try:
            written = os.write(self._fd, data)
            if written != len(data):
                raise OSError(f"short write to {self.path}: {written} of {len(data)} bytes")
            os.fsync(self._fd)
        except OSError:
            try:
                os.ftruncate(self._fd, self.size)
                os.lseek(self._fd, self.size, os.SEEK_SET)
            except OSError:
                log.exception("could not cut the journal %s back after a failed write", self.path)
            raise
        self.size += len(data)
        self.count = n

    def entries(self) -> Iterator[tuple[int, Record]]:
        """The records not yet replayed, in order, with their numbers."""
        with open(self.path, "rb") as f:
            f.readline()  # the header
            for raw in f:
                payload = _parse(raw)
                if payload is None:  # damaged in the middle: cannot be written, say so
                    log.error("journal %s: a damaged line is skipped", self.path)
                    continue
                n = int(payload.pop("n"))
                if n > self.replayed:
                    yield n, decode(payload)

    def mark(self, n: int) -> None:
        """Records up to ``n`` are in the database."""
        self.replayed = max(self.replayed, n)

    def clear(self) -> None:
        """Everything is in the database: remove the file (a new journal starts if needed)."""
        if self._fd is not None:
            os.close(self._fd)
            self._fd = None
        self.path.unlink(missing_ok=True)
        self.id, self.count, self.replayed, self.size = "", 0, 0, 0

    def close(self) -> None:
        if self._fd is not None:
            os.close(self._fd)
            self._fd = None

    # --- opening -----------------------------------------------------------------------------

    def _create(self) -> None:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self.id = secrets.token_hex(8)
        header = json.dumps({"journal": self.id}).encode() + b"\n"
        fd = os.open(self.path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC | os.O_APPEND, 0o600)
        try:
            if os.write(fd, header) != len(header):
                raise OSError(f"short write to {self.path}")
            os.fsync(fd)
            _fsync_dir(self.path.parent)
        except OSError:
            os.close(fd)
            self.path.unlink(missing_ok=True)
            raise
        self._fd, self.size, self.count, self.replayed = fd, len(header), 0, 0

    def _open_existing(self) -> None:
        """Read what a previous run left: its id and last number, and cut off a torn tail."""
        good = 0
        with open(self.path, "rb") as f:
            header = f.readline()
            try:
                self.id = str(json.loads(header)["journal"])
            except (ValueError, KeyError, TypeError):
                log.error("journal %s has no header: it is set aside", self.path)
                self.path.rename(self.path.with_suffix(self.path.suffix + ".damaged"))
                return
            good = f.tell()
            offset = good
            for raw in f:
                offset += len(raw)
                payload = _parse(raw)
                if payload is not None:
                    self.count = max(self.count, int(payload.get("n", 0)))
                    good = offset
        self._fd = os.open(self.path, os.O_WRONLY | os.O_APPEND)
        if good < os.fstat(self._fd).st_size:
            log.warning("journal %s: an unfinished last write is cut off", self.path)
            os.ftruncate(self._fd, good)
        self.size = good


class NoJournal(Journal):
    """A node of a cluster's: it keeps nothing aside. Records a database outage holds back
    wait in memory (new work is refused meanwhile), and a node that cannot reach the database
    loses its lease and stops serving rather than keep records another node's take-over would
    contradict (``lease.py``)."""

    def __init__(self) -> None:
        self.path = Path("(none: a node of a cluster keeps no journal)")
        self.id, self.count, self.replayed, self.size = "", 0, 0, 0
        self._fd = None

    def append(self, items: Iterable[Record]) -> None:
        raise OSError("a node of a cluster keeps no journal")

    def clear(self) -> None:
        pass


def _fsync_dir(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)
