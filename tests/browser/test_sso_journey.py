"""Single sign-on in a real browser (issue 21, docs/sso.md): a person new to csrisk clicks
"Sign in with Okta", authorises at a real OpenID Connect provider (its own process), and
lands on their role's working page with the role the provider's groups map to; logging out
ends the session here and at the provider."""

from __future__ import annotations

from playwright.sync_api import expect

from csrisk.models import SsoIdentity, User
from csrisk.roles import Role


def test_a_new_vp_signs_in_through_the_provider_and_lands_on_their_page(
    live_server, oidc_provider, settings, shot, transactional_db, page
):
    settings.OIDC_ISSUER = oidc_provider.issuer
    settings.OIDC_CLIENT_ID = "csrisk-browser"
    settings.OIDC_CLIENT_SECRET = "browser-secret"
    settings.OIDC_PROVIDER_NAME = "Okta"
    settings.OIDC_ROLE_MAP = "cs-vp=vp_cs,cs=csm"
    settings.OIDC_LOGOUT_AT_PROVIDER = True
    settings.CSRISK_PASSWORD_LOGIN = False
    # the policy settings.py builds when logout at the provider is on
    directives = settings.CONTENT_SECURITY_POLICY["DIRECTIVES"]
    settings.CONTENT_SECURITY_POLICY = {
        "DIRECTIVES": {
            **directives,
            "form-action": [*directives["form-action"], oidc_provider.issuer],
        }
    }
    oidc_provider.put_user(
        "vera", {"email": "vera@corp.example", "email_verified": True, "groups": ["cs-vp"]}
    )

    # the provider's pages link a stylesheet on a CDN; tests reach no other host
    page.route("https://**/*", lambda route: route.abort())
    page.goto(f"{live_server.url}/login/")
    expect(page.get_by_label("Password")).to_have_count(0)  # password sign-in is off
    shot(page, "login")
    page.get_by_role("button", name="Sign in with Okta").click()

    # the provider's own authorisation page
    page.wait_for_url(f"{oidc_provider.issuer}/oauth2/authorize*")
    page.get_by_placeholder("sub").fill("vera")
    shot(page, "provider")
    page.get_by_role("button", name="Authorize").click()

    page.wait_for_url(f"{live_server.url}/escalations/")
    first = page.locator("nav .nav-links a").first
    expect(first).to_have_text("Escalations")
    expect(first).to_have_attribute("aria-current", "page")
    shot(page, "landed")
    user = User.objects.get(email="vera@corp.example")
    assert user.role == Role.VP_CS
    assert SsoIdentity.objects.get(user=user).subject == "vera"

    page.get_by_role("button", name="Log out").click()
    # the provider asks to confirm the end of its session, then sends the browser back
    page.wait_for_url(f"{oidc_provider.issuer}/oauth2/end_session*")
    shot(page, "provider-logout")
    page.get_by_role("button", name="End session").click()
    page.wait_for_url(f"{live_server.url}/login/*")
    page.goto(f"{live_server.url}/escalations/")
    assert "/login/" in page.url
