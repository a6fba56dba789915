"""recordings: the queues' ``recording`` mode and the index of recorded calls

Revision ID: 0013
Revises: 0011
"""

import sqlalchemy as sa
from alembic import op

revision = "0013"
down_revision = "0011"
branch_labels = None
depends_on = None


def upgrade() -> None:
    # A plain ADD COLUMN on both databases: SQLite must not rebuild ``queues``, whose
    # memberships would go with the old table (ON DELETE CASCADE).
    op.add_column(
        "queues", sa.Column("recording", sa.String(16), nullable=False, server_default="never")
    )
    op.create_table(
        "recordings",
        sa.Column("uniqueid", sa.String(64), primary_key=True),
        sa.Column("agent_id", sa.Integer),
        sa.Column("agent", sa.String(64)),
        sa.Column("queue_id", sa.Integer),
        sa.Column("start", sa.Float, nullable=False),
        sa.Column("seconds", sa.Float, nullable=False),
        sa.Column("bytes", sa.Integer, nullable=False),
        sa.Column("path", sa.String(1024), nullable=False),
    )
    op.create_index("recordings_start", "recordings", ["start"])


def downgrade() -> None:
    op.drop_index("recordings_start", "recordings")
    op.drop_table("recordings")
    op.drop_column("queues", "recording")
