"""Proposals and votes: open, cast, change, raise concerns, close, and the decision record."""

from __future__ import annotations

import base64
import dataclasses
import hashlib
import hmac
import json
import secrets
from collections.abc import Iterator
from datetime import datetime, timedelta
from fractions import Fraction
from typing import Any

from sqlalchemy import Integer, bindparam, delete, exists, insert, update
from sqlalchemy import select as sa_select
from sqlalchemy.orm.attributes import set_committed_value
from sqlmodel import col, func, select

from govbot.domain import voting
from govbot.domain.durations import parse_duration
from govbot.domain.voting import Choice, ChoiceError, Method, Outcome, Rules
from govbot.replies import (
    MORE_FIELD,
    Attachment,
    Button,
    Form,
    FormField,
    Reply,
    Select,
    SelectOption,
    Visibility,
)
from govbot.services import delegation
from govbot.services.base import Args, Context, Refusal, mention
from govbot.storage import rows
from govbot.storage.models import (
    Ballot,
    Body,
    Concern,
    Decision,
    Eligible,
    Member,
    PostedMessage,
    Proposal,
    Voter,
)

DEFAULT_OPEN_FOR = timedelta(days=7)
LONGEST_OPEN = timedelta(days=366)
# Sign-off: once enough members signed off and no concern stands, this long for comments.
COMMENT_PERIOD = timedelta(days=7)
MAX_OPTIONS = 20  # fits a Discord select menu (25) with room to spare
OPTION_LENGTH = 80
LIST_LIMIT = 20
TITLE_LENGTH = 200  # the proposal table's bound
REASON_SHOWN = 300  # how much of each reason a result message quotes

OPEN, CLOSED, WITHDRAWN = "open", "closed", "withdrawn"

_BALLOT = Ballot.__table__  # type: ignore[attr-defined]
_VOTER = Voter.__table__  # type: ignore[attr-defined]
_ELIGIBLE = Eligible.__table__  # type: ignore[attr-defined]
_PROPOSAL = Proposal.__table__  # type: ignore[attr-defined]


# --- opening -----------------------------------------------------------------------------


def create_proposal(ctx: Context, args: Args) -> list[Reply]:
    """Open a proposal to a body or the whole community; with no title, offer the form."""
    title = args.text("title")
    if not title:
        return [Reply(ctx.t("proposal.form_intro"), Visibility.PRIVATE, form=_create_form(ctx))]
    body = _electorate_body(ctx, args.text("electorate") or "community")
    if body is None:
        ctx.require_manager()
    elif not (ctx.is_manager() or ctx.seats(body, ctx.actor)):
        raise Refusal("error.proposal.not_on_body", field="electorate", body=body.slug)
    method = Method(args.text("method") or Method.MAJORITY.value)
    options = _options(args.text("options"))
    rules = Rules(
        method=method,
        options=options,
        threshold=_threshold(args.text("threshold")),
        quorum=_quorum(args.text("quorum")),
        seats=int(args.values.get("seats", 1)),
    )
    low = rules.threshold is not None and rules.threshold <= Fraction(1, 2)
    if method is Method.SUPERMAJORITY and low:
        raise Refusal("error.proposal.low_supermajority", field="threshold")
    problem = voting.check_rules(rules)
    if problem is not None:
        raise Refusal(problem, method=method.value)
    closes = args.moment("closes") or ctx.now + DEFAULT_OPEN_FOR
    if closes <= ctx.now:
        raise Refusal("error.proposal.closes_past", field="closes")
    if closes - ctx.now > LONGEST_OPEN:
        raise Refusal("error.proposal.closes_far", field="closes")
    secret = args.flag("secret")
    proposal = Proposal(
        community_id=ctx.community_id,
        number=_next_number(ctx),
        title=title,
        text=args.text("text") or "",
        link=args.text("link"),
        author_id=_id(ctx.actor),
        body_id=body.id if body else None,
        method=method.value,
        options=json.dumps(list(options)),
        threshold=args.text("threshold"),
        quorum=args.text("quorum"),
        seats=rules.seats,
        secret=secret,
        hide_results=secret or args.flag("hide_results"),
        tie_rule="lot" if method in voting.CHOICE_METHODS else "status-quo",
        state=OPEN,
        opened_at=ctx.now,
        closes_at=closes,
        due_at=closes,
        remind_at=_remind_at(ctx, closes),
        ballot_key=secrets.token_hex(32) if secret else None,
    )
    ctx.session.add(proposal)
    ctx.session.flush()
    recused = _snapshot(ctx, proposal, body) if body else []
    if body is None:
        proposal.electorate_size = ctx.caller.member_count or _known_members(ctx)
    ctx.session.add(proposal)
    ctx.audit("proposal.created", "proposal", proposal.number, _rules_record(ctx, proposal))
    replies = [proposal_post(ctx, proposal)]
    for member in recused:
        text = ctx.t("proposal.recused_author", number=proposal.number, title=proposal.title)
        replies.append(Reply(text, Visibility.DM, recipient=member.platform_user_id))
    return replies


def _create_form(ctx: Context) -> Form:
    keys = ("title", "text", "electorate", "method", MORE_FIELD)
    return Form(
        title=ctx.t("proposal.form_title"),
        command="proposal create",
        fields=tuple(
            FormField(
                key,
                ctx.t(f"proposal.field.{key}"),
                required=key == "title",
                multiline=key == "text",
                hint=ctx.t(f"proposal.hint.{key}"),
            )
            for key in keys
        ),
        submit=ctx.t("proposal.form_submit"),
    )


def _electorate_body(ctx: Context, name: str) -> Body | None:
    return None if name.lower() == "community" else ctx.body(name.lower())


def _options(text: str | None) -> tuple[str, ...]:
    if not text:
        return ()
    options = tuple(part.strip() for part in text.split("|"))
    if any(not option for option in options):
        raise Refusal("error.proposal.empty_option", field="options")
    if len(options) > MAX_OPTIONS:
        raise Refusal("error.proposal.too_many_options", field="options", max=MAX_OPTIONS)
    if any(mark in option for option in options for mark in ",>"):
        raise Refusal("error.proposal.option_mark", field="options")
    if any(len(option) > OPTION_LENGTH for option in options):
        raise Refusal("error.proposal.option_too_long", field="options", max=OPTION_LENGTH)
    return options


def _threshold(text: str | None) -> Any:
    if text is None:
        return None
    threshold = voting.parse_threshold(text)
    if threshold is None:
        raise Refusal("error.proposal.bad_threshold", field="threshold")
    return threshold


def _quorum(text: str | None) -> voting.Quorum | None:
    if text is None:
        return None
    quorum = voting.parse_quorum(text)
    if quorum is None:
        raise Refusal("error.proposal.bad_quorum", field="quorum")
    return quorum


def _next_number(ctx: Context) -> int:
    # Writers hold the community's chain-head lock, so no other writer takes the same number.
    highest = ctx.session.exec(
        select(func.max(Proposal.number)).where(Proposal.community_id == ctx.community_id)
    ).one()
    return int(highest or 0) + 1


def _remind_at(ctx: Context, closes: datetime) -> datetime | None:
    before = parse_duration(ctx.community.remind_before) if ctx.community.remind_before else None
    if before is None:
        return None
    moment = before.before(closes)
    return moment if moment > ctx.now else None


def _snapshot(ctx: Context, proposal: Proposal, body: Body) -> list[Member]:
    """Fix the electorate: the body's seats now; the author sits out where the body says so."""
    seats = ctx.seats(body)
    member_ids = list(dict.fromkeys(seat.member_id for seat in seats))
    recused_author = body.author_recused and proposal.author_id in member_ids
    rows = [
        {
            "proposal_id": proposal.id,
            "member_id": member_id,
            "recused": "author" if recused_author and member_id == proposal.author_id else None,
        }
        for member_id in member_ids
    ]
    if rows:
        ctx.session.execute(insert(_ELIGIBLE), rows)
    proposal.electorate_size = len(member_ids) - (1 if recused_author else 0)
    return [ctx.actor] if recused_author else []


def _known_members(ctx: Context) -> int:
    found = ctx.session.exec(
        select(func.count()).select_from(Member).where(Member.community_id == ctx.community_id)
    ).one()
    return int(found)


# --- reading -----------------------------------------------------------------------------


def show_proposal(ctx: Context, args: Args) -> list[Reply]:
    """Show a proposal: its rules, its tally where visible, and its decision once closed."""
    proposal = _proposal(ctx, args)
    decision = _decision(ctx, proposal)
    if decision is None:
        return [Reply(_summary(ctx, proposal), Visibility.PRIVATE)]
    record = json.loads(decision.record)
    text = _summary(ctx, proposal) + "\n" + _result_text(ctx, proposal, record)
    written = Attachment(f"proposal-{proposal.number}.md", minutes(ctx, proposal, record))
    return [Reply(text, Visibility.PRIVATE, attachment=written)]


def list_proposals(ctx: Context, args: Args) -> list[Reply]:
    """List the newest proposals, open or closed."""
    which = args.text("state")
    query = select(Proposal).where(Proposal.community_id == ctx.community_id)
    if which == "open":
        query = query.where(Proposal.state == OPEN)
    elif which == "closed":
        query = query.where(Proposal.state != OPEN)
    found = ctx.session.exec(query.order_by(col(Proposal.number).desc()).limit(LIST_LIMIT)).all()
    if not found:
        return [ctx.private("proposal.none")]
    lines = [ctx.t("proposal.list_head")]
    for proposal in found:
        lines.append(
            ctx.t(
                "proposal.list_line",
                number=proposal.number,
                title=proposal.title,
                state=_state_words(ctx, proposal),
                closes=ctx.when(proposal.closes_at),
            )
        )
    return [Reply("\n".join(lines), Visibility.PRIVATE)]


def _proposal(ctx: Context, args: Args) -> Proposal:
    text = (args.text("id") or "").lstrip("#")
    if not text.isdigit() or len(text) > 9:
        raise Refusal("error.proposal.bad_id", field="id", id=text[:12])
    row = _BY_NUMBER.first(ctx.session, {"community": ctx.community_id, "number": int(text)})
    if row is None:
        raise Refusal("error.proposal.unknown", field="id", number=text)
    return rows.load_row(ctx.session, Proposal, row)


# Built once, prepared: every ballot runs these.
_BY_NUMBER = rows.Prepared(
    sa_select(_PROPOSAL).where(
        _PROPOSAL.c.community_id == bindparam("community"),
        _PROPOSAL.c.number == bindparam("number"),
    )
)
_PREVIOUS = rows.Prepared(
    sa_select(_BALLOT.c.choice, _BALLOT.c.delegated).where(
        _BALLOT.c.proposal_id == bindparam("proposal"), _BALLOT.c.slot == bindparam("slot")
    )
)
# RETURNING says whether the row went in (a driver's rowcount for this is not dependable).
_ADD_VOTER = rows.Prepared(
    insert(_VOTER)
    .from_select(
        ["proposal_id", "member_id"],
        sa_select(bindparam("proposal", type_=Integer), bindparam("member", type_=Integer)).where(
            ~exists().where(
                _VOTER.c.proposal_id == bindparam("proposal"),
                _VOTER.c.member_id == bindparam("member"),
            )
        ),
    )
    .returning(_VOTER.c.member_id)
)
_INSERT_BALLOT = rows.Prepared(insert(_BALLOT))
_CHANGE_BALLOT = rows.Prepared(
    update(_BALLOT)
    .where(
        _BALLOT.c.proposal_id == bindparam("ballot_of"), _BALLOT.c.slot == bindparam("ballot_slot")
    )
    .values(
        choice=bindparam("new_choice"),
        reason=bindparam("new_reason"),
        delegated=bindparam("new_delegated"),
    )
)
_COUNT = rows.Prepared(
    update(_PROPOSAL)
    .where(_PROPOSAL.c.id == bindparam("counted"))
    .values(
        counts=bindparam("new_counts"),
        ballots=bindparam("new_ballots"),
        delegated=bindparam("new_delegated"),
    )
)


def _decision(ctx: Context, proposal: Proposal) -> Decision | None:
    return ctx.session.exec(
        select(Decision)
        .where(Decision.proposal_id == proposal.id)
        .order_by(col(Decision.id).desc())
        .limit(1)
    ).first()


# --- voting ------------------------------------------------------------------------------


def cast_vote(ctx: Context, args: Args) -> list[Reply]:
    """Cast or change a ballot; the last one counts."""
    proposal = _open_proposal(ctx, args)
    rules = rules_of(proposal)
    _require_eligible(ctx, proposal)
    _session_check(ctx, proposal)
    text = args.text("choice")
    command = f"vote cast {proposal.number}"
    if not text:
        return [_ballot_prompt(ctx, proposal, rules, command)]
    reason = args.text("reason")
    try:
        choice = voting.parse_choice(rules, text, reason)
    except ChoiceError as error:
        if error.key == "error.vote.reason_needed":
            return [_reason_prompt(ctx, f"{command} {text}", "vote.reason_prompt")]
        if error.key == "error.vote.bad_choice" and rules.method in voting.CHOICE_METHODS:
            # Show how a ballot of options is written, with the options numbered.
            key = (
                "error.vote.bad_approval"
                if rules.method is Method.APPROVAL
                else "error.vote.bad_ranking"
            )
            raise Refusal(key, field="choice", options=_numbered(ctx, rules)) from None
        raise Refusal(error.key, field="choice", **error.params) from None
    canonical = voting.canonical(rules, choice)
    changed, cast_for, overrode = _record_ballot(ctx, proposal, rules, canonical, reason)
    data: dict[str, Any] = {"proposal": proposal.number}
    if not proposal.secret:
        # An open ballot names whom a delegate also voted for; a secret one says nothing of it.
        data |= {"choice": canonical, "reason": reason}
        if cast_for:
            data["for"] = [f"member:{member_id}" for member_id in cast_for]
    ctx.audit("vote.changed" if changed else "vote.cast", "proposal", proposal.number, data)
    replies = [_cast_reply(ctx, proposal, rules, choice, changed, cast_for, overrode)]
    replies += _after_ballot(ctx, proposal, rules)
    replies += _session_after_ballot(ctx, proposal)
    return replies


def _session_check(ctx: Context, proposal: Proposal) -> None:
    """Let a running vote session refuse the ballot (an item not yet taken; an absent member)."""
    from govbot.services import sessions  # sessions builds on proposals

    sessions.check_ballot(ctx, proposal)


def _session_after_ballot(ctx: Context, proposal: Proposal) -> list[Reply]:
    """Let a running vote session refresh its message, or end the item once all present voted."""
    from govbot.services import sessions

    return sessions.after_ballot(ctx, proposal)


def _open_proposal(ctx: Context, args: Args) -> Proposal:
    proposal = _proposal(ctx, args)
    if proposal.state == WITHDRAWN:
        raise Refusal("error.proposal.withdrawn", number=proposal.number)
    if proposal.state != OPEN or (
        ctx.now >= proposal.closes_at and proposal.comment_period_ends is None
    ):
        raise Refusal("error.proposal.closed", number=proposal.number)
    return proposal


def _require_eligible(ctx: Context, proposal: Proposal) -> None:
    """Refuse a member outside the electorate, or recused from it, saying why."""
    if proposal.body_id is None:
        return
    row = ctx.session.execute(
        select(_ELIGIBLE.c.recused).where(
            _ELIGIBLE.c.proposal_id == proposal.id, _ELIGIBLE.c.member_id == ctx.actor.id
        )
    ).first()
    if row is None:
        body = ctx.session.get(Body, proposal.body_id)
        slug = body.slug if body else "?"
        raise Refusal(
            "error.vote.not_eligible",
            body=slug,
            number=proposal.number,
            opened=ctx.when(proposal.opened_at),
        )
    if row[0] is not None:
        raise Refusal(f"error.vote.recused_{row[0]}", number=proposal.number)


@dataclasses.dataclass
class _Counts:
    """A proposal's live counts while one command adds its ballots to them."""

    counts: dict[str, int]
    ballots: int
    delegated: int
    overrode_delegate: bool = False  # the caller's ballot replaced one their delegate cast


def _record_ballot(
    ctx: Context, proposal: Proposal, rules: Rules, canonical: str, reason: str | None
) -> tuple[bool, list[int], bool]:
    """Store the caller's ballot, and the same for whoever delegated to them.

    Returns whether the caller changed an in-person ballot, whom the ballot was also cast
    for (members with no in-person ballot who delegated to the caller on this body), and
    whether it replaced a ballot the caller's own delegate had cast for them.
    """
    live = _Counts(json.loads(proposal.counts), proposal.ballots, proposal.delegated)
    member_id = _id(ctx.actor)
    changed = _put_ballot(ctx, proposal, rules, live, member_id, canonical, reason, False)
    cast_for: list[int] = []
    if proposal.body_id is not None:
        for delegator in delegation.delegators(ctx, _id(proposal), proposal.body_id, member_id):
            _put_ballot(ctx, proposal, rules, live, delegator, canonical, None, True)
            cast_for.append(delegator)
    text = json.dumps({k: v for k, v in live.counts.items() if v})
    # Written by one statement; the loaded proposal learns the values without turning dirty,
    # so no second UPDATE is flushed for it.
    _COUNT.rows(
        ctx.session,
        {
            "counted": proposal.id,
            "new_counts": text,
            "new_ballots": live.ballots,
            "new_delegated": live.delegated,
        },
    )
    set_committed_value(proposal, "counts", text)
    set_committed_value(proposal, "ballots", live.ballots)
    set_committed_value(proposal, "delegated", live.delegated)
    return changed, cast_for, live.overrode_delegate


def _put_ballot(
    ctx: Context,
    proposal: Proposal,
    rules: Rules,
    live: _Counts,
    member_id: int,
    canonical: str,
    reason: str | None,
    by_delegate: bool,
) -> bool:
    """Store one member's ballot, replacing their last; say whether an in-person one changed.

    In person, a member gets a voter row; a ballot their delegate casts gives them none, so
    a voter row means an in-person ballot stands and a delegate's is not stored over it.
    The delegated ballot sits in the member's own slot (their receipt, on a secret ballot),
    where their in-person ballot replaces it.
    """
    slot = _slot(proposal, member_id)
    in_person_before = False
    if not by_delegate:
        # Adding the voter row, if absent, tells a first in-person ballot from a change.
        voter = {"proposal": proposal.id, "member": member_id}
        in_person_before = _ADD_VOTER.first(ctx.session, voter) is None
    previous = None
    if in_person_before or live.delegated:
        found = _PREVIOUS.rows(ctx.session, {"proposal": proposal.id, "slot": slot})
        previous = found[0] if found else None
    if previous is None:
        ballot = {
            "proposal_id": proposal.id,
            "slot": slot,
            "member_id": None if proposal.secret else member_id,
            "choice": canonical,
            "reason": reason,
            "delegated": by_delegate,
        }
        _INSERT_BALLOT.rows(ctx.session, ballot)
        live.ballots += 1
    else:
        changed = {"ballot_of": proposal.id, "ballot_slot": slot, "new_delegated": by_delegate}
        _CHANGE_BALLOT.rows(ctx.session, {**changed, "new_choice": canonical, "new_reason": reason})
        for name in _count_keys(rules, str(previous[0])):
            live.counts[name] = live.counts.get(name, 0) - 1
        live.delegated -= 1 if previous[1] else 0
        live.overrode_delegate |= bool(previous[1]) and not by_delegate
    live.delegated += 1 if by_delegate else 0
    for name in _count_keys(rules, canonical):
        live.counts[name] = live.counts.get(name, 0) + 1
    return in_person_before


def _count_keys(rules: Rules, canonical: str) -> Iterator[str]:
    """Name what a ballot adds to the live counts: its choice, each approval, a first preference."""
    choice = voting.from_canonical(rules, canonical)
    if isinstance(choice, frozenset):
        yield from (rules.options[index] for index in sorted(choice))
    elif isinstance(choice, tuple):
        if choice:
            yield rules.options[choice[0]]
    else:
        yield choice


def _slot(proposal: Proposal, member_id: int) -> str:
    """Name where a member's ballot is kept: their receipt on a secret ballot."""
    return receipt(proposal, member_id) if proposal.secret else f"m{member_id}"


def receipt(proposal: Proposal, member_id: int) -> str:
    """Derive a voter's receipt code from the proposal's ballot key (erased at close)."""
    assert proposal.ballot_key is not None
    mac = hmac.new(
        bytes.fromhex(proposal.ballot_key),
        f"{proposal.id}:{member_id}".encode(),
        hashlib.sha256,
    ).digest()
    code = base64.b32encode(mac).decode()[:10]
    return f"{code[:5]}-{code[5:]}"


def _cast_reply(
    ctx: Context,
    proposal: Proposal,
    rules: Rules,
    choice: Choice,
    changed: bool,
    cast_for: list[int],
    overrode: bool,
) -> Reply:
    if proposal.secret:
        # Nothing about delegated ballots: not even the delegate hears whose were cast.
        key = "vote.secret_changed" if changed else "vote.secret_cast"
        code = receipt(proposal, _id(ctx.actor))
        return ctx.private(key, number=proposal.number, receipt=code)
    key = "vote.changed" if changed else "vote.cast"
    shown = choice_word(ctx, voting.describe(rules, choice))
    reply = ctx.private(key, number=proposal.number, choice=shown)
    if overrode:
        reply.text += "\n" + ctx.t("vote.overrode_delegate")
    if cast_for:
        names = _names(ctx, cast_for)
        members = ctx.listing(names.get(member_id, "?") for member_id in cast_for)
        reply.text += "\n" + ctx.t("vote.delegated_for", members=members)
    return reply


def _after_ballot(ctx: Context, proposal: Proposal, rules: Rules) -> list[Reply]:
    """Close at once when the outcome can no longer change, else refresh the public tally."""
    if proposal.method == Method.SIGN_OFF.value:
        _track_comment_period(ctx, proposal)
    elif proposal.body_id is not None and _settled(ctx, proposal, rules):
        return close(ctx, proposal, reason=None, early=True)
    return _tally_update(ctx, proposal)


def _settled(ctx: Context, proposal: Proposal, rules: Rules) -> bool:
    # A delegated ballot still waits on its member, who may vote in person until close.
    outstanding = max(0, proposal.electorate_size - proposal.ballots + proposal.delegated)
    if outstanding == 0:
        return True
    if proposal.method not in (Method.MAJORITY.value, Method.SUPERMAJORITY.value):
        return False
    choices: list[Choice]
    if proposal.delegated:
        choices = [
            str(row[0])
            for row in ctx.session.execute(
                select(_BALLOT.c.choice).where(
                    _BALLOT.c.proposal_id == proposal.id, _BALLOT.c.delegated.is_(False)
                )
            ).all()
        ]
    else:
        counts: dict[str, int] = json.loads(proposal.counts)
        choices = [key for key, n in counts.items() for _ in range(n)]
    return voting.settled(_with_size(rules, proposal), choices, outstanding)


def _tally_update(ctx: Context, proposal: Proposal) -> list[Reply]:
    if proposal.hide_results:
        return []
    post = proposal_post(ctx, proposal)
    post.key, post.updates, post.revision = None, _message_key(proposal), ctx.last_seq
    return [post]


def receipt_code(ctx: Context, args: Args) -> list[Reply]:
    """Show the caller their receipt code on a secret ballot."""
    proposal = _proposal(ctx, args)
    if not proposal.secret:
        raise Refusal("error.vote.not_secret", number=proposal.number)
    if proposal.ballot_key is None:
        raise Refusal("error.vote.receipt_gone", number=proposal.number)
    code = receipt(proposal, _id(ctx.actor))
    # The slot, not a voter row: a ballot a delegate cast for the caller has a receipt too.
    if _PREVIOUS.first(ctx.session, {"proposal": proposal.id, "slot": code}) is None:
        raise Refusal("error.vote.no_ballot", number=proposal.number)
    return [ctx.private("vote.receipt", number=proposal.number, receipt=code)]


# --- concerns (sign-off) -----------------------------------------------------------------


def raise_concern(ctx: Context, args: Args) -> list[Reply]:
    """Raise a concern on a sign-off proposal; it stops the comment period until withdrawn."""
    proposal = _open_proposal(ctx, args)
    if proposal.method != Method.SIGN_OFF.value:
        raise Refusal("error.concern.not_sign_off", number=proposal.number)
    _require_eligible(ctx, proposal)
    reason = args.text("reason")
    if not reason:
        return [_reason_prompt(ctx, f"concern raise {proposal.number}", "concern.reason_prompt")]
    highest = ctx.session.exec(
        select(func.max(Concern.number)).where(Concern.proposal_id == proposal.id)
    ).one()
    concern = Concern(
        proposal_id=_id(proposal),
        number=int(highest or 0) + 1,
        member_id=_id(ctx.actor),
        reason=reason,
        raised_at=ctx.now,
    )
    ctx.session.add(concern)
    stopped = proposal.comment_period_ends is not None
    proposal.comment_period_ends = None
    proposal.due_at = proposal.closes_at
    ctx.session.add(proposal)
    ctx.audit(
        "concern.raised",
        "proposal",
        proposal.number,
        {"proposal": proposal.number, "concern": concern.number, "reason": reason},
    )
    key = "concern.raised_stopped" if stopped else "concern.raised"
    text = ctx.t(
        key,
        number=proposal.number,
        concern=concern.number,
        member=mention(ctx.actor),
        reason=reason,
    )
    return [Reply(text, Visibility.PUBLIC), *_tally_update(ctx, proposal)]


def withdraw_concern(ctx: Context, args: Args) -> list[Reply]:
    """Withdraw one's own concern; the comment period may then start."""
    proposal = _open_proposal(ctx, args)
    text = (args.text("concern") or "").lstrip("#")
    concern = ctx.session.exec(
        select(Concern).where(
            Concern.proposal_id == proposal.id,
            Concern.number == (int(text) if text.isdigit() and len(text) < 9 else -1),
        )
    ).first()
    if concern is None or concern.withdrawn_at is not None:
        raise Refusal("error.concern.unknown", field="concern", number=proposal.number, id=text)
    if concern.member_id != ctx.actor.id:
        raise Refusal("error.concern.not_yours", concern=concern.number)
    concern.withdrawn_at = ctx.now
    ctx.session.add(concern)
    ctx.audit(
        "concern.withdrawn",
        "proposal",
        proposal.number,
        {"proposal": proposal.number, "concern": concern.number},
    )
    _track_comment_period(ctx, proposal)
    text = ctx.t(
        "concern.withdrawn",
        number=proposal.number,
        concern=concern.number,
        member=mention(ctx.actor),
    )
    return [Reply(text, Visibility.PUBLIC), *_tally_update(ctx, proposal)]


def _open_concerns(ctx: Context, proposal: Proposal) -> int:
    found = ctx.session.exec(
        select(func.count())
        .select_from(Concern)
        .where(Concern.proposal_id == proposal.id, col(Concern.withdrawn_at).is_(None))
    ).one()
    return int(found)


def _track_comment_period(ctx: Context, proposal: Proposal) -> None:
    """Start the comment period once enough members signed off and no concern stands."""
    if proposal.comment_period_ends is not None:
        return
    rules = _with_size(rules_of(proposal), proposal)
    signed = [voting.from_canonical(rules, "sign-off")] * proposal.ballots
    result = voting.tally(rules, signed, open_concerns=_open_concerns(ctx, proposal))
    if result.outcome is Outcome.PASSED:
        proposal.comment_period_ends = ctx.now + COMMENT_PERIOD
        proposal.due_at = max(proposal.closes_at, proposal.comment_period_ends)
        ctx.session.add(proposal)


# --- chair actions -----------------------------------------------------------------------


def close_proposal(ctx: Context, args: Args) -> list[Reply]:
    """Close a proposal now, with the reason recorded (its body's chair, or a manager)."""
    proposal = _open_proposal(ctx, args)
    _require_chair(ctx, proposal)
    return close(ctx, proposal, reason=args.text("reason"), early=True)


def extend_proposal(ctx: Context, args: Args) -> list[Reply]:
    """Move a proposal's close later, with the reason recorded."""
    proposal = _open_proposal(ctx, args)
    _require_chair(ctx, proposal)
    closes = args.moment("closes")
    assert closes is not None
    if closes <= proposal.closes_at:
        raise Refusal(
            "error.proposal.not_later", field="closes", closes=ctx.when(proposal.closes_at)
        )
    if closes - proposal.opened_at > LONGEST_OPEN:
        raise Refusal("error.proposal.closes_far", field="closes")
    reason = args.text("reason") or ""
    before = proposal.closes_at
    proposal.closes_at = closes
    proposal.due_at = max(closes, proposal.comment_period_ends or closes)
    proposal.remind_at = _remind_at(ctx, closes)
    ctx.session.add(proposal)
    ctx.audit(
        "proposal.extended",
        "proposal",
        proposal.number,
        {"proposal": proposal.number, "from": before, "to": closes, "reason": reason},
    )
    text = ctx.t(
        "proposal.extended",
        number=proposal.number,
        title=proposal.title,
        closes=ctx.when(closes),
        reason=reason,
    )
    return [Reply(text, Visibility.PUBLIC), *_tally_update(ctx, proposal)]


def withdraw_proposal(ctx: Context, args: Args) -> list[Reply]:
    """Withdraw one's own proposal before anyone has voted."""
    proposal = _open_proposal(ctx, args)
    if proposal.author_id != ctx.actor.id:
        raise Refusal("error.proposal.not_author", number=proposal.number)
    if proposal.ballots:
        raise Refusal("error.proposal.has_ballots", number=proposal.number)
    proposal.state = WITHDRAWN
    proposal.closed_at = ctx.now
    proposal.due_at = proposal.remind_at = None
    proposal.ballot_key = None
    ctx.session.add(proposal)
    ctx.audit("proposal.withdrawn", "proposal", proposal.number, {"proposal": proposal.number})
    text = ctx.t("proposal.withdrawn", number=proposal.number, title=proposal.title)
    update_post = proposal_post(ctx, proposal, controls=False)
    update_post.key, update_post.updates = None, _message_key(proposal)
    update_post.revision = ctx.last_seq
    return [Reply(text, Visibility.PUBLIC), update_post]


def remind_voters(ctx: Context, args: Args) -> list[Reply]:
    """Remind the eligible members who have not voted, now (chair, manager or author)."""
    proposal = _open_proposal(ctx, args)
    if proposal.author_id != ctx.actor.id:
        _require_chair(ctx, proposal)
    reminders = reminder_replies(ctx, proposal)
    count = sum(1 for reply in reminders if reply.visibility is Visibility.DM)
    ctx.audit(
        "proposal.reminded",
        "proposal",
        proposal.number,
        {"proposal": proposal.number, "reminded": count},
    )
    return [ctx.private("proposal.reminded", number=proposal.number, count=count), *reminders]


def reminder_replies(ctx: Context, proposal: Proposal) -> list[Reply]:
    """Build the reminders: a DM to each eligible non-voter; nobody else is pinged.

    A community-wide vote has no list of who may vote, so it gets one public line instead.
    """
    text = ctx.t(
        "proposal.reminder",
        number=proposal.number,
        title=proposal.title,
        closes=ctx.when(proposal.closes_at),
    )
    if proposal.body_id is None:
        return [Reply(text, Visibility.PUBLIC, recipient=_home_channel(ctx, proposal))]
    waiting = ctx.session.execute(
        select(Member.id, Member.platform_user_id)
        .join(_ELIGIBLE, _ELIGIBLE.c.member_id == Member.id)
        .outerjoin(
            _VOTER,
            (_VOTER.c.proposal_id == _ELIGIBLE.c.proposal_id)
            & (_VOTER.c.member_id == _ELIGIBLE.c.member_id),
        )
        .where(
            _ELIGIBLE.c.proposal_id == proposal.id,
            _ELIGIBLE.c.recused.is_(None),
            _VOTER.c.member_id.is_(None),
        )
    ).all()
    # A member whose delegate voted for them has a ballot, though no in-person vote.
    slots = {_slot(proposal, int(row[0])): str(row[1]) for row in waiting}
    delegated = ctx.session.execute(
        select(_BALLOT.c.slot).where(
            _BALLOT.c.proposal_id == proposal.id, _BALLOT.c.slot.in_(list(slots))
        )
    ).all()
    covered = {str(row[0]) for row in delegated}
    return [
        Reply(text, Visibility.DM, recipient=user)
        for slot, user in slots.items()
        if slot not in covered
    ]


def forward_proposal(ctx: Context, args: Args) -> list[Reply]:
    """Forward a passed proposal to another body, opening a linked proposal to ratify it."""
    proposal = _proposal(ctx, args)
    _require_chair(ctx, proposal)
    if proposal.state != CLOSED or proposal.outcome != Outcome.PASSED.value:
        state = _state_words(ctx, proposal)
        raise Refusal("error.proposal.forward_not_passed", number=proposal.number, state=state)
    body = ctx.body(args.text("body") or "")
    if body.id == proposal.body_id:
        raise Refusal("error.proposal.forward_same_body", field="body", body=body.slug)
    earlier = ctx.session.exec(
        select(Proposal.number).where(
            Proposal.ratifies_id == proposal.id, Proposal.body_id == body.id
        )
    ).first()
    if earlier is not None:
        raise Refusal(
            "error.proposal.already_forwarded",
            field="body",
            number=proposal.number,
            body=body.slug,
            ratification=earlier,
        )
    closes = ctx.now + DEFAULT_OPEN_FOR
    title = ctx.t("proposal.ratify_title", title=proposal.title)
    ratification = Proposal(
        community_id=ctx.community_id,
        number=_next_number(ctx),
        title=title if len(title) <= TITLE_LENGTH else title[: TITLE_LENGTH - 1] + "…",
        text=proposal.text,
        link=proposal.link,
        author_id=_id(ctx.actor),
        body_id=body.id,
        method=Method.MAJORITY.value,
        tie_rule="status-quo",
        state=OPEN,
        opened_at=ctx.now,
        closes_at=closes,
        due_at=closes,
        remind_at=_remind_at(ctx, closes),
        ratifies_id=proposal.id,
    )
    ctx.session.add(ratification)
    ctx.session.flush()
    recused = _snapshot(ctx, ratification, body)
    ctx.session.add(ratification)
    ctx.audit(
        "proposal.forwarded",
        "proposal",
        proposal.number,
        {"proposal": proposal.number, "body": body.slug, "ratification": ratification.number},
    )
    record = _rules_record(ctx, ratification)
    ctx.audit("proposal.created", "proposal", ratification.number, record)
    text = ctx.t(
        "proposal.forwarded",
        number=proposal.number,
        body=body.slug,
        ratification=ratification.number,
    )
    replies = [Reply(text, Visibility.PUBLIC), proposal_post(ctx, ratification)]
    for member in recused:
        text = ctx.t("proposal.recused_author", number=ratification.number, title=title)
        replies.append(Reply(text, Visibility.DM, recipient=member.platform_user_id))
    return replies


def _require_chair(ctx: Context, proposal: Proposal) -> None:
    if ctx.is_manager():
        return
    body = ctx.session.get(Body, proposal.body_id) if proposal.body_id else None
    if body is None or not any(seat.member_id == ctx.actor.id for seat in ctx.chairs(body)):
        raise Refusal("error.proposal.not_chair", number=proposal.number)


# --- closing -----------------------------------------------------------------------------


def close(
    ctx: Context,
    proposal: Proposal,
    *,
    reason: str | None,
    early: bool,
    actor: str | None = None,
) -> list[Reply]:
    """Close a proposal: tally it, write the decision record, announce the result."""
    rules = _with_size(rules_of(proposal), proposal)
    ballots = ctx.session.execute(
        select(_BALLOT.c.choice, _BALLOT.c.reason, _BALLOT.c.member_id, _BALLOT.c.delegated).where(
            _BALLOT.c.proposal_id == proposal.id
        )
    ).all()
    choices = [voting.from_canonical(rules, str(row[0])) for row in ballots]
    if proposal.secret:
        _rewrite_secret_ballots(ctx, proposal)
    proposal.state = CLOSED
    proposal.closed_at = ctx.now
    proposal.due_at = proposal.remind_at = None
    closing = ctx.audit(
        "proposal.closed",
        "proposal",
        proposal.number,
        {"proposal": proposal.number, "reason": reason, "ballots": len(choices)},
        actor=actor,
    )
    result = voting.tally(
        rules,
        choices,
        open_concerns=_open_concerns(ctx, proposal),
        lot_seed=closing,
    )
    if (
        proposal.method == Method.SIGN_OFF.value
        and (proposal.comment_period_ends is None or ctx.now < proposal.comment_period_ends)
        and result.outcome is Outcome.PASSED
    ):  # signed off, but the comment period did not run
        result = dataclasses.replace(result, outcome=Outcome.FAILED)
    record = _decision_record(ctx, proposal, rules, result, ballots, reason, closing)
    proposal.outcome = result.outcome.value
    proposal.ballot_key = None  # from here on nothing links a receipt to a voter
    ctx.session.add(proposal)
    decision = Decision(
        community_id=ctx.community_id,
        proposal_id=_id(proposal),
        outcome=result.outcome.value,
        record=json.dumps(record, sort_keys=True, ensure_ascii=False),
        closing_hash=closing,
        decided_at=ctx.now,
    )
    ctx.session.add(decision)
    ctx.session.flush()
    ctx.audit(
        "decision.recorded",
        "proposal",
        proposal.number,
        {"proposal": proposal.number, "decision": decision.id, "record": record},
        actor=actor,
    )
    head = "proposal.closed_early" if early else "proposal.closed_head"
    text = ctx.t(head, number=proposal.number, title=proposal.title) + "\n"
    text += _result_text(ctx, proposal, record)
    result_post = Reply(text, Visibility.PUBLIC, recipient=_home_channel(ctx, proposal))
    update_post = proposal_post(ctx, proposal, controls=False)
    update_post.key, update_post.updates = None, _message_key(proposal)
    update_post.revision = ctx.last_seq
    return [result_post, update_post]


def _rewrite_secret_ballots(ctx: Context, proposal: Proposal) -> None:
    """Write a secret ballot's rows afresh in the closing transaction, in receipt order.

    A row keeps traces of the transaction that wrote it (Postgres's xmin, its place in the
    table), and that transaction also wrote the voter's row and audit entry: rewritten, every
    ballot carries the closing transaction's traces instead, so nothing joins it to a voter.
    """
    rows = ctx.session.execute(
        select(_BALLOT.c.slot, _BALLOT.c.choice, _BALLOT.c.reason)
        .where(_BALLOT.c.proposal_id == proposal.id)
        .order_by(_BALLOT.c.slot)
    ).all()
    if not rows:
        return
    ctx.session.execute(delete(_BALLOT).where(_BALLOT.c.proposal_id == proposal.id))
    ctx.session.execute(
        insert(_BALLOT),
        [
            # Whether a delegate cast it goes too: the record keeps only how many were.
            {
                "proposal_id": proposal.id,
                "slot": slot,
                "member_id": None,
                "choice": c,
                "reason": r,
                "delegated": False,
            }
            for slot, c, r in rows
        ],
    )


def _decision_record(
    ctx: Context,
    proposal: Proposal,
    rules: Rules,
    result: voting.Result,
    ballots: Any,
    reason: str | None,
    closing: str,
) -> dict[str, Any]:
    """Everything needed to re-check a decision: rules, times, tally, reasons, hashes."""
    names = _names(ctx, [row[2] for row in ballots if row[2] is not None])
    reasons = [
        {
            "choice": voting.describe(rules, voting.from_canonical(rules, str(row[0]))),
            "reason": row[1],
            **({} if proposal.secret else {"member": names.get(row[2], "?")}),
        }
        for row in sorted(ballots, key=lambda r: (str(r[1]), str(r[0])))
        if row[1]
    ]
    concerns = ctx.session.exec(
        select(Concern).where(Concern.proposal_id == proposal.id).order_by(col(Concern.number))
    ).all()
    record = _rules_record(ctx, proposal)
    record.update(
        {
            "closed_at": ctx.now.isoformat(),
            "close_reason": reason,
            "outcome": result.outcome.value,
            "ballots": result.ballots,
            "delegated": sum(1 for row in ballots if row[3]),
            "quorum_required": result.quorum_required,
            "quorum_met": result.quorum_met,
            "counts": result.counts,
            "winners": list(result.winners),
            "ranking": list(result.ranking),
            "rounds": [dict(r) for r in result.rounds],
            "eliminated": list(result.eliminated),
            "pairwise": result.pairwise,
            "strongest": result.strongest,
            "lot": list(result.lot),
            "lot_seed": closing if result.lot else None,
            "reasons": reasons,
            "concerns": [
                {"number": c.number, "reason": c.reason, "withdrawn": c.withdrawn_at is not None}
                for c in concerns
            ],
            "closing_hash": closing,
        }
    )
    if proposal.secret:
        record["receipts"] = sorted(str(row[0]) for row in _slots(ctx, proposal))
    return record


def _slots(ctx: Context, proposal: Proposal) -> Any:
    return ctx.session.execute(
        select(_BALLOT.c.slot).where(_BALLOT.c.proposal_id == proposal.id)
    ).all()


def _names(ctx: Context, member_ids: list[int]) -> dict[int, str]:
    if not member_ids:
        return {}
    rows = ctx.session.execute(
        select(Member.id, Member.display_name).where(col(Member.id).in_(member_ids))
    ).all()
    return {int(row[0]): f"@{row[1]}" for row in rows}


def _rules_record(ctx: Context, proposal: Proposal) -> dict[str, Any]:
    body = ctx.session.get(Body, proposal.body_id) if proposal.body_id else None
    record: dict[str, Any] = {
        "proposal": proposal.number,
        "title": proposal.title,
        "text": proposal.text,
        "link": proposal.link,
        "electorate": body.slug if body else "community",
        "electorate_size": proposal.electorate_size,
        "method": proposal.method,
        "options": json.loads(proposal.options),
        "threshold": proposal.threshold,
        "quorum": proposal.quorum,
        "seats": proposal.seats,
        "secret": proposal.secret,
        "hide_results": proposal.hide_results,
        "tie_rule": proposal.tie_rule,
        "opened_at": proposal.opened_at.isoformat(),
        "closes_at": proposal.closes_at.isoformat(),
    }
    if proposal.ratifies_id is not None:
        ratified = ctx.session.get(Proposal, proposal.ratifies_id)
        record["ratifies"] = ratified.number if ratified else None
    return record


# --- words -------------------------------------------------------------------------------


def rules_of(proposal: Proposal) -> Rules:
    """Read a proposal's voting rules back from its row."""
    return Rules(
        method=Method(proposal.method),
        options=tuple(json.loads(proposal.options)),
        threshold=voting.parse_threshold(proposal.threshold) if proposal.threshold else None,
        quorum=voting.parse_quorum(proposal.quorum) if proposal.quorum else None,
        seats=proposal.seats,
    )


def _with_size(rules: Rules, proposal: Proposal) -> Rules:
    return Rules(
        method=rules.method,
        options=rules.options,
        threshold=rules.threshold,
        quorum=rules.quorum,
        seats=rules.seats,
        sign_off_allowance=rules.sign_off_allowance,
        electorate=proposal.electorate_size,
    )


def _home_channel(ctx: Context, proposal: Proposal) -> str | None:
    """Where a later post about a proposal goes: the announce channel, else its own message's.

    A timer has no caller's channel to fall back to, and Slack has no system channel.
    """
    if ctx.community.announce_channel:
        return None
    return ctx.session.exec(
        select(PostedMessage.channel).where(
            PostedMessage.community_id == ctx.community_id,
            PostedMessage.key == _message_key(proposal),
        )
    ).first()


def _numbered(ctx: Context, rules: Rules) -> str:
    """List the options with the numbers ballots may use: `1. Ana, 2. Bo`."""
    return ctx.listing(f"{i}. {o}" for i, o in enumerate(rules.options, 1))


def _message_key(proposal: Proposal) -> str:
    return f"proposal:{proposal.number}"


def _state_words(ctx: Context, proposal: Proposal) -> str:
    if proposal.state == OPEN:
        return ctx.t("proposal.state.open")
    if proposal.state == WITHDRAWN:
        return ctx.t("proposal.state.withdrawn")
    return ctx.t(f"outcome.{proposal.outcome or 'failed'}")


def _summary(ctx: Context, proposal: Proposal) -> str:
    """The proposal as its public message shows it: rules, times, and the live tally."""
    body = ctx.session.get(Body, proposal.body_id) if proposal.body_id else None
    rules = rules_of(proposal)
    lines = [ctx.t("proposal.head", number=proposal.number, title=proposal.title)]
    if proposal.text:
        lines.append(proposal.text)
    if proposal.link:
        lines.append(ctx.t("proposal.link", link=proposal.link))
    details = [
        ctx.t("proposal.electorate_body", body=body.slug)
        if body
        else ctx.t("proposal.electorate_community"),
        ctx.t("proposal.method", method=ctx.t(f"method.{proposal.method}")),
    ]
    if rules.options:
        details.append(
            ctx.t(
                "proposal.options",
                options=_numbered(ctx, rules),
            )
        )
    if proposal.method in (Method.MAJORITY.value, Method.SUPERMAJORITY.value):
        details.append(ctx.t("proposal.threshold", threshold=_fraction(rules)))
    if proposal.quorum:
        details.append(ctx.t("proposal.quorum", quorum=proposal.quorum))
    if proposal.seats > 1:
        details.append(ctx.t("proposal.seats", seats=proposal.seats))
    if proposal.secret:
        details.append(ctx.t("proposal.secret"))
    elif proposal.hide_results:
        details.append(ctx.t("proposal.hidden"))
    lines.append(ctx.t("text.sentence_gap").join(details))
    if proposal.state == OPEN:
        lines.append(ctx.t("proposal.closes", closes=ctx.when(proposal.closes_at)))
        if proposal.comment_period_ends is not None:
            lines.append(
                ctx.t("proposal.comment_period", until=ctx.when(proposal.comment_period_ends))
            )
    elif proposal.state == WITHDRAWN:
        lines.append(ctx.t("proposal.state_line", state=_state_words(ctx, proposal)))
    turnout = ctx.t(
        "proposal.turnout", ballots=proposal.ballots, electorate=proposal.electorate_size
    )
    lines.append(turnout)
    if proposal.state == OPEN and proposal.delegated and not proposal.hide_results:
        lines.append(ctx.t("proposal.delegated", delegated=proposal.delegated))
    lines += _links(ctx, proposal)
    if proposal.state == OPEN and not proposal.hide_results and proposal.ballots:
        counts: dict[str, int] = json.loads(proposal.counts)
        lines.append(
            ctx.t(
                "proposal.tally",
                counts=counts_text(ctx, rules, counts),
            )
        )
    return "\n".join(lines)


def _links(ctx: Context, proposal: Proposal) -> list[str]:
    """Name the proposal this one ratifies, and the ratifications this one was forwarded to."""
    lines = []
    if proposal.ratifies_id is not None:
        ratified = ctx.session.get(Proposal, proposal.ratifies_id)
        if ratified is not None:
            lines.append(ctx.t("proposal.ratifies", number=ratified.number, title=ratified.title))
    if proposal.state == CLOSED:  # only a passed proposal is forwarded
        found = ctx.session.execute(
            select(Proposal.number, Body.slug)
            .join(Body, col(Body.id) == col(Proposal.body_id))
            .where(Proposal.ratifies_id == proposal.id)
            .order_by(col(Proposal.number))
        ).all()
        for number, slug in found:
            lines.append(ctx.t("proposal.forwarded_to", number=number, body=slug))
    return lines


def counts_text(ctx: Context, rules: Rules, counts: dict[str, int]) -> str:
    """Show counts in the method's own order: yes, no, abstain; or the options as listed."""
    order = {
        Method.MAJORITY: ("yes", "no", "abstain"),
        Method.SUPERMAJORITY: ("yes", "no", "abstain"),
        Method.CONSENT: ("+1", "0", "-1"),
        Method.SIGN_OFF: ("sign-off",),
    }.get(rules.method, rules.options)
    keys = [*order, *(k for k in counts if k not in order)]
    return ctx.listing(f"{choice_word(ctx, k)} {counts.get(k, 0)}" for k in keys)


def _fraction(rules: Rules) -> str:
    threshold = rules.effective_threshold()
    return f"{threshold.numerator}/{threshold.denominator}"


def choice_word(ctx: Context, key: str) -> str:
    """Show a fixed choice (yes, abstain, sign-off) in the community's words."""
    if key in ("yes", "no", "abstain", "sign-off", "missing"):
        return ctx.t(f"choice.{key}")
    return key


def proposal_post(ctx: Context, proposal: Proposal, *, controls: bool = True) -> Reply:
    """The public message of a proposal, with its ballot controls while it is open."""
    reply = Reply(_summary(ctx, proposal), Visibility.PUBLIC, key=_message_key(proposal))
    if not controls or proposal.state != OPEN:
        return reply
    number = proposal.number
    command = f"vote cast {number}"
    method = Method(proposal.method)
    if method in voting.YES_NO:
        reply.buttons = [
            Button(ctx.t("choice.yes"), f"{command} yes"),
            Button(ctx.t("choice.no"), f"{command} no", "danger"),
            Button(ctx.t("choice.abstain"), f"{command} abstain", "secondary"),
        ]
    elif method is Method.CONSENT:
        reply.buttons = [
            Button("+1", f"{command} +1"),
            Button("0", f"{command} 0", "secondary"),
            Button("-1", f"{command} -1", "danger"),
        ]
    elif method is Method.SIGN_OFF:
        reply.buttons = [
            Button(ctx.t("choice.sign-off"), f"{command} sign-off"),
            Button(ctx.t("concern.button"), f"concern raise {number}", "danger"),
        ]
    elif method is Method.APPROVAL:
        reply.select = _approval_select(ctx, proposal)
    else:
        reply.buttons = [Button(ctx.t("vote.rank_button"), command)]
    return reply


def _approval_select(ctx: Context, proposal: Proposal) -> Select:
    options = json.loads(proposal.options)
    return Select(
        command=f"vote cast {proposal.number}",
        options=tuple(SelectOption(str(o), str(i)) for i, o in enumerate(options, 1)),
        placeholder=ctx.t("vote.approval_placeholder"),
        max_values=len(options),
    )


def _ballot_prompt(ctx: Context, proposal: Proposal, rules: Rules, command: str) -> Reply:
    """Answer a ballot with no choice with the controls to make one."""
    if rules.method in (Method.RANKED, Method.IRV):
        numbered = _numbered(ctx, rules)
        form = Form(
            title=ctx.t("vote.rank_title", number=proposal.number),
            command=command,
            fields=(
                FormField(
                    "choice",
                    ctx.t("vote.rank_label"),
                    required=True,
                    hint=ctx.t("vote.rank_hint", options=numbered),
                ),
            ),
            submit=ctx.t("vote.submit"),
        )
        return Reply(ctx.t("vote.rank_intro", options=numbered), Visibility.PRIVATE, form=form)
    prompt = proposal_post(ctx, proposal)
    return Reply(
        ctx.t("vote.choose", number=proposal.number),
        Visibility.PRIVATE,
        buttons=prompt.buttons,
        select=prompt.select,
    )


def _reason_prompt(ctx: Context, command: str, key: str) -> Reply:
    """Ask for the reason a choice needs, in a form that completes the command."""
    form = Form(
        title=ctx.t("vote.reason_title"),
        command=command,
        fields=(FormField("reason", ctx.t("vote.reason_label"), required=True, multiline=True),),
        submit=ctx.t("vote.submit"),
    )
    return Reply(ctx.t(key), Visibility.PRIVATE, form=form)


def _result_text(ctx: Context, proposal: Proposal, record: dict[str, Any]) -> str:
    """Put a decision record into words: outcome, tally, quorum, reasons, receipts, hash."""
    lines = [ctx.t("result.outcome", outcome=ctx.t(f"outcome.{record['outcome']}"))]
    if record["counts"]:
        counts = counts_text(ctx, rules_of(proposal), record["counts"])
        lines.append(ctx.t("result.counts", counts=counts))
    if record["winners"]:
        lines.append(ctx.t("result.winners", winners=ctx.listing(record["winners"])))
    for index, round_counts in enumerate(record["rounds"], 1):
        shown = ctx.listing(f"{k} {n}" for k, n in round_counts.items())
        lines.append(ctx.t("result.round", round=index, counts=shown))
    if record["lot"]:
        lines.append(ctx.t("result.lot", options=ctx.listing(record["lot"])))
    ballots = record["ballots"]
    if record["quorum_required"]:
        key = "result.quorum_met" if record["quorum_met"] else "result.quorum_missed"
        counted = ctx.t("result.ballots.one" if ballots == 1 else "result.ballots.many", n=ballots)
        line = ctx.t(
            key,
            ballots=counted,
            required=record["quorum_required"],
            electorate=record["electorate_size"],
        )
    else:
        line = ctx.t("result.turnout", ballots=ballots, electorate=record["electorate_size"])
    lines.append(line)
    if record.get("delegated"):
        lines.append(ctx.t("result.delegated", delegated=record["delegated"], ballots=ballots))
    if record["close_reason"]:
        lines.append(ctx.t("result.close_reason", reason=record["close_reason"]))
    for given in record["reasons"]:
        reason = given["reason"][:REASON_SHOWN]
        if "member" in given:
            lines.append(
                ctx.t(
                    "result.reason_named",
                    member=given["member"],
                    choice=choice_word(ctx, given["choice"]),
                    reason=reason,
                )
            )
        else:
            choice = choice_word(ctx, given["choice"])
            lines.append(ctx.t("result.reason", choice=choice, reason=reason))
    for concern in record["concerns"]:
        key = "result.concern_withdrawn" if concern["withdrawn"] else "result.concern"
        lines.append(ctx.t(key, concern=concern["number"], reason=concern["reason"][:REASON_SHOWN]))
    if record.get("receipts") is not None:
        lines.append(ctx.t("result.receipts", receipts=" ".join(record["receipts"])))
    lines.append(ctx.t("result.hash", hash=record["closing_hash"]))
    return "\n".join(lines)


def minutes(ctx: Context, proposal: Proposal, record: dict[str, Any]) -> str:
    """Write a closed proposal's minutes as Markdown."""
    lines = [f"# {ctx.t('proposal.head', number=proposal.number, title=proposal.title)}", ""]
    if proposal.text:
        lines += [proposal.text, ""]
    lines += [
        f"- {ctx.t('minutes.method')}: {record['method']}",
        f"- {ctx.t('minutes.electorate')}: {record['electorate']} ({record['electorate_size']})",
        f"- {ctx.t('minutes.opened')}: {ctx.when(proposal.opened_at)}",
        f"- {ctx.t('minutes.closed')}: {ctx.when(proposal.closed_at or ctx.now)}",
        f"- {ctx.t('minutes.outcome')}: {ctx.t('outcome.' + record['outcome'])}",
        f"- {ctx.t('minutes.hash')}: `{record['closing_hash']}`",
        "",
        "## " + ctx.t("minutes.result"),
        "",
        _result_text(ctx, proposal, record),
        "",
    ]
    return "\n".join(lines)


def _id(row: Any) -> int:
    assert row.id is not None
    return int(row.id)
