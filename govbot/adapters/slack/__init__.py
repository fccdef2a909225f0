"""The Slack front end: `SlackFrontEnd(settings, store, web)` with start, stop and deliver."""

from govbot.adapters.slack.app import SlackFrontEnd

__all__ = ["SlackFrontEnd"]
