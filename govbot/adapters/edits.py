"""Edit keyed public messages in place: one edit in flight per message, only the newest waits.

A proposal's message shows its tally; every ballot produces an update. With thousands of
voters, sending every update would queue thousands of edits behind the platform's rate limit
and show stale tallies for minutes. Instead, while an edit of a message is in flight, later
updates replace one another, and when the edit ends only the newest is sent.
"""

from __future__ import annotations

import asyncio
import logging
from collections import OrderedDict
from collections.abc import Awaitable, Callable
from typing import Generic, TypeVar

from govbot import metrics

log = logging.getLogger(__name__)

Content = TypeVar("Content")
# (community, key) -> (channel, message id) of the message posted under the key, if any.
Find = Callable[[str, str], Awaitable[tuple[str, str] | None]]
# (community, channel, message id, content): make the message show the content.
Edit = Callable[[str, str, str, Content], Awaitable[None]]

# Messages being edited at once (each holds at most one waiting update); past it an update
# is dropped with a warning rather than letting memory grow without bound.
MAX_MESSAGES = 10_000


class InPlaceEdits(Generic[Content]):
    """Coalesce updates of keyed messages; edits are best effort and never awaited by callers."""

    def __init__(
        self,
        platform: str,
        find: Find,
        edit: Edit[Content],
        *,
        limit: int = MAX_MESSAGES,
    ) -> None:
        self.platform = platform
        self._find = find
        self._edit = edit
        self.limit = limit
        self._running: dict[tuple[str, str], asyncio.Task[None]] = {}
        self._waiting: dict[tuple[str, str], Content] = {}
        # The highest revision taken per message, newest keys last (bounded like the rest).
        self._revisions: OrderedDict[tuple[str, str], int] = OrderedDict()

    def submit(self, community: str, key: str, content: Content, revision: int = 0) -> None:
        """Show `content` in the message posted under `key`, soon; newer content wins.

        Updates made by commands on different threads can arrive out of order: one whose
        `revision` (the audit sequence number of the change it shows) is older than one
        already taken is dropped. Revision 0 means unordered: always taken.
        """
        slot = (community, key)
        if revision:
            if revision < self._revisions.get(slot, 0):
                return
            self._revisions[slot] = revision
            self._revisions.move_to_end(slot)
            if len(self._revisions) > self.limit:
                self._revisions.popitem(last=False)
        if slot in self._running:
            self._waiting[slot] = content  # replaces an older waiting update, if any
            return
        if len(self._running) >= self.limit:
            metrics.record_error(self.platform, "edit_dropped")
            log.warning("too many messages being edited; an update of %s was dropped", key)
            return
        task = asyncio.create_task(self._run(slot, content), name=f"edit {key}")
        self._running[slot] = task

    def busy(self) -> bool:
        """Say whether an edit is in flight or waiting."""
        return bool(self._running)

    async def settled(self) -> None:
        """Wait until no edit is in flight or waiting."""
        while self._running:
            await asyncio.gather(*list(self._running.values()), return_exceptions=True)

    async def close(self) -> None:
        """Stop editing; updates not yet sent are dropped (the next one shows the state)."""
        tasks = list(self._running.values())
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
        self._running.clear()
        self._waiting.clear()

    async def _run(self, slot: tuple[str, str], content: Content) -> None:
        community, key = slot
        try:
            while True:
                await self._edit_once(community, key, content)
                # No await between this check and leaving: a submit cannot slip in between.
                if slot not in self._waiting:
                    return
                content = self._waiting.pop(slot)
        finally:
            self._running.pop(slot, None)
            self._waiting.pop(slot, None)

    async def _edit_once(self, community: str, key: str, content: Content) -> None:
        try:
            where = await self._find(community, key)
            if where is None:
                log.info("no message was posted under %s; its update is dropped", key)
                return
            await self._edit(community, where[0], where[1], content)
        except asyncio.CancelledError:
            raise
        except Exception as error:
            metrics.record_error(self.platform, "edit")
            log.warning("could not edit the message of %s: %s", key, error)
