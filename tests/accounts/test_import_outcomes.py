"""manage.py import_outcomes: past renewals by CSV, every bad row reported, all or nothing."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from io import StringIO

import pytest
from django.core.management import CommandError, call_command

from accounts.models import RenewalOutcome


def write(tmp_path, text: str):
    path = tmp_path / "outcomes.csv"
    path.write_text(text)
    return str(path)


def test_it_imports_outcomes_and_updates_a_renewal_on_record(org, account_a, account_b, tmp_path):
    path = write(
        tmp_path,
        "crm_id,renewal_date,outcome,arr_before,arr_after\n"
        "A-1,2025-06-30,churned,50000,0\n"
        'B-1,2025-07-31,Downsold,"$40,000",30000\n',
    )
    out = StringIO()
    call_command("import_outcomes", path, stdout=out)
    assert "2 created, 0 updated" in out.getvalue()
    churn = RenewalOutcome.objects.get(account=account_a)
    assert (churn.renewal_date, churn.outcome, churn.arr_after) == (
        dt.date(2025, 6, 30),
        "churned",
        Decimal("0"),
    )
    assert RenewalOutcome.objects.get(account=account_b).arr_before == Decimal("40000")
    path = write(tmp_path, "crm_id,renewal_date,outcome\nA-1,2025-06-30,renewed\n")
    call_command("import_outcomes", path, stdout=StringIO())
    assert RenewalOutcome.objects.get(account=account_a).outcome == "renewed"


def test_it_reports_every_bad_row_and_writes_nothing(org, account_a, tmp_path):
    path = write(
        tmp_path,
        "crm_id,renewal_date,outcome,arr_before\n"
        "A-1,2025-06-30,renewed,\n"
        "NOPE,2025-06-30,renewed,\n"
        "A-1,2025-02-30,renewed,\n"
        "A-1,2025-05-01,lost,\n"
        "A-1,2025-04-01,renewed,-5\n"
        "A-1,2025-06-30,churned,\n",
    )
    out = StringIO()
    with pytest.raises(CommandError, match="5 problem"):
        call_command("import_outcomes", path, stdout=out)
    text = out.getvalue()
    assert "row 3, crm_id: 'NOPE' — no account has this CRM id" in text
    assert "row 4, renewal_date: '2025-02-30' — not a real calendar date" in text
    assert "row 5, outcome: 'lost' — expected one of renewed, churned, downsold" in text
    assert "row 6, arr_before: '-5'" in text
    assert "row 7, renewal_date: '2025-06-30' — same account and date as row 2" in text
    assert not RenewalOutcome.objects.exists()


def test_it_writes_nothing_on_a_dry_run(org, account_a, tmp_path):
    path = write(tmp_path, "crm_id,renewal_date,outcome\nA-1,2025-06-30,churned\n")
    out = StringIO()
    call_command("import_outcomes", path, "--dry-run", stdout=out)
    assert "Dry run" in out.getvalue()
    assert not RenewalOutcome.objects.exists()


def test_it_refuses_a_file_without_the_required_columns(org, tmp_path):
    path = write(tmp_path, "crm_id,outcome\nA-1,churned\n")
    with pytest.raises(CommandError, match="Missing column"):
        call_command("import_outcomes", path, stdout=StringIO())
