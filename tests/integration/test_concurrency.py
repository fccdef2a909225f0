"""Two processes writing to one community at once leave one valid chain; timers run once."""

from __future__ import annotations

import os
import subprocess
import sys
from datetime import timedelta
from threading import Barrier, Thread

from sqlalchemy import text

from govbot.services.timers import run_due
from govbot.storage.db import Store
from tests.helpers import START, Community

WRITES_PER_PROCESS = 25

WRITER = """
import sys
from datetime import timedelta
from govbot.storage.db import Store
from tests.helpers import Community
url, name, count = sys.argv[1], sys.argv[2], int(sys.argv[3])
store = Store(url)
community = Community(store)
sys.stdout.write("ready\\n"); sys.stdout.flush()
sys.stdin.readline()  # start together
for i in range(count):
    verb = "join" if i % 2 == 0 else "leave"
    reply = community.run(name, f"/gov body {verb} operations")[0]
    assert not reply.error, reply.text
    community.now += timedelta(seconds=1)
store.dispose()
"""


def test_two_processes_writing_at_once_leave_one_valid_chain(store: Store) -> None:
    community = Community(store)
    community.say("admin", "/gov setup init")
    writers = [
        subprocess.Popen(
            [sys.executable, "-c", WRITER, store.url, name, str(WRITES_PER_PROCESS)],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            text=True,
            env={**os.environ, "PYTHONPATH": os.getcwd()},
        )
        for name in ("ann", "bob")
    ]
    for writer in writers:
        assert writer.stdout is not None and writer.stdout.readline().strip() == "ready"
    for writer in writers:
        assert writer.stdin is not None
        writer.stdin.write("go\n")
        writer.stdin.flush()
    for writer in writers:
        assert writer.wait(timeout=120) == 0
    with store.engine.connect() as conn:
        seqs = [r[0] for r in conn.execute(text("SELECT seq FROM audit_entry ORDER BY seq"))]
        by_actor = conn.execute(
            text(
                "SELECT m.display_name, count(*) FROM audit_entry a JOIN member m "
                "ON a.actor = 'member:' || m.id GROUP BY m.display_name"
            )
        ).all()
    assert seqs == list(range(1, len(seqs) + 1))
    # Each join starts a membership and each leave ends one: one entry apiece.
    counts = dict(by_actor)
    assert counts["ann"] == counts["bob"] == WRITES_PER_PROCESS
    assert "intact" in community.say("admin", "/gov audit verify")


def test_two_workers_claiming_due_work_do_it_once(store: Store) -> None:
    community = Community(store)
    community.say("admin", "/gov setup init")
    for name in ("ann", "bob", "cat", "dan"):
        community.say("admin", f"/gov body add committee @{name} until:30d")
    later = START + timedelta(days=31)
    barrier = Barrier(2)
    results: list[int] = []

    def worker() -> None:
        other = Store(store.url)
        barrier.wait()
        results.append(len(run_due(other, later)))
        other.dispose()

    threads = [Thread(target=worker) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert sum(results) == 4  # one notice per ended term, whoever claimed it
    with store.engine.connect() as conn:
        ended = conn.execute(
            text("SELECT count(*) FROM audit_entry WHERE action = 'membership.term_ended'")
        ).scalar_one()
    assert ended == 4
    assert "intact" in community.say("admin", "/gov audit verify")
