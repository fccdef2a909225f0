"""The /gov text grammar of COMMANDS.md."""

from __future__ import annotations

import contextlib
from datetime import UTC, datetime

import pytest
from hypothesis import given
from hypothesis import strategies as st

from govbot.commands import COMMANDS, UsageError, convert, find, parse, tokenize
from govbot.domain.durations import Duration
from govbot.services.base import ChannelRef, MemberRef

NOW = datetime(2026, 1, 5, 9, 0, tzinfo=UTC)


def test_positionals_come_first_then_keys_in_any_order() -> None:
    inv = parse("/gov body add committee @wei until:1y role:chair", NOW, "console")
    assert inv.command.name == "body add"
    assert inv.args.values["body"] == "committee"
    assert inv.args.values["member"] == MemberRef("wei", "wei")
    assert inv.args.values["role"] == "chair"
    assert inv.args.values["until"] == datetime(2027, 1, 5, 9, 0, tzinfo=UTC)


def test_a_value_is_split_from_its_key_at_the_first_colon_only() -> None:
    inv = parse("/gov body add tsc @a until:2026-12-01T17:00Z", NOW, "console")
    assert inv.args.values["until"] == datetime(2026, 12, 1, 17, 0, tzinfo=UTC)


def test_quoted_values_keep_spaces_and_escaped_quotes() -> None:
    assert tokenize('title:"A \\"big\\" idea" x') == ['title:A "big" idea', "x"]
    inv = parse(
        '/gov body create name:wg kind:custom title:"Working group on docs"', NOW, "console"
    )
    assert inv.args.values["title"] == "Working group on docs"


def test_full_width_punctuation_reads_as_ascii() -> None:
    inv = parse("/gov body create name：wg kind：custom title：“二 组”", NOW, "console")
    assert inv.args.values["name"] == "wg"
    assert inv.args.values["title"] == "二 组"


def test_gov_prefix_is_optional_and_words_are_case_insensitive() -> None:
    assert parse("BODY List", NOW, "console").command.name == "body list"


@pytest.mark.parametrize(
    ("text", "key"),
    [
        ("/gov body add tsc", "error.missing_value"),
        ("/gov body add tsc @a colour:red", "error.unknown_key"),
        ("/gov body add tsc @a role:king", "error.bad_value"),
        ("/gov body add tsc @a role:chair role:member", "error.repeated_key"),
        ("/gov body add tsc @a extra", "error.extra_value"),
        ("/gov body add tsc @a until:yesterday", "error.bad_value"),
        ("/gov body add tsc wei", "error.bad_value"),
        ("/gov body term tsc length:3x", "error.bad_value"),
        ("/gov body frobnicate", "error.unknown_command"),
        ('/gov body create name:"x', "error.unclosed_quote"),
        ("/gov setup set timezone:Mars/Olympus", "error.bad_value"),
        ("/gov setup set level1_days:-3", "error.bad_value"),
        ("/gov audit export", "error.missing_value"),
    ],
)
def test_bad_input_is_a_usage_error_naming_the_problem(text: str, key: str) -> None:
    with pytest.raises(UsageError) as caught:
        parse(text, NOW, "console")
    assert caught.value.key == key


def test_an_unknown_command_points_at_the_nearest_one() -> None:
    with pytest.raises(UsageError) as caught:
        parse("/gov body ad tsc", NOW, "console")
    assert caught.value.command is not None
    assert caught.value.command.name == "body add"


@pytest.mark.parametrize(
    ("platform", "text", "expected"),
    [
        ("discord", "<@123>", MemberRef("123")),
        ("discord", "<@!123>", MemberRef("123")),
        ("slack", "<@U0ABC|wei>", MemberRef("U0ABC", "wei")),
        ("slack", "<@W0ABC>", MemberRef("W0ABC")),
        ("console", "@wei", MemberRef("wei", "wei")),
    ],
)
def test_members_are_read_in_each_platforms_mention_form(
    platform: str, text: str, expected: MemberRef
) -> None:
    assert parse(f"/gov body remove tsc {text}", NOW, platform).args.values["member"] == expected


def test_a_bare_name_is_not_a_member_on_chat_platforms() -> None:
    with pytest.raises(UsageError):
        parse("/gov body remove tsc @wei", NOW, "slack")


@pytest.mark.parametrize(
    ("platform", "text", "expected"),
    [("discord", "<#42>", "42"), ("slack", "<#C01|gov>", "C01"), ("console", "#gov", "gov")],
)
def test_channels_are_read_in_each_platforms_form(platform: str, text: str, expected: str) -> None:
    args = parse(f"/gov setup set announce:{text}", NOW, platform).args
    assert args.values["announce"] == ChannelRef(expected)


def test_durations_cover_minutes_to_calendar_years() -> None:
    inv = parse("/gov body term quality length:6mo", NOW, "console")
    assert inv.args.values["length"] == Duration(months=6)


def test_help_takes_an_optional_group() -> None:
    assert parse("/gov help body", NOW, "console").args.values["group"] == "body"
    assert parse("/gov help", NOW, "console").command.name == "help"
    assert parse("", NOW, "console").command.name == "help"


@given(st.text(alphabet=st.characters(blacklist_categories=("Cs",)), max_size=80))
def test_the_parser_never_fails_with_anything_but_a_usage_error(text: str) -> None:
    with contextlib.suppress(UsageError):
        parse("/gov body add " + text, NOW, "console")


@given(st.lists(st.text(alphabet='abc xyz:"', min_size=1, max_size=12), min_size=1, max_size=5))
def test_quoting_any_value_gives_it_back_whole(values: list[str]) -> None:
    quoted = " ".join('"' + v.replace('"', '\\"') + '"' for v in values)
    assert tokenize(quoted) == values


def test_usage_lines_match_the_command_surface_contract() -> None:
    usage = {c.name: c.usage() for c in COMMANDS}
    assert usage["help"] == "/gov help [group]"
    assert usage["setup init"] == "/gov setup init [language:en|zh-CN] [timezone:Area/City]"
    assert usage["body create"] == (
        "/gov body create name:<slug> kind:custom [title:<text>] [open:yes|no]"
    )
    assert usage["body add"] == ("/gov body add <body> <member> [role:member|chair] [until:<time>]")
    assert usage["body show"] == "/gov body show <body> [history:yes]"
    assert usage["body term"] == "/gov body term <body> length:<duration>"
    assert usage["audit export"] == "/gov audit export format:json|csv"
    assert usage["setup set"] == (
        "/gov setup set [announce:<channel>] [moderation:<channel>] [disputes:<channel>] "
        "[language:en|zh-CN] [timezone:Area/City] [level1_days:<n>] [level2_days:<n>] "
        "[public_dispute_counts:yes|no] [leaderboard:yes|no] [weekly_anchor:yes|no] "
        "[remind:<duration>]"
    )
    assert usage["proposal create"] == (
        "/gov proposal create [title:<text>] [text:<text>] [electorate:community|<body>] "
        "[method:majority|supermajority|consent|sign-off|approval|ranked|irv] "
        '[options:"A|B|C"] [closes:<time>] [quorum:<percent>|<count>] '
        "[threshold:<fraction>] [seats:<n>] [secret:yes|no] [hide_results:yes|no] [link:<url>]"
    )
    assert usage["vote cast"] == "/gov vote cast <id> [<choice>] [reason:<text>]"
    assert usage["concern withdraw"] == "/gov concern withdraw <id> <concern-id>"


def test_discord_usage_names_every_option_as_discord_shows_it() -> None:
    usage = {c.name: c.usage("discord") for c in COMMANDS}
    assert usage["body join"] == "/body join body:<body>"
    assert usage["body add"] == (
        "/body add body:<body> member:<member> [role:member|chair] [until:<time>]"
    )
    assert usage["help"] == "/help [group:<group>]"
    zh = {c.name: c.usage("discord", "zh-CN") for c in COMMANDS}
    assert zh["body join"] == "/机构 加入 机构:<body>"


def test_a_group_alone_asks_for_that_groups_commands() -> None:
    inv = parse("/gov body", NOW, "console")
    assert inv.command.name == "help"
    assert inv.args.values["group"] == "body"


def test_fixed_values_time_zones_and_keys_ignore_letter_case() -> None:
    assert parse("/gov body show tsc HISTORY:No", NOW, "console").args.values["history"] is False
    args = parse("/gov setup set language:zh-cn timezone:europe/berlin", NOW, "console").args
    assert args.values == {"language": "zh-CN", "timezone": "Europe/Berlin"}
    assert parse("/gov help Body", NOW, "console").args.values["group"] == "body"


def test_kind_may_be_left_out_when_custom_is_the_only_choice() -> None:
    assert parse("/gov body create name:wg", NOW, "console").args.values["kind"] == "custom"


def test_a_bad_value_is_explained_with_an_example_in_the_callers_language() -> None:
    with pytest.raises(UsageError) as caught:
        parse("/gov body add tsc @a until:soonish", NOW, "console")
    text = caught.value.message("en", "console")
    assert "until cannot be “soonish”" in text
    assert "2027-01-31T17:00Z" in text and "6mo" in text
    assert "/gov body add <body> <member>" in text
    assert "(expected" not in text
    discord = caught.value.message("zh-CN", "discord")
    assert "时长" in discord and "/机构 添加 机构:<body>" in discord


@pytest.mark.parametrize(
    "value", ["until:999999y", "until:999999w", "until:9999-12-31T23:59:59-14:00"]
)
def test_absurd_times_are_usage_errors_not_crashes(value: str) -> None:
    with pytest.raises(UsageError) as caught:
        parse(f"/gov body add tsc @a {value}", NOW, "console")
    assert caught.value.key == "error.bad_value"


def test_long_and_control_character_values_are_refused_alike_everywhere() -> None:
    with pytest.raises(UsageError) as caught:
        parse('/gov body create name:wg title:"' + "x" * 101 + '"', NOW, "console")
    assert caught.value.key == "error.too_long"
    with pytest.raises(UsageError) as caught:
        parse("/gov body create name:wg title:a\x00b", NOW, "console")
    assert caught.value.key == "error.control_character"


def test_an_error_quotes_only_a_short_prefix_of_what_was_typed() -> None:
    with pytest.raises(UsageError) as caught:
        parse("/gov body add tsc @a role:" + "k" * 100_000, NOW, "console")
    assert len(caught.value.message("en", "console")) < 1000


def test_a_forms_more_field_counts_as_typed_pairs_and_the_forms_own_fields_win() -> None:
    command = find("proposal", "create")
    assert command is not None
    raw = {"title": "Pick a logo", "method": "approval", "more": 'options:"A|B" method:ranked'}

    args = convert(command, raw, NOW, "console")

    assert args.values["options"] == "A|B"
    assert args.values["method"] == "approval"
    assert "more" not in args.values


def test_a_bad_pair_in_a_forms_more_field_is_a_usage_error() -> None:
    command = find("proposal", "create")
    assert command is not None
    with pytest.raises(UsageError):
        convert(command, {"title": "x", "more": "colour:red"}, NOW, "console")


def test_a_bad_value_typed_in_a_forms_more_field_is_reported_at_that_field() -> None:
    command = find("proposal", "create")
    assert command is not None
    with pytest.raises(UsageError) as bad_value:
        convert(command, {"title": "x", "more": "closes:soon"}, NOW, "console")
    with pytest.raises(UsageError) as bad_key:
        convert(command, {"title": "x", "more": "colour:red"}, NOW, "console")
    with pytest.raises(UsageError) as own_field:
        convert(command, {"title": "x", "method": "often", "more": "closes:2d"}, NOW, "console")

    assert bad_value.value.field == "more"
    assert bad_key.value.field == "more"
    assert own_field.value.field == "method"
