"""The console stories of shared/scenarios, run as they are, on SQLite and Postgres."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

HERE = Path(__file__).resolve().parent.parent / "scenarios"
SHARED = Path(__file__).resolve().parents[3] / "shared" / "scenarios"
SCRIPTS = sorted(HERE.glob("*.script"))


def console(*args: str, database: str | None = None) -> subprocess.CompletedProcess[str]:
    """Run `govbot console` as a user would."""
    extra = ["--database", database] if database else []
    return subprocess.run(
        [sys.executable, "-m", "govbot", "console", *extra, *args],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
        env={k: v for k, v in os.environ.items() if k != "GOVBOT_DATABASE_URL"},
    )


@pytest.mark.parametrize("script", SCRIPTS, ids=lambda p: p.name)
def test_scenario_passes(script: Path, database_url: str) -> None:
    result = console("--script", str(script), "--now", "2026-01-05T09:00Z", database=database_url)
    assert result.returncode == 0, result.stdout + result.stderr


def test_the_copies_match_the_shared_scenarios() -> None:
    if not SHARED.is_dir():
        pytest.skip("shared/scenarios is not beside this clone")
    shared = {p.name: p.read_text("utf-8") for p in SHARED.glob("*.script")}
    copies = {p.name: p.read_text("utf-8") for p in SCRIPTS if p.name in shared}
    # Every shared story is here word for word; the project may add stories of its own.
    assert copies == shared


def test_a_failed_expectation_exits_1_naming_the_line(tmp_path: Path) -> None:
    script = tmp_path / "fail.script"
    script.write_text("!admin a\n@a /gov setup init\n!expect no such words\n", "utf-8")
    result = console("--script", str(script))
    assert result.returncode == 1
    assert f"{script}:3" in result.stderr and "no such words" in result.stderr


def test_an_unknown_directive_exits_2(tmp_path: Path) -> None:
    script = tmp_path / "bad.script"
    script.write_text("!teleport mars\n", "utf-8")
    result = console("--script", str(script))
    assert result.returncode == 2
    assert f"{script}:1" in result.stderr


def test_json_output_names_the_line_visibility_and_recipient(tmp_path: Path) -> None:
    script = tmp_path / "json.script"
    script.write_text(
        "!admin lin\n!channel dev\n@lin /gov setup init\n@bob /gov body add tsc @bob\n"
        "@lin /gov body add committee @carol until:30d\n!advance 31d\n",
        "utf-8",
    )
    result = console("--script", str(script), "--json")
    assert result.returncode == 0, result.stderr
    rows = [json.loads(line) for line in result.stdout.splitlines()]
    assert all(set(r) == {"line", "visibility", "recipient", "text"} for r in rows)
    assert (rows[0]["line"], rows[0]["visibility"], rows[0]["recipient"]) == (3, "public", "#dev")
    assert (rows[1]["line"], rows[1]["visibility"], rows[1]["recipient"]) == (4, "private", "@bob")
    dm = [r for r in rows if r["visibility"] == "dm"]
    assert [(r["line"], r["recipient"]) for r in dm] == [(6, "@carol")]


def test_plain_output_shows_visibility_recipient_and_buttons(tmp_path: Path) -> None:
    script = tmp_path / "plain.script"
    script.write_text("!admin lin\n@lin /gov setup init\n@bob /gov body show quality\n", "utf-8")
    result = console("--script", str(script))
    assert "[public #general] Governance is set up" in result.stdout
    assert "[private @bob] quality" in result.stdout
    assert "[Join]" in result.stdout


def test_the_clock_starts_where_now_says() -> None:
    result = console("--script", "/dev/null", "--now", "yesterday")
    assert result.returncode == 2 and "--now" in result.stderr
