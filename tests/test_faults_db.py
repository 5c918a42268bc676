"""PostgreSQL stops and starts again under gunicorn while signals keep arriving.

A PostgreSQL cluster of the test's own (initdb on a free port, as the 'postgres' OS user),
migrated; gunicorn with 2 workers, a redis-server and a real Celery worker of its own
against it. Two clients send batches of 100 signals continuously and honour 503 +
Retry-After by resending the same batch with the same Idempotency-Key. Mid-run the
cluster is stopped with ``pg_ctl stop -m immediate`` (a crash), kept down a few seconds,
and started again (crash recovery). While it is down the API answers 503 with
Retry-After and never a 500, a page 503 too, /readyz is not ready. Afterwards, with no
manual step, the clients finish, and every signal the API accepted is stored once and
processed: nothing missing, nothing doubled.

Needs what the other real-worker tests need (DATABASE_URL on PostgreSQL, REDIS_URL;
.ci/run provides both) plus PostgreSQL's server binaries and redis-server; otherwise it
is skipped with the reason. It never touches the shared PostgreSQL or Redis.
"""

from __future__ import annotations

import http.cookiejar
import json
import re
import shutil
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.parse
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
from django.conf import settings

from csrisk.celery import app as celery_app
from tests.processes import (
    ROOT,
    PostgresCluster,
    Services,
    free_port,
    postgres_missing,
    reset_producer,
    start_gunicorn,
    stop,
    use_broker,
)

CLIENTS = 2
BATCHES_PER_CLIENT = 40
BATCH = 100
ACCOUNTS = 20
DOWN_SECONDS = 4
RETRY_AFTER = 1  # seconds the app asks for (CSRISK_RETRY_AFTER_SECONDS), so the test is short

pytestmark = [
    pytest.mark.services,
    pytest.mark.skipif(
        not (settings.REDIS_URL and settings.DATABASE_URL.startswith(("postgres", "pgsql"))),
        reason="needs PostgreSQL (DATABASE_URL) and Redis (REDIS_URL); .ci/run provides both",
    ),
    pytest.mark.skipif(shutil.which("redis-server") is None, reason="needs redis-server"),
    pytest.mark.skipif(postgres_missing() is not None, reason=str(postgres_missing())),
]

SETUP = """
from csrisk import tokens
from accounts.models import Account
from csrisk.models import User
from csrisk.roles import Role
from signals.models import SignalRule

SignalRule.objects.update(active=False)  # CTAs are not what this test is about
bot = User.objects.create(username="faults-bot", role=Role.INTEGRATION)
person = User.objects.create_user("faults-vp", password="faults-pw", role=Role.VP_CS)
for i in range(%d):
    Account.objects.create(name=f"Faults {i}", crm_id=f"FA-{i}", owner=person)
print("TOKEN", tokens.token_create(user=bot, by=None)[1])
"""


@dataclass
class Tally:
    """What the clients saw."""

    accepted: set[str] = field(default_factory=set)
    unavailable: int = 0  # 503 answers
    retries: int = 0
    missing_retry_after: int = 0
    other: list[str] = field(default_factory=list)  # anything else: a 500, a refused socket
    lock: threading.Lock = field(default_factory=threading.Lock)


def _batch(client: int, n: int) -> list[dict[str, Any]]:
    first = (client * BATCHES_PER_CLIENT + n) * BATCH
    return [
        {
            "source": "faults",
            "external_id": f"F-{i}",
            "kind": "ticket",
            "account": {"external_id": f"FA-{i % ACCOUNTS}"},
            "occurred_at": "2026-10-01T09:30:00Z",
            "attributes": {"priority": "normal", "status": "open"},
        }
        for i in range(first, first + BATCH)
    ]


def _send(base: str, token: str, client: int, tally: Tally, sent: list[int]) -> None:
    """One client: every batch until it is accepted, honouring 503 + Retry-After."""
    for n in range(BATCHES_PER_CLIENT):
        body = json.dumps(_batch(client, n)).encode()
        key = f"faults-{client}-{n}"
        for attempt in range(200):
            request = urllib.request.Request(
                f"{base}/api/v1/signals/",
                data=body,
                method="POST",
                headers={
                    "Authorization": f"Token {token}",
                    "Content-Type": "application/json",
                    "Idempotency-Key": key,
                },
            )
            try:
                with urllib.request.urlopen(request, timeout=60) as response:
                    answer = json.loads(response.read())
                    code = response.status
            except urllib.error.HTTPError as exc:
                code, answer = exc.code, None
                retry_after = exc.headers.get("Retry-After")
                exc.read()
            except OSError as exc:
                with tally.lock:
                    tally.other.append(f"batch {key}: {exc!r}")
                return
            if code == 202:
                with tally.lock:
                    tally.accepted.update(
                        r["external_id"]
                        for r in answer["results"]
                        if r["status"] in ("accepted", "duplicate")
                    )
                    tally.retries += attempt
                break
            with tally.lock:
                if code != 503:
                    tally.other.append(f"batch {key}: HTTP {code}")
                    return
                tally.unavailable += 1
                if not retry_after:
                    tally.missing_retry_after += 1
            time.sleep(float(retry_after or RETRY_AFTER))
        else:
            with tally.lock:
                tally.other.append(f"batch {key}: never accepted")
            return
        sent[client] = n + 1


def _get(opener: urllib.request.OpenerDirector, url: str) -> tuple[int, dict[str, str], str]:
    try:
        with opener.open(url, timeout=30) as response:
            return response.status, dict(response.headers), response.read().decode()
    except urllib.error.HTTPError as exc:
        return exc.code, dict(exc.headers), exc.read().decode()


def _log_in(base: str) -> urllib.request.OpenerDirector:
    """A browser session of a person, through the login form."""
    jar = http.cookiejar.CookieJar()
    opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(jar))
    _, _, page = _get(opener, f"{base}/login/")
    csrf = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', page)
    assert csrf, page[:500]
    form = urllib.parse.urlencode(
        {"username": "faults-vp", "password": "faults-pw", "csrfmiddlewaretoken": csrf.group(1)}
    ).encode()
    request = urllib.request.Request(
        f"{base}/login/", data=form, headers={"Referer": f"{base}/login/"}
    )
    with opener.open(request, timeout=30) as response:
        assert "/login/" not in response.url, "login failed"
    return opener


def _wait(predicate: Any, timeout: float, every: float = 0.5) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(every)
    return bool(predicate())


def test_it_answers_503_while_postgresql_restarts_and_loses_nothing(tmp_path: Path) -> None:
    pg = PostgresCluster()
    svc: Services | None = None
    server: subprocess.Popen | None = None
    web_log = open(tmp_path / "gunicorn.log", "w+")  # noqa: SIM115
    previous = (celery_app.conf.broker_url, celery_app.conf.task_always_eager)
    tally = Tally()
    down: dict[str, Any] = {}
    try:
        pg.init()
        pg.start()
        pg.create_database()
        svc = Services(tmp_path, pg.url)
        env = svc.env(
            CSRISK_RETRY_AFTER_SECONDS=str(RETRY_AFTER),
            CSRISK_SIGNALS_RATE="100000/minute",  # the rate limit is not under test
        )
        manage = [sys.executable, "manage.py"]
        migrate = subprocess.run(
            [*manage, "migrate", "--noinput"], cwd=ROOT, env=env, capture_output=True, text=True
        )
        assert migrate.returncode == 0, migrate.stderr[-3000:]
        setup = subprocess.run(
            [*manage, "shell", "-c", SETUP % ACCOUNTS],
            cwd=ROOT,
            env=env,
            capture_output=True,
            text=True,
        )
        assert setup.returncode == 0, setup.stderr[-3000:]
        token = re.search(r"TOKEN (\S+)", setup.stdout).group(1)  # type: ignore[union-attr]

        svc.start_redis()
        use_broker(svc.url)
        svc.start_worker()
        port = free_port()
        server = start_gunicorn(env, port, web_log)
        base = f"http://127.0.0.1:{port}"
        browser = _log_in(base)
        assert _get(browser, f"{base}/accounts/")[0] == 200

        sent = [0] * CLIENTS
        clients = [
            threading.Thread(target=_send, args=(base, token, c, tally, sent), daemon=True)
            for c in range(CLIENTS)
        ]
        for thread in clients:
            thread.start()
        assert _wait(lambda: sum(sent) >= 10 or bool(tally.other), 60), "nothing was accepted"

        # The crash: PostgreSQL dies mid-run (in-flight transactions are cut) and stays down.
        pg.stop("immediate")
        down["accepted_before"] = len(tally.accepted)
        down["page"] = _get(browser, f"{base}/accounts/")
        down["ready"] = _get(browser, f"{base}/readyz")
        down["api_get"] = _get(browser, f"{base}/api/v1/accounts/")
        time.sleep(DOWN_SECONDS)
        down["unavailable"] = tally.unavailable
        pg.start()  # crash recovery, then it accepts connections again

        for thread in clients:
            thread.join(timeout=120)
        assert not any(t.is_alive() for t in clients), "the clients did not finish"
        after_page = _get(browser, f"{base}/accounts/")[0]
        after_ready = _get(browser, f"{base}/readyz")[0]

        def processed() -> bool:
            # What beat's sweeper does every 30 s, every few seconds here.
            celery_app.send_task("signals.tasks.sweep_signals_task")
            stored, done = pg.query(
                "SELECT count(*), count(*) FILTER (WHERE status = 'processed') "
                "FROM signals_signal WHERE source = 'faults'"
            )
            return stored == done == len(tally.accepted)

        drained = _wait(processed, 90, every=2)
        assert drained, f"not everything was processed; worker log:\n{svc.log_tail()}"
        stored, done, distinct = pg.query(
            "SELECT count(*), count(*) FILTER (WHERE status = 'processed'), "
            "count(DISTINCT external_id) FROM signals_signal WHERE source = 'faults'"
        )
        tickets, distinct_tickets = pg.query(
            "SELECT count(*), count(DISTINCT external_id) FROM accounts_ticket "
            "WHERE source = 'faults'"
        )
        stored_ids = {
            row[0]
            for row in pg.rows("SELECT external_id FROM signals_signal WHERE source = 'faults'")
        }
    finally:
        stop(server)
        if svc is not None:
            svc.stop()
        celery_app.conf.broker_url, celery_app.conf.task_always_eager = previous
        reset_producer()
        web_log.seek(0)
        gunicorn_output = web_log.read()
        web_log.close()
        pg_output = pg.log_tail()
        pg.destroy()

    total = CLIENTS * BATCHES_PER_CLIENT * BATCH
    print(
        f"\nfaults: PostgreSQL stopped (immediate) after {down['accepted_before']} accepted, "
        f"down {DOWN_SECONDS} s; {len(tally.accepted)} accepted, {tally.unavailable} 503s seen "
        f"({down['unavailable']} while down), {tally.retries} retries, {stored} stored, "
        f"{done} processed, {tickets} tickets, 0 missing, 0 doubled"
    )
    assert not tally.other, f"{tally.other[:5]}\ngunicorn:\n{gunicorn_output[-3000:]}"
    # While it was down: 503 + Retry-After everywhere, readiness off, never a 500.
    page_code, page_headers, page_body = down["page"]
    assert page_code == 503, (page_code, page_body[:300], pg_output)
    assert page_headers.get("Retry-After") == str(RETRY_AFTER)
    assert "temporarily unavailable" in page_body
    assert down["ready"][0] == 503 and down["ready"][1].get("Retry-After") == str(RETRY_AFTER)
    assert down["api_get"][0] == 503 and json.loads(down["api_get"][2])["detail"]
    assert down["unavailable"] >= 1 and tally.retries >= 1
    assert tally.missing_retry_after == 0
    # Afterwards, with no manual step: pages and readiness are back, nothing lost or doubled.
    assert after_page == 200 and after_ready == 200
    assert len(tally.accepted) == total
    assert stored_ids == tally.accepted  # nothing missing
    assert stored == distinct == done == total
    assert tickets == distinct_tickets == total
