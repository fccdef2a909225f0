"""Every reply exists in every language, with the same placeholders."""

from __future__ import annotations

import string

import pytest

from govbot.commands import COMMANDS, GROUPS, describe_key
from govbot.i18n import LANGUAGES, catalog, translate


def _placeholders(text: str) -> set[str]:
    return {name for _, name, _, _ in string.Formatter().parse(text) if name}


def test_every_message_exists_in_every_language() -> None:
    keys = {lang: set(catalog(lang)) for lang in LANGUAGES}
    everything = set().union(*keys.values())
    for lang, present in keys.items():
        assert everything - present == set(), f"missing in {lang}"


@pytest.mark.parametrize("key", sorted(catalog("en")))
def test_translations_use_the_same_placeholders(key: str) -> None:
    expected = _placeholders(catalog("en")[key])
    for lang in LANGUAGES:
        assert _placeholders(catalog(lang)[key]) == expected, f"{lang}: {key}"


def test_every_command_group_and_parameter_is_described() -> None:
    english = catalog("en")
    for command in COMMANDS:
        assert describe_key(command) in english
        for param in command.params:
            assert f"param.{param.name}" in english
    for group in GROUPS:
        assert f"group.{group}" in english


def test_simplified_chinese_replies_are_chinese() -> None:
    assert "权限" in translate("zh-CN", "error.permission_admin")


def test_an_unknown_language_falls_back_to_english() -> None:
    assert translate("xx", "body.open") == "open"
