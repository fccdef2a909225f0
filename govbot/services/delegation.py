"""Delegation: a member lets another member of the same body vote for them on its proposals."""

from __future__ import annotations

from sqlalchemy import bindparam, exists
from sqlalchemy import select as sa_select

from govbot.replies import Reply, Visibility
from govbot.services.base import Args, Context, Refusal, actor_label, mention
from govbot.storage import rows
from govbot.storage.models import Body, Delegation, Eligible, Member, Voter

_DELEGATION = Delegation.__table__  # type: ignore[attr-defined]
_BODY = Body.__table__  # type: ignore[attr-defined]
_ELIGIBLE = Eligible.__table__  # type: ignore[attr-defined]
_VOTER = Voter.__table__  # type: ignore[attr-defined]


def set_delegate(ctx: Context, args: Args) -> list[Reply]:
    """Delegate one's vote on a body's proposals to another member of that body."""
    body = ctx.body(args.text("body") or "")
    if not body.delegation:
        raise Refusal("error.delegate.not_allowed", field="body", body=body.slug)
    if not ctx.seats(body, ctx.actor):
        raise Refusal("error.delegate.not_on_body", field="body", body=body.slug)
    delegate = ctx.member(args.member("member"))
    if delegate.id == ctx.actor.id:
        raise Refusal("error.delegate.self", field="member")
    if not ctx.seats(body, delegate):
        raise Refusal(
            "error.delegate.not_member", field="member", body=body.slug, member=mention(delegate)
        )
    assert body.id is not None and delegate.id is not None and ctx.actor.id is not None
    current = ctx.session.get(Delegation, (body.id, ctx.actor.id))
    if current is not None and current.delegate_id == delegate.id:
        return [ctx.private("delegate.unchanged", body=body.slug, member=mention(delegate))]
    if current is None:
        current = Delegation(
            body_id=body.id, member_id=ctx.actor.id, delegate_id=delegate.id, since=ctx.now
        )
    current.delegate_id, current.since = delegate.id, ctx.now
    ctx.session.add(current)
    ctx.audit(
        "delegation.set", "body", body.id, {"body": body.slug, "delegate": actor_label(delegate)}
    )
    told = ctx.t("delegate.told", body=body.slug, member=mention(ctx.actor))
    return [
        ctx.private("delegate.set", body=body.slug, member=mention(delegate)),
        Reply(told, Visibility.DM, recipient=delegate.platform_user_id),
    ]


def revoke_delegate(ctx: Context, args: Args) -> list[Reply]:
    """End one's delegation on a body; ballots already cast by it stay until one votes."""
    body = ctx.body(args.text("body") or "")
    assert body.id is not None and ctx.actor.id is not None
    current = ctx.session.get(Delegation, (body.id, ctx.actor.id))
    if current is None:
        raise Refusal("error.delegate.none", field="body", body=body.slug)
    delegate = ctx.session.get(Member, current.delegate_id)
    ctx.session.delete(current)
    ctx.audit(
        "delegation.revoked",
        "body",
        body.id,
        {"body": body.slug, "delegate": f"member:{current.delegate_id}"},
    )
    shown = mention(delegate) if delegate is not None else "?"
    return [ctx.private("delegate.revoked", body=body.slug, member=shown)]


# Whom a delegate votes for on a proposal: those who delegated to them on its body, while the
# body allows delegation, who sit in its electorate unrecused and have not voted in person
# (an in-person ballot leaves a voter row; a delegated one does not). One step only: a
# delegator's own delegate is not asked.
_DELEGATORS = rows.Prepared(
    sa_select(_DELEGATION.c.member_id)
    .join(_BODY, _BODY.c.id == _DELEGATION.c.body_id)
    .join(
        _ELIGIBLE,
        (_ELIGIBLE.c.proposal_id == bindparam("proposal"))
        & (_ELIGIBLE.c.member_id == _DELEGATION.c.member_id),
    )
    .where(
        _DELEGATION.c.body_id == bindparam("body"),
        _DELEGATION.c.delegate_id == bindparam("delegate"),
        _BODY.c.delegation.is_(True),
        _ELIGIBLE.c.recused.is_(None),
        ~exists().where(
            _VOTER.c.proposal_id == bindparam("proposal"),
            _VOTER.c.member_id == _DELEGATION.c.member_id,
        ),
    )
    .order_by(_DELEGATION.c.member_id)
)


def delegators(ctx: Context, proposal_id: int, body_id: int, delegate_id: int) -> list[int]:
    """Name the members a delegate's ballot on this proposal is also cast for."""
    params = {"proposal": proposal_id, "body": body_id, "delegate": delegate_id}
    return [int(row[0]) for row in _DELEGATORS.rows(ctx.session, params)]
