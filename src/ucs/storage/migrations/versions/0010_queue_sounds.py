"""queues: what waiting callers hear (greeting, music, announcements, language)

Revision ID: 0010
Revises: 0009
"""

import sqlalchemy as sa
from alembic import op

revision = "0010"
down_revision = "0009"
branch_labels = None
depends_on = None

_COLUMNS = (
    sa.Column("greeting", sa.String(32), nullable=True),
    sa.Column("music", sa.String(32), nullable=True),
    sa.Column("announce_every", sa.Float, nullable=False, server_default="0"),
    sa.Column("announce_wait", sa.Boolean, nullable=False, server_default=sa.false()),
    sa.Column("language", sa.String(8), nullable=False, server_default="en"),
)


def upgrade() -> None:
    # Plain ADD COLUMNs on both databases: SQLite must not rebuild ``queues``, whose
    # memberships would go with the old table (ON DELETE CASCADE).
    for column in _COLUMNS:
        op.add_column("queues", column)


def downgrade() -> None:
    for column in reversed(_COLUMNS):
        op.drop_column("queues", column.name)
