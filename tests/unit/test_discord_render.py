"""Rendering replies for Discord: long text, defused mentions, buttons, form pages."""

from __future__ import annotations

from pathlib import Path

import discord

from govbot.adapters.discord.permissions import (
    INVITE_PERMISSIONS,
    LATER_PERMISSIONS,
    invite_url,
    missing_to_post,
)
from govbot.adapters.discord.render import chunks, defuse, render
from govbot.adapters.discord.views import form_fits, form_modal, form_pages, submitted_values
from govbot.commands import parse_member
from govbot.replies import Button, Form, FormField, Reply, Select, SelectOption, Visibility
from govbot.services.base import MemberRef


def test_long_text_is_split_at_line_ends_within_the_limit() -> None:
    text = "\n".join(f"line {n}" for n in range(100))

    pieces = chunks(text, 50)

    assert all(len(p) <= 50 for p in pieces)
    assert "\n".join(pieces) == text


def test_a_line_longer_than_the_limit_is_cut() -> None:
    assert chunks("a" * 10, 4) == ["aaaa", "aaaa", "aa"]


def test_everyone_here_roles_and_users_are_defused() -> None:
    text = defuse("@everyone @here <@&123456789012345678> <@123456789012345678> <#42>")

    assert "@everyone" not in text
    assert "@here" not in text
    assert "<@&1" not in text
    assert "<@1" not in text
    assert "<#42>" in text


def test_buttons_ride_on_the_last_message_of_a_long_reply() -> None:
    reply = Reply("x\n" * 3000, Visibility.PRIVATE, buttons=[Button("Join", "body join quality")])

    messages = render(reply)

    assert len(messages) == 2
    assert messages[0].items == []
    assert [item.custom_id for item in messages[1].items] == ["gov:body join quality"]  # type: ignore[attr-defined]


def test_a_button_whose_command_is_too_long_is_left_out() -> None:
    reply = Reply("x", buttons=[Button("Long", "body join " + "q" * 100)])

    assert render(reply)[0].items == []


def test_a_nine_field_form_becomes_two_modals_of_five_and_four() -> None:
    form = Form(
        "Settings", "setup set", tuple(FormField(f"k{n}", f"k{n}", str(n)) for n in range(9))
    )

    first = form_modal(form, 0, "en", lambda f: f.value)
    second = form_modal(form, 1, "zh-CN", lambda f: f.value)

    assert form_pages(form) == 2
    assert (first.title, first.custom_id) == ("Settings (1/2)", "govform:0/2:setup set")
    assert [c.custom_id for c in first.children] == ["k0", "k1", "k2", "k3", "k4"]  # type: ignore[attr-defined]
    assert second.title == "Settings（2/2）"
    assert [c.custom_id for c in second.children] == ["k5", "k6", "k7", "k8"]  # type: ignore[attr-defined]


def test_submitted_values_are_read_from_rows_and_labels() -> None:
    data = {
        "custom_id": "govform:0/1:setup set",
        "components": [
            {"type": 1, "components": [{"type": 4, "custom_id": "timezone", "value": "UTC"}]},
            {"type": 18, "component": {"type": 4, "custom_id": "language", "value": "en"}},
        ],
    }

    assert submitted_values(data) == {"timezone": "UTC", "language": "en"}


def test_a_discord_mention_may_carry_the_display_name() -> None:
    assert parse_member("<@123|Ann > Bob>", "discord") == MemberRef("123", "Ann > Bob")
    assert parse_member("<@123>", "discord") == MemberRef("123")


GUIDE = Path(__file__).resolve().parents[2] / "deploy" / "discord-setup.md"


def test_the_invite_asks_for_view_send_and_embed_only() -> None:
    named = (1 << 10) | (1 << 11) | (1 << 14)  # View Channels, Send Messages, Embed Links

    assert INVITE_PERMISSIONS.value == named == 19456
    assert (
        discord.Permissions(view_channel=True, send_messages=True, embed_links=True)
        == INVITE_PERMISSIONS
    )
    assert invite_url(42).endswith("client_id=42&scope=bot+applications.commands&permissions=19456")


def test_later_features_add_threads_moderation_bans_and_events() -> None:
    later = (1 << 38) | (1 << 36) | (1 << 34) | (1 << 40) | (1 << 2) | (1 << 33)

    assert LATER_PERMISSIONS.value == INVITE_PERMISSIONS.value | later == 1468878834692


def test_the_setup_guide_states_the_values_the_code_asks_for() -> None:
    guide = GUIDE.read_text("utf-8")

    assert f"**{INVITE_PERMISSIONS.value}**" in guide
    assert f"permissions={INVITE_PERMISSIONS.value}" in guide
    assert f"**{LATER_PERMISSIONS.value}**" in guide


def test_a_channel_without_send_messages_is_named_as_not_postable() -> None:
    assert missing_to_post(discord.Permissions(view_channel=True)) == [
        "send_messages",
        "embed_links",
    ]
    assert missing_to_post(INVITE_PERMISSIONS) == []


MENU = Select(
    "vote cast 7",
    (SelectOption("Option A", "A"), SelectOption("Option B", "B"), SelectOption("C", "C")),
    placeholder="Approve any",
    max_values=3,
)


def test_a_select_becomes_a_menu_whose_id_carries_the_command() -> None:
    reply = Reply("Vote", Visibility.PUBLIC, select=MENU)

    (message,) = render(reply)

    (menu,) = message.items
    payload = menu.to_component_dict()  # type: ignore[attr-defined]
    assert payload["custom_id"] == "govsel:vote cast 7"
    assert [(o["label"], o["value"]) for o in payload["options"]] == [
        ("Option A", "A"),
        ("Option B", "B"),
        ("C", "C"),
    ]
    assert (payload["min_values"], payload["max_values"]) == (1, 3)
    assert payload["placeholder"] == "Approve any"


def test_a_menu_asks_for_no_more_picks_than_it_has_options() -> None:
    menu = Select("vote cast 7", (SelectOption("A", "A"), SelectOption("B", "B")), max_values=9)

    (item,) = render(Reply("Vote", select=menu))[0].items

    assert item.to_component_dict()["max_values"] == 2  # type: ignore[attr-defined]


def test_the_menu_fills_a_row_alone_and_buttons_share_the_rows_after_it() -> None:
    buttons = [Button(f"B{n}", f"vote cast 7 b{n}") for n in range(6)]
    reply = Reply("Vote", Visibility.PUBLIC, select=MENU, buttons=buttons)

    view = render(reply)[0].view()

    assert view is not None
    rows = view.to_components()
    assert [len(row["components"]) for row in rows] == [1, 5, 1]
    assert rows[0]["components"][0]["type"] == 3


def test_a_menu_discord_cannot_show_whole_is_left_out() -> None:
    many = tuple(SelectOption(str(n), str(n)) for n in range(26))
    long_value = (SelectOption("A", "a" * 101),)
    twice = (SelectOption("A", "A"), SelectOption("A again", "A"))

    for options, command in [
        (many, "vote cast 7"),
        (long_value, "vote cast 7"),
        (twice, "vote cast 7"),
        ((SelectOption("A", "A"),), "vote cast " + "7" * 100),
    ]:
        assert render(Reply("Vote", select=Select(command, options)))[0].items == []


def test_a_message_edited_later_is_one_message_whatever_its_length() -> None:
    for reply in (
        Reply("x\n" * 3000, Visibility.PUBLIC, key="proposal:7"),
        Reply("x\n" * 3000, Visibility.PUBLIC, updates="proposal:7"),
    ):
        (message,) = render(reply)
        description = message.embeds[0].description or ""
        assert len(description) == 4096
        assert description.endswith("…")


def test_an_update_without_controls_removes_them_when_edited() -> None:
    (message,) = render(Reply("Closed.", Visibility.PUBLIC, updates="proposal:7"))

    assert message.edit_kwargs()["view"] is None
    assert message.edit_kwargs()["embeds"][0].description == "Closed."


def test_a_form_whose_command_is_too_long_for_a_custom_id_does_not_fit() -> None:
    field = (FormField("reason", "Reason"),)

    assert form_fits(Form("Why?", "vote cast 7 -1", field))
    assert not form_fits(Form("Why?", "vote cast " + "7" * 90, field))
