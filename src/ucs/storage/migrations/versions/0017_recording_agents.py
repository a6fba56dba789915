"""recordings.agents: every agent who was on a recorded call (a transferred call has more
than one), so that the agent filter of ``GET /api/recordings`` finds it by any of them

Revision ID: 0017
Revises: 0016
"""

import sqlalchemy as sa
from alembic import op

revision = "0017"
down_revision = "0016"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column("recordings", sa.Column("agents", sa.Text(), nullable=True))


def downgrade() -> None:
    op.drop_column("recordings", "agents")
