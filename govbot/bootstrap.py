"""The one place that wires settings, the store, the scheduler and the front ends."""

from __future__ import annotations

import asyncio
import json
import logging
import re
import signal
import sys
from collections.abc import Iterator
from contextlib import AsyncExitStack
from datetime import UTC, datetime
from typing import Any, Protocol

from govbot import __version__
from govbot.config import OperatorError, Settings
from govbot.replies import Notice
from govbot.storage import migrate
from govbot.storage.db import Store

log = logging.getLogger(__name__)

# Libraries whose routine INFO lines (a job ran every 30 s, a migration context opened) are
# noise in an operator's log; they still show at DEBUG.
CHATTY_LOGGERS = ("apscheduler", "alembic")
SLACK_AUTH_ERRORS = frozenset(
    {"invalid_auth", "not_authed", "account_inactive", "token_revoked", "token_expired"}
)


def rfc3339_utc(seconds: float) -> str:
    """Format a Unix time as RFC 3339 in UTC with milliseconds, e.g. `2026-01-05T09:00:00.000Z`."""
    moment = datetime.fromtimestamp(seconds, UTC)
    return moment.isoformat(timespec="milliseconds").replace("+00:00", "Z")


class _JsonFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        payload: dict[str, Any] = {
            "time": rfc3339_utc(record.created),
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
        }
        if record.exc_info:
            payload["exception"] = self.formatException(record.exc_info)
        return json.dumps(payload, ensure_ascii=False)


class _DiscordNoise(logging.Filter):
    """Drop discord.py's voice warnings; shorten its reconnect tracebacks to one line."""

    def filter(self, record: logging.LogRecord) -> bool:
        message = str(record.msg)
        if "voice will NOT be supported" in message:
            return False  # govbot has no voice features
        if message.startswith("Attempting a reconnect") and record.exc_info:
            if logging.getLogger().isEnabledFor(logging.DEBUG):
                return True
            error = record.exc_info[1]
            record.msg = f"{record.getMessage()} ({type(error).__name__}: {error})"
            record.args = ()
            record.exc_info = None
            record.exc_text = None
            record.levelno, record.levelname = logging.WARNING, "WARNING"
        return True


def configure_logging(settings: Settings, level: int = logging.INFO) -> None:
    """Log to stderr as text or as one JSON object a line; GOVBOT_LOG_LEVEL overrides `level`."""
    if settings.log_level is not None:
        level = logging.getLevelNamesMapping()[settings.log_level]
    handler = logging.StreamHandler(sys.stderr)
    if settings.log_format == "json":
        handler.setFormatter(_JsonFormatter())
    else:
        handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
    logging.basicConfig(level=level, handlers=[handler], force=True)
    for name in CHATTY_LOGGERS:
        logging.getLogger(name).setLevel(level if level <= logging.DEBUG else logging.WARNING)
    discord_client = logging.getLogger("discord.client")
    if not any(isinstance(f, _DiscordNoise) for f in discord_client.filters):
        discord_client.addFilter(_DiscordNoise())


def shown_url(url: str) -> str:
    """Return a database URL fit for a log line: the password masked."""
    from sqlalchemy.engine import make_url

    try:
        return make_url(url).render_as_string(hide_password=True)
    except Exception:
        return re.sub(r"(://[^:/@]*:)[^@]*@", r"\1***@", url)


def database_problem(url: str, error: BaseException, setting: str) -> str | None:
    """Put a failure to open the database into one line naming the setting to fix, or None."""
    from sqlalchemy.exc import ArgumentError, DBAPIError

    if isinstance(error, (ArgumentError, ValueError, ImportError)):
        return (
            f"{setting} is not a usable database URL: {shown_url(url)!r} (expected "
            "sqlite:///path/to/govbot.db or postgresql+psycopg://user:password@host/dbname)"
        )
    if isinstance(error, DBAPIError):
        reason = str(error.orig).strip().splitlines()[0] if error.orig else str(error)
        return f"cannot open the database {shown_url(url)} ({reason}); check {setting}"
    return None


def open_store(url: str) -> Store:
    """Open the database and bring its schema up to date."""
    store = Store(url)
    migrate.upgrade(store.engine)
    return store


class FrontEnd(Protocol):
    """What bootstrap needs of a platform front end."""

    async def start(self) -> None: ...

    async def stop(self) -> None: ...

    async def deliver(self, notice: Notice) -> None: ...

    def ready(self) -> bool:
        """Say whether the platform connection is up (gateway, Socket Mode, token checked)."""
        ...

    def gauges(self) -> dict[str, tuple[str, float]]:
        """Return gauges for /metrics as name -> (help, value)."""
        ...


def _causes(error: BaseException) -> Iterator[BaseException]:
    seen: set[int] = set()
    current: BaseException | None = error
    while current is not None and id(current) not in seen:
        seen.add(id(current))
        yield current
        current = current.__cause__ or current.__context__


def start_problem(platform: str, error: BaseException) -> str | None:
    """Put a front end's failure to start into one line naming the setting, or None."""
    import aiohttp

    for cause in _causes(error):
        if platform == "discord":
            import discord

            if isinstance(cause, discord.LoginFailure):
                return "Discord refused the bot token: check GOVBOT_DISCORD_TOKEN"
            if isinstance(cause, discord.PrivilegedIntentsRequired):
                return (
                    "Discord refused the Server Members intent: turn it on for the bot in the "
                    "Developer Portal (deploy/discord-setup.md)"
                )
        if platform == "slack":
            from slack_sdk.errors import SlackApiError

            if isinstance(cause, SlackApiError):
                code = cause.response.get("error")
                api = str(getattr(cause.response, "api_url", ""))
                token = (
                    "GOVBOT_SLACK_APP_TOKEN"
                    if "apps.connections.open" in api
                    else "GOVBOT_SLACK_BOT_TOKEN"
                )
                if code in SLACK_AUTH_ERRORS:
                    return f"Slack refused the token ({code}): check {token}"
                return f"Slack answered {code} on start: check {token} and the app's settings"
        if isinstance(cause, (OSError, aiohttp.ClientConnectionError, TimeoutError)):
            where = (
                "GOVBOT_DISCORD_API_BASE and GOVBOT_DISCORD_GATEWAY"
                if platform == "discord"
                else "GOVBOT_SLACK_API_BASE"
            )
            reason = str(cause) or type(cause).__name__
            return f"cannot reach {platform.capitalize()} ({reason}): check the network and {where}"
    return None


async def serve(settings: Settings, platforms: list[str]) -> None:
    """Run the chosen front ends, the web app and the scheduler until SIGTERM or SIGINT."""
    from govbot.scheduler import DueWork
    from govbot.web import WebApp

    log.info("govbot %s starting: %s", __version__, ", ".join(platforms))
    try:
        store = open_store(settings.database_url)
    except Exception as error:
        problem = database_problem(settings.database_url, error, "GOVBOT_DATABASE_URL")
        if problem is None:
            raise
        raise OperatorError(problem) from error
    web = WebApp(settings, store)
    front_ends: dict[str, FrontEnd] = {}
    if "discord" in platforms:
        from govbot.adapters.discord import DiscordFrontEnd

        front_ends["discord"] = DiscordFrontEnd(settings, store)
    if "slack" in platforms:
        from govbot.adapters.slack import SlackFrontEnd

        front_ends["slack"] = SlackFrontEnd(settings, store, web)
    web.front_ends.update(front_ends)

    async def deliver(notices: list[Notice]) -> None:
        for notice in notices:
            front_end = front_ends.get(notice.community.platform)
            if front_end is None:
                continue
            try:
                await front_end.deliver(notice)
            except Exception:
                log.exception("a notice for %s could not be delivered", notice.community)

    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, stop.set)
    # Whatever started is stopped again, in reverse order, also when a later start fails.
    async with AsyncExitStack() as running:
        running.callback(store.dispose)
        try:
            await web.start()
        except OSError as error:
            where = f"{settings.web_host}:{settings.web_port}"
            raise OperatorError(
                f"cannot listen on {where} ({error.strerror or error}): "
                "check GOVBOT_WEB_HOST and GOVBOT_WEB_PORT"
            ) from error
        running.push_async_callback(web.stop)
        for platform, front_end in front_ends.items():
            try:
                await front_end.start()
            except Exception as error:
                problem = start_problem(platform, error)
                if problem is None:
                    raise
                raise OperatorError(problem) from error
            running.push_async_callback(front_end.stop)
        due = DueWork(store, deliver)
        due.start()
        running.callback(due.stop)
        log.info("govbot running: %s", ", ".join(platforms))
        await stop.wait()
