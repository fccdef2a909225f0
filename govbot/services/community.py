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
)
_COLUMN = {name: f"{name}_channel" for name in CHANNEL_SETTINGS}
MAX_LEVEL_DAYS = 365


def init_community(ctx: Context, args: Args) -> list[Reply]:
    """Create the six default bodies and the first settings; safe to run twice."""
    ctx.require_manager()
    community = ctx.community
    changes = _apply_settings(ctx, args)
    created = []
    existing = {
        b.slug for b in ctx.session.exec(select(Body).where(Body.community_id == ctx.community_id))
    }
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
    first_time = community.initialized_at is None
    if first_time:
        community.initialized_at = ctx.now
    ctx.session.add(community)
    if first_time or changes:
        ctx.audit("community.initialized", "community", ctx.community_id, changes)
    if not created and not first_time:
        return [ctx.private("setup.already", bodies=", ".join(sorted(existing)))]
    return [
        Reply(
            ctx.t(
                "setup.done",
                bodies=", ".join(created),
                language=community.language,
                timezone=community.timezone,
            ),
            Visibility.PUBLIC,
        )
    ]


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
    return [ctx.private("setup.changed", keys=", ".join(sorted(changes)))]


def settings_form(ctx: Context) -> Form:
    """Build the settings form, filled with the current values."""
    current = _raw(ctx.community)
    return Form(
        title=ctx.t("setup.form_title"),
        command="setup set",
        fields=tuple(
            FormField(key=key, label=key, value=current[key], hint=ctx.t(f"setup.hint.{key}"))
            for key in SETTING_KEYS
        ),
        submit=ctx.t("setup.form_submit"),
    )


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
        elif key in ("level1_days", "level2_days") and not 1 <= int(value) <= MAX_LEVEL_DAYS:
            raise Refusal("error.bad_days", field=key, key=key, max=MAX_LEVEL_DAYS)
        wanted[_COLUMN.get(key, key)] = value
    changes = {k: v for k, v in wanted.items() if getattr(community, k) != v}
    for column, value in changes.items():
        setattr(community, column, value)
    return changes
