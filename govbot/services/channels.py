"""Where communities want their announcements, read for front ends checking what they can do."""

from __future__ import annotations

from sqlmodel import col, select

from govbot.storage.db import Store
from govbot.storage.models import Community


def announce_channels(store: Store, platform: str) -> dict[str, str]:
    """Return {community external id: announce channel id} for a platform's communities."""
    with store.reading() as conn:
        rows = conn.execute(
            select(Community.external_id, Community.announce_channel).where(
                Community.platform == platform, col(Community.announce_channel).is_not(None)
            )
        ).all()
    return {str(external_id): str(channel) for external_id, channel in rows}
