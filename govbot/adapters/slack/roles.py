"""Who a Slack user is: their name and whether the workspace makes them an admin or owner."""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Callable
from dataclasses import dataclass

from slack_sdk.web.async_client import AsyncWebClient

from govbot.adapters.slack.errors import API_FAILURES, api_failed

log = logging.getLogger(__name__)

ROLE_TTL_SECONDS = 60.0
# users.info must answer well inside the ack budget, or the command would miss Slack's 3 s.
LOOKUP_TIMEOUT_SECONDS = 1.0
_PRUNE_AT = 10_000


@dataclass(frozen=True)
class Person:
    """A workspace member as users.info describes them."""

    name: str | None
    is_admin: bool
    # Slack did not answer and nothing was remembered: treated as not an admin, and told so.
    unsure: bool = False


class WorkspaceRoles:
    """Ask Slack who is an admin or owner, remembering each answer briefly per team and user.

    The answer decides what a command may do, so it must be fresh; but a users.info call on
    every command would eat into the three seconds Slack gives an interaction.
    """

    def __init__(
        self,
        ttl: float = ROLE_TTL_SECONDS,
        clock: Callable[[], float] = time.monotonic,
        timeout: float = LOOKUP_TIMEOUT_SECONDS,
    ) -> None:
        self.ttl = ttl
        self.clock = clock
        self.timeout = timeout
        self._known: dict[tuple[str, str], tuple[float, Person]] = {}

    async def lookup(self, client: AsyncWebClient, team_id: str, user_id: str) -> Person:
        """Return the user's name and admin right, falling back when Slack cannot say in time."""
        now = self.clock()
        cached = self._known.get((team_id, user_id))
        if cached is not None and cached[0] > now:
            return cached[1]
        try:
            response = await asyncio.wait_for(client.users_info(user=user_id), self.timeout)
            user = response.get("user") or {}
        except API_FAILURES as error:
            api_failed(f"users.info for {team_id}/{user_id}", error, kind="users_info")
            # A stale answer beats none: roles change rarely, and only a fresh one is cached.
            return cached[1] if cached is not None else Person(None, False, unsure=True)
        profile = user.get("profile") or {}
        name = profile.get("display_name") or profile.get("real_name") or user.get("name")
        person = Person(
            str(name) if name else None,
            bool(user.get("is_admin") or user.get("is_owner") or user.get("is_primary_owner")),
        )
        if len(self._known) >= _PRUNE_AT:
            self._known = {k: v for k, v in self._known.items() if v[0] > now}
        self._known[(team_id, user_id)] = (now + self.ttl, person)
        return person
