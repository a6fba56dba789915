"""Records the database cannot take wait in the journal, and none is lost or written twice.

The database's outage is made by SQLAlchemy's statement hook raising the driver's own
``OperationalError`` (what a stopped server, a lost connection or a full disk raise), on SQLite
and PostgreSQL; the server's tests (``tests/server/test_storage_outage.py``) cut a real
connection and fill a real disk.
"""

from __future__ import annotations

import sqlite3
from pathlib import Path
from typing import Any

import psycopg
import pytest
from sqlalchemy import event, func, select

from ucs.core.call import AccountCode
from ucs.core.effects import AgentRecord, CallRecord, Keep, SessionRecord, StatusRecord
from ucs.core.errors import StorageUnavailable
from ucs.core.ids import AgentId, LineId, UniqueId
from ucs.core.model import Phase, Status
from ucs.storage import schema
from ucs.storage.journal import Journal, Record, decode, encode
from ucs.storage.store import Health, RowDeleted, RowUpserted, Store, TokenIssued, TokensRevoked
from ucs.storage.writer import Outage

RECORDS: list[Record] = [
    CallRecord({"uniqueid": "9.1", "created": 9.0, "cause": 3, "name": "Žluťoučký"}, (), 1),
    CallRecord(
        {"uniqueid": "9.2", "created": 9.5, "cause": 8},
        (AccountCode("A1"), AccountCode("B", "b", "Label B")),
        None,
        agents=((1, "agent1"), (2, "agent2")),  # a transferred call
    ),
    CallRecord({"uniqueid": "9.3", "created": 9.7, "cause": -1}, (), 2, live=True),
    AgentRecord(AgentId(1), {"status": "AUX", "reason": "Lunch", "stats": {"x": [1, 2.5]}}),
    StatusRecord(AgentId(1), Status.AUX, "Lunch", 10.25),
    StatusRecord(AgentId(2), Status.READY, None, 11.0),
    CallRecord(  # what the reports read (migration 0011)
        {"uniqueid": "9.4", "created": 9.8, "connected": 12.0, "cause": 4},
        (),
        1,
        agents=((2, "agent2"),),
        enqueued=9.9,
        handled_by=2,
        missed=((1, 11.5), (3, 11.5)),
    ),
    StatusRecord(
        AgentId(2),
        Status.READY,
        None,
        30.0,
        wrapped=("9.4", 10.0),
        previous=(Status.ACW, None, 20.0),
    ),
    SessionRecord(AgentId(1), Phase.READY, "phone1", LineId(1), "phone1", "classic", "dark"),
    SessionRecord(AgentId(2), None, None, None),
    TokenIssued("d" * 64, AgentId(1), ("e" * 64,)),
    TokensRevoked(AgentId(2)),
    RowUpserted("settings", {"key": "k", "value": "v"}, ("key",)),
    RowDeleted("settings", "key", "k"),
]


def _fields(r: Record) -> Any:
    return encode(r)


def test_every_kind_of_record_comes_back_from_the_journal_as_it_went_in(tmp_path: Path) -> None:
    for record in RECORDS:
        assert _fields(decode(encode(record))) == _fields(record)
    journal = Journal(tmp_path / "j")
    journal.append(RECORDS)
    again = Journal(tmp_path / "j")
    assert again.id == journal.id and again.count == len(RECORDS)
    back = [r for _, r in again.entries()]
    assert [type(r) for r in back] == [type(r) for r in RECORDS]
    assert [_fields(r) for r in back] == [_fields(r) for r in RECORDS]
    journal.close()
    again.close()


def test_a_write_cut_short_by_a_crash_is_cut_off_and_the_rest_kept(tmp_path: Path) -> None:
    path = tmp_path / "j"
    journal = Journal(path)
    journal.append(RECORDS[:3])
    journal.close()
    with open(path, "ab") as f:
        f.write(b'0badc0de {"n":4,"k":"revoked","ag')  # the last append, cut by kill -9
    again = Journal(path)
    assert again.count == 3
    again.append([RECORDS[9]])
    assert [n for n, _ in again.entries()] == [1, 2, 3, 4]
    again.close()
    assert Journal(path).count == 4


class Outages:
    """Makes the store's database fail: ``down`` for every statement, or after ``allow`` more
    statements (a database that dies in the middle of a replay)."""

    def __init__(self, store: Store) -> None:
        self.down = False
        self.allow: int | None = None
        self.sqlite = store.engine.dialect.name == "sqlite"
        event.listen(store.engine, "before_cursor_execute", self._statement)

    def _statement(self, *_: Any) -> None:
        if self.allow is not None:
            if self.allow == 0:
                self.down = True
            else:
                self.allow -= 1
        if self.down:
            if self.sqlite:
                raise sqlite3.OperationalError("disk I/O error")
            raise psycopg.OperationalError("server closed the connection unexpectedly")


def _store(db_url: str, journal: Path, retry: float = 0.0) -> tuple[Store, Outages]:
    store = Store(db_url, journal=str(journal), retry=retry)
    store.migrate()
    return store, Outages(store)


def _status_log(store: Store) -> list[tuple[int, str, str | None, float]]:
    with store.engine.connect() as conn:
        rows = conn.execute(select(schema.status_log).order_by(schema.status_log.c.id))
        return [(r.agent_id, r.status, r.reason, r.at) for r in rows]


def test_records_kept_while_the_database_is_down_are_written_once_it_answers(
    db_url: str, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    journal = tmp_path / "records.ucs-journal"
    store, outage = _store(db_url, journal)
    store.deliver(StatusRecord(AgentId(1), Status.READY, None, 1.0))
    store.flush()
    outage.down = True
    for i in range(3):
        store.deliver(CallRecord({"uniqueid": f"5.{i}", "created": 5.0, "cause": 3}, (), 1))
        store.deliver(StatusRecord(AgentId(1), Status.AUX, "Lunch", 2.0 + i))
        store.flush()
    assert store.health is Health.DEGRADED and journal.exists()
    assert store.status()["backlog"] == 6 and store.status()["status"] == "degraded"
    assert store.refusal() is None  # the journal keeps them: nothing is refused
    outage.down = False
    store.deliver(StatusRecord(AgentId(1), Status.READY, None, 9.0))
    store.flush()
    assert store.health is Health.OK and not journal.exists()
    assert store.status() == {"status": "ok", "backlog": 0}
    assert [c["uniqueid"] for c in store.cdr()] == ["5.0", "5.1", "5.2"]
    assert [r[3] for r in _status_log(store)] == [1.0, 2.0, 3.0, 4.0, 9.0]  # in order, once
    changes = [r.getMessage() for r in caplog.records if r.getMessage().startswith("storage")]
    assert len(changes) == 2, changes  # one line per change of health, not per record
    store.stop()


def test_a_journal_left_at_a_stop_is_written_at_the_next_start_even_if_cut_short_there(
    db_url: str, tmp_path: Path
) -> None:
    journal = tmp_path / "records.ucs-journal"
    store, outage = _store(db_url, journal)
    outage.down = True
    for i in range(1200):
        store.deliver(StatusRecord(AgentId(1 + i % 3), Status.AUX, "Break", float(i)))
    store.deliver(
        CallRecord({"uniqueid": "7.1", "created": 7.0, "cause": 4}, (AccountCode("A"),), 1)
    )
    store.flush()
    store.stop()  # the database is still down: the journal stays for the next start
    assert journal.exists()

    again, outage = _store(db_url, journal)
    outage.allow = 1 + 501 + 10  # dies in the replay's second chunk (a statement per status)
    with pytest.raises(Outage):
        again.recover()
    partly = len(_status_log_of(db_url, tmp_path))
    assert 0 < partly < 1200
    again.stop()

    third, _ = _store(db_url, journal)
    third.recover()
    assert not journal.exists()
    assert [r[3] for r in _status_log(third)] == [float(i) for i in range(1200)]  # none twice
    assert third.cdr()[0]["account_codes"] == [{"accountCode": "A", "subAccountCode": None}]
    third.stop()


def _status_log_of(db_url: str, tmp_path: Path) -> list[Any]:
    probe = Store(db_url, journal=str(tmp_path / "probe.ucs-journal"))
    try:
        with probe.engine.connect() as conn:
            return list(conn.execute(select(schema.status_log.c.id)))
    finally:
        probe.stop()


def test_when_the_journal_fails_too_records_wait_in_memory_and_new_work_is_refused(
    tmp_path: Path,
) -> None:
    blocked = tmp_path / "a-file"
    blocked.write_text("not a folder")
    store, outage = _store(f"sqlite:///{tmp_path}/ucs.db", blocked / "records.ucs-journal")
    outage.down = True
    store.deliver(StatusRecord(AgentId(1), Status.AUX, "Lunch", 1.0))
    store.flush()
    assert store.health is Health.FAILING
    refusal = store.refusal()
    assert isinstance(refusal, StorageUnavailable) and refusal.code == "STORAGE_UNAVAILABLE"
    assert store.status()["status"] == "failing" and store.status()["backlog"] == 1
    outage.down = False
    store.deliver(StatusRecord(AgentId(1), Status.READY, None, 2.0))
    store.flush()
    assert store.health is Health.OK and store.refusal() is None
    assert [r[3] for r in _status_log(store)] == [1.0, 2.0]
    with store.engine.connect() as conn:
        assert conn.execute(select(func.count()).select_from(schema.status_log)).scalar() == 2
    store.stop()


def test_a_commit_that_fails_after_the_journals_mark_loses_nothing(
    db_url: str, tmp_path: Path
) -> None:
    """SQLite on a full disk fails at COMMIT, after every statement (the mark included) went
    through: the journal must not count those records as written."""
    from sqlalchemy.exc import OperationalError

    journal = tmp_path / "records.ucs-journal"
    store, outage = _store(db_url, journal)
    outage.down = True
    for i in range(3):
        store.deliver(StatusRecord(AgentId(1), Status.AUX, "Break", float(i)))
    store.flush()  # into the journal
    outage.down = False
    full = {"on": True}

    def commit(_conn: Any) -> None:
        if full["on"]:
            raise OperationalError("COMMIT", {}, Exception("database or disk is full"))

    event.listen(store.engine, "commit", commit)
    store.flush()  # the replay's statements pass, its commit fails
    assert store.health is Health.DEGRADED and journal.exists()
    full["on"] = False
    store.flush()
    assert store.health is Health.OK and not journal.exists()
    assert [r[3] for r in _status_log(store)] == [0.0, 1.0, 2.0]
    store.stop()


def test_a_call_journalled_before_dispositions_comes_back_without_labels() -> None:
    old = {"k": "call", "call": {"uniqueid": "3.1"}, "codes": [["A", None], ["B", "b"]]}
    record = decode({**old, "queue": 1, "live": False})
    assert isinstance(record, CallRecord)
    assert record.account_codes == (AccountCode("A"), AccountCode("B", "b"))


def test_a_keep_ask_is_answered_once_its_records_are_committed_or_journalled(
    db_url: str, tmp_path: Path
) -> None:
    """``Keep`` (core/keeping.py): the core hears of it only once every record handed over
    before it is in the database or in the journal, never while records wait in memory."""
    blocked = tmp_path / "a-file"
    blocked.write_text("not a folder")
    kept: list[list[str]] = []

    def record(uid: str) -> CallRecord:
        return CallRecord({"uniqueid": uid, "created": 1.0, "cause": -1}, (), 1, live=True)

    store, outage = _store(db_url, tmp_path / "records.ucs-journal")
    store.writer.on_kept = lambda asked: kept.append([a.uniqueid for a in asked])
    store.deliver_all([record("1.1"), Keep(UniqueId("1.1"))])
    store.flush()
    assert kept == [["1.1"]] and [r["uniqueid"] for r in store.rows(schema.cdr)] == ["1.1"]
    outage.down = True  # the journal takes the next one: kept too (fsynced)
    store.deliver_all([record("1.2"), Keep(UniqueId("1.2"))])
    store.flush()
    assert store.health is Health.DEGRADED and kept[-1] == ["1.2"]
    store.stop()

    failing, outage = _store(f"sqlite:///{tmp_path}/b.db", blocked / "records.ucs-journal")
    failing.writer.on_kept = lambda asked: kept.append([a.uniqueid for a in asked])
    outage.down = True  # neither the database nor the journal: the records wait in memory
    failing.deliver_all([record("2.1"), Keep(UniqueId("2.1"))])
    failing.flush()
    assert failing.health is Health.FAILING and kept[-1] == ["1.2"]
    outage.down = False
    failing.deliver_all([record("2.2"), Keep(UniqueId("2.2"))])
    failing.flush()
    assert kept[-1] == ["2.1", "2.2"]
    failing.stop()
