"""A CTA's pressure on its area's colour: a flagged live CTA holds the area red, an open
risk CTA a person raised yellow; none releases it (``scorecards.services.cta_pressures_set``).

A person's risk CTA counts whatever page or program opened it (the cockpit, a sponsor's
check-in, a summary action, the API): only rule-opened CTAs are left out, since their
measures already speak for the area."""

from __future__ import annotations

from ctas.choices import LIVE_STATUSES, CtaType, Source
from ctas.models import Cta
from scorecards.services import cta_pressures_set


def sync_scorecard(account_id: int, area: str) -> None:
    """Tell scorecards which live CTAs hold this area (see sync_scorecards)."""
    if area:
        sync_scorecards([(account_id, area)])


def sync_scorecards(pairs: list[tuple[int, str]]) -> None:
    """For each (account, area): flagged live CTA → red, open risk CTA a person raised → yellow,
    none → released (the measures speak again). One query, one recompute per account."""
    pairs = sorted({p for p in pairs if p[1]})
    if not pairs:
        return
    live: dict[tuple[int, str], list[Cta]] = {p: [] for p in pairs}
    for c in (
        Cta.objects.filter(account_id__in={a for a, _ in pairs}, status__in=LIVE_STATUSES)
        .exclude(area="")
        .order_by("pk")
        .only("pk", "account_id", "area", "reason", "flagged", "flag_reason", "type", "source")
    ):
        if (c.account_id, c.area) in live:
            live[(c.account_id, c.area)].append(c)
    pressures = []
    for (account_id, area), ctas in live.items():
        flagged = [c for c in ctas if c.flagged]
        manual = [c for c in ctas if c.type == CtaType.RISK and c.source != Source.RULE]
        if flagged:
            pressures.append(
                (
                    account_id,
                    area,
                    "red",
                    [
                        {"id": c.pk, "sentence": f"Flagged CTA “{c.reason}”: {c.flag_reason}"}
                        for c in flagged
                    ],
                )
            )
        elif manual:
            pressures.append(
                (
                    account_id,
                    area,
                    "yellow",
                    [{"id": c.pk, "sentence": f"Open risk CTA “{c.reason}”"} for c in manual],
                )
            )
        else:
            pressures.append((account_id, area, None, []))
    cta_pressures_set(pressures)
