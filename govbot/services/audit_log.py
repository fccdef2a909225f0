"""The audit chain as members see it: `audit log`, `audit verify`, `audit export`."""

from __future__ import annotations

from sqlmodel import col, select

from govbot.domain.audit_chain import ChainReport
from govbot.replies import Attachment, Reply, Visibility
from govbot.services.base import Args, Context, Refusal
from govbot.storage import audit
from govbot.storage.models import AuditEntry, Member

LOG_LIMIT = 20
# Subjects whose entries only their own participants may read about.
RESTRICTED_KINDS = frozenset({"report", "dispute", "ballot", "case"})


def show_log(ctx: Context, args: Args) -> list[Reply]:
    """List the newest entries, or those about one subject."""
    query = select(AuditEntry).where(AuditEntry.community_id == ctx.community_id)
    kind, subject = args.text("kind"), args.text("id")
    if kind is not None:
        if subject is None:
            raise Refusal("error.log_needs_id", field="id")
        query = query.where(
            AuditEntry.subject_kind == kind, AuditEntry.subject_id == subject.lstrip("#")
        )
    entries = list(
        reversed(
            ctx.session.exec(query.order_by(col(AuditEntry.seq).desc()).limit(LOG_LIMIT)).all()
        )
    )
    if not entries:
        return [ctx.private("audit.log_empty")]
    names = _actor_names(ctx, entries)
    lines = [ctx.t("audit.log_head", count=len(entries))]
    for entry in entries:
        if entry.subject_kind in RESTRICTED_KINDS:
            lines.append(ctx.t("audit.log_restricted", seq=entry.seq, when=ctx.when(entry.at)))
            continue
        lines.append(
            ctx.t(
                "audit.log_line",
                seq=entry.seq,
                when=ctx.when(entry.at),
                actor=names.get(entry.actor, entry.actor),
                action=entry.action,
                kind=entry.subject_kind,
                id=entry.subject_id,
                hash=entry.hash[:12],
            )
        )
    return [Reply("\n".join(lines), Visibility.PRIVATE)]


def verify_chain(ctx: Context, args: Args) -> list[Reply]:
    """Re-compute the whole chain and say whether it is intact."""
    report = audit.verify(ctx.session.connection(), ctx.community_id)
    return [Reply(describe_report(ctx, report), Visibility.PRIVATE, error=not report.intact)]


def describe_report(ctx: Context, report: ChainReport) -> str:
    """Put a verification's outcome into words."""
    if report.broken is None:
        return ctx.t("audit.intact", count=report.entries, seq=report.head_seq)
    return ctx.t(
        "audit.broken", seq=report.broken.seq, reason=ctx.t(f"audit.reason.{report.broken.reason}")
    )


def export_chain(ctx: Context, args: Args) -> list[Reply]:
    """Send the whole chain as a JSON or CSV file."""
    fmt = args.text("format") or "json"
    content = audit.export_community(ctx.session.connection(), ctx.community_id, fmt)
    name = f"audit-{ctx.community.platform}-{ctx.community.external_id}.{fmt}"
    return [
        Reply(
            ctx.t("audit.exported", format=fmt),
            Visibility.PRIVATE,
            attachment=Attachment(name, content),
        )
    ]


def _actor_names(ctx: Context, entries: list[AuditEntry]) -> dict[str, str]:
    ids = {int(e.actor.split(":", 1)[1]) for e in entries if e.actor.startswith("member:")}
    if not ids:
        return {}
    members = ctx.session.exec(select(Member).where(col(Member.id).in_(ids))).all()
    return {f"member:{m.id}": f"@{m.display_name}" for m in members}
