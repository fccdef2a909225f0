"""Typed settings from GOVBOT_* environment variables and a `.env` file (a contract)."""

from __future__ import annotations

from typing import Literal

from pydantic import SecretStr
from pydantic_settings import BaseSettings, SettingsConfigDict

PLATFORM_SETTINGS = {
    "discord": ("GOVBOT_DISCORD_TOKEN",),
    "slack": (
        "GOVBOT_SLACK_BOT_TOKEN + GOVBOT_SLACK_SIGNING_SECRET",
        "GOVBOT_SLACK_CLIENT_ID + GOVBOT_SLACK_CLIENT_SECRET + GOVBOT_SLACK_SIGNING_SECRET",
        "GOVBOT_SLACK_BOT_TOKEN + GOVBOT_SLACK_APP_TOKEN",
    ),
}


class Settings(BaseSettings):
    """Everything a deployment configures; built once at start, never at import."""

    model_config = SettingsConfigDict(env_prefix="GOVBOT_", env_file=".env", extra="ignore")

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
    web_port: int = 8080
    log_format: Literal["text", "json"] = "text"

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
