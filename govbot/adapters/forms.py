"""What a select pick or a form submission runs, in the text grammar every front end shares."""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from govbot.commands import Invocation, UsageError, split


def picked(command: str, values: Sequence[str]) -> str:
    """Return the line a select menu runs: `vote cast 7 A,C`, quoted when a value has spaces."""
    joined = ",".join(value.strip() for value in values if value.strip())
    if not joined:
        return command
    if any(char.isspace() or char == '"' for char in joined):
        joined = '"' + joined.replace('"', '\\"') + '"'
    return f"{command} {joined}"


def form_target(text: str) -> Invocation | None:
    """Read a form's command text: the table command and the values it already carries.

    `vote cast 7 -1` names `vote cast` with `id` 7 and `choice` -1 preset; None when the text
    names no command (a form from an older version whose command is gone).
    """
    try:
        invocation = split(text)
    except UsageError:
        return None
    return invocation


def submission(text: str, fields: Mapping[str, str]) -> Invocation | None:
    """Merge a submitted form's non-empty fields over the values its command text presets."""
    target = form_target(text)
    if target is None:
        return None
    typed = {key: value for key, value in fields.items() if value.strip()}
    return Invocation(target.command, {**target.raw, **typed})
