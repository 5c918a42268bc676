"""The pages people open every day cost the same number of queries on a bigger book.

The demo book (``seed_demo``: accounts, facts, colour history, CTAs, escalations,
sponsors, the risk model) at two sizes, four times apart; the executive summary, csm1's
cockpit and lead1's 1:1 review of csm1, and the API's reads of the summary's tables, the
segments, the signal feed and the notifications, must run exactly as many queries on both. A query
per account, CTA or row would show up as a difference here.

Some queries run only when there is something to show (a flagged CTA's escalation, a
reason's link): each book gets csm1 one flagged, escalated CTA, so both books show the
same kinds of rows and only their numbers differ. Its escalation is acknowledged by lead1:
the review named the acknowledger with a query per escalation until it read them with
the escalations.
"""

from __future__ import annotations

import pytest
from django.core.management import call_command
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext

from accounts.models import Account
from csrisk.models import User
from ctas.services import cta_create, cta_flag
from escalation.models import Escalation
from escalation.services import escalation_acknowledge

SIZES = (80, 320)


def _login(username: str) -> Client:
    client = Client()
    client.force_login(User.objects.get(username=username))
    return client


def _queries(client: Client, path: str) -> int:
    assert client.get(path).status_code == 200  # warm: session, content types, caches
    with CaptureQueriesContext(connection) as captured:
        response = client.get(path)
    assert response.status_code == 200
    return len(captured.captured_queries)


# The API's reads of the same pages (every row on one page: a query per row would show).
API_READS = {
    "vp": [
        "/api/v1/summary/",
        "/api/v1/summary/blind-spots/?page_size=1000",
        "/api/v1/summary/actions/?page_size=1000",
        "/api/v1/segments/",
        "/api/v1/signals/?page_size=1000",
    ],
    "csm1": ["/api/v1/notifications/?page_size=1000"],
}


def _page_queries() -> dict[str, int]:
    csm1 = User.objects.get(username="csm1")
    counts = {
        "/summary/": _queries(_login("vp"), "/summary/"),
        "/cockpit/": _queries(_login("csm1"), "/cockpit/"),
        "1:1 review": _queries(_login("lead1"), f"/scorecards/?csm={csm1.pk}"),
    }
    for username, paths in API_READS.items():
        client = _login(username)
        counts.update({path: _queries(client, path) for path in paths})
    return counts


def _flag_one_for_csm1() -> None:
    csm1 = User.objects.get(username="csm1")
    account = Account.objects.filter(owner=csm1).order_by("pk").first()
    cta = cta_create(account=account, by=csm1, reason="Adoption stalled", area="habits")
    cta_flag(cta=cta, by=csm1, reason="Need the sponsor to call their VP")
    lead1 = User.objects.get(username="lead1")
    escalation_acknowledge(escalation=Escalation.objects.get(cta=cta), by=lead1, note="On it")


@pytest.mark.django_db
def test_the_daily_pages_run_the_same_queries_on_a_four_times_bigger_book(
    django_capture_on_commit_callbacks,
) -> None:
    counts = []
    for accounts in SIZES:
        call_command("seed_demo", accounts=accounts, months=6, seed=5, verbosity=0)
        with django_capture_on_commit_callbacks(execute=True):
            _flag_one_for_csm1()
        counts.append(_page_queries())
    small, big = counts
    assert small == big, f"queries per page on {SIZES[0]} vs {SIZES[1]} accounts: {counts}"
