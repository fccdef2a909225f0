"""Setting a community up: `setup init`, `setup show`, `setup set`."""

from __future__ import annotations

from typing import Any

from sqlmodel import select

from govbot.domain.bodies import DEFAULT_BODIES
from govbot.i18n import LANGUAGES
from govbot.replies import Form, FormField, Reply, Visibility
from govbot.services.base import Args, Context, Refusal, channel_link
from govbot.storage.models import Body, Community

CHANNEL_SETTINGS = ("announce", "moderation", "disputes")
SETTING_KEYS = (
    *CHANNEL_SETTINGS,
    "language",
    "timezone",
    "level1_days",
    "level2_days",
    "public_dispute_counts",
    "leaderboard",
    "weekly_anchor",
    "remind",
)
# Settings kept for the capabilities still to come (disputes, reports, insight): they can be
# set ahead of time, and the form and `setup show` mark them as not used yet.
NOT_USED_YET = frozenset(
    {"moderation", "disputes", "level1_days", "level2_days", "public_dispute_counts", "leaderboard"}
)
BOOL_SETTINGS = frozenset({"public_dispute_counts", "leaderboard", "weekly_anchor"})
_COLUMN = {name: f"{name}_channel" for name in CHANNEL_SETTINGS} | {"remind": "remind_before"}
_SETTING_OF = {column: name for name, column in _COLUMN.items()}
MAX_LEVEL_DAYS = 365


def init_community(ctx: Context, args: Args) -> list[Reply]:
    """Create the six default bodies and the first settings; safe to run twice.

    On a community already set up it creates only default bodies that are missing, and
    refuses to change settings (pointing at `setup set`) rather than change them quietly.
    """
    ctx.require_manager()
    community = ctx.community
    first_time = community.initialized_at is None
    if not first_time:
        differs = [k for k in ("language", "timezone") if args.has(k) and _differs(ctx, args, k)]
        if differs:
            raise Refusal("setup.use_set", keys=ctx.listing(differs))
    changes = _apply_settings(ctx, args)
    created = _create_default_bodies(ctx)
    if first_time:
        community.initialized_at = ctx.now
        ctx.session.add(community)
        ctx.audit("community.initialized", "community", ctx.community_id, changes)
    elif not created:
        return [ctx.private("setup.already")]
    return [
        Reply(
            ctx.t(
                "setup.done" if first_time else "setup.recreated",
                bodies=ctx.listing(created),
                language=community.language,
                timezone=community.timezone,
            ),
            Visibility.PUBLIC,
        )
    ]


def _differs(ctx: Context, args: Args, key: str) -> bool:
    return bool(getattr(ctx.community, key) != args.values[key])


def _create_default_bodies(ctx: Context) -> list[str]:
    """Create the default bodies the community lacks; return their slugs."""
    existing = set(
        ctx.session.exec(select(Body.slug).where(Body.community_id == ctx.community_id)).all()
    )
    created = []
    for default in DEFAULT_BODIES:
        if default.slug in existing:
            continue
        body = Body(
            community_id=ctx.community_id,
            slug=default.slug,
            kind=default.kind.value,
            title=ctx.t(f"body.title.{default.slug}"),
            is_open=default.is_open,
            rotating_chair=default.rotating_chair,
            term=default.term,
            created_at=ctx.now,
        )
        ctx.session.add(body)
        ctx.session.flush()
        assert body.id is not None
        ctx.audit("body.created", "body", body.id, {"slug": body.slug, "kind": body.kind})
        created.append(default.slug)
    return created


def show_settings(ctx: Context, args: Args) -> list[Reply]:
    """Show the community's settings privately."""
    return [ctx.private("setup.show", **_display(ctx))]


def set_settings(ctx: Context, args: Args) -> list[Reply]:
    """Change settings; with no arguments, offer the settings form."""
    ctx.require_manager()
    if not any(args.has(key) for key in SETTING_KEYS):
        return [Reply(ctx.t("setup.form_intro"), Visibility.PRIVATE, form=settings_form(ctx))]
    changes = _apply_settings(ctx, args)
    if not changes:
        return [ctx.private("setup.unchanged")]
    ctx.session.add(ctx.community)
    ctx.audit("community.settings_changed", "community", ctx.community_id, changes)
    names = sorted(_SETTING_OF.get(column, column) for column in changes)
    return [ctx.private("setup.changed", keys=ctx.listing(names))]


def settings_form(ctx: Context) -> Form:
    """Build the settings form, filled with the current values."""
    current = _raw(ctx.community)
    return Form(
        title=ctx.t("setup.form_title"),
        command="setup set",
        fields=tuple(
            FormField(key=key, label=key, value=current[key], hint=_hint(ctx, key))
            for key in SETTING_KEYS
        ),
        submit=ctx.t("setup.form_submit"),
    )


def _hint(ctx: Context, key: str) -> str:
    hint = ctx.t(f"setup.hint.{key}")
    return hint + ctx.t("setup.not_used_yet") if key in NOT_USED_YET else hint


def _raw(community: Community) -> dict[str, str]:
    values: dict[str, str] = {}
    for key in SETTING_KEYS:
        value = getattr(community, _COLUMN.get(key, key))
        if isinstance(value, bool):
            values[key] = "yes" if value else "no"
        else:
            values[key] = "" if value is None else str(value)
    return values


def _display(ctx: Context) -> dict[str, str]:
    shown = _raw(ctx.community)
    none = ctx.t("setup.unset")
    for key in CHANNEL_SETTINGS:
        shown[key] = channel_link(shown[key]) if shown[key] else none
    for key in BOOL_SETTINGS:
        shown[key] = ctx.yes_no(shown[key] == "yes")
    for key in NOT_USED_YET:
        shown[key] += ctx.t("setup.not_used_yet")
    return shown


def _apply_settings(ctx: Context, args: Args) -> dict[str, Any]:
    """Validate and apply the given settings; return what changed. Raises before writing."""
    community = ctx.community
    wanted: dict[str, Any] = {}
    for key in SETTING_KEYS:
        if not args.has(key):
            continue
        value = args.values[key]
        if key in CHANNEL_SETTINGS:
            value = value.channel_id
        elif key == "language" and value not in LANGUAGES:
            raise Refusal("error.bad_language", field=key, value=value)
        elif key == "remind":
            value = str(value)
        elif key in ("level1_days", "level2_days") and not 1 <= value <= MAX_LEVEL_DAYS:
            raise Refusal("error.bad_days", field=key, key=key, max=MAX_LEVEL_DAYS)
        wanted[_COLUMN.get(key, key)] = value
    changes = {k: v for k, v in wanted.items() if getattr(community, k) != v}
    for column, value in changes.items():
        setattr(community, column, value)
    return changes
