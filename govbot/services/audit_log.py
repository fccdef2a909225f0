"""The audit chain as members see it: `audit log`, `audit verify`, `audit export`."""

from __future__ import annotations

import os
import re
import tempfile
from collections.abc import Callable
from typing import Any, TextIO

from sqlalchemy import ColumnElement, and_, func, or_
from sqlmodel import col, select

from govbot.domain.audit_chain import ChainReport
from govbot.replies import Attachment, Reply, Visibility
from govbot.services.base import Args, Context, Refusal
from govbot.storage import audit
from govbot.storage.models import AuditEntry, Body, Member

LOG_LIMIT = 20
# Subjects whose entries only their own participants may read about.
RESTRICTED_KINDS = frozenset({"report", "dispute", "ballot", "case"})
# What `audit log <kind> <id>` accepts; a capability that audits a new kind adds it here.
SUBJECT_KINDS = (
    "body",
    "community",
    "member",
    "membership",
    "proposal",
    "session",
    *sorted(RESTRICTED_KINDS),
)

# A member as each platform's text names them (the same forms the command parser reads).
_MENTIONS = {
    "console": re.compile(r"^@([\w.\-]{1,64})$"),
    "discord": re.compile(r"^<@!?(\d+)(?:\|[^>]*)?>$"),
    "slack": re.compile(r"^<@([UW][A-Z0-9]+)(?:\|[^>]*)?>$"),
}
# A member by the stable id exports use: `member:3` (or `#3`, `3`).
_MEMBER_ID = re.compile(r"^(?:member:|#)?(\d{1,18})$")
_ROW_ID = re.compile(r"^#?(\d{1,18})$")


def show_log(ctx: Context, args: Args) -> list[Reply]:
    """List the newest entries, or those about one subject (a member: also by them)."""
    kind, subject = args.text("kind"), args.text("id")
    if kind is None:
        where: ColumnElement[bool] = col(AuditEntry.community_id) == ctx.community_id
        # The head's number is the count of entries: no count over the whole chain.
        total = audit.head(ctx.session, ctx.community_id)[0]
    else:
        where = _subject_filter(ctx, kind.lower(), subject)
        total = ctx.session.exec(select(func.count()).select_from(AuditEntry).where(where)).one()
    newest = select(AuditEntry).where(where).order_by(col(AuditEntry.seq).desc()).limit(LOG_LIMIT)
    entries = list(reversed(ctx.session.exec(newest).all()))
    if not entries:
        return [ctx.private("audit.log_empty")]
    names = _member_names(ctx, entries)
    slugs = _body_slugs(ctx, entries)
    # The zone once in the head; each line shows the time alone.
    zone = ctx.community.timezone
    lines = [ctx.t("audit.log_head", shown=len(entries), total=max(total, len(entries)), zone=zone)]
    for entry in entries:
        if entry.subject_kind in RESTRICTED_KINDS:
            lines.append(ctx.t("audit.log_restricted", seq=entry.seq, when=ctx.clock(entry.at)))
            continue
        subject_label = entry.subject_id
        if entry.subject_kind == "body":
            subject_label = slugs.get(entry.subject_id, entry.subject_id)
        elif entry.subject_kind == "member":
            subject_label = names.get(f"member:{entry.subject_id}", entry.subject_id)
        lines.append(
            ctx.t(
                "audit.log_line",
                seq=entry.seq,
                when=ctx.clock(entry.at),
                actor=names.get(entry.actor, entry.actor),
                action=entry.action,
                kind=entry.subject_kind,
                id=subject_label,
                hash=entry.hash[:12],
            )
        )
    return [Reply("\n".join(lines), Visibility.PRIVATE)]


def _subject_filter(ctx: Context, kind: str, subject: str | None) -> ColumnElement[bool]:
    """Build the condition for one subject's entries, each part served by an index."""
    if kind not in SUBJECT_KINDS:
        raise Refusal(
            "error.log_unknown_kind", field="kind", kind=kind, kinds=ctx.listing(SUBJECT_KINDS)
        )
    if subject is None:
        raise Refusal("error.log_needs_id", field="id")
    same_community = col(AuditEntry.community_id) == ctx.community_id
    if kind == "member":
        member_id = _member_id(ctx, subject)
        about = and_(
            col(AuditEntry.subject_kind) == "member",
            col(AuditEntry.subject_id) == str(member_id),
        )
        return and_(same_community, or_(about, col(AuditEntry.actor) == f"member:{member_id}"))
    subject_id = _body_id(ctx, subject) if kind == "body" else subject.lstrip("#")
    return and_(
        same_community,
        col(AuditEntry.subject_kind) == kind,
        col(AuditEntry.subject_id) == subject_id,
    )


def _body_id(ctx: Context, text: str) -> str:
    """Read a body's slug (or the number the log shows) as its id."""
    if match := _ROW_ID.match(text):
        return match.group(1)
    body_id = ctx.session.exec(
        select(Body.id).where(Body.community_id == ctx.community_id, Body.slug == text.lower())
    ).first()
    if body_id is None:
        raise Refusal("error.unknown_body", field="id", body=text)
    return str(body_id)


def _member_id(ctx: Context, text: str) -> int:
    """Read a member mention (or `member:3`, the id exports use) as the member's row id."""
    query = select(Member.id).where(Member.community_id == ctx.community_id)
    mention_form = _MENTIONS.get(ctx.caller.platform)
    if mention_form is not None and (match := mention_form.match(text)):
        query = query.where(Member.platform_user_id == match.group(1))
    elif match := _MEMBER_ID.match(text):
        query = query.where(Member.id == int(match.group(1)))
    else:
        raise Refusal("error.log_unknown_member", field="id", member=text)
    member_id = ctx.session.exec(query).first()
    if member_id is None:
        raise Refusal("error.log_unknown_member", field="id", member=text)
    return member_id


def verify_chain(ctx: Context, args: Args) -> list[Reply]:
    """Re-compute the whole chain and say whether it is intact, naming its head."""
    # A read transaction of its own: verifying a long chain never holds the write lock.
    with audit.snapshot(ctx.session) as conn:
        anchor = audit.head_anchor(conn, ctx.community_id)
        report = audit.verify(conn, ctx.community_id)
    text = "\n".join((describe_report(ctx, report), ctx.t("audit.head_anchor", anchor=anchor)))
    return [Reply(text, Visibility.PRIVATE, error=not report.intact)]


def describe_report(ctx: Context, report: ChainReport) -> str:
    """Put a verification's outcome into words."""
    if report.broken is None:
        return ctx.t("audit.intact", count=report.entries, seq=report.head_seq)
    return ctx.t(
        "audit.broken", seq=report.broken.seq, reason=ctx.t(f"audit.reason.{report.broken.reason}")
    )


def export_chain(ctx: Context, args: Args) -> list[Reply]:
    """Send the whole chain as a JSON or CSV file, and apart from it the table of names."""
    fmt = args.text("format") or "json"
    stem = f"audit-{ctx.community.platform}-{ctx.community.external_id}"
    # One snapshot for both files; rows stream to disk, so memory stays flat at any length.
    with audit.snapshot(ctx.session) as conn:
        chain = _spool(
            f"{stem}.{fmt}", lambda out: audit.export_to(conn, ctx.community_id, fmt, out)
        )
        members = _spool(
            f"{stem}-members.{fmt}",
            lambda out: audit.export_members_to(conn, ctx.community_id, fmt, out),
        )
    return [
        Reply(ctx.t("audit.exported", format=fmt), Visibility.PRIVATE, attachment=chain),
        Reply(ctx.t("audit.exported_members"), Visibility.PRIVATE, attachment=members),
    ]


def _spool(filename: str, write: Callable[[TextIO], Any]) -> Attachment:
    """Write a file to a temporary path and wrap it as an attachment."""
    handle, path = tempfile.mkstemp(prefix="govbot-", suffix=f"-{filename}")
    try:
        with open(handle, "w", encoding="utf-8", newline="") as out:
            write(out)
    except BaseException:
        os.remove(path)
        raise
    return Attachment.temporary(filename, path)


def _member_names(ctx: Context, entries: list[AuditEntry]) -> dict[str, str]:
    """Name each member an entry shows (actor or subject) by their current display name."""
    labels = {e.actor for e in entries} | {
        f"member:{e.subject_id}" for e in entries if e.subject_kind == "member"
    }
    ids = {int(label[7:]) for label in labels if label[:7] == "member:" and label[7:].isdigit()}
    if not ids:
        return {}
    members = ctx.session.exec(
        select(Member).where(Member.community_id == ctx.community_id, col(Member.id).in_(ids))
    ).all()
    return {f"member:{m.id}": f"@{m.display_name}" for m in members}


def _body_slugs(ctx: Context, entries: list[AuditEntry]) -> dict[str, str]:
    """Name each body an entry is about by its slug."""
    ids = {
        int(e.subject_id) for e in entries if e.subject_kind == "body" and e.subject_id.isdigit()
    }
    if not ids:
        return {}
    bodies = ctx.session.exec(
        select(Body).where(Body.community_id == ctx.community_id, col(Body.id).in_(ids))
    ).all()
    return {str(b.id): b.slug for b in bodies}
