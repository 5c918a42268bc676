"""The risk model's say in the VP's "suggested for level 2" lane: an account whose renewal
risk is in the top band is a level-2 reason (``SuggestionRule.RISK_TOP_BAND``). Escalation
asks its registered sources (``escalation.services.suggestions.register_source``); insights
registers this one, since escalation must not import insights."""

from __future__ import annotations

from escalation.choices import Level, SuggestionRule
from insights.models import RiskBand, RiskModelKind, RiskPrediction
from insights.predictions import PRIOR_NOTE


def top_band_reasons(account_ids: list[int]) -> dict[int, list[tuple[str, int, str, str]]]:
    """Level-2 reasons of these accounts whose latest prediction is in the high band. The
    basis is the renewal it is about: a dismissed suggestion comes back at the next one."""
    found: dict[int, list[tuple[str, int, str, str]]] = {}
    for p in (
        RiskPrediction.objects.filter(
            latest=True, band=RiskBand.HIGH, account_id__in=list(account_ids)
        )
        .exclude(account__lifecycle_stage="churned")
        .select_related("model")
    ):
        why = next((r.get("text", "") for r in p.reasons or [] if isinstance(r, dict)), "")
        prior = f" ({PRIOR_NOTE})" if p.model.kind == RiskModelKind.PRIOR else ""
        sentence = f"Renewal risk {p.probability:.0%}, high band{prior}" + (
            f": {why}" if why else ""
        )
        basis = f"risk-high:{p.renewal_date or ''}"
        found.setdefault(p.account_id, []).append(
            (SuggestionRule.RISK_TOP_BAND, Level.VP, sentence[:500], basis)
        )
    return found
