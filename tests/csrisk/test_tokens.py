"""API tokens: stored as digests, expiring, listed and revoked by their owner and admins."""

from __future__ import annotations

import datetime as dt

from django.core.management import call_command
from django.test import override_settings
from rest_framework.test import APIClient

from csrisk import clock
from csrisk.models import ApiToken
from tests.conftest import login

ACCOUNTS = "/api/v1/accounts/"


def token_for(username: str, capsys, *args: str) -> str:
    call_command("api_token", username, *args)
    return capsys.readouterr().out.strip()


def with_key(key: str) -> APIClient:
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {key}")
    return client


def test_it_stores_only_a_digest_of_the_key(org, capsys):
    key = token_for("csm_a", capsys)
    token = ApiToken.objects.get(user=org.csm_a)
    stored = [str(getattr(token, f.attname)) for f in ApiToken._meta.concrete_fields]
    assert not any(key in value for value in stored)
    assert token.prefix == key[:8]
    assert with_key(key).get(ACCOUNTS).status_code == 200
    assert with_key(key[:-1] + "x").get(ACCOUNTS).status_code == 401


@override_settings(CSRISK_API_TOKEN_TTL_DAYS=30)
def test_it_expires_a_persons_token_but_not_an_integrations_by_default(org, capsys):
    person = token_for("csm_a", capsys)
    bot = token_for("bot", capsys, "--create-integration")
    later = clock.now() + dt.timedelta(days=31)
    with clock.frozen(later):
        response = with_key(person).get(ACCOUNTS)
        assert response.status_code == 401
        assert "expired" in response.json()["detail"]
        assert with_key(bot).post("/api/v1/signals/", {}, format="json").status_code == 400


def test_it_makes_a_new_token_each_time_and_keeps_the_old_one_working(org, capsys):
    first = token_for("csm_a", capsys)
    second = token_for("csm_a", capsys)
    assert first != second
    assert with_key(first).get(ACCOUNTS).status_code == 200
    token_for("csm_a", capsys, "--rotate")
    assert with_key(first).get(ACCOUNTS).status_code == 401
    assert ApiToken.objects.filter(user=org.csm_a, revoked_at=None).count() == 1


def test_it_lists_and_revokes_the_owners_tokens_on_the_tokens_page(org, capsys):
    key = token_for("csm_a", capsys)
    other = token_for("csm_b", capsys)
    page = login(org.csm_a).get("/tokens/")
    assert page.status_code == 200
    html = page.content.decode()
    assert key[:8] in html and other[:8] not in html and key not in html
    mine = ApiToken.objects.get(user=org.csm_a)
    theirs = ApiToken.objects.get(user=org.csm_b)
    assert login(org.csm_a).post(f"/tokens/{theirs.pk}/revoke/").status_code == 404
    response = login(org.csm_a).post(f"/tokens/{mine.pk}/revoke/")
    assert response.status_code == 302
    assert with_key(key).get(ACCOUNTS).status_code == 401
    assert with_key(other).get(ACCOUNTS).status_code == 200
    from csrisk.models import AuditEntry

    assert AuditEntry.objects.filter(action="csrisk.token_revoked", actor=org.csm_a).exists()


def test_it_creates_a_token_on_the_page_and_shows_the_key_once(org):
    client = login(org.csm_a)
    response = client.post("/tokens/", {"name": "laptop"})
    assert response.status_code == 200
    token = ApiToken.objects.get(user=org.csm_a)
    assert token.name == "laptop" and token.expires_at is not None
    html = response.content.decode()
    import re

    key = re.search(r'<code id="new-token">([^<]+)</code>', html).group(1)
    assert with_key(key).get(ACCOUNTS).status_code == 200
    assert key not in client.get("/tokens/").content.decode()


def test_it_lists_and_revokes_own_tokens_over_the_api(org, capsys):
    key = token_for("csm_a", capsys)
    token_for("csm_b", capsys)
    client = with_key(key)
    listed = client.get("/api/v1/tokens/").json()["results"]
    assert [t["prefix"] for t in listed] == [key[:8]]
    assert "key" not in listed[0] and "digest" not in listed[0]
    theirs = ApiToken.objects.get(user=org.csm_b)
    assert client.post(f"/api/v1/tokens/{theirs.pk}/revoke/").status_code == 404
    assert client.post(f"/api/v1/tokens/{listed[0]['id']}/revoke/").status_code == 200
    assert client.get("/api/v1/tokens/").status_code == 401


def test_it_binds_an_integration_token_to_sources(db, capsys):
    token_for("jira-bot", capsys, "--create-integration", "--sources", "jira, zendesk")
    assert ApiToken.objects.get().sources == ["jira", "zendesk"]


def test_it_lets_an_admin_revoke_any_token_in_the_admin(org, capsys):
    key = token_for("csm_b", capsys)
    token = ApiToken.objects.get()
    client = login(org.admin)
    response = client.post(
        "/admin/csrisk/apitoken/",
        {"action": "revoke", "_selected_action": [token.pk]},
    )
    assert response.status_code == 302
    assert with_key(key).get(ACCOUNTS).status_code == 401


def test_it_hashes_plain_drf_tokens_and_deletes_them(org):
    """The data migration: an integration's old DRF key keeps working, now hashed."""
    import importlib
    from types import SimpleNamespace

    from django.apps import apps
    from django.db import connection

    migration = importlib.import_module("csrisk.migrations.0007_hash_plain_tokens")
    key = "0123456789abcdef0123456789abcdef01234567"
    with connection.cursor() as cursor:
        cursor.execute(
            "CREATE TABLE authtoken_token (key varchar(40) PRIMARY KEY, "
            "created timestamp NOT NULL, user_id bigint NOT NULL)"
        )
        cursor.execute(
            "INSERT INTO authtoken_token VALUES (%s, %s, %s)",
            [key, "2026-01-01 00:00:00", org.integration.pk],
        )
    migration.hash_plain_tokens(apps, SimpleNamespace(connection=connection))
    token = ApiToken.objects.get(user=org.integration)
    assert (token.prefix, token.expires_at) == (key[:8], None)
    with connection.cursor() as cursor:
        cursor.execute("SELECT count(*) FROM authtoken_token")
        assert cursor.fetchone()[0] == 0
    assert with_key(key).post("/api/v1/signals/", {}, format="json").status_code == 400


def test_it_adds_a_bound_integration_token_in_the_admin_and_shows_the_key_once(org):
    client = login(org.admin)
    response = client.post(
        "/admin/csrisk/apitoken/add/",
        {"user": org.integration.pk, "name": "zendesk", "sources": "zendesk, jira"},
        follow=True,
    )
    assert response.status_code == 200
    token = ApiToken.objects.get(user=org.integration)
    assert (token.sources, token.expires_at, token.created_by) == (
        ["jira", "zendesk"], None, org.admin,
    )  # fmt: skip
    shown = [str(m) for m in response.context["messages"]]
    key = next(m for m in shown if "not shown again" in m).rsplit(" ", 1)[1]
    assert token.prefix == key[:8]
    assert with_key(key).post("/api/v1/signals/", {}, format="json").status_code == 400
    refused = client.post(
        "/admin/csrisk/apitoken/add/", {"user": org.csm_a.pk, "sources": "zendesk"}
    )
    assert refused.status_code == 200  # the form again, with the error
    assert "Only integration tokens" in refused.content.decode()


def test_it_rebinds_a_token_in_the_admin_but_never_changes_its_owner(org, capsys):
    token_for("bot", capsys, "--create-integration", "--sources", "jira")
    token = ApiToken.objects.get()
    response = login(org.admin).post(
        f"/admin/csrisk/apitoken/{token.pk}/change/",
        {"user": org.csm_a.pk, "name": "bot", "sources": "zendesk"},
    )
    assert response.status_code == 302
    token.refresh_from_db()
    assert (token.user.username, token.sources) == ("bot", ["zendesk"])


def test_it_lists_tokens_with_a_constant_number_of_queries(org, django_assert_max_num_queries):
    from csrisk import tokens

    key = tokens.token_create(user=org.csm_a, by=None)[1]
    for _ in range(20):
        tokens.token_create(user=org.csm_a, by=None)
    client, page = with_key(key), login(org.csm_a)
    with django_assert_max_num_queries(4):
        assert client.get("/api/v1/tokens/").status_code == 200
    with django_assert_max_num_queries(8):
        assert page.get("/tokens/").status_code == 200
