"""Make the two records of title changes agree, once, for books written before
``accounts.services.people_changes_record`` was the one path:

- a title change a person typed or a contact import made was kept only as the contact's
  title history: it gains its people change (the record the company measures read);
- a title change that arrived over REST, a webhook or a CSV upload for a contact csrisk
  did not know was kept only as a people change: its contact gains the title history.

Set-based: each table is read once, and the missing rows are inserted in bulk.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.db import migrations


def backfill(apps: Any, schema_editor: Any) -> None:
    Contact = apps.get_model("accounts", "Contact")
    TitleChange = apps.get_model("accounts", "ContactTitleChange")
    PeopleChange = apps.get_model("accounts", "PeopleChange")
    db = schema_editor.connection.alias

    people = list(
        PeopleChange.objects.using(db)
        .filter(change="title_changed")
        .exclude(old_title="")
        .values_list("contact_id", "old_title", "new_title", "occurred_at", "source")
    )
    titles = list(
        TitleChange.objects.using(db).values_list(
            "contact_id", "old_title", "new_title", "changed_on", "source"
        )
    )
    have_people = {(c, o, n, at.date()) for c, o, n, at, _ in people if c is not None}
    have_titles = {(c, o, n, on) for c, o, n, on, _ in titles}

    missing_people = list(
        {tuple(t[:4]): t for t in reversed(titles) if tuple(t[:4]) not in have_people}.values()
    )
    if missing_people:
        contacts = Contact.objects.using(db).in_bulk({t[0] for t in missing_people})
        PeopleChange.objects.using(db).bulk_create(
            [
                PeopleChange(
                    account_id=contacts[c].account_id,
                    contact_id=c,
                    change="title_changed",
                    occurred_at=dt.datetime.combine(on, dt.time(), tzinfo=dt.UTC),
                    roles=contacts[c].roles or [],
                    old_title=o,
                    new_title=n,
                    source=source,
                )
                for c, o, n, on, source in missing_people
            ],
            batch_size=1000,
        )
    missing_titles = {
        (c, o, n, at.date()): source
        for c, o, n, at, source in people
        if c is not None and (c, o, n, at.date()) not in have_titles
    }
    TitleChange.objects.using(db).bulk_create(
        [
            TitleChange(contact_id=c, old_title=o, new_title=n, changed_on=on, source=source)
            for (c, o, n, on), source in missing_titles.items()
        ],
        batch_size=1000,
    )


class Migration(migrations.Migration):
    dependencies = [("accounts", "0004_summary_indexes")]

    operations = [migrations.RunPython(backfill, migrations.RunPython.noop)]
