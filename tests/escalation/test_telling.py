"""Every escalation step is told to the people involved, with the reason: raise,
de-escalate, acknowledge, resolve — and the silent resolve when the CTA is closed."""

from __future__ import annotations

from csrisk.models import Notification
from ctas import services as ctas
from escalation import services


def up_to_ceo(org, flagged):
    services.escalation_escalate(escalation=flagged, by=org.lead_a, level=2, reason="VP please")
    services.escalation_escalate(escalation=flagged, by=org.vp, level=3, reason="CEO knows them")


def test_closing_the_cta_tells_the_ceo_and_the_vp_it_is_resolved(
    org, flagged, django_capture_on_commit_callbacks
):
    up_to_ceo(org, flagged)
    with django_capture_on_commit_callbacks(execute=True):
        ctas.cta_close(cta=flagged.cta, by=org.csm_a, outcome="resolved", note="They renewed")
    for person in (org.ceo, org.vp, org.lead_a):
        told = Notification.objects.filter(user=person, title__icontains="resolved")
        assert told.count() == 1, person
        assert "They renewed" in told.get().body


def test_acknowledging_tells_who_raised_it(org, flagged, django_capture_on_commit_callbacks):
    services.escalation_escalate(escalation=flagged, by=org.lead_a, level=2, reason="VP please")
    with django_capture_on_commit_callbacks(execute=True):
        services.escalation_acknowledge(escalation=flagged, by=org.vp, note="Calling their COO")
    for person in (org.lead_a, org.csm_a):
        told = Notification.objects.get(user=person, title__icontains="acknowledged")
        assert "Calling their COO" in told.body


def test_handing_down_from_the_ceo_tells_the_ceo_too(
    org, flagged, django_capture_on_commit_callbacks
):
    up_to_ceo(org, flagged)
    with django_capture_on_commit_callbacks(execute=True):
        services.escalation_de_escalate(
            escalation=flagged, by=org.vp, level=1, reason="Lead has a plan"
        )
    for person in (org.ceo, org.lead_a, org.csm_a):
        told = Notification.objects.filter(user=person, title__startswith="Back to level 1")
        assert told.count() == 1, person
        assert "Lead has a plan" in told.get().body
    assert not Notification.objects.filter(user=org.vp, title__startswith="Back to").exists()


def test_a_level_one_resolve_by_unflagging_tells_only_the_csm_and_lead(
    org, flagged, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        ctas.cta_unflag(cta=flagged.cta, by=org.csm_a, reason="Sorted with their admin")
    told = Notification.objects.filter(kind="escalation_resolved")
    assert [n.user for n in told] == [org.lead_a]  # the CSM unflagged it: not told
    assert "Sorted with their admin" in told.get().body


def test_resolving_in_the_panel_tells_each_person_once(
    org, flagged, django_capture_on_commit_callbacks
):
    up_to_ceo(org, flagged)
    with django_capture_on_commit_callbacks(execute=True):
        services.escalation_resolve(escalation=flagged, by=org.ceo, reason="Signed for 3 years")
    told = Notification.objects.filter(kind="escalation_resolved")
    assert sorted(n.user.username for n in told) == sorted(
        [org.vp.username, org.lead_a.username, org.csm_a.username]
    )
