from accounts.models import ContactTitleChange, PriorRelationship, RenewalOutcome
from tests.conftest import login
from tests.factories import ContactFactory


def test_it_shows_contacts_with_roles_owner_renewal_and_relationships(org, account_a):
    ContactFactory(account=account_a, name="Erin Edm", roles=["edm"], title="CEO")
    gone = ContactFactory(account=account_a, name="Cal Champ", at_company=False)
    ContactTitleChange.objects.create(
        contact=gone, old_title="Head of IT", new_title="IT Manager", changed_on="2026-01-05"
    )
    PriorRelationship.objects.create(
        account=account_a, person=org.ceo, kind="personal", note="The CEO knows their CEO."
    )
    RenewalOutcome.objects.create(
        account=account_a,
        renewal_date="2025-06-01",
        outcome="downsold",
        arr_before=60000,
        arr_after=50000,
    )
    response = login(org.support).get(f"/accounts/{account_a.pk}/")
    assert response.status_code == 200
    html = response.content.decode()
    for text in (
        "Erin Edm",
        "Executive Decision Maker",
        "Cal Champ",
        "Left",
        "was Head of IT",
        "The CEO knows their CEO.",
        "Downsold",
        "CS A",
    ):
        assert text in html, text


def test_it_escapes_customer_supplied_text(org, account_a):
    ContactFactory(account=account_a, name="<script>alert(1)</script>")
    html = login(org.csm_a).get(f"/accounts/{account_a.pk}/").content.decode()
    assert "<script>alert(1)</script>" not in html
    assert "&lt;script&gt;" in html


def test_it_answers_404_for_a_missing_account(org):
    assert login(org.csm_a).get("/accounts/999999/").status_code == 404


def test_it_renders_in_a_constant_number_of_queries(org, account_a, django_assert_max_num_queries):
    for _ in range(20):
        ContactFactory(account=account_a)
    client = login(org.csm_a)
    # session, user, account, contacts, title changes, relationships, renewals; the
    # scorecard panel: area scores, scorecard, areas, overrides, colour history; the bell;
    # CTA panel: live CTAs, configured reasons, playbook choices; escalation panel: open
    # escalations, timeline steps; sponsor panel: program, sponsorship, check-ins; the
    # signal timeline, and with no signal yet the facts on record (four kinds); the data
    # coverage panel; the renewal-risk panel: its recent predictions
    with django_assert_max_num_queries(28):
        assert client.get(f"/accounts/{account_a.pk}/").status_code == 200
