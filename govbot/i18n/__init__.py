"""Message catalogs: every reply the bot writes comes from here, in the community's language."""

from __future__ import annotations

import re
import tomllib
from functools import cache
from importlib import resources
from typing import Any

LANGUAGES = ("en", "zh-CN")
DEFAULT_LANGUAGE = "en"


@cache
def catalog(language: str) -> dict[str, str]:
    """Load one language's catalog (flat keys such as `body.added`)."""
    text = resources.files(__name__).joinpath(f"{language}.toml").read_text("utf-8")
    return {str(k): str(v) for k, v in tomllib.loads(text).items()}


def translate(language: str, key: str, /, **params: Any) -> str:
    """Render message `key` in `language`, falling back to English for an unknown language."""
    messages = catalog(language if language in LANGUAGES else DEFAULT_LANGUAGE)
    return messages[key].format(**params)


# Catalog texts name commands as `⟦body join⟧`; each platform types them its own way.
_COMMAND_REF = re.compile(r"⟦([a-z ]+)⟧")


def for_platform(text: str, platform: str, language: str) -> str:
    """Write the commands a text names as they are typed on `platform`.

    Slack and the console: `/gov body join`; Discord, one slash command per group, with
    the names Discord shows in `language`: `/body join`.
    """

    def typed(match: re.Match[str]) -> str:
        words = match.group(1).split()
        if platform != "discord":
            return "/gov " + " ".join(words)
        return "/" + " ".join(discord_name(word, language) for word in words)

    return _COMMAND_REF.sub(typed, text)


def discord_name(word: str, language: str) -> str:
    """Return a command, group or option name as Discord shows it in `language`."""
    names = catalog(language if language in LANGUAGES else DEFAULT_LANGUAGE)
    return names.get(f"discord.name.{word}", word)
