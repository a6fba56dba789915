"""The CRM's outbox (CONTRACT §12) is written in the transaction of the records it tells of:
a commit that fails keeps neither the call record nor its ``call.ended`` (both wait in the
journal and are written together), and a call's record written again updates its event."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from sqlalchemy import event, select
from sqlalchemy.exc import OperationalError

from ucs.core.call import AccountCode
from ucs.core.effects import CallRecord, StatusRecord
from ucs.core.ids import AgentId
from ucs.core.model import Status
from ucs.storage import schema
from ucs.storage.store import Health, Store


def _outbox(store: Store) -> list[dict[str, Any]]:
    with store.engine.connect() as conn:
        rows = conn.execute(select(schema.crm_outbox).order_by(schema.crm_outbox.c.seq))
        return [json.loads(r.body) for r in rows]


def _cdr(store: Store) -> list[str]:
    return [c["uniqueid"] for c in store.cdr()]


def _ended(uid: str, codes: tuple[AccountCode, ...] = ()) -> CallRecord:
    return CallRecord({"uniqueid": uid, "created": 5.0, "disconnected": 9.0, "cause": 3}, codes, 1)


def test_a_call_record_and_its_event_are_committed_together(db_url: str, tmp_path: Path) -> None:
    journal = tmp_path / "records.ucs-journal"
    store = Store(db_url, journal=str(journal), retry=0.0)
    store.migrate()
    store.writer.outbox.enabled = True
    store.deliver(CallRecord({"uniqueid": "5.0", "created": 5.0, "cause": -1}, (), 1, live=True))
    store.deliver(_ended("5.1"))
    store.deliver(StatusRecord(AgentId(1), Status.AUX, "Lunch", 6.0))
    store.flush()
    assert _cdr(store) == ["5.1"]  # the live record is not listed
    events = _outbox(store)
    assert [(e["type"], e["data"].get("uniqueid")) for e in events] == [
        ("call.ended", "5.1"),  # a live record tells of nothing yet
        ("agent.status", None),
    ]
    full = {"on": True}

    def commit(_conn: Any) -> None:
        if full["on"]:
            raise OperationalError("COMMIT", {}, Exception("database or disk is full"))

    event.listen(store.engine, "commit", commit)
    store.deliver(_ended("5.2"))
    store.flush()  # every statement passed, the commit failed: neither is in the database
    assert store.health is Health.DEGRADED and journal.exists()
    assert _cdr(store) == ["5.1"] and len(_outbox(store)) == 2
    full["on"] = False
    store.flush()
    assert store.health is Health.OK and not journal.exists()
    assert _cdr(store) == ["5.1", "5.2"]
    assert [e["data"].get("uniqueid") for e in _outbox(store)] == ["5.1", None, "5.2"]
    # written again in wrap-up with an account code: the pending event is brought up to date
    store.deliver(_ended("5.2", (AccountCode("ORDER-7"),)))
    store.flush()
    events = _outbox(store)
    assert len(events) == 3
    assert events[2]["data"]["account_codes"] == [
        {"accountCode": "ORDER-7", "subAccountCode": None}
    ]
    store.stop()


def test_no_event_is_kept_while_no_webhook_is_set(db_url: str, tmp_path: Path) -> None:
    store = Store(db_url, journal=str(tmp_path / "records.ucs-journal"), retry=0.0)
    store.migrate()
    store.deliver(_ended("7.1"))
    store.flush()
    assert _cdr(store) == ["7.1"] and _outbox(store) == []
    store.stop()
