"""HubSpot webhook events → people changes (generic ``org_change`` signals).

A HubSpot event names only the object that changed: a contact's new ``jobtitle`` or its
deletion carries the contact's id, not its company. The company comes from the association
events (``contact.associationChange`` / ``company.associationChange`` of type
CONTACT_TO_COMPANY or COMPANY_TO_CONTACT), kept in ``HubSpotAssociation`` (the latest change
of each pair wins), or else from the contact csrisk already has under that HubSpot id
(``Contact.crm_id``). A contact whose company is unknown either way is parked under
``hubspot-contact:<id>`` and released when an association for it arrives (or a person
matches it). The changes then take the one path of every signal (``signals_store``, then
``people_changes_record`` when processed).

HubSpot's events carry no name: a contact csrisk meets first through them is named
``HubSpot contact <id>``. When the app also subscribes to ``firstname``, ``lastname`` or
``email`` property changes, those events name it (``contact_names_record``): the first
and last name replace the placeholder (or the e-mail address standing in for a name) or
the matching part of a name, and an e-mail address is set. An event naming a contact
csrisk has not met yet is not kept.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from typing import Any

from accounts.models import Contact
from accounts.services import contacts_named_by_source
from signals.adapters import HUBSPOT, HUBSPOT_COMPANY, HUBSPOT_CONTACT, HubSpotEvent
from signals.models import HubSpotAssociation
from signals.normalise import Unreadable
from signals.services.matching import parked_move

TITLE_PROPERTY = "jobtitle"
NAME_PROPERTIES = ("firstname", "lastname", "email")
PLACEHOLDER = "HubSpot contact {}"
CONTACT_TO_COMPANY = "CONTACT_TO_COMPANY"
COMPANY_TO_CONTACT = "COMPANY_TO_CONTACT"


def _when(ms: int) -> dt.datetime:
    return dt.datetime.fromtimestamp(ms / 1000, tz=dt.UTC)


def _association(e: HubSpotEvent) -> tuple[str, str] | None:
    """(contact id, company id) of a contact–company association event, else None."""
    if not e.subscription_type.endswith(".associationChange"):
        return None
    if e.association_type == CONTACT_TO_COMPANY and e.from_id and e.to_id:
        return e.from_id, e.to_id
    if e.association_type == COMPANY_TO_CONTACT and e.from_id and e.to_id:
        return e.to_id, e.from_id
    return None


def associations_record(events: Sequence[HubSpotEvent]) -> list[tuple[str, str]]:
    """Keep the contact–company associations the events change (the latest change of a
    pair wins, so a late retry of an older event changes nothing). Returns the pairs newly
    associated, whose contact's parked signals may now find their company."""
    added: list[tuple[str, str]] = []
    for e in sorted(events, key=lambda e: e.occurred_at):
        pair = _association(e)
        if pair is None:
            continue
        contact, company = pair
        when = _when(e.occurred_at)
        changed = HubSpotAssociation.objects.filter(
            contact_id=contact, company_id=company, changed_at__lt=when
        ).update(removed=e.removed, changed_at=when)
        if not changed:
            _, created = HubSpotAssociation.objects.get_or_create(
                contact_id=contact,
                company_id=company,
                defaults={"removed": e.removed, "changed_at": when},
            )
            changed = created
        if changed and not e.removed:
            added.append(pair)
    return added


def _companies(contacts: set[str]) -> dict[str, str]:
    """Each contact's company: its latest association that is not removed."""
    out: dict[str, str] = {}
    rows = (
        HubSpotAssociation.objects.filter(contact_id__in=contacts, removed=False)
        .order_by("changed_at")
        .values_list("contact_id", "company_id")
    )
    for contact, company in rows:
        out[contact] = company  # the latest wins
    return out


def _account_ref(contact: str, companies: dict[str, str], known: dict[str, int]) -> dict[str, Any]:
    if contact in companies:
        return {"external_id": HUBSPOT_COMPANY + companies[contact]}
    if contact in known:
        return {"id": known[contact]}
    return {"external_id": HUBSPOT_CONTACT + contact}


def _person(
    contact: str, *, named: bool, title: str = "", batch: dict[str, dict[str, str]] | None = None
) -> dict[str, Any]:
    """The contact as HubSpot names it: its id, and its name and e-mail when the batch
    sets them. ``named``: a placeholder name without one, so a contact csrisk has not met
    is created (and its next title change can be compared)."""
    person: dict[str, Any] = {"crm_id": contact}
    values = (batch or {}).get(contact)
    if values:
        name, email = _naming(values)
        if email:
            person["email"] = email
        if name:
            person["name"] = name
    if named and "name" not in person:
        person["name"] = PLACEHOLDER.format(contact)
    if title:
        person["title"] = title
    return person


def _batch_names(events: Sequence[HubSpotEvent]) -> dict[str, dict[str, str]]:
    """Contact id → the latest ``firstname`` / ``lastname`` / ``email`` the batch sets."""
    latest: dict[str, dict[str, tuple[int, str]]] = {}
    for e in events:
        if e.subscription_type == "contact.propertyChange" and e.property_name in NAME_PROPERTIES:
            have = latest.setdefault(e.object_id, {})
            if e.property_name not in have or have[e.property_name][0] <= e.occurred_at:
                have[e.property_name] = (e.occurred_at, e.property_value.strip())
    return {c: {k: v for k, (_, v) in props.items()} for c, props in latest.items()}


def _naming(values: dict[str, str], name: str = "", email: str = "", stand_in: bool = True):
    """(name, email) from a contact's name and e-mail and the batch's values for it; a
    stand-in name (the placeholder or the address) gives way to a first or last name."""
    email = values.get("email") or email
    first, _, last = ("", "", "") if stand_in else name.partition(" ")
    first = values.get("firstname", first)
    last = values.get("lastname", last)
    return " ".join(p for p in (first, last) if p) or (email if stand_in else name), email


def contact_names_record(batch: dict[str, dict[str, str]]) -> int:
    """Name the contacts csrisk has under these HubSpot ids (``_batch_names``). Returns how
    many contacts changed."""
    if not batch:
        return 0
    names: dict[int, dict[str, str]] = {}
    for contact in Contact.objects.filter(crm_id__in=batch):
        values = batch[contact.crm_id]
        stand_in = contact.name in (
            PLACEHOLDER.format(contact.crm_id),
            contact.email,
            values.get("email"),
        )
        name, email = _naming(values, contact.name, contact.email, stand_in)
        names[contact.pk] = {"name": name, **({"email": email} if email else {})}
    return contacts_named_by_source(source=HUBSPOT, names=names)


def hubspot_signals(events: Sequence[HubSpotEvent | Unreadable]) -> tuple[list[Any], int]:
    """The people changes a HubSpot batch carries, in the generic shape (an unreadable
    event stays an ``Unreadable``, rejected on its own), and how many events say nothing
    csrisk reads (another property, another association type, a company deletion).

    Keys: a title change or deletion by its event (``<portalId>:<eventId>``); a join or
    leave by the association itself (``assoc:<contact>:<company>:<added|removed>:<ms>``),
    since HubSpot sends one event from each side of an association change."""
    good = [e for e in events if isinstance(e, HubSpotEvent)]
    batch = _batch_names(good)
    contact_names_record(batch)
    for contact, company in associations_record(good):
        parked_move(HUBSPOT, HUBSPOT_CONTACT + contact, HUBSPOT_COMPANY + company)
    wanted = {
        e.object_id
        for e in good
        if e.subscription_type == "contact.deletion"
        or (e.subscription_type == "contact.propertyChange" and e.property_name == TITLE_PROPERTY)
    }
    companies = _companies(wanted) if wanted else {}
    unknown = wanted - companies.keys()
    known = (
        dict(Contact.objects.filter(crm_id__in=unknown).values_list("crm_id", "account_id"))
        if unknown
        else {}
    )
    out: list[Any] = []
    ignored = 0
    for e in events:
        if not isinstance(e, HubSpotEvent):
            out.append(e)
            continue
        base = {"source": HUBSPOT, "kind": "org_change", "occurred_at": e.occurred_at}
        pair = _association(e)
        if pair is not None:
            contact, company = pair
            change = "left" if e.removed else "joined"
            out.append(
                {
                    **base,
                    "external_id": f"assoc:{contact}:{company}:"
                    f"{'removed' if e.removed else 'added'}:{e.occurred_at}",
                    "account": {"external_id": HUBSPOT_COMPANY + company},
                    "attributes": {
                        "change": change,
                        "contact": _person(contact, named=not e.removed, batch=batch),
                    },
                }
            )
        elif e.subscription_type == "contact.deletion" and e.object_id:
            out.append(
                {
                    **base,
                    "external_id": e.key,
                    "account": _account_ref(e.object_id, companies, known),
                    "attributes": {"change": "left", "contact": _person(e.object_id, named=False)},
                }
            )
        elif (
            e.subscription_type == "contact.propertyChange"
            and e.property_name == TITLE_PROPERTY
            and e.object_id
        ):
            title = e.property_value.strip()
            out.append(
                {
                    **base,
                    "external_id": e.key,
                    "account": _account_ref(e.object_id, companies, known),
                    "attributes": {
                        "change": "title_changed",
                        "new_title": title,
                        "contact": _person(e.object_id, named=True, title=title, batch=batch),
                    },
                }
            )
        elif not (
            e.subscription_type == "contact.propertyChange" and e.property_name in NAME_PROPERTIES
        ):
            ignored += 1
    return out, ignored
