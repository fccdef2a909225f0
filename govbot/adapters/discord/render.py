"""Platform-neutral replies as Discord messages: embeds, buttons, files; mentions defused."""

from __future__ import annotations

import io
from dataclasses import dataclass, field
from typing import Any

import discord

from govbot.adapters.discord.views import command_button, command_select
from govbot.replies import Attachment, Reply, Visibility

EMBED_LIMIT = 4096
ROW_ITEMS = 5
MAX_ROWS = 5


@dataclass
class Message:
    """One Discord message to send: embeds, components and at most one file."""

    embeds: list[discord.Embed]
    items: list[discord.ui.Item[Any]] = field(default_factory=list)
    attachment: Attachment | None = None

    def view(self) -> discord.ui.View | None:
        """Return the components as a view (None without any): a select fills a row alone."""
        if not self.items:
            return None
        view = discord.ui.View(timeout=None)
        row, used = 0, 0
        for item in self.items:
            if used + item.width > ROW_ITEMS:
                row, used = row + 1, 0
            if row >= MAX_ROWS:
                break  # Discord shows five rows at most
            item.row = row
            view.add_item(item)
            used += item.width
        return view

    def files(self) -> list[discord.File]:
        """Return the attachment as a fresh file (a File can be sent only once)."""
        if self.attachment is None:
            return []
        if self.attachment.path is not None:  # uploaded straight from disk
            return [discord.File(self.attachment.path, filename=self.attachment.filename)]
        data = io.BytesIO(self.attachment.content.encode("utf-8"))
        return [discord.File(data, filename=self.attachment.filename)]

    def channel_kwargs(self) -> dict[str, Any]:
        """Return the keyword arguments of `send` for this message."""
        kwargs: dict[str, Any] = {"embeds": self.embeds, "files": self.files()}
        view = self.view()
        if view is not None:
            kwargs["view"] = view
        return kwargs

    def edit_kwargs(self) -> dict[str, Any]:
        """Return the keyword arguments of `edit`: the components are replaced (or removed)."""
        return {"embeds": self.embeds, "view": self.view()}


def defuse(text: str) -> str:
    """Stop `@everyone`, `@here`, role and user mentions in text from looking like pings."""
    return discord.utils.escape_mentions(text)


def chunks(text: str, limit: int = EMBED_LIMIT) -> list[str]:
    """Split text at line ends into pieces Discord accepts; overlong lines are cut."""
    pieces: list[str] = []
    current = ""
    for whole in text.split("\n"):
        cuts = [whole[i : i + limit] for i in range(0, len(whole), limit)] or [""]
        for line in cuts:
            candidate = f"{current}\n{line}" if current else line
            if current and len(candidate) > limit:
                pieces.append(current)
                current = line
            else:
                current = candidate
    if current or not pieces:
        pieces.append(current)
    return pieces


def cut(text: str, limit: int = EMBED_LIMIT) -> str:
    """Shorten text to one embed, marking the cut."""
    return text if len(text) <= limit else text[: limit - 1] + "…"


def colour(reply: Reply) -> discord.Colour:
    """Colour errors red and everything else in the bot's colour."""
    if reply.error:
        return discord.Colour.red()
    if reply.visibility is Visibility.PUBLIC:
        return discord.Colour.blurple()
    return discord.Colour.light_grey()


def render(reply: Reply, extra: list[discord.ui.Item[Any]] | None = None) -> list[Message]:
    """Render a reply as one message or more (long text); controls and file ride on the last.

    A message that is later edited in place (`key`, `updates`) is always one message, its
    text cut to one embed if need be: an edit changes one message, never a series.
    """
    paint = colour(reply)
    pieces = chunks(defuse(reply.text))
    if reply.key is not None or reply.updates is not None:
        pieces = [cut(defuse(reply.text))]
    messages = [
        Message([discord.Embed(description=piece or "\u200b", colour=paint)]) for piece in pieces
    ]
    last = messages[-1]
    if reply.select is not None:
        menu = command_select(reply.select)
        if menu is not None:
            last.items.append(menu)
    for button in reply.buttons:
        item = command_button(button)
        if item is not None:
            last.items.append(item)
    last.items.extend(extra or [])
    last.attachment = reply.attachment
    return messages


def notice_text(text: str) -> Message:
    """Render a short line the adapter itself says (already translated)."""
    return Message([discord.Embed(description=defuse(text), colour=discord.Colour.light_grey())])
