"""The first schema: users, sessions, policies, runs, review items, audit log.

Revision 0001 creates the tables as db.py declares them; every later change to db.py comes
with a migration of its own written as explicit operations (op.add_column …), so that this one
stays what it was.
"""

import sqlalchemy as sa
from alembic import op

from clearslate.web.db import audit_head, metadata

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None

# The audit log is append-only for the application's own database user too: a change or a
# deletion fails. (An owner can drop the trigger; the hash chain then still shows the change.)
_SQLITE = [
    """CREATE TRIGGER audit_log_no_update BEFORE UPDATE ON audit_log
       BEGIN SELECT RAISE(ABORT, 'the audit log is append-only'); END""",
    """CREATE TRIGGER audit_log_no_delete BEFORE DELETE ON audit_log
       BEGIN SELECT RAISE(ABORT, 'the audit log is append-only'); END""",
]
_POSTGRESQL = [
    """CREATE FUNCTION audit_log_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
       BEGIN RAISE EXCEPTION 'the audit log is append-only'; END $$""",
    """CREATE TRIGGER audit_log_append_only BEFORE UPDATE OR DELETE ON audit_log
       FOR EACH ROW EXECUTE FUNCTION audit_log_append_only()""",
]


def upgrade() -> None:
    bind = op.get_bind()
    metadata.create_all(bind)
    op.execute(sa.insert(audit_head).values(id=1, last_id=0, last_hash="0" * 64))
    for statement in _POSTGRESQL if bind.dialect.name == "postgresql" else _SQLITE:
        op.execute(statement)


def downgrade() -> None:
    metadata.drop_all(op.get_bind())
