"""reports: queues.service_level_target; what the reports read of each call record, in columns

Revision ID: 0011
Revises: 0014

The call record keeps its Call object (``cdr.call``, JSON); the reports (``storage/reports.py``)
read plain columns beside it: when the caller started waiting, was answered, hung up, the
cause, the agent who answered from the queue and whose call it was, the wrap-up that followed,
and the agents whose offers of it rang unanswered. Records written before this revision are
filled from their Call object (the wrap-up and missed offers were not recorded then).
"""

import sqlalchemy as sa
from alembic import op

revision = "0011"
down_revision = "0014"
branch_labels = None
depends_on = None

_CDR = (
    sa.Column("waited_from", sa.Float, nullable=True),
    sa.Column("answered", sa.Float, nullable=True),
    sa.Column("ended", sa.Float, nullable=True),
    sa.Column("cause", sa.Integer, nullable=True),
    sa.Column("agent_id", sa.Integer, nullable=True),
    sa.Column("handled_by", sa.Integer, nullable=True),
    sa.Column("acw", sa.Float, nullable=True),
)


_STATUS = (
    sa.Column("prev_status", sa.String(16), nullable=True),
    sa.Column("prev_reason", sa.String(64), nullable=True),
    sa.Column("prev_since", sa.Float, nullable=True),
)
_SPAN = ["prev_status", "prev_reason", "prev_since"]
_REPORTED = ["agent_id", "handled_by", "waited_from", "answered", "ended", "cause", "acw"]


def upgrade() -> None:
    op.add_column(
        "queues",
        sa.Column("service_level_target", sa.Integer, nullable=False, server_default="20"),
    )
    for column in _CDR:
        op.add_column("cdr", column)
    op.create_table(
        "missed_offers",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("uniqueid", sa.String(64), nullable=False, index=True),
        sa.Column("agent_id", sa.Integer, nullable=False),
        sa.Column("queue_id", sa.Integer, nullable=True),
        sa.Column("at", sa.Float, nullable=False),
        sqlite_autoincrement=True,
    )
    op.create_index("missed_offers_at", "missed_offers", ["at", "agent_id"])
    for column in _STATUS:
        op.add_column("status_log", column)
    op.create_index("status_log_agent_at", "status_log", ["agent_id", "at"])
    op.create_index("status_log_spans", "status_log", ["at", "agent_id", *_SPAN])
    op.create_index("cdr_report", "cdr", ["created", "live", "queue_id", *_REPORTED])
    _fill_from_calls()
    _fill_spans()


def _fill_from_calls() -> None:
    """The columns of the records written before: from their Call object."""
    conn = op.get_bind()
    cdr = sa.table(
        "cdr",
        sa.column("uniqueid", sa.String),
        sa.column("queue_id", sa.Integer),
        sa.column("call", sa.JSON),
        *(sa.column(c.name, c.type) for c in _CDR),
    )
    rows = conn.execute(sa.select(cdr.c.uniqueid, cdr.c.queue_id, cdr.c.call)).all()
    for uniqueid, queue_id, call in rows:
        call = call or {}
        agent = call.get("connected_user_id") if queue_id is not None else None
        conn.execute(
            cdr.update()
            .where(cdr.c.uniqueid == uniqueid)
            .values(
                waited_from=call.get("created"),
                answered=call.get("connected"),
                ended=call.get("disconnected"),
                cause=call.get("cause"),
                agent_id=agent if agent is not None else call.get("caller_user_id"),
                handled_by=agent,
            )
        )


def _fill_spans() -> None:
    """Each status log row written before: the status it ended (the agent's row before it),
    unless that was OFFLINE."""
    conn = op.get_bind()
    log = sa.table(
        "status_log",
        sa.column("id", sa.Integer),
        sa.column("agent_id", sa.Integer),
        sa.column("status", sa.String),
        sa.column("reason", sa.String),
        sa.column("at", sa.Float),
        *(sa.column(c.name, c.type) for c in _STATUS),
    )
    rows = conn.execute(
        sa.select(log.c.id, log.c.agent_id, log.c.status, log.c.reason, log.c.at).order_by(
            log.c.agent_id, log.c.at, log.c.id
        )
    ).all()
    before: dict[int, tuple[str, str | None, float]] = {}
    for row_id, agent, status, reason, at in rows:
        prev = before.get(agent)
        if prev is not None and prev[0] != "OFFLINE":
            conn.execute(
                log.update()
                .where(log.c.id == row_id)
                .values(prev_status=prev[0], prev_reason=prev[1], prev_since=prev[2])
            )
        before[agent] = (status, reason, at)


def downgrade() -> None:
    op.drop_index("cdr_report", "cdr")
    op.drop_index("status_log_spans", "status_log")
    op.drop_index("status_log_agent_at", "status_log")
    for column in reversed(_STATUS):
        op.drop_column("status_log", column.name)
    op.drop_index("missed_offers_at", "missed_offers")
    op.drop_table("missed_offers")
    for column in reversed(_CDR):
        op.drop_column("cdr", column.name)
    op.drop_column("queues", "service_level_target")
