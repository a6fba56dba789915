"""report rollup: what the reports over time read, summed per queue and 15 minutes and per
agent and day

Revision ID: 0015
Revises: 0013

The tables start empty; the server fills them from the records at its first start after this
revision (``Store.roll_up``: it needs the server's time zone, which a migration does not know)
and from then on the writer keeps them in step with the records, in the same transactions
(``storage/rollup.py``).
"""

import sqlalchemy as sa
from alembic import op

revision = "0015"
down_revision = "0013"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "queue_slots",
        sa.Column("queue_id", sa.Integer, primary_key=True),
        sa.Column("slot", sa.Integer, primary_key=True),
        sa.Column("offered", sa.Integer, nullable=False),
        sa.Column("answered", sa.Integer, nullable=False),
        sa.Column("abandoned", sa.Integer, nullable=False),
        sa.Column("abandoned_short", sa.Integer, nullable=False),
        sa.Column("within", sa.Integer, nullable=False),
        sa.Column("wait", sa.Float, nullable=False),
        sa.Column("handle", sa.Float, nullable=False),
        sa.Column("max_wait", sa.Float, nullable=True),
    )
    op.create_table(
        "agent_days",
        sa.Column("agent_id", sa.Integer, primary_key=True),
        sa.Column("day", sa.Date, primary_key=True),
        sa.Column("status", sa.String(16), primary_key=True),
        sa.Column("reason", sa.String(64), primary_key=True),
        sa.Column("seconds", sa.Float, nullable=False),
    )
    op.create_table(
        "agent_call_days",
        sa.Column("agent_id", sa.Integer, primary_key=True),
        sa.Column("day", sa.Date, primary_key=True),
        sa.Column("answered", sa.Integer, nullable=False),
        sa.Column("talk", sa.Float, nullable=False),
        sa.Column("missed", sa.Integer, nullable=False),
    )


def downgrade() -> None:
    op.drop_table("agent_call_days")
    op.drop_table("agent_days")
    op.drop_table("queue_slots")
    op.execute("DELETE FROM settings WHERE key = 'report_rollup'")
