"""`govbot run` with and without platform settings, as a deployment sees it."""

from __future__ import annotations

import os
import pty
import select
import subprocess
import sys
import time
from pathlib import Path


def clean_env(tmp_path: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("GOVBOT_")}
    env["GOVBOT_DATABASE_URL"] = f"sqlite:///{tmp_path / 'govbot.db'}"
    return env


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


def test_run_in_a_terminal_without_tokens_starts_the_console_on_a_local_file(
    tmp_path: Path,
) -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith("GOVBOT_")}
    pid, fd = pty.fork()
    if pid == 0:  # the child: govbot in a terminal, in an empty folder
        os.chdir(tmp_path)
        os.execvpe(sys.executable, [sys.executable, "-m", "govbot", "run"], env)
    output = b""
    try:
        os.write(fd, b"/gov setup init\n/gov body list\n")
        deadline = time.monotonic() + 60
        while b"mediators" not in output and time.monotonic() < deadline:
            ready, _, _ = select.select([fd], [], [], 1)
            if ready:
                try:
                    output += os.read(fd, 4096)
                except OSError:
                    break
        os.write(fd, b"\x04")
    finally:
        _, status = os.waitpid(pid, 0)
        os.close(fd)
    text = output.decode("utf-8", "replace")
    assert "govbot console" in text
    assert "Governance is set up" in text and "mediators" in text
    assert os.waitstatus_to_exitcode(status) == 0
    assert (tmp_path / "govbot.db").exists()
