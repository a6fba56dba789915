"""queues.rona_reason: the AUX reason for an agent who lets one of the queue's calls ring out

Revision ID: 0004
Revises: 0003
"""

import sqlalchemy as sa
from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None


def upgrade() -> None:
    # A plain ADD COLUMN on both databases: SQLite must not rebuild ``queues``, whose
    # memberships would go with the old table (ON DELETE CASCADE).
    op.add_column("queues", sa.Column("rona_reason", sa.String(64), nullable=True))


def downgrade() -> None:
    op.drop_column("queues", "rona_reason")
