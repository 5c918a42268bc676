"""normalise: the stored JSON and digest of a signal are those of its payload, whatever
shortcut builds them (a resend is recognised by its digest)."""

from __future__ import annotations

import datetime as dt
import hashlib
import json

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from signals.normalise import normalise
from tests import profile
from tests.signals.helpers import ticket

NOW = dt.datetime(2026, 11, 22, 12, 0, tzinfo=dt.UTC)
text = st.text(max_size=40).map(str.strip).filter(lambda s: "\x00" not in s)


def reference(item) -> tuple[str, str]:
    """The payload's JSON as the general encoder writes it, and the digest over it."""
    payload = json.dumps(item.payload(), separators=(",", ":"), default=str)
    head = f"{item.kind}|{item.occurred_at.isoformat()}|"
    return payload, hashlib.sha1((head + payload).encode(), usedforsecurity=False).hexdigest()


@settings(max_examples=profile.examples(ci=300), derandomize=True, deadline=None)
@given(
    ext=text.filter(bool),
    account=st.one_of(text.filter(bool), st.integers(1, 2**40)),
    subject=text,
    group=text,
    tags=st.lists(text, max_size=4),
    solved=st.booleans(),
    when=st.sampled_from(
        ["2026-10-01T09:30:00Z", "2026-10-01T09:30:00.5+02:00", "2026-10-01", 1790000000]
    ),
)
def test_it_stores_a_ticket_as_its_payload_encodes(
    ext, account, subject, group, tags, solved, when
):
    raw = ticket(ext, account=account, subject=subject, requester_group=group, tags=tags)
    raw["occurred_at"] = when
    if solved:
        raw["attributes"]["solved_at"] = "2026-10-02T10:00:00Z"
    item = normalise(raw, now=NOW)
    assert item.encoded() == reference(item)
    assert json.loads(item.encoded()[0]) == item.payload()


def test_it_stores_other_kinds_as_their_payload_encodes():
    raws = [
        {
            **ticket(),
            "kind": "competitor",
            "attributes": {"competitor": "Rival ü", "activity": "evaluation"},
        },
        {
            **ticket(),
            "kind": "usage",
            "attributes": {"active_users": 3, "licensed_users": 9, "adoption": 0.5},
        },
        {**ticket(), "kind": "sentiment", "attributes": {"nps": 3, "comment": 'said "no"\n'}},
        {
            **ticket(),
            "kind": "org_change",
            "attributes": {"change": "left", "contact": {"email": "A@B.C", "roles": ["edm"]}},
        },
    ]
    for raw in raws:
        item = normalise(raw, now=NOW)
        assert item.encoded() == reference(item)


def test_it_refuses_a_line_break_in_a_contact_name_or_title():
    from signals.normalise import Invalid, normalise

    base = {
        "source": "crm",
        "external_id": "P-1",
        "kind": "org_change",
        "account": {"external_id": "A-1"},
        "occurred_at": "2026-10-01T09:30:00Z",
    }
    for attrs in (
        {"change": "left", "contact": {"name": "Dana\r\nBcc: x@evil.example"}},
        {"change": "title_changed", "contact": {"name": "Dana"}, "new_title": "VP\nOps"},
    ):
        with pytest.raises(Invalid, match="control character"):
            normalise({**base, "attributes": attrs}, now=NOW)
