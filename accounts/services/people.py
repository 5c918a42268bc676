"""People changes: the one path every change among a customer's people takes."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from django.db import transaction
from django.db.models import Q

from accounts.choices import PeopleChangeKind
from accounts.models import Contact, ContactTitleChange, PeopleChange


@dataclass
class PeopleChangeIn:
    """One change among a customer's people, as any path reports it: REST, a webhook, a
    CSV upload, the account-contact import, a person editing a contact, the demo seed.

    ``person`` is the contact as the sender describes them (email, name, title, roles,
    crm_id); ``contact`` the contact itself when the caller holds it already. Titles left
    blank are read from the contact on record."""

    account_id: int
    change: str  # a PeopleChangeKind
    occurred_at: dt.datetime
    person: dict[str, Any] = field(default_factory=dict)
    contact: Contact | None = None
    old_title: str = ""
    new_title: str = ""
    from_company: str = ""
    roles: list[str] | None = None  # the person's roles then; else the contact's
    source: str = "manual"
    external_id: str | None = None


@dataclass
class PeopleChangeOut:
    """What recording a change found: the contact (None when the sender named nobody) and
    the title before and after."""

    contact: Contact | None
    old_title: str
    new_title: str
    recorded: bool  # False: nothing changed (a title we knew already, a first sighting)
    record: PeopleChange | None = None  # the people change, when one was recorded


@transaction.atomic
def people_changes_record(changes: Sequence[PeopleChangeIn]) -> list[PeopleChangeOut]:
    """Record people changes and everything each implies, in the order they happened: the
    contact (created when unknown), its roles, title and whether it is still at the
    company; the ``PeopleChange`` — the one record the company measures read — and, for a
    title change of a contact, the contact's title history (``ContactTitleChange``),
    derived here and nowhere else. Safe to run twice: a change with an external id is
    upserted by (source, external_id), and a title-history row is written once.

    A title change needs a title before it: a first sighting of someone (a new contact, a
    title we had not on record) sets the contact's title and records no change."""
    if not changes:
        return []
    order = sorted(range(len(changes)), key=lambda i: changes[i].occurred_at)
    known = _ContactIndex([c for c in changes if c.contact is None])
    out: list[PeopleChangeOut | None] = [None] * len(changes)
    rows: dict[tuple[str, str] | int, PeopleChange] = {}
    keys: dict[int, tuple[str, str] | int] = {}
    titles: list[ContactTitleChange] = []
    dirty: dict[int, set[str]] = {}
    for i in order:
        c = changes[i]
        p = c.person
        contact = c.contact or known.find(c.account_id, p)
        old_title = c.old_title or (contact.title if contact else "")
        new_title = c.new_title or p.get("title") or ""
        retitled = (
            c.change == PeopleChangeKind.TITLE_CHANGED
            and bool(new_title and old_title)
            and new_title != old_title
        )
        if contact is None and (p.get("name") or p.get("email")):
            contact = Contact.objects.create(
                account_id=c.account_id,
                name=(p.get("name") or p["email"])[:200],  # an address may be longer
                email=p.get("email", ""),
                title=new_title if c.change != PeopleChangeKind.LEFT else p.get("title", ""),
                roles=p.get("roles") or c.roles or [],
                crm_id=p.get("crm_id") or None,
                at_company=c.change != PeopleChangeKind.LEFT,
                left_on=c.occurred_at.date() if c.change == PeopleChangeKind.LEFT else None,
            )
            known.add(contact)
        if contact is not None:
            changed = dirty.setdefault(contact.pk, set()) if contact.pk else set()
            if p.get("roles") and contact.roles != p["roles"]:
                contact.roles = p["roles"]
                changed.add("roles")
            if c.change == PeopleChangeKind.LEFT and contact.at_company:
                contact.at_company, contact.left_on = False, c.occurred_at.date()
                changed |= {"at_company", "left_on"}
            if c.change == PeopleChangeKind.JOINED and not contact.at_company:
                contact.at_company, contact.left_on = True, None
                changed |= {"at_company", "left_on"}
            if c.change == PeopleChangeKind.TITLE_CHANGED and new_title != contact.title:
                contact.title = new_title
                changed.add("title")
            if retitled:
                titles.append(
                    ContactTitleChange(
                        contact=contact,
                        old_title=old_title,
                        new_title=new_title,
                        changed_on=c.occurred_at.date(),
                        source=c.source,
                    )
                )
        out[i] = PeopleChangeOut(contact, old_title, new_title, recorded=False)
        if c.change == PeopleChangeKind.TITLE_CHANGED and not retitled:
            continue  # a title we knew, or the first we hear of: no change
        row = PeopleChange(
            account_id=c.account_id,
            contact=contact,
            change=c.change,
            occurred_at=c.occurred_at,
            roles=(c.roles if c.roles is not None else contact.roles if contact else None)
            or p.get("roles")
            or [],
            old_title=old_title if retitled else c.old_title,
            new_title=new_title if retitled else c.new_title,
            from_company=c.from_company,
            source=c.source,
            external_id=c.external_id or None,
        )
        keys[i] = (c.source, c.external_id) if c.external_id else i
        rows[keys[i]] = row
    for contact in known.contacts(changes):
        fields = dirty.get(contact.pk)
        if fields:
            contact.save(update_fields=[*fields, "updated_at"])
    PeopleChange.objects.bulk_create(
        list(rows.values()),
        update_conflicts=True,
        unique_fields=["source", "external_id"],
        update_fields=[
            "account",
            "contact",
            "change",
            "occurred_at",
            "roles",
            "old_title",
            "new_title",
            "from_company",
        ],
    )
    _title_history_add(titles)
    done = [o for o in out if o is not None]
    for i, key in keys.items():
        done[i].recorded, done[i].record = True, rows[key]  # a resend in the batch: the last
    return done


def _title_history_add(titles: list[ContactTitleChange]) -> None:
    """Write the title-history rows not written before (one query to find those)."""
    if not titles:
        return
    have = set(
        ContactTitleChange.objects.filter(
            contact_id__in={t.contact_id for t in titles}
        ).values_list("contact_id", "old_title", "new_title", "changed_on")
    )
    new: dict[tuple, ContactTitleChange] = {}
    for t in titles:
        key = (t.contact_id, t.old_title, t.new_title, t.changed_on)
        if key not in have:
            new.setdefault(key, t)
    ContactTitleChange.objects.bulk_create(list(new.values()))


class _ContactIndex:
    """The contacts a batch of changes may concern, read in two queries, found by CRM id,
    then e-mail, then name (the order a sender's description is most reliable in)."""

    def __init__(self, changes: list[PeopleChangeIn]) -> None:
        self.by_crm: dict[str, Contact] = {}
        self.by_email: dict[tuple[int, str], Contact] = {}
        self.by_name: dict[tuple[int, str], Contact] = {}
        self.seen: dict[int, Contact] = {}
        crm_ids = {c.person["crm_id"] for c in changes if c.person.get("crm_id")}
        accounts = {c.account_id for c in changes if c.person.get("email") or c.person.get("name")}
        if crm_ids or accounts:
            found = Contact.objects.filter(Q(crm_id__in=crm_ids) | Q(account_id__in=accounts))
            # The oldest first: where two share an e-mail or a name, the first on record wins.
            for contact in found.order_by("-pk"):
                self.add(contact)

    def add(self, contact: Contact) -> None:
        self.seen[contact.pk] = contact
        if contact.crm_id:
            self.by_crm[contact.crm_id] = contact
        if contact.email:
            self.by_email[(contact.account_id, contact.email.lower())] = contact
        self.by_name[(contact.account_id, contact.name)] = contact

    def find(self, account_id: int, person: dict[str, Any]) -> Contact | None:
        return (
            self.by_crm.get(person.get("crm_id") or "")
            or self.by_email.get((account_id, (person.get("email") or "").lower()))
            or self.by_name.get((account_id, person.get("name") or ""))
        )

    def contacts(self, changes: Sequence[PeopleChangeIn]) -> list[Contact]:
        """Every contact the batch touched, each once."""
        out = dict(self.seen)
        for c in changes:
            if c.contact is not None and c.contact.pk:
                out.setdefault(c.contact.pk, c.contact)
        return list(out.values())
