"""queues.campaign and queues.callback_retries: how a queue's callbacks are dialled

Revision ID: 0008
Revises: 0007
"""

import sqlalchemy as sa
from alembic import op

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None


def upgrade() -> None:
    # Plain ADD COLUMNs (SQLite must not rebuild ``queues``: see 0004).
    op.add_column("queues", sa.Column("campaign", sa.Integer, nullable=True))
    op.add_column(
        "queues",
        sa.Column("callback_retries", sa.Integer, nullable=False, server_default="1"),
    )


def downgrade() -> None:
    op.drop_column("queues", "callback_retries")
    op.drop_column("queues", "campaign")
