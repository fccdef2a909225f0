"""Block Kit for replies, forms and the Home tab, with text escaped so that users never ping."""

from __future__ import annotations

import json
import re
from collections.abc import Iterable, Iterator, Mapping
from typing import Any

from govbot.commands import COMMANDS, Command, Kind
from govbot.i18n import LANGUAGES, catalog, translate
from govbot.replies import Form, FormField, Reply, Select

JsonDict = dict[str, Any]

FORM_CALLBACK = "gov_form"
BUTTON_ACTION = "gov_button_{index}"
BUTTON_PATTERN = re.compile(r"^gov_button_\d+$")
# A select menu's action; its block carries the command, so a pick needs no stored state.
SELECT_ACTION = "gov_select"
SELECT_BLOCK = "gov_select:"

# Slack's own limits: a section's text, a message's text, a modal title, a button label.
SECTION_LIMIT = 3000
MESSAGE_LIMIT = 39_000
TITLE_LIMIT = 24
LABEL_LIMIT = 75
# Slack's limits for a static select: options, an option's value, a placeholder, a block id.
SELECT_OPTIONS = 100
OPTION_VALUE_LIMIT = 150
PLACEHOLDER_LIMIT = 150
BLOCK_ID_LIMIT = 255
# The longest export shown inline as code blocks; past it the reply says where to get it.
EXPORT_LIMIT = 36_000

_CHANNEL_TOKEN = re.compile(r"<#[A-Z0-9]+>")
_FENCE = "```"


def _bot_code_spans() -> re.Pattern[str]:
    """Match the `code` spans of govbot's own wording: from the catalogs and the usage lines."""
    spans = {f"`{command.usage()}`" for command in COMMANDS}
    for language in LANGUAGES:
        for wording in catalog(language).values():
            spans.update(re.findall(r"`[^`\n{}]+`", wording))
    return re.compile("|".join(re.escape(span) for span in sorted(spans, key=len, reverse=True)))


_BOT_CODE = _bot_code_spans()
# A mrkdwn marker that could open or close formatting: at a word's edge, or any backtick.
_MARKER = re.compile(r"`|(?<!\w)[*_~]|[*_~](?!\w)")
# Look-alikes that Slack does not read as formatting.
_INERT = {"`": "\u02cb", "*": "\u2217", "_": "\u02cd", "~": "\u223c"}


def inert(text: str) -> str:
    """Defuse mrkdwn markers (`*`, `_`, `~`, backticks) except in govbot's own code spans.

    Member text (a title, a name) sits inside govbot's wording; a stray backtick or asterisk
    in it would otherwise pair with govbot's own and reformat the sentence around it.
    """
    pieces: list[str] = []
    last = 0
    for match in _BOT_CODE.finditer(text):
        pieces.append(_MARKER.sub(lambda m: _INERT[m.group(0)], text[last : match.start()]))
        pieces.append(match.group(0))
        last = match.end()
    pieces.append(_MARKER.sub(lambda m: _INERT[m.group(0)], text[last:]))
    return "".join(pieces)


def escape(text: str) -> str:
    """Escape `&`, `<`, `>` so text from users cannot ping or link; keep `<#C123>` channel links."""
    pieces: list[str] = []
    last = 0
    for match in _CHANNEL_TOKEN.finditer(text):
        pieces.append(_escape_all(text[last : match.start()]))
        pieces.append(match.group(0))
        last = match.end()
    pieces.append(_escape_all(text[last:]))
    return "".join(pieces)


def _escape_all(text: str) -> str:
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def unescape(text: str) -> str:
    """Undo the escaping Slack applies to typed text, so that it is escaped once on the way out.

    Slack sends `&`, `<` and `>` that a user typed as `&amp;`, `&lt;` and `&gt;`; any `<` left
    is one of Slack's own tokens (`<@U123|name>`, `<#C123|name>`), which the parser reads.
    """
    return text.replace("&lt;", "<").replace("&gt;", ">").replace("&amp;", "&")


def message(reply: Reply, language: str) -> JsonDict:
    """Render a reply as the `text` and `blocks` of a Slack message."""
    text = escape(inert(reply.text))
    blocks = [_section(chunk) for chunk in _chunks(reply.text)]
    if reply.attachment is not None:
        size = reply.attachment.size()  # read the file only when it will be shown
        if size <= EXPORT_LIMIT:
            exported = reply.attachment.read_text()
            blocks += [
                _section(f"{_FENCE}\n{chunk}\n{_FENCE}")
                for chunk in _chunks(exported, defuse=False)
            ]
        else:
            note = translate(language, "slack.export_too_large", size=size)
            blocks.append(_section(escape(note)))
            text += "\n" + escape(note)
    menu = select_block(reply.select) if reply.select is not None else None
    if menu is not None:
        blocks.append(menu)
    if reply.buttons:
        blocks.append(
            {
                "type": "actions",
                "block_id": "gov_buttons",
                "elements": [
                    _button(index, button.label, button.command, button.style)
                    for index, button in enumerate(reply.buttons)
                ],
            }
        )
    content: JsonDict = {"text": text[:MESSAGE_LIMIT]}
    if blocks:
        content["blocks"] = blocks
    return content


def select_block(menu: Select) -> JsonDict | None:
    """Render a select as an actions block; None when Slack could not show it whole.

    One pick uses a `static_select`, several a `multi_static_select`. A menu that does not
    fit Slack's limits is left out rather than cut, which would hide choices; the reply's
    text still says how to vote by command.
    """
    values = [option.value for option in menu.options]
    block_id = f"{SELECT_BLOCK}{menu.command}"
    if (
        not values
        or len(values) > SELECT_OPTIONS
        or len(set(values)) != len(values)
        or any(not value or len(value) > OPTION_VALUE_LIMIT for value in values)
        or len(block_id) > BLOCK_ID_LIMIT
    ):
        return None
    element: JsonDict = {
        "type": "multi_static_select" if menu.max_values > 1 else "static_select",
        "action_id": SELECT_ACTION,
        "options": [
            {"text": {"type": "plain_text", "text": option.label[:LABEL_LIMIT]}, "value": value}
            for option, value in zip(menu.options, values, strict=True)
        ],
    }
    if menu.max_values > 1:
        element["max_selected_items"] = min(menu.max_values, len(values))
    if menu.placeholder:
        element["placeholder"] = {
            "type": "plain_text",
            "text": menu.placeholder[:PLACEHOLDER_LIMIT],
        }
    return {"type": "actions", "block_id": block_id, "elements": [element]}


def select_command(block_id: str) -> str | None:
    """Return the command a select's block carries, if it is one of govbot's."""
    command = block_id.removeprefix(SELECT_BLOCK)
    return command if command != block_id and command else None


def picked_values(action: Mapping[str, Any]) -> list[str]:
    """Read the values a select action carries (one for a static select, any for a multi)."""
    chosen = action.get("selected_options")
    if not isinstance(chosen, list):
        one = action.get("selected_option")
        chosen = [one] if isinstance(one, Mapping) else []
    return [str(o["value"]) for o in chosen if isinstance(o, Mapping) and o.get("value")]


def _section(mrkdwn: str) -> JsonDict:
    # verbatim: Slack would otherwise turn words such as @here in the text into mentions.
    return {"type": "section", "text": {"type": "mrkdwn", "text": mrkdwn, "verbatim": True}}


def _button(index: int, label: str, command: str, style: str) -> JsonDict:
    button: JsonDict = {
        "type": "button",
        "action_id": BUTTON_ACTION.format(index=index),
        "text": {"type": "plain_text", "text": label[:LABEL_LIMIT]},
        "value": command,
    }
    if style in ("primary", "danger"):
        button["style"] = style
    return button


def _chunks(
    text: str, limit: int = SECTION_LIMIT - 2 * len(_FENCE) - 2, *, defuse: bool = True
) -> Iterator[str]:
    """Escape text and cut it at line ends into pieces that each fit one section."""
    current: list[str] = []
    size = 0
    for line in _short_lines(text, limit, defuse):
        if current and size + len(line) + 1 > limit:
            yield "\n".join(current)
            current, size = [], 0
        current.append(line)
        size += len(line) + 1
    if current and any(line.strip() for line in current):
        yield "\n".join(current)


def _short_lines(text: str, limit: int, defuse: bool) -> Iterator[str]:
    # An escaped character is at most five long, so a fifth of the limit always fits.
    step = limit // 5
    shown = inert if defuse else str
    for line in text.split("\n"):
        escaped = escape(shown(line))
        if len(escaped) <= limit:
            yield escaped
            continue
        for start in range(0, len(line), step):
            yield escape(shown(line[start : start + step]))


def modal(
    form: Form, command: Command | None, metadata: Mapping[str, str], cancel: str
) -> JsonDict:
    """Render a form as a modal whose inputs are named by the command's keys."""
    return {
        "type": "modal",
        "callback_id": FORM_CALLBACK,
        "title": {"type": "plain_text", "text": form.title[:TITLE_LIMIT]},
        "submit": {"type": "plain_text", "text": form.submit[:TITLE_LIMIT]},
        "close": {"type": "plain_text", "text": cancel[:TITLE_LIMIT]},
        "private_metadata": json.dumps(dict(metadata)),
        "blocks": [_input(field, _kind(command, field.key)) for field in form.fields],
    }


def _kind(command: Command | None, key: str) -> tuple[Kind, tuple[str, ...]]:
    param = command.param(key) if command is not None else None
    return (param.kind, param.choices) if param is not None else (Kind.TEXT, ())


def _input(field: FormField, kind: tuple[Kind, tuple[str, ...]]) -> JsonDict:
    block: JsonDict = {
        "type": "input",
        "block_id": field.key,
        "optional": not field.required,
        "label": {"type": "plain_text", "text": field.label},
        "element": _element(field, *kind),
    }
    if field.hint:
        block["hint"] = {"type": "plain_text", "text": field.hint}
    return block


def _element(field: FormField, kind: Kind, choices: tuple[str, ...]) -> JsonDict:
    if kind is Kind.CHANNEL:
        element: JsonDict = {
            "type": "conversations_select",
            "action_id": field.key,
            "filter": {"include": ["public", "private"], "exclude_bot_users": True},
        }
        if field.value:
            element["initial_conversation"] = field.value
        return element
    if choices:
        options = [_option(choice) for choice in choices]
        element = {"type": "static_select", "action_id": field.key, "options": options}
        if field.value in choices:
            element["initial_option"] = _option(field.value)
        return element
    element = {"type": "plain_text_input", "action_id": field.key, "multiline": field.multiline}
    if field.value:
        element["initial_value"] = field.value
    return element


def _option(value: str) -> JsonDict:
    return {"text": {"type": "plain_text", "text": value}, "value": value}


def form_values(state: Mapping[str, Mapping[str, Mapping[str, Any]]]) -> dict[str, str]:
    """Read a submitted modal back into key:value text, leaving out the inputs left empty."""
    raw: dict[str, str] = {}
    for actions in state.values():
        for key, element in actions.items():
            value = _submitted(element)
            if value:
                raw[key] = value
    return raw


def _submitted(element: Mapping[str, Any]) -> str | None:
    for channel_key in ("selected_conversation", "selected_channel"):
        if element.get(channel_key):
            # The text grammar names channels as `<#id>`; so does what a form hands back.
            return f"<#{element[channel_key]}>"
    option = element.get("selected_option")
    if isinstance(option, Mapping):
        return str(option.get("value") or "") or None
    value = element.get("value")
    return str(value).strip() if value else None


def home(head: str, replies: Iterable[Reply], hint: str) -> JsonDict:
    """Render the App Home tab: a heading, the member's overview, how to do more."""
    blocks: list[JsonDict] = [{"type": "header", "text": {"type": "plain_text", "text": head}}]
    for reply in replies:
        blocks += [_section(chunk) for chunk in _chunks(reply.text)]
    blocks.append({"type": "context", "elements": [{"type": "mrkdwn", "text": escape(hint)}]})
    return {"type": "home", "blocks": blocks}
