"""reports: queues.service_level_target; what the reports read of each call record, in columns

Revision ID: 0011
Revises: 0010

The call record keeps its Call object (``cdr.call``, JSON); the reports (``storage/reports.py``)
read plain columns beside it: when the caller started waiting, was answered, hung up, the
cause, the agent who answered from the queue and whose call it was, the wrap-up that followed,
and the agents whose offers of it rang unanswered. Records written before this revision are
filled from their Call object (the wrap-up and missed offers were not recorded then).
"""

import sqlalchemy as sa
from alembic import op

revision = "0011"
down_revision = "0010"
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
    op.create_index("status_log_agent_at", "status_log", ["agent_id", "at"])
    _fill_from_calls()


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


def downgrade() -> None:
    op.drop_index("status_log_agent_at", "status_log")
    op.drop_index("missed_offers_at", "missed_offers")
    op.drop_table("missed_offers")
    for column in reversed(_CDR):
        op.drop_column("cdr", column.name)
    op.drop_column("queues", "service_level_target")
