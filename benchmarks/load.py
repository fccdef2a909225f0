"""Ack and answer latency of one `govbot run` worker under an open-loop stream of commands.

    python benchmarks/load.py [--database sqlite|postgres|both] [--rates 50,100,200]
                              [--seconds 10] [--platform slack|discord|both]

Starts `govbot run` (both platforms, one process) against the project's fake Slack and fake
Discord on 127.0.0.1, sets up one community on each, then for every rate sends commands at
fixed times (never waiting for an answer before the next), half reads (`body show quality`,
`body list`) and half writes (`body join quality` / `body leave quality`, by many members, each
member's next write well after their last):

- Slack: signed `/gov` slash commands POSTed to the bot's `/slack/events`. The ack is the HTTP
  response; the answer is the ack when it carries the private answer, else the first
  response_url post, or the public chat.postMessage of a write.
- Discord: slash-command interactions pushed through the fake gateway. The ack is the first
  interaction callback; the answer is that callback when it is the answer, else the last
  webhook call (edit of the "thinking" message, or a followup) for that interaction.

Prints per platform and rate: the achieved send rate and the sender's own lag, ack and answer
p50/p99/max, how many were turned away as busy, answers later than 3 s after their ack, and
those never answered; beside them the mean time the bot spent in the command itself (from its
/metrics), to tell the command path from the front end. Targets from the issue: ack p99 under
100 ms at 200/s on SQLite (300 ms on Postgres), every answer within 3 s of its ack.

Figures, not a pass/fail test. Traffic goes to 127.0.0.1 only; each phase sends rate x seconds
commands and waits at most --drain seconds for the last answers.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import itertools
import math
import os
import re
import signal
import socket
import sys
import tempfile
import time
from collections import defaultdict
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

# Run as a script from the repository root: make `tests` (the fakes, tests/postgres.py) importable.
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from aiohttp import ClientSession, ClientTimeout, TCPConnector

from govbot.i18n import translate
from tests import postgres
from tests.e2e.fakes.discord_server import EPHEMERAL, FakeDiscord, FakeUser
from tests.e2e.fakes.slack_server import FakeSlack, slack_signature

ROOT = Path(__file__).resolve().parent.parent
SIGNING_SECRET = "govbot-load-signing-secret"
SLACK_ADMIN = "U0LOADADMIN"
LATE_AFTER = 3.0  # seconds from ack to answer the issue allows
BUSY_TEXT = translate("en", "slack.busy")
RECEIVED_TEXT = translate("en", "slack.received")
READS = ("body show quality", "body list")


# ---------------------------------------------------------------------------------- figures


def percentile(values: list[float], share: float) -> float:
    """Return the nearest-rank percentile of a list (0 < share <= 1)."""
    ordered = sorted(values)
    index = max(0, min(len(ordered) - 1, math.ceil(share * len(ordered)) - 1))
    return ordered[index]


def spread(values: list[float]) -> str:
    """Show p50/p99/max of seconds in milliseconds, or a dash when there are none."""
    if not values:
        return "-"
    ms = [v * 1000 for v in values]
    return f"p50 {percentile(ms, 0.5):7.1f}  p99 {percentile(ms, 0.99):7.1f}  max {max(ms):7.1f} ms"


@dataclass
class Sent:
    """One command: when it was due, when it went out, what came back and when."""

    index: int
    text: str
    user: str
    write: bool
    due: float
    started: float = 0.0
    acked: float | None = None
    ack_ok: bool = False
    busy: bool = False
    answer_on_ack: bool = False  # the ack carried the answer itself
    answered: float | None = None
    key: str = ""  # response_url (Slack) or interaction token (Discord)
    error: str = ""


@dataclass
class Phase:
    """What one platform at one rate saw."""

    platform: str
    rate: int
    seated: int = 0  # members on `quality` when the phase began (what reads and joins scan)
    sent: list[Sent] = field(default_factory=list)
    first_send: float = 0.0
    last_send: float = 0.0
    command_seconds: float | None = None  # mean time inside the command, from /metrics
    commands_counted: int = 0
    outcomes: dict[str, int] = field(default_factory=dict)

    def report(self) -> list[str]:
        """Render the phase's figures as lines."""
        count = len(self.sent)
        elapsed = max(self.last_send - self.first_send, 1e-9)
        achieved = (count - 1) / elapsed if count > 1 else 0.0
        lags = [s.started - s.due for s in self.sent]
        acks = [s.acked - s.started for s in self.sent if s.acked is not None and s.ack_ok]
        answered = [s for s in self.sent if s.answered is not None]
        answers = [s.answered - s.started for s in answered if s.answered is not None]
        late = sum(
            1
            for s in answered
            if s.acked is not None and s.answered is not None and s.answered - s.acked > LATE_AFTER
        )
        busy = sum(s.busy for s in self.sent)
        failed = [s for s in self.sent if not s.ack_ok]
        lost = sum(1 for s in self.sent if s.ack_ok and not s.busy and s.answered is None)
        on_ack = sum(s.answer_on_ack for s in self.sent)
        writes = [s for s in self.sent if s.write]
        reads = [s for s in self.sent if not s.write]
        lines = [
            f"{self.platform} at {self.rate}/s: {count} sent, achieved {achieved:.1f}/s, "
            f"sender lag p99 {percentile(lags, 0.99) * 1000:.1f} ms; "
            f"quality had about {self.seated} members"
            if lags
            else "",
            f"  ack     {spread(acks)}   ({len(acks)} acks)",
            f"  answer  {spread(answers)}   ({len(answers)} answers, {on_ack} on the ack)",
            f"    reads  ack {spread(self._acks(reads))}  answer {spread(self._answers(reads))}",
            f"    writes ack {spread(self._acks(writes))}  answer {spread(self._answers(writes))}",
            f"  busy {busy}   answer > {LATE_AFTER:.0f} s after ack: {late}   never answered: "
            f"{lost}   ack failed: {len(failed)}",
        ]
        if failed:
            reasons = defaultdict(int)
            for s in failed:
                reasons[s.error or "no ack"] += 1
            lines.append("    ack failures: " + ", ".join(f"{k} x{v}" for k, v in reasons.items()))
        if self.command_seconds is not None:
            lines.append(
                f"  inside the command (bot /metrics): mean {self.command_seconds * 1000:.1f} ms "
                f"over {self.commands_counted} commands; outcomes "
                + ", ".join(f"{k} {v}" for k, v in sorted(self.outcomes.items()) if v)
            )
        return [line for line in lines if line]

    @staticmethod
    def _acks(sent: list[Sent]) -> list[float]:
        return [s.acked - s.started for s in sent if s.acked is not None and s.ack_ok]

    @staticmethod
    def _answers(sent: list[Sent]) -> list[float]:
        return [s.answered - s.started for s in sent if s.answered is not None]


# ---------------------------------------------------------------------------------- traffic


class Traffic:
    """The commands of one platform, half reads and half join/leave writes, across all rates.

    Writes walk through the whole member pool, so one member's next write comes several
    seconds after their last (pool / write rate), and each member alternates join and leave:
    every write changes something, and none collides with the member's own previous one.
    """

    def __init__(self, pool: int) -> None:
        self.pool = pool
        self.joined: set[int] = set()
        self._writes = itertools.count()
        self._reads = itertools.count()

    def commands(self, count: int) -> Iterator[tuple[int, str, bool]]:
        """Yield `count` (member number, command text, is a write)."""
        for i in range(count):
            if i % 2 == 0:
                member = next(self._writes) % self.pool
                verb = "leave" if member in self.joined else "join"
                self.joined ^= {member}
                yield member, f"body {verb} quality", True
            else:
                k = next(self._reads)
                yield (k * 7919) % self.pool, READS[k % 2], False


def member_pool(rates: list[int]) -> int:
    """Return a pool big enough that a member writes at most every 8 s at the highest rate."""
    return max(20, max(rates) * 4)


async def open_loop(
    phase: Phase, traffic: Traffic, seconds: float, send: Callable[[Sent], Any]
) -> list[asyncio.Task[Any]]:
    """Start one send per due time, without waiting for any answer; return the tasks."""
    loop = asyncio.get_running_loop()
    begin = loop.time() + 0.2
    tasks = []
    rate = phase.rate
    for index, (member, text, write) in enumerate(traffic.commands(int(rate * seconds))):
        due = begin + index / rate
        delay = due - loop.time()
        if delay > 0:
            await asyncio.sleep(delay)
        sent = Sent(index, text, f"{member:05d}", write, due)
        phase.sent.append(sent)
        tasks.append(asyncio.create_task(send(sent)))
    return tasks


async def until(check: Callable[[], bool], timeout: float) -> None:  # noqa: ASYNC109
    """Poll a condition every 100 ms until it holds or the time is up."""
    deadline = time.monotonic() + timeout
    # The answers land in the fakes' records, which nothing signals: poll them.
    while not check() and time.monotonic() < deadline:  # noqa: ASYNC110
        await asyncio.sleep(0.1)


class Load:
    """What a platform's load offers a phase: send one command, collect, say when settled."""

    traffic: Traffic | None = None

    async def send(self, sent: Sent) -> None:
        """Send one command."""
        raise NotImplementedError

    def collect(self) -> None:
        """Match what the fake received since the last look to the commands it answers."""
        raise NotImplementedError

    def settled(self, phase: Phase) -> bool:
        """Say whether every command that can still be answered has been."""
        raise NotImplementedError


# ---------------------------------------------------------------------------------- Slack


def slack_user(member: str) -> str:
    """Return the Slack user id of a pool member."""
    return f"U0LOAD{member}"


def slack_name(member: str) -> str:
    """Return the display name of a pool member (fixed width: no name is a prefix of another)."""
    return f"lm{member}"


class SlackLoad(Load):
    """Signed slash commands to the bot; answers read from what the fake Slack received."""

    def __init__(self, fake: FakeSlack, endpoint: str, connections: int) -> None:
        self.fake = fake
        self.endpoint = endpoint
        self.connections = connections
        self.session: ClientSession | None = None
        self._by_url: dict[str, Sent] = {}
        self._responses_seen = 0
        self._calls_seen = 0
        self._waiting_post: dict[str, list[Sent]] = defaultdict(list)  # name -> writes in order

    async def __aenter__(self) -> SlackLoad:
        self.session = ClientSession(
            connector=TCPConnector(limit=self.connections), timeout=ClientTimeout(total=30)
        )
        return self

    async def __aexit__(self, *exc: object) -> None:
        if self.session is not None:
            await self.session.close()

    async def gov(self, text: str, user_id: str) -> tuple[int, str]:
        """Send one `/gov` command and return the HTTP status and body."""
        payload = self.fake.payloads.slash_command(text, user_id=user_id)
        return await self._post(urlencode(payload))

    async def _post(self, body: str) -> tuple[int, str]:
        assert self.session is not None
        timestamp = str(int(time.time()))
        headers = {
            "Content-Type": "application/x-www-form-urlencoded",
            "X-Slack-Request-Timestamp": timestamp,
            "X-Slack-Signature": slack_signature(SIGNING_SECRET, timestamp, body),
        }
        async with self.session.post(self.endpoint, data=body.encode(), headers=headers) as reply:
            return reply.status, await reply.text()

    async def send(self, sent: Sent) -> None:
        """Send one command of the load and note when its ack came and what it said."""
        user = slack_user(sent.user)
        payload = self.fake.payloads.slash_command(sent.text, user_id=user)
        sent.key = payload["response_url"]
        self._by_url[sent.key] = sent
        if sent.write:
            self._waiting_post[slack_name(sent.user)].append(sent)
        body = urlencode(payload)
        sent.started = time.monotonic()
        try:
            status, text = await self._post(body)
        except Exception as error:  # a refused connection, a timeout: counted, not fatal
            sent.error = type(error).__name__
            return
        sent.acked = time.monotonic()
        if status != 200:
            sent.error = f"HTTP {status}"
            return
        sent.ack_ok = True
        if BUSY_TEXT in text:
            sent.busy = True
            if sent.write and self.traffic is not None:
                self.traffic.joined ^= {int(sent.user)}  # not run: the member stays as they were
        elif RECEIVED_TEXT in text:
            pass  # the answer follows through response_url or a public post
        elif text.strip():
            sent.answer_on_ack = True
            sent.answered = sent.acked

    def collect(self) -> None:
        """Match what the fake received since the last look to the commands it answers."""
        responses = self.fake.responses
        for post in responses[self._responses_seen :]:
            found = self._by_url.get(post.url)
            if found is not None and found.answered is None:
                found.answered = max(post.received_at, found.acked or 0.0)
        self._responses_seen = len(responses)
        calls = self.fake.calls
        for call in calls[self._calls_seen :]:
            if call.method != "chat.postMessage":
                continue
            match = re.search(r"@(lm\d{5})\b", str(call.args.get("text") or ""))
            if match is None:
                continue
            for sent in self._waiting_post.get(match.group(1), []):
                if sent.answered is None and not sent.busy and sent.started <= call.received_at:
                    # The post may beat the ack's HTTP response here; it counts from the ack.
                    sent.answered = max(call.received_at, sent.acked or 0.0)
                    break
        self._calls_seen = len(calls)

    def settled(self, phase: Phase) -> bool:
        """Say whether every acked, not busy command has its answer."""
        self.collect()
        return all(s.answered is not None for s in phase.sent if s.ack_ok and not s.busy)


async def set_up_slack(load: SlackLoad) -> None:
    """Set up the workspace and an open body `quality` as its admin; check the answers."""
    for text in ("setup init", "body create name:quality kind:custom open:yes"):
        status, body = await load.gov(text, SLACK_ADMIN)
        if status != 200:
            raise RuntimeError(f"Slack `{text}` answered HTTP {status}: {body}")
    await asyncio.sleep(0.5)
    status, body = await load.gov("body show quality", SLACK_ADMIN)
    if status != 200 or "quality" not in body:
        raise RuntimeError(f"Slack set-up did not take: {status} {body}")


# ---------------------------------------------------------------------------------- Discord


class DiscordLoad(Load):
    """Slash-command interactions pushed through the fake gateway; answers from its REST log."""

    def __init__(self, fake: FakeDiscord, members: list[FakeUser]) -> None:
        self.fake = fake
        self.members = members
        self._by_token: dict[str, Sent] = {}
        self._calls_seen = 0
        self._hook = re.compile(r"/webhooks/\d+/(?P<token>[^/]+)(/.*)?")

    def payload(self, text: str, user: FakeUser) -> dict[str, Any]:
        """Build the interaction of a `body ...` text command."""
        words = text.split()
        options = {"body": words[2]} if len(words) > 2 else None
        return self.fake.build_slash_command(
            words[0], subcommand=words[1], user=user, options=options
        )

    async def send(self, sent: Sent) -> None:
        """Push one interaction of the load."""
        payload = self.payload(sent.text, self.members[int(sent.user)])
        sent.key = payload["token"]
        self._by_token[sent.key] = sent
        sent.started = time.monotonic()
        await self.fake.push_interaction(payload)

    def collect(self) -> None:
        """Read the callbacks and webhook calls made since the last look."""
        calls = self.fake.calls
        for call in calls[self._calls_seen :]:
            if call.path.startswith("/interactions/"):
                token = call.path.split("/")[3]
                sent = self._by_token.get(token)
                if sent is None or sent.acked is not None:
                    continue
                sent.acked = call.at
                sent.ack_ok = call.status < 300
                if not sent.ack_ok:
                    sent.error = f"{call.status} {(call.response or {}).get('code', '')}".strip()
                    continue
                if int((call.body or {}).get("type", 0)) == 4:
                    sent.answer_on_ack = True
                    sent.answered = call.at
                continue
            found = self._hook.fullmatch(call.path)
            if found is None:
                continue
            sent = self._by_token.get(found["token"])
            if sent is not None and not sent.answer_on_ack and call.status < 300:
                sent.answered = call.at  # the last one counts: the edit after a channel post
        self._calls_seen = len(calls)

    def settled(self, phase: Phase) -> bool:
        """Say whether every command was acked, and every accepted one answered."""
        self.collect()
        return all(
            s.acked is not None and (not s.ack_ok or s.answered is not None) for s in phase.sent
        )


async def set_up_discord(fake: FakeDiscord, load: DiscordLoad) -> None:
    """Set up the guild and an open body `quality` as its steward; check the answers."""
    steps: list[tuple[str, str, dict[str, Any] | None]] = [
        ("setup", "init", None),
        ("body", "create", {"name": "quality", "kind": "custom", "open": "yes"}),
    ]
    for name, sub, options in steps:
        record = await fake.push_interaction(
            fake.build_slash_command(name, subcommand=sub, user=fake.steward, options=options)
        )
        await fake.wait_until(lambda r=record: r.acknowledged, timeout=10)
        await fake.wait_until(
            lambda r=record: (
                r.response_type == 4 or any(f"/{r.token}/" in c.path for c in fake.calls)
            ),
            timeout=10,
        )
    record = await fake.push_interaction(load.payload("body show quality", fake.steward))
    await fake.wait_until(lambda: record.acknowledged, timeout=10)
    shown = str(record.response)
    if (
        "quality" not in shown
        or not int(((record.response or {}).get("data") or {}).get("flags") or 0) & EPHEMERAL
    ):
        raise RuntimeError(f"Discord set-up did not take: {shown[:300]}")


# ---------------------------------------------------------------------------------- the bot


def free_port() -> int:
    """Return a free TCP port on 127.0.0.1."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@dataclass
class Bot:
    """A `govbot run` process, its web port and its log."""

    process: asyncio.subprocess.Process
    port: int
    log: Path

    def log_lines(self) -> list[str]:
        """Return what the bot logged so far."""
        return self.log.read_text(errors="replace").splitlines()


@contextlib.asynccontextmanager
async def running_bot(
    database_url: str, slack: FakeSlack | None, discord_fake: FakeDiscord | None, workdir: Path
) -> Any:
    """Run `govbot run` on the configured platforms until the block ends (SIGTERM, then kill)."""
    port = free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith("GOVBOT_")}
    env |= {
        "GOVBOT_DATABASE_URL": database_url,
        "GOVBOT_WEB_HOST": "127.0.0.1",
        "GOVBOT_WEB_PORT": str(port),
        "PYTHONPATH": str(ROOT),
    }
    if slack is not None:
        env |= {
            "GOVBOT_SLACK_BOT_TOKEN": slack.bot_token,
            "GOVBOT_SLACK_SIGNING_SECRET": SIGNING_SECRET,
            "GOVBOT_SLACK_API_BASE": slack.api_url,
        }
    if discord_fake is not None:
        env |= {
            "GOVBOT_DISCORD_TOKEN": discord_fake.token,
            "GOVBOT_DISCORD_API_BASE": discord_fake.api_base,
            "GOVBOT_DISCORD_GATEWAY": discord_fake.gateway_url,
        }
    log = workdir / f"govbot-{port}.log"
    with log.open("wb") as sink:
        process = await asyncio.create_subprocess_exec(
            sys.executable,
            "-m",
            "govbot",
            "run",
            cwd=workdir,  # no stray .env
            env=env,
            stdin=asyncio.subprocess.DEVNULL,
            stdout=sink,
            stderr=sink,
        )
    bot = Bot(process, port, log)
    try:
        deadline = time.monotonic() + 60
        while not any("govbot running" in line for line in bot.log_lines()):
            if process.returncode is not None or time.monotonic() > deadline:
                raise RuntimeError("govbot did not start:\n" + "\n".join(bot.log_lines()[-30:]))
            await asyncio.sleep(0.1)
        yield bot
    finally:
        if process.returncode is None:
            process.send_signal(signal.SIGTERM)
            try:
                await asyncio.wait_for(process.wait(), 30)
            except TimeoutError:
                process.kill()
                await process.wait()


async def command_time(port: int, platform: str) -> tuple[float, int, dict[str, int]]:
    """Return the bot's seconds inside commands, their count, and the count by outcome."""
    async with (
        ClientSession() as http,
        http.get(f"http://127.0.0.1:{port}/metrics") as response,
    ):
        text = await response.text()
    total, count = 0.0, 0
    outcomes: dict[str, int] = defaultdict(int)
    for line in text.splitlines():
        if f'platform="{platform}"' not in line:
            continue
        found = re.match(r'govbot_commands_total\{.*outcome="(\w+)"\} (\S+)', line)
        if found:
            outcomes[found[1]] += int(float(found[2]))
        elif line.startswith("govbot_command_duration_seconds_sum"):
            total += float(line.rsplit(" ", 1)[1])
        elif line.startswith("govbot_command_duration_seconds_count"):
            count += int(float(line.rsplit(" ", 1)[1]))
    return total, count, outcomes


# ---------------------------------------------------------------------------------- phases


async def run_phase(
    platform: str,
    rate: int,
    args: argparse.Namespace,
    load: Load,
    traffic: Traffic,
    port: int,
) -> Phase:
    """Send one platform's commands at one rate, wait for the answers, and measure."""
    phase = Phase(platform, rate, seated=len(traffic.joined))
    seconds, drain = args.seconds, args.drain
    send, settled, collect = load.send, load.settled, load.collect
    load.traffic = traffic
    before = await command_time(port, platform)
    tasks = await open_loop(phase, traffic, seconds, send)
    phase.first_send = phase.sent[0].started if phase.sent else 0.0
    phase.last_send = max((s.started for s in phase.sent), default=0.0)
    await asyncio.wait(tasks, timeout=drain)
    await until(lambda: settled(phase), drain)
    collect()
    for task in tasks:
        task.cancel()
    after = await command_time(port, platform)
    counted = after[1] - before[1]
    if counted:
        phase.command_seconds = (after[0] - before[0]) / counted
        phase.commands_counted = counted
    phase.outcomes = {k: v - before[2].get(k, 0) for k, v in after[2].items()}
    # Let the bot finish whatever is still running before the next phase.
    await asyncio.sleep(1.0)
    return phase


async def bench_database(kind: str, args: argparse.Namespace, workdir: Path) -> None:
    """Run every platform and rate on one database."""
    if kind == "sqlite":
        url = f"sqlite:///{workdir / 'load.db'}"
    else:
        reason = postgres.unavailable()
        if reason:
            print(f"postgres: skipped ({reason})")
            return
        url = postgres.create_database()
    platforms = ["slack", "discord"] if args.platform == "both" else [args.platform]
    pool = member_pool(args.rates)
    try:
        async with contextlib.AsyncExitStack() as stack:
            slack = await stack.enter_async_context(FakeSlack()) if "slack" in platforms else None
            discord_fake = None
            members: list[FakeUser] = []
            if "discord" in platforms:
                discord_fake = FakeDiscord()
                members = [discord_fake.add_user(f"lm{i:05d}") for i in range(pool)]
                await stack.enter_async_context(discord_fake)
            if slack is not None:
                slack.add_user(SLACK_ADMIN, name="loadadmin", is_admin=True)
                for i in range(pool):
                    slack.add_user(slack_user(f"{i:05d}"), name=slack_name(f"{i:05d}"))
            bot = await stack.enter_async_context(running_bot(url, slack, discord_fake, workdir))
            print(f"\n== {kind}: govbot run (pid {bot.process.pid}), {pool} members per platform")
            if slack is not None:
                endpoint = f"http://127.0.0.1:{bot.port}/slack/events"
                load = await stack.enter_async_context(SlackLoad(slack, endpoint, args.connections))
                await set_up_slack(load)
                traffic = Traffic(pool)
                for rate in args.rates:
                    phase = await run_phase("slack", rate, args, load, traffic, bot.port)
                    print("\n".join(phase.report()), flush=True)
            if discord_fake is not None:
                await discord_fake.wait_for_session(timeout=30)
                await discord_fake.wait_until(
                    lambda: bool(discord_fake.global_commands or discord_fake.guild_commands),
                    timeout=30,
                    description="the command sync",
                )
                dload = DiscordLoad(discord_fake, members)
                await set_up_discord(discord_fake, dload)
                traffic = Traffic(pool)
                for rate in args.rates:
                    phase = await run_phase("discord", rate, args, dload, traffic, bot.port)
                    print("\n".join(phase.report()), flush=True)
            lines = bot.log_lines()
            warnings = [line for line in lines if " WARNING " in line or " ERROR " in line]
            tracebacks = sum("Traceback" in line for line in lines)
            print(f"bot log: {len(warnings)} warnings/errors, {tracebacks} tracebacks")
            kinds: dict[str, int] = defaultdict(int)
            for line in warnings:
                kinds[re.sub(r"\d+", "N", line.split(": ", 1)[-1])[:90]] += 1
            for text, n in sorted(kinds.items(), key=lambda kv: -kv[1])[:8]:
                print(f"  {n:6d} x {text}")
    finally:
        if kind == "postgres":
            postgres.drop_database(url)


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    """Read the command line."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--database", choices=["sqlite", "postgres", "both"], default="both")
    parser.add_argument("--platform", choices=["slack", "discord", "both"], default="both")
    parser.add_argument(
        "--rates", default="50,100,200", help="commands per second, comma-separated"
    )
    parser.add_argument("--seconds", type=float, default=10.0, help="length of each rate's run")
    parser.add_argument(
        "--drain", type=float, default=15.0, help="longest wait for the last answers of a run"
    )
    parser.add_argument(
        "--connections", type=int, default=256, help="most Slack HTTP connections open at once"
    )
    args = parser.parse_args(argv)
    args.rates = [int(r) for r in str(args.rates).split(",") if r.strip()]
    if not args.rates or min(args.rates) <= 0 or args.seconds <= 0:
        parser.error("rates and seconds must be positive")
    if max(args.rates) * args.seconds > 20_000:
        parser.error("at most 20,000 commands per run")
    return args


async def main(args: argparse.Namespace) -> None:
    """Run the chosen databases one after the other."""
    kinds = ["sqlite", "postgres"] if args.database == "both" else [args.database]
    print(
        f"rates {args.rates}/s, {args.seconds:g} s each, half reads half writes; "
        f"targets: ack p99 < 100 ms (SQLite) / 300 ms (Postgres) at 200/s, "
        f"answer within {LATE_AFTER:g} s of ack"
    )
    with tempfile.TemporaryDirectory(prefix="govbot-load-") as tmp:
        for kind in kinds:
            await bench_database(kind, args, Path(tmp))


if __name__ == "__main__":
    options = parse_args()
    budget = len(options.rates) * (options.seconds + options.drain + 10) * 2 * 2 + 120
    asyncio.run(asyncio.wait_for(main(options), budget))
