"""factory_boy factories for the whole suite."""

from __future__ import annotations

import datetime as dt
import functools
from decimal import Decimal

import factory
from django.contrib.auth.hashers import make_password

from accounts.choices import ContactRole, Segment
from accounts.models import Account, Contact
from csrisk.models import Team, User
from csrisk.roles import Role

PASSWORD = "pw-for-tests"


@functools.cache
def _password_hash() -> str:
    # Hashed at first use, not at import: by then the suite's fast hasher is in force
    # (tests/conftest.py), so each login with it checks in microseconds.
    return make_password(PASSWORD, salt="testsalt")


class TeamFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Team

    name = factory.Sequence(lambda n: f"Team {n}")


class UserFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = User
        skip_postgeneration_save = True

    username = factory.Sequence(lambda n: f"user{n}")
    email = factory.LazyAttribute(lambda u: f"{u.username}@example.com")
    first_name = factory.Faker("first_name")
    role = Role.CSM
    password = factory.LazyFunction(_password_hash)


class AccountFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Account

    name = factory.Sequence(lambda n: f"Customer {n}")
    arr = Decimal("50000.00")
    segment = Segment.MID_MARKET
    renewal_date = factory.LazyFunction(lambda: dt.date.today() + dt.timedelta(days=120))
    crm_id = factory.Sequence(lambda n: f"CRM-{n:05d}")
    owner = factory.SubFactory(UserFactory)
    team = factory.LazyAttribute(lambda a: a.owner.team if a.owner else None)


class ContactFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Contact

    account = factory.SubFactory(AccountFactory)
    name = factory.Faker("name")
    email = factory.Sequence(lambda n: f"contact{n}@customer.example")
    title = "Head of Operations"
    roles = factory.LazyFunction(lambda: [ContactRole.CHAMPION.value])
