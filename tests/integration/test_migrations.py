"""The schema comes from Alembic: upgrade, downgrade, and no drift from the models."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import inspect, text
from sqlmodel import Session, SQLModel, col, select

from govbot.storage import migrate
from govbot.storage.db import make_engine
from govbot.storage.models import Membership


def test_upgrade_creates_every_table_and_downgrade_removes_them(database_url: str) -> None:
    engine = make_engine(database_url)
    try:
        migrate.upgrade(engine)
        tables = set(inspect(engine).get_table_names())
        assert set(SQLModel.metadata.tables) <= tables
        migrate.downgrade(engine, "base")
        assert set(inspect(engine).get_table_names()) <= {"alembic_version"}
        migrate.upgrade(engine)
        assert migrate.current(engine) is not None
    finally:
        engine.dispose()


def test_models_and_migrations_do_not_drift(database_url: str) -> None:
    engine = make_engine(database_url)
    try:
        migrate.upgrade(engine)
        with engine.connect() as conn:
            diff = compare_metadata(
                MigrationContext.configure(conn, opts={"compare_type": True}), SQLModel.metadata
            )
        assert diff == []
        command.check(migrate.alembic_config(engine))
    finally:
        engine.dispose()


def test_upgrading_carries_seniority_through_continued_terms_only(database_url: str) -> None:
    engine = make_engine(database_url)
    at = datetime(2026, 1, 1, tzinfo=UTC)
    day = timedelta(days=1)
    try:
        migrate.upgrade(engine, "0005")
        with engine.begin() as conn:
            conn.execute(
                text(
                    "INSERT INTO community (id, platform, external_id, language, timezone,"
                    " level1_days, level2_days, public_dispute_counts, leaderboard,"
                    " weekly_anchor, anchored_seq, remind_before, created_at)"
                    " VALUES (1, 'console', 'c1', 'en', 'UTC', 7, 14, false, true, true, 0,"
                    " '1d', :at)"
                ),
                {"at": at},
            )
            conn.execute(
                text(
                    "INSERT INTO body (id, community_id, slug, kind, title, is_open,"
                    " rotating_chair, author_recused, created_at)"
                    " VALUES (1, 1, 'quality', 'quality', 'Quality', true, true, false, :at)"
                ),
                {"at": at},
            )
            conn.execute(
                text(
                    "INSERT INTO member (id, community_id, platform_user_id, display_name,"
                    " created_at) VALUES (1, 1, 'ann', 'ann', :at)"
                ),
                {"at": at},
            )
            terms = [  # chair, then member from the same moment, then back after a gap
                (1, "chair", at, at + day),
                (2, "member", at + day, at + 2 * day),
                (3, "member", at + 5 * day, None),
            ]
            for term_id, role, start, end in terms:
                conn.execute(
                    text(
                        'INSERT INTO membership (id, body_id, member_id, role, start, "end",'
                        " end_recorded) VALUES (:id, 1, 1, :role, :start, :end, :recorded)"
                    ),
                    {
                        "id": term_id,
                        "role": role,
                        "start": start,
                        "end": end,
                        "recorded": end is not None,
                    },
                )
        migrate.upgrade(engine)
        with Session(engine) as session:
            seniority = {
                term.id: term.seniority
                for term in session.exec(select(Membership).order_by(col(Membership.id)))
            }
        assert seniority == {1: None, 2: at, 3: None}
    finally:
        engine.dispose()
