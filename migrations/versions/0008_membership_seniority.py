"""membership seniority: when each member's unbroken membership of a body began

Revision ID: 0008
Revises: 0007
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import govbot.storage.types

revision: str = "0008"
down_revision: str | None = "0007"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_TERMS = sa.table(
    "membership",
    sa.column("id", sa.Integer),
    sa.column("body_id", sa.Integer),
    sa.column("member_id", sa.Integer),
    sa.column("start", govbot.storage.types.UTCDateTime()),
    sa.column("end", govbot.storage.types.UTCDateTime()),
    sa.column("seniority", govbot.storage.types.UTCDateTime()),
)


def upgrade() -> None:
    """Apply this revision."""
    with op.batch_alter_table("membership", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("seniority", govbot.storage.types.UTCDateTime(timezone=True), nullable=True)
        )
    _carry_seniority()


def _carry_seniority() -> None:
    """Give a term that continues an earlier one (touching or overlapping) that one's seniority.

    A term left without (NULL) counts from its own start, so only continued terms are written.
    """
    conn = op.get_bind()
    query = sa.select(
        _TERMS.c.id, _TERMS.c.body_id, _TERMS.c.member_id, _TERMS.c.start, _TERMS.c.end
    ).order_by(_TERMS.c.body_id, _TERMS.c.member_id, _TERMS.c.start, _TERMS.c.id)
    carried: list[dict[str, object]] = []
    previous: tuple[object, object] | None = None
    terms: list[tuple[object, object]] = []  # (end, seniority) of the member's earlier terms
    for term_id, body_id, member_id, start, end in conn.execute(query):
        if (body_id, member_id) != previous:
            previous, terms = (body_id, member_id), []
        seniority = start
        for earlier_end, earlier_seniority in reversed(terms):
            if earlier_end is None or earlier_end >= start:
                seniority = earlier_seniority
                break
        if seniority != start:
            carried.append({"term": term_id, "since": seniority})
        terms.append((end, seniority))
    if carried:
        conn.execute(
            _TERMS.update()
            .where(_TERMS.c.id == sa.bindparam("term"))
            .values(seniority=sa.bindparam("since")),
            carried,
        )


def downgrade() -> None:
    """Undo this revision."""
    with op.batch_alter_table("membership", schema=None) as batch_op:
        batch_op.drop_column("seniority")
