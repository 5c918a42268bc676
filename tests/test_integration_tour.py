"""The integration tour (scripts/integration_tour.py, docs/integrations.md) runs every
integration once against a live server and exits 0 only when each step did what it
expects: SSO, Zendesk, Jira, CRM, HubSpot, Segment, REST, CSV, a flag turning an account
red (signed outbound webhook, Teams card) and a calendar feed."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path
from urllib.parse import urlsplit

import pytest

ROOT = Path(__file__).resolve().parents[1]
STEPS = (
    "Single sign-on", "Zendesk", "Jira", "CRM", "HubSpot", "Segment", "REST batch",
    "CSV import", "signed outbound webhook and a Teams card", "Calendar feed",
    "over the API; logs and metrics",
)  # fmt: skip


def tour_database() -> str | None:
    """On PostgreSQL, a database of the tour's own beside the suite's (the tour drops and
    creates it); on SQLite none: the tour makes a temporary file."""
    url = os.environ.get("DATABASE_URL", "")
    if not url.startswith(("postgres://", "postgresql://")):
        return None
    parts = urlsplit(url)
    return url.replace(parts.path, f"{parts.path}_tour", 1)


@pytest.mark.slow
def test_the_tour_runs_every_integration_once_and_passes(tmp_path):
    env = {k: v for k, v in os.environ.items() if k not in ("DATABASE_URL", "REDIS_URL")}
    database = tour_database()
    if database:
        env["DATABASE_URL"] = database
    out = tmp_path / "tour.md"
    result = subprocess.run(
        [sys.executable, "scripts/integration_tour.py", "--out", str(out), "--accounts", "8"],
        cwd=ROOT, env=env, capture_output=True, text=True, timeout=900,
    )  # fmt: skip
    assert result.returncode == 0, result.stdout[-6000:] + result.stderr[-3000:]
    transcript = out.read_text()
    assert transcript == result.stdout
    for n, name in enumerate(STEPS, start=1):
        assert f"## {n}. " in transcript and name in transcript, name
    assert f"All {len(STEPS)} steps passed" in transcript
    # Secrets never reach the transcript.
    assert "tour-" + "zendesk-secret" not in transcript
    assert "tour-" + "metrics-token" not in transcript
    assert not re.search(r"whsec_[A-Za-z0-9+/=]{20}", transcript)


def test_a_failing_step_exits_non_zero_and_says_which(tmp_path):
    """The tour's checks are real: a failed expectation is exit 1 with the reason."""
    sys.path.insert(0, str(ROOT / "scripts"))
    try:
        import integration_tour
    finally:
        sys.path.remove(str(ROOT / "scripts"))
    with pytest.raises(integration_tour.TourFailed, match="the webhook's signature"):
        integration_tour.check(False, "the webhook's signature")
    assert integration_tour.elide("X-Signature", "0123456789abcdef") == "0123456789…(elided)"
    assert '"secret": "whsec_abcd…(elided)"' in integration_tour.excerpt(
        b'{"secret": "whsec_abcdefghijklmnop"}'
    )
