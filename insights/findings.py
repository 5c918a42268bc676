"""What the executive summary's measures say of each account: its velocity and people
findings, kept from the recompute that measured them.

The summary's velocity and people findings are the scorecard measures' own rows
(``support.noncritical_velocity``, ``company.key_contact_left``,
``company.title_downgrade``): a velocity of at least ``VELOCITY_LEAD``, a people measure that
is yellow or red with data. One function per signal turns measure rows into findings
(``velocity_findings``, ``people_findings``), wherever the rows come from:

- **kept**: each recompute sends the rows it computed (``events.measures_computed``), and
  ``findings_record`` keeps its accounts' findings (``MeasureFinding``) and marks them
  measured (``MeasuredAccount``). The summary reads those: what the scorecard's last
  recompute measured, as the colours beside them are.
- **asked**: the accounts no recompute has measured since findings were kept, and those
  whose facts changed since their last recompute (a recompute is pending), are asked of the
  measures as of the page's time (``measure_verdicts``), as the summary did for every
  account before: a handful, not the book.

``summary_findings`` gives both together. ``asked_findings`` over all the accounts is the
reference: on a book just recomputed, the two agree (``tests/insights/test_findings.py``).
"""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Iterable

import pandas as pd
from django.db import connection, transaction

from accounts.choices import LifecycleStage, PeopleChangeKind
from accounts.models import Account, Contact, PeopleChange
from csrisk.db import IDS_IN, IDS_ROWS, dialect, ids_param, upsert_rows
from insights.models import MeasuredAccount, MeasureFinding
from scorecards.measures import CHAMPION, DEFERRED, EDM, EDM_LEFT, Threshold, key_role
from scorecards.models import PendingRecompute
from scorecards.selectors import measure_verdicts, thresholds, velocity_latest

logger = logging.getLogger(__name__)

GREEN = "green"
# The velocity the summary calls a lead: +25%. The measure colours yellow only at +50% by
# default, so +25–49% is a rise still under it.
VELOCITY_LEAD = 0.25
VELOCITY = "support.noncritical_velocity"
KEY_CONTACT_LEFT = "company.key_contact_left"
TITLE_DOWNGRADE = "company.title_downgrade"
PEOPLE_MEASURES = (KEY_CONTACT_LEFT, TITLE_DOWNGRADE)
SUMMARY_MEASURES = (VELOCITY, *PEOPLE_MEASURES)

# Up to this many accounts asked, the departures are read for them alone.
FEW = 2000

# (account id, velocity, the measure's sentence, the day of the latest ticket it counted)
Velocity = list[tuple[int, float, str, dt.date]]
# (account id, measure code, value, the measure's sentence, the date of the change)
People = list[tuple[int, str, float, str, dt.date]]
# (account id, key role) → the latest departure in that role on record
Departures = dict[tuple[int, str], dt.date]


# --- measure rows → findings (one definition per signal) -----------------------------------


def velocity_findings(
    rows: pd.DataFrame, now: dt.datetime, configured: list[Threshold]
) -> Velocity:
    """The accounts whose non-critical ticket velocity — the scorecard measure's row, as of
    ``now``, with its configured window, floor, critical priorities and credibility — is at
    least ``VELOCITY_LEAD``, with the measure's sentence and the day of the latest ticket it
    counted. A row too thin to judge (``no_data``) is no finding."""
    rows = rows[
        (rows["measure"] == VELOCITY)
        & ~rows["no_data"].astype(bool)
        & (rows["value"] >= VELOCITY_LEAD)
    ]
    if rows.empty:
        return []
    ids = [int(a) for a in rows["account_id"].tolist()]
    # The date of the finding: the latest of the tickets the measure counted.
    t = next(t for t in configured if t.code == VELOCITY)
    opened = velocity_latest(ids, now, t)
    return [
        (a, float(v), sentence, opened.get(a, now).date())
        for a, v, sentence in zip(
            ids, rows["value"].tolist(), rows["sentence"].tolist(), strict=True
        )
    ]


def people_findings(
    rows: pd.DataFrame,
    now: dt.datetime,
    configured: list[Threshold],
    left_on: Departures | None = None,
) -> People:
    """The accounts the people measures' rows (as of ``now``) call yellow or red with data,
    with the measure's value and sentence and the date of the change it speaks of: the
    latest downgrade the measure counted (its reason links), or the latest departure in the
    role the measure speaks of (key contact left: its rows link no facts). ``left_on``: the
    departures on record, when read already (``people_candidates``)."""
    rows = rows[
        rows["measure"].isin(PEOPLE_MEASURES)
        & (rows["color"] != GREEN)
        & ~rows["no_data"].astype(bool)
    ]
    if rows.empty:
        return []
    if left_on is None:
        asked = {int(a) for a in rows["account_id"].tolist()}
        left_on, _ = people_candidates(now, configured, account_ids=asked)
    # The newest change a measure counted comes first in its reason links.
    newest = {
        int(ref_ids.split(",")[0])
        for ref_ids in rows["ref_ids"].tolist()
        if ref_ids and not ref_ids.startswith(DEFERRED)
    }
    when = dict(PeopleChange.objects.filter(pk__in=newest).values_list("pk", "occurred_at"))
    found: People = []
    for a, code, value, sentence, ref_ids in zip(
        *(rows[c].tolist() for c in ("account_id", "measure", "value", "sentence", "ref_ids")),
        strict=True,
    ):
        first = ref_ids.split(",")[0] if ref_ids and not ref_ids.startswith(DEFERRED) else ""
        if first and int(first) in when:
            on = when[int(first)].date()
        else:  # who left, as the measure's value says: the decision maker or a champion
            on = left_on.get((a, EDM if value >= EDM_LEFT else CHAMPION), now.date())
        found.append((int(a), code, float(value), sentence, on))
    return found


def edm_left(people: People) -> dict[int, tuple[str, dt.date]]:
    """Of these people findings, the accounts whose decision maker left, as the measure
    says it (``company.key_contact_left`` at ``EDM_LEFT``): account → sentence and date."""
    return {
        a: (sentence, on)
        for a, code, value, sentence, on in people
        if code == KEY_CONTACT_LEFT and value >= EDM_LEFT
    }


def people_candidates(
    now: dt.datetime,
    configured: list[Threshold],
    codes: Iterable[str] = PEOPLE_MEASURES,
    role: str | None = None,
    account_ids: set[int] | None = None,
) -> tuple[Departures, set[int]]:
    """The accounts the measures ``codes`` can call yellow or red: those with a departure of
    a key contact (``measures.key_role``; ``role``: in that role only) or a title change on
    record in a measure's window (of ``account_ids``; None: any). A superset: the measures
    decide."""
    windows = [t.window_days for t in configured if t.code in set(codes) and t.enabled]
    if not windows:
        return {}, set()
    # A day more than the longest window: a superset of what any measure counts.
    since = now - dt.timedelta(days=max(windows) + 1)
    left_on: Departures = {}
    changed: set[int] = set()

    def left(account_id: int, roles: object, on: dt.date) -> None:
        key = key_role(roles)
        if key is not None and (role is None or key == role):
            left_on[account_id, key] = max(left_on.get((account_id, key), on), on)

    changes = PeopleChange.objects.filter(
        change__in=[PeopleChangeKind.LEFT, PeopleChangeKind.TITLE_CHANGED],
        occurred_at__gte=since,
        occurred_at__lte=now,
    )
    gone = Contact.objects.filter(
        at_company=False, left_on__gte=since.date(), left_on__lte=now.date()
    )
    if account_ids is not None:
        changes = changes.filter(account_id__in=sorted(account_ids))
        gone = gone.filter(account_id__in=sorted(account_ids))
    for account_id, change, at, roles in changes.order_by().values_list(
        "account_id", "change", "occurred_at", "roles"
    ):
        if change == PeopleChangeKind.LEFT:
            left(account_id, roles, at.date())
        else:
            changed.add(account_id)
    for account_id, on, roles in gone.order_by().values_list("account_id", "left_on", "roles"):
        left(account_id, roles, on)
    return left_on, changed


# --- asked: the measures as of now ------------------------------------------------------------


def asked_findings(
    now: dt.datetime, account_ids: Iterable[int], configured: list[Threshold]
) -> tuple[Velocity, People]:
    """The velocity and people findings of these accounts, the measures asked as of ``now``
    (``measure_verdicts``). The people measures are asked only about the accounts with a
    departure or a title change on record (``people_candidates``)."""
    ids = sorted(set(account_ids))
    if not ids:
        return [], []
    velocity = velocity_findings(
        measure_verdicts([VELOCITY], ids, now, configured), now, configured
    )
    # A few accounts: their departures alone; many: the table's, not an IN list of them all.
    few = set(ids) if len(ids) <= FEW else None
    left_on, changed = people_candidates(now, configured, account_ids=few)
    asked = ({a for a, _ in left_on} | changed) & set(ids)
    people: People = []
    if asked:
        rows = measure_verdicts(PEOPLE_MEASURES, asked, now, configured)
        people = people_findings(rows, now, configured, left_on)
    return velocity, people


# --- kept: the findings of the last recompute ----------------------------------------------------


def findings_record(account_ids: list[int], rows: pd.DataFrame, at: dt.datetime) -> None:
    """Keep the findings a recompute's measure rows (as of ``at``) give for its accounts,
    in place of those of their previous recompute, and mark the accounts measured. Only
    what changed is written: a steady-state recompute writes nothing (and commits nothing)."""
    ids = sorted({int(a) for a in account_ids})
    if not ids:
        return
    configured = thresholds()
    mine = rows[rows["measure"].isin(SUMMARY_MEASURES)] if len(rows) else rows
    new: dict[tuple[int, str], tuple[float, str, dt.date]] = {}
    if len(mine):
        for a, v, sentence, on in velocity_findings(mine, at, configured):
            new[a, VELOCITY] = (v, sentence, on)
        for a, code, v, sentence, on in people_findings(mine, at, configured):
            new[a, code] = (v, sentence, on)
    vendor = dialect()
    listed = ids_param(ids, vendor)
    with connection.cursor() as cursor:
        cursor.execute(ON_RECORD_SQL[vendor], [listed, listed])
        on_record = cursor.fetchall()
    marked = {a for pk, a, *_ in on_record if pk is None}
    old = {(a, code): (pk, (v, sentence, on)) for pk, a, code, v, sentence, on in on_record if pk}
    gone = [pk for key, (pk, found) in old.items() if new.get(key) != found]
    added = [(*k, *found, at) for k, found in new.items() if old.get(k, (0, None))[1] != found]
    unmarked = [a for a in ids if a not in marked]
    if not (gone or added or unmarked):
        return
    with transaction.atomic():
        if gone:
            MeasureFinding.objects.filter(pk__in=gone).delete()
        # An upsert: a recompute of the same account on another worker may have written it.
        upsert_rows(MeasureFinding, FINDING_COLUMNS, added, unique=["account", "measure"])
        if unmarked:  # a recompute on another worker may mark them too
            marks = connection.ops.quote_name(MeasuredAccount._meta.db_table)
            with connection.cursor() as cursor:
                cursor.execute(MARK_SQL[vendor].format(marks=marks), [ids_param(unmarked, vendor)])


# The findings on record of some accounts, then (id NULL) those of them marked measured.
ON_RECORD_SQL = {
    vendor: f"""
    SELECT id, account_id, measure, value, sentence, "on" FROM {MeasureFinding._meta.db_table}
    WHERE account_id {ids}
    UNION ALL
    SELECT NULL, account_id, NULL, NULL, NULL, NULL FROM {MeasuredAccount._meta.db_table}
    WHERE account_id {ids}"""
    for vendor, ids in IDS_IN.items()
}
# (SQLite needs the WHERE to read ON CONFLICT as the upsert's, not as a join's ON.)
MARK_SQL = {
    vendor: "INSERT INTO {marks} (account_id) " + rows + " WHERE true ON CONFLICT DO NOTHING"
    for vendor, rows in IDS_ROWS.items()
}


FINDING_COLUMNS = ("account_id", "measure", "value", "sentence", "on", "computed_at")


def kept_findings(
    account_ids: Iterable[int], configured: list[Threshold]
) -> tuple[Velocity, People, list[int]]:
    """The kept findings of these accounts, for the measures enabled now; and the accounts
    among them to ask instead (never measured since findings were kept, or a recompute
    pending: their facts changed after it). One statement, straight from the cursor."""
    wanted = set(account_ids)
    on = {t.code for t in configured if t.enabled}
    velocity: Velocity = []
    people: People = []
    ask: list[int] = []
    with connection.cursor() as cursor:
        cursor.execute(KEPT_SQL, [LifecycleStage.CHURNED])
        rows = cursor.fetchall()
    for a, code, value, sentence, day in rows:
        if a not in wanted:
            continue
        if code is None:
            ask.append(a)
        elif code in on:
            if code == VELOCITY:
                velocity.append((a, value, sentence, day))
            else:
                people.append((a, code, value, sentence, day))
    return velocity, people, ask


# The kept findings, then (measure NULL) the live accounts to ask: not measured, or pending.
KEPT_SQL = f"""
    SELECT account_id, measure, value, sentence, "on" FROM {MeasureFinding._meta.db_table}
    UNION ALL
    SELECT a.id, NULL, NULL, NULL, NULL FROM {Account._meta.db_table} a
    WHERE a.lifecycle_stage <> %s AND (
        NOT EXISTS (
            SELECT 1 FROM {MeasuredAccount._meta.db_table} m WHERE m.account_id = a.id)
        OR EXISTS (
            SELECT 1 FROM {PendingRecompute._meta.db_table} p WHERE p.account_id = a.id))
"""


def summary_findings(
    now: dt.datetime, account_ids: Iterable[int], configured: list[Threshold] | None = None
) -> tuple[Velocity, People]:
    """The velocity and people findings of these accounts: kept from their last recompute,
    or asked as of ``now`` for the accounts it does not cover (``kept_findings``). In the
    order the measures give them (measure by measure as configured, accounts in order)."""
    configured = configured or thresholds()
    velocity, people, ask = kept_findings(account_ids, configured)
    if ask:
        asked = set(ask)
        v, p = asked_findings(now, ask, configured)
        velocity = [f for f in velocity if f[0] not in asked] + v
        people = [f for f in people if f[0] not in asked] + p
    order = {t.code: i for i, t in enumerate(configured)}
    velocity.sort(key=lambda f: f[0])
    people.sort(key=lambda f: (order.get(f[1], 0), f[0]))
    return velocity, people
