"""The lean command path answers exactly as SQLAlchemy's own would, on both databases."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone
from typing import Any

import pytest
from sqlalchemy import event, select
from sqlalchemy.exc import IntegrityError
from sqlmodel import select as orm_select

from govbot.services.base import Caller
from govbot.services.runner import _find
from govbot.storage import audit, rows
from govbot.storage.db import Store
from govbot.storage.models import AuditEntry, Body, Community, Member
from tests.helpers import Community as Scripted

_BODY = rows.table(Body)


@pytest.fixture
def scripted(store: Store) -> Scripted:
    community = Scripted(store)
    community.say("admin", "/gov setup init timezone:Europe/Berlin")
    community.say("ann", "/gov body join operations")
    return community


def _caller(user: str) -> Caller:
    return Caller("console", "c1", user, user)


def test_a_prepared_lookup_returns_the_values_sqlalchemy_returns(scripted: Scripted) -> None:
    prepared = rows.Prepared(select(_BODY).where(_BODY.c.slug == "quality"))
    with scripted.store.unit_of_work(readonly=True) as session:
        fast = prepared.first(session, {})
        plain = session.connection().execute(select(_BODY).where(_BODY.c.slug == "quality"))
        expected = tuple(plain.one())
    assert fast == expected
    created = fast[_BODY.c.keys().index("created_at")] if fast else None
    assert isinstance(created, datetime) and created.utcoffset() == timedelta(0)
    assert fast is not None and fast[_BODY.c.keys().index("is_open")] is True


def test_a_time_in_any_zone_is_stored_as_sqlalchemy_stores_it(scripted: Scripted) -> None:
    east = timezone(timedelta(hours=8))
    moment = datetime(2026, 3, 1, 17, 30, 0, tzinfo=east)  # no microseconds: a format trap
    with scripted.store.unit_of_work() as session:
        community = session.exec(orm_select(Community)).first()
        assert community is not None and community.id is not None
        audit.append(
            session,
            community.id,
            actor="system",
            action="test.moment",
            subject_kind="test",
            subject_id=1,
            data={},
            at=moment,
        )
        session.commit()
    with scripted.store.unit_of_work(readonly=True) as session:
        stored = session.exec(
            orm_select(AuditEntry.at).where(AuditEntry.action == "test.moment")
        ).one()
    assert stored == moment.astimezone(UTC)
    assert "intact" in scripted.say("admin", "/gov audit verify")


def test_a_driver_error_comes_out_as_sqlalchemys(scripted: Scripted) -> None:
    # The runner retries on SQLAlchemy's IntegrityError and DBAPIError: a raw driver error
    # would turn a lost race into a failure.
    with scripted.store.unit_of_work() as session:
        community = session.exec(orm_select(Community)).first()
        assert community is not None and community.id is not None
        seq, digest = audit.head(session, community.id)
        values: dict[str, Any] = {
            "community_id": community.id,
            "seq": seq,  # taken: the unique (community, seq) refuses it
            "at": datetime.now(UTC),
            "actor": "system",
            "action": "test.duplicate",
            "subject_kind": "test",
            "subject_id": "1",
            "data_digest": digest,
            "prev_hash": digest,
            "hash": digest,
        }
        with pytest.raises(IntegrityError):
            audit._INSERT_ENTRY.rows(session, values)


def test_the_community_and_member_come_back_tracked_in_a_write_and_apart_in_a_read(
    scripted: Scripted,
) -> None:
    with scripted.store.unit_of_work() as session:
        community, member = _find(session, _caller("ann"))
        assert community is not None and member is not None
        assert community in session and member in session
        assert session.get(Member, member.id) is member  # the same object a query would give
        community.language = "zh-CN"  # a change to it is flushed as to any loaded object
        session.commit()
    with scripted.store.unit_of_work(readonly=True) as session:
        community, member = _find(session, _caller("ann"))
        assert community is not None and community.language == "zh-CN"
        assert member is not None and member not in session
        assert _find(session, _caller("nobody"))[1] is None


def test_whatever_listens_to_statements_sees_every_one_a_command_sends(
    scripted: Scripted,
) -> None:
    seen: list[str] = []

    def note(_conn: Any, _cursor: Any, statement: str, *_: Any) -> None:
        seen.append(statement.split(maxsplit=1)[0].upper())

    event.listen(scripted.store.engine, "before_cursor_execute", note)
    try:
        scripted.say("ann", "/gov body leave operations")
    finally:
        event.remove(scripted.store.engine, "before_cursor_execute", note)
    # The lookups, the head lock, the term's end and its chained entry with the head's move.
    assert seen.count("SELECT") == 4
    assert seen.count("INSERT") == 1
    assert seen.count("UPDATE") == 2
