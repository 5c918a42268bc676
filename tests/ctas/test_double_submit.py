"""Submitting the same form twice (a double click, a resent POST) acts once."""

from __future__ import annotations

import re

from ctas import services
from ctas.models import Comment, Cta
from tests.conftest import login

TOKEN = re.compile(r'name="submission"[^>]*value="([^"]+)"|value="([^"]+)"[^>]*name="submission"')


def token_in(html: str) -> str:
    found = TOKEN.search(html)
    return (found.group(1) or found.group(2)) if found else ""


def cta_form(client, account) -> dict[str, str]:
    html = client.get(f"/accounts/{account.pk}/").content.decode()
    return {
        "type": "risk",
        "area": "support",
        "reason": "Support escalation",
        "priority": "high",
        "due_date": "",
        "playbook": "",
        "description": "",
        "submission": token_in(html),
    }


def test_it_opens_one_cta_when_the_account_page_form_is_posted_twice(org, account_a):
    client = login(org.csm_a)
    form = cta_form(client, account_a)
    first = client.post(f"/cockpit/accounts/{account_a.pk}/open/", form)
    again = client.post(f"/cockpit/accounts/{account_a.pk}/open/", form)
    assert (first.status_code, again.status_code) == (302, 302)
    assert Cta.objects.count() == 1


def test_it_opens_a_second_cta_from_a_fresh_form(org, account_a):
    client = login(org.csm_a)
    client.post(f"/cockpit/accounts/{account_a.pk}/open/", cta_form(client, account_a))
    second = {**cta_form(client, account_a), "reason": "Another"}
    client.post(f"/cockpit/accounts/{account_a.pk}/open/", second)
    assert Cta.objects.count() == 2


def chatter_token(client, cta) -> str:
    return token_in(client.get(f"/cockpit/ctas/{cta.pk}/").content.decode())


def test_it_adds_one_comment_when_the_chatter_form_is_posted_twice(org, account_a):
    cta = services.cta_create(account=account_a, by=org.csm_a, reason="x", area="habits")
    client = login(org.csm_a)
    form = {"body": "Called, no answer", "submission": chatter_token(client, cta)}
    assert client.post(f"/cockpit/ctas/{cta.pk}/comment/", form).status_code == 302
    assert client.post(f"/cockpit/ctas/{cta.pk}/comment/", form).status_code == 302
    assert Comment.objects.count() == 1


def test_it_adds_one_comment_when_htmx_posts_the_chatter_twice(org, account_a):
    cta = services.cta_create(account=account_a, by=org.csm_a, reason="x", area="habits")
    client = login(org.csm_a)
    form = {"body": "Called, no answer", "submission": chatter_token(client, cta)}
    url = f"/cockpit/ctas/{cta.pk}/comment/"
    first = client.post(url, form, HTTP_HX_REQUEST="true")
    again = client.post(url, form, HTTP_HX_REQUEST="true")
    assert (first.status_code, again.status_code) == (200, 200)
    assert again.content.decode().count("Called, no answer") == 1
    assert Comment.objects.count() == 1
    # The fragment carries a fresh token, so the next comment is a new one.
    assert token_in(first.content.decode()) not in ("", form["submission"])


def test_it_does_not_hand_one_persons_token_to_another(org, account_a):
    cta = services.cta_create(account=account_a, by=org.csm_a, reason="x", area="habits")
    csm = login(org.csm_a)
    form = {"body": "Mine", "submission": chatter_token(csm, cta)}
    csm.post(f"/cockpit/ctas/{cta.pk}/comment/", form)
    login(org.lead_a).post(f"/cockpit/ctas/{cta.pk}/comment/", {**form, "body": "Lead's"})
    assert sorted(Comment.objects.values_list("body", flat=True)) == ["Lead's", "Mine"]


def test_it_returns_the_winners_comment_when_two_posts_race(org, account_a):
    # Both requests pass the "already done?" look-up before either saves; the unique
    # constraint on (author, token) turns the loser's insert into the winner's comment.
    import uuid
    from unittest import mock

    cta = services.cta_create(account=account_a, by=org.csm_a, reason="x", area="habits")
    token = uuid.uuid4()
    first = services.comment_add(cta=cta, by=org.csm_a, body="Once", submission=token)
    missed = mock.Mock(first=mock.Mock(return_value=None))
    with mock.patch.object(Comment.objects, "filter", return_value=missed):
        again = services.comment_add(cta=cta, by=org.csm_a, body="Once", submission=token)
    assert again == first
    assert Comment.objects.count() == 1
