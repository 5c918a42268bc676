"""API fuzzing: schemathesis against the live OpenAPI schema, every operation, its default
checks (no 5xx, responses match the schema, invalid input refused with a 4xx); the native
webhooks documented by their tools' fields (signals/api/schemas.py). Then, in process,
hostile values in every field of each webhook's real payload (hypothesis).

Bounded by the test profile (tests/profile.py: CSRISK_TEST_PROFILE=ci in .ci/run adds the
coverage phase and draws more examples; CSRISK_FUZZ_EXAMPLES overrides the examples per
operation and phase) and seeded by CSRISK_FUZZ_SEED (fixed by default, "random" to
explore). Settings that explain why a documented 400 counts as an answer live in
schemathesis.toml.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as hs

from accounts.models import Account, Ticket
from csrisk import tokens
from ctas import services as ctas
from signals.api import schemas
from signals.models import Signal
from tests import profile
from tests.conftest import api
from tests.factories import AccountFactory
from tests.signals.conftest import committing

ROOT = Path(__file__).resolve().parents[1]
ST = shutil.which("st", path=str(Path(sys.executable).parent)) or shutil.which("st")


def _schemathesis(live_server, token: str, *extra: str) -> None:
    # A fixed seed keeps a run reproducible (the same cases on every machine and in CI);
    # CSRISK_FUZZ_SEED=random explores new ones.
    seed = os.environ.get("CSRISK_FUZZ_SEED", "20261122")
    command = [
        ST,
        "--config-file",
        str(ROOT / "schemathesis.toml"),
        "run",
        f"{live_server.url}/api/schema/",
        "--header",
        f"Authorization: Token {token}",
        "--max-examples",
        str(profile.fuzz_examples()),
        "--phases",
        profile.fuzz_phases(),
        "--workers",
        "1",
        "--request-timeout",
        "60",
        "--warnings=off",
        # Revoking a token could revoke the one the fuzzer authenticates with, and every
        # later request would be a 401 (tests/csrisk/test_tokens.py covers revoking).
        "--exclude-path-regex",
        "/tokens/.*/revoke/",
        *(["--seed", seed] if seed != "random" else []),
        *extra,
    ]
    result = subprocess.run(
        command, capture_output=True, text=True, timeout=1500, cwd=ROOT, check=False
    )
    summary = result.stdout[-6000:]
    print(summary)
    assert result.returncode == 0, summary


@pytest.mark.skipif(ST is None, reason="schemathesis is not installed (make install adds it)")
@pytest.mark.slow
def test_the_api_survives_fuzzing(live_server, org, transactional_db, settings):
    # Schemathesis probes every operation with an invalid token on purpose (ignored_auth);
    # the failed-token throttle would answer those, and then everything, with 429.
    settings.CSRISK_API_AUTH_FAILURE_LIMIT = 1_000_000
    # Some real objects, so that not every generated id is a 404.
    for i in range(3):
        account = AccountFactory(owner=org.csm_a, name=f"Fuzz {i}", tier="enterprise")
        cta = ctas.cta_create(account=account, by=org.csm_a, reason="Usage", area="habits")
        ctas.cta_flag(cta=cta, by=org.csm_a, reason="Help")
    _schemathesis(live_server, tokens.token_create(user=org.vp, by=None)[1])


@pytest.mark.skipif(ST is None, reason="schemathesis is not installed (make install adds it)")
@pytest.mark.slow
def test_the_ingestion_endpoints_survive_fuzzing_as_an_integration(
    live_server, org, transactional_db, settings
):
    """The batch and the native webhooks as the integration user sees them (the user that
    pushes signals), with payloads shaped like each tool's (signals/api/schemas.py)."""
    AccountFactory(owner=org.csm_a, crm_id="0015g00000XyZ12AAB", helpdesk_org_id="8447346622462")
    settings.CSRISK_API_AUTH_FAILURE_LIMIT = 1_000_000  # as above
    token = tokens.token_create(user=org.integration, by=None)[1]
    _schemathesis(live_server, token, "--include-path-regex", "^/api/v1/(webhooks|signals)/")


# --- the native webhooks, in process: one field of a real payload at a time ------------------
# (The schemathesis run above covers them too, from their documented request schemas; this
# reaches every field of each tool's own example with hostile values: wrong types, text
# PostgreSQL cannot store, deep nesting.)

HOSTILE_TEXT = ["ok\udc00", "\ud800", "a\x00b", "", " ", "x" * 400, "zen:event-type:ticket.x"]
JSON_VALUES = hs.recursive(
    hs.none()
    | hs.booleans()
    | hs.integers(min_value=-(10**30), max_value=10**30)
    | hs.floats(allow_nan=False)
    | hs.text(max_size=20)
    | hs.sampled_from(HOSTILE_TEXT),
    lambda inner: hs.lists(inner, max_size=3) | hs.dictionaries(hs.text(max_size=8), inner),
    max_leaves=6,
)
WEBHOOKS = {
    "zendesk": schemas.ZENDESK_EXAMPLE,
    "jira": schemas.JIRA_EXAMPLE,
    "crm": schemas.CRM_EXAMPLE,
}


def _paths(value: Any, prefix: tuple = ()) -> list[tuple]:
    """Every place in a payload a value can be put: each key and index, nested."""
    out = [prefix] if prefix else []
    if isinstance(value, dict):
        for key, inner in value.items():
            out += _paths(inner, (*prefix, key))
    elif isinstance(value, list):
        for index, inner in enumerate(value):
            out += _paths(inner, (*prefix, index))
    return out


def _replaced(payload: Any, path: tuple, value: Any) -> Any:
    payload = json.loads(json.dumps(payload))
    place = payload
    for step in path[:-1]:
        place = place[step]
    place[path[-1]] = value
    return payload


CASES = hs.sampled_from(sorted(WEBHOOKS)).flatmap(
    lambda tool: hs.tuples(hs.just(tool), hs.sampled_from(_paths(WEBHOOKS[tool])), JSON_VALUES)
)


@settings(
    max_examples=profile.examples(ci=200),
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(case=CASES)
def test_the_webhooks_answer_every_native_payload_with_a_reason(
    org, django_capture_on_commit_callbacks, case
):
    tool, path, value = case
    client = committing(api(org.integration, token=True), django_capture_on_commit_callbacks)
    payload = _replaced(WEBHOOKS[tool], path, value)
    response = client.post(
        f"/api/v1/webhooks/{tool}/", data=json.dumps(payload), content_type="application/json"
    )
    assert response.status_code in (202, 400), (path, value, response.content[:300])
    body = response.json()
    if response.status_code == 400:
        assert body["detail"]
    for result in body.get("results", []):
        if result["status"] == "rejected":
            assert result["reason"]
    # Whatever was accepted was processed: nothing acceptable ends failed.
    assert not Signal.objects.filter(status="failed").exists()


@settings(
    max_examples=profile.examples(ci=100),
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(
    path=hs.sampled_from(_paths(schemas.ZENDESK_EXAMPLE["detail"])).filter(lambda p: p != ("id",)),
    value=JSON_VALUES,
)
def test_one_bad_zendesk_ticket_never_costs_the_others(
    org, django_capture_on_commit_callbacks, path, value
):
    if not Account.objects.filter(helpdesk_org_id="8447346622462").exists():  # first example
        AccountFactory(owner=org.csm_a, helpdesk_org_id="8447346622462")
    client = committing(api(org.integration, token=True), django_capture_on_commit_callbacks)
    good = schemas.ZENDESK_EXAMPLE["detail"]
    bad = _replaced({**good, "id": "bad"}, path, value)
    tickets = [{**good, "id": "g1"}, bad, {**good, "id": "g2"}]
    response = client.post(
        "/api/v1/webhooks/zendesk/",
        data=json.dumps({"tickets": tickets}),
        content_type="application/json",
    )
    assert response.status_code == 202, response.content[:300]
    results = response.json()["results"]
    assert results[0]["status"] in ("accepted", "duplicate")
    assert results[2]["status"] in ("accepted", "duplicate")
    assert set(Ticket.objects.values_list("external_id", flat=True)) >= {"g1", "g2"}
    assert not Signal.objects.filter(status="failed").exists()
