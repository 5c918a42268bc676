"""Sponsor fixtures: a running program period (H2 2026) on a fixed clock, sponsors."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest

from csrisk import clock
from csrisk.roles import Role
from sponsors.models import Program, SponsorProfile
from tests.factories import AccountFactory, UserFactory

NOW = dt.datetime(2026, 11, 2, 9, 0, tzinfo=dt.UTC)  # a Monday
TODAY = NOW.date()


@pytest.fixture(autouse=True)
def fixed_clock():
    with clock.frozen(NOW):
        yield


@pytest.fixture
def program(db) -> Program:
    return Program.objects.create(
        name="H2 2026", starts_on=dt.date(2026, 7, 1), ends_on=dt.date(2026, 12, 31)
    )


@pytest.fixture
def execs(org):
    """Two more executives next to org.executive: one knows mid-market software."""
    ava = UserFactory(username="ava", first_name="Ava", role=Role.EXECUTIVE, title="CFO")
    ben = UserFactory(username="ben", first_name="Ben", role=Role.EXECUTIVE, title="CTO")
    SponsorProfile.objects.create(user=ben, segments=["mid_market"], industries=["Software"])
    return ava, ben


def enterprise(org, **kw):
    defaults = {"owner": org.csm_a, "tier": "enterprise", "arr": Decimal("150000")}
    return AccountFactory(**{**defaults, **kw})


def strategic(org, **kw):
    defaults = {"owner": org.csm_a, "tier": "strategic", "arr": Decimal("400000")}
    return AccountFactory(**{**defaults, **kw})
