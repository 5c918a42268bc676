"""Default playbooks and CTA reasons (PRODUCT.md, "CTAs and playbooks")."""

from decimal import Decimal

from django.db import migrations

SPONSOR_ARR = Decimal("100000")

PLAYBOOKS = [
    ("Low adoption", "risk", "Usage is low or falling.", [
        ("Review the usage trend and the licence utilisation with the customer's admin", "owner", 2, ""),
        ("Run an adoption workshop for the teams that stopped using the product", "owner", 10, ""),
        ("Agree success criteria and a 30-day adoption plan with the champion", "owner", 14, ""),
    ]),
    ("Executive decision maker left", "risk", "The person who signs the renewal is gone.", [
        ("Find out who holds the budget now (ask the champion)", "owner", 2, ""),
        ("Introduce yourself to the new executive; offer an executive business review", "owner", 7, ""),
        ("Tell your team lead and decide whether the VP should reach out", "team_lead", 3, ""),
    ]),
    ("Support escalation", "risk", "Ticket volume or urgency is hurting the customer.", [
        ("Review the open and recent tickets with Support", "owner", 2, ""),
        ("Agree a resolution plan and a single point of contact", "owner", 5, ""),
        ("Check in with the customer after the fixes land", "owner", 14, ""),
    ]),
    ("Implementation slipping", "risk", "Milestones are late.", [
        ("Re-plan the milestones with Services and the customer", "owner", 3, ""),
        ("Escalate blockers on the customer side to their sponsor", "owner", 7, ""),
    ]),
    ("Competitor evaluation", "risk", "The customer is looking at a rival.", [
        ("Find out what triggered the evaluation (missing feature, price, people)", "owner", 2, ""),
        ("Bring Product in for a roadmap session", "owner", 7, ""),
        ("Tell your team lead; consider a level-2 escalation", "team_lead", 2, ""),
    ]),
    ("Renewal at risk", "renewal", "The renewal is in doubt.", [
        ("Map the decision makers and the renewal process", "owner", 3, ""),
        ("Prepare a value summary: goals bought for, results so far", "owner", 7, ""),
        ("Review the commercial position with the account executive", "owner", 10, ""),
    ]),
    ("New customer onboarding", "new_customer", "Welcome a new customer.", [
        ("Kick-off call: goals, success criteria, timeline", "owner", 3, ""),
        ("Confirm the Executive Decision Maker and the champion in the CRM", "owner", 5, ""),
        ("Assign an executive sponsor", "team_lead", 7, "Accounts above the sponsor ARR threshold get a sponsor."),
        ("First value check after 30 days", "owner", 30, ""),
    ]),
    ("Sponsor check-in", "sponsor_checkin", "A 30-minute call between the executive sponsor and the customer's executive.", [
        ("Hold the 30-minute check-in", "owner", 7,
         "How is it going?\nWhat is going well?\nWhat is going badly?\n"
         "Are we on track to the goals you bought us for?\nAny feedback?"),
        ("Log the outcome and any risk found", "owner", 8, ""),
    ]),
]

REASONS = [
    ("risk", "Low or falling adoption", "habits"),
    ("risk", "Detractor NPS or negative sentiment", "sentiment"),
    ("risk", "Executive decision maker or champion left", "company"),
    ("risk", "Reorganisation or M&A", "company"),
    ("risk", "Support escalation", "support"),
    ("risk", "Implementation behind plan", "implementation"),
    ("risk", "Customer not ready to adopt", "readiness"),
    ("risk", "Missing feature or competitor exposure", "product"),
    ("risk", "Defects hurting the customer", "defect"),
    ("renewal", "Renewal at risk", ""),
    ("renewal", "Upcoming renewal", ""),
    ("lifecycle", "Quarterly business review", ""),
    ("new_customer", "New customer onboarding", ""),
    ("sponsor_checkin", "Executive sponsor check-in", ""),
    ("expansion", "Expansion opportunity", ""),
]


def seed(apps, schema_editor):
    Playbook = apps.get_model("ctas", "Playbook")
    PlaybookStep = apps.get_model("ctas", "PlaybookStep")
    CtaReason = apps.get_model("ctas", "CtaReason")
    for name, cta_type, description, steps in PLAYBOOKS:
        playbook, created = Playbook.objects.get_or_create(
            name=name, defaults={"cta_type": cta_type, "description": description})
        if not created:
            continue
        for position, (title, role, offset, guidance) in enumerate(steps):
            PlaybookStep.objects.create(
                playbook=playbook, position=position, title=title, owner_role=role,
                due_offset_days=offset, guidance=guidance,
                min_arr=SPONSOR_ARR if title == "Assign an executive sponsor" else None)
    for cta_type, label, area in REASONS:
        CtaReason.objects.get_or_create(type=cta_type, label=label, defaults={"area": area})


class Migration(migrations.Migration):
    dependencies = [("ctas", "0002_ctas_playbooks_chatter")]
    operations = [migrations.RunPython(seed, migrations.RunPython.noop)]
