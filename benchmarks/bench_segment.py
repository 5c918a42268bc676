"""Segment webhook events/s: the daily usage rollup against a raw insert of the events.

- (a) baseline ``raw INSERT``: each event stored as one row (message id, user, event name,
  time and the call as JSON) by multi-row INSERTs of 1,000 into a bare table without
  indexes: what keeping raw events would cost, and what the rollup must not fall far
  behind.
- (b) ``segment_rollup_service``: ``signals.services.usage_record`` on batches of 1,000
  parsed calls, in process: the de-duplication store (``SeenMessage``), the user→group
  lookups, the distinct-user rows and the two upserts, each batch in its transaction.
- (c) ``segment_webhook_http``: ``POST /api/v1/webhooks/segment/`` with signed batches of
  1,000 calls (the Webhooks (Actions) destination's default batch size) to gunicorn with
  ONE sync worker, one client: events/s per web process, signature, JSON parsing and
  throttling included. Goal >= 2,000 events/s.

The calls: ``BENCH_SEGMENT_EVENTS`` (default 60,000) track and identify calls of 20,000
users in 1,000 accounts (their group calls sent first, not timed), 5 event names of which
3 are key features, all on today's date. Each way gets its own message ids.
"""

from __future__ import annotations

import hashlib
import hmac
import http.client
import json
import os
import random
import subprocess
import sys

from _common import ROOT, emit, figure, free_port, setup_django, timed, wait_port

EVENTS = int(os.environ.get("BENCH_SEGMENT_EVENTS", 60_000))
ACCOUNTS = 1000
USERS = 20_000
BATCH = 1000
SECRET = "bench-segment-secret"
NAMES = ["Report Exported", "Dashboard Shared", "Alert Created", "Page Scrolled", "Login"]


def calls(prefix: str, today: str) -> list[dict]:
    rng = random.Random(7)
    out = []
    for n in range(EVENTS):
        user = f"u{rng.randrange(USERS)}"
        kind = "identify" if n % 10 == 0 else "track"
        out.append(
            {
                "type": kind,
                "userId": user,
                "messageId": f"{prefix}-{n}",
                "timestamp": f"{today}T{n % 24:02d}:{n % 60:02d}:00.000Z",
                **({"event": rng.choice(NAMES), "properties": {"n": n}} if kind == "track" else {}),
                "context": {"library": {"name": "analytics-node", "version": "6.0.0"}},
            }
        )
    return out


def main() -> None:
    vendor = setup_django()
    from django.conf import settings
    from django.db import connection

    from accounts.models import Account
    from csrisk import clock
    from signals import adapters, services

    if vendor != "postgresql":
        print("bench_segment needs PostgreSQL (DATABASE_URL)")
        emit([])
        return
    settings.CSRISK_USAGE_KEY_FEATURES = NAMES[:3]
    today = clock.today().isoformat()
    Account.objects.bulk_create(
        [Account(name=f"Seg {i}", crm_id=f"SEG-{i:04d}") for i in range(ACCOUNTS)]
    )
    groups = [
        {"type": "group", "userId": f"u{u}", "groupId": f"SEG-{u % ACCOUNTS:04d}",
         "messageId": f"g-{u}", "timestamp": f"{today}T00:00:00.000Z"}
        for u in range(USERS)
    ]  # fmt: skip
    for lo in range(0, USERS, 4000):
        services.usage_record(adapters.segment_calls(groups[lo : lo + 4000]), source="segment")

    # (a) raw INSERT, one row per event
    raw = calls("raw", today)
    with connection.cursor() as cursor:
        cursor.execute(
            "CREATE UNLOGGED TABLE IF NOT EXISTS bench_raw_events (message_id text, "
            "user_id text, event text, ts timestamptz, body jsonb)"
        )
        cursor.execute("TRUNCATE bench_raw_events")
    rows = [
        (c["messageId"], c["userId"], c.get("event", ""), c["timestamp"], json.dumps(c))
        for c in raw
    ]

    def insert() -> None:
        with connection.cursor() as cursor:
            for lo in range(0, len(rows), BATCH):
                chunk = rows[lo : lo + BATCH]
                cursor.execute(
                    "INSERT INTO bench_raw_events VALUES "
                    + ", ".join(["(%s, %s, %s, %s, %s)"] * len(chunk)),
                    [v for row in chunk for v in row],
                )

    raw_s, _ = timed(insert)
    raw_rate = EVENTS / raw_s

    # (b) the rollup service in process
    svc = calls("svc", today)

    def rollup() -> int:
        done = 0
        for lo in range(0, EVENTS, BATCH):
            parsed = adapters.segment_calls(json.loads(json.dumps(svc[lo : lo + BATCH])))
            done += services.usage_record(parsed, source="segment").accepted
        return done

    svc_s, done = timed(rollup)
    assert done == EVENTS, done
    svc_rate = EVENTS / svc_s

    # (c) HTTP, one gunicorn sync worker
    connection.close()
    port = free_port()
    env = {
        **os.environ,
        "SEGMENT_WEBHOOK_SECRET": SECRET,
        "CSRISK_USAGE_KEY_FEATURES": ",".join(NAMES[:3]),
        "CSRISK_SIGNALS_RATE": "100000/minute",
        "DEBUG": "1",
    }
    web = subprocess.Popen(
        [sys.executable, "-m", "gunicorn", "csrisk.wsgi:application", "--workers", "1",
         "--bind", f"127.0.0.1:{port}", "--timeout", "120"],
        cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )  # fmt: skip
    try:
        wait_port(port)
        http_calls = calls("http", today)
        bodies = [
            json.dumps(http_calls[lo : lo + BATCH]).encode() for lo in range(0, EVENTS, BATCH)
        ]
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=300)

        def post(body: bytes) -> dict:
            sig = hmac.new(SECRET.encode(), body, hashlib.sha1).hexdigest()
            conn.request(
                "POST", "/api/v1/webhooks/segment/", body=body,
                headers={"Content-Type": "application/json", "X-Signature": sig},
            )  # fmt: skip
            response = conn.getresponse()
            data = json.loads(response.read())
            assert response.status == 202, (response.status, str(data)[:300])
            return data

        post(json.dumps([{**http_calls[0], "messageId": "warm"}]).encode())  # warm up

        def send_all() -> int:
            return sum(post(body)["accepted"] for body in bodies)

        http_s, accepted = timed(send_all)
        assert accepted == EVENTS, accepted
        http_rate = EVENTS / http_s
        # A replay of the same batches counts nothing.
        replay = post(bodies[0])
        assert (replay["accepted"], replay["duplicates"]) == (0, BATCH), replay
    finally:
        web.terminate()
        web.wait(timeout=15)
    with open("/proc/loadavg") as f:
        load = f.read().split()[:3]
    base = "raw INSERT of each event as a row (multi-row INSERTs of 1,000, no indexes)"
    emit(
        [
            figure("segment_rollup_service", svc_rate, "events/s", base, raw_rate,
                   ">= 2000 events/s", svc_rate >= 2000, loadavg=" ".join(load)),
            figure("segment_webhook_http", http_rate, "events/s", base, raw_rate,
                   ">= 2000 events/s per web process", http_rate >= 2000,
                   loadavg=" ".join(load), workers=1, batch=BATCH),
        ]
    )  # fmt: skip
    print(f"load average at the end: {' '.join(load)}", file=sys.stderr)


if __name__ == "__main__":
    main()
