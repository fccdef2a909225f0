"""Running one use case: one transaction, its audit entries, and a refusal that writes nothing."""

from __future__ import annotations

import logging
import uuid
from collections.abc import Callable
from datetime import datetime

from sqlalchemy import and_, bindparam, select
from sqlalchemy.exc import DBAPIError, IntegrityError
from sqlmodel import Session

from govbot.i18n import DEFAULT_LANGUAGE, translate
from govbot.replies import Reply, Visibility
from govbot.services.base import (
    Args,
    Caller,
    Context,
    Handler,
    Refusal,
    add_member,
    clean_name,
    member_for,
)
from govbot.storage import audit, deliveries, rows
from govbot.storage.db import Store
from govbot.storage.models import Community, Member

log = logging.getLogger(__name__)

ATTEMPTS = 4


# Arguments are converted inside the transaction, where the community's time zone is known.
ArgsSource = Args | Callable[[Context], Args]


def language_of(replies: list[Reply], store: Store, platform: str, external_id: str) -> str:
    """Return the language replies are in, asking the store only when none says."""
    known = next((reply.language for reply in replies if reply.language), None)
    return known or community_language(store, platform, external_id)


def community_language(store: Store, platform: str, external_id: str) -> str:
    """Return a community's language in a read transaction (English when unknown)."""
    with store.reading() as conn:
        params = {"platform": platform, "external": external_id}
        language = conn.execute(_LANGUAGE, params).scalar()
        return str(language) if language else DEFAULT_LANGUAGE


def execute(
    store: Store,
    caller: Caller,
    handler: Handler,
    args: ArgsSource,
    now: datetime,
    *,
    delivery_key: str | None = None,
    writes: bool = True,
) -> list[Reply]:
    """Run a use case as `caller` and commit it once; a refusal rolls everything back.

    A use case that only reads (`writes=False`) runs in a read transaction, which never
    waits for or blocks a writer, and records nothing, not even a new member.
    """
    for attempt in range(1, ATTEMPTS + 1):
        try:
            _check_caller(caller)
            if not writes:
                return _read_once(store, caller, handler, args, now)
            return _execute_once(store, caller, handler, args, now, delivery_key)
        except Refusal as refusal:
            language = refusal.language or _language(store, caller)
            return [_to_caller(refusal_reply(language, refusal, caller), caller)]
        except (IntegrityError, DBAPIError) as exc:
            # Two workers raced (a new community or member, a duplicate delivery,
            # a serialisation failure): the loser starts over and sees the winner's rows.
            if attempt == ATTEMPTS:
                return [_failure(store, caller, exc)]
            log.info("retrying after a write conflict: %s", type(exc).__name__)
        except Exception as exc:
            return [_failure(store, caller, exc)]
    raise AssertionError("unreachable")


def _execute_once(
    store: Store,
    caller: Caller,
    handler: Handler,
    args: ArgsSource,
    now: datetime,
    delivery_key: str | None,
) -> list[Reply]:
    with store.unit_of_work() as session:
        if delivery_key is not None and not deliveries.claim(session, delivery_key, now):
            return []  # handled before; the claim is rolled back with a refusal
        community, actor = _find(session, caller)
        if community is None:
            community = community_for(session, caller.platform, caller.community_id, now)
        assert community.id is not None
        # Every writer takes the community's chain-head lock first, so the checks a use case
        # makes ("already seated?") and the writes that follow see no other writer between.
        audit.lock_head(session, community.id)
        if actor is None:  # first sight: the lookup above already found no row
            actor = add_member(session, community.id, caller.user_id, caller.display_name, now)
        elif actor.display_name != clean_name(caller.display_name):
            actor = member_for(session, community.id, caller.user_id, caller.display_name, now)
        ctx = Context(session=session, community=community, actor=actor, caller=caller, now=now)
        replies = _handle(ctx, handler, args)
        session.commit()
        return [address(reply, community, caller) for reply in replies]


# The columns that hold platform ids are this long on every database.
PLATFORM_ID_LENGTH = 64


def _check_caller(caller: Caller) -> None:
    """Refuse a platform id no database column can hold, alike on SQLite and Postgres."""
    if max(len(caller.user_id), len(caller.community_id)) > PLATFORM_ID_LENGTH:
        raise Refusal("error.bad_caller")


def _read_once(
    store: Store, caller: Caller, handler: Handler, args: ArgsSource, now: datetime
) -> list[Reply]:
    with store.unit_of_work(readonly=True) as session:
        community, actor = _find(session, caller)
        if community is None:
            # Never seen: an unsaved stand-in whose id (0) matches no row.
            community = rows.stand_in(
                Community,
                id=0,
                platform=caller.platform,
                external_id=caller.community_id,
                created_at=now,
            )
        assert community.id is not None
        actor = actor or rows.stand_in(
            Member,
            community_id=community.id,
            platform_user_id=caller.user_id,
            display_name=caller.display_name,
            created_at=now,
        )
        ctx = Context(session=session, community=community, actor=actor, caller=caller, now=now)
        replies = _handle(ctx, handler, args)
        return [address(reply, community, caller) for reply in replies]


def _handle(ctx: Context, handler: Handler, args: ArgsSource) -> list[Reply]:
    """Run the use case; a refusal carries the community's language out of the transaction."""
    try:
        return handler(ctx, args(ctx) if callable(args) else args)
    except Refusal as refusal:
        refusal.language = ctx.community.language
        raise


def community_for(session: Session, platform: str, external_id: str, now: datetime) -> Community:
    """Find a community, creating it (and its empty audit chain) on first contact."""
    community = _find_community(session, platform, external_id)
    if community is None:
        community = Community(platform=platform, external_id=external_id, created_at=now)
        session.add(community)
        session.flush()
        assert community.id is not None
        audit.create_head(session, community.id)
        session.flush()
    return community


# Built once, as Core statements on the tables: every command makes these lookups, and the
# ORM's query machinery would cost more than the database does.
_COMMUNITY_TABLE = rows.table(Community)
_MEMBER_TABLE = rows.table(Member)
_COMMUNITY_KEYS = tuple(column.key for column in _COMMUNITY_TABLE.columns)
_MEMBER_KEYS = tuple(column.key for column in _MEMBER_TABLE.columns)
_IN_COMMUNITY = and_(
    _COMMUNITY_TABLE.c.platform == bindparam("platform"),
    _COMMUNITY_TABLE.c.external_id == bindparam("external"),
)
_COMMUNITY = rows.Prepared(select(_COMMUNITY_TABLE).where(_IN_COMMUNITY))
_LANGUAGE = select(_COMMUNITY_TABLE.c.language).where(_IN_COMMUNITY)
# The community and the caller's member row in one round trip.
_COMMUNITY_AND_MEMBER = rows.Prepared(
    select(
        _COMMUNITY_TABLE,
        *(column.label(f"member_{column.key}") for column in _MEMBER_TABLE.columns),
    )
    .select_from(
        _COMMUNITY_TABLE.outerjoin(
            _MEMBER_TABLE,
            and_(
                _MEMBER_TABLE.c.community_id == _COMMUNITY_TABLE.c.id,
                _MEMBER_TABLE.c.platform_user_id == bindparam("user"),
            ),
        )
    )
    .where(_IN_COMMUNITY)
)


def _find_community(session: Session, platform: str, external_id: str) -> Community | None:
    row = _COMMUNITY.first(session, {"platform": platform, "external": external_id})
    if row is None:
        return None
    return rows.load_row(session, Community, row)


def _find(session: Session, caller: Caller) -> tuple[Community | None, Member | None]:
    """Find the caller's community and member row, either of which may not exist yet."""
    params = {
        "platform": caller.platform,
        "external": caller.community_id,
        "user": caller.user_id,
    }
    row = _COMMUNITY_AND_MEMBER.first(session, params)
    if row is None:
        return None, None
    split = len(_COMMUNITY_KEYS)
    community = rows.load(session, Community, dict(zip(_COMMUNITY_KEYS, row[:split], strict=True)))
    if row[split] is None:  # no member row (its id is the first member column)
        return community, None
    values = dict(zip(_MEMBER_KEYS, row[split:], strict=True))
    return community, rows.load(session, Member, values)


def address(reply: Reply, community: Community, caller: Caller | None) -> Reply:
    """Fill in where a reply goes (the announce channel, the caller's channel, or the caller)."""
    reply.language = reply.language or community.language
    if reply.recipient is not None:
        return reply
    if reply.visibility is Visibility.PUBLIC:
        reply.recipient = community.announce_channel or (caller.channel if caller else None)
    elif caller is not None:
        reply.recipient = caller.user_id
    return reply


def refusal_reply(language: str, refusal: Refusal, caller: Caller) -> Reply:
    """Turn a refusal into the private error its caller sees."""
    text = refusal.message(language, caller.platform)
    fields = {refusal.field: text} if refusal.field else {}
    return Reply(text, Visibility.PRIVATE, error=True, field_errors=fields, language=language)


def _language(store: Store, caller: Caller) -> str:
    return community_language(store, caller.platform, caller.community_id)


def _failure(store: Store, caller: Caller, exc: Exception) -> Reply:
    reference = uuid.uuid4().hex[:8]
    log.error("command failed (ref %s)", reference, exc_info=exc)
    try:
        language = _language(store, caller)
    except Exception:
        language = DEFAULT_LANGUAGE
    reply = Reply(
        translate(language, "error.internal", ref=reference),
        Visibility.PRIVATE,
        error=True,
        failed=True,
        language=language,
    )
    return _to_caller(reply, caller)


def _to_caller(reply: Reply, caller: Caller) -> Reply:
    reply.recipient = caller.user_id
    return reply
