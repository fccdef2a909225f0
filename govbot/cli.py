"""The `govbot` command: run, console, db, audit."""

from __future__ import annotations

import argparse
import asyncio
import logging
import os
import sys
import tempfile
from datetime import UTC, datetime
from pathlib import Path

from sqlalchemy.engine import Connection

from govbot.adapters.console import EXIT_ERROR, Console, run_interactive, run_script
from govbot.bootstrap import configure_logging, open_store, serve
from govbot.config import PLATFORM_SETTINGS, Settings
from govbot.domain.durations import parse_time
from govbot.storage import migrate
from govbot.storage.audit import CommunityLabel, export_community, list_communities, verify
from govbot.storage.db import Store


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="govbot", description="Community governance bot.")
    sub = parser.add_subparsers(dest="command", required=True)

    run = sub.add_parser("run", help="run the bot (the console when no platform is configured)")
    run.add_argument("--platform", choices=("discord", "slack"))

    console = sub.add_parser("console", help="the terminal front end")
    console.add_argument("--script", help="run a script file non-interactively")
    console.add_argument("--json", action="store_true", help="one JSON object per reply")
    console.add_argument("--now", help="start the clock here, e.g. 2026-01-05T09:00Z")
    console.add_argument("--database", help="SQLAlchemy URL (default: see README)")

    db = sub.add_parser("db", help="database schema")
    db_sub = db.add_subparsers(dest="db_command", required=True)
    db_sub.add_parser("upgrade", help="upgrade to the newest schema")
    down = db_sub.add_parser("downgrade", help="downgrade to a revision")
    down.add_argument("revision")
    db_sub.add_parser("current", help="print the current revision")

    audit = sub.add_parser("audit", help="the audit chain")
    audit_sub = audit.add_subparsers(dest="audit_command", required=True)
    verify = audit_sub.add_parser("verify", help="verify every community's chain")
    verify.add_argument("--community", help="PLATFORM:ID, e.g. discord:1234 (default: all)")
    export = audit_sub.add_parser("export", help="export one community's chain")
    export.add_argument("--format", choices=("json", "csv"), default="json")
    export.add_argument("--community", help="PLATFORM:ID (default: the only community)")
    export.add_argument("--output", help="file to write (default: standard output)")
    return parser


def main(argv: list[str] | None = None) -> int:
    """Run the govbot command line; return the exit status."""
    args = _parser().parse_args(argv)
    settings = Settings()
    quiet = args.command in ("console", "audit") or (args.command == "run" and sys.stdin.isatty())
    configure_logging(settings, logging.WARNING if quiet else logging.INFO)
    if args.command == "run":
        return _run(settings, args.platform)
    if args.command == "console":
        return _console(settings, args)
    if args.command == "db":
        return _db(settings, args)
    return _audit(settings, args)


def _run(settings: Settings, platform: str | None) -> int:
    configured = settings.configured_platforms()
    if platform is not None:
        if platform not in configured:
            wanted = " or ".join(PLATFORM_SETTINGS[platform])
            print(f"govbot: --platform {platform} needs {wanted}", file=sys.stderr)
            return EXIT_ERROR
        configured = [platform]
    if not configured:
        if sys.stdin.isatty():
            return _console(
                settings, argparse.Namespace(script=None, json=False, now=None, database=None)
            )
        looked_for = "; ".join(" or ".join(v) for v in PLATFORM_SETTINGS.values())
        print(
            f"govbot: no platform configured (looked for {looked_for}); "
            "input is not a terminal, so the console does not start",
            file=sys.stderr,
        )
        return EXIT_ERROR
    asyncio.run(serve(settings, configured))
    return 0


def _console(settings: Settings, args: argparse.Namespace) -> int:
    start = datetime.now(UTC)
    if args.now:
        parsed = parse_time(args.now, start)
        if parsed is None:
            print(
                f"govbot: --now needs an ISO 8601 time with a zone, not {args.now!r}",
                file=sys.stderr,
            )
            return EXIT_ERROR
        start = parsed
    url = args.database or os.environ.get("GOVBOT_DATABASE_URL")
    with tempfile.TemporaryDirectory(prefix="govbot-") as scratch:
        if url is None:
            url = (
                f"sqlite:///{Path(scratch) / 'govbot.db'}" if args.script else settings.database_url
            )
        try:
            store = open_store(url)
        except Exception as error:
            print(f"govbot: cannot open the database: {error}", file=sys.stderr)
            return EXIT_ERROR
        try:
            console = Console(store, start, json_output=args.json, real_time=not args.script)
            if args.script:
                return run_script(console, args.script)
            return run_interactive(console)
        except Exception as error:
            print(f"govbot: console stopped: {error!r}", file=sys.stderr)
            return EXIT_ERROR
        finally:
            store.dispose()


def _db(settings: Settings, args: argparse.Namespace) -> int:
    store = Store(settings.database_url)
    try:
        if args.db_command == "upgrade":
            migrate.upgrade(store.engine)
        elif args.db_command == "downgrade":
            migrate.downgrade(store.engine, args.revision)
        print(migrate.current(store.engine) or "(empty)")
    finally:
        store.dispose()
    return 0


def _verify(conn: Connection, communities: list[CommunityLabel]) -> int:
    """Verify each chain; print one line per community; 1 if any is broken."""
    status = 0
    for community in communities:
        report = verify(conn, community.id)
        if report.broken is None:
            print(f"{community.label}: intact, {report.entries} entries, head #{report.head_seq}")
        else:
            status = 1
            print(
                f"{community.label}: BROKEN at entry #{report.broken.seq} ({report.broken.reason})"
            )
    if not communities:
        print("no communities yet: nothing to verify")
    return status


def _audit(settings: Settings, args: argparse.Namespace) -> int:
    store = Store(settings.database_url)
    try:
        with store.reading() as conn:
            communities = list_communities(conn)
            if args.community:
                communities = [c for c in communities if c.label == args.community]
                if not communities:
                    print(f"govbot: no community {args.community}", file=sys.stderr)
                    return EXIT_ERROR
            if args.audit_command == "verify":
                return _verify(conn, communities)
            if len(communities) != 1:
                names = ", ".join(c.label for c in communities) or "none"
                print(f"govbot: name one community with --community ({names})", file=sys.stderr)
                return EXIT_ERROR
            content = export_community(conn, communities[0].id, args.format)
    finally:
        store.dispose()
    if args.output:
        Path(args.output).write_text(content, encoding="utf-8")
    else:
        sys.stdout.write(content)
    return 0
