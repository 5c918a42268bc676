"""A hand-made book for the executive summary: colours, history and facts set by hand."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

from accounts.choices import LifecycleStage, Segment
from scorecards.models import AreaScore, ColorChange, Scorecard
from tests.factories import AccountFactory

NOW = dt.datetime(2026, 6, 15, 12, 0, tzinfo=dt.UTC)


def days_ago(n: float) -> dt.datetime:
    return NOW - dt.timedelta(days=n)


def card(account, color: str, areas: dict[str, str] | None = None) -> None:
    Scorecard.objects.create(
        account=account,
        color=color,
        score={"green": 90, "yellow": 50, "red": 20}[color],
        weighted_score=80,
        reason="",
        changed_at=NOW,
        computed_at=NOW,
    )
    for area, c in (areas or {}).items():
        AreaScore.objects.create(
            account=account,
            area=area,
            color=c,
            score=20,
            computed_color=c,
            computed_score=20,
            reasons=[],
            changed_at=NOW,
            computed_at=NOW,
        )


def change(account, area: str, old: str, new: str, at: dt.datetime) -> None:
    ColorChange.objects.create(
        account=account, area=area, from_color=old, to_color=new, score=50, at=at, cause="measures"
    )


def book(org) -> dict:
    """Three live accounts and one churned one (which the summary leaves out).

    alpha 100k enterprise team A, renews 2026-07-10: red now (support red since 5 days),
          yellow 30 days ago (yellow since day 60), green 90 days ago.
    beta   50k mid-market team B, renews 2026-12-01: yellow since day 100.
    gamma  30k SMB team A, no renewal date: green since day 20, red before.
    gone  999k churned, red: not in any figure.
    """
    alpha = AccountFactory(
        name="Alpha",
        arr=Decimal("100000"),
        segment=Segment.ENTERPRISE,
        owner=org.csm_a,
        renewal_date=dt.date(2026, 7, 10),
    )
    beta = AccountFactory(
        name="Beta",
        arr=Decimal("50000"),
        segment=Segment.MID_MARKET,
        owner=org.csm_b,
        renewal_date=dt.date(2026, 12, 1),
    )
    gamma = AccountFactory(
        name="Gamma", arr=Decimal("30000"), segment=Segment.SMB, owner=org.csm_a, renewal_date=None
    )
    gone = AccountFactory(
        name="Gone", arr=Decimal("999000"), lifecycle_stage=LifecycleStage.CHURNED, owner=org.csm_a
    )
    card(alpha, "red", {"support": "red"})
    change(alpha, "overall", "green", "yellow", days_ago(60))
    change(alpha, "overall", "yellow", "red", days_ago(10))
    change(alpha, "support", "green", "red", days_ago(5))
    card(beta, "yellow", {"product": "yellow"})
    change(beta, "overall", "green", "yellow", days_ago(100))
    card(gamma, "green")
    change(gamma, "overall", "red", "green", days_ago(20))
    card(gone, "red", {"support": "red"})
    return {"alpha": alpha, "beta": beta, "gamma": gamma, "gone": gone}
