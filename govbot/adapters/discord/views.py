"""Buttons and modals whose custom ids carry everything needed, so they work after a restart."""

from __future__ import annotations

import math
import re
from collections.abc import Callable, Iterator, Mapping
from typing import Any, Protocol, Self, cast

import discord

from govbot.adapters.forms import picked
from govbot.i18n import translate
from govbot.replies import Button, Form, FormField, Select

CUSTOM_ID_LIMIT = 100
MODAL_INPUTS = 5  # Discord's limit of inputs in one modal
TITLE_LIMIT = 45
LABEL_LIMIT = 45
PLACEHOLDER_LIMIT = 100
BUTTON_LABEL_LIMIT = 80
VALUE_LIMIT = 4000
# A select menu: at most 25 options, each label and value at most 100 characters.
SELECT_OPTIONS = 25
OPTION_LIMIT = 100
SELECT_PLACEHOLDER_LIMIT = 150

_STYLES = {
    "primary": discord.ButtonStyle.primary,
    "secondary": discord.ButtonStyle.secondary,
    "danger": discord.ButtonStyle.danger,
}
FORM_ID = re.compile(r"govform:(?P<page>\d+)/(?P<pages>\d+):(?P<command>.+)")


class Presses(Protocol):
    """What the client does when a govbot button is pressed."""

    async def press(self, interaction: discord.Interaction, command: str) -> None:
        """Run a button's command (text grammar) as the presser."""

    async def open_form(
        self, interaction: discord.Interaction, command: str, page: int, pages: int
    ) -> None:
        """Open one page of a command's form."""


class HasPresses(Protocol):
    """A client that knows what to do with govbot's buttons."""

    presses: Presses


def _presses(interaction: discord.Interaction) -> Presses:
    return cast(HasPresses, interaction.client).presses


class CommandButton(
    discord.ui.DynamicItem[discord.ui.Button[discord.ui.View]], template=r"gov:(?P<command>.+)"
):
    """A button that runs a command of the text grammar as whoever presses it."""

    def __init__(self, command: str, label: str = "", style: str = "primary") -> None:
        super().__init__(
            discord.ui.Button(
                label=label[:BUTTON_LABEL_LIMIT] or command[:BUTTON_LABEL_LIMIT],
                style=_STYLES.get(style, discord.ButtonStyle.primary),
                custom_id=f"gov:{command}",
            )
        )
        self.command = command

    @classmethod
    async def from_custom_id(
        cls,
        interaction: discord.Interaction,
        item: discord.ui.Item[Any],
        match: re.Match[str],
        /,
    ) -> Self:
        """Rebuild the button from a pressed custom id."""
        return cls(match["command"])

    async def callback(self, interaction: discord.Interaction) -> None:
        """Run the command as the presser."""
        await _presses(interaction).press(interaction, self.command)


class FormButton(discord.ui.DynamicItem[discord.ui.Button[discord.ui.View]], template=FORM_ID):
    """A button that opens one page of a command's form (a modal cannot follow a modal)."""

    def __init__(self, command: str, page: int, pages: int, label: str) -> None:
        super().__init__(
            discord.ui.Button(
                label=label[:BUTTON_LABEL_LIMIT],
                style=discord.ButtonStyle.secondary,
                custom_id=form_id(command, page, pages),
            )
        )
        self.command = command
        self.page = page
        self.pages = pages

    @classmethod
    async def from_custom_id(
        cls,
        interaction: discord.Interaction,
        item: discord.ui.Item[Any],
        match: re.Match[str],
        /,
    ) -> Self:
        """Rebuild the button from a pressed custom id."""
        return cls(match["command"], int(match["page"]), int(match["pages"]), "")

    async def callback(self, interaction: discord.Interaction) -> None:
        """Open the form page."""
        await _presses(interaction).open_form(interaction, self.command, self.page, self.pages)


class CommandSelect(
    discord.ui.DynamicItem[discord.ui.Select[discord.ui.View]], template=r"govsel:(?P<command>.+)"
):
    """A select menu whose picks run `<command> <v1>,<v2>` as whoever picks."""

    def __init__(self, command: str, menu: Select | None = None) -> None:
        options = menu.options if menu is not None else ()
        super().__init__(
            discord.ui.Select(
                custom_id=f"govsel:{command}",
                placeholder=(menu.placeholder if menu else "")[:SELECT_PLACEHOLDER_LIMIT] or None,
                min_values=1,
                max_values=max(1, min(menu.max_values if menu else 1, len(options))),
                options=[
                    discord.SelectOption(label=option.label[:OPTION_LIMIT], value=option.value)
                    for option in options
                ],
            )
        )
        self.command = command

    @classmethod
    async def from_custom_id(
        cls,
        interaction: discord.Interaction,
        item: discord.ui.Item[Any],
        match: re.Match[str],
        /,
    ) -> Self:
        """Rebuild the menu from a picked custom id (the picks come with the interaction)."""
        return cls(match["command"])

    async def callback(self, interaction: discord.Interaction) -> None:
        """Run the command with the picked values as the picker."""
        data: Mapping[str, Any] = interaction.data or {}
        values = [str(value) for value in data.get("values") or []]
        await _presses(interaction).press(interaction, picked(self.command, values))


def command_select(menu: Select) -> CommandSelect | None:
    """Turn a reply's select into a Discord menu; None when Discord could not show it whole.

    A menu cut short would hide choices from voters, so one that does not fit (more than 25
    options, a value over 100 characters, a command too long to carry) is left out and the
    reply's text, which names the command, stays the way to vote.
    """
    values = [option.value for option in menu.options]
    if (
        not values
        or len(values) > SELECT_OPTIONS
        or len(set(values)) != len(values)
        or any(not value or len(value) > OPTION_LIMIT for value in values)
        or len(f"govsel:{menu.command}") > CUSTOM_ID_LIMIT
    ):
        return None
    return CommandSelect(menu.command, menu)


def command_button(button: Button) -> CommandButton | None:
    """Turn a reply's button into a Discord button; None when its command is too long to carry."""
    if len(f"gov:{button.command}") > CUSTOM_ID_LIMIT:
        return None
    return CommandButton(button.command, button.label, button.style)


def form_id(command: str, page: int, pages: int) -> str:
    """Return the custom id of a form page: `govform:<page>/<pages>:<command>`."""
    return f"govform:{page}/{pages}:{command}"


def form_fits(form: Form) -> bool:
    """Say whether a form's command text fits the custom ids of its modals and button."""
    pages = form_pages(form)
    return len(form_id(form.command, pages - 1, pages)) <= CUSTOM_ID_LIMIT


def form_pages(form: Form) -> int:
    """Count the modals a form needs at five inputs each."""
    return max(1, math.ceil(len(form.fields) / MODAL_INPUTS))


def form_modal(
    form: Form, page: int, language: str, shown: Callable[[FormField], str]
) -> discord.ui.Modal:
    """Build one page of a form as a modal, prefilled with `shown(field)`.

    The form's fields come most used first, so the first modal holds the five a community
    changes most; later pages are one button away and every field is also a command option.
    """
    pages = form_pages(form)
    title = form.title
    if pages > 1:
        title = translate(
            language, "discord.form_page", title=form.title, page=page + 1, pages=pages
        )
    modal = discord.ui.Modal(
        title=title[:TITLE_LIMIT], custom_id=form_id(form.command, page, pages), timeout=None
    )
    for field in form.fields[page * MODAL_INPUTS : (page + 1) * MODAL_INPUTS]:
        modal.add_item(
            discord.ui.TextInput(
                label=field.label[:LABEL_LIMIT],
                custom_id=field.key,
                default=shown(field)[:VALUE_LIMIT] or None,
                placeholder=field.hint[:PLACEHOLDER_LIMIT] or None,
                required=field.required,
                style=discord.TextStyle.paragraph if field.multiline else discord.TextStyle.short,
            )
        )
    # Submissions are read from the interaction by custom id (see `submitted_values`), so a
    # form opened before a restart still works; a stopped modal is not kept in memory.
    modal.stop()
    return modal


def submitted_values(data: Mapping[str, Any]) -> dict[str, str]:
    """Read a modal submission's text inputs as {custom_id: value}."""
    return {
        str(component["custom_id"]): str(component.get("value") or "")
        for component in _walk(data.get("components") or [])
        if "custom_id" in component and "value" in component
    }


def _walk(components: list[Any]) -> Iterator[dict[str, Any]]:
    for component in components:
        if not isinstance(component, dict):
            continue
        yield component
        yield from _walk(component.get("components") or [])
        if isinstance(component.get("component"), dict):
            yield from _walk([component["component"]])
