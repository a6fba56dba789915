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
