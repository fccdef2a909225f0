"""The app manifest a newcomer pastes stays in step with what the Slack front end serves."""

from __future__ import annotations

import re
from pathlib import Path

from govbot.adapters.slack.app import (
    BOT_SCOPES,
    EVENTS_PATH,
    REDIRECT_PATH,
)

MANIFEST = Path(__file__).parents[2] / "deploy" / "slack-manifest.yaml"


def _list_under(text: str, key: str) -> list[str]:
    """Read the `- item` lines of a YAML block list that follows `key:`."""
    match = re.search(rf"^(\s*){key}:\n((?:\1\s+- .*\n)+)", text, re.MULTILINE)
    assert match is not None, key
    return [line.strip()[2:] for line in match.group(2).splitlines()]


def test_the_manifest_asks_for_exactly_the_scopes_the_front_end_uses() -> None:
    assert _list_under(MANIFEST.read_text(), "bot") == list(BOT_SCOPES)


def test_the_manifest_subscribes_to_the_events_the_front_end_handles() -> None:
    events = _list_under(MANIFEST.read_text(), "bot_events")
    assert events == ["app_home_opened", "app_uninstalled", "tokens_revoked"]


def test_the_manifest_points_every_request_at_the_served_paths() -> None:
    text = MANIFEST.read_text()
    urls = re.findall(r"(?:url|request_url): (\S+)", text)
    assert urls and set(urls) == {f"https://YOUR-HOST{EVENTS_PATH}"}
    assert f"- https://YOUR-HOST{REDIRECT_PATH}" in text
    assert "command: /gov" in text
    assert "should_escape: true" in text
    # The message shortcut comes back with reporting; until then neither side offers it.
    assert "shortcuts:" not in text
    assert "callback_id:" not in text
    assert "home_tab_enabled: true" in text
