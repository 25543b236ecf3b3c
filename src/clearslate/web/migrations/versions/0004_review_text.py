"""Review items keep the run's text whole: `subject_id`, `cnt_order`, `name`, `cii_number`,
`case_number` and `code_section` become unbounded text (they were VARCHAR(100), (50), (300),
(100), (300), (300): on PostgreSQL a research file with a longer name failed the run).

SQLite enforces no length, but its column types change too, in batch mode (the table is copied),
so that both databases hold the same schema. 0001 creates the tables from db.py as it is now:
on such a database the change is a no-op.
"""

import sqlalchemy as sa
from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None

# column: its length before this revision
BOUNDED = {"subject_id": 100, "cnt_order": 50, "name": 300, "cii_number": 100,
           "case_number": 300, "code_section": 300}  # fmt: skip


def upgrade() -> None:
    with op.batch_alter_table("review_items") as batch:
        for column, length in BOUNDED.items():
            batch.alter_column(column, type_=sa.Text, existing_type=sa.String(length),
                               existing_nullable=False)  # fmt: skip


def downgrade() -> None:
    """Fails on PostgreSQL if a value is longer than its old column: shorten it first."""
    with op.batch_alter_table("review_items") as batch:
        for column, length in BOUNDED.items():
            batch.alter_column(column, type_=sa.String(length), existing_type=sa.Text,
                               existing_nullable=False)  # fmt: skip
