"""slack_sdk's installation and OAuth state stores, kept in govbot's tables through its services."""

from __future__ import annotations

import asyncio
import dataclasses
import logging
from datetime import UTC, datetime
from typing import Any

from slack_sdk.oauth.installation_store.async_installation_store import AsyncInstallationStore
from slack_sdk.oauth.installation_store.models.bot import Bot
from slack_sdk.oauth.installation_store.models.installation import Installation
from slack_sdk.oauth.state_store.async_state_store import AsyncOAuthStateStore

from govbot.services import Store
from govbot.services import slack_installations as installs
from govbot.services.slack_installations import InstallationRecord

log = logging.getLogger(__name__)


def _moment(epoch: float | None) -> datetime | None:
    return None if epoch is None else datetime.fromtimestamp(epoch, UTC)


def to_record(installation: Installation) -> InstallationRecord:
    """Copy what slack_sdk hands over after an install into plain values."""
    return InstallationRecord(
        user_id=installation.user_id,
        installed_at=_moment(installation.installed_at) or datetime.now(UTC),
        enterprise_id=installation.enterprise_id,
        team_id=installation.team_id,
        app_id=installation.app_id,
        enterprise_name=installation.enterprise_name,
        enterprise_url=installation.enterprise_url,
        team_name=installation.team_name,
        is_enterprise_install=installation.is_enterprise_install,
        token_type=installation.token_type,
        bot_token=installation.bot_token,
        bot_id=installation.bot_id,
        bot_user_id=installation.bot_user_id,
        bot_scopes=tuple(installation.bot_scopes or ()),
        bot_refresh_token=installation.bot_refresh_token,
        bot_token_expires_at=_moment(installation.bot_token_expires_at),
        user_token=installation.user_token,
        user_scopes=tuple(installation.user_scopes or ()),
        user_refresh_token=installation.user_refresh_token,
        user_token_expires_at=_moment(installation.user_token_expires_at),
        incoming_webhook_url=installation.incoming_webhook_url,
        incoming_webhook_channel=installation.incoming_webhook_channel,
        incoming_webhook_channel_id=installation.incoming_webhook_channel_id,
        incoming_webhook_configuration_url=installation.incoming_webhook_configuration_url,
    )


def to_installation(record: InstallationRecord) -> Installation:
    """Rebuild slack_sdk's view of a stored installation."""
    return Installation(
        app_id=record.app_id,
        enterprise_id=record.enterprise_id,
        enterprise_name=record.enterprise_name,
        enterprise_url=record.enterprise_url,
        team_id=record.team_id,
        team_name=record.team_name,
        bot_token=record.bot_token,
        bot_id=record.bot_id,
        bot_user_id=record.bot_user_id,
        bot_scopes=list(record.bot_scopes),
        bot_refresh_token=record.bot_refresh_token,
        bot_token_expires_at=record.bot_token_expires_at,
        user_id=record.user_id,
        user_token=record.user_token,
        user_scopes=list(record.user_scopes),
        user_refresh_token=record.user_refresh_token,
        user_token_expires_at=record.user_token_expires_at,
        incoming_webhook_url=record.incoming_webhook_url,
        incoming_webhook_channel=record.incoming_webhook_channel,
        incoming_webhook_channel_id=record.incoming_webhook_channel_id,
        incoming_webhook_configuration_url=record.incoming_webhook_configuration_url,
        is_enterprise_install=record.is_enterprise_install,
        token_type=record.token_type,
        installed_at=record.installed_at,
    )


class GovbotInstallationStore(AsyncInstallationStore):
    """Store Slack installations in govbot's `slack_installation` table."""

    def __init__(self, store: Store) -> None:
        self.store = store

    @property
    def logger(self) -> logging.Logger:
        """Return the logger slack_sdk writes through."""
        return log

    async def async_save(self, installation: Installation) -> None:
        """Save an installation (a new workspace, or a refreshed token)."""
        await asyncio.to_thread(installs.save_installation, self.store, to_record(installation))

    async def async_save_bot(self, bot: Bot) -> None:
        """Save rotated bot credentials onto the workspace's latest installation."""
        latest = await asyncio.to_thread(
            installs.find_installation,
            self.store,
            enterprise_id=bot.enterprise_id,
            team_id=None if bot.is_enterprise_install else bot.team_id,
        )
        base = latest or InstallationRecord(
            user_id="", installed_at=_moment(bot.installed_at) or datetime.now(UTC)
        )
        record = dataclasses.replace(
            base,
            enterprise_id=bot.enterprise_id,
            team_id=bot.team_id,
            is_enterprise_install=bool(bot.is_enterprise_install),
            bot_token=bot.bot_token,
            bot_id=bot.bot_id,
            bot_user_id=bot.bot_user_id,
            bot_scopes=tuple(bot.bot_scopes or ()),
            bot_refresh_token=bot.bot_refresh_token,
            bot_token_expires_at=_moment(bot.bot_token_expires_at),
        )
        await asyncio.to_thread(installs.save_installation, self.store, record)

    async def async_find_installation(
        self,
        *,
        enterprise_id: str | None,
        team_id: str | None,
        user_id: str | None = None,
        is_enterprise_install: bool | None = False,
    ) -> Installation | None:
        """Find a workspace's latest installation, or one installer's."""
        record = await asyncio.to_thread(
            installs.find_installation,
            self.store,
            enterprise_id=enterprise_id,
            # An org-wide install answers for every workspace of the org.
            team_id=None if is_enterprise_install else team_id,
            user_id=user_id,
        )
        return None if record is None else to_installation(record)

    async def async_find_bot(
        self,
        *,
        enterprise_id: str | None,
        team_id: str | None,
        is_enterprise_install: bool | None = False,
    ) -> Bot | None:
        """Find the bot credentials of a workspace."""
        installation = await self.async_find_installation(
            enterprise_id=enterprise_id,
            team_id=team_id,
            is_enterprise_install=is_enterprise_install,
        )
        if installation is None or installation.bot_token is None:
            return None
        return installation.to_bot()

    async def async_delete_bot(self, *, enterprise_id: str | None, team_id: str | None) -> None:
        """Forget a workspace's bot token (Slack said it was revoked)."""
        await asyncio.to_thread(
            installs.forget_bot, self.store, enterprise_id=enterprise_id, team_id=team_id
        )

    async def async_delete_installation(
        self, *, enterprise_id: str | None, team_id: str | None, user_id: str | None = None
    ) -> None:
        """Forget a workspace's installations (one installer's, when named)."""
        await asyncio.to_thread(
            installs.forget_installations,
            self.store,
            enterprise_id=enterprise_id,
            team_id=team_id,
            user_id=user_id,
        )


class GovbotOAuthStateStore(AsyncOAuthStateStore):
    """Keep the install flow's one-time states in govbot's `slack_oauth_state` table."""

    def __init__(self, store: Store) -> None:
        self.store = store

    @property
    def logger(self) -> logging.Logger:
        """Return the logger slack_sdk writes through."""
        return log

    async def async_issue(self, *args: Any, **kwargs: Any) -> str:
        """Issue a state for one installer's browser."""
        return await asyncio.to_thread(installs.issue_oauth_state, self.store, datetime.now(UTC))

    async def async_consume(self, state: str) -> bool:
        """Use a state up; false when it is unknown, used or expired."""
        return await asyncio.to_thread(
            installs.consume_oauth_state, self.store, state, datetime.now(UTC)
        )
