"""Slack installations and OAuth states in govbot's own tables, on SQLite and Postgres."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from govbot.services import slack_installations as installs
from govbot.services.slack_installations import InstallationRecord
from govbot.storage.db import Store

T0 = datetime(2026, 1, 5, 9, 0, tzinfo=UTC)


def _record(user: str, token: str, at: datetime, team: str = "T1") -> InstallationRecord:
    return InstallationRecord(
        user_id=user,
        installed_at=at,
        team_id=team,
        team_name="Team",
        bot_token=token,
        bot_id="B1",
        bot_user_id="U0BOT",
        bot_scopes=("commands", "chat:write"),
    )


def test_the_latest_installation_answers_for_the_workspace(store: Store) -> None:
    installs.save_installation(store, _record("U1", "xoxb-old", T0))
    installs.save_installation(store, _record("U2", "xoxb-new", T0 + timedelta(days=1)))

    latest = installs.find_installation(store, enterprise_id=None, team_id="T1")
    first = installs.find_installation(store, enterprise_id=None, team_id="T1", user_id="U1")

    assert latest is not None and latest.bot_token == "xoxb-new"
    assert latest.bot_scopes == ("commands", "chat:write")
    assert latest.enterprise_id is None
    assert first is not None and first.bot_token == "xoxb-old"
    assert installs.bot_token_for(store, "T1") == "xoxb-new"
    assert installs.find_installation(store, enterprise_id=None, team_id="T2") is None


def test_reinstalling_replaces_the_installers_row(store: Store) -> None:
    installs.save_installation(store, _record("U1", "xoxb-a", T0))
    installs.save_installation(store, _record("U1", "xoxb-b", T0 + timedelta(hours=1)))

    found = installs.find_installation(store, enterprise_id=None, team_id="T1", user_id="U1")

    assert found is not None and found.bot_token == "xoxb-b"


def test_tokens_never_show_in_a_records_repr() -> None:
    record = _record("U1", "xoxb-secret", T0)

    assert "xoxb-secret" not in repr(record)


def test_forgetting_the_bot_and_the_installations(store: Store) -> None:
    installs.save_installation(store, _record("U1", "xoxb-a", T0))
    installs.save_installation(store, _record("U1", "xoxb-c", T0, team="T3"))

    installs.forget_bot(store, enterprise_id=None, team_id="T1")
    assert installs.bot_token_for(store, "T1") is None
    assert installs.bot_token_for(store, "T3") == "xoxb-c"

    installs.forget_installations(store, enterprise_id=None, team_id="T1")
    assert installs.find_installation(store, enterprise_id=None, team_id="T1") is None
    assert installs.find_installation(store, enterprise_id=None, team_id="T3") is not None


def test_an_oauth_state_is_good_once_and_only_while_fresh(store: Store) -> None:
    state = installs.issue_oauth_state(store, T0)
    stale = installs.issue_oauth_state(store, T0)

    assert installs.consume_oauth_state(store, state, T0 + timedelta(minutes=5))
    assert not installs.consume_oauth_state(store, state, T0 + timedelta(minutes=5))
    assert not installs.consume_oauth_state(store, stale, T0 + timedelta(minutes=11))
    assert not installs.consume_oauth_state(store, "never-issued", T0)
