"""status_log.by_agent: the supervisor who set an agent's status (setAgentStatus, logoutAgent)

Revision ID: 0009
Revises: 0008
"""

import sqlalchemy as sa
from alembic import op

revision = "0009"
down_revision = "0008"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column("status_log", sa.Column("by_agent", sa.Integer, nullable=True))


def downgrade() -> None:
    op.drop_column("status_log", "by_agent")
