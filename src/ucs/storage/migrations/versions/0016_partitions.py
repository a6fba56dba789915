"""partitions: the partition of each queue, agent and call record, and each owner's address

Revision ID: 0016
Revises: 0015
"""

import sqlalchemy as sa
from alembic import op

revision = "0016"
down_revision = "0015"
branch_labels = None
depends_on = None


def upgrade() -> None:
    # Plain ADD COLUMNs on both databases: SQLite must not rebuild ``queues`` or ``agents``,
    # whose memberships would go with the old tables (ON DELETE CASCADE).
    for table in ("queues", "agents", "cdr"):
        op.add_column(
            table, sa.Column("partition", sa.String(32), nullable=False, server_default="main")
        )
    op.add_column("partition_owner", sa.Column("url", sa.String(512), nullable=True))


def downgrade() -> None:
    op.drop_column("partition_owner", "url")
    for table in ("cdr", "agents", "queues"):
        op.drop_column(table, "partition")
