"""Slack installations by OAuth, and the one-time states of the install flow, as plain values."""

from __future__ import annotations

import secrets
from dataclasses import dataclass, field, fields
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import delete, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.sql.elements import ColumnElement
from sqlmodel import Session, col, select
from sqlmodel.sql.expression import SelectOfScalar

from govbot.storage.db import Store
from govbot.storage.models import SlackInstallation, SlackOAuthState

OAUTH_STATE_TTL = timedelta(minutes=10)
_BOT_FIELDS = ("bot_token", "bot_id", "bot_user_id", "bot_refresh_token", "bot_token_expires_at")


@dataclass(frozen=True)
class InstallationRecord:
    """One installation of the Slack app: a workspace (or org), its installer and tokens."""

    user_id: str
    installed_at: datetime
    enterprise_id: str | None = None
    team_id: str | None = None
    app_id: str | None = None
    enterprise_name: str | None = None
    enterprise_url: str | None = None
    team_name: str | None = None
    is_enterprise_install: bool = False
    token_type: str | None = None
    bot_token: str | None = field(default=None, repr=False)
    bot_id: str | None = None
    bot_user_id: str | None = None
    bot_scopes: tuple[str, ...] = ()
    bot_refresh_token: str | None = field(default=None, repr=False)
    bot_token_expires_at: datetime | None = None
    user_token: str | None = field(default=None, repr=False)
    user_scopes: tuple[str, ...] = ()
    user_refresh_token: str | None = field(default=None, repr=False)
    user_token_expires_at: datetime | None = None
    incoming_webhook_url: str | None = field(default=None, repr=False)
    incoming_webhook_channel: str | None = None
    incoming_webhook_channel_id: str | None = None
    incoming_webhook_configuration_url: str | None = field(default=None, repr=False)


def save_installation(store: Store, record: InstallationRecord) -> None:
    """Store an installation, replacing the same installer's earlier one in that workspace."""
    values = _row_values(record)
    for attempt in (1, 2):
        try:
            with store.unit_of_work() as session:
                row = _row(session, record.enterprise_id, record.team_id, record.user_id)
                if row is None:
                    session.add(SlackInstallation(**values))
                else:
                    for name, value in values.items():
                        setattr(row, name, value)
                    session.add(row)
                session.commit()
                return
        except IntegrityError:
            # Two installs by the same person raced; the second pass updates the winner's row.
            if attempt == 2:
                raise


def find_installation(
    store: Store,
    *,
    enterprise_id: str | None,
    team_id: str | None,
    user_id: str | None = None,
) -> InstallationRecord | None:
    """Find one installer's installation, or the workspace's latest one when no user is named."""
    with store.unit_of_work(readonly=True) as session:
        if user_id is not None:
            row = _row(session, enterprise_id, team_id, user_id)
        else:
            row = session.exec(
                _workspace(enterprise_id, team_id).order_by(
                    col(SlackInstallation.installed_at).desc(), col(SlackInstallation.id).desc()
                )
            ).first()
        return None if row is None else _record(row)


def bot_token_for(store: Store, external_id: str) -> str | None:
    """Return the newest bot token installed for a workspace id (or an org-wide install's id)."""
    with store.unit_of_work(readonly=True) as session:
        row = session.exec(
            select(SlackInstallation)
            .where(
                (col(SlackInstallation.team_id) == external_id)
                | (
                    col(SlackInstallation.is_enterprise_install)
                    & (col(SlackInstallation.enterprise_id) == external_id)
                ),
                col(SlackInstallation.bot_token).is_not(None),
            )
            .order_by(col(SlackInstallation.installed_at).desc(), col(SlackInstallation.id).desc())
        ).first()
        return None if row is None else row.bot_token


def forget_bot(store: Store, *, enterprise_id: str | None, team_id: str | None) -> None:
    """Drop the bot credentials of a workspace (its bot token was revoked)."""
    with store.unit_of_work() as session:
        session.execute(
            update(SlackInstallation)
            .where(*_key(enterprise_id, team_id))
            .values(dict.fromkeys(_BOT_FIELDS))
        )
        session.commit()


def forget_installations(
    store: Store, *, enterprise_id: str | None, team_id: str | None, user_id: str | None = None
) -> None:
    """Delete a workspace's installations (of one installer, when named)."""
    conditions = list(_key(enterprise_id, team_id))
    if user_id is not None:
        conditions.append(col(SlackInstallation.user_id) == user_id)
    with store.unit_of_work() as session:
        session.execute(delete(SlackInstallation).where(*conditions))
        session.commit()


def issue_oauth_state(store: Store, now: datetime) -> str:
    """Issue a fresh install-flow state, clearing the ones that expired."""
    state = secrets.token_urlsafe(32)
    with store.unit_of_work() as session:
        session.execute(
            delete(SlackOAuthState).where(col(SlackOAuthState.created_at) < now - OAUTH_STATE_TTL)
        )
        session.add(SlackOAuthState(state=state, created_at=now))
        session.commit()
    return state


def consume_oauth_state(store: Store, state: str, now: datetime) -> bool:
    """Use up a state: true once for a state issued less than its lifetime ago, then never."""
    with store.unit_of_work() as session:
        # The conditional delete is the claim: of two callbacks with one state, one wins.
        result = session.execute(
            delete(SlackOAuthState).where(
                col(SlackOAuthState.state) == state,
                col(SlackOAuthState.created_at) >= now - OAUTH_STATE_TTL,
            )
        )
        session.commit()
        return bool(result.rowcount == 1)  # type: ignore[attr-defined]


def _key(enterprise_id: str | None, team_id: str | None) -> tuple[ColumnElement[bool], ...]:
    return (
        col(SlackInstallation.enterprise_id) == (enterprise_id or ""),
        col(SlackInstallation.team_id) == (team_id or ""),
    )


def _workspace(enterprise_id: str | None, team_id: str | None) -> SelectOfScalar[SlackInstallation]:
    return select(SlackInstallation).where(*_key(enterprise_id, team_id))


def _row(
    session: Session, enterprise_id: str | None, team_id: str | None, user_id: str
) -> SlackInstallation | None:
    return session.exec(
        _workspace(enterprise_id, team_id).where(col(SlackInstallation.user_id) == user_id)
    ).first()


def _row_values(record: InstallationRecord) -> dict[str, Any]:
    values: dict[str, Any] = {f.name: getattr(record, f.name) for f in fields(record)}
    values["enterprise_id"] = record.enterprise_id or ""
    values["team_id"] = record.team_id or ""
    values["bot_scopes"] = ",".join(record.bot_scopes)
    values["user_scopes"] = ",".join(record.user_scopes)
    return values


def _record(row: SlackInstallation) -> InstallationRecord:
    values = {f.name: getattr(row, f.name) for f in fields(InstallationRecord)}
    values["enterprise_id"] = row.enterprise_id or None
    values["team_id"] = row.team_id or None
    values["bot_scopes"] = tuple(s for s in row.bot_scopes.split(",") if s)
    values["user_scopes"] = tuple(s for s in row.user_scopes.split(",") if s)
    return InstallationRecord(**values)
