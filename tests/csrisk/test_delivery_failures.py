"""E-mail subjects are one safe line, and a send that fails is visible to an admin."""

from __future__ import annotations

import smtplib
from unittest import mock

from django.core import mail

from csrisk import notifications
from tests.conftest import login
from tests.factories import AccountFactory


def test_it_emails_a_title_with_a_line_break_on_one_safe_line(
    org, django_capture_on_commit_callbacks
):
    # Data from before names refused control characters, or text from elsewhere.
    account = AccountFactory(name="Amber\r\nBank", owner=org.csm_a)
    with django_capture_on_commit_callbacks(execute=True):
        notifications.notify(
            user=org.lead_a, kind="cta_flagged", title=f"{account.name}:\tCTA\x0bflagged"
        )
    assert len(mail.outbox) == 1
    assert mail.outbox[0].subject == "[csrisk] Amber Bank: CTA flagged"


def test_it_records_a_permanent_send_failure_for_the_admin(org, django_capture_on_commit_callbacks):
    from csrisk.models import DeliveryFailure

    with (
        mock.patch("django.core.mail.EmailMultiAlternatives.send", side_effect=ValueError("bad")),
        django_capture_on_commit_callbacks(execute=True),
    ):
        n = notifications.notify(user=org.lead_a, kind="cta_flagged", title="Acme flagged")
    failure = DeliveryFailure.objects.get()
    assert (failure.notification, failure.user, failure.channel) == (n, org.lead_a, "email")
    assert "bad" in failure.error
    n.refresh_from_db()
    assert n.emailed_at is None
    page = login(org.admin).get("/admin/csrisk/deliveryfailure/").content.decode()
    assert "Acme flagged" in page and "bad" in page


def test_it_records_a_transient_failure_once_its_retries_run_out(
    org, django_capture_on_commit_callbacks
):
    from csrisk.models import DeliveryFailure

    down = smtplib.SMTPServerDisconnected("smtp down")
    with (
        mock.patch("django.core.mail.EmailMultiAlternatives.send", side_effect=down),
        django_capture_on_commit_callbacks(execute=True),
    ):
        notifications.notify(user=org.lead_a, kind="cta_flagged", title="Acme flagged")
    failure = DeliveryFailure.objects.get()
    assert failure.channel == "email" and "smtp down" in failure.error


def test_it_records_a_failed_digest(org, django_capture_on_commit_callbacks):
    from csrisk.models import DeliveryFailure

    with django_capture_on_commit_callbacks(execute=True):
        notifications.notify(user=org.csm_a, kind="cta_assigned", title="CTA 1")
    with mock.patch(
        "django.core.mail.EmailMultiAlternatives.send", side_effect=ValueError("bad header")
    ):
        assert notifications.send_digests() == 0
    failure = DeliveryFailure.objects.get()
    assert (failure.user, failure.channel, failure.notification) == (org.csm_a, "email", None)
    assert "digest" in failure.subject


def test_it_keeps_no_failure_while_a_worker_will_still_retry(org):
    from csrisk.models import DeliveryFailure

    n = notifications.notify(user=org.lead_a, kind="cta_flagged", title="Acme flagged")
    down = smtplib.SMTPServerDisconnected("smtp down")
    with mock.patch("django.core.mail.EmailMultiAlternatives.send", side_effect=down):
        try:
            notifications.deliver(n.pk, last_attempt=False)
        except smtplib.SMTPServerDisconnected:
            pass
        else:
            raise AssertionError("a transient error must reach the task, which retries")
    assert not DeliveryFailure.objects.exists()
