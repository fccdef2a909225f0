"""One way to read any failed Slack Web API call, whatever came back (JSON, HTML, plain text)."""

from __future__ import annotations

import asyncio
import logging

import aiohttp
from slack_sdk.errors import SlackApiError, SlackClientError

from govbot import metrics

log = logging.getLogger(__name__)

# What a Web API call can raise besides a bug: Slack's own error, a proxy's page that is no
# JSON, a dropped connection, a timeout.
API_FAILURES: tuple[type[BaseException], ...] = (
    SlackClientError,
    aiohttp.ClientError,
    asyncio.TimeoutError,
    ValueError,  # slack_sdk refuses to read some bodies (binary) with a ValueError
)


def describe(error: BaseException) -> str:
    """Name a failure briefly: Slack's error code, else the HTTP status and body type."""
    if isinstance(error, SlackApiError):
        response = error.response
        data = getattr(response, "data", None)
        if isinstance(data, dict) and data.get("error"):
            return str(data["error"])
        # A proxy's HTML page or a plain-text 500: slack_sdk keeps the status (and the
        # raw text, or nothing), never a dict to `.get` from.
        status = getattr(response, "status_code", None) or getattr(response, "status", None)
        return f"HTTP {status}, no Slack error in the body"
    if isinstance(error, asyncio.TimeoutError):
        return "timed out"
    return f"{type(error).__name__}: {error}"


def api_failed(method: str, error: BaseException, kind: str = "api") -> None:
    """Count and log one failed Web API call."""
    metrics.record_error("slack", kind)
    log.warning("Slack %s failed: %s", method, describe(error))
