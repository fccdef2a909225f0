"""Public messages front ends posted under a key, so that later replies can edit them in place."""

from __future__ import annotations

from sqlalchemy import insert, literal, select, update
from sqlalchemy.exc import IntegrityError

from govbot.storage.db import Store
from govbot.storage.models import Community, PostedMessage

_MESSAGE = PostedMessage.__table__  # type: ignore[attr-defined]
_COMMUNITY = Community.__table__  # type: ignore[attr-defined]


def _community_id(platform: str, external_id: str) -> object:
    return (
        select(_COMMUNITY.c.id)
        .where(_COMMUNITY.c.platform == platform, _COMMUNITY.c.external_id == external_id)
        .scalar_subquery()
    )


def remember(
    store: Store, platform: str, external_id: str, key: str, channel: str, message: str
) -> None:
    """Record where the message posted under `key` is (the newest post wins)."""
    community = _community_id(platform, external_id)
    with store.unit_of_work() as session:
        moved = session.execute(
            update(_MESSAGE)
            .where(_MESSAGE.c.community_id == community, _MESSAGE.c.key == key)
            .values(channel=channel, message=message)
        )
        if moved.rowcount == 0:  # type: ignore[attr-defined]
            try:
                with session.begin_nested():
                    session.execute(
                        insert(_MESSAGE).from_select(
                            ["community_id", "key", "channel", "message"],
                            select(
                                _COMMUNITY.c.id,
                                literal(key),
                                literal(channel),
                                literal(message),
                            ).where(
                                _COMMUNITY.c.platform == platform,
                                _COMMUNITY.c.external_id == external_id,
                            ),
                        )
                    )
            except IntegrityError:
                pass  # another worker recorded the same post first
        session.commit()


def find(store: Store, platform: str, external_id: str, key: str) -> tuple[str, str] | None:
    """Return (channel, message id) of the message posted under `key`, if any."""
    with store.unit_of_work(readonly=True) as session:
        row = session.execute(
            select(_MESSAGE.c.channel, _MESSAGE.c.message).where(
                _MESSAGE.c.community_id == _community_id(platform, external_id),
                _MESSAGE.c.key == key,
            )
        ).first()
    return None if row is None else (str(row[0]), str(row[1]))
