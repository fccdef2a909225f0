"""Slack rendering: escaping, Block Kit limits, forms read back, exports that are too long."""

from __future__ import annotations

from govbot.adapters.slack import render
from govbot.commands import find
from govbot.replies import Attachment, Button, Form, FormField, Reply, Select, SelectOption


def test_mentions_and_broadcasts_from_users_are_escaped() -> None:
    text = "hi <!channel> <!here|here> <!everyone> <@U123> <@U123|bob> & <https://x|y>"

    escaped = render.escape(text)

    assert "<" not in escaped and ">" not in escaped
    assert escaped.startswith("hi &lt;!channel&gt; &lt;!here|here&gt;")
    assert "&amp;" in escaped


def test_channel_links_written_by_services_stay_links() -> None:
    assert render.escape("see <#C0123> & <#C0123|name>") == "see <#C0123> &amp; &lt;#C0123|name&gt;"


def test_a_long_reply_is_cut_at_line_ends_into_sections_slack_accepts() -> None:
    text = "\n".join(f"line {n} <{n}>" for n in range(1000))

    blocks = render.message(Reply(text), "en")["blocks"]

    assert len(blocks) > 1
    assert all(len(b["text"]["text"]) <= render.SECTION_LIMIT for b in blocks)
    joined = "\n".join(b["text"]["text"] for b in blocks)
    assert joined == render.escape(text)


def test_one_very_long_line_is_still_split_to_fit() -> None:
    blocks = render.message(Reply("&" * 10_000), "en")["blocks"]

    assert all(len(b["text"]["text"]) <= render.SECTION_LIMIT for b in blocks)
    assert "".join(b["text"]["text"] for b in blocks) == "&amp;" * 10_000


def test_buttons_carry_their_command_and_a_slack_style() -> None:
    reply = Reply(
        "x", buttons=[Button("Join", "body join quality"), Button("No", "n", "secondary")]
    )

    actions = render.message(reply, "en")["blocks"][-1]

    assert actions["type"] == "actions"
    first, second = actions["elements"]
    assert (first["action_id"], first["value"], first["style"]) == (
        "gov_button_0",
        "body join quality",
        "primary",
    )
    assert "style" not in second
    assert render.BUTTON_PATTERN.match(second["action_id"])


def test_an_export_too_long_for_slack_says_where_to_get_it_instead() -> None:
    content = "x" * (render.EXPORT_LIMIT + 1)
    reply = Reply("Audit chain exported as csv.", attachment=Attachment("a.csv", content))

    shown = render.message(reply, "en")

    assert "```" not in str(shown["blocks"])
    assert "govbot audit export" in shown["text"]
    assert str(len(content)) in shown["text"]


def test_a_form_becomes_a_modal_and_its_submission_becomes_text_values() -> None:
    form = Form(
        "govbot settings",
        "setup set",
        (
            FormField("announce", "announce", value="C0ANN"),
            FormField("leaderboard", "leaderboard", value="yes"),
            FormField("level1_days", "level1_days", value="7", hint="1 to 365"),
        ),
        submit="Save",
    )

    view = render.modal(form, find("setup", "set"), {"command": "setup set"}, "Cancel")

    announce, leaderboard, days = view["blocks"]
    assert announce["element"]["initial_conversation"] == "C0ANN"
    assert leaderboard["element"]["initial_option"]["value"] == "yes"
    assert days["element"]["initial_value"] == "7"
    assert days["hint"]["text"] == "1 to 365"
    submitted = render.form_values(
        {
            "announce": {"announce": {"selected_conversation": "C0NEW"}},
            "leaderboard": {"leaderboard": {"selected_option": {"value": "no"}}},
            "level1_days": {"level1_days": {"value": " 9 "}},
            "timezone": {"timezone": {"value": None}},
        }
    )
    assert submitted == {"announce": "<#C0NEW>", "leaderboard": "no", "level1_days": "9"}


def test_text_slack_already_escaped_is_read_back_as_typed() -> None:
    typed = render.unescape('body create name:rd title:"R&amp;D &lt;team&gt;" <@U0ADA|ada>')

    assert typed == 'body create name:rd title:"R&D <team>" <@U0ADA|ada>'
    assert render.message(Reply("R&D <team>"), "en")["text"] == "R&amp;D &lt;team&gt;"


def test_member_text_cannot_reformat_the_bots_own_wording() -> None:
    title = "*loud* `tick _it_ ~gone~"
    reply = Reply(f"Body x ({title}) created. Type `/gov help` in any channel.")

    shown = render.message(reply, "en")

    for text in (shown["text"], shown["blocks"][0]["text"]["text"]):
        assert "`/gov help`" in text  # govbot's own code span stays code
        assert text.count("`") == 2
        for marker in ("*loud*", "_it_", "~gone~"):
            assert marker not in text
        assert "\u2217loud\u2217" in text


def test_markers_inside_words_and_in_exports_are_left_alone() -> None:
    reply = Reply("level1_days: 7", attachment=Attachment("audit.json", '[{"a": "`x`"}]'))

    shown = render.message(reply, "en")

    assert shown["text"] == "level1_days: 7"
    assert '"`x`"' in shown["blocks"][1]["text"]["text"]


MENU = Select(
    "vote cast 7",
    (SelectOption("Option A", "A"), SelectOption("Option B", "B"), SelectOption("C", "C")),
    placeholder="Approve any",
    max_values=2,
)


def test_a_select_of_several_picks_is_a_multi_select_whose_block_carries_the_command() -> None:
    blocks = render.message(Reply("Vote", select=MENU, buttons=[Button("No", "n")]), "en")["blocks"]

    menu_block, buttons = blocks[-2:]
    assert menu_block["block_id"] == "gov_select:vote cast 7"
    (menu,) = menu_block["elements"]
    assert (menu["type"], menu["action_id"], menu["max_selected_items"]) == (
        "multi_static_select",
        "gov_select",
        2,
    )
    assert [(o["text"]["text"], o["value"]) for o in menu["options"]] == [
        ("Option A", "A"),
        ("Option B", "B"),
        ("C", "C"),
    ]
    assert menu["placeholder"]["text"] == "Approve any"
    assert buttons["block_id"] == "gov_buttons"


def test_a_select_of_one_pick_is_a_static_select() -> None:
    menu = Select("vote cast 7", (SelectOption("A", "A"), SelectOption("B", "B")))

    block = render.select_block(menu)

    assert block is not None
    assert block["elements"][0]["type"] == "static_select"
    assert "max_selected_items" not in block["elements"][0]
    assert "placeholder" not in block["elements"][0]


def test_a_menu_slack_cannot_show_whole_is_left_out() -> None:
    many = tuple(SelectOption(str(n), str(n)) for n in range(101))
    long_value = (SelectOption("A", "a" * 151),)

    assert render.select_block(Select("vote cast 7", many)) is None
    assert render.select_block(Select("vote cast 7", long_value)) is None
    assert render.select_block(Select("vote cast " + "7" * 250, MENU.options)) is None
    assert render.select_block(Select("vote cast 7", ())) is None


def test_a_pick_is_read_back_as_the_command_and_the_picked_values() -> None:
    multi = {"selected_options": [{"value": "A"}, {"value": "C"}]}
    single = {"selected_option": {"value": "B"}}

    assert render.select_command("gov_select:vote cast 7") == "vote cast 7"
    assert render.select_command("gov_buttons") is None
    assert render.select_command("gov_select:") is None
    assert render.picked_values(multi) == ["A", "C"]
    assert render.picked_values(single) == ["B"]
    assert render.picked_values({"selected_options": []}) == []
