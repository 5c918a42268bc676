"""Demo CTAs: what CSMs would have open on the demo book today.

For red and yellow accounts a CSM has opened a risk CTA on the worst area for about
two thirds of them (with the matching playbook), at most PER_CSM per CSM, worst accounts
first; a third of those on red accounts are flagged; some are overdue; onboarding
accounts have a new-customer CTA. Deterministic.
"""

from __future__ import annotations

import datetime as dt
import random

from accounts.choices import LifecycleStage
from csrisk import clock
from ctas.choices import CtaType, Priority, Source
from ctas.models import Comment, Cta, CtaTask, Playbook
from ctas.services.playbooks import playbook_tasks
from ctas.services.scorecard import sync_scorecards
from scorecards.models import Scorecard

PLAYBOOK_BY_AREA = {
    "habits": "Low adoption",
    "company": "Executive decision maker left",
    "support": "Support escalation",
    "defect": "Support escalation",
    "implementation": "Implementation slipping",
    "product": "Competitor evaluation",
}
REASON_BY_AREA = {
    "habits": "Low or falling adoption",
    "sentiment": "Detractor NPS or negative sentiment",
    "company": "Executive decision maker or champion left",
    "support": "Support escalation",
    "implementation": "Implementation behind plan",
    "readiness": "Customer not ready to adopt",
    "product": "Missing feature or competitor exposure",
    "defect": "Defects hurting the customer",
}
PER_CSM = 8
FLAG_REASONS = (
    "The champion stopped answering; I need the VP to reach their COO.",
    "Ticket backlog keeps growing; need Support leadership on a call this week.",
    "They mentioned a rival's proof of concept. Need Product for a roadmap session.",
    "Renewal in under 90 days and no decision maker engaged.",
)


def build_demo_ctas(*, seed: int) -> int:
    rng = random.Random(seed)
    today = clock.today()
    now = clock.now()
    playbooks = {p.name: p for p in Playbook.objects.prefetch_related("steps")}
    cards = list(
        Scorecard.objects.filter(color__in=["red", "yellow"])
        .exclude(account__lifecycle_stage=LifecycleStage.CHURNED)
        .select_related("account__owner__team__lead")
        .order_by("account_id")
    )
    created: list[tuple[Cta, str | None]] = []
    per_owner: dict[int, int] = {}
    cards.sort(key=lambda c: (c.color != "red", c.score, c.account_id))  # worst first
    for card in cards:
        account = card.account
        if account.owner is None or not card.worst_area or rng.random() > 0.65:
            continue
        if per_owner.get(account.owner_id, 0) >= PER_CSM:
            continue
        per_owner[account.owner_id] = per_owner.get(account.owner_id, 0) + 1
        red = card.color == "red"
        flagged = red and rng.random() < 0.35
        due = today + dt.timedelta(days=rng.randint(-10, 14))
        cta = Cta(
            account=account,
            type=CtaType.RISK,
            area=card.worst_area,
            reason=REASON_BY_AREA[card.worst_area],
            description=card.reason,
            priority=Priority.HIGH if red else Priority.MEDIUM,
            owner=account.owner,
            due_date=due,
            source=Source.MANUAL,
            created_by=account.owner,
            created_at=now - dt.timedelta(days=rng.randint(1, 20)),
            updated_at=now,
            flagged=flagged,
            flagged_by=account.owner if flagged else None,
            flagged_at=now - dt.timedelta(days=rng.randint(0, 5)) if flagged else None,
            flag_reason=rng.choice(FLAG_REASONS) if flagged else "",
        )
        created.append((cta, PLAYBOOK_BY_AREA.get(card.worst_area)))
    for account in (
        Scorecard.objects.filter(account__lifecycle_stage=LifecycleStage.ONBOARDING)
        .select_related("account__owner")
        .order_by("account_id")
    ):
        acc = account.account
        if acc.owner is None:
            continue
        created.append(
            (
                Cta(
                    account=acc,
                    type=CtaType.NEW_CUSTOMER,
                    reason="New customer onboarding",
                    priority=Priority.MEDIUM,
                    owner=acc.owner,
                    due_date=today + dt.timedelta(days=5),
                    source=Source.PROGRAM,
                    created_at=now,
                    updated_at=now,
                ),
                "New customer onboarding",
            )
        )
    for cta, name in created:
        cta.playbook = playbooks.get(name) if name else None
    Cta.objects.bulk_create([c for c, _ in created], batch_size=1000)
    steps = {p.pk: list(p.steps.all()) for p in playbooks.values()}
    tasks = [
        task
        for cta, _ in created
        if cta.playbook_id
        for task in playbook_tasks(cta, steps[cta.playbook_id])
    ]
    CtaTask.objects.bulk_create(tasks, batch_size=2000)
    flagged = [c for c, _ in created if c.flagged]
    for cta in flagged[:20]:
        lead = cta.owner.team.lead if cta.owner.team_id and cta.owner.team else None
        if lead:
            Comment.objects.create(
                cta=cta,
                author=cta.owner,
                created_at=now,
                body=f"@{lead.username} can we talk about this in our 1:1?",
            )
    sync_scorecards([(c.account_id, c.area) for c, _ in created if c.area])
    return len(created)
