"""Illinois review items decided in the workspace: `review_items.not_decidable`, why an item is
listed but not decided there (NULL for every item made before: California's are all decided).

0001 creates the tables from db.py as it is now: add the column only where it is missing.
"""

import sqlalchemy as sa
from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    columns = {c["name"] for c in sa.inspect(op.get_bind()).get_columns("review_items")}
    if "not_decidable" not in columns:
        op.add_column("review_items", sa.Column("not_decidable", sa.Text, nullable=True))


def downgrade() -> None:
    op.drop_column("review_items", "not_decidable")
