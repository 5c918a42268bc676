"""CSV upload of tickets and contact changes: preview with per-row errors, then all or
nothing. Reuses the account import's reading and header mapping (accounts.importing).
Also a file of history in the REST batch's shape (``read_signals``, ``check_signals``,
``import_history``), which ``manage.py import_signals`` stores as one backfill."""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from django.db import transaction

from accounts.importing import ImportFileError, RowError, map_columns, read_csv
from accounts.models import Account
from accounts.rules import changeable_accounts_q
from csrisk import clock
from csrisk.csvfiles import check_cells, normalise_header
from csrisk.models import User
from signals import provenance, services
from signals.models import Backfill
from signals.normalise import Invalid, normalise
from signals.services.backfills import backfill_finish, backfill_start

ACCOUNT_ALIASES = (
    "account",
    "account_crm_id",
    "account_id",
    "account_external_id",
    "crm_id",
    "organization_id",
    "organisation_id",
    "helpdesk_org_id",
    "org_id",
)
TICKET_HEADERS: dict[str, tuple[str, ...]] = {
    "external_id": ("external_id", "ticket_id", "id", "ticket", "key", "issue_key"),
    "account": ACCOUNT_ALIASES,
    "opened_at": ("opened_at", "created_at", "created", "occurred_at", "opened"),
    "priority": ("priority",),
    "status": ("status",),
    "tags": ("tags", "labels"),
    "subject": ("subject", "summary", "title"),
    "solved_at": ("solved_at", "resolved_at", "resolutiondate", "closed_at"),
    "type": ("type", "ticket_type"),
    "source": ("source", "system"),
}
CHANGE_HEADERS: dict[str, tuple[str, ...]] = {
    "external_id": ("external_id", "change_id", "id"),
    "account": ACCOUNT_ALIASES,
    "change": ("change", "change_type", "event"),
    "email": ("email", "contact_email"),
    "name": ("name", "contact_name", "full_name"),
    "title": ("title", "job_title"),
    "roles": ("roles", "role", "contact_roles"),
    "old_title": ("old_title", "previous_title"),
    "new_title": ("new_title",),
    "from_company": ("from_company", "previous_company"),
    "occurred_at": ("occurred_at", "date", "changed_on", "effective_date"),
    "source": ("source", "system"),
}
SPECS = {
    "tickets": (TICKET_HEADERS, ("external_id", "account", "opened_at")),
    "contact_changes": (CHANGE_HEADERS, ("account", "change", "occurred_at")),
}
# Which column a normaliser message is about, for the per-row report.
_HINTS = {
    "occurred_at": ("opened_at", "occurred_at"),
    "priority": ("priority",),
    "status": ("status",),
    "solved_at": ("solved_at",),
    "change": ("change",),
    "email": ("email",),
    "role": ("roles",),
    "ticket type": ("type",),
    "external_id": ("external_id",),
    "account": ("account",),
}


@dataclass
class SignalPlan:
    kind: str
    total_rows: int
    raws: list[dict[str, Any]] = field(default_factory=list)
    errors: list[RowError] = field(default_factory=list)
    # The accounts the uploader may write (None: any; the VP, the CEO, superusers).
    account_ids: frozenset[int] | None = None

    @property
    def ok(self) -> bool:
        return not self.errors


def _column(reason: str, columns: dict[str, str]) -> str:
    for word, fields in _HINTS.items():
        if word in reason:
            for f in fields:
                if f in columns:
                    return columns[f]
    return ""


def writable_accounts(by: User, account_ids: set[int]) -> frozenset[int] | None:
    """Which of ``account_ids`` ``by`` may upload signals for, in one query (None: all).
    The rule is the one for changing an account (accounts.rules)."""
    if by.is_org_wide:
        return None
    return frozenset(
        Account.objects.filter(changeable_accounts_q(by), pk__in=account_ids).values_list(
            "pk", flat=True
        )
    )


def build_plan(content: bytes, *, kind: str, by: User) -> SignalPlan:
    """Read and check every row; write nothing. Raises ImportFileError for the whole file.
    A row is an error when its account is not one ``by`` may change, or when it would
    replace a signal ``by``'s upload may not replace (another sender's; provenance)."""
    if kind not in SPECS:
        raise ImportFileError("Choose tickets or contact changes.")
    known, required = SPECS[kind]
    frame, bad_cells = check_cells(read_csv(content))  # control characters, NUL included
    columns, _ignored = map_columns(frame, known, required)
    blank = [""] * len(frame)
    data = {f: frame[columns[f]].tolist() if f in columns else blank for f in known}
    plan = SignalPlan(kind, len(frame))
    now = clock.now()
    seen: dict[tuple[str, str], int] = {}
    items = []
    for i in range(len(frame)):
        row = {f: data[f][i] for f in known}
        line = i + 2
        source = row["source"] or "csv"
        if kind == "tickets":
            raw = {
                "source": source,
                "external_id": row["external_id"],
                "kind": "ticket",
                "account": {"external_id": row["account"]},
                "occurred_at": row["opened_at"],
                "attributes": {
                    "priority": row["priority"],
                    "status": row["status"],
                    "tags": [
                        t.strip() for t in row["tags"].replace(";", ",").split(",") if t.strip()
                    ],
                    "subject": row["subject"],
                    "solved_at": row["solved_at"] or None,
                    "type": row["type"],
                },
            }
        else:
            who = row["email"] or row["name"]
            if not who:
                plan.errors.append(
                    RowError(
                        line, columns.get("email", "email"), "", "an e-mail or a name is required"
                    )
                )
                continue
            raw = {
                "source": source,
                "external_id": row["external_id"]
                or f"{who.lower()}:{row['change'].lower()}:{row['occurred_at'][:10]}",
                "kind": "org_change",
                "account": {"external_id": row["account"]},
                "occurred_at": row["occurred_at"],
                "attributes": {
                    "change": row["change"].lower().replace(" ", "_"),
                    "contact": {
                        "email": row["email"],
                        "name": row["name"],
                        "title": row["title"],
                        "roles": row["roles"],
                    },
                    "old_title": row["old_title"],
                    "new_title": row["new_title"],
                    "from_company": row["from_company"],
                },
            }
        try:
            item = normalise(raw, now=now)
        except Invalid as exc:
            plan.errors.append(RowError(line, _column(str(exc), columns), "", str(exc)))
            continue
        first = seen.setdefault((item.source, item.external_id), line)
        if first != line:
            plan.errors.append(
                RowError(
                    line,
                    columns.get("external_id", ""),
                    item.external_id,
                    f"duplicate id: also on row {first}",
                )
            )
            continue
        items.append((line, item))
        plan.raws.append(raw)
    found, _ = services.resolve_orgs([it for _, it in items])
    plan.account_ids = writable_accounts(by, set(found.values()))
    upload = provenance.sender_of_upload(by, 0, plan.account_ids)
    stored = services.stored_senders([(it.source, it.external_id) for _, it in items])
    for line, item in items:
        reason = ""
        if item.account_ref not in found:
            reason = "no account has this CRM id or help-desk organisation id"
        else:
            reason = upload.account_refusal(found[item.account_ref])
        if reason:
            plan.errors.append(RowError(line, columns["account"], item.account_ref, reason))
            continue
        signal = stored.get((item.source, item.external_id))
        reason = upload.update_refusal(signal, item.source) if signal is not None else ""
        if reason:
            plan.errors.append(
                RowError(line, columns.get("external_id", ""), item.external_id, reason)
            )
    plan.errors.extend(bad_cells)
    plan.errors.sort(key=lambda e: e.row)
    return plan


@transaction.atomic
def apply_plan(
    plan: SignalPlan, *, by: User, upload_id: int, backfill: Backfill | None = None
) -> tuple[int, int]:
    """Store every row or none, recorded as ``by``'s upload (as history with a
    ``backfill``); return (accepted, duplicates)."""
    if not plan.ok:
        raise ValueError("A plan with errors cannot be applied.")
    sender = provenance.sender_of_upload(by, upload_id, plan.account_ids)
    outcomes = services.signals_store(
        plan.raws, default_source="csv", sender=sender, backfill=backfill
    )
    bad = [o for o in outcomes if o.status == services.REJECTED]
    if bad:
        raise ImportFileError(f"Row {bad[0].index + 2}: {bad[0].reason}; nothing was imported.")
    accepted = sum(o.status == services.ACCEPTED for o in outcomes)
    return accepted, len(outcomes) - accepted


# --- A file of history (``manage.py import_signals``) --------------------------------------
# JSON lines (one signal a line, the REST batch's shape; a JSON list is read too) or a CSV
# whose columns are the same fields: source, external_id, kind, account (CRM id or help-desk
# organisation id) or account_id (csrisk's), occurred_at, and attributes (a JSON object).

HISTORY_CHUNK = 1000  # signals stored and processed per transaction, and per progress line
HistoryProgress = Callable[[dict[str, Any]], None]


def read_signals(content: bytes, *, name: str) -> tuple[list[tuple[int, Any]], list[RowError]]:
    """The signals of a file as (line, raw) and the lines that cannot be read at all.
    Raises ImportFileError when the file as a whole cannot be read."""
    if name.lower().endswith(".csv"):
        return _csv_signals(content)
    try:
        text = content.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise ImportFileError(f"The file is not UTF-8 text: {exc}") from None
    if text.lstrip().startswith("["):
        try:
            data = json.loads(text)
        except ValueError as exc:
            raise ImportFileError(f"The file is not a JSON list of signals: {exc}") from None
        return [(i + 1, raw) for i, raw in enumerate(data)], []
    rows: list[tuple[int, Any]] = []
    errors: list[RowError] = []
    for number, line in enumerate(text.splitlines(), start=1):
        if not line.strip():
            continue
        try:
            rows.append((number, json.loads(line)))
        except ValueError as exc:
            errors.append(RowError(number, "", line[:80], f"not JSON: {exc}"))
    if not rows and not errors:
        raise ImportFileError("The file holds no signals.")
    return rows, errors


def _csv_signals(content: bytes) -> tuple[list[tuple[int, Any]], list[RowError]]:
    frame, errors = check_cells(read_csv(content))
    frame.columns = [normalise_header(c) for c in frame.columns]
    columns = set(frame.columns)
    missing = {"external_id", "kind", "occurred_at"} - columns
    if missing or not columns & {"account", "account_id"}:
        need = sorted(missing | ({"account"} if not columns & {"account", "account_id"} else set()))
        raise ImportFileError(f"Missing column(s): {', '.join(need)}.")
    rows: list[tuple[int, Any]] = []
    for i, row in enumerate(frame.to_dict("records")):
        line = i + 2
        try:
            attributes = json.loads(row["attributes"]) if row.get("attributes") else {}
        except ValueError as exc:
            errors.append(RowError(line, "attributes", row["attributes"][:80], f"not JSON: {exc}"))
            continue
        account_id = row.get("account_id", "")
        rows.append(
            (
                line,
                {
                    "source": row.get("source", ""),
                    "external_id": row["external_id"],
                    "kind": row["kind"],
                    "account": {"id": int(account_id)}
                    if account_id.isdigit()
                    else {"external_id": row.get("account", "") or account_id},
                    "occurred_at": row["occurred_at"],
                    "attributes": attributes,
                },
            )
        )
    return rows, errors


def check_signals(
    rows: list[tuple[int, Any]], *, default_source: str, now: dt.datetime
) -> list[RowError]:
    """Every problem of every row, as the batch would find it, plus what a file of history
    may not have: a key twice, an account nobody knows. Writes nothing."""
    errors: list[RowError] = []
    seen: dict[tuple[str, str], int] = {}
    items = []
    for line, raw in rows:
        try:
            item = normalise(raw, now=now, default_source=default_source)
        except Invalid as exc:
            ext = raw.get("external_id", "") if isinstance(raw, dict) else ""
            errors.append(RowError(line, "", str(ext)[:80], str(exc)))
            continue
        first = seen.setdefault((item.source, item.external_id), line)
        if first != line:
            errors.append(RowError(line, "external_id", item.external_id, f"also on line {first}"))
            continue
        items.append((line, item))
    found, existing = services.resolve_orgs([item for _, item in items])
    for line, item in items:
        if item.account_id and item.account_id not in existing:
            errors.append(RowError(line, "account", str(item.account_id), "no account has this id"))
        elif not item.account_id and item.account_ref not in found:
            errors.append(
                RowError(
                    line,
                    "account",
                    item.account_ref,
                    "no account has this CRM id or help-desk organisation id",
                )
            )
    return sorted(errors, key=lambda e: e.row)


def import_history(
    rows: list[tuple[int, Any]],
    *,
    by: User,
    name: str,
    default_source: str = "",
    chunk: int = HISTORY_CHUNK,
    progress: HistoryProgress | None = None,
) -> tuple[Backfill, list[RowError]]:
    """Store and process checked rows as one backfill, ``chunk`` at a time (each stored in
    its own transaction, then processed at once), telling ``progress`` after each; return
    the backfill and the rows the database still refused."""
    sender = provenance.Sender(
        via=provenance.SYSTEM,
        label=f"manage.py import_signals {name} by {by.username}"[:200],
        user_id=by.pk,
    )
    backfill = backfill_start(via="command", sender=sender, by=by)
    refused: list[RowError] = []
    done = processed = 0
    for start in range(0, len(rows), chunk):
        part = rows[start : start + chunk]
        with transaction.atomic():
            outcomes = services.signals_store(
                [raw for _, raw in part],
                default_source=default_source,
                publish=False,
                sender=sender,
                backfill=backfill,
            )
        for o in outcomes:
            if o.status == services.REJECTED:
                refused.append(RowError(part[o.index][0], "", o.external_id, o.reason))
        ids = [o.id for o in outcomes if o.status == services.ACCEPTED and o.id is not None]
        processed += services.signals_process(ids)
        done += len(part)
        if progress is not None:
            progress({"done": done, "total": len(rows), "processed": processed})
    backfill_finish(backfill)
    backfill.refresh_from_db()
    return backfill, refused
