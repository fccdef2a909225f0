"""Platform-neutral replies: what a command answers, to whom, and with which buttons."""

from __future__ import annotations

import contextlib
import os
import weakref
from dataclasses import dataclass, field
from enum import StrEnum


class Visibility(StrEnum):
    """Who sees a reply."""

    PUBLIC = "public"  # the community's announce channel, else the channel typed in
    PRIVATE = "private"  # only the caller (ephemeral)
    DM = "dm"  # a direct message to one member, possibly later


@dataclass(frozen=True)
class Button:
    """A button that, when pressed, runs `command` (text grammar) as the presser."""

    label: str
    command: str
    style: str = "primary"  # primary | secondary | danger


@dataclass(frozen=True)
class SelectOption:
    """One entry of a select menu: what it shows, and the value it adds to the command."""

    label: str
    value: str


@dataclass(frozen=True)
class Select:
    """A menu whose picks run `command` (text grammar) with the picked values joined by commas.

    Picking `A` and `C` from `vote cast 7` runs `vote cast 7 A,C` as whoever picked.
    """

    command: str
    options: tuple[SelectOption, ...]
    placeholder: str = ""
    max_values: int = 1


@dataclass(frozen=True)
class FormField:
    """One input of a modal form; `key` is the command's key:value key."""

    key: str
    label: str
    value: str = ""
    required: bool = False
    multiline: bool = False
    hint: str = ""


# A form field with this key takes further `key:value` pairs of the command, as typed
# (`closes:5d quorum:50%`): a modal has room for five inputs, a command may have more.
MORE_FIELD = "more"


@dataclass(frozen=True)
class Form:
    """A modal whose submission runs `command` with the fields as key:value pairs.

    `command` is text of the grammar and may already carry positionals and values
    (`vote cast 7 -1`): the submitted fields are added to them.
    """

    title: str
    command: str
    fields: tuple[FormField, ...]
    submit: str = "OK"


@dataclass(frozen=True)
class Attachment:
    """A file sent with a reply (an export): its text, or a file on disk for large ones."""

    filename: str
    content: str = ""
    # A UTF-8 file to send instead of `content`: exports stream to disk, never into memory.
    path: str | None = None

    @classmethod
    def temporary(cls, filename: str, path: str) -> Attachment:
        """Send a temporary file, removed once the reply carrying it is gone."""
        attachment = cls(filename, path=path)
        # Whoever delivers the reply (any front end, a test) may drop it at any point:
        # tie the file's life to the attachment's instead of asking each of them to clean up.
        weakref.finalize(attachment, _remove, path)
        return attachment

    def size(self) -> int:
        """Return the size: characters of `content`, or bytes of the file."""
        return os.path.getsize(self.path) if self.path is not None else len(self.content)

    def read_text(self) -> str:
        """Return the whole text (for small files: a console, a code block, a test)."""
        if self.path is None:
            return self.content
        with open(self.path, encoding="utf-8") as file:
            return file.read()


def _remove(path: str) -> None:
    with contextlib.suppress(FileNotFoundError):
        os.remove(path)


@dataclass
class Reply:
    """One message: its text, who sees it, and what can be done from it."""

    text: str
    visibility: Visibility = Visibility.PRIVATE
    # A channel id for PUBLIC (None: the announce channel, else the caller's
    # channel), a member's platform user id for DM (None: the caller).
    recipient: str | None = None
    buttons: list[Button] = field(default_factory=list)
    form: Form | None = None
    select: Select | None = None
    attachment: Attachment | None = None
    error: bool = False  # a refusal or a usage error: the caller can fix it
    failed: bool = False  # something broke on govbot's side (logged with a reference)
    field_errors: dict[str, str] = field(default_factory=dict)
    language: str = ""  # the language the text is in, for the front end's own words
    # A public message posted under `key` (`proposal:7`) can later be edited in place by a
    # reply whose `updates` names the same key; a front end with no such message drops it.
    key: str | None = None
    updates: str | None = None
    # Orders updates of one message: the audit sequence number of the change shown (0: none).
    revision: int = 0


@dataclass(frozen=True)
class CommunityRef:
    """Which community a later notice belongs to."""

    platform: str
    external_id: str


@dataclass
class Notice:
    """A reply that no caller is waiting for (a timer fired): delivered by the adapter."""

    community: CommunityRef
    reply: Reply
