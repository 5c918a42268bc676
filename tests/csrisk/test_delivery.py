"""E-mail and chat delivery: preferences, HTML + text, escaping, retry, no duplicates,
digests, and that a failing SMTP server never breaks the person's action."""

from __future__ import annotations

import json
import smtplib
from unittest import mock

import pytest
from django.core import mail

from csrisk import notifications
from csrisk.models import Notification, NotificationPreference
from csrisk.tasks import deliver_notification_task
from tests.conftest import login


@pytest.fixture
def webhook(settings):
    settings.CHAT_WEBHOOK_URL = "https://chat.example/hooks/T000/B000"
    with mock.patch("csrisk.notifications.post_chat") as post:
        yield post


def test_an_immediate_kind_is_emailed_as_html_and_text(org, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        notifications.notify(
            user=org.lead_a,
            kind="cta_flagged",
            title="Acme: CTA flagged",
            body="<b>help</b> & more",
            url="/cockpit/ctas/1/",
        )
    assert len(mail.outbox) == 1
    message = mail.outbox[0]
    assert message.subject == "[csrisk] Acme: CTA flagged"
    assert message.to == ["lead_a@example.com"]
    assert "<b>help</b> & more" in message.body  # plain text, as written
    html = message.alternatives[0][0]
    assert "&lt;b&gt;help&lt;/b&gt; &amp; more" in html
    assert "http://127.0.0.1:8000/cockpit/ctas/1/" in html


def test_chat_payload_is_slack_compatible_and_escaped(
    org, webhook, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        notifications.notify(
            user=org.lead_a,
            kind="mention",
            title="<!channel> ping",
            body="a & b",
            url="/cockpit/ctas/2/",
        )
    url, payload = webhook.call_args.args
    assert url == "https://chat.example/hooks/T000/B000"
    json.dumps(payload)  # serialisable
    text = payload["blocks"][0]["text"]["text"]
    assert "&lt;!channel&gt;" in text and "<!channel>" not in text
    assert "a &amp; b" in text
    assert "<http://127.0.0.1:8000/cockpit/ctas/2/|Open in csrisk>" in text


def test_a_team_webhook_wins_over_the_global_one(org, webhook, django_capture_on_commit_callbacks):
    org.team_a.chat_webhook_url = "https://chat.example/team-a"
    org.team_a.save()
    with django_capture_on_commit_callbacks(execute=True):
        notifications.notify(user=org.csm_a, kind="mention", title="x")
    assert webhook.call_args.args[0] == "https://chat.example/team-a"


def test_delivering_twice_sends_once(org, webhook):
    n = notifications.notify(user=org.lead_a, kind="cta_flagged", title="x")
    assert notifications.deliver(n.pk) == {"email": True, "chat": True}
    assert notifications.deliver(n.pk) == {"email": False, "chat": False}
    assert len(mail.outbox) == 1
    assert webhook.call_count == 1


def test_a_failing_smtp_server_is_retried_and_never_breaks_the_action(
    org, account_a, django_capture_on_commit_callbacks
):
    from ctas import services

    cta = services.cta_create(account=account_a, by=org.csm_a, reason="x", area="habits")
    with (
        mock.patch(
            "csrisk.notifications.send_email", side_effect=smtplib.SMTPServerDisconnected("down")
        ),
        mock.patch.object(
            deliver_notification_task, "retry", side_effect=deliver_notification_task.retry
        ) as retry,
        django_capture_on_commit_callbacks(execute=True),
    ):
        response = login(org.csm_a).post(f"/cockpit/ctas/{cta.pk}/flag/", {"reason": "help"})
    assert response.status_code == 302  # the flag itself succeeded
    cta.refresh_from_db()
    assert cta.flagged
    assert retry.called  # autoretry asked Celery to try again with backoff
    n = Notification.objects.get(kind="cta_flagged", user=org.lead_a)
    assert n.emailed_at is None  # not marked sent: the retry will send it


def test_transient_errors_are_the_retried_ones():
    assert smtplib.SMTPException in deliver_notification_task.autoretry_for
    assert OSError in deliver_notification_task.autoretry_for
    assert deliver_notification_task.max_retries == 6


def test_digest_kinds_wait_for_one_daily_email(org, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        for i in range(3):
            notifications.notify(user=org.csm_a, kind="cta_assigned", title=f"CTA {i}")
    assert mail.outbox == []
    assert notifications.send_digests() == 1
    assert len(mail.outbox) == 1
    assert "Your daily digest: 3 updates" in mail.outbox[0].subject
    assert notifications.send_digests() == 0


def test_preferences_turn_email_off(org, django_capture_on_commit_callbacks):
    NotificationPreference.objects.create(
        user=org.lead_a, kind="cta_flagged", email="off", chat=False
    )
    with django_capture_on_commit_callbacks(execute=True):
        notifications.notify(user=org.lead_a, kind="cta_flagged", title="x")
    assert mail.outbox == []
    assert Notification.objects.filter(user=org.lead_a).count() == 1  # still in-app


def test_quiet_keeps_it_in_app(org, django_capture_on_commit_callbacks):
    with notifications.quiet(), django_capture_on_commit_callbacks(execute=True):
        notifications.notify(user=org.lead_a, kind="cta_flagged", title="x")
    assert mail.outbox == []


def test_the_settings_page_saves_choices(org):
    client = login(org.csm_a)
    assert (
        b"A CTA of yours or your team is flagged" in client.get("/notifications/settings/").content
    )
    data = {f"{kind}-email": "digest" for kind in notifications.KINDS}
    data["mention-chat"] = "on"
    assert client.post("/notifications/settings/", data).status_code == 302
    assert notifications.preference(org.csm_a, "mention") == ("digest", True)
    assert notifications.preference(org.csm_a, "cta_flagged") == ("digest", False)
    data["mention-email"] = "carrier-pigeon"
    assert client.post("/notifications/settings/", data).status_code == 400


def test_a_batch_is_delivered_by_one_task_and_a_transient_failure_retries_alone(
    org, django_capture_on_commit_callbacks
):
    notes = [
        notifications.Note(user=user, kind="cta_flagged", title=f"x {user.username}")
        for user in (org.csm_a, org.lead_a)
    ]
    with (
        mock.patch(
            "csrisk.notifications.send_email",
            side_effect=[smtplib.SMTPServerDisconnected("down"), None],
        ),
        mock.patch.object(deliver_notification_task, "apply_async") as alone,
        django_capture_on_commit_callbacks(execute=True),
    ):
        stored = notifications.notify_many(notes)
    failed, sent = stored
    assert Notification.objects.get(pk=sent.pk).emailed_at is not None
    assert Notification.objects.get(pk=failed.pk).emailed_at is None
    # The one that failed goes on alone, with the single task's retries and backoff.
    assert alone.call_args.args[0] == (failed.pk,)


def test_notify_many_skips_a_key_stored_before_and_reads_preferences_once(
    org, django_assert_max_num_queries
):
    notifications.notify(user=org.csm_a, kind="mention", title="first", dedupe_key="k")
    NotificationPreference.objects.create(user=org.lead_a, kind="mention", email="digest")
    notes = [
        notifications.Note(user=org.csm_a, kind="mention", title="again", dedupe_key="k"),
        notifications.Note(user=org.lead_a, kind="mention", title="new", dedupe_key="k"),
    ]
    with django_assert_max_num_queries(5):
        stored = notifications.notify_many(notes)
    assert [(n.user, n.title, n.digest) for n in stored] == [(org.lead_a, "new", True)]
    assert Notification.objects.filter(user=org.csm_a).count() == 1
