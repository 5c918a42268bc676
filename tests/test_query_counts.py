"""Query-count assertions count: Django keeps only the last 9,000 captured queries of a
connection, and once that log is full, a count taken by comparing its length reads 0."""

from __future__ import annotations

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from csrisk.models import User


def _fill_the_query_log() -> None:
    with CaptureQueriesContext(connection), connection.cursor() as cursor:
        for _ in range(connection.queries_limit):
            cursor.execute("SELECT 1")


def test_a_max_query_count_still_counts_after_the_log_filled(db, django_assert_max_num_queries):
    _fill_the_query_log()
    with pytest.raises(pytest.fail.Exception), django_assert_max_num_queries(0):
        User.objects.count()


def test_an_exact_query_count_still_counts_after_the_log_filled(db, django_assert_num_queries):
    _fill_the_query_log()
    with django_assert_num_queries(1):
        User.objects.count()
