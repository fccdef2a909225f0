"""Typed settings from GOVBOT_* environment variables and a `.env` file (a contract)."""

from __future__ import annotations

import difflib
import os
import re
from collections.abc import Mapping
from pathlib import Path
from typing import Literal

from pydantic import Field, SecretStr, ValidationError, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

PREFIX = "GOVBOT_"
ENV_FILE = ".env"

PLATFORM_SETTINGS = {
    "discord": ("GOVBOT_DISCORD_TOKEN",),
    "slack": (
        "GOVBOT_SLACK_BOT_TOKEN + GOVBOT_SLACK_SIGNING_SECRET",
        "GOVBOT_SLACK_CLIENT_ID + GOVBOT_SLACK_CLIENT_SECRET + GOVBOT_SLACK_SIGNING_SECRET",
        "GOVBOT_SLACK_BOT_TOKEN + GOVBOT_SLACK_APP_TOKEN",
    ),
}

# Variables with the prefix that are not settings of the bot but of its own tooling.
TOOLING_VARIABLES = frozenset({"GOVBOT_TEST_POSTGRES_URL", "GOVBOT_REQUIRE_POSTGRES"})

LogLevel = Literal["DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL"]


class OperatorError(Exception):
    """A mistake an operator can fix; its message is one line naming what to change."""


class Settings(BaseSettings):
    """Everything a deployment configures; built once at start, never at import."""

    model_config = SettingsConfigDict(env_prefix=PREFIX, env_file=ENV_FILE, extra="ignore")

    database_url: str = "sqlite:///govbot.db"
    discord_token: SecretStr | None = None
    discord_api_base: str | None = None
    discord_gateway: str | None = None
    slack_bot_token: SecretStr | None = None
    slack_signing_secret: SecretStr | None = None
    slack_client_id: str | None = None
    slack_client_secret: SecretStr | None = None
    slack_app_token: SecretStr | None = None
    slack_api_base: str | None = None
    web_host: str = "127.0.0.1"
    web_port: int = Field(default=8080, ge=0, le=65535)
    log_format: Literal["text", "json"] = "text"
    # Unset: INFO for the running bot, WARNING for the one-shot commands.
    log_level: LogLevel | None = None

    @field_validator("log_level", mode="before")
    @classmethod
    def _upper(cls, value: object) -> object:
        return value.strip().upper() if isinstance(value, str) else value

    @field_validator("log_format", mode="before")
    @classmethod
    def _lower(cls, value: object) -> object:
        return value.strip().lower() if isinstance(value, str) else value

    @property
    def discord_configured(self) -> bool:
        """Say whether Discord can run."""
        return self.discord_token is not None

    @property
    def slack_configured(self) -> bool:
        """Say whether Slack can run: one workspace over HTTP or Socket Mode, or OAuth."""
        if self.slack_app_token is not None:
            return self.slack_bot_token is not None
        if self.slack_signing_secret is None:
            return False
        single = self.slack_bot_token is not None
        oauth = self.slack_client_id is not None and self.slack_client_secret is not None
        return single or oauth

    def configured_platforms(self) -> list[str]:
        """List the platforms whose settings are present."""
        found = []
        if self.discord_configured:
            found.append("discord")
        if self.slack_configured:
            found.append("slack")
        return found

    def missing_settings(self, platform: str) -> str | None:
        """Say which setting a platform still needs when some of its credentials are present."""
        if platform != "slack" or self.slack_configured:
            return None  # Discord has one credential: set or not
        return self._missing_slack()

    def _missing_slack(self) -> str | None:
        bot, secret = self.slack_bot_token is not None, self.slack_signing_secret is not None
        client_id, client_secret = (
            self.slack_client_id is not None,
            self.slack_client_secret is not None,
        )
        if self.slack_app_token is not None:
            return "GOVBOT_SLACK_APP_TOKEN is set (Socket Mode), but GOVBOT_SLACK_BOT_TOKEN is not"
        if client_id != client_secret:
            have, need = (
                ("GOVBOT_SLACK_CLIENT_ID", "GOVBOT_SLACK_CLIENT_SECRET")
                if client_id
                else ("GOVBOT_SLACK_CLIENT_SECRET", "GOVBOT_SLACK_CLIENT_ID")
            )
            return f"{have} is set (OAuth), but {need} is not"
        if client_id and client_secret:
            return (
                "GOVBOT_SLACK_CLIENT_ID and GOVBOT_SLACK_CLIENT_SECRET are set (OAuth),"
                " but GOVBOT_SLACK_SIGNING_SECRET is not"
            )
        if bot:
            return (
                "GOVBOT_SLACK_BOT_TOKEN is set, but neither GOVBOT_SLACK_SIGNING_SECRET (over HTTP)"
                " nor GOVBOT_SLACK_APP_TOKEN (Socket Mode) is"
            )
        if secret:
            return (
                "GOVBOT_SLACK_SIGNING_SECRET is set, but neither GOVBOT_SLACK_BOT_TOKEN (one"
                " workspace) nor GOVBOT_SLACK_CLIENT_ID + GOVBOT_SLACK_CLIENT_SECRET (OAuth) is"
            )
        return None


def setting_names() -> list[str]:
    """List every GOVBOT_* variable the settings read."""
    return [PREFIX + name.upper() for name in Settings.model_fields]


def load_settings() -> Settings:
    """Build the settings, or raise an OperatorError naming the variable to fix."""
    try:
        return Settings()
    except ValidationError as error:
        first = error.errors()[0]
        name = PREFIX + str(first["loc"][0]).upper() if first["loc"] else "a GOVBOT_ setting"
        raise OperatorError(f"{name}: {first['msg']}, not {first['input']!r}") from None


_ENV_LINE = re.compile(r"^\s*(?:export\s+)?(GOVBOT_\w+)\s*=")


def unknown_variables(
    environ: Mapping[str, str] | None = None, env_file: Path | None = None
) -> list[str]:
    """Warn-worthy GOVBOT_* names (environment and `.env`): what each might have meant."""
    environ = os.environ if environ is None else environ
    env_file = Path(ENV_FILE) if env_file is None else env_file
    names = {name.upper() for name in environ if name.upper().startswith(PREFIX)}
    try:
        lines = env_file.read_text(encoding="utf-8").splitlines()
    except (OSError, UnicodeDecodeError):
        lines = []
    names |= {m.group(1).upper() for line in lines if (m := _ENV_LINE.match(line))}
    known = setting_names()
    warnings = []
    for name in sorted(names - set(known) - TOOLING_VARIABLES):
        close = difflib.get_close_matches(name, known, n=1, cutoff=0.75)
        hint = f"; did you mean {close[0]}?" if close else ""
        warnings.append(f"{name} is not a govbot setting and is ignored{hint}")
    return warnings
