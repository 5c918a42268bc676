"""csrisk.db's shared pieces: the garbage-collector pause and COPY's text escaping (the COPY
engine itself runs on PostgreSQL only; tests/signals covers it through the ingestion API)."""

from __future__ import annotations

import gc

import pytest

from csrisk.db import COPY_NULL, CopySource, copy_text, gc_paused


@pytest.fixture
def collector_on():
    was = gc.isenabled()
    gc.enable()
    yield
    if not was:
        gc.disable()


def test_it_pauses_the_collector_and_resumes_it_after(collector_on):
    with gc_paused():
        assert not gc.isenabled()
    assert gc.isenabled()


def test_it_resumes_the_collector_after_an_error(collector_on):
    with pytest.raises(RuntimeError), gc_paused():
        raise RuntimeError("boom")
    assert gc.isenabled()


def test_it_leaves_the_collector_paused_for_an_outer_pause(collector_on):
    with gc_paused():
        with gc_paused():
            assert not gc.isenabled()
        assert not gc.isenabled()  # the inner pause did not resume it
    assert gc.isenabled()


def test_it_leaves_a_collector_the_process_turned_off_off(collector_on):
    gc.disable()
    with gc_paused():
        pass
    assert not gc.isenabled()


def test_it_escapes_the_characters_copy_reads_specially():
    assert copy_text("plain text") == "plain text"
    assert copy_text("a\\b\tc\nd\re") == "a\\\\b\\tc\\nd\\re"
    assert COPY_NULL == "\\N"


def test_it_hands_copy_the_lines_in_chunks_and_keeps_them_all():
    source = CopySource(iter(["aaaa\n", "bbbb\n", "cccc\n"]))
    assert source.read(8) == "aaaa\nbbbb\n"
    assert source.lines() == ["aaaa\n", "bbbb\n", "cccc\n"]
    assert source.read(8) == ""


def test_among_sends_any_number_of_ids_as_one_parameter(db):
    """300,000 ids: one parameter (``pk__in`` would send 300,000, past SQLite's limit), and
    the rows among them, none other."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from accounts.models import Account
    from csrisk.db import among
    from tests.factories import AccountFactory

    inside, outside = AccountFactory(name="In"), AccountFactory(name="Out")
    wanted = [i for i in range(1, 300_001) if i != outside.pk]
    assert inside.pk in wanted
    with CaptureQueriesContext(connection) as ctx:
        found = list(among(Account.objects.all(), "pk", wanted).values_list("pk", flat=True))
    assert found == [inside.pk]
    assert len(ctx.captured_queries) == 1
    sql = ctx.captured_queries[0]["sql"]
    assert "json_each" in sql or "unnest" in sql  # one array/JSON parameter, not a list
    assert list(among(Account.objects.all(), "pk", []).values_list("pk", flat=True)) == []


def test_insert_rows_writes_every_row_and_value_in_few_statements(db):
    """2,500 rows with NULLs, JSON and dates arrive as they were given; on PostgreSQL in
    three multi-row statements (``executemany`` there is one round trip a row)."""
    import datetime as dt

    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from accounts.models import Ticket
    from csrisk.db import VALUES_ROWS, insert_rows
    from tests.factories import AccountFactory

    account = AccountFactory()
    at = dt.datetime(2026, 10, 1, 9, 30, tzinfo=dt.UTC)
    columns = ("account_id", "source", "external_id", "kind", "subject", "priority", "status",
               "tags", "requester_group", "opened_at", "solved_at")  # fmt: skip
    rows = [
        (account.pk, "t", f"X-{i}", "support", f"S {i}", "normal", "open",
         ["a", i] if i % 2 else [], "", at, None if i % 3 else at)
        for i in range(2500)
    ]  # fmt: skip
    with CaptureQueriesContext(connection) as ctx:
        assert insert_rows(Ticket, columns, rows) == 2500
    stored = {
        t.external_id: t
        for t in Ticket.objects.filter(account=account).only("external_id", "tags", "solved_at")
    }
    assert len(stored) == 2500
    assert stored["X-7"].tags == ["a", 7] and stored["X-8"].tags == []
    assert stored["X-3"].solved_at == at and stored["X-4"].solved_at is None
    if connection.vendor == "postgresql":
        inserts = [q for q in ctx.captured_queries if q["sql"].startswith("INSERT")]
        assert len(inserts) == -(-2500 // VALUES_ROWS)
