"""kill -9 in the middle of a signed burst: every acknowledged command has exactly one effect."""

from __future__ import annotations

import asyncio
import os
import signal
import socket
import sqlite3
import subprocess
import sys
import threading
from collections import Counter
from pathlib import Path

from aiohttp import ClientError
from sqlalchemy import select

from govbot.services import inbox
from govbot.storage.db import Store
from govbot.storage.models import Body, Member, Membership
from tests.e2e import slack_fixtures
from tests.e2e.fakes.slack_server import AppReply, FakeSlack, SignedRequestClient
from tests.e2e.slack_fixtures import ADMIN_ID, SIGNING_SECRET, eventually

fake_slack = slack_fixtures.fake_slack

STARTED = "govbot running: slack"
BURST = 240
CONCURRENCY = 24
KILL_AFTER = 80  # acks seen before the kill
FIRST_WAVE = 20  # commands sent before the database is held
BUSY = "govbot is busy right now"
RECEIVED = "Received, working on it"
# The database is held this long mid-burst, past the ack budget, so some commands are
# acknowledged as received and finished from the inbox.
STALL_SECONDS = 2.0


def _stall_database(path: Path, released: threading.Event, holding: threading.Event) -> None:
    """Hold SQLite's write lock for a while, as a long transaction elsewhere would."""
    conn = sqlite3.connect(path, timeout=30, isolation_level=None)
    try:
        conn.execute("BEGIN IMMEDIATE")
        holding.set()
        released.wait(STALL_SECONDS)
        conn.execute("ROLLBACK")
    finally:
        conn.close()


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


class Govbot:
    """`govbot run --platform slack` as a child process, serving HTTP on a fixed port."""

    def __init__(self, fake: FakeSlack, database_url: str, workdir: Path) -> None:
        self.port = _free_port()
        self.env = {k: v for k, v in os.environ.items() if not k.startswith("GOVBOT_")}
        self.env.update(
            {
                "GOVBOT_DATABASE_URL": database_url,
                "GOVBOT_SLACK_BOT_TOKEN": fake.bot_token,
                "GOVBOT_SLACK_SIGNING_SECRET": SIGNING_SECRET,
                "GOVBOT_SLACK_API_BASE": fake.api_url,
                "GOVBOT_WEB_HOST": "127.0.0.1",
                "GOVBOT_WEB_PORT": str(self.port),
                "PYTHONPATH": os.getcwd(),
            }
        )
        self.workdir = workdir
        self.process: asyncio.subprocess.Process | None = None
        self._reader: asyncio.Task[None] | None = None
        self.log: list[str] = []

    @property
    def events_url(self) -> str:
        """Return the Slack events endpoint of the child."""
        return f"http://127.0.0.1:{self.port}/slack/events"

    async def start(self) -> None:
        """Start the child and wait until it says it is running."""
        self.process = await asyncio.create_subprocess_exec(
            sys.executable,
            "-m",
            "govbot",
            "run",
            "--platform",
            "slack",
            cwd=self.workdir,
            env=self.env,
            stdin=asyncio.subprocess.DEVNULL,
            stderr=asyncio.subprocess.PIPE,
        )
        assert self.process.stderr is not None
        while True:
            line = await asyncio.wait_for(self.process.stderr.readline(), 60)
            if not line:
                raise AssertionError("govbot exited:\n" + "".join(self.log))
            self.log.append(line.decode(errors="replace"))
            if STARTED in self.log[-1]:
                break
        self._reader = asyncio.create_task(self._drain_log())

    async def _drain_log(self) -> None:
        assert self.process is not None and self.process.stderr is not None
        while line := await self.process.stderr.readline():
            self.log.append(line.decode(errors="replace"))

    async def kill(self, sig: int = signal.SIGKILL) -> int:
        """Send a signal and wait for the child to end; return its exit status."""
        assert self.process is not None
        if self.process.returncode is None:
            self.process.send_signal(sig)
        return await asyncio.wait_for(self.process.wait(), 60)


def _member_seats(store: Store) -> Counter[str]:
    with store.unit_of_work() as session:
        rows = session.execute(
            select(Member.platform_user_id)
            .join(Membership, Membership.member_id == Member.id)  # type: ignore[arg-type]
            .join(Body, Body.id == Membership.body_id)  # type: ignore[arg-type]
            .where(Body.slug == "quality")
        ).all()
    return Counter(str(row[0]) for row in rows)


async def test_a_kill_9_mid_burst_loses_no_acknowledged_command_and_doubles_none(
    fake_slack: FakeSlack, tmp_path: Path
) -> None:
    url = f"sqlite:///{tmp_path / 'govbot.db'}"
    users = [f"U{n:07d}" for n in range(BURST)]
    for user in users:
        fake_slack.add_user(user, name=f"m{user[1:]}")
    first = Govbot(fake_slack, url, tmp_path)
    await first.start()
    acked: dict[str, AppReply] = {}
    others: list[int] = []
    try:
        async with SignedRequestClient(first.events_url, SIGNING_SECRET) as slack:
            await slack.send_slash_command(
                fake_slack.payloads.slash_command("setup init", user_id=ADMIN_ID)
            )
            await fake_slack.wait_for_call("chat.postMessage", timeout=30)
            gate = asyncio.Semaphore(CONCURRENCY)
            enough = asyncio.Event()

            async def join(user: str) -> None:
                async with gate:
                    if enough.is_set():
                        return
                    payload = fake_slack.payloads.slash_command("body join quality", user_id=user)
                    try:
                        answer = await slack.send_slash_command(payload)
                    except (ClientError, OSError):
                        return  # the process died before it answered: never acknowledged
                    if answer.status != 200:
                        others.append(answer.status)
                    else:
                        acked[user] = answer
                        received = any(RECEIVED in a.text for a in acked.values())
                        if len(acked) >= KILL_AFTER and received:
                            enough.set()

            # A first wave goes through; the rest is sent while the database is held, so
            # that some commands outrun the ack budget (a fast burst would otherwise end first).
            burst = [asyncio.create_task(join(user)) for user in users[:FIRST_WAVE]]
            await eventually(lambda: len(acked) >= 10, timeout=60)
            released, holding = threading.Event(), threading.Event()
            stall = asyncio.create_task(
                asyncio.to_thread(_stall_database, tmp_path / "govbot.db", released, holding)
            )
            await eventually(holding.is_set, timeout=30)
            burst += [asyncio.create_task(join(user)) for user in users[FIRST_WAVE:]]
            # Until enough acks came back, or the burst ran out without that.
            await eventually(lambda: enough.is_set() or all(t.done() for t in burst), timeout=90)
            statuses = Counter(others)
            assert enough.is_set(), f"{len(acked)} acks, other answers {statuses}"
            assert await first.kill() == -signal.SIGKILL
            released.set()
            await asyncio.wait_for(asyncio.gather(*burst, stall), 60)
    finally:
        await first.kill()

    second = Govbot(fake_slack, url, tmp_path)
    await second.start()
    store = Store(url)
    try:
        # Rows the dead worker leased come free when the lease runs out; then they run once.
        await eventually(lambda: inbox.pending(store, "slack") == 0, timeout=60)
        seats = _member_seats(store)
    finally:
        store.dispose()
        status = await second.kill(signal.SIGTERM)
    assert status == 0, "".join(second.log)

    answered = {u for u, a in acked.items() if BUSY not in a.text}
    busy = set(acked) - answered
    assert len(answered) >= KILL_AFTER // 2
    assert all(count == 1 for count in seats.values()), seats.most_common(3)
    assert answered <= set(seats), sorted(answered - set(seats))[:5]
    assert not busy & set(seats)
    verified = await asyncio.to_thread(
        subprocess.run,
        [sys.executable, "-m", "govbot", "audit", "verify"],
        env={**first.env, "GOVBOT_DATABASE_URL": url},
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert verified.returncode == 0, verified.stdout + verified.stderr
    assert "intact" in verified.stdout
    received = {u for u, a in acked.items() if RECEIVED in a.text}
    assert received, "no command outran the budget; the inbox path went untested"
    print(f"acked {len(acked)} (busy {len(busy)}, received {len(received)}), seated {len(seats)}")
