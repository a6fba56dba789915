"""cdr: fewer indexes to keep up at each call record (issue 14). ``ix_cdr_created`` goes
(``cdr_report`` starts with ``created`` and serves the same searches); ``ix_cdr_live`` keeps
the live calls alone (a partial index: a call's final record leaves it, where it used to move
within an index of every call ever recorded).

Revision ID: 0023
Revises: 0021
"""

import sqlalchemy as sa
from alembic import op

revision = "0023"
down_revision = "0021"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.drop_index("ix_cdr_created", table_name="cdr")
    op.drop_index("ix_cdr_live", table_name="cdr")
    op.create_index(
        "ix_cdr_live",
        "cdr",
        ["live"],
        sqlite_where=sa.text("live IS 1"),
        postgresql_where=sa.text("live IS true"),
    )


def downgrade() -> None:
    op.drop_index("ix_cdr_live", table_name="cdr")
    op.create_index("ix_cdr_live", "cdr", ["live"])
    op.create_index("ix_cdr_created", "cdr", ["created"])
