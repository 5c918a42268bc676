"""CTA pressure: the account is recomputed at once when what a CTA holds changes."""

from __future__ import annotations

from unittest import mock

from scorecards import services


def test_it_recomputes_an_account_at_once_only_when_a_cta_pressure_changes(account_a):
    services.recompute([account_a.pk])
    hold = [{"id": 5, "sentence": "Open risk CTA"}]
    with mock.patch("scorecards.services.pressure.recompute") as recomputed:
        services.cta_pressure_set(account_id=account_a.pk, area="habits", color=None)
        assert recomputed.call_count == 0  # nothing held, nothing released: no recompute
        services.cta_pressure_set(
            account_id=account_a.pk, area="habits", color="yellow", reasons=hold
        )
        assert recomputed.call_count == 1
        services.cta_pressure_set(
            account_id=account_a.pk, area="habits", color="yellow", reasons=hold
        )
        assert recomputed.call_count == 1  # the same hold again
        services.cta_pressure_set(account_id=account_a.pk, area="habits", color=None)
        assert recomputed.call_count == 2
