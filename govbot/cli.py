"""The `govbot` command: run, console, db, audit.

Only the standard library is imported up front, so that `govbot --help` answers at once;
each command imports what it needs (the platform libraries only when a platform runs).
"""

from __future__ import annotations

import argparse
import logging
import os
import re
import sys
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING

from govbot import __version__

if TYPE_CHECKING:
    from sqlalchemy.engine import Connection

    from govbot.config import Settings
    from govbot.storage.audit import CommunityLabel
    from govbot.storage.db import Store

EXIT_OK, EXIT_BROKEN, EXIT_ERROR = 0, 1, 2
# Marks a database the console made for itself, where moving the clock harms no real record.
CONSOLE_MARK = "console.scratch_database"

log = logging.getLogger("govbot")


class _Problem(Exception):
    """An operator's mistake found by the command line itself: one line, exit 2."""


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="govbot",
        description="Community governance for Discord and Slack, with a verifiable audit record.",
        epilog="Settings come from GOVBOT_* variables or ./.env (see the README).",
    )
    parser.add_argument("--version", action="version", version=f"govbot {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")

    database = argparse.ArgumentParser(add_help=False)
    database.add_argument(
        "--database",
        metavar="URL",
        help="SQLAlchemy URL of the database (default: GOVBOT_DATABASE_URL)",
    )

    run = sub.add_parser(
        "run",
        help="run the bot on every configured platform (the console when none is)",
        description="Run the bot on every platform whose settings are present; with none, "
        "in a terminal, open the console on ./govbot.db.",
    )
    run.add_argument(
        "--platform",
        choices=("discord", "slack"),
        help="run only this platform, and fail naming its missing settings",
    )

    console = sub.add_parser(
        "console",
        parents=[database],
        help="the terminal front end: try govbot with no tokens, or run a script",
        description="Type /gov commands as any member; scripts check the replies.",
    )
    console.add_argument("--script", metavar="FILE", help="run a script file non-interactively")
    console.add_argument(
        "--json", action="store_true", help="print one JSON object per reply, and nothing else"
    )
    console.add_argument(
        "--now", metavar="TIME", help="start the clock here, e.g. 2026-01-05T09:00Z"
    )

    db = sub.add_parser("db", help="the database: schema migrations and backups")
    db_sub = db.add_subparsers(dest="db_command", metavar="ACTION")
    db_sub.add_parser("upgrade", parents=[database], help="upgrade to the newest schema")
    down = db_sub.add_parser(
        "downgrade",
        parents=[database],
        help="go back to an older schema (drops the newer tables' data)",
    )
    down.add_argument("revision", help="the revision to go back to: 0002, -1, or base")
    down.add_argument("--yes", action="store_true", help="confirm: data of newer tables is lost")
    down.add_argument(
        "--force",
        action="store_true",
        help="also when the downgrade drops tables that hold audit entries",
    )
    db_sub.add_parser(
        "current", parents=[database], help="print the schema's revision and whether it is head"
    )
    backup = db_sub.add_parser(
        "backup",
        parents=[database],
        help="copy a SQLite database while the bot runs (Postgres: use pg_dump)",
    )
    backup.add_argument("path", help="the new file to write the copy to")

    audit = sub.add_parser("audit", help="the audit chain: verify or export it")
    audit_sub = audit.add_subparsers(dest="audit_command", metavar="ACTION")
    verify = audit_sub.add_parser(
        "verify", parents=[database], help="verify every community's chain (exit 1 if broken)"
    )
    verify.add_argument("--community", help="PLATFORM:ID, e.g. discord:1234 (default: all)")
    verify.add_argument(
        "--expect",
        metavar="SEQ:HASH",
        type=_anchor,
        help="also fail unless entry SEQ still has HASH (a head printed by an earlier verify)",
    )
    export = audit_sub.add_parser(
        "export", parents=[database], help="export one community's chain as JSON or CSV"
    )
    export.add_argument(
        "--format", choices=("json", "csv"), default="json", help="the file format (default json)"
    )
    export.add_argument("--community", help="PLATFORM:ID (default: the only community)")
    export.add_argument("--output", metavar="FILE", help="file to write (default: standard output)")

    exports = sub.add_parser("export", help="export records: decisions, meeting minutes")
    exports_sub = exports.add_subparsers(dest="export_command", metavar="WHAT")
    decisions = exports_sub.add_parser(
        "decisions", parents=[database], help="one community's decision records as JSON or CSV"
    )
    decisions.add_argument(
        "--format", choices=("json", "csv"), default="json", help="the file format (default json)"
    )
    decisions.add_argument("--community", help="PLATFORM:ID (default: the only community)")
    decisions.add_argument(
        "--output", metavar="FILE", help="file to write (default: standard output)"
    )
    sessions = exports_sub.add_parser(
        "sessions", parents=[database], help="one community's closed meetings with their minutes"
    )
    sessions.add_argument(
        "--format", choices=("json", "csv"), default="json", help="the file format (default json)"
    )
    sessions.add_argument("--community", help="PLATFORM:ID (default: the only community)")
    sessions.add_argument(
        "--output", metavar="FILE", help="file to write (default: standard output)"
    )
    return parser


def _anchor(value: str) -> tuple[int, str]:
    seq, _, digest = value.partition(":")
    digest = digest.strip().lower()
    if not seq.strip().isdigit() or not re.fullmatch(r"[0-9a-f]{64}", digest):
        raise argparse.ArgumentTypeError(
            f"expected SEQ:HASH, a sequence number and a 64-digit hex hash, not {value!r}"
        )
    return int(seq), digest


def main(argv: list[str] | None = None) -> int:
    """Run the govbot command line; return the exit status."""
    parser = _parser()
    args = parser.parse_args(argv)
    if args.command is None:
        parser.print_help()
        return EXIT_OK
    group = {"db": "db_command", "audit": "audit_command", "export": "export_command"}.get(
        args.command
    )
    if group is not None and getattr(args, group) is None:
        parser.parse_args([args.command, "--help"])
    try:
        return _dispatch(args)
    except _Problem as problem:
        if _json_logs(args):
            # A log pipeline reading JSON lines should not lose the one line that matters.
            log.error("govbot: %s", problem)
        else:
            print(f"govbot: {problem}", file=sys.stderr)
        return EXIT_ERROR
    except BrokenPipeError:
        # The reader went away (`| head`): stop quietly, and keep Python's exit flush silent.
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        return EXIT_OK
    except KeyboardInterrupt:
        return 130


def _json_logs(args: argparse.Namespace) -> bool:
    return getattr(args, "log_format", None) == "json"


def _dispatch(args: argparse.Namespace) -> int:
    from govbot.bootstrap import configure_logging
    from govbot.config import OperatorError, load_settings, unknown_variables

    try:
        settings = load_settings()
    except OperatorError as error:
        raise _Problem(str(error)) from None
    bot = args.command == "run" and (
        bool(settings.configured_platforms()) or args.platform is not None or not sys.stdin.isatty()
    )
    configure_logging(settings, logging.INFO if bot else logging.WARNING)
    args.log_format = settings.log_format
    for warning in unknown_variables():
        log.warning("%s", warning)
    try:
        if args.command == "run":
            return _run(settings, args.platform)
        if args.command == "console":
            return _console(settings, args)
        if args.command == "db":
            return _db(settings, args)
        return _audit(settings, args)
    except OperatorError as error:
        raise _Problem(str(error)) from None


def _run(settings: Settings, platform: str | None) -> int:
    import asyncio

    from govbot.bootstrap import serve
    from govbot.config import PLATFORM_SETTINGS

    configured = settings.configured_platforms()
    half = {p: m for p in PLATFORM_SETTINGS if (m := settings.missing_settings(p)) is not None}
    if platform is not None:
        if platform not in configured:
            wanted = half.get(platform) or " or ".join(PLATFORM_SETTINGS[platform]) + " is not set"
            raise _Problem(f"--platform {platform}: {wanted}")
        configured = [platform]
    elif half:
        name, missing = next(iter(half.items()))
        raise _Problem(f"{name.capitalize()} is half configured: {missing}")
    if not configured:
        if sys.stdin.isatty():
            return _console(
                settings, argparse.Namespace(script=None, json=False, now=None, database=None)
            )
        looked_for = "; ".join(" or ".join(v) for v in PLATFORM_SETTINGS.values())
        raise _Problem(
            f"no platform configured (looked for {looked_for}); "
            "input is not a terminal, so the console does not start"
        )
    asyncio.run(serve(settings, configured))
    return EXIT_OK


# ---------------------------------------------------------------------- databases


def _database(settings: Settings, args: argparse.Namespace) -> tuple[str, str]:
    """Return the database URL and the setting it came from, for messages."""
    if getattr(args, "database", None):
        return args.database, "--database"
    return settings.database_url, "GOVBOT_DATABASE_URL"


def _sqlite_file(url: str) -> Path | None:
    """Return the file a SQLite URL names, or None (another database, memory, unparsable)."""
    from sqlalchemy.engine import make_url

    try:
        parsed = make_url(url)
    except Exception:
        return None
    name = parsed.database
    if not parsed.drivername.startswith("sqlite") or not name or name == ":memory:":
        return None
    if name.startswith("file:"):
        return None
    return Path(name)


def _open(url: str, setting: str, *, existing: bool) -> Store:
    """Open the database; with `existing`, refuse to create one (read-only commands)."""
    from govbot.bootstrap import database_problem
    from govbot.storage.db import Store

    path = _sqlite_file(url)
    if existing and path is not None and not path.is_file():
        raise _Problem(f"no database at {path}: check {setting} (or the folder you run govbot in)")
    try:
        store = Store(url)
        with store.engine.connect():
            pass
    except Exception as error:
        problem = database_problem(url, error, setting)
        if problem is None:
            raise
        raise _Problem(problem) from None
    return store


def _open_schema(settings: Settings, args: argparse.Namespace) -> Store:
    """Open an existing govbot database for reading; one line if there is none."""
    from govbot.bootstrap import shown_url
    from govbot.storage import migrate

    url, setting = _database(settings, args)
    store = _open(url, setting, existing=True)
    if migrate.current(store.engine) is None:
        store.dispose()
        raise _Problem(f"{shown_url(url)} holds no govbot schema: check {setting}")
    return store


def _db(settings: Settings, args: argparse.Namespace) -> int:
    from govbot.storage import migrate

    if args.db_command == "backup":
        return _backup(settings, args)
    url, setting = _database(settings, args)
    store = _open(url, setting, existing=args.db_command != "upgrade")
    try:
        if args.db_command == "upgrade":
            migrate.upgrade(store.engine)
        elif args.db_command == "downgrade":
            _downgrade(store, args)
        print(_revision_line(store))
    finally:
        store.dispose()
    return EXIT_OK


def _revision_line(store: Store) -> str:
    from govbot.storage import migrate

    now, newest = migrate.current(store.engine), migrate.head(store.engine)
    if now is None:
        return "(empty)"
    if now == newest:
        return f"{now} (head)"
    return f"{now} (head is {newest}: `govbot db upgrade` brings it there)"


def _downgrade(store: Store, args: argparse.Namespace) -> None:
    from govbot.storage import migrate

    try:
        undone = migrate.revisions_undone(store.engine, args.revision)
    except migrate.UnknownRevision as error:
        known = ", ".join(["base", *migrate.known_revisions(store.engine)])
        raise _Problem(
            f"no migration revision {args.revision!r} ({error}); known: {known}"
        ) from None
    if not undone:
        return
    entries = migrate.audit_entries(store.engine)
    if migrate.AUDIT_REVISION in undone and entries and not args.force:
        raise _Problem(
            f"downgrading to {args.revision} drops the audit record ({entries} entries); "
            "back it up (`govbot db backup PATH` or pg_dump) and add --force if you mean it"
        )
    if not args.yes:
        raise _Problem(
            f"downgrading to {args.revision} undoes {', '.join(undone)}, dropping the data "
            "those migrations added; add --yes to confirm"
        )
    migrate.downgrade(store.engine, args.revision)


def _backup(settings: Settings, args: argparse.Namespace) -> int:
    import sqlite3

    url, setting = _database(settings, args)
    source_path = _sqlite_file(url)
    if source_path is None:
        raise _Problem(
            f"db backup copies SQLite files, and {setting} is not one; on Postgres use "
            "`pg_dump -Fc DBNAME > govbot.dump`"
        )
    if not source_path.is_file():
        raise _Problem(f"no database at {source_path}: check {setting}")
    target = Path(args.path)
    if target.exists():
        raise _Problem(f"{target} exists already: name a new file")
    try:
        # mode=rw: open the database, never create one.
        source = sqlite3.connect(f"{source_path.resolve().as_uri()}?mode=rw", uri=True)
    except sqlite3.Error as error:
        raise _Problem(f"cannot open {source_path} ({error}): check {setting}") from None
    try:
        copy = sqlite3.connect(target)
        try:
            source.backup(copy)
        finally:
            copy.close()
    except sqlite3.Error as error:
        target.unlink(missing_ok=True)
        raise _Problem(
            f"cannot write the backup to {target} ({error}): name another path"
        ) from None
    finally:
        source.close()
    print(f"backed up {source_path} to {target}")
    return EXIT_OK


# ---------------------------------------------------------------------- audit


def _verify(conn: Connection, communities: list[CommunityLabel], args: argparse.Namespace) -> int:
    """Verify each chain; print one line per community; 1 if any is broken."""
    from govbot.storage.audit import entry_hash, verify

    status = EXIT_OK
    for community in communities:
        report = verify(conn, community.id)
        if report.broken is not None:
            status = EXIT_BROKEN
            print(
                f"{community.label}: BROKEN at entry #{report.broken.seq} ({report.broken.reason})"
            )
            continue
        head_hash = entry_hash(conn, community.id, report.head_seq)
        print(
            f"{community.label}: intact, {report.entries} entries, "
            f"head #{report.head_seq} {head_hash}"
        )
        if args.expect is not None:
            seq, expected = args.expect
            found = entry_hash(conn, community.id, seq)
            if found is None:
                status = EXIT_BROKEN
                print(
                    f"{community.label}: MISSING the expected entry #{seq} "
                    f"(the chain ends at #{report.head_seq})"
                )
            elif found != expected:
                status = EXIT_BROKEN
                print(f"{community.label}: entry #{seq} is {found}, NOT the expected {expected}")
            else:
                print(f"{community.label}: holds the expected entry #{seq} {expected}")
    if not communities:
        print("no communities yet: nothing to verify")
    return status


def _audit(settings: Settings, args: argparse.Namespace) -> int:
    from govbot.storage.audit import export_to, list_communities, snapshot
    from govbot.storage.decisions import export_decisions_to, export_sessions_to

    store = _open_schema(settings, args)
    try:
        # One read transaction of its own: a consistent snapshot that never blocks the bot.
        with snapshot(store.engine) as conn:
            communities = list_communities(conn)
            if args.community:
                communities = [c for c in communities if c.label == args.community]
                if not communities:
                    raise _Problem(f"no community {args.community}: check --community")
            names = ", ".join(c.label for c in communities) or "none"
            if getattr(args, "audit_command", None) == "verify":
                if args.expect is not None and len(communities) != 1:
                    raise _Problem(f"--expect needs one community: add --community ({names})")
                return _verify(conn, communities, args)
            if len(communities) != 1:
                raise _Problem(f"name one community with --community ({names})")
            write = export_to
            if args.command == "export":
                sessions = args.export_command == "sessions"
                write = export_sessions_to if sessions else export_decisions_to
            if not args.output:
                write(conn, communities[0].id, args.format, sys.stdout)
                return EXIT_OK
            try:
                out = open(args.output, "w", encoding="utf-8", newline="")  # noqa: SIM115
            except OSError as error:
                reason = error.strerror or str(error)
                raise _Problem(
                    f"cannot write {args.output} ({reason}): choose another --output"
                ) from None
            with out:
                # Streamed row by row: constant memory however long the record.
                write(conn, communities[0].id, args.format, out)
    finally:
        store.dispose()
    return EXIT_OK


# ---------------------------------------------------------------------- console


def _console(settings: Settings, args: argparse.Namespace) -> int:
    import tempfile
    from datetime import UTC

    from govbot.adapters.console import Console, run_interactive, run_script
    from govbot.domain.durations import parse_time

    start = datetime.now(UTC)
    if args.now:
        parsed = parse_time(args.now, start)
        if parsed is None:
            raise _Problem(f"--now needs an ISO 8601 time with a zone, not {args.now!r}")
        start = parsed
    url = args.database or os.environ.get("GOVBOT_DATABASE_URL")
    with tempfile.TemporaryDirectory(prefix="govbot-") as scratch:
        if url is None:
            url = (
                f"sqlite:///{Path(scratch) / 'govbot.db'}" if args.script else settings.database_url
            )
        setting = "--database" if args.database else "GOVBOT_DATABASE_URL"
        store = _open(url, setting, existing=False)
        try:
            scratch_database = _claim_for_console(store, start)
            console = Console(
                store,
                start,
                json_output=args.json,
                real_time=not args.script,
                may_advance=scratch_database,
            )
            if args.script:
                return run_script(console, args.script)
            return run_interactive(console)
        except (BrokenPipeError, KeyboardInterrupt, _Problem):
            raise
        except Exception as error:
            raise _Problem(f"console stopped: {error!r}") from None
        finally:
            store.dispose()


def _claim_for_console(store: Store, now: datetime) -> bool:
    """Migrate; say whether the console made this database for itself (now or before)."""
    from govbot.services.bot_state import read_state, write_state
    from govbot.storage import migrate

    fresh = migrate.current(store.engine) is None
    migrate.upgrade(store.engine)
    if fresh:
        write_state(store, CONSOLE_MARK, "yes", now)
        return True
    return read_state(store, CONSOLE_MARK) is not None
