"""CSV import: every bad file gets a clear reason, nothing is half-written, re-import updates."""

from __future__ import annotations

import json

import pytest
from django.core.management import CommandError, call_command

from accounts.importing import ImportFileError, apply_plan, build_plan
from accounts.models import Account, Contact
from csrisk.models import AuditEntry

HEADER = "Account Name,Annual Revenue,Renewal Date,CRM ID,Segment,Owner Email\n"


def csv(*rows: str, header: str = HEADER) -> bytes:
    return (header + "\n".join(rows) + "\n").encode()


def errors_of(plan) -> list[tuple[int, str, str]]:
    return [(e.row, e.column, e.reason) for e in plan.errors]


def test_it_recognises_common_headers_and_creates_accounts(org):
    content = csv(
        'Foo Co,"$120,000.50",2027-03-01,X-1,Mid-Market,csm_a@example.com',
        "Bar Co,5000,2027-01-15,X-2,smb,",
    )
    plan = build_plan(content, by=org.vp)
    assert plan.ok, plan.errors
    assert plan.columns["arr"] == "Annual Revenue"
    assert apply_plan(plan, by=org.vp) == (2, 0)
    foo = Account.objects.get(crm_id="X-1")
    assert str(foo.arr) == "120000.50"
    assert foo.segment == "mid_market"
    assert foo.owner == org.csm_a
    assert foo.team == org.team_a
    assert str(foo.renewal_date) == "2027-03-01"


def test_it_updates_by_external_id_on_reimport_and_audits_reassignment(org):
    first = csv("Foo Co,1000,2027-03-01,X-1,smb,csm_a@example.com")
    apply_plan(build_plan(first, by=org.vp), by=org.vp)
    again = csv("Foo Company,2000,2027-03-01,X-1,smb,csm_a2@example.com")
    plan = build_plan(again, by=org.vp)
    assert (len(plan.creates), len(plan.updates)) == (0, 1)
    assert apply_plan(plan, by=org.vp) == (0, 1)
    assert Account.objects.count() == 1
    foo = Account.objects.get()
    assert (foo.name, str(foo.arr), foo.owner) == ("Foo Company", "2000.00", org.csm_a2)
    entry = AuditEntry.objects.get(action="account.reassigned")
    assert entry.changes["owner"] == [org.csm_a.pk, org.csm_a2.pk]
    assert entry.reason == "CSV import"


def test_it_reports_every_bad_row_with_row_column_value_and_reason(org):
    plan = build_plan(
        csv(
            "Good,100,2027-01-01,X-1,smb,",
            "Bad Money,abc,2027-01-01,X-2,smb,",
            "Bad Date,100,2027-02-30,X-3,smb,",
            "Dup,100,2027-01-01,X-1,smb,",
            ",100,2027-01-01,X-5,smb,",
            "Who,100,2027-01-01,X-6,smb,nobody@nowhere.example",
            "Seg,100,2027-01-01,X-7,galactic,",
            "Neg,-5,2027-01-01,X-8,smb,",
            "Fmt,100,01/02/2027,X-9,smb,",
        ),
        by=org.vp,
    )
    assert errors_of(plan) == [
        (3, "Annual Revenue", "not a number"),
        (4, "Renewal Date", "not a real calendar date"),
        (5, "CRM ID", "duplicate id: also on row 2"),
        (6, "Account Name", "name is required"),
        (7, "Owner Email", "no csrisk user has this e-mail"),
        (8, "Segment", "unknown segment; use one of enterprise, mid_market, smb, strategic"),
        (9, "Annual Revenue", "ARR cannot be negative"),
        (10, "Renewal Date", "expected a date as YYYY-MM-DD"),
    ]
    assert plan.errors[0].value == "abc"


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (b"", "The file is empty."),
        (b"   \n\n", "The file is empty."),
        (HEADER.encode(), "header row but no data rows"),
        ("Nom,ARR\nCafé Crème,100\n".encode("latin-1"), "not valid utf-8 text: byte 0xe9"),
        (b"Account Name,Segment\nFoo,smb\n", "Missing required column(s) — arr"),
        (b"\x89PNG\r\n\x1a\n\x00\x00\x00", "binary data"),
        (b'name,arr\n"unclosed,100\n', "not a readable CSV"),
    ],
)
def test_it_refuses_a_bad_file_with_a_clear_message(org, content, message):
    with pytest.raises(ImportFileError) as excinfo:
        build_plan(content, by=org.vp)
    assert message in str(excinfo.value)


def test_it_reads_latin1_when_told_so(org):
    plan = build_plan("name,arr\nCafé Crème,100\n".encode("latin-1"), by=org.vp, encoding="latin-1")
    assert plan.ok
    assert plan.creates[0]["name"] == "Café Crème"


def test_it_refuses_a_file_over_the_size_limit(org, settings):
    settings.CSRISK_IMPORT_MAX_BYTES = 1024
    with pytest.raises(ImportFileError, match="the limit is"):
        build_plan(b"name,arr\n" + b"x,1\n" * 1000, by=org.vp)


def test_it_accepts_a_column_mapping_override(org):
    content = b"Customer,Contract Value,ARR\nFoo,100,not-this\n"
    plan = build_plan(content, by=org.vp, mapping={"arr": "Contract Value"})
    assert plan.ok, plan.errors
    assert plan.columns["arr"] == "Contract Value"
    assert "ARR" in plan.ignored_columns


def test_it_refuses_a_mapping_to_a_missing_column(org):
    with pytest.raises(ImportFileError, match="not in the file"):
        build_plan(b"name,arr\nFoo,1\n", by=org.vp, mapping={"arr": "Nope"})


def test_it_reads_semicolon_separated_files(org):
    plan = build_plan(b"name;arr;renewal_date\nFoo;100;2027-01-01\n", by=org.vp)
    assert plan.ok
    assert plan.creates[0]["arr"] == 100


def test_it_keeps_a_lead_inside_their_own_teams(org, account_b):
    content = csv(
        "Beta LLC,1,2027-01-01,B-1,smb,",  # account of team B
        "Mine,1,2027-01-01,N-1,smb,csm_a@example.com",
        "Theirs,1,2027-01-01,N-2,smb,csm_b@example.com",
    )
    plan = build_plan(content, by=org.lead_a)
    assert [(e.row, e.reason) for e in plan.errors] == [
        (2, "you may not change this account"),
        (4, "you may only assign accounts to people of your own teams"),
    ]


def test_it_writes_nothing_when_the_transaction_fails(org, monkeypatch):
    plan = build_plan(csv("A,1,,Y-1,smb,", "B,1,,Y-2,smb,"), by=org.vp)
    from django.db import IntegrityError

    def boom(*args, **kwargs):
        raise IntegrityError("disk on fire")

    monkeypatch.setattr(AuditEntry.objects, "bulk_create", boom)
    with pytest.raises(IntegrityError):
        apply_plan(plan, by=org.vp)
    assert Account.objects.count() == 0


def test_it_imports_contacts_with_roles_and_records_title_changes(org, account_a):
    header = "Account CRM ID,Name,Email,Title,Roles,Still at company\n"
    first = csv(
        "A-1,Erin Doe,erin@alpha.example,Head of IT,Executive Decision Maker; Champion,yes",
        header=header,
    )
    plan = build_plan(first, by=org.csm_a)
    assert plan.kind == "contacts"
    assert plan.ok, plan.errors
    apply_plan(plan, by=org.csm_a)
    erin = Contact.objects.get()
    assert erin.roles == ["edm", "champion"]
    second = csv("A-1,Erin Doe,erin@alpha.example,IT Manager,edm,left", header=header)
    apply_plan(build_plan(second, by=org.csm_a), by=org.csm_a)
    erin.refresh_from_db()
    assert (erin.title, erin.at_company, erin.left_on is not None) == ("IT Manager", False, True)
    change = erin.title_changes.get()
    assert (change.old_title, change.new_title, change.source) == (
        "Head of IT",
        "IT Manager",
        "import",
    )


def test_it_reports_contact_rows_for_unknown_accounts_and_roles(org, account_a):
    header = "account_crm_id,name,email,roles\n"
    plan = build_plan(
        csv("NOPE,Pat,pat@x.example,champion", "A-1,Sam,not-an-email,wizard", header=header),
        by=org.vp,
    )
    assert [(e.row, e.reason) for e in plan.errors] == [
        (2, "no account has this CRM id"),
        (3, "not an e-mail address"),
        (3, "unknown role; use one of admin, billing, champion, edm, technical, user"),
    ]


def test_the_command_dry_run_writes_nothing(org, tmp_path, capsys):
    path = tmp_path / "book.csv"
    path.write_bytes(csv("Foo,100,2027-01-01,X-1,smb,"))
    call_command("import_accounts", str(path), "--dry-run", "--as-user", "vp")
    assert "1 to create" in capsys.readouterr().out
    assert Account.objects.count() == 0
    call_command("import_accounts", str(path), "--as-user", "vp")
    assert Account.objects.count() == 1


def test_the_command_fails_with_the_error_report(org, tmp_path, capsys):
    path = tmp_path / "bad.csv"
    path.write_bytes(csv("Foo,abc,2027-01-01,X-1,smb,"))
    with pytest.raises(CommandError, match="1 problem"):
        call_command("import_accounts", str(path), "--json", "--as-user", "vp")
    report = json.loads(capsys.readouterr().out)
    assert report["errors"] == [
        {"row": 2, "column": "Annual Revenue", "value": "abc", "reason": "not a number"}
    ]
    assert Account.objects.count() == 0


def test_the_command_explains_an_unreadable_file(org, tmp_path):
    path = tmp_path / "empty.csv"
    path.write_bytes(b"")
    with pytest.raises(CommandError, match=r"The file is empty\. Nothing was imported\."):
        call_command("import_accounts", str(path), "--as-user", "vp")
