"""The users benchmarks/load.py drives with locust (run by it, in locust's own process:
locust monkey-patches with gevent at import, so nothing else imports this file).

- ``CsmUser``: csm1 logs in through the login form (password ``demo``) and reads the
  cockpit and the account list, a think time of 1–2 s between pages.
- ``IntegrationUser``: an integration token posts batches of ``LOAD_BATCH`` ticket
  signals to ``/api/v1/signals/`` with an Idempotency-Key, at most one batch a second.
  Every signal the API accepted is written to ``LOAD_ACCEPTED_FILE`` at the end, so the
  orchestrator can check that none was lost.

Configuration comes from the environment load.py sets: LOAD_TOKEN, LOAD_SOURCE,
LOAD_ACCOUNTS (comma-separated CRM ids), LOAD_BATCH, LOAD_ACCEPTED_FILE.
"""

from __future__ import annotations

import itertools
import json
import os
import re
from typing import Any

from locust import HttpUser, between, constant_throughput, events, task

TOKEN = os.environ.get("LOAD_TOKEN", "")
SOURCE = os.environ.get("LOAD_SOURCE", "load")
ACCOUNTS = [a for a in os.environ.get("LOAD_ACCOUNTS", "").split(",") if a]
BATCH = int(os.environ.get("LOAD_BATCH", "100"))
ACCEPTED_FILE = os.environ.get("LOAD_ACCEPTED_FILE", "")

accepted: set[str] = set()
batch_numbers = itertools.count()


class CsmUser(HttpUser):
    """A CSM working the cockpit and the account list in a browser session."""

    weight = 3
    wait_time = between(1, 2)

    def on_start(self) -> None:
        page = self.client.get("/login/", name="login")
        match = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', page.text)
        with self.client.post(
            "/login/",
            data={
                "username": "csm1",
                "password": "demo",
                "csrfmiddlewaretoken": match.group(1) if match else "",
            },
            name="login",
            catch_response=True,
        ) as response:
            if response.status_code != 200 or "/login/" in response.url:
                response.failure(f"login failed: {response.status_code} at {response.url}")

    @task(3)
    def cockpit(self) -> None:
        self._page("/cockpit/")

    @task(2)
    def accounts(self) -> None:
        self._page("/accounts/")

    def _page(self, path: str) -> None:
        with self.client.get(path, name=path, catch_response=True) as response:
            if response.status_code != 200 or "/login/" in response.url:
                response.failure(f"{response.status_code} at {response.url}")


class IntegrationUser(HttpUser):
    """A help desk pushing ticket signals in batches."""

    weight = 1
    wait_time = constant_throughput(1)

    @task
    def signals(self) -> None:
        n = next(batch_numbers)
        batch = [
            {
                "source": SOURCE,
                "external_id": f"{SOURCE}-{n}-{i}",
                "kind": "ticket",
                "account": {"external_id": ACCOUNTS[(n * BATCH + i) % len(ACCOUNTS)]},
                "occurred_at": "2026-10-01T09:30:00Z",
                "attributes": {"priority": "normal", "status": "open", "tags": ["load"]},
            }
            for i in range(BATCH)
        ]
        with self.client.post(
            "/api/v1/signals/",
            data=json.dumps(batch),
            headers={
                "Authorization": f"Token {TOKEN}",
                "Content-Type": "application/json",
                "Idempotency-Key": f"{SOURCE}-{n}",
            },
            name=f"/api/v1/signals/ ({BATCH} signals)",
            catch_response=True,
        ) as response:
            if response.status_code != 202:
                response.failure(f"{response.status_code}: {response.text[:200]}")
                return
            results: list[dict[str, Any]] = response.json()["results"]
            bad = [r for r in results if r["status"] != "accepted"]
            accepted.update(r["external_id"] for r in results if r["status"] == "accepted")
            if bad:
                response.failure(f"{len(bad)} not accepted, e.g. {bad[0]}")


@events.quitting.add_listener
def _write_accepted(**kwargs: Any) -> None:
    if ACCEPTED_FILE:
        with open(ACCEPTED_FILE, "w") as out:
            json.dump(sorted(accepted), out)
