"""Message catalogs: every reply the bot writes comes from here, in the community's language."""

from __future__ import annotations

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
