"""Every response carries a Content-Security-Policy that runs only the site's own scripts,
and the pages need nothing more: no inline scripts, event handlers or style attributes,
and htmx never evaluates strings as code (issue 19)."""

from __future__ import annotations

import json
import re
from html.parser import HTMLParser
from pathlib import Path

import pytest
from django.conf import settings

from ctas import services as ctas
from tests.conftest import login

TEMPLATES = Path(settings.BASE_DIR) / "templates"
# Rendered into e-mails, never into a page a browser opens under the policy.
EMAIL_TEMPLATES = {"notifications/email.html"}


def policy(response) -> dict[str, list[str]]:
    header = response.get("Content-Security-Policy")
    assert header, f"no Content-Security-Policy on {response.request['PATH_INFO']}"
    directives = {}
    for part in header.split(";"):
        name, *sources = part.split()
        directives[name] = sources
    return directives


class InlineCode(HTMLParser):
    """Collects what a strict policy would block in an HTML page."""

    def __init__(self) -> None:
        super().__init__()
        self.found: list[str] = []
        self.meta: dict[str, str] = {}

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        values = dict(attrs)
        if tag == "script" and "src" not in values and values.get("type") != "application/json":
            self.found.append("<script> without src")
        if tag == "style":
            self.found.append("<style> element")
        if tag == "meta" and values.get("name"):
            self.meta[values["name"]] = values.get("content") or ""
        for name, value in attrs:
            if name.startswith("on") or name.startswith("hx-on"):
                self.found.append(f"{tag} {name}={value!r}")
            if name == "style":
                self.found.append(f"{tag} style={value!r}")
            if value and value.strip().lower().startswith("javascript:"):
                self.found.append(f"{tag} {name}={value!r}")


def inline_code(html: str) -> InlineCode:
    parser = InlineCode()
    parser.feed(html)
    return parser


def test_it_sends_a_strict_policy_with_every_page(org):
    response = login(org.csm_a).get("/accounts/")
    csp = policy(response)
    assert csp["default-src"] == ["'self'"]
    assert csp["script-src"] == ["'self'"]
    assert csp["object-src"] == ["'none'"]
    assert csp["base-uri"] == ["'self'"]
    assert csp["frame-ancestors"] == ["'none'"]
    assert csp["form-action"] == ["'self'"]
    # everything is served from static/: no other origin anywhere
    assert not [s for sources in csp.values() for s in sources if "//" in s or s == "*"]
    assert "'unsafe-inline'" not in csp["style-src"]


def test_it_sends_the_policy_on_the_login_page_and_errors(db, client):
    assert policy(client.get("/login/"))["script-src"] == ["'self'"]
    assert policy(client.get("/api/v1/nothing-here/"))["default-src"] == ["'self'"]


def test_it_configures_htmx_without_eval(org):
    page = inline_code(login(org.csm_a).get("/accounts/").content.decode())
    config = json.loads(page.meta["htmx-config"])
    assert config["allowEval"] is False
    assert config["allowScriptTags"] is False
    assert config["includeIndicatorStyles"] is False  # its injected <style> would be blocked


def _pages(org, account_a) -> list[tuple[object, str]]:
    cta = ctas.cta_create(account=account_a, by=org.csm_a, reason="Usage review", area="habits")
    csm, vp = login(org.csm_a), login(org.vp)
    return [
        (csm, "/accounts/"),
        (csm, f"/accounts/{account_a.pk}/"),
        (csm, f"/accounts/{account_a.pk}/edit/"),
        (vp, "/accounts/import/"),
        (csm, "/cockpit/"),
        (csm, f"/cockpit/ctas/{cta.pk}/"),
        (csm, f"/cockpit/ctas/{cta.pk}/work/"),
        (login(org.lead_a), "/cockpit/"),
        (vp, "/scorecards/"),
        (vp, "/scorecards/leadership/"),
        (vp, "/escalations/"),
        (vp, "/escalations/meetings/"),
        (vp, "/escalations/meetings/monday-leadership/"),
        (vp, "/summary/"),
        (vp, "/summary/backtest/"),
        (vp, "/sponsors/"),
        (vp, "/signals/"),
        (vp, "/signals/health/"),
        (vp, "/signals/segments/"),
        (vp, "/signals/unmatched/"),
        (vp, "/signals/upload/"),
        (vp, "/notifications/"),
        (vp, "/notifications/settings/"),
    ]


def test_it_serves_pages_that_need_no_inline_code(org, account_a):
    found = {}
    for client, path in _pages(org, account_a):
        response = client.get(path)
        assert response.status_code == 200, path
        page = inline_code(response.content.decode())
        if page.found:
            found[path] = page.found
    assert found == {}


def test_it_keeps_inline_code_out_of_every_template():
    """Partials are not all reached by the pages above; the templates themselves say."""
    patterns = {
        "inline <script>": re.compile(r"<script(?![^>]*\bsrc=)[^>]*>", re.I),
        "event handler": re.compile(r"\s(on[a-z]+|hx-on[:\w-]*)\s*=", re.I),
        "style attribute": re.compile(r"\sstyle\s*=", re.I),
        "<style> element": re.compile(r"<style[\s>]", re.I),
        "javascript: URL": re.compile(r"javascript:", re.I),
    }
    found = [
        f"{path.relative_to(TEMPLATES)}: {what}"
        for path in sorted(TEMPLATES.rglob("*.html"))
        if str(path.relative_to(TEMPLATES)) not in EMAIL_TEMPLATES
        for what, pattern in patterns.items()
        if pattern.search(re.sub(r"{#.*?#}", "", path.read_text()))  # not in comments
    ]
    assert found == []


def test_it_serves_the_api_docs_with_their_script_from_the_site(org):
    client = login(org.vp)
    response = client.get("/api/docs/")
    assert response.status_code == 200
    csp = policy(response)
    assert "'unsafe-inline'" not in csp["script-src"]
    assert "'unsafe-eval'" not in csp["script-src"]
    html = response.content.decode()
    assert not [f for f in inline_code(html).found if "script" in f]
    script = re.search(r'<script src="([^"]*\?[^"]*script[^"]*)"', html)
    assert script, "the Swagger UI set-up script is not loaded from the site"
    response = client.get(script.group(1).replace("&amp;", "&"))
    assert response.status_code == 200
    assert b"SwaggerUIBundle" in response.content


@pytest.mark.parametrize("path", ["/admin/", "/admin/csrisk/user/"])
def test_it_keeps_the_policy_on_the_admin(org, path):
    response = login(org.admin).get(path)
    assert response.status_code == 200
    assert policy(response)["script-src"] == ["'self'"]


def test_it_allows_inline_styles_on_the_browsable_api_only(org):
    client = login(org.vp)
    page = client.get("/api/v1/accounts/", HTTP_ACCEPT="text/html")
    assert page["Content-Type"].startswith("text/html")
    assert policy(page)["style-src"] == ["'self'", "'unsafe-inline'"]
    assert policy(page)["script-src"] == ["'self'"]
    data = client.get("/api/v1/accounts/")
    assert policy(data)["style-src"] == ["'self'"]
