"""Slash commands built from the command table: one command per group, actions as subcommands."""

from __future__ import annotations

import inspect
from collections.abc import Callable, Coroutine
from typing import Any

import discord
from discord import app_commands
from discord.app_commands import Choice, locale_str

from govbot.commands import COMMANDS, GROUPS, Command, Kind, Param, describe_key
from govbot.i18n import DEFAULT_LANGUAGE, catalog, translate

# The catalogs that Discord locales map to; other locales see the English default.
LOCALES = {discord.Locale.chinese: "zh-CN"}
DESCRIPTION_LIMIT = 100
NAME_LIMIT = 32

Invoke = Callable[[discord.Interaction, Command, dict[str, str]], Coroutine[Any, Any, None]]
Suggest = Callable[[discord.Interaction[Any], str], Coroutine[Any, Any, list[Choice[str]]]]
AppCommand = app_commands.Command[Any, ..., None] | app_commands.Group


class CatalogTranslator(app_commands.Translator):
    """Localise names and descriptions from the message catalogs (`key` of each locale_str)."""

    async def translate(
        self,
        string: locale_str,
        locale: discord.Locale,
        context: app_commands.TranslationContextTypes,
    ) -> str | None:
        """Return the catalog text for this locale, or None to keep the English default."""
        language = LOCALES.get(locale)
        key = string.extras.get("key")
        if language is None or key is None:
            return None
        text = catalog(language).get(key)
        if text is None:
            return None
        limit = NAME_LIMIT if key.startswith("discord.name.") else DESCRIPTION_LIMIT
        return text[:limit]


class TextChannelOption(app_commands.Transformer):
    """A channel option limited to channels people read messages in; passes the channel on."""

    @property
    def type(self) -> discord.AppCommandOptionType:
        """Declare a channel option."""
        return discord.AppCommandOptionType.channel

    @property
    def channel_types(self) -> list[discord.ChannelType]:
        """Offer text and announcement channels."""
        return [discord.ChannelType.text, discord.ChannelType.news]

    async def transform(self, interaction: discord.Interaction, value: Any, /) -> Any:
        """Keep the resolved channel as it is: only its id is needed."""
        return value


def _described(key: str) -> locale_str:
    return locale_str(translate(DEFAULT_LANGUAGE, key)[:DESCRIPTION_LIMIT], key=key)


def _named(word: str) -> locale_str:
    return locale_str(word, key=f"discord.name.{word}")


def _annotation(param: Param) -> Any:
    if param.kind is Kind.MEMBER:
        # In a guild the resolved option is a Member; User covers someone who has left.
        return discord.User
    if param.kind is Kind.CHANNEL:
        return TextChannelOption()
    if param.kind is Kind.INT:
        return int
    return str


def raw_value(param: Param, value: Any) -> str:
    """Write an option's value back in the text form the parser reads (`<@id|name>`, `<#id>`)."""
    if isinstance(value, discord.User | discord.Member):
        return f"<@{value.id}|{value.display_name}>"
    if param.kind is Kind.MEMBER:
        # Discord left the user out of the resolved data: discord.py hands over a bare Object.
        return f"<@{value.id}>"
    if param.kind is Kind.CHANNEL:
        return f"<#{value.id}>"
    return str(value)


def _choices(command: Command, param: Param) -> list[Choice[str]]:
    values = param.choices
    if not command.action and param.name == "group":
        values = tuple(g for g in GROUPS if g != command.group)
    return [Choice(name=value, value=value) for value in values]


def _must_give(param: Param) -> bool:
    return param.required and param.default is None


def _callback(command: Command, invoke: Invoke, suggest_bodies: Suggest) -> Any:
    async def callback(interaction: discord.Interaction, **options: Any) -> None:
        raw = {
            param.name: raw_value(param, options[param.name])
            for param in command.params
            if options.get(param.name) is not None
        }
        await invoke(interaction, command, raw)

    # discord.py reads the options from the signature, so give it one built from the table.
    interaction = inspect.Parameter(
        "interaction", inspect.Parameter.POSITIONAL_OR_KEYWORD, annotation=discord.Interaction
    )
    options = [
        inspect.Parameter(
            param.name,
            inspect.Parameter.KEYWORD_ONLY,
            annotation=_annotation(param),
            default=inspect.Parameter.empty if _must_give(param) else None,
        )
        for param in command.options
    ]
    callback.__signature__ = inspect.Signature([interaction, *options])  # type: ignore[attr-defined]
    if not command.options:
        return callback
    decorated: Any = app_commands.describe(
        **{p.name: _described(f"param.{p.name}") for p in command.options}
    )(callback)
    decorated = app_commands.rename(**{p.name: _named(p.name) for p in command.options})(decorated)
    choices = {p.name: _choices(command, p) for p in command.options}
    choices = {name: listed for name, listed in choices.items() if listed}
    if choices:
        decorated = app_commands.choices(**choices)(decorated)
    bodies = {p.name: suggest_bodies for p in command.options if p.kind is Kind.BODY}
    if bodies:
        decorated = app_commands.autocomplete(**bodies)(decorated)
    return decorated


def build_commands(invoke: Invoke, suggest_bodies: Suggest) -> list[AppCommand]:
    """Build the guild-only slash commands of every group in the table."""
    built: list[AppCommand] = []
    groups: dict[str, app_commands.Group] = {}
    for command in COMMANDS:
        callback = _callback(command, invoke, suggest_bodies)
        if not command.action:
            built.append(
                app_commands.Command(
                    name=_named(command.group),
                    description=_described(describe_key(command)),
                    callback=app_commands.guild_only(callback),
                )
            )
            continue
        group = groups.get(command.group)
        if group is None:
            group = app_commands.Group(
                name=_named(command.group),
                description=_described(f"group.{command.group}"),
                guild_only=True,
                allowed_contexts=app_commands.AppCommandContext(guild=True),
            )
            groups[command.group] = group
            built.append(group)
        group.add_command(
            app_commands.Command(
                name=_named(command.action),
                description=_described(describe_key(command)),
                callback=callback,
                parent=group,
            )
        )
    return built
