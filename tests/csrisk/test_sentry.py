"""Sentry: on with SENTRY_DSN (Django and Celery integrations, no personal data), absent
without it. Each case runs the settings in a subprocess: the SDK patches Django globally."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]

PROBE = """
import json, sys
import django
django.setup()
if "sentry_sdk" not in sys.modules:
    print(json.dumps({"imported": False}))
    raise SystemExit
import sentry_sdk
from sentry_sdk.transport import Transport

class Stub(Transport):
    envelopes = []
    def capture_envelope(self, envelope):
        self.envelopes.append(envelope)

client = sentry_sdk.get_client()
client.transport = Stub(client.options)
try:
    raise ValueError("boom")
except ValueError:
    sentry_sdk.capture_exception()
sentry_sdk.flush()
event = Stub.envelopes[0].get_event()
print(json.dumps({
    "imported": True,
    "active": client.is_active(),
    "environment": client.options["environment"],
    "traces_sample_rate": client.options["traces_sample_rate"],
    "send_default_pii": client.options["send_default_pii"],
    "integrations": sorted(client.integrations),
    "event": event["exception"]["values"][0]["value"],
    "event_environment": event["environment"],
}))
"""


def probe(**env: str) -> dict:
    base = {k: v for k, v in os.environ.items() if not k.startswith("SENTRY_")}
    result = subprocess.run(
        [sys.executable, "-c", PROBE],
        cwd=ROOT,
        env={**base, "DEBUG": "1", "DJANGO_SETTINGS_MODULE": "csrisk.settings", **env},
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout.strip().splitlines()[-1])


@pytest.mark.slow
def test_it_neither_imports_nor_starts_sentry_without_a_dsn():
    assert probe() == {"imported": False}


@pytest.mark.slow
def test_it_starts_sentry_with_a_dsn_and_sends_no_personal_data():
    got = probe(
        SENTRY_DSN="https://public@sentry.example.invalid/1",
        SENTRY_ENVIRONMENT="staging",
        SENTRY_TRACES_SAMPLE_RATE="0.25",
    )
    assert got["active"] is True
    assert (got["environment"], got["traces_sample_rate"]) == ("staging", 0.25)
    assert got["send_default_pii"] is False
    assert {"django", "celery"} <= set(got["integrations"])
    # The event went to the stub transport, not over the network.
    assert (got["event"], got["event_environment"]) == ("boom", "staging")


@pytest.mark.slow
def test_it_samples_no_traces_by_default():
    got = probe(SENTRY_DSN="https://public@sentry.example.invalid/1")
    assert got["traces_sample_rate"] == 0.0
    assert got["environment"] == "development"  # DEBUG on
