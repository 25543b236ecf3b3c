"""Runs of either jurisdiction: `runs.jurisdiction`, 'ca' for every run made before.

0001 creates the tables from db.py as it is now, so a database made by it already has the
column: add it only where it is missing (a database made before Illinois runs).
"""

import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    columns = {c["name"] for c in sa.inspect(op.get_bind()).get_columns("runs")}
    if "jurisdiction" not in columns:
        op.add_column(
            "runs", sa.Column("jurisdiction", sa.String(2), nullable=False, server_default="ca")
        )


def downgrade() -> None:
    op.drop_column("runs", "jurisdiction")
