"""Run commands for Discord interactions and answer them within the three-second deadline.

The service runs in a worker thread at once. If it is done within `ACK_BUDGET`, the answer
goes out directly, public or ephemeral as the reply is, or as a modal when the reply is a
form. Otherwise the interaction is deferred (ephemeral "thinking") and filled in when the
service is done; public replies then go to their channel with a private pointer, and a form
becomes a button that opens it (a modal cannot follow a defer). Later notices never use an
interaction token: they go to the channel or by DM.
"""

from __future__ import annotations

import asyncio
import enum
import functools
import logging
import secrets
import uuid
from collections.abc import Callable, Coroutine
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime
from typing import Any

import discord
from discord import app_commands
from discord.app_commands import Choice

from govbot import metrics
from govbot.adapters.discord.commands import LOCALES, raw_value
from govbot.adapters.discord.render import Message, notice_text, render
from govbot.adapters.discord.views import (
    FORM_ID,
    FormButton,
    form_fits,
    form_modal,
    form_pages,
    submitted_values,
)
from govbot.adapters.edits import InPlaceEdits
from govbot.adapters.forms import form_target, submission
from govbot.commands import COMMANDS, GROUPS, Command, Kind, named, run_text, run_values
from govbot.i18n import DEFAULT_LANGUAGE, translate
from govbot.replies import Form, FormField, Notice, Reply, Visibility
from govbot.services import Store, bodies, messages
from govbot.services.base import Caller
from govbot.services.runner import community_language, language_of

log = logging.getLogger(__name__)

PLATFORM = "discord"
# Answer directly when the service is done within this many seconds of the interaction's
# creation, else defer. Discord allows three; the rest covers the network and a busy loop.
ACK_BUDGET = 1.5
# Waits before sending a channel post again after Discord answered 5xx: the post may have
# been made all the same, and the resend carries the same nonce, so it is never made twice.
POST_RETRY_DELAYS = (0.5, 2.0)
# Commands run on threads of their own: a burst queues here, not in the default pool that
# the timers, the Slack inbox and every other short database call share.
COMMAND_THREADS = 8
# Commands running or waiting for a thread; past this a member is told "busy, try again" at
# once rather than queued to be answered long after Discord's deadline.
MAX_IN_FLIGHT = 64

Clock = Callable[[], datetime]
Work = Callable[[], list[Reply]]
Extras = Callable[[list[Reply], str], list[discord.ui.Item[Any]]]


class Posted(enum.Enum):
    """What became of a channel post."""

    YES = "yes"
    NO = "no"
    UNKNOWN = "unknown"  # Discord kept failing with 5xx: the post may or may not exist


def delivery_key(interaction: discord.Interaction) -> str:
    """Return the idempotency key of an interaction: a redelivery has the same one."""
    return f"discord:{interaction.id}"


def caller_of(interaction: discord.Interaction) -> Caller | None:
    """Describe who acts in an interaction, or None outside a guild (no community)."""
    if interaction.guild_id is None:
        return None
    user = interaction.user
    guild = interaction.guild
    return Caller(
        platform=PLATFORM,
        community_id=str(interaction.guild_id),
        user_id=str(user.id),
        display_name=user.display_name,
        is_admin=interaction.permissions.manage_guild,
        channel=str(interaction.channel_id) if interaction.channel_id else None,
        # From the cached guild (GUILD_CREATE carries it); None where Discord did not say.
        member_count=guild.member_count if guild is not None else None,
    )


class Answer:
    """The answer to one interaction: direct, deferred then filled in, or a modal."""

    def __init__(self, interaction: discord.Interaction) -> None:
        self.interaction = interaction
        self.deferred = False  # an ephemeral "thinking" message waits to be filled in

    @property
    def started(self) -> bool:
        """Say whether Discord has had its first response."""
        return self.interaction.response.is_done()

    @property
    def can_answer_publicly(self) -> bool:
        """Say whether the interaction itself can still carry a public message."""
        return not self.started

    @property
    def needs_answer(self) -> bool:
        """Say whether the caller would otherwise be left without a reply."""
        return not self.started or self.deferred

    async def defer(self) -> bool:
        """Acknowledge now with a private "thinking" message; False if Discord refused."""
        try:
            await self.interaction.response.defer(ephemeral=True, thinking=True)
        except discord.HTTPException as error:
            log.warning("could not defer interaction %s: %s", self.interaction.id, error)
            return False
        self.deferred = True
        return True

    async def modal(self, modal: discord.ui.Modal) -> bool:
        """Open a modal if this interaction still can (not after a defer, not from a modal)."""
        if self.started or self.interaction.type is discord.InteractionType.modal_submit:
            return False
        await self.interaction.response.send_modal(modal)
        return True

    async def private(self, message: Message) -> None:
        """Show a message to the caller only."""
        view = message.view()
        extra: dict[str, Any] = {} if view is None else {"view": view}
        if not self.started:
            await self.interaction.response.send_message(
                embeds=message.embeds, files=message.files(), ephemeral=True, **extra
            )
        elif self.deferred:
            self.deferred = False
            await self.interaction.edit_original_response(
                embeds=message.embeds, attachments=message.files(), **extra
            )
        else:
            await self.interaction.followup.send(
                embeds=message.embeds, files=message.files(), ephemeral=True, **extra
            )

    async def public(self, message: Message) -> str | None:
        """Show a message to the channel as the interaction's own answer; return its id."""
        view = message.view()
        extra: dict[str, Any] = {} if view is None else {"view": view}
        if not self.started:
            sent = await self.interaction.response.send_message(
                embeds=message.embeds, files=message.files(), **extra
            )
            return str(sent.message_id) if sent.message_id is not None else None
        made = await self.interaction.followup.send(
            embeds=message.embeds, files=message.files(), wait=True, **extra
        )
        return str(made.id)


class InteractionRunner:
    """Turn interactions into command runs and their replies into Discord messages."""

    def __init__(self, client: discord.Client, store: Store, clock: Clock) -> None:
        self.client = client
        self.store = store
        self.clock = clock
        self._executor = ThreadPoolExecutor(COMMAND_THREADS, thread_name_prefix="govbot-discord")
        self.max_in_flight = MAX_IN_FLIGHT
        self.in_flight = 0
        self.edits: InPlaceEdits[Message] = InPlaceEdits(PLATFORM, self._find_posted, self._edit)

    def close(self) -> None:
        """Let the command threads go once idle; commands not yet started are dropped."""
        self._executor.shutdown(wait=False, cancel_futures=True)

    async def close_edits(self) -> None:
        """Stop editing messages; updates not yet sent are dropped."""
        await self.edits.close()

    # -- entry points ------------------------------------------------------------------------

    async def run_command(
        self, interaction: discord.Interaction, command: Command, raw: dict[str, str]
    ) -> None:
        """Run a slash command from its options."""
        caller = await self._caller(interaction)
        if caller is None:
            return
        key = delivery_key(interaction)
        await self._run(
            interaction,
            caller,
            lambda: run_values(self.store, caller, command, raw, self.clock(), delivery_key=key),
        )

    async def press(self, interaction: discord.Interaction, command: str) -> None:
        """Run a button's command (text grammar) as the presser."""
        caller = await self._caller(interaction)
        if caller is None:
            return
        key = delivery_key(interaction)
        await self._run(
            interaction,
            caller,
            lambda: run_text(self.store, caller, command, self.clock(), delivery_key=key),
        )

    async def open_form(
        self, interaction: discord.Interaction, command: str, page: int, pages: int
    ) -> None:
        """Ask the service for a command's form again (fresh values) and open one page of it.

        The command runs with only the values its text presets (`vote cast 7 -1`), which is
        how a service is asked for the form in the first place.
        """
        target = form_target(command)
        caller = await self._caller(interaction)
        if caller is None or target is None:
            return
        key = delivery_key(interaction)
        await self._run(
            interaction,
            caller,
            lambda: run_values(
                self.store, caller, target.command, target.raw, self.clock(), delivery_key=key
            ),
            page=page,
        )

    async def submit_form(self, interaction: discord.Interaction) -> None:
        """Run a form's command with its presets and the submitted fields; offer the next page."""
        data: dict[str, Any] = dict(interaction.data or {})
        match = FORM_ID.fullmatch(str(data.get("custom_id", "")))
        target = form_target(match["command"]) if match else None
        caller = await self._caller(interaction)
        if match is None or target is None or caller is None:
            return
        typed = {
            key: self._field_text(interaction, target.command, key, text)
            for key, text in submitted_values(data).items()
        }
        invocation = submission(match["command"], typed)
        if invocation is None:
            return
        command, raw = invocation.command, invocation.raw
        key = delivery_key(interaction)
        page, pages = int(match["page"]), int(match["pages"])

        def more(replies: list[Reply], language: str) -> list[discord.ui.Item[Any]]:
            if page + 1 >= pages or any(r.error for r in replies):
                return []
            label = translate(language, "discord.form_more", page=page + 2, pages=pages)
            return [FormButton(match["command"], page + 1, pages, label)]

        await self._run(
            interaction,
            caller,
            lambda: run_values(self.store, caller, command, raw, self.clock(), delivery_key=key),
            extras=more,
        )

    async def suggest_bodies(
        self, interaction: discord.Interaction, current: str
    ) -> list[Choice[str]]:
        """Suggest the community's body slugs matching what is typed."""
        if interaction.guild_id is None:
            return []
        found = await asyncio.to_thread(
            bodies.body_slugs, self.store, PLATFORM, str(interaction.guild_id), current
        )
        return [Choice(name=f"{slug}: {title}"[:100], value=slug) for slug, title in found]

    async def command_error(
        self, interaction: discord.Interaction, error: app_commands.AppCommandError
    ) -> None:
        """Answer privately an interaction discord.py could not run as a command.

        Discord sends commands it still lists although govbot no longer has them (a stale
        client, definitions not yet synced), and can leave out a required option; without
        this the member would wait for an answer that never comes.
        """
        found = _table_command(interaction, error)
        if isinstance(error, app_commands.CommandSignatureMismatch) and found is not None:
            # The parser explains a missing option with the command's usage, as on Slack.
            namespace = interaction.namespace
            raw = {
                param.name: raw_value(param, namespace[param.name])
                for param in found.params
                if param.name in namespace and namespace[param.name] is not None
            }
            await self.run_command(interaction, found, raw)
            return
        if interaction.response.is_done():
            log.error("interaction %s failed after its answer", interaction.id, exc_info=error)
            return
        language = await self._language(interaction)
        if isinstance(error, app_commands.CommandNotFound | app_commands.CommandSignatureMismatch):
            metrics.record_error(PLATFORM, "unknown_command")
            text = _unknown_command_text(language, interaction)
        elif isinstance(error, app_commands.TransformerError) and found is not None:
            metrics.record_error(PLATFORM, "bad_option")
            text = "\n".join(
                [
                    translate(language, "discord.bad_option", value=error.value),
                    translate(language, "error.usage", usage=found.usage()),
                ]
            )
        else:
            reference = uuid.uuid4().hex[:8]
            log.error("interaction %s failed (ref %s)", interaction.id, reference, exc_info=error)
            metrics.record_error(PLATFORM, "command")
            text = translate(language, "error.internal", ref=reference)
        reply = Reply(text, Visibility.PRIVATE, error=True)
        await self._safely(Answer(interaction).private(render(reply)[0]), interaction)

    async def deliver(self, notice: Notice) -> None:
        """Deliver a later notice: to its channel (public) or by DM; never via an interaction."""
        reply = notice.reply
        guild = notice.community.external_id
        rendered = render(reply)
        if reply.updates is not None:
            self.edits.submit(guild, reply.updates, rendered[0], reply.revision)
        elif reply.visibility is Visibility.PUBLIC:
            channel = reply.recipient or self._system_channel(guild)
            if channel is None:
                log.warning("notice for guild %s has no channel to go to", notice.community)
                return
            _, posted = await self._post(channel, rendered)
            await self._remember(guild, reply, channel, posted)
        elif reply.recipient is not None:
            await self._dm(reply.recipient, rendered)
        else:
            log.warning("private notice without a recipient in %s", notice.community)

    # -- messages edited in place ------------------------------------------------------------

    async def _remember(
        self, guild: str, reply: Reply, channel: str, message_id: str | None
    ) -> None:
        """Note where a keyed public message went, so that later updates can edit it."""
        if reply.key is None or message_id is None:
            return
        try:
            await asyncio.to_thread(
                messages.remember, self.store, PLATFORM, guild, reply.key, channel, message_id
            )
        except Exception:
            # The post is out; only its later edits are lost, so the answer goes on.
            metrics.record_error(PLATFORM, "remember")
            log.exception("could not record the message posted under %s", reply.key)

    async def _find_posted(self, guild: str, key: str) -> tuple[str, str] | None:
        return await asyncio.to_thread(messages.find, self.store, PLATFORM, guild, key)

    async def _edit(self, guild: str, channel: str, message_id: str, message: Message) -> None:
        if not (channel.isdigit() and message_id.isdigit()):
            return
        target = self.client.get_partial_messageable(int(channel))
        await target.get_partial_message(int(message_id)).edit(**message.edit_kwargs())

    # -- running -----------------------------------------------------------------------------

    async def _language(self, interaction: discord.Interaction) -> str:
        """Return the community's language, or the member's outside a server."""
        if interaction.guild_id is None:
            return LOCALES.get(interaction.locale, DEFAULT_LANGUAGE)
        try:
            return await asyncio.to_thread(
                community_language, self.store, PLATFORM, str(interaction.guild_id)
            )
        except Exception:
            log.exception("cannot read the language of guild %s", interaction.guild_id)
            return DEFAULT_LANGUAGE

    async def _caller(self, interaction: discord.Interaction) -> Caller | None:
        caller = caller_of(interaction)
        if caller is None:
            language = LOCALES.get(interaction.locale, DEFAULT_LANGUAGE)
            text = translate(language, "discord.guild_only")
            await self._safely(Answer(interaction).private(notice_text(text)), interaction)
        return caller

    async def _run(
        self,
        interaction: discord.Interaction,
        caller: Caller,
        work: Work,
        *,
        page: int = 0,
        extras: Extras | None = None,
    ) -> None:
        def work_and_language() -> tuple[list[Reply], str]:
            replies = work()
            return replies, language_of(replies, self.store, PLATFORM, caller.community_id)

        if self.in_flight >= self.max_in_flight:
            language = LOCALES.get(interaction.locale, DEFAULT_LANGUAGE)
            busy = Answer(interaction).private(notice_text(translate(language, "discord.busy")))
            await self._safely(busy, interaction)
            return
        self.in_flight += 1
        try:
            await self._run_counted(interaction, caller, work_and_language, page, extras)
        finally:
            self.in_flight -= 1

    async def _run_counted(
        self,
        interaction: discord.Interaction,
        caller: Caller,
        work_and_language: Callable[[], tuple[list[Reply], str]],
        page: int,
        extras: Extras | None,
    ) -> None:
        loop = asyncio.get_running_loop()
        task = asyncio.ensure_future(loop.run_in_executor(self._executor, work_and_language))
        done, _ = await asyncio.wait({task}, timeout=_budget(interaction))
        answer = Answer(interaction)
        answerable = bool(done) or await answer.defer()
        try:
            replies, language = await task
        except Exception:
            reference = uuid.uuid4().hex[:8]
            log.exception("interaction %s failed (ref %s)", interaction.id, reference)
            language = DEFAULT_LANGUAGE
            text = translate(language, "error.internal", ref=reference)
            replies = [Reply(text, Visibility.PRIVATE, recipient=caller.user_id, error=True)]
        if not answerable:
            return  # the change still happened; only its answer is lost
        # Public posts to note for later edits, once the caller has their answer.
        keyed: list[tuple[Reply, str, str | None]] = []
        try:
            await self._safely(
                self._answer(interaction, caller, answer, replies, language, page, extras, keyed),
                interaction,
            )
        finally:
            for reply, channel, made in keyed:
                await self._remember(caller.community_id, reply, channel, made)

    async def _answer(
        self,
        interaction: discord.Interaction,
        caller: Caller,
        answer: Answer,
        replies: list[Reply],
        language: str,
        page: int,
        extras: Extras | None,
        keyed: list[tuple[Reply, str, str | None]],
    ) -> None:
        if not replies:
            # A redelivered interaction: the first delivery made the change and answered it.
            log.info("interaction %s was already handled", interaction.id)
            if answer.deferred:
                await answer.private(notice_text(translate(language, "discord.done")))
            return
        here = str(interaction.channel_id)
        added = extras(replies, language) if extras else []
        posted: list[str] = []
        # The public reply meant for this channel goes first, so it can be the answer itself.
        ordered = sorted(
            replies, key=lambda r: not (r.visibility is Visibility.PUBLIC and r.recipient == here)
        )
        for reply in ordered:
            if reply.updates is not None:
                # Edited in the background: a slow or failing edit never holds the answer up.
                self.edits.submit(
                    caller.community_id, reply.updates, render(reply)[0], reply.revision
                )
                continue
            extra: list[discord.ui.Item[Any]] = []
            form = reply.form
            if form is not None and form_fits(form):
                shown = functools.partial(self._shown, interaction, form)
                modal = form_modal(form, page, language, shown)
                if await answer.modal(modal):
                    continue
                extra.append(_form_button(form))
            elif form is not None:
                log.warning("form of %r is too long to carry in a custom id", form.command)
            if added and reply.visibility is Visibility.PRIVATE:
                extra, added = [*extra, *added], []
            rendered = render(reply, extra)
            if reply.visibility is Visibility.PUBLIC:
                target = reply.recipient or here
                if target == here and answer.can_answer_publicly:
                    made: str | None = None
                    for message in rendered:
                        made = await answer.public(message)
                    keyed.append((reply, target, made))
                else:
                    post = asyncio.ensure_future(self._post(target, rendered))
                    if not answer.started:
                        # A post Discord is slow to take (5xx, resent) must not cost the answer.
                        done, _ = await asyncio.wait({post}, timeout=_budget(interaction))
                        if not done:
                            await answer.defer()
                    outcome, made = await post
                    if outcome is Posted.YES:
                        posted.append(target)
                        keyed.append((reply, target, made))
                    else:
                        unsure = outcome is Posted.UNKNOWN
                        key = "discord.post_unsure" if unsure else "discord.post_failed"
                        text = translate(language, key, channel=f"<#{target}>")
                        await answer.private(notice_text(text))
            elif reply.visibility is Visibility.DM or reply.recipient not in (None, caller.user_id):
                await self._dm(reply.recipient or caller.user_id, rendered)
            else:
                for message in rendered:
                    await answer.private(message)
        if answer.needs_answer:
            channels = ", ".join(f"<#{c}>" for c in dict.fromkeys(posted))
            text = (
                translate(language, "discord.posted", channels=channels)
                if posted
                else translate(language, "discord.done")
            )
            await answer.private(notice_text(text))

    async def _safely(
        self, action: Coroutine[Any, Any, None], interaction: discord.Interaction
    ) -> None:
        try:
            await action
        except discord.HTTPException as error:
            # An expired or already answered interaction: nothing more can be said through it.
            log.warning("could not answer interaction %s: %s", interaction.id, error)

    # -- posting -----------------------------------------------------------------------------

    async def _post(self, channel_id: str, rendered: list[Message]) -> tuple[Posted, str | None]:
        """Post messages in order; say how it went and the id of the last one posted."""
        if not channel_id.isdigit():
            return Posted.NO, None
        channel = self.client.get_partial_messageable(int(channel_id))
        made: str | None = None
        for message in rendered:
            outcome, made = await self._post_once(channel, channel_id, message)
            if outcome is not Posted.YES:
                return outcome, None
        return Posted.YES, made

    async def _post_once(
        self, channel: discord.abc.Messageable, where: str, message: Message
    ) -> tuple[Posted, str | None]:
        """Post one message, resending it after a 5xx with the same nonce.

        A 5xx does not say whether the message was made. discord.py sends `enforce_nonce`
        with every nonce, so Discord answers a resend with the message it already made.
        """
        nonce = secrets.token_hex(12)  # Discord takes nonces of up to 25 characters
        for delay in (*POST_RETRY_DELAYS, None):
            try:
                sent = await channel.send(nonce=nonce, **message.channel_kwargs())
            except discord.DiscordServerError as error:
                metrics.record_error(PLATFORM, "post")
                if delay is None:
                    log.warning("posting in channel %s may have failed: %s", where, error)
                    return Posted.UNKNOWN, None
                log.warning("posting in channel %s: %s; sending again", where, error)
                await asyncio.sleep(delay)
            except discord.HTTPException as error:
                metrics.record_error(PLATFORM, "post")
                log.warning("could not post in channel %s: %s", where, error)
                return Posted.NO, None
            else:
                return Posted.YES, str(sent.id)
        return Posted.UNKNOWN, None

    async def _dm(self, user_id: str, rendered: list[Message]) -> bool:
        if not user_id.isdigit():
            return False
        try:
            channel = await self.client.create_dm(discord.Object(id=int(user_id)))
        except discord.HTTPException as error:
            log.warning("could not send a direct message to %s: %s", user_id, error)
            return False
        for message in rendered:
            outcome, _ = await self._post_once(channel, f"DM {user_id}", message)
            if outcome is not Posted.YES:
                return False
        return True

    def _system_channel(self, guild_id: str) -> str | None:
        guild = self.client.get_guild(int(guild_id)) if guild_id.isdigit() else None
        channel = guild.system_channel if guild is not None else None
        return str(channel.id) if channel is not None else None

    # -- forms -------------------------------------------------------------------------------

    def _shown(self, interaction: discord.Interaction, form: Form, field: FormField) -> str:
        """Show a field's current value as a person would type it (`#general` for a channel)."""
        target = form_target(form.command)
        param = target.command.param(field.key) if target else None
        if param is not None and param.kind is Kind.CHANNEL and field.value.isdigit():
            guild = interaction.guild
            channel = guild.get_channel(int(field.value)) if guild else None
            return f"#{channel.name}" if channel is not None else field.value
        return field.value

    def _field_text(
        self, interaction: discord.Interaction, command: Command, key: str, text: str
    ) -> str:
        """Turn what was typed in a modal into the text form (`#general` becomes `<#id>`)."""
        text = text.strip()
        param = command.param(key)
        if param is None:
            return text
        if param.kind is Kind.CHANNEL:
            if text.isdigit():
                return f"<#{text}>"
            guild = interaction.guild
            if guild is not None:
                found = discord.utils.get(guild.text_channels, name=text.removeprefix("#"))
                if found is not None:
                    return f"<#{found.id}>"
        if param.kind is Kind.MEMBER and text.isdigit():
            return f"<@{text}>"
        return text


def _table_command(
    interaction: discord.Interaction, error: app_commands.AppCommandError
) -> Command | None:
    """Find the table command an interaction ran, if discord.py found one."""
    command: object = None
    if isinstance(error, app_commands.CommandSignatureMismatch):
        command = error.command
    elif not isinstance(error, app_commands.CommandNotFound):
        command = interaction.command
    if not isinstance(command, app_commands.Command):
        return None  # a group run without an action, or a context menu
    return named(command.qualified_name)


def _unknown_command_text(language: str, interaction: discord.Interaction) -> str:
    """Say which command is unknown and what its group offers (or where to find the rest)."""
    words = _typed(dict(interaction.data or {}))
    typed = "/" + " ".join(words) if words else "/"
    lines = [translate(language, "discord.unknown_command", command=typed)]
    group = words[0] if words else None
    actions = [c for c in COMMANDS if c.group == group and c.action]
    if group in GROUPS and actions:
        names = ", ".join(f"`/{c.group} {c.action}`" for c in actions)
        listed = translate(language, "discord.group_commands", group=f"/{group}", commands=names)
        lines.append(listed)
    else:
        lines.append(translate(language, "discord.see_help"))
    return "\n".join(lines)


def _typed(data: dict[str, Any]) -> list[str]:
    """Return the command and subcommand names an interaction carries (`body`, `frobnicate`)."""
    words = [str(data.get("name", ""))]
    options: list[dict[str, Any]] = list(data.get("options") or [])
    while options and options[0].get("type") in (1, 2):  # a subcommand (group)
        words.append(str(options[0].get("name", "")))
        options = list(options[0].get("options") or [])
    return [w for w in words if w]


def _form_button(form: Form) -> FormButton:
    return FormButton(form.command, 0, form_pages(form), form.title)


def _budget(interaction: discord.Interaction) -> float:
    age = (datetime.now(UTC) - interaction.created_at).total_seconds()
    return max(0.0, ACK_BUDGET - max(0.0, age))
