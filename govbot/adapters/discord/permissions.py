"""The permissions govbot asks for when invited: only what the built features use."""

from __future__ import annotations

import discord

# Public posts (announcements, results) are embeds in a channel. Interaction answers, private
# (ephemeral) replies with their files, and direct messages need no permission in the server.
POST_NAMES = ("view_channel", "send_messages", "embed_links")
POST_PERMISSIONS = discord.Permissions(**dict.fromkeys(POST_NAMES, True))
INVITE_PERMISSIONS = POST_PERMISSIONS

# What capabilities not built yet will add: dispute spaces as private threads, moderators'
# time-outs and bans, tech talks as scheduled events.
LATER_PERMISSIONS = INVITE_PERMISSIONS | discord.Permissions(
    send_messages_in_threads=True,
    create_private_threads=True,
    manage_threads=True,
    moderate_members=True,
    ban_members=True,
    manage_events=True,
)

SCOPES = ("bot", "applications.commands")


def invite_url(application_id: int, permissions: discord.Permissions = INVITE_PERMISSIONS) -> str:
    """Return the URL that adds the bot to a server with `permissions`."""
    return discord.utils.oauth_url(application_id, permissions=permissions, scopes=SCOPES)


def missing_to_post(permissions: discord.Permissions) -> list[str]:
    """Name the permissions a channel lacks for a public post (empty: it can post)."""
    return [name for name in POST_NAMES if not getattr(permissions, name)]
