import pytest
from django.core.management import CommandError, call_command
from rest_framework.test import APIClient

from csrisk.models import ApiToken, User
from csrisk.roles import Role


def test_it_prints_a_new_working_token_for_an_existing_user(org, capsys):
    call_command("api_token", "csm_a")
    key = capsys.readouterr().out.strip()
    token = ApiToken.objects.get(user=org.csm_a)
    assert token.prefix == key[:8] and token.expires_at is not None
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {key}")
    assert client.get("/api/v1/accounts/").status_code == 200


def test_it_prints_a_new_token_each_time_and_rotate_revokes_the_others(org, capsys):
    call_command("api_token", "csm_a")
    first = capsys.readouterr().out.strip()
    call_command("api_token", "csm_a")
    assert capsys.readouterr().out.strip() != first
    call_command("api_token", "csm_a", "--rotate")
    assert capsys.readouterr().out.strip() != first
    assert ApiToken.objects.filter(user=org.csm_a, revoked_at=None).count() == 1


def test_it_creates_an_integration_user_that_cannot_log_in(db, capsys):
    call_command("api_token", "zendesk-bot", "--create-integration")
    user = User.objects.get(username="zendesk-bot")
    assert user.role == Role.INTEGRATION
    assert not user.has_usable_password()
    assert ApiToken.objects.get(user=user).expires_at is None


def test_it_refuses_an_unknown_user(db):
    with pytest.raises(CommandError, match="No user"):
        call_command("api_token", "ghost")


def test_it_refuses_to_bind_a_persons_token_to_sources(org):
    with pytest.raises(CommandError, match="integration"):
        call_command("api_token", "csm_a", "--sources", "zendesk")
