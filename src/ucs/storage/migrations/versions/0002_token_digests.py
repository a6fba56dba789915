"""bearer tokens kept as their SHA-256 only

Session tokens in ``tokens`` and the admin token in ``settings`` were stored as issued; from
this revision only their SHA-256 is kept (the server compares digests), so the database shows
none of them. Existing sessions and the admin token keep working.

Revision ID: 0002
Revises: 0001
"""

import hashlib

import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None

_settings = sa.table("settings", sa.column("key", sa.String), sa.column("value", sa.Text))
_tokens = sa.table("tokens", sa.column("token", sa.String), sa.column("agent_id", sa.Integer))


def _digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def upgrade() -> None:
    conn = op.get_bind()
    plain = conn.execute(sa.select(_settings.c.value).where(_settings.c.key == "admin_token"))
    row = plain.first()
    if row is not None:
        conn.execute(sa.delete(_settings).where(_settings.c.key == "admin_token"))
        conn.execute(sa.insert(_settings).values(key="admin_token_sha256", value=_digest(row[0])))
    tokens = conn.execute(sa.select(_tokens.c.token, _tokens.c.agent_id)).all()
    conn.execute(sa.delete(_tokens))
    if tokens:
        conn.execute(sa.insert(_tokens), [{"token": _digest(t), "agent_id": a} for t, a in tokens])


def downgrade() -> None:
    # Digests cannot be turned back into tokens: agents log in again, and the admin token must
    # be given in UCS_ADMIN_TOKEN.
    conn = op.get_bind()
    conn.execute(sa.delete(_tokens))
    conn.execute(sa.delete(_settings).where(_settings.c.key == "admin_token_sha256"))
