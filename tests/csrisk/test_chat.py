"""Chat posts: Slack-compatible or a Microsoft Teams Workflows Adaptive Card, the same
facts and link in both, chosen per team or globally (CHAT_WEBHOOK_FORMAT)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from unittest import mock

import pytest

from csrisk import chat, notifications

# Microsoft's documented example, recorded (its "_source" says where from).
RECORDED = Path(__file__).parent / "payloads" / "teams_workflows_documented.json"
DOCUMENTED = json.loads(RECORDED.read_text())


def shape(value: object) -> object:
    """The keys and value types of a JSON document, not its words."""
    if isinstance(value, dict):
        return {k: shape(v) for k, v in value.items() if not k.startswith("_")}
    if isinstance(value, list):
        return [shape(value[0])] if value else []
    return type(value).__name__


MESSAGE = chat.Message(
    title="Acme: CTA flagged",
    body="Usage fell <b>40%</b>",
    facts=[("For", "@lead_a"), ("About", "A CTA of yours or your team is flagged")],
    link="https://csrisk.example/cockpit/ctas/7/",
)


def test_the_teams_post_has_the_documented_envelope():
    payload = chat.teams_payload(MESSAGE)
    json.dumps(payload)
    ours, documented = shape(payload), shape(DOCUMENTED)
    assert ours.keys() == documented.keys()
    attachment, recorded = ours["attachments"][0], documented["attachments"][0]
    assert attachment.keys() == recorded.keys()
    assert payload["attachments"][0]["contentType"] == "application/vnd.microsoft.card.adaptive"
    assert payload["attachments"][0]["contentUrl"] is None
    card = payload["attachments"][0]["content"]
    assert recorded["content"].keys() <= card.keys()
    assert (card["type"], card["version"], card["$schema"]) == (
        "AdaptiveCard", "1.4", "http://adaptivecards.io/schemas/adaptive-card.json",
    )  # fmt: skip


def test_the_teams_card_carries_the_title_body_facts_and_link():
    card = chat.teams_payload(MESSAGE)["attachments"][0]["content"]
    assert card["body"] == [
        {"type": "TextBlock", "text": "Acme: CTA flagged", "weight": "Bolder", "size": "Medium",
         "wrap": True},
        {"type": "TextBlock", "text": "Usage fell <b>40%</b>", "wrap": True},
        {"type": "FactSet", "facts": [
            {"title": "For", "value": "@lead_a"},
            {"title": "About", "value": "A CTA of yours or your team is flagged"},
        ]},
    ]  # fmt: skip
    assert card["actions"] == [
        {"type": "Action.OpenUrl", "title": "Open in csrisk",
         "url": "https://csrisk.example/cockpit/ctas/7/"},
    ]  # fmt: skip


def test_slack_and_teams_say_the_same_facts():
    slack = chat.slack_payload(MESSAGE)["blocks"][0]["text"]["text"]
    for name, value in MESSAGE.facts:
        assert f"*{name}:* {value}" in slack
    assert "<https://csrisk.example/cockpit/ctas/7/|Open in csrisk>" in slack
    assert "&lt;b&gt;40%&lt;/b&gt;" in slack  # escaped for Slack; Teams shows text as is


@pytest.fixture
def posted(settings):
    settings.CHAT_WEBHOOK_URL = "https://chat.example/global"
    with mock.patch("csrisk.notifications.post_chat") as post:
        yield post


def _send(user, capture) -> tuple[str, dict]:
    """Notify ``user`` and return what was posted to chat: (url, payload)."""
    with capture(execute=True):
        notifications.notify(user=user, kind="mention", title="ping", url="/cockpit/ctas/2/")
    return notifications.post_chat.call_args.args  # type: ignore[attr-defined]


def test_the_global_format_setting_chooses_teams(
    org, posted, settings, django_capture_on_commit_callbacks
):
    settings.CHAT_WEBHOOK_FORMAT = "teams"
    url, payload = _send(org.vp, django_capture_on_commit_callbacks)
    assert url == "https://chat.example/global" and payload["type"] == "message"
    card = payload["attachments"][0]["content"]
    assert card["actions"][0]["url"] == "http://127.0.0.1:8000/cockpit/ctas/2/"
    assert {"title": "For", "value": "@vp"} in card["body"][-1]["facts"]


def test_a_teams_team_posts_cards_while_the_global_hook_stays_slack(
    org, posted, django_capture_on_commit_callbacks
):
    org.team_a.chat_webhook_url = "https://prod-00.westeurope.logic.azure.com/workflows/x"
    org.team_a.chat_format = "teams"
    org.team_a.save()
    url, payload = _send(org.csm_a, django_capture_on_commit_callbacks)
    assert url.startswith("https://prod-00") and payload["type"] == "message"
    url, payload = _send(org.csm_b, django_capture_on_commit_callbacks)
    assert url == "https://chat.example/global" and "blocks" in payload


def test_a_team_hook_without_a_format_follows_the_global_one(
    org, posted, settings, django_capture_on_commit_callbacks
):
    settings.CHAT_WEBHOOK_FORMAT = "teams"
    org.team_a.chat_webhook_url = "https://chat.example/team-a"
    org.team_a.save()
    url, payload = _send(org.csm_a, django_capture_on_commit_callbacks)
    assert url == "https://chat.example/team-a" and payload["type"] == "message"


def test_a_bad_global_format_stops_the_start():
    code = "import csrisk.settings"
    env = {**os.environ, "CHAT_WEBHOOK_FORMAT": "irc", "DEBUG": "1"}
    result = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True)
    assert result.returncode != 0 and "CHAT_WEBHOOK_FORMAT" in result.stderr


# --- the SSRF guard: chat posts go where outbound webhooks may ---------------------------


@pytest.fixture
def chat_receiver(settings):
    from tests.csrisk.test_webhooks import Receiver

    r = Receiver()
    yield r
    r.server.shutdown()
    r.server.server_close()


def test_a_chat_post_to_a_private_address_is_refused_and_recorded(
    org, chat_receiver, settings, django_capture_on_commit_callbacks
):
    from csrisk.models import DeliveryFailure

    settings.CSRISK_WEBHOOKS_ALLOW_PRIVATE = False
    settings.CHAT_WEBHOOK_URL = f"http://chat.example.com:{chat_receiver.port}/hooks/x"
    with (
        mock.patch("csrisk.netguard.resolve", return_value=["127.0.0.1"]),
        django_capture_on_commit_callbacks(execute=True),
    ):
        notifications.notify(user=org.vp, kind="mention", title="ping", url="/cockpit/ctas/2/")
    assert chat_receiver.requests == []  # never connected
    failure = DeliveryFailure.objects.get(channel=DeliveryFailure.CHAT)
    assert "loopback" in failure.error


def test_a_chat_post_goes_to_the_vetted_address_when_private_is_allowed(
    org, chat_receiver, settings, django_capture_on_commit_callbacks
):
    settings.CSRISK_WEBHOOKS_ALLOW_PRIVATE = True
    settings.CHAT_WEBHOOK_FORMAT = "teams"
    settings.CHAT_WEBHOOK_URL = f"http://chat.example.com:{chat_receiver.port}/hooks/x"
    with (
        mock.patch("csrisk.netguard.resolve", return_value=["127.0.0.1"]),
        django_capture_on_commit_callbacks(execute=True),
    ):
        notifications.notify(user=org.vp, kind="mention", title="ping", url="/cockpit/ctas/2/")
    (posted,) = chat_receiver.requests
    assert posted["headers"]["host"] == f"chat.example.com:{chat_receiver.port}"
    assert json.loads(posted["body"])["attachments"][0]["content"]["type"] == "AdaptiveCard"


def test_a_public_chat_host_is_posted_to_without_the_setting(settings):
    """The default (private refused) lets a public address through: a guard, not a ban."""
    settings.CSRISK_WEBHOOKS_ALLOW_PRIVATE = False
    with (
        mock.patch("csrisk.netguard.resolve", return_value=["93.184.215.14"]),
        mock.patch("csrisk.netguard._PinnedHTTPS.request") as request,
        mock.patch("csrisk.netguard._PinnedHTTPS.getresponse") as response,
    ):
        response.return_value.status = 200
        response.return_value.read.return_value = b"ok"
        notifications.post_chat("https://hooks.slack.example/services/T/B/X", {"text": "hi"})
    assert request.call_args.args[:2] == ("POST", "/services/T/B/X")
