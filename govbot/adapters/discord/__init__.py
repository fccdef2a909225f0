"""The Discord front end: slash commands from the command table, buttons, modals, notices."""

from govbot.adapters.discord.bot import DiscordFrontEnd

__all__ = ["DiscordFrontEnd"]
