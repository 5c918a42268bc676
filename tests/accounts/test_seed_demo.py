import pytest
from django.core.management import call_command
from django.http import HttpRequest

from accounts.demo import DEMO_LOGINS
from accounts.models import Account, Contact, RenewalOutcome
from csrisk.management.commands.seed_demo import UNREAD_KEPT
from csrisk.models import Notification, User
from csrisk.notifications import unread_count
from csrisk.roles import Role


def _snapshot() -> list[tuple]:
    return list(
        Account.objects.order_by("crm_id").values_list(
            "crm_id", "name", "arr", "segment", "tier", "renewal_date", "owner__username"
        )
    )


@pytest.mark.slow
def test_it_is_deterministic_for_a_seed(db):
    call_command("seed_demo", "--accounts", "60", "--seed", "11")
    first = _snapshot()
    contacts = Contact.objects.count()
    call_command("seed_demo", "--accounts", "60", "--seed", "11")
    assert _snapshot() == first
    assert Contact.objects.count() == contacts
    call_command("seed_demo", "--accounts", "60", "--seed", "12")
    assert _snapshot() != first


@pytest.mark.slow
def test_it_builds_the_contract_logins_and_a_mixed_book(db, client):
    call_command("seed_demo")
    assert Account.objects.count() == 300
    for username, _ in DEMO_LOGINS:
        # the lockout backend (django-axes) needs the request the test client does not pass
        assert client.login(request=HttpRequest(), username=username, password="demo"), username
    assert (
        User.objects.get(username="lead1").led_teams.get() == User.objects.get(username="csm1").team
    )
    assert User.objects.get(username="exec1").role == Role.EXECUTIVE
    assert User.objects.get(username="admin").is_superuser
    assert Account.objects.filter(owner__username="csm1").exists()
    assert Account.objects.values("team").distinct().count() >= 3
    assert set(Account.objects.values_list("segment", flat=True)) == {
        "smb",
        "mid_market",
        "enterprise",
        "strategic",
    }
    assert set(Account.objects.values_list("tier", flat=True)) == {
        "none",
        "enterprise",
        "strategic",
    }
    with_edm = {c.account_id for c in Contact.objects.all() if "edm" in c.roles}
    # most accounts have a known Executive Decision Maker, a few do not (a real gap)
    assert 0.8 * 300 < len(with_edm) < 300
    assert RenewalOutcome.objects.filter(outcome="churned").exists()
    # People start the demo with a morning's unread, not months of history (lead1 had 60).
    unread = {
        u.username: unread_count(u) for u in User.objects.filter(username__in=["lead1", "csm1"])
    }
    assert 0 < unread["lead1"] <= UNREAD_KEPT, unread
    # The demo opens on a renewal-risk model learned from its own renewals, every live
    # account scored.
    from insights.models import RiskModel, RiskPrediction

    model = RiskModel.objects.get(active=True)
    assert model.kind == "learned" and model.n_churned >= 30
    live = Account.objects.exclude(lifecycle_stage="churned").count()
    assert RiskPrediction.objects.filter(latest=True, model=model).count() == live


@pytest.mark.slow
def test_it_leaves_an_existing_book_alone_with_if_empty(db, capsys):
    call_command("seed_demo", "--accounts", "20")
    before = _snapshot()
    call_command("seed_demo", "--accounts", "40", "--if-empty")
    assert _snapshot() == before
    assert "already loaded" in capsys.readouterr().out


@pytest.mark.slow
def test_it_refuses_the_integration_user_a_login(db, client):
    call_command("seed_demo", "--accounts", "5")
    assert not client.login(request=HttpRequest(), username="integration", password="demo")


def test_it_leaves_each_person_only_their_newest_notifications_unread(org):
    import datetime as dt

    from csrisk import clock
    from csrisk.management.commands.seed_demo import settle_notifications
    from csrisk.notifications import notify

    start = dt.datetime(2026, 11, 1, 9, 0, tzinfo=dt.UTC)
    for i in range(UNREAD_KEPT + 4):
        with clock.frozen(start + dt.timedelta(hours=i)):
            notify(user=org.lead_a, kind="cta_flagged", title=f"news {i}")
    notify(user=org.csm_a, kind="cta_flagged", title="only one")
    assert settle_notifications() == 4
    unread = Notification.objects.filter(user=org.lead_a, read_at__isnull=True)
    assert sorted(n.title for n in unread) == sorted(f"news {i}" for i in range(4, 12))
    assert unread_count(org.csm_a) == 1
