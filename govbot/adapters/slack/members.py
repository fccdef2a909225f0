"""How many people a Slack workspace has: counted from users.list in the background, hourly."""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Callable, Coroutine
from dataclasses import dataclass
from typing import Any

from slack_sdk.web.async_client import AsyncWebClient

from govbot.adapters.slack.errors import API_FAILURES, api_failed

log = logging.getLogger(__name__)

# A count is refreshed at most this often: users.list pages through the whole workspace.
REFRESH_SECONDS = 3600.0
# After a failed count, the next attempt waits this long (the last count is kept meanwhile).
RETRY_SECONDS = 300.0
PAGE_SIZE = 200  # what Slack recommends per users.list page
# Slackbot is listed as a member that is no bot; it is no person either.
SLACKBOT = "USLACKBOT"

Spawn = Callable[[Coroutine[Any, Any, None]], None]


@dataclass(frozen=True)
class _Known:
    count: int | None  # None: never counted yet
    next_at: float  # when a new count may start


def is_person(user: dict[str, Any]) -> bool:
    """Say whether a users.list entry is a person still in the workspace (no bot, not deleted)."""
    return not (user.get("deleted") or user.get("is_bot") or user.get("id") == SLACKBOT)


class MemberCounts:
    """Per-workspace member counts; a command never waits for one (None until first known)."""

    def __init__(
        self,
        refresh: float = REFRESH_SECONDS,
        retry: float = RETRY_SECONDS,
        clock: Callable[[], float] = time.monotonic,
        page_size: int = PAGE_SIZE,
    ) -> None:
        self.refresh = refresh
        self.retry = retry
        self.clock = clock
        self.page_size = page_size
        self._known: dict[str, _Known] = {}
        self._counting: set[str] = set()

    def count(self, client: AsyncWebClient, team: str, spawn: Spawn) -> int | None:
        """Return the last count of a workspace; start a new count in the background when due."""
        known = self._known.get(team)
        if team not in self._counting and (known is None or known.next_at <= self.clock()):
            self._counting.add(team)
            spawn(self._recount(client, team))
        return known.count if known is not None else None

    def last(self, team: str) -> int | None:
        """Return the last count of a workspace, starting none."""
        known = self._known.get(team)
        return known.count if known is not None else None

    async def _recount(self, client: AsyncWebClient, team: str) -> None:
        try:
            total = await self._count_pages(client)
        except asyncio.CancelledError:
            raise
        except Exception as error:
            if isinstance(error, API_FAILURES):
                api_failed(f"users.list for {team}", error, kind="users_list")
            else:
                log.exception("counting the members of %s failed", team)
            known = self._known.get(team)
            self._known[team] = _Known(known.count if known else None, self.clock() + self.retry)
        else:
            self._known[team] = _Known(total, self.clock() + self.refresh)
            log.info("Slack workspace %s has %d members", team, total)
        finally:
            self._counting.discard(team)

    async def _count_pages(self, client: AsyncWebClient) -> int:
        total = 0
        cursor: str | None = None
        while True:
            response = await client.users_list(limit=self.page_size, cursor=cursor)
            members = response.get("members") or []
            total += sum(1 for user in members if isinstance(user, dict) and is_person(user))
            metadata = response.get("response_metadata") or {}
            cursor = str(metadata.get("next_cursor") or "") or None
            if cursor is None:
                return total
