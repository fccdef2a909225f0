"""`govbot console` as a person at a terminal, a pipe and a script meet it."""

from __future__ import annotations

import contextlib
import json
import os
import pty
import select
import subprocess
import sys
import time
from pathlib import Path

import pytest

from govbot.bootstrap import open_store
from tests.helpers import Community

ROOT = Path(__file__).resolve().parents[2]
PROMPT = b"gov> "


class Terminal:
    """`govbot console` in a pseudo-terminal: type keys, read the screen, see how it ended."""

    def __init__(self, folder: Path, *args: str) -> None:
        env = {k: v for k, v in os.environ.items() if not k.startswith("GOVBOT_")}
        self.pid, self.fd = pty.fork()
        if self.pid == 0:  # the child
            os.chdir(folder)
            os.execvpe(sys.executable, [sys.executable, "-m", "govbot", "console", *args], env)
        self.screen = bytearray()
        self.status: int | None = None

    def type(self, keys: bytes) -> None:
        os.write(self.fd, keys)

    def wait_for(self, ending: bytes, timeout: float = 60, *, showing: bytes = b"") -> None:
        """Read until the screen shows `showing` and ends with `ending` (a prompt)."""
        deadline = time.monotonic() + timeout
        while not (self.screen.endswith(ending) and showing in self.screen):
            assert time.monotonic() < deadline, self.text()
            ready, _, _ = select.select([self.fd], [], [], 1)
            if ready:
                try:
                    self.screen += os.read(self.fd, 4096)
                except OSError:
                    break

    def ended(self, timeout: float = 30) -> int:
        """Wait for the process to end; return its exit status."""
        deadline = time.monotonic() + timeout
        while self.status is None:
            ready, _, _ = select.select([self.fd], [], [], 0.5)
            if ready:
                with contextlib.suppress(OSError):
                    self.screen += os.read(self.fd, 4096)
            pid, status = os.waitpid(self.pid, os.WNOHANG)
            if pid:
                self.status = os.waitstatus_to_exitcode(status)
            assert self.status is not None or time.monotonic() < deadline, self.text()
        return self.status

    def text(self) -> str:
        return self.screen.decode("utf-8", "replace")

    def close(self) -> None:
        if self.status is None:
            os.kill(self.pid, 9)
            os.waitpid(self.pid, 0)
        os.close(self.fd)


@pytest.fixture
def terminal(tmp_path: Path) -> Terminal:
    term = Terminal(tmp_path, "--database", f"sqlite:///{tmp_path / 'console.db'}")
    yield term  # type: ignore[misc]
    term.close()


def test_the_prompt_edits_lines_with_the_arrow_keys(terminal: Terminal) -> None:
    terminal.wait_for(PROMPT)
    terminal.type(b"/gov setup init\r")
    terminal.wait_for(PROMPT)
    # Left twice, then insert the missing letter: only a line editor makes this `body list`.
    terminal.type(b"/gov body lst\x1b[D\x1b[Di\r")
    terminal.wait_for(PROMPT, showing=b"mediators: Mediator pool")
    assert "unknown" not in terminal.text()


@pytest.mark.parametrize(("key", "name"), [(b"\x03", "Ctrl-C"), (b"\x04", "Ctrl-D")])
def test_ctrl_c_and_ctrl_d_leave_cleanly(terminal: Terminal, key: bytes, name: str) -> None:
    terminal.wait_for(PROMPT)
    terminal.type(key)
    assert terminal.ended() == 0, name
    assert "Traceback" not in terminal.text()
    assert "KeyboardInterrupt" not in terminal.text()


@pytest.mark.parametrize("word", ["help", "/help"])
def test_help_points_to_gov_help(terminal: Terminal, word: str) -> None:
    terminal.wait_for(PROMPT)
    terminal.type(word.encode() + b"\r")
    terminal.wait_for(PROMPT, showing=b"type `/gov help` for the list")


def console(
    *args: str, stdin: str = "", cwd: Path | None = None
) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("GOVBOT_")}
    return subprocess.run(
        [sys.executable, "-m", "govbot", "console", *args],
        input=stdin,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
        cwd=cwd,
    )


def test_json_mode_prints_only_json_on_stdout(tmp_path: Path) -> None:
    typed = "/gov setup init\nhelp\nnonsense here\n/gov body show quality\n"
    result = console("--json", "--database", f"sqlite:///{tmp_path / 'c.db'}", stdin=typed)
    assert result.returncode == 0, result.stderr
    rows = [json.loads(line) for line in result.stdout.splitlines()]
    assert len(rows) == 2 and "Governance is set up" in rows[0]["text"]
    assert "govbot console" in result.stderr and "/gov help" in result.stderr
    assert "unknown directive or command: 'nonsense here'" in result.stderr


def test_a_closed_pipe_ends_quietly(tmp_path: Path) -> None:
    script = tmp_path / "long.script"
    script.write_text("!admin a\n@a /gov setup init\n" + "@a /gov body list\n" * 400, "utf-8")
    env = {k: v for k, v in os.environ.items() if not k.startswith("GOVBOT_")}
    reader = subprocess.Popen(
        [sys.executable, "-m", "govbot", "console", "--script", str(script), "--json"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        env=env,
    )
    assert reader.stdout is not None and reader.stderr is not None
    first = reader.stdout.readline()
    reader.stdout.close()  # like `| head -1`
    status = reader.wait(timeout=120)
    errors = reader.stderr.read().decode()
    reader.stderr.close()
    assert json.loads(first)["line"] == 2
    assert status == 0
    assert errors == ""


def test_advance_is_refused_on_a_database_the_console_did_not_create(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'bot.db'}"
    store = open_store(url)  # as `govbot run` leaves it: a real record
    Community(store, community_id="console").say("admin", "/gov setup init")
    store.dispose()
    script = tmp_path / "advance.script"
    script.write_text("!admin a\n@a /gov body list\n!advance 1y\n", "utf-8")
    result = console("--script", str(script), "--database", url)
    assert result.returncode == 2
    assert f"{script}:3: !advance is refused here" in result.stderr


def test_advance_works_again_on_a_database_the_console_made(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'mine.db'}"
    script = tmp_path / "advance.script"
    script.write_text("!admin a\n@a /gov setup init\n!advance 1d\n", "utf-8")
    assert console("--script", str(script), "--database", url).returncode == 0
    again = console("--script", str(script), "--database", url)
    assert again.returncode == 0, again.stderr


def test_the_readme_documents_every_script_directive() -> None:
    readme = (ROOT / "README.md").read_text("utf-8")
    for directive in ("!admin", "!channel", "!advance", "!expect", "!absent", "@name /gov"):
        assert f"`{directive}" in readme, directive
