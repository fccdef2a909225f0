"""The settings form as Discord modals: open, prefill, submit, errors, the second page."""

from __future__ import annotations

from typing import Any

from sqlmodel import select

from govbot.storage.models import Community
from tests.e2e import discord_fixtures as fx
from tests.e2e.discord_fixtures import (
    DiscordHarness,
    callback_data,
    custom_ids,
    embed_text,
    is_ephemeral,
    set_up_community,
)

fake, discord_store, harness = fx.fake, fx.discord_store, fx.harness

FIRST_PAGE = "govform:0/3:setup set"
SECOND_PAGE = "govform:1/3:setup set"
MODAL = 9


def _inputs(modal: dict[str, Any]) -> dict[str, dict[str, Any]]:
    found: dict[str, dict[str, Any]] = {}
    for row in modal["components"]:
        for component in row.get("components") or [row.get("component") or {}]:
            if component.get("type") == 4:
                found[component["custom_id"]] = component
    return found


def _community(harness: DiscordHarness) -> dict[str, Any]:
    with harness.store.unit_of_work() as session:
        return session.exec(select(Community)).one().model_dump()


async def _open_form(harness: DiscordHarness) -> dict[str, Any]:
    record = await harness.slash("setup", "set", user=harness.fake.steward)
    call = await harness.answer(record)
    assert call.body["type"] == MODAL
    return callback_data(call)


async def test_setup_set_without_options_opens_the_settings_modal_prefilled(
    harness: DiscordHarness,
) -> None:
    await set_up_community(harness)

    modal = await _open_form(harness)

    assert modal["custom_id"] == FIRST_PAGE
    assert modal["title"] == "govbot settings (1/3)"
    inputs = _inputs(modal)
    assert list(inputs) == ["announce", "moderation", "disputes", "language", "timezone"]
    assert inputs["language"]["value"] == "en"
    assert inputs["timezone"]["value"] == "UTC"
    assert inputs["timezone"]["placeholder"] == "e.g. Europe/Berlin"
    assert inputs["announce"].get("value") is None  # not set yet: an empty input


async def test_submitting_the_modal_changes_the_settings_and_offers_the_rest(
    harness: DiscordHarness,
) -> None:
    await set_up_community(harness)
    fake = harness.fake
    await _open_form(harness)

    submit = await fake.push_interaction(
        fake.build_modal_submit(
            FIRST_PAGE,
            user=fake.steward,
            values={"announce": "#announcements", "timezone": "Europe/Berlin"},
        )
    )

    data = callback_data(await harness.answer(submit))
    assert is_ephemeral(data)
    assert "Settings changed: announce, timezone." in embed_text(data)
    assert custom_ids(data) == [SECOND_PAGE]
    assert data["components"][0]["components"][0]["label"] == "More fields (2/3)"
    community = _community(harness)
    assert community["timezone"] == "Europe/Berlin"
    assert community["announce_channel"] == str(harness.announcements.id)

    press = await fake.push_interaction(fake.build_component(SECOND_PAGE, user=fake.steward))
    second = await harness.answer(press)
    assert second.body["type"] == MODAL
    inputs = _inputs(callback_data(second))
    assert list(inputs) == [
        "level1_days",
        "level2_days",
        "public_dispute_counts",
        "leaderboard",
        "weekly_anchor",
    ]
    assert inputs["level1_days"]["value"] == "7"

    done = await fake.push_interaction(
        fake.build_modal_submit(SECOND_PAGE, user=fake.steward, values={"level1_days": "10"})
    )
    done_data = callback_data(await harness.answer(done))
    assert "Settings changed: level1_days." in embed_text(done_data)
    assert custom_ids(done_data) == ["govform:2/3:setup set"]  # the last page: remind
    assert _community(harness)["level1_days"] == 10

    reopened = await _open_form(harness)
    assert _inputs(reopened)["announce"]["value"] == "#announcements"


async def test_a_bad_value_in_the_modal_is_refused_privately(harness: DiscordHarness) -> None:
    await set_up_community(harness)
    fake = harness.fake
    await _open_form(harness)

    submit = await fake.push_interaction(
        fake.build_modal_submit(FIRST_PAGE, user=fake.steward, values={"timezone": "Mars/Olympus"})
    )

    data = callback_data(await harness.answer(submit))
    assert is_ephemeral(data)
    assert "timezone cannot be “Mars/Olympus”" in embed_text(data)
    assert "Europe/Berlin" in embed_text(data)
    assert custom_ids(data) == []
    assert _community(harness)["timezone"] == "UTC"


async def test_a_plain_member_gets_no_settings_form(harness: DiscordHarness) -> None:
    await set_up_community(harness)

    record = await harness.slash("setup", "set", user=harness.fake.member)

    call = await harness.answer(record)
    assert call.body["type"] == 4
    assert is_ephemeral(callback_data(call))
    assert "You do not have permission" in embed_text(callback_data(call))
