"""Upgrading a database made by an earlier version keeps what it had."""

from __future__ import annotations

import hashlib
from importlib import resources

from alembic import command
from alembic.config import Config
from sqlalchemy import insert, select, text

from ucs.core.ids import AgentId, QueueId
from ucs.storage import schema as t
from ucs.storage.store import Store


def _upgrade(store: Store, revision: str) -> None:
    cfg = Config()
    cfg.set_main_option("script_location", str(resources.files("ucs.storage") / "migrations"))
    with store.engine.begin() as conn:
        cfg.attributes["connection"] = conn
        command.upgrade(cfg, revision)


def _sha(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def test_plain_tokens_of_revision_0001_become_digests_and_keep_working(db_url: str) -> None:
    store = Store(db_url)
    _upgrade(store, "0001")
    with store.engine.begin() as conn:
        conn.execute(insert(t.settings).values(key="admin_token", value="old-admin-token"))
        conn.execute(
            insert(t.tokens), [{"token": "tok-a", "agent_id": 1}, {"token": "tok-b", "agent_id": 2}]
        )
    store.migrate()
    assert store.setting("admin_token") is None
    assert store.setting("admin_token_sha256") == _sha("old-admin-token")
    assert store.tokens() == {_sha("tok-a"): 1, _sha("tok-b"): 2}
    with store.engine.connect() as conn:
        assert sorted(r[0] for r in conn.execute(select(t.tokens.c.token))) == sorted(
            [_sha("tok-a"), _sha("tok-b")]
        )
    store.engine.dispose()


def test_the_migrations_make_the_tables_schema_py_describes(db_url: str) -> None:
    """Alembic's migrations and ``schema.py`` are kept in step by hand: nothing differs."""
    from alembic.autogenerate import compare_metadata
    from alembic.migration import MigrationContext

    store = Store(db_url)
    store.migrate()
    with store.engine.connect() as conn:
        diff = compare_metadata(MigrationContext.configure(conn), t.metadata)
    store.engine.dispose()
    assert diff == []


def test_queues_of_revision_0003_keep_their_members_and_get_no_rona_reason(db_url: str) -> None:
    store = Store(db_url)
    _upgrade(store, "0003")
    with store.engine.begin() as conn:
        conn.execute(
            text(
                "INSERT INTO queues (id, name, type, strategy, ring_timeout, wrapup, weight) "
                "VALUES (7, 'Support', 1, 'longest-idle', 15, 0, 0)"
            )
        )
        conn.execute(insert(t.agents).values(id=3, username="agent3", password_hash="x"))
        conn.execute(insert(t.memberships).values(agent_id=3, queue_id=7))
    store.migrate()
    directory = store.load_directory("CZ")
    assert directory.queues[QueueId(7)].rona_reason is None
    assert directory.members(QueueId(7)) == (AgentId(3),)
    store.engine.dispose()


def test_records_of_revision_0014_get_the_columns_the_reports_read(db_url: str) -> None:
    store = Store(db_url)
    _upgrade(store, "0014")
    answered = {"created": 100.0, "connected": 112.0, "disconnected": 200.0, "cause": 4}
    placed = {"created": 300.0, "connected": 301.0, "disconnected": 360.0, "cause": 4}
    with store.engine.begin() as conn:
        conn.execute(
            text(
                "INSERT INTO cdr (uniqueid, seq, queue_id, created, live, call, account_codes) "
                "VALUES (:u, :s, :q, :c, false, :call, '[]')"
            ),
            [
                {"u": "1.1", "s": 1, "q": 2, "c": 100.0, "call": _json(answered, user=3)},
                {"u": "1.2", "s": 2, "q": None, "c": 300.0, "call": _json(placed, caller=1)},
            ],
        )
        conn.execute(
            text("INSERT INTO status_log (agent_id, status, reason, at) VALUES (:a, :s, :r, :t)"),
            [
                {"a": 3, "s": "READY", "r": None, "t": 10.0},
                {"a": 3, "s": "AUX", "r": "Lunch", "t": 50.0},
                {"a": 3, "s": "OFFLINE", "r": None, "t": 80.0},
                {"a": 3, "s": "READY", "r": None, "t": 90.0},
            ],
        )
    store.migrate()
    with store.engine.connect() as conn:
        calls = conn.execute(
            select(t.cdr.c.uniqueid, t.cdr.c.waited_from, t.cdr.c.answered, t.cdr.c.ended)
            .add_columns(t.cdr.c.cause, t.cdr.c.agent_id, t.cdr.c.handled_by, t.cdr.c.acw)
            .order_by(t.cdr.c.uniqueid)
        ).all()
        spans = conn.execute(
            select(t.status_log.c.prev_status, t.status_log.c.prev_reason)
            .add_columns(t.status_log.c.prev_since)
            .order_by(t.status_log.c.at)
        ).all()
        target = conn.execute(select(t.queues.c.service_level_target)).all()
    store.engine.dispose()
    assert [tuple(c) for c in calls] == [
        ("1.1", 100.0, 112.0, 200.0, 4, 3, 3, None),  # answered from queue 2 by agent 3
        ("1.2", 300.0, 301.0, 360.0, 4, 1, None, None),  # agent 1 placed it
    ]
    assert [tuple(s) for s in spans] == [
        (None, None, None),
        ("READY", None, 10.0),
        ("AUX", "Lunch", 50.0),
        (None, None, None),  # OFFLINE before it: no span
    ]
    assert target == []  # no queue; a new one gets 20 (test_service_level_target.py)


def _json(call: dict[str, float], *, user: int | None = None, caller: int | None = None) -> str:
    import json

    return json.dumps(
        {**call, "connected_user_id": user, "caller_user_id": caller, "direction": "INCOMING"}
    )


def test_queues_of_revision_0013_keep_their_members_and_get_no_dispositions(db_url: str) -> None:
    store = Store(db_url)
    _upgrade(store, "0013")
    with store.engine.begin() as conn:
        conn.execute(
            text(
                "INSERT INTO queues (id, name, type, strategy, ring_timeout, wrapup, weight) "
                "VALUES (7, 'Support', 1, 'longest-idle', 15, 0, 0)"
            )
        )
        conn.execute(insert(t.agents).values(id=3, username="agent3", password_hash="x"))
        conn.execute(insert(t.memberships).values(agent_id=3, queue_id=7))
    store.migrate()
    directory = store.load_directory("CZ")
    support = directory.queues[QueueId(7)]
    assert (support.dispositions, support.free_text_codes) == ((), False)
    assert support.takes_code("ANY CODE")  # no list: any code, as before
    assert directory.members(QueueId(7)) == (AgentId(3),)
    store.engine.dispose()
