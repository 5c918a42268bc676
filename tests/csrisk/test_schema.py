"""The OpenAPI schema is generated, validates, and documents errors; docs are served."""

from django.core.management import call_command

from tests.conftest import api, login


def test_it_generates_a_valid_schema_without_warnings(db, tmp_path):
    # --fail-on-warn turns any drf-spectacular warning into a failure; --validate checks
    # the result against the OpenAPI 3 JSON schema.
    call_command("spectacular", "--validate", "--fail-on-warn", "--file", str(tmp_path / "s.yml"))
    text = (tmp_path / "s.yml").read_text()
    assert "/api/v1/accounts/{id}/" in text
    assert "'403':" in text


def test_it_serves_schema_and_docs_to_authenticated_people(org):
    response = api(org.csm_a).get("/api/schema/", HTTP_ACCEPT="application/json")
    assert response.status_code == 200
    assert response.json()["openapi"].startswith("3.")
    docs = login(org.csm_a).get("/api/docs/")
    assert docs.status_code == 200
    assert b"cdn" not in docs.content.lower()


def test_it_needs_credentials_for_the_schema(db):
    assert api().get("/api/schema/").status_code == 401
