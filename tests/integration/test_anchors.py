"""Weekly chain anchors: the head posted once a week when the chain grew, by one worker."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import timedelta

from sqlalchemy import text
from sqlmodel import Session

from govbot.replies import Notice, Visibility
from govbot.services import anchors
from govbot.storage.db import Store
from tests.helpers import START, Community

WEEK = timedelta(days=7)


def set_up(store: Store) -> Community:
    community = Community(store)
    community.say("admin", "/gov setup init")
    community.say("admin", "/gov setup set announce:#governance")
    return community


def head(store: Store) -> tuple[int, str]:
    with store.engine.connect() as conn:
        seq, digest = conn.execute(text("SELECT seq, hash FROM audit_head")).one()
    return int(seq), str(digest)


def texts(notices: list[Notice]) -> list[str]:
    return [n.reply.text for n in notices]


def test_the_first_run_schedules_a_week_ahead_without_posting(store: Store) -> None:
    set_up(store)
    assert anchors.run_due(store, START) == []
    with store.engine.connect() as conn:
        due = conn.execute(text("SELECT anchor_due_at FROM community")).scalar_one()
    assert due is not None
    assert anchors.run_due(store, START + WEEK - timedelta(minutes=1)) == []


def test_a_grown_chain_is_anchored_once_a_week_in_the_announce_channel(store: Store) -> None:
    community = set_up(store)
    anchors.run_due(store, START)
    community.advance(days=2)
    community.say("ann", "/gov body join operations")
    seq, digest = head(store)

    notices = anchors.run_due(store, START + WEEK)

    assert texts(notices) == [f"Audit chain head this week: #{seq} {digest}"]
    assert notices[0].reply.visibility is Visibility.PUBLIC
    assert notices[0].reply.recipient == "governance"
    assert notices[0].community.external_id == "c1"
    assert anchors.run_due(store, START + WEEK + timedelta(hours=1)) == []
    # The anchor line is not itself an audit entry: the chain did not grow.
    assert head(store) == (seq, digest)


def test_a_week_without_new_entries_posts_nothing(store: Store) -> None:
    community = set_up(store)
    anchors.run_due(store, START)
    community.say("ann", "/gov body join operations")
    assert len(anchors.run_due(store, START + WEEK)) == 1
    assert anchors.run_due(store, START + 2 * WEEK) == []
    community.now = START + 2 * WEEK + timedelta(days=1)
    community.say("bob", "/gov body join operations")
    assert texts(anchors.run_due(store, START + 3 * WEEK)) == [
        "Audit chain head this week: #{} {}".format(*head(store))
    ]


def test_a_community_that_turned_anchors_off_gets_no_line(store: Store) -> None:
    community = set_up(store)
    anchors.run_due(store, START)
    community.say("ann", "/gov body join operations")
    with store.engine.begin() as conn:
        conn.execute(text("UPDATE community SET weekly_anchor = false"))
    assert anchors.run_due(store, START + WEEK) == []


def test_the_line_is_in_the_communitys_language(store: Store) -> None:
    community = set_up(store)
    anchors.run_due(store, START)
    community.say("admin", "/gov setup set language:zh-CN")
    seq, digest = head(store)
    assert texts(anchors.run_due(store, START + WEEK)) == [f"本周审计链链头：#{seq} {digest}"]


def test_two_workers_post_the_weekly_anchor_once(store: Store) -> None:
    community = set_up(store)
    anchors.run_due(store, START)
    community.say("ann", "/gov body join operations")
    barrier = threading.Barrier(2)
    results: list[list[Notice]] = []

    def worker() -> None:
        other = Store(store.url)
        barrier.wait()
        results.append(anchors.run_due(other, START + WEEK))
        other.dispose()

    threads = [threading.Thread(target=worker) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert sorted(len(r) for r in results) == [0, 1]


class LateWorker(Store):
    """A worker that reads the due list, then stalls until another worker has done the work."""

    def __init__(self, url: str, go_on: threading.Event) -> None:
        super().__init__(url)
        self.go_on = go_on
        self.units = 0

    @contextmanager
    def unit_of_work(self, *, readonly: bool = False) -> Iterator[Session]:
        with super().unit_of_work(readonly=readonly) as session:
            yield session
        self.units += 1
        if self.units == 1:
            assert self.go_on.wait(60)


def test_a_worker_that_read_the_due_list_before_another_claimed_it_posts_nothing(
    store: Store,
) -> None:
    community = set_up(store)
    anchors.run_due(store, START)
    community.say("ann", "/gov body join operations")
    go_on = threading.Event()
    late = LateWorker(store.url, go_on)
    results: list[list[Notice]] = []
    thread = threading.Thread(target=lambda: results.append(anchors.run_due(late, START + WEEK)))
    thread.start()
    try:
        # Runs while the late worker holds a stale due list: this one claims and posts.
        while late.units == 0 and thread.is_alive():
            thread.join(0.01)
        assert len(anchors.run_due(store, START + WEEK)) == 1
    finally:
        go_on.set()
        thread.join(60)
    late.dispose()
    assert results == [[]]
