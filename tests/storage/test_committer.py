"""The committer (``committer.apply``): in pipeline mode on PostgreSQL, the same rows as one
statement at a time, a refused batch that writes nothing, an outage told as one; on every
database, a batch's call records written together and in order with the records after them."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from sqlalchemy import Engine, text

from tests.helpers import fresh_postgres
from ucs.core.effects import AgentRecord, CallRecord, SessionRecord, StatusRecord
from ucs.core.ids import AgentId
from ucs.core.model import Phase, Status
from ucs.storage import outbox
from ucs.storage.committer import LocalCommitter, Outage, Refused, make_engine
from ucs.storage.journal import OutboxEvents, Record, TokenIssued
from ucs.storage.lease import Fence, Fenced
from ucs.storage.store import Store, database_url

_TABLES = {
    "cdr": "uniqueid",
    "missed_offers": "uniqueid, agent_id",
    "status_log": "id",
    "agent_state": "agent_id",
    "sessions": "agent_id",
    "tokens": "token",
    "settings WHERE key = 'journal'": "key",
    "crm_outbox": "event_id",
    "queue_slots": "queue_id, slot",
    "agent_days": "agent_id, day, status, reason",
    "agent_call_days": "agent_id, day",
}


def _migrated(url: str, *, owned: bool = False) -> Engine:
    """An engine on ``url``'s database, migrated; ``owned``: partition ``main`` is owned
    under epoch 3 (PostgreSQL)."""
    store = Store(url)
    store.migrate()
    store.engine.dispose()
    engine = make_engine(url)
    if owned:
        with engine.begin() as conn:
            conn.execute(
                text(
                    "INSERT INTO partition_owner (partition, node, epoch, backend, expires) "
                    "VALUES ('main', 'a', 3, 0, 1e12)"
                )
            )
    return engine


def _call(uid: str, **fields: Any) -> dict[str, Any]:
    return {"uniqueid": uid, "created": 1_000.0, "cause": None, "connected": None, **fields}


def _batches() -> list[tuple[list[Record], tuple[str, str] | None]]:
    """A sign-in, a queue call offered to two agents, answered by the second, ended, and
    wrapped up: every kind of record the committer writes; then the end written again (a
    journal's replay: the rollup must not count it twice) and once more with another agent
    who missed it (the rollup counts that call again)."""
    one, two = AgentId(1), AgentId(2)
    event = outbox._event("e-1", "call", "call.ended", 1_030.0, {"uniqueid": "9.1"})
    batches: list[tuple[list[Record], tuple[str, str] | None]] = [
        (
            [
                TokenIssued("digest-1", one),
                SessionRecord(one, Phase.READY, "phone-1", None),
                StatusRecord(one, Status.READY, None, 990.0),
                StatusRecord(two, Status.READY, None, 990.0),
                AgentRecord(one, {"status": "READY"}),
            ],
            None,
        ),
        (
            [
                CallRecord(_call("9.1"), (), 1, live=True, enqueued=1_000.0),
                StatusRecord(two, Status.ACW, None, 1_002.0, previous=(Status.READY, None, 990.0)),
                AgentRecord(two, {"status": "BUSY"}),
                CallRecord(_call("9.1", connected=1_005.0), (), 1, live=True, handled_by=2),
            ],
            ("journal", "12"),
        ),
        (
            [
                CallRecord(
                    _call("9.1", connected=1_005.0, disconnected=1_030.0, cause=16),
                    (),
                    1,
                    agents=((2, "two"),),
                    enqueued=1_000.0,
                    handled_by=2,
                    missed=((1, 1_004.0),),
                ),
                OutboxEvents([event]),
                StatusRecord(
                    two,
                    Status.READY,
                    None,
                    1_035.0,
                    wrapped=("9.1", 5.0),
                    previous=(Status.ACW, None, 1_002.0),
                ),
                AgentRecord(two, {"status": "READY"}),
            ],
            ("journal", "15"),
        ),
    ]
    ended = batches[2][0][0]
    assert isinstance(ended, CallRecord)
    again = CallRecord(ended.call, (), 1, ended.live, ended.agents, 1_000.0, 2, ((3, 1_003.0),))
    return [*batches, ([ended], ("journal", "15")), ([again], ("journal", "16"))]


@pytest.fixture
def owned(pg_url: str) -> Iterator[tuple[Engine, Fence]]:
    """A migrated database of its own whose partition ``main`` is owned under epoch 3."""
    engine = _migrated(database_url(pg_url), owned=True)
    yield engine, Fence("main", 3)
    engine.dispose()


def _contents(engine: Engine) -> dict[str, list[Any]]:
    with engine.connect() as conn:
        return {
            table: [tuple(r) for r in conn.execute(text(f"SELECT * FROM {table} ORDER BY {key}"))]
            for table, key in _TABLES.items()
        }


def test_the_pipeline_writes_what_one_statement_at_a_time_writes(
    owned: tuple[Engine, Fence],
) -> None:
    engine, fence = owned
    with fresh_postgres() as other_url:
        plain_engine = _migrated(database_url(other_url), owned=True)
        plain = LocalCommitter(plain_engine, fence)
        piped = LocalCommitter(engine, fence, hold=True, pipeline=True)
        for batch, mark in _batches():
            plain.commit(batch, mark)
            piped.commit(batch, mark)
        piped.close()
        written = _contents(plain_engine)
        plain_engine.dispose()
    assert _contents(engine) == written
    assert len(written["cdr"]) == 1 and written["cdr"][0][0] == "9.1"
    assert written["missed_offers"] and written["crm_outbox"] and written["queue_slots"]
    assert len(written["status_log"]) == 4
    assert written["settings WHERE key = 'journal'"] == [("journal", "16")]
    assert [row[1:3] for row in written["missed_offers"]] == [("9.1", 3)]
    [slot] = written["queue_slots"]
    assert slot[2:4] == (1, 1)  # offered and answered once, however often written
    assert slot[8] == 30.0  # handle time: 25 s of talk and 5 of wrap-up


def test_a_refused_batch_writes_nothing_and_the_next_is_written(
    owned: tuple[Engine, Fence],
) -> None:
    engine, fence = owned
    piped = LocalCommitter(engine, fence, hold=True, pipeline=True)
    piped.commit([TokenIssued("digest-1", AgentId(1))], None)
    twice = [
        StatusRecord(AgentId(1), Status.READY, None, 990.0),
        TokenIssued("digest-1", AgentId(1)),  # the same token again: the key is taken
        AgentRecord(AgentId(1), {"status": "READY"}),
    ]
    with pytest.raises(Refused, match="UniqueViolation"):
        piped.commit(twice, ("journal", "1"))
    before = _contents(engine)
    assert before["status_log"] == [] and before["agent_state"] == []
    assert before["settings WHERE key = 'journal'"] == []
    piped.commit(twice[:1], ("journal", "2"))
    piped.close()
    assert len(_contents(engine)["status_log"]) == 1


def test_a_lost_connection_is_an_outage_and_the_next_batch_opens_another(
    owned: tuple[Engine, Fence],
) -> None:
    engine, fence = owned
    piped = LocalCommitter(engine, fence, hold=True, pipeline=True)
    piped.commit([StatusRecord(AgentId(1), Status.READY, None, 990.0)], None)
    held = piped._held
    assert held is not None
    backend = held.exec_driver_sql("SELECT pg_backend_pid()").scalar()
    held.rollback()
    with engine.begin() as conn:
        conn.execute(text("SELECT pg_terminate_backend(:b)"), {"b": backend})
    with pytest.raises(Outage):
        piped.commit([StatusRecord(AgentId(1), Status.AUX, "lunch", 995.0)], None)
    piped.commit([StatusRecord(AgentId(1), Status.AUX, "lunch", 995.0)], None)
    piped.close()
    assert [r[2] for r in _contents(engine)["status_log"]] == ["READY", "AUX"]


def test_a_pipelined_batch_under_an_old_epoch_writes_nothing(
    owned: tuple[Engine, Fence],
) -> None:
    engine, fence = owned
    piped = LocalCommitter(engine, fence, hold=True, pipeline=True)
    with engine.begin() as conn:
        conn.execute(text("UPDATE partition_owner SET epoch = 4"))
    with pytest.raises(Fenced, match="epoch 4"):
        piped.commit(_batches()[0][0], ("journal", "1"))
    piped.close()
    assert all(rows == [] for rows in _contents(engine).values())


def test_calls_between_other_records_are_written_together_and_keep_their_order(
    db_url: str,
) -> None:
    """One batch: a call's live record, agents' and sessions' records between its others, its
    final record, a late live record of it (which must not undo the end), then the wrap-up
    that follows its end (its seconds go to the final row and the rollup's handle time)."""
    engine = _migrated(database_url(db_url))
    two = AgentId(2)
    talk = _call("7.1", connected=1_005.0)
    end = _call("7.1", connected=1_005.0, disconnected=1_030.0, cause=16)
    batch: list[Record] = [
        CallRecord(talk, (), 1, live=True, enqueued=1_000.0, handled_by=2),
        AgentRecord(two, {"status": "BUSY"}),
        SessionRecord(two, Phase.READY, "phone-2", None),
        CallRecord(end, (), 1, agents=((2, "two"),), enqueued=1_000.0, handled_by=2),
        AgentRecord(two, {"status": "ACW"}),
        CallRecord(talk, (), 1, live=True, enqueued=1_000.0, handled_by=2),
        StatusRecord(two, Status.READY, None, 1_036.0, wrapped=("7.1", 6.0)),
    ]
    LocalCommitter(engine).commit(batch, None)
    with engine.connect() as conn:
        live, acw = conn.execute(text("SELECT live, acw FROM cdr WHERE uniqueid = '7.1'")).one()
        handle = conn.execute(text("SELECT handle FROM queue_slots")).scalar()
        state = conn.execute(text("SELECT state FROM agent_state WHERE agent_id = 2")).scalar()
    engine.dispose()
    assert not live and acw == 6.0
    assert handle == 31.0  # 25 s of talk and 6 of wrap-up
    assert "ACW" in str(state)
