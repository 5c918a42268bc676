"""Chat messages in the two shapes csrisk posts: Slack-compatible, or a Microsoft Teams
Workflows webhook (an Adaptive Card in a message, the shape Microsoft documents for
"Post to a channel when a webhook request is received").

One ``Message`` (a title, a body, facts and a link) is rendered by either formatter, so
both carry the same facts. Which one a hook gets is a setting: the team's ``chat_format``,
else ``CHAT_WEBHOOK_FORMAT``. Small on purpose: two dicts, no library (apprise would add
a dependency for two JSON shapes and hide the payload from the tests).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

SLACK, TEAMS = "slack", "teams"
FORMATS = (SLACK, TEAMS)


@dataclass(frozen=True)
class Message:
    """What a chat post says, whatever the chat: a title, a body, facts and a link."""

    title: str
    body: str = ""
    facts: list[tuple[str, str]] = field(default_factory=list)
    link: str = ""
    link_label: str = "Open in csrisk"
    fallback: str = ""  # the one-line text notifications show (Slack's "text")


def _slack_escape(text: str) -> str:
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def slack_payload(message: Message) -> dict[str, Any]:
    """A Slack-compatible message; user text is escaped so it cannot forge links or pings."""
    title = _slack_escape(message.title)
    text = f"*{title}*" + (f"\n{_slack_escape(message.body)}" if message.body else "")
    for name, value in message.facts:
        text += f"\n*{_slack_escape(name)}:* {_slack_escape(value)}"
    if message.link:
        text += f"\n<{message.link}|{_slack_escape(message.link_label)}>"
    return {
        "text": _slack_escape(message.fallback) or title,
        "blocks": [{"type": "section", "text": {"type": "mrkdwn", "text": text[:2900]}}],
    }


def teams_payload(message: Message) -> dict[str, Any]:
    """A Teams Workflows webhook post: one Adaptive Card (1.4) with the title, the body, a
    FactSet and an Action.OpenUrl. Card text is plain: TextBlocks render a little Markdown,
    so text from people is set as a TextBlock only, never as a link target."""
    body: list[dict[str, Any]] = [
        {"type": "TextBlock", "text": message.title, "weight": "Bolder", "size": "Medium",
         "wrap": True},
    ]  # fmt: skip
    if message.body:
        body.append({"type": "TextBlock", "text": message.body[:2900], "wrap": True})
    if message.facts:
        body.append(
            {
                "type": "FactSet",
                "facts": [{"title": name, "value": value} for name, value in message.facts],
            }
        )
    card: dict[str, Any] = {
        "$schema": "http://adaptivecards.io/schemas/adaptive-card.json",
        "type": "AdaptiveCard",
        "version": "1.4",
        "body": body,
    }
    if message.link:
        card["actions"] = [
            {"type": "Action.OpenUrl", "title": message.link_label, "url": message.link}
        ]
    return {
        "type": "message",
        "attachments": [
            {
                "contentType": "application/vnd.microsoft.card.adaptive",
                "contentUrl": None,
                "content": card,
            }
        ],
    }


def payload(message: Message, chat_format: str) -> dict[str, Any]:
    """``message`` in the shape of ``chat_format`` (``slack`` or ``teams``)."""
    if chat_format == TEAMS:
        return teams_payload(message)
    return slack_payload(message)
