"""CTA precedence, the interface the ctas app calls: an open manual risk CTA holds its area
at least yellow, a flagged one red; the account is recomputed at once when that changed."""

from __future__ import annotations

from django.core.exceptions import ValidationError
from django.db import transaction

from csrisk import clock
from scorecards.choices import AreaCode, Color
from scorecards.models import CtaPressure
from scorecards.services.recomputation import recompute


def cta_pressure_set(
    *, account_id: int, area: str, color: str | None, reasons: list[dict] | None = None
) -> None:
    """Hold an area at least ``color`` (yellow: open risk CTA, red: flagged) or release it.

    Recomputes the account at once when the hold changed, so the page shows the new
    colour immediately.
    """
    if area not in AreaCode.values:
        raise ValidationError(f"Unknown area {area!r}.")
    if color not in (None, Color.YELLOW, Color.RED):
        raise ValidationError("A CTA holds an area at yellow or red, or releases it (None).")
    cta_pressures_set([(account_id, area, color, reasons or [])])


def cta_pressures_set(pressures: list[tuple[int, str, str | None, list[dict]]]) -> None:
    """Many (account_id, area, color | None, reasons) at once; each account whose pressure
    changed is recomputed once. A pressure set to what it already is changes no colour,
    so it recomputes nothing: a rule's CTA (which holds no area) opened by signal
    processing leaves its account to the coalesced recompute of the batch, instead of one
    recompute for each CTA opened."""
    now = clock.now()
    latest: dict[tuple[int, str], tuple[str | None, list[dict]]] = {}
    for account_id, area, color, reasons in pressures:  # the last word on a key wins
        if area not in AreaCode.values or color not in (None, Color.YELLOW, Color.RED):
            raise ValidationError(f"Bad CTA pressure {area!r} {color!r}.")
        latest[(account_id, area)] = (color, reasons)
    # A few statements, not one update_or_create per pressure (3,800 of them when the
    # 20,000-account demo book opens its CTAs).
    with transaction.atomic():
        held = {
            (p.account_id, p.area): (p.color, p.reasons)
            for p in CtaPressure.objects.filter(account_id__in={a for a, _ in latest})
        }
        changed = {
            key: (color, reasons)
            for key, (color, reasons) in latest.items()
            if held.get(key) != ((color, reasons) if color else None)
        }
        released: dict[str, list[int]] = {}
        for (account_id, area), (color, _) in changed.items():
            if color is None:
                released.setdefault(area, []).append(account_id)
        for area, account_ids in released.items():
            CtaPressure.objects.filter(area=area, account_id__in=account_ids).delete()
        CtaPressure.objects.bulk_create(
            [
                CtaPressure(
                    account_id=account_id, area=area, color=color, reasons=reasons, updated_at=now
                )
                for (account_id, area), (color, reasons) in changed.items()
                if color is not None
            ],
            batch_size=500,
            update_conflicts=True,
            unique_fields=["account", "area"],
            update_fields=["color", "reasons", "updated_at"],
        )
        if changed:
            recompute({a for a, _ in changed}, cause="cta")
