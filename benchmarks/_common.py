"""Helpers for benchmark scripts: a throwaway database, timing, and the figure format."""

from __future__ import annotations

import io
import json
import os
import socket
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]


def setup_django() -> str:
    """Point Django at a fresh database (a temp SQLite file, or DATABASE_URL's server)."""
    sys.path.insert(0, str(ROOT))
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "csrisk.settings")
    os.environ.setdefault("DEBUG", "1")
    if not os.environ.get("DATABASE_URL"):
        os.environ["SQLITE_PATH"] = str(Path(tempfile.mkdtemp()) / "bench.sqlite3")
    import django

    django.setup()
    from django.core.management import call_command
    from django.db import connection

    call_command(
        "flush", "--noinput", verbosity=0
    ) if connection.vendor == "postgresql" and _has_tables() else None
    call_command("migrate", "--noinput", verbosity=0)
    return connection.vendor


def restore_configuration() -> None:
    """A flush (a re-run on the same scratch database) empties the configuration the data
    migrations installed; put it back as the browser tests do."""
    import importlib

    from django.apps import apps

    for module, function in (
        ("scorecards.migrations.0002_default_areas", "seed"),
        ("scorecards.migrations.0004_default_measures", "seed"),
        ("ctas.migrations.0003_default_playbooks", "seed"),
        ("escalation.migrations.0003_defaults", "forwards"),
        ("signals.migrations.0003_default_rules", "seed"),
    ):
        getattr(importlib.import_module(module), function)(apps, None)


def _has_tables() -> bool:
    from django.db import connection

    return "accounts_account" in connection.introspection.table_names()


def timed(fn: Callable[[], Any]) -> tuple[float, Any]:
    start = time.perf_counter()
    result = fn()
    return time.perf_counter() - start, result


def figure(
    name: str,
    value: float,
    unit: str,
    baseline: str,
    baseline_value: float,
    goal: str,
    met: bool,
    ratio: float | None = None,
    **extra: Any,
) -> dict[str, Any]:
    """One measurement in the CONTRACT format, with the engine it ran on (``database``)."""
    from django.db import connection

    if ratio is None:
        ratio = value / baseline_value if baseline_value else float("inf")
    extra.setdefault("database", connection.vendor)
    return {
        "name": name,
        "value": round(value, 3),
        "unit": unit,
        "baseline": baseline,
        "baseline_value": round(baseline_value, 3),
        "ratio": round(ratio, 3),
        "goal": goal,
        "met": bool(met),
        **extra,
    }


def emit(figures: list[dict[str, Any]]) -> None:
    print("BENCH-RESULT " + json.dumps(figures))


def skip(name: str, why: str) -> None:
    """Say that a figure is not measured on this engine, and why (run.py shows it)."""
    print(f"BENCH-SKIP {name}: {why}", flush=True)


def free_port() -> int:
    """A TCP port on 127.0.0.1 nobody listens on (for the servers a benchmark starts)."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_port(port: int, timeout: float = 30) -> None:
    """Wait until something listens on 127.0.0.1:``port``."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            socket.create_connection(("127.0.0.1", port), timeout=0.2).close()
            return
        except OSError:
            time.sleep(0.2)
    raise RuntimeError(f"nothing listens on {port}")


SIGNAL_COPY_COLUMNS = (
    "source, external_id, month, kind, account_id, org_ref, occurred_at, source_updated_at, "
    "received_at, payload, digest, version, status, processed_version, error, "
    "sent_via, sent_by_id, sender, sent_bound"
)


def raw_signal_copy(raws: list[dict], account_ids: dict[str, int], now: Any) -> Callable[[], None]:
    """The ingestion benchmarks' baseline: a raw ``COPY`` into ``signals_signal`` of the rows
    the storage path would write for ``raws`` (sender columns included), as a callable to
    time; ``account_ids``: account reference → id."""
    from django.db import connection, transaction

    from signals.normalise import normalise
    from signals.provenance import SYSTEM_SENDER

    sent = [SYSTEM_SENDER.via, "\\N", SYSTEM_SENDER.label, "f"]
    buf = io.StringIO()
    for raw in raws:
        item = normalise(raw, now=now)
        payload = json.dumps(item.payload()).replace("\\", "\\\\").replace("\t", "\\t")
        buf.write(
            "\t".join(
                [item.source, item.external_id, item.month.isoformat(), item.kind,
                 str(account_ids[item.account_ref]), "", item.occurred_at.isoformat(), "\\N",
                 now.isoformat(), payload, item.digest(), "1", "pending", "0", "", *sent]
            ) + "\n"
        )  # fmt: skip
    text = buf.getvalue()

    def copy() -> None:
        with transaction.atomic(), connection.cursor() as cursor:
            cursor.cursor.copy_expert(
                f"COPY signals_signal ({SIGNAL_COPY_COLUMNS}) FROM STDIN", io.StringIO(text)
            )

    return copy
