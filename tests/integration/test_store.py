"""The store keeps what it acknowledged: aware times, one effect per delivery, crashes."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from datetime import datetime, timedelta, timezone

from sqlmodel import select

from govbot import metrics
from govbot.commands import run_text
from govbot.services.base import Caller
from govbot.storage.db import Store
from govbot.storage.models import Community as CommunityRow
from govbot.storage.models import Membership
from tests.helpers import Community


def test_times_come_back_aware_and_in_utc(store: Store) -> None:
    community = Community(store)
    community.say("admin", "/gov setup init")
    east = timezone(timedelta(hours=8))
    moment = datetime(2026, 3, 1, 17, 30, 15, 123456, tzinfo=east)
    with store.unit_of_work() as session:
        row = session.exec(select(CommunityRow)).one()
        row.initialized_at = moment
        session.add(row)
        session.commit()
    with store.unit_of_work() as session:
        stored = session.exec(select(CommunityRow)).one().initialized_at
    assert stored == moment
    assert stored is not None and stored.tzinfo is not None
    assert stored.utcoffset() == timedelta(0)


def test_a_redelivered_command_has_one_effect(store: Store) -> None:
    community = Community(store)
    community.say("admin", "/gov setup init")
    caller = Caller("console", "c1", "ann", "ann", False, "general")
    first = run_text(store, caller, "/gov body join operations", community.now, delivery_key="k1")
    after_first = community.counts()
    again = run_text(store, caller, "/gov body join operations", community.now, delivery_key="k1")
    assert "joined operations" in first[0].text
    assert again == []
    assert community.counts() == after_first
    with store.unit_of_work() as session:
        assert len(session.exec(select(Membership)).all()) == 1


CRASHER = """
import os, sys
from datetime import UTC, datetime
from govbot.bootstrap import open_store
from govbot import metrics
from govbot.commands import run_text
from govbot.services.base import Caller
store = open_store(sys.argv[1])
now = datetime(2026, 1, 5, 9, tzinfo=UTC)
run_text(store, Caller("console", "c1", "admin", "admin", True, "g"), "/gov setup init", now)
reply = run_text(store, Caller("console", "c1", "ann", "ann", False, "g"),
                 "/gov body join quality", now)
print(reply[0].text, flush=True)
os.kill(os.getpid(), 9)  # die before any clean shutdown
"""


def test_an_acknowledged_command_survives_the_process_being_killed(database_url: str) -> None:
    result = subprocess.run(
        [sys.executable, "-c", CRASHER, database_url],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
        env={**os.environ, "PYTHONPATH": os.getcwd()},
    )
    assert result.returncode == -signal.SIGKILL
    assert "joined quality" in result.stdout
    store = Store(database_url)
    try:
        community = Community(store)
        assert "@ann" in community.say("x", "/gov body show quality")
        assert "intact" in community.say("x", "/gov audit verify")
    finally:
        store.dispose()


def test_every_front_end_is_counted_the_same_way_in_metrics(store: Store) -> None:
    community = Community(store, community_id="metrics")
    community.say("admin", "/gov setup init")
    caller = Caller("console", "metrics", "ann", "ann", False, "general")
    run_text(store, caller, "/gov body join quality", community.now, delivery_key="m1")
    run_text(store, caller, "/gov body join quality", community.now, delivery_key="m1")
    run_text(store, caller, "/gov body add tsc @x", community.now)
    run_text(store, caller, "/gov body add", community.now)
    shown = metrics.REGISTRY.render({})
    for line in (
        'govbot_commands_total{platform="console",command="setup init",outcome="ok"}',
        'govbot_commands_total{platform="console",command="body join",outcome="duplicate"}',
        'govbot_commands_total{platform="console",command="body add",outcome="refused"}',
    ):
        assert line in shown
