"""Single sign-on with OpenID Connect (issue 21, docs/sso.md), against a real provider
process (tests/processes.py, OidcProvider): people are created just in time or linked by
subject or verified e-mail, their role and team come from the provider's groups, password
sign-in can be switched off but for the break-glass superuser, logout ends the session
(and, when asked, the provider's), and a forged or stale answer gets a 4xx with a reason."""

from __future__ import annotations

import uuid
from urllib.parse import parse_qs, urlsplit

import pytest
import requests
from django.core.exceptions import ImproperlyConfigured
from django.test import Client
from django.urls import reverse

from csrisk import sso
from csrisk.models import AuditEntry, SsoIdentity, User
from csrisk.roles import HOME_PAGES, Role
from tests.conftest import api, login
from tests.factories import PASSWORD, TeamFactory

ROLE_MAP = "cs-vp=vp_cs,cs-leads=team_lead,cs=csm"


@pytest.fixture
def provider(oidc_provider, settings):
    """Single sign-on switched on against the provider process."""
    settings.OIDC_ISSUER = oidc_provider.issuer
    settings.OIDC_CLIENT_ID = "csrisk-tests"
    settings.OIDC_CLIENT_SECRET = "not-checked-by-the-mock"
    settings.OIDC_PROVIDER_NAME = "Okta"
    settings.OIDC_ROLE_MAP = ROLE_MAP
    settings.OIDC_TEAM_MAP = "team-a=CS A,team-b=CS B,team-c=CS C"
    return oidc_provider


def person(provider, **claims: object) -> str:
    """A person at the provider with these claims; returns their subject."""
    sub = f"sub-{uuid.uuid4().hex[:12]}"
    provider.put_user(sub, {"email_verified": True, **claims})
    return sub


def authorize(client: Client, sub: str, query: str = "") -> str:
    """Starts a sign-in and lets the provider answer for ``sub``: the callback's URL."""
    start = client.get(f"/sso/login/{query}")
    assert start.status_code == 302, start.status_code
    answer = requests.post(start["Location"], data={"sub": sub}, allow_redirects=False, timeout=10)
    assert answer.status_code == 302, answer.text
    back = urlsplit(answer.headers["Location"])
    assert back.path == "/sso/callback/"
    return f"{back.path}?{back.query}"


def sign_in(client: Client, sub: str, query: str = ""):
    return client.get(authorize(client, sub, query))


def signed_in_as(client: Client) -> User | None:
    user_id = client.session.get("_auth_user_id")
    return User.objects.get(pk=user_id) if user_id else None


# --- The mapping ---------------------------------------------------------------------------


def test_it_maps_the_first_configured_group_the_person_is_in(settings):
    settings.OIDC_ROLE_MAP = ROLE_MAP
    settings.OIDC_TEAM_MAP = "team-a=CS A"
    rules = sso.mapping()
    assert sso.map_claims({"groups": ["cs", "cs-leads"]}, rules) == ("team_lead", None)
    assert sso.map_claims({"groups": ["cs", "team-a"]}, rules) == ("csm", "CS A")
    assert sso.map_claims({"groups": "cs-vp"}, rules) == ("vp_cs", None)
    assert sso.map_claims({"groups": ["marketing"]}, rules) == (None, None)
    assert sso.map_claims({}, rules) == (None, None)


def test_it_gives_the_default_role_to_people_in_no_mapped_group(settings):
    settings.OIDC_ROLE_MAP = ""
    settings.OIDC_DEFAULT_ROLE = "support"
    assert sso.map_claims({"groups": ["anything"]}, sso.mapping()) == ("support", None)


def test_it_reads_a_json_mapping_and_another_claim(settings):
    settings.OIDC_ROLE_MAP = '{"CN=CS Leads,OU=Groups,DC=corp": "team_lead"}'
    settings.OIDC_GROUPS_CLAIM = "roles"
    claims = {"roles": ["CN=CS Leads,OU=Groups,DC=corp"], "groups": ["cs"]}
    assert sso.map_claims(claims, sso.mapping()) == ("team_lead", None)


@pytest.mark.parametrize(
    ("role_map", "default"),
    [("cs=root", ""), ("cs=integration", ""), ("cs", ""), ("{not json", ""), ("", "admin")],
)
def test_it_refuses_a_mapping_that_cannot_work(settings, role_map, default):
    settings.OIDC_ROLE_MAP = role_map
    settings.OIDC_DEFAULT_ROLE = default
    with pytest.raises(ImproperlyConfigured):
        sso.mapping()
    assert [m.id for m in sso.check_configuration()] == ["csrisk.E021"]


def test_it_reports_half_a_configuration(settings):
    settings.OIDC_ISSUER, settings.OIDC_CLIENT_ID = "https://idp.example", ""
    assert [m.id for m in sso.check_configuration()] == ["csrisk.E022"]
    assert not sso.enabled()


# --- Switched off -------------------------------------------------------------------------


def test_it_is_off_when_not_configured(client, db):
    assert client.get("/sso/login/").status_code == 404
    assert client.get("/sso/callback/?code=x&state=y").status_code == 404
    page = client.get("/login/")
    assert b"Sign in with" not in page.content
    assert b'name="password"' in page.content


def test_the_login_page_offers_the_provider_when_configured(provider, client, db):
    page = client.get("/login/?next=/accounts/")
    assert b"Sign in with Okta" in page.content
    assert b'href="/sso/login/?next=/accounts/"' in page.content
    assert b'name="password"' in page.content  # password sign-in is on by default


# --- Just-in-time users, linking, roles and teams -------------------------------------------


def test_it_creates_a_person_just_in_time_with_the_mapped_role_and_team(provider, client, org):
    team_c = TeamFactory(name="CS C")  # no lead yet: the new lead leads it
    sub = person(
        provider,
        email="dana@corp.example",
        given_name="Dana",
        family_name="Lee",
        groups=["cs", "cs-leads", "team-c"],
    )
    response = sign_in(client, sub)
    assert response.status_code == 302 and response["Location"] == "/"
    user = signed_in_as(client)
    assert (user.username, user.email, user.first_name) == (
        "dana@corp.example",
        "dana@corp.example",
        "Dana",
    )
    assert (user.role, user.team) == (Role.TEAM_LEAD, team_c)
    team_c.refresh_from_db()
    assert team_c.lead == user
    assert not user.has_usable_password() and not user.is_superuser and not user.is_staff
    assert SsoIdentity.objects.get(user=user).subject == sub
    assert AuditEntry.objects.filter(action="sso_user_created", target_id=user.pk).exists()
    home = client.get("/")
    assert home["Location"] == reverse(HOME_PAGES[Role.TEAM_LEAD])
    assert client.get(home["Location"]).status_code == 200


def test_it_returns_to_the_page_asked_for(provider, client, org):
    sub = person(provider, email="eve@corp.example", groups=["cs"])
    response = sign_in(client, sub, "?next=/notifications/")
    assert response["Location"] == "/notifications/"


def test_it_does_not_return_to_another_site(provider, client, org):
    sub = person(provider, email="or@corp.example", groups=["cs"])
    response = sign_in(client, sub, "?next=https://evil.example/")
    assert response["Location"] == "/"


def test_it_signs_in_the_linked_person_by_subject_and_follows_their_groups(provider, client, org):
    sub = person(provider, email="fay@corp.example", groups=["cs", "team-a"])
    sign_in(client, sub)
    user = signed_in_as(client)
    assert user.role == Role.CSM
    # promoted at the provider and with a new address: the same person, the new role
    provider.put_user(
        sub, {"email": "fay.new@corp.example", "email_verified": True, "groups": ["cs-vp"]}
    )
    again = Client()
    sign_in(again, sub)
    assert signed_in_as(again).pk == user.pk
    user.refresh_from_db()
    assert (user.role, user.team) == (Role.VP_CS, org.team_a)
    synced = AuditEntry.objects.get(action="sso_role_synced", target_id=user.pk)
    assert synced.changes == {"role": ["csm", "vp_cs"]}
    assert User.objects.filter(email__startswith="fay").count() == 1


def test_it_links_an_existing_account_by_verified_email(provider, client, org):
    sub = person(provider, email="CSM_A@example.com", groups=["cs", "team-b"])
    sign_in(client, sub)
    assert signed_in_as(client) == org.csm_a
    org.csm_a.refresh_from_db()
    assert org.csm_a.team == org.team_b  # the provider's groups rule
    assert SsoIdentity.objects.get(subject=sub).user == org.csm_a
    assert AuditEntry.objects.filter(action="sso_linked", target_id=org.csm_a.pk).exists()


def test_it_refuses_to_link_by_an_unverified_email(provider, client, org):
    # Account takeover: anyone who can put csm_a's address on a provider account
    sub = person(provider, email="csm_a@example.com", email_verified=False, groups=["cs-vp"])
    response = sign_in(client, sub)
    assert response.status_code == 403
    assert b"not say the address is verified" in response.content
    assert signed_in_as(client) is None
    assert not SsoIdentity.objects.exists()
    org.csm_a.refresh_from_db()
    assert org.csm_a.role == Role.CSM
    assert User.objects.filter(email__iexact="csm_a@example.com").count() == 1


def test_it_never_links_a_superuser_by_email(provider, client, org):
    sub = person(provider, email="admin@example.com", groups=["cs"])
    response = sign_in(client, sub)
    assert response.status_code == 403
    assert b"superuser" in response.content
    assert signed_in_as(client) is None


def test_it_refuses_a_person_in_no_mapped_group(provider, client, org):
    sub = person(provider, email="mallory@corp.example", groups=["marketing"])
    response = sign_in(client, sub)
    assert response.status_code == 403
    assert b"none of the groups" in response.content
    assert not User.objects.filter(email="mallory@corp.example").exists()


def test_it_creates_nobody_when_just_in_time_is_off(provider, client, org, settings):
    settings.OIDC_CREATE_USERS = False
    sub = person(provider, email="nia@corp.example", groups=["cs"])
    response = sign_in(client, sub)
    assert response.status_code == 403
    assert b"OIDC_CREATE_USERS" in response.content
    assert not User.objects.filter(email="nia@corp.example").exists()


def test_it_refuses_a_deactivated_person(provider, client, org):
    org.csm_b.is_active = False
    org.csm_b.save()
    sub = person(provider, email="csm_b@example.com", groups=["cs"])
    response = sign_in(client, sub)
    assert response.status_code == 403
    assert b"deactivated" in response.content


# --- Forged, stale and refused answers --------------------------------------------------------


def test_a_forged_state_is_a_400_not_a_500(provider, client, org):
    callback = authorize(client, person(provider, email="x@corp.example", groups=["cs"]))
    query = parse_qs(urlsplit(callback).query)
    forged = f"/sso/callback/?code={query['code'][0]}&state=forged-state"
    response = client.get(forged)
    assert response.status_code == 400
    assert b"state mismatch" in response.content
    assert signed_in_as(client) is None
    # a browser that started no sign-in at all
    response = Client().get(callback)
    assert response.status_code == 400 and b"state mismatch" in response.content


def test_a_replayed_answer_is_refused(provider, client, org):
    callback = authorize(client, person(provider, email="y@corp.example", groups=["cs"]))
    assert client.get(callback).status_code == 302
    client.logout()
    response = client.get(callback)
    assert response.status_code == 400
    assert signed_in_as(client) is None


def test_a_code_the_provider_does_not_know_is_a_400(provider, client, org):
    callback = authorize(client, person(provider, email="z@corp.example", groups=["cs"]))
    state = parse_qs(urlsplit(callback).query)["state"][0]
    response = client.get(f"/sso/callback/?code=made-up&state={state}")
    assert response.status_code == 400
    assert b"refused the sign-in code" in response.content


@pytest.mark.parametrize("query", ["", "?state=abc", "?code=abc"])
def test_an_answer_without_code_or_state_is_a_400(provider, client, db, query):
    response = client.get(f"/sso/callback/{query}")
    assert response.status_code == 400


def test_a_refusal_at_the_provider_says_so(provider, client, db):
    start = client.get("/sso/login/")
    state = parse_qs(urlsplit(start["Location"]).query)["state"][0]
    response = client.get(f"/sso/callback/?error=access_denied&state={state}")
    assert response.status_code == 403
    assert b"access_denied" in response.content


def test_an_unreachable_provider_is_a_503(settings, client, db):
    from tests.processes import free_port

    settings.OIDC_ISSUER = f"http://127.0.0.1:{free_port()}"
    settings.OIDC_CLIENT_ID = "csrisk-tests"
    settings.OIDC_TIMEOUT_SECONDS = 2
    response = client.get("/sso/login/")
    assert response.status_code == 503
    assert response["Retry-After"]


def test_a_code_issued_to_another_client_is_refused(provider, client, org, settings):
    callback = authorize(client, person(provider, email="w@corp.example", groups=["cs"]))
    settings.OIDC_CLIENT_ID = "another-application"
    response = client.get(callback)
    assert response.status_code == 400
    assert signed_in_as(client) is None


@pytest.mark.parametrize(
    ("claims", "accepted"),
    [
        ({"aud": "csrisk-tests", "iss": "https://idp.example"}, True),
        ({"aud": "another-application", "iss": "https://idp.example"}, False),
        ({"aud": "csrisk-tests", "iss": "https://evil.example"}, False),
        ({"iss": "https://idp.example"}, False),
    ],
)
def test_the_id_token_must_name_this_application_and_the_issuer(settings, claims, accepted):
    """The library checks only the signature; a token minted for another application at
    the same provider, or by another issuer, must not sign anyone in."""
    import jwt
    from cryptography.hazmat.primitives.asymmetric import rsa
    from django.core.exceptions import SuspiciousOperation

    settings.OIDC_CLIENT_ID = "csrisk-tests"
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    token = jwt.encode({"sub": "s", "exp": 4102444800, **claims}, key, algorithm="RS256")
    backend = sso.SsoBackend()
    backend.issuer, backend.OIDC_RP_SIGN_ALGO = "https://idp.example", "RS256"
    backend.OIDC_RP_CLIENT_ID = "csrisk-tests"
    if accepted:
        assert backend._verify_jws(token, key.public_key())["sub"] == "s"
    else:
        with pytest.raises(SuspiciousOperation):
            backend._verify_jws(token, key.public_key())
    hs = jwt.encode(
        {"sub": "s", **claims}, "a-shared-secret-of-thirty-two-bytes!", algorithm="HS256"
    )
    with pytest.raises(SuspiciousOperation):  # not the configured algorithm
        backend._verify_jws(hs, "a-shared-secret-of-thirty-two-bytes!")


def test_a_mapped_lead_does_not_replace_a_teams_lead(provider, client, org):
    sign_in(client, person(provider, email="l2@corp.example", groups=["cs-leads", "team-a"]))
    org.team_a.refresh_from_db()
    assert org.team_a.lead == org.lead_a
    assert signed_in_as(client).team == org.team_a


# --- Password sign-in switched off; break-glass ---------------------------------------------


def test_password_sign_in_can_be_switched_off_but_for_the_superuser(provider, org, settings):
    settings.CSRISK_PASSWORD_LOGIN = False
    page = Client().get("/login/")
    assert b"Sign in with Okta" in page.content
    assert b'name="password"' not in page.content
    assert b"?local=1" in page.content
    assert b'name="password"' in Client().get("/login/?local=1").content

    csm = Client()
    refused = csm.post("/login/", {"username": "csm_a", "password": PASSWORD})
    assert refused.status_code == 200
    assert b"break-glass administrator only" in refused.content
    assert signed_in_as(csm) is None

    admin = Client()
    response = admin.post("/login/", {"username": "admin", "password": PASSWORD})
    assert response.status_code == 302
    assert signed_in_as(admin) == org.admin


def test_the_lockout_still_counts_refused_password_tries(provider, org, settings):
    settings.CSRISK_PASSWORD_LOGIN = False
    guesser = Client(REMOTE_ADDR="203.0.113.9")
    for _ in range(settings.AXES_FAILURE_LIMIT):
        guesser.post("/login/", {"username": "admin", "password": "wrong"})
    response = guesser.post("/login/", {"username": "admin", "password": PASSWORD})
    assert response.status_code == 429
    assert signed_in_as(guesser) is None


def test_a_locked_out_address_cannot_sign_in_through_the_provider_either(provider, org, settings):
    guesser = Client(REMOTE_ADDR="203.0.113.10")
    for i in range(settings.AXES_FAILURE_LIMIT):
        guesser.post("/login/", {"username": f"nobody{i}", "password": "wrong"})
    response = sign_in(guesser, person(provider, email="lock@corp.example", groups=["cs"]))
    assert response.status_code == 429
    assert signed_in_as(guesser) is None


def test_api_tokens_work_with_password_sign_in_off(provider, org, settings):
    settings.CSRISK_PASSWORD_LOGIN = False
    assert api(org.csm_a, token=True).get("/api/v1/accounts/").status_code == 200


# --- Logout --------------------------------------------------------------------------------


def test_logout_ends_the_session(provider, client, org):
    sign_in(client, person(provider, email="lo@corp.example", groups=["cs"]))
    assert client.get("/notifications/").status_code == 200
    assert client.get("/logout/").status_code == 405
    response = client.post("/logout/")
    assert response.status_code == 302 and response["Location"] == "/login/"
    assert signed_in_as(client) is None
    assert client.get("/notifications/").status_code == 302


def test_logout_can_end_the_session_at_the_provider_too(provider, client, org, settings):
    settings.OIDC_LOGOUT_AT_PROVIDER = True
    sign_in(client, person(provider, email="rp@corp.example", groups=["cs"]))
    response = client.post("/logout/")
    assert response.status_code == 302
    target = urlsplit(response["Location"])
    assert f"{target.scheme}://{target.netloc}" == provider.issuer
    query = parse_qs(target.query)
    assert query["post_logout_redirect_uri"] == ["http://testserver/login/"]
    assert query["client_id"] == ["csrisk-tests"] and query["id_token_hint"][0]
    assert signed_in_as(client) is None
    # the provider's end-session page answers for that request
    assert requests.get(response["Location"], timeout=10).status_code == 200


def test_a_password_session_logs_out_here_only(provider, org, settings):
    settings.OIDC_LOGOUT_AT_PROVIDER = True
    session = login(org.csm_a)
    response = session.post("/logout/")
    assert response["Location"] == "/login/"


def test_a_person_made_by_sso_gets_no_password_to_guess(provider, client, org):
    sign_in(client, person(provider, email="np@corp.example", groups=["cs"]))
    user = signed_in_as(client)
    other = Client()
    response = other.post("/login/", {"username": user.username, "password": ""})
    assert signed_in_as(other) is None
    assert response.status_code == 200
    assert User.objects.get(pk=user.pk).has_usable_password() is False
