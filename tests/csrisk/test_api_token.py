import pytest
from django.core.management import CommandError, call_command
from rest_framework.authtoken.models import Token

from csrisk.models import User
from csrisk.roles import Role


def test_it_prints_a_token_for_an_existing_user(org, capsys):
    call_command("api_token", "csm_a")
    key = capsys.readouterr().out.strip()
    assert Token.objects.get(user=org.csm_a).key == key


def test_it_prints_the_same_token_twice_unless_rotated(org, capsys):
    call_command("api_token", "csm_a")
    first = capsys.readouterr().out.strip()
    call_command("api_token", "csm_a")
    assert capsys.readouterr().out.strip() == first
    call_command("api_token", "csm_a", "--rotate")
    assert capsys.readouterr().out.strip() != first


def test_it_creates_an_integration_user_that_cannot_log_in(db, capsys):
    call_command("api_token", "zendesk-bot", "--create-integration")
    user = User.objects.get(username="zendesk-bot")
    assert user.role == Role.INTEGRATION
    assert not user.has_usable_password()


def test_it_refuses_an_unknown_user(db):
    with pytest.raises(CommandError, match="No user"):
        call_command("api_token", "ghost")
