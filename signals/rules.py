"""Rules that open de-duplicated CTAs when a signal or a measure crosses a threshold.

Rules are rows (``SignalRule``, editable in the admin, defaults seeded by a migration).
Event rules look at the signals just processed; measure rules (velocity, urgent tickets)
read their scorecard measure for the accounts those signals touched; people rules (a key
contact left, a key contact downgraded) take the person from the signal and the verdict
from their measure. CTAs come from
``ctas.services.cta_create(source=RULE)``, which de-duplicates on account + type + reason
while the CTA is live, so a rule firing twice opens one CTA.
"""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Sequence
from typing import Any, NamedTuple

from django.core.exceptions import ValidationError

from accounts.models import Account, Contact
from ctas.choices import CtaType
from ctas.services import RuleCta, rule_ctas_open
from scorecards.measures import DEFERRED, GREEN
from scorecards.selectors import measure_verdicts, thresholds
from signals.choices import Kind, RuleTrigger
from signals.models import Signal, SignalRule

log = logging.getLogger(__name__)


class Person(NamedTuple):
    """Who a people change concerned, as processing found them."""

    contact: Contact | None
    old_title: str
    new_title: str
    change_id: int | None = None  # the people change recorded for it (None: nothing new)


# A measure rule reads its measure, as the scorecard computes it with its configured
# window and parameters (``scorecards.selectors.measure_verdicts``), and fires when the
# measure's value reaches the rule's threshold.
MEASURE_OF = {
    RuleTrigger.VELOCITY: "support.noncritical_velocity",
    RuleTrigger.URGENT_TICKETS: "support.urgent_open",
}


def measured(code: str, account_ids: Sequence[int], now: dt.datetime) -> dict[int, float]:
    """Measure ``code``'s value per account, for the accounts it has one for: a row that is
    no data, or too thin to judge ("2 tickets vs 0"), has none (``measure_verdicts``)."""
    rows = measure_verdicts([code], account_ids, now)
    rows = rows[(rows["measure"] == code) & rows["value"].notna()]
    return dict(zip(rows["account_id"].tolist(), rows["value"].tolist(), strict=True))


# A people rule fires for a change of someone in its roles when the change's measure, with
# its configured window and thresholds, says the account is at risk (yellow or red, not
# "no data"); a disabled measure says nothing, so its rule never fires. The measure's
# reason links name the changes it counted (title downgrades): then this change must be one.
PEOPLE_MEASURE_OF = {
    RuleTrigger.CONTACT_LEFT: ("company.key_contact_left", "left"),
    RuleTrigger.TITLE_DOWNGRADE: ("company.title_downgrade", "title_changed"),
}


def at_risk(code: str, account_ids: Sequence[int], now: dt.datetime) -> dict[int, set[int] | None]:
    """The accounts measure ``code`` calls at risk, each with the ids of the facts it
    counted (None when its rows carry no links)."""
    rows = measure_verdicts([code], account_ids, now)
    rows = rows[
        (rows["measure"] == code) & (rows["color"] != GREEN) & ~rows["no_data"].astype(bool)
    ]
    found: dict[int, set[int] | None] = {}
    for account_id, ref_ids in zip(
        rows["account_id"].tolist(), rows["ref_ids"].tolist(), strict=True
    ):
        linked = ref_ids and not ref_ids.startswith(DEFERRED)
        found[int(account_id)] = {int(i) for i in ref_ids.split(",") if i} if linked else None
    return found


def _wanted(rule: SignalRule, account: Account, **values: Any) -> RuleCta | None:
    """The CTA ``rule`` calls for on ``account``; None when its text names an unknown field
    (the signal stays processed; the rule's problem is logged, not retried forever)."""
    fill = {"name": "", "title": "", "competitor": "", "value": "", **values}
    try:
        return RuleCta(
            account=account,
            reason=rule.cta_reason.format(**fill)[:200],
            area=rule.cta_area,
            priority=rule.cta_priority,
            description=(rule.cta_description or "").format(**fill),
            playbook=rule.playbook,
            type=CtaType.RISK,
        )
    except (KeyError, IndexError) as exc:
        log.warning("rule %r could not open a CTA on account %s: %s", rule.name, account.pk, exc)
        return None


# An event rule reads its event; in history (a backfill) the event is the past, and a CTA
# opens only when the area's measure, with its configured window, still says at risk now
# and counts an event this recent: an evaluation that ended last year opens nothing.
STILL_TRUE_OF = {
    RuleTrigger.COMPETITOR: "product.competitor_exposure",
    RuleTrigger.LOW_NPS: "sentiment.nps_level",
}


def still_true(code: str, signals: Sequence[Signal], now: dt.datetime) -> list[Signal]:
    """The ``signals`` measure ``code`` still counts now: within its window, on an account
    it calls at risk (people and measure rules read their measure at ``now`` already)."""
    window = next((t.window_days for t in thresholds() if t.code == code), None)
    if window is None or not signals:
        return []
    since = now - dt.timedelta(days=window)
    recent = [s for s in signals if s.occurred_at > since]
    risky = at_risk(code, sorted({s.account_id for s in recent}), now) if recent else {}
    return [s for s in recent if s.account_id in risky]


def evaluate(
    signals: Sequence[Signal],
    *,
    people: dict[int, Person],
    now: dt.datetime,
    history: bool = False,
) -> None:
    """Open the CTAs the active rules call for; ``history``: the signals are a backfill's
    past, and only what is still true now opens a CTA (``STILL_TRUE_OF``)."""
    active = list(SignalRule.objects.filter(active=True))
    if not active or not signals:
        return
    if history:
        kept: set[int] = set()
        for trigger, kind in (
            (RuleTrigger.COMPETITOR, Kind.COMPETITOR),
            (RuleTrigger.LOW_NPS, Kind.SENTIMENT),
        ):
            events = [s for s in signals if s.kind == kind]
            kept |= {s.pk for s in still_true(STILL_TRUE_OF[trigger], events, now)}
        signals = [
            s for s in signals if s.kind not in (Kind.COMPETITOR, Kind.SENTIMENT) or s.pk in kept
        ]
        if not signals:
            return
    # What to open, in order; the accounts are loaded afterwards, only those a rule fired
    # for: a batch of 500 signals usually opens nothing.
    fired: list[tuple[SignalRule, int, dict[str, Any]]] = []
    verdicts: dict[str, dict[int, set[int] | None]] = {}
    for rule in active:
        if rule.trigger in PEOPLE_MEASURE_OF:
            code, change = PEOPLE_MEASURE_OF[rule.trigger]
            changes = [
                s
                for s in signals
                if s.kind == Kind.ORG_CHANGE and s.payload["attributes"]["change"] == change
            ]
            if not changes:
                continue
            if code not in verdicts:  # once per measure, however many rules read it
                verdicts[code] = at_risk(code, sorted({s.account_id for s in changes}), now)
            for s in changes:
                if s.account_id not in verdicts[code]:
                    continue
                a = s.payload["attributes"]
                person = people.get(s.pk) or Person(None, "", "")
                counted = verdicts[code][s.account_id]
                if counted is not None and person.change_id not in counted:
                    continue  # the measure counted other changes, not this one
                contact = person.contact
                roles = set((contact.roles if contact else None) or a["contact"].get("roles") or [])
                if rule.roles and not roles & set(rule.roles):
                    continue
                name = (contact.name if contact else "") or a["contact"].get("name") or "a contact"
                title = person.new_title if change == "title_changed" else a["contact"].get("title")
                fired.append((rule, s.account_id, {"name": name, "title": title}))
        elif rule.trigger == RuleTrigger.COMPETITOR:
            for s in signals:
                if s.kind != Kind.COMPETITOR:
                    continue
                a = s.payload["attributes"]
                if rule.activities and a["activity"] not in rule.activities:
                    continue
                fired.append((rule, s.account_id, {"competitor": a["competitor"]}))
        elif rule.trigger == RuleTrigger.LOW_NPS and rule.threshold is not None:
            for s in signals:
                nps = s.payload["attributes"].get("nps") if s.kind == Kind.SENTIMENT else None
                if nps is not None and nps <= rule.threshold:
                    fired.append((rule, s.account_id, {"value": nps}))
        elif rule.trigger in MEASURE_OF:
            if rule.threshold is None:
                continue
            touched = sorted({s.account_id for s in signals if s.kind == Kind.TICKET})
            if not touched:
                continue
            for account_id, value in measured(MEASURE_OF[rule.trigger], touched, now).items():
                if value >= rule.threshold:
                    shown = f"{value:+.0%}" if rule.trigger == RuleTrigger.VELOCITY else int(value)
                    fired.append((rule, account_id, {"value": shown}))
    if fired:
        touched = {a for _, a, _ in fired}
        # The rule CTAs live on these accounts are read once and the new ones opened together
        # (``rule_ctas_open``): a burst of signals opens hundreds at once.
        accounts = Account.objects.select_related("owner__team__lead").in_bulk(touched)
        wanted = [
            _wanted(rule, accounts[account_id], **values) for rule, account_id, values in fired
        ]
        items = [w for w in wanted if w is not None]
        names = [rule.name for (rule, _, _), w in zip(fired, wanted, strict=True) if w is not None]
        for item, name, result in zip(items, names, rule_ctas_open(items), strict=True):
            if isinstance(result, ValidationError):
                # An account without an owner: the signal stays processed; logged, not retried.
                log.warning(
                    "rule %r could not open a CTA on account %s: %s", name, item.account.pk, result
                )
