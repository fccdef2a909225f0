"""The command inbox on each database: written once, claimed by one worker, taken over late."""

from __future__ import annotations

import threading
from datetime import UTC, datetime, timedelta

from sqlmodel import select

from govbot.services import inbox
from govbot.services.timers import run_due
from govbot.storage.db import Store
from govbot.storage.models import InboxCommand

NOW = datetime(2030, 1, 1, 12, 0, tzinfo=UTC)
LEASE = timedelta(seconds=10)


def test_a_command_is_written_once_even_when_slack_delivers_it_twice(store: Store) -> None:
    assert inbox.enqueue(store, "slack", "slack:command:t1", '{"text": "help"}', NOW, LEASE)
    assert not inbox.enqueue(store, "slack", "slack:command:t1", '{"text": "help"}', NOW, LEASE)

    assert inbox.pending(store, "slack") == 1


def test_the_writer_holds_its_row_until_the_lease_runs_out(store: Store) -> None:
    inbox.enqueue(store, "slack", "k1", "{}", NOW, LEASE)

    assert inbox.claim(store, "slack", NOW + LEASE / 2, LEASE) is None
    taken = inbox.claim(store, "slack", NOW + LEASE + timedelta(seconds=1), LEASE)

    assert taken is not None
    assert (taken.key, taken.payload, taken.attempts) == ("k1", "{}", 2)


def test_a_claimed_row_is_not_claimed_again_while_its_lease_runs(store: Store) -> None:
    inbox.enqueue(store, "slack", "k1", "{}", NOW - LEASE * 2, LEASE)

    first = inbox.claim(store, "slack", NOW, LEASE)
    second = inbox.claim(store, "slack", NOW + timedelta(seconds=1), LEASE)

    assert first is not None and first.key == "k1"
    assert second is None


def test_a_done_command_is_never_claimed_and_no_longer_pending(store: Store) -> None:
    inbox.enqueue(store, "slack", "k1", "{}", NOW - LEASE * 2, LEASE)
    inbox.mark_done(store, "k1")

    assert inbox.claim(store, "slack", NOW, LEASE) is None
    assert inbox.pending(store, "slack") == 0
    with store.unit_of_work() as session:
        row = session.get(InboxCommand, 1)
        assert row is not None and row.done


def test_rows_of_another_platform_are_left_alone(store: Store) -> None:
    inbox.enqueue(store, "discord", "d1", "{}", NOW - LEASE * 2, LEASE)

    assert inbox.claim(store, "slack", NOW, LEASE) is None
    assert inbox.pending(store, "slack") == 0
    assert inbox.pending(store) == 1


def test_two_workers_claiming_at_once_never_both_take_a_row(store: Store) -> None:
    keys = [f"k{n}" for n in range(20)]
    for key in keys:
        inbox.enqueue(store, "slack", key, "{}", NOW - LEASE * 2, LEASE)
    taken: list[list[str]] = [[], []]
    start = threading.Barrier(2)

    def worker(mine: list[str]) -> None:
        start.wait()
        while (item := inbox.claim(store, "slack", NOW, LEASE)) is not None:
            mine.append(item.key)

    threads = [threading.Thread(target=worker, args=(mine,)) for mine in taken]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)

    assert sorted(taken[0] + taken[1]) == sorted(keys)
    assert not set(taken[0]) & set(taken[1])


def test_commands_already_run_are_forgotten_once_no_platform_retries_them(store: Store) -> None:
    now = datetime(2026, 1, 5, 9, tzinfo=UTC)
    inbox.enqueue(store, "slack", "done-long-ago", "{}", now, timedelta(seconds=10))
    inbox.mark_done(store, "done-long-ago")
    inbox.enqueue(store, "slack", "still-waiting", "{}", now, timedelta(seconds=10))
    run_due(store, now + timedelta(days=3))
    with store.unit_of_work(readonly=True) as session:
        keys = {row.key for row in session.exec(select(InboxCommand))}
    assert keys == {"still-waiting"}
