"""The capability stories of shared/stories, run as they are, on SQLite and Postgres."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.integration.test_scenarios import console

HERE = Path(__file__).resolve().parent.parent / "stories"
SHARED = Path(__file__).resolve().parents[3] / "shared" / "stories"
# Stories whose capability is built; the others wait for their issue.
BUILT = frozenset({"first-vote.script", "first-meeting.script"})
SCRIPTS = sorted(HERE.glob("*.script"))


@pytest.mark.parametrize("script", SCRIPTS, ids=lambda p: p.name)
def test_story_passes(script: Path, database_url: str) -> None:
    if script.name not in BUILT:
        pytest.skip(f"{script.name}: its capability is not built yet")
    result = console("--script", str(script), "--now", "2026-03-02T09:00Z", database=database_url)
    assert result.returncode == 0, result.stdout + result.stderr


def test_the_copies_match_the_shared_stories() -> None:
    if not SHARED.is_dir():
        pytest.skip("shared/stories is not beside this clone")
    shared = {p.name: p.read_text("utf-8") for p in SHARED.glob("*.script")}
    assert {p.name: p.read_text("utf-8") for p in SCRIPTS} == shared
