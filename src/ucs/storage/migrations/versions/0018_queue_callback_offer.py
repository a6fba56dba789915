"""queues.callback_offer: a waiting caller may press 1 to leave a callback request

Revision ID: 0018
Revises: 0012
"""

import sqlalchemy as sa
from alembic import op

revision = "0018"
down_revision = "0012"
branch_labels = None
depends_on = None


def upgrade() -> None:
    # A plain ADD COLUMN (SQLite must not rebuild ``queues``: see 0004).
    op.add_column(
        "queues",
        sa.Column("callback_offer", sa.Boolean, nullable=False, server_default=sa.false()),
    )


def downgrade() -> None:
    op.drop_column("queues", "callback_offer")
