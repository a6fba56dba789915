"""crm_outbox: events for the CRM's webhook, written with the records they tell of

Revision ID: 0007
Revises: 0006
"""

import sqlalchemy as sa
from alembic import op

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "crm_outbox",
        sa.Column("seq", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("event_id", sa.String(64), nullable=False, unique=True),
        sa.Column("stream", sa.String(80), nullable=False),
        sa.Column("type", sa.String(32), nullable=False),
        sa.Column("time", sa.Float, nullable=False),
        sa.Column("body", sa.Text, nullable=False),
        sa.Column("state", sa.Integer, nullable=False, server_default="0"),
        sa.Column("attempts", sa.Integer, nullable=False, server_default="0"),
        sa.Column("next_try", sa.Float, nullable=False, server_default="0"),
        sa.Column("last_error", sa.String(300), nullable=True),
        sqlite_autoincrement=True,
    )
    op.create_index("crm_outbox_pending", "crm_outbox", ["state", "next_try"])
    op.create_index("crm_outbox_stream", "crm_outbox", ["stream", "state", "seq"])


def downgrade() -> None:
    op.drop_table("crm_outbox")
