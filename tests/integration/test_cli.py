"""The `govbot` command line as an operator meets it: exit statuses and one-line messages."""

from __future__ import annotations

import argparse
import importlib.metadata
import json
import logging
import os
import pty
import re
import select
import sqlite3
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol

import pytest
from sqlalchemy import text

from govbot import cli
from govbot.bootstrap import open_store
from govbot.storage.db import Store
from tests.helpers import Community


def clean_env(tmp_path: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("GOVBOT_")}
    env["GOVBOT_DATABASE_URL"] = f"sqlite:///{tmp_path / 'govbot.db'}"
    return env


def govbot(
    *args: str, cwd: Path, env: dict[str, str] | None = None
) -> subprocess.CompletedProcess[str]:
    """Run `python -m govbot ARGS` with no terminal, as a script or container would."""
    base = {k: v for k, v in os.environ.items() if not k.startswith("GOVBOT_")}
    return subprocess.run(
        [sys.executable, "-m", "govbot", *args],
        env={**base, **(env or {})},
        stdin=subprocess.DEVNULL,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
        cwd=cwd,
    )


@dataclass
class Outcome:
    status: int
    out: str
    err: str

    @property
    def line(self) -> str:
        """Return stderr's only line (failing when there are more: one line, no traceback)."""
        lines = self.err.strip().splitlines()
        assert len(lines) == 1, self.err
        return lines[0]


class Run(Protocol):
    def __call__(self, *args: str, **env: str) -> Outcome: ...


@pytest.fixture
def run(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> Iterator[Run]:
    """Call `cli.main` in an empty folder with no GOVBOT_* variables; restore logging after."""
    for name in list(os.environ):
        if name.startswith("GOVBOT_"):
            monkeypatch.delenv(name)
    monkeypatch.chdir(tmp_path)
    root = logging.getLogger()
    saved = root.handlers[:], root.level
    chatty = {n: logging.getLogger(n).level for n in ("alembic", "apscheduler")}

    def call(*args: str, **env: str) -> Outcome:
        for name, value in env.items():
            monkeypatch.setenv(name, value)
        capsys.readouterr()
        status = cli.main(list(args))
        captured = capsys.readouterr()
        return Outcome(status, captured.out, captured.err)

    yield call
    root.handlers[:], root.level = saved
    for name, level in chatty.items():
        logging.getLogger(name).setLevel(level)


def url_of(path: Path) -> str:
    return f"sqlite:///{path}"


@pytest.fixture
def record(tmp_path: Path) -> Iterator[Store]:
    """A govbot database in the test folder holding one community's audit entries."""
    store = open_store(url_of(tmp_path / "govbot.db"))
    Community(store, community_id="c1").say("admin", "/gov setup init timezone:UTC")
    try:
        yield store
    finally:
        store.dispose()


def entries(store: Store) -> list[tuple[int, str]]:
    with store.engine.connect() as conn:
        rows = conn.execute(text("SELECT seq, hash FROM audit_entry ORDER BY seq")).all()
    return [(int(seq), str(digest)) for seq, digest in rows]


# --------------------------------------------------------------------- run


def test_run_without_platform_settings_or_a_terminal_exits_non_zero(tmp_path: Path) -> None:
    result = subprocess.run(
        [sys.executable, "-m", "govbot", "run"],
        env=clean_env(tmp_path),
        stdin=subprocess.DEVNULL,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
        cwd=tmp_path,
    )
    assert result.returncode != 0
    for variable in ("GOVBOT_DISCORD_TOKEN", "GOVBOT_SLACK_BOT_TOKEN", "GOVBOT_SLACK_APP_TOKEN"):
        assert variable in result.stderr


def test_run_for_one_platform_names_its_missing_settings(tmp_path: Path) -> None:
    result = subprocess.run(
        [sys.executable, "-m", "govbot", "run", "--platform", "discord"],
        env=clean_env(tmp_path),
        stdin=subprocess.DEVNULL,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
        cwd=tmp_path,
    )
    assert result.returncode == 2
    assert "GOVBOT_DISCORD_TOKEN" in result.stderr


def read_until(fd: int, output: bytearray, done: bytes, timeout: float = 60) -> None:
    """Read a pty into `output` until it ends with `done` (or the child closes it)."""
    deadline = time.monotonic() + timeout
    while not output.endswith(done) and time.monotonic() < deadline:
        ready, _, _ = select.select([fd], [], [], 1)
        if ready:
            try:
                output += os.read(fd, 4096)
            except OSError:
                return


def test_run_in_a_terminal_without_tokens_starts_the_console_on_a_local_file(
    tmp_path: Path,
) -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith("GOVBOT_")}
    pid, fd = pty.fork()
    if pid == 0:  # the child: govbot in a terminal, in an empty folder
        os.chdir(tmp_path)
        os.execvpe(sys.executable, [sys.executable, "-m", "govbot", "run"], env)
    output = bytearray()
    try:
        os.write(fd, b"/gov setup init\n/gov body list\n")
        read_until(fd, output, b"no chair\r\ngov> ")
        os.write(fd, b"\x04")  # Ctrl-D at the prompt
        read_until(fd, output, b"\0")
    finally:
        _, status = os.waitpid(pid, 0)
        os.close(fd)
    shown = output.decode("utf-8", "replace")
    assert "govbot console" in shown
    assert "Governance is set up" in shown and "mediators" in shown
    assert "Traceback" not in shown
    assert os.waitstatus_to_exitcode(status) == 0
    assert (tmp_path / "govbot.db").exists()


def test_a_half_configured_platform_names_exactly_the_missing_setting(run: Run) -> None:
    outcome = run("run", GOVBOT_SLACK_BOT_TOKEN="xoxb-1")
    assert outcome.status == 2
    assert "GOVBOT_SLACK_SIGNING_SECRET" in outcome.line
    assert "GOVBOT_SLACK_APP_TOKEN" in outcome.line
    oauth = run(
        "run", "--platform", "slack", GOVBOT_SLACK_CLIENT_ID="1.2", GOVBOT_SLACK_BOT_TOKEN=""
    )
    assert oauth.status == 2
    assert "GOVBOT_SLACK_CLIENT_SECRET" in oauth.line


# --------------------------------------------------------------------- settings


@pytest.mark.parametrize(
    ("variable", "value"),
    [("GOVBOT_WEB_PORT", "eighty"), ("GOVBOT_WEB_PORT", "70000"), ("GOVBOT_LOG_FORMAT", "xml")],
)
def test_a_bad_setting_is_named_in_one_line_and_exits_2(
    run: Run, variable: str, value: str
) -> None:
    outcome = run("db", "current", **{variable: value})
    assert outcome.status == 2
    assert outcome.line.startswith(f"govbot: {variable}: ")
    assert repr(value) in outcome.line


def test_a_bad_log_level_is_named_in_one_line(run: Run) -> None:
    outcome = run("db", "current", GOVBOT_LOG_LEVEL="loud")
    assert outcome.status == 2
    assert outcome.line.startswith("govbot: GOVBOT_LOG_LEVEL: ")


def test_a_misspelled_variable_is_warned_about_with_the_likely_name(
    run: Run, tmp_path: Path, record: Store
) -> None:
    (tmp_path / ".env").write_text("GOVBOT_SLACK_SIGNING_SECRT=abc\n", "utf-8")
    outcome = run("db", "current", GOVBOT_DISCORD_TOKN="x")
    assert outcome.status == 0
    assert (
        "GOVBOT_DISCORD_TOKN" in outcome.err and "did you mean GOVBOT_DISCORD_TOKEN" in outcome.err
    )
    assert "did you mean GOVBOT_SLACK_SIGNING_SECRET" in outcome.err


def test_json_logs_carry_rfc3339_utc_times(tmp_path: Path) -> None:
    result = govbot(
        "db",
        "upgrade",
        cwd=tmp_path,
        env={"GOVBOT_LOG_FORMAT": "json", "GOVBOT_DISCORD_TOKN": "x"},
    )
    assert result.returncode == 0, result.stderr
    line = json.loads(result.stderr.strip().splitlines()[0])
    assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z", line["time"])
    assert line["level"] == "WARNING" and "GOVBOT_DISCORD_TOKN" in line["message"]


# --------------------------------------------------------------------- the command itself


def test_bare_govbot_prints_help(run: Run) -> None:
    outcome = run()
    assert outcome.status == 0
    assert outcome.out.startswith("usage: govbot")
    for command in ("run", "console", "db", "audit"):
        assert f"    {command} " in outcome.out


def test_version_is_the_installed_version(tmp_path: Path) -> None:
    result = govbot("--version", cwd=tmp_path)
    assert result.returncode == 0
    assert result.stdout.strip() == f"govbot {importlib.metadata.version('govbot')}"


def test_every_option_and_command_has_help_text() -> None:
    def walk(parser: argparse.ArgumentParser, path: str) -> Iterator[str]:
        for action in parser._actions:
            if isinstance(action, argparse._SubParsersAction):
                helps = {a.dest: a.help for a in action._choices_actions}
                for name, child in action.choices.items():
                    if not helps.get(name):
                        yield f"{path} {name}"
                    yield from walk(child, f"{path} {name}")
            elif not action.help:
                yield f"{path} {'/'.join(action.option_strings) or action.dest}"

    assert list(walk(cli._parser(), "govbot")) == []


def test_help_imports_no_platform_or_database_library(tmp_path: Path) -> None:
    probe = (
        "import sys\nfrom govbot import cli\ntry:\n    cli.main(['--help'])\n"
        "except SystemExit:\n    pass\n"
        "heavy = {'discord', 'slack_bolt', 'slack_sdk', 'aiohttp', 'sqlalchemy', 'sqlmodel',"
        " 'alembic', 'pydantic', 'apscheduler'}\n"
        "print(sorted({m.split('.')[0] for m in sys.modules} & heavy), file=sys.stderr)\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", probe], capture_output=True, text=True, timeout=60, check=True
    )
    assert result.stderr.strip() == "[]"


# --------------------------------------------------------------------- db


def test_db_current_says_head_and_upgrade_prints_no_alembic_info(run: Run) -> None:
    upgraded = run("db", "upgrade")
    assert upgraded.status == 0
    assert upgraded.err == ""
    assert upgraded.out.strip().endswith("(head)")
    current = run("db", "current")
    assert re.fullmatch(r"\d{4} \(head\)", current.out.strip())


def test_log_level_debug_shows_the_migration_lines(run: Run) -> None:
    outcome = run("db", "upgrade", GOVBOT_LOG_LEVEL="debug")
    assert outcome.status == 0
    assert "Running upgrade" in outcome.err


def test_database_option_overrides_the_setting(run: Run, tmp_path: Path) -> None:
    other = tmp_path / "other.db"
    upgraded = run("db", "upgrade", "--database", url_of(other))
    assert upgraded.status == 0 and other.exists()
    assert not (tmp_path / "govbot.db").exists()
    verified = run("audit", "verify", "--database", url_of(other))
    assert verified.status == 0
    assert "nothing to verify" in verified.out


def test_a_malformed_database_url_is_one_line_naming_the_setting(run: Run) -> None:
    outcome = run("db", "upgrade", GOVBOT_DATABASE_URL="govbot.db")
    assert outcome.status == 2
    assert "GOVBOT_DATABASE_URL" in outcome.line and "not a usable database URL" in outcome.line


def test_an_unreachable_database_hides_its_password(run: Run) -> None:
    url = "postgresql://govbot:s3cret@127.0.0.1:1/govbot"
    outcome = run("audit", "verify", "--database", url)
    assert outcome.status == 2
    assert "--database" in outcome.line and "s3cret" not in outcome.line


def test_an_unknown_revision_is_one_line_listing_the_known_ones(run: Run, record: Store) -> None:
    outcome = run("db", "downgrade", "9999", "--yes")
    assert outcome.status == 2
    assert "'9999'" in outcome.line and "base, 0001" in outcome.line


def test_downgrade_asks_for_yes_and_changes_nothing_without_it(run: Run, record: Store) -> None:
    before = run("db", "current").out
    outcome = run("db", "downgrade", "-1")
    assert outcome.status == 2
    assert "--yes" in outcome.line
    assert run("db", "current").out == before
    done = run("db", "downgrade", "-1", "--yes")
    assert done.status == 0, done.err
    assert "head is" in done.out
    count = len(entries(record))
    back = run("db", "upgrade")
    assert back.status == 0, back.err
    assert back.out.strip().endswith("(head)")
    assert len(entries(record)) == count


def test_downgrade_refuses_to_drop_the_audit_record_without_force(run: Run, record: Store) -> None:
    count = len(entries(record))
    refused = run("db", "downgrade", "base", "--yes")
    assert refused.status == 2
    assert f"audit record ({count} entries)" in refused.line and "--force" in refused.line
    assert len(entries(record)) == count
    forced = run("db", "downgrade", "base", "--yes", "--force")
    assert forced.status == 0
    assert forced.out.strip() == "(empty)"


def test_backup_copies_a_live_sqlite_database(run: Run, record: Store, tmp_path: Path) -> None:
    copy = tmp_path / "backups" / "copy.db"
    copy.parent.mkdir()
    outcome = run("db", "backup", str(copy))
    assert outcome.status == 0, outcome.err
    with sqlite3.connect(copy) as conn:
        rows = conn.execute("SELECT seq, hash FROM audit_entry ORDER BY seq").fetchall()
    assert rows == entries(record)
    verified = run("audit", "verify", "--database", url_of(copy))
    assert verified.status == 0 and "intact" in verified.out
    again = run("db", "backup", str(copy))
    assert again.status == 2 and "exists" in again.line


def test_backup_of_postgres_points_to_pg_dump(run: Run) -> None:
    outcome = run(
        "db", "backup", "x.dump", GOVBOT_DATABASE_URL="postgresql+psycopg://u@127.0.0.1/db"
    )
    assert outcome.status == 2
    assert "pg_dump" in outcome.line


def test_backup_to_an_unwritable_place_is_one_line(run: Run, record: Store) -> None:
    outcome = run("db", "backup", "/proc/govbot/copy.db")
    assert outcome.status == 2
    assert "/proc/govbot/copy.db" in outcome.line


# --------------------------------------------------------------------- audit


def test_verify_in_the_wrong_folder_exits_2_and_creates_nothing(run: Run, tmp_path: Path) -> None:
    outcome = run("audit", "verify")
    assert outcome.status == 2
    assert "no database at govbot.db" in outcome.line and "GOVBOT_DATABASE_URL" in outcome.line
    assert list(tmp_path.iterdir()) == []
    current = run("db", "current")
    assert current.status == 2
    assert list(tmp_path.iterdir()) == []


def test_verify_on_a_file_that_is_not_a_govbot_database_exits_2(run: Run, tmp_path: Path) -> None:
    sqlite3.connect(tmp_path / "govbot.db").close()
    outcome = run("audit", "export")
    assert outcome.status == 2
    assert "no govbot schema" in outcome.line


def test_verify_prints_the_head_and_checks_an_expected_head(run: Run, record: Store) -> None:
    seq, digest = entries(record)[-1]
    outcome = run("audit", "verify")
    assert outcome.status == 0
    assert f"console:c1: intact, {seq} entries, head #{seq} {digest}" in outcome.out
    kept = run("audit", "verify", "--expect", f"{seq}:{digest}")
    assert kept.status == 0
    assert f"holds the expected entry #{seq}" in kept.out


def test_verify_expect_fails_when_the_chain_no_longer_holds_that_head(
    run: Run, record: Store
) -> None:
    seq, digest = entries(record)[-1]
    other = "f" * 64
    wrong = run("audit", "verify", "--expect", f"{seq}:{other}")
    assert wrong.status == 1
    assert f"entry #{seq} is {digest}, NOT the expected {other}" in wrong.out
    beyond = run("audit", "verify", "--expect", f"{seq + 5}:{digest}")
    assert beyond.status == 1
    assert f"MISSING the expected entry #{seq + 5}" in beyond.out


def test_verify_expect_rejects_a_malformed_anchor(tmp_path: Path) -> None:
    result = govbot("audit", "verify", "--expect", "twelve:abc", cwd=tmp_path)
    assert result.returncode == 2
    assert "expected SEQ:HASH" in result.stderr


def test_export_to_an_unwritable_output_is_one_line_naming_it(
    run: Run, record: Store, tmp_path: Path
) -> None:
    target = tmp_path / "missing" / "audit.json"
    outcome = run("audit", "export", "--output", str(target))
    assert outcome.status == 2
    assert str(target) in outcome.line and "--output" in outcome.line


def test_export_writes_the_chain_to_the_output_file(
    run: Run, record: Store, tmp_path: Path
) -> None:
    target = tmp_path / "audit.json"
    outcome = run("audit", "export", "--output", str(target))
    assert outcome.status == 0
    rows = json.loads(target.read_text("utf-8"))
    assert [(r["seq"], r["hash"]) for r in rows] == entries(record)
