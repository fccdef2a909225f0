"""The container files and the project layout, checked by reading them (and running the
health check the image runs) since a build machine may have no Docker engine."""

from __future__ import annotations

import fnmatch
import re
import subprocess
import sys
import tomllib
from collections.abc import AsyncIterator
from pathlib import Path

import pytest_asyncio

from govbot.bootstrap import open_store
from govbot.config import Settings
from govbot.web import WebApp

ROOT = Path(__file__).resolve().parents[2]
DOCKERFILE = (ROOT / "deploy" / "Dockerfile").read_text("utf-8")
COMPOSE = (ROOT / "deploy" / "compose.yaml").read_text("utf-8")
PYPROJECT = tomllib.loads((ROOT / "pyproject.toml").read_text("utf-8"))


def dockerfile_python(after: str) -> str:
    """Return the `python -c "..."` program of the instruction that starts with `after`."""
    instruction = DOCKERFILE[DOCKERFILE.index(after) :]
    match = re.search(r'python -c "(.*?)"', instruction, re.S)
    assert match is not None
    return match.group(1)


def test_the_image_installs_the_dependencies_in_a_layer_before_the_code() -> None:
    dependencies = DOCKERFILE.index("pip install --no-cache-dir -r")
    assert dependencies < DOCKERFILE.index("COPY govbot")
    program = dockerfile_python("RUN python -c")
    listed = subprocess.run(
        [sys.executable, "-c", program], cwd=ROOT, capture_output=True, text=True, check=True
    ).stdout.split("\n")
    assert [line for line in listed if line] == PYPROJECT["project"]["dependencies"]


def test_the_image_copies_every_folder_the_package_is_built_from() -> None:
    folders = {"govbot", *PYPROJECT["tool"]["setuptools"]["package-dir"].values()}
    for folder in folders:
        assert f"COPY {folder} ./{folder}" in DOCKERFILE, folder
    assert "COPY README.md LICENSE ./" in DOCKERFILE


def test_dockerignore_keeps_secrets_and_databases_out_but_not_what_the_image_copies() -> None:
    patterns = [
        line.strip()
        for line in (ROOT / ".dockerignore").read_text("utf-8").splitlines()
        if line.strip() and not line.startswith("#")
    ]

    def ignored(path: str) -> bool:
        return any(fnmatch.fnmatch(path, p) or fnmatch.fnmatch(path, f"**/{p}") for p in patterns)

    for secret in (".env", "deploy/.env", ".git", ".venv", "govbot.db", "govbot.db-wal"):
        assert ignored(secret), secret
    for needed in ("pyproject.toml", "README.md", "LICENSE", "govbot", "migrations"):
        assert not ignored(needed), needed


def test_compose_binds_the_web_port_to_loopback_and_needs_no_env_file() -> None:
    ports = re.findall(r'^\s*- "([^"]+)"$', COMPOSE.split("ports:")[1].split("depends_on")[0], re.M)
    assert ports == ["127.0.0.1:${GOVBOT_WEB_PORT:-8080}:${GOVBOT_WEB_PORT:-8080}"]
    assert re.search(r"env_file:\n\s+- path: \.env\n\s+required: false", COMPOSE)


@pytest_asyncio.fixture
async def web(tmp_path: Path) -> AsyncIterator[WebApp]:
    store = open_store(f"sqlite:///{tmp_path / 'govbot.db'}")
    app = WebApp(Settings(_env_file=None, web_port=0), store)  # type: ignore[call-arg]
    await app.start()
    yield app
    await app.stop()
    store.dispose()


async def test_the_image_health_check_follows_govbot_web_port(web: WebApp) -> None:
    import asyncio

    program = dockerfile_python("HEALTHCHECK")
    assert "GOVBOT_WEB_PORT" in program

    async def check(port: int) -> int:
        process = await asyncio.create_subprocess_exec(
            sys.executable, "-c", program, env={"GOVBOT_WEB_PORT": str(port)}
        )
        return await asyncio.wait_for(process.wait(), 30)

    assert await check(web.port or 0) == 0
    await web.stop()
    assert await check(web.port or 0) != 0


def test_the_licence_file_is_the_one_pyproject_names() -> None:
    assert PYPROJECT["project"]["license"] == {"text": "Apache-2.0"}
    licence = (ROOT / "LICENSE").read_text("utf-8")
    assert "Apache License" in licence and "Version 2.0, January 2004" in licence


def test_pyproject_refers_only_to_files_that_exist() -> None:
    text = (ROOT / "pyproject.toml").read_text("utf-8")
    for name in re.findall(r"[\w./-]+\.(?:md|ini|txt|toml)\b", text):
        if name != "pyproject.toml":
            assert (ROOT / name).exists(), name
    package_dir = PYPROJECT["tool"]["setuptools"]["package-dir"]
    for package, patterns in PYPROJECT["tool"]["setuptools"]["package-data"].items():
        folder = ROOT / package_dir.get(package, package.replace(".", "/"))
        for pattern in patterns:
            assert list(folder.glob(pattern)), f"{package}: {pattern}"
