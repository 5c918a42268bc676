"""csrisk.jobs: services queue tasks by name instead of importing them."""

from __future__ import annotations

from unittest import mock

import pytest

from csrisk import jobs


@pytest.mark.django_db
def test_it_runs_a_task_named_by_its_path_in_process_without_a_broker(settings):
    settings.CELERY_TASK_ALWAYS_EAGER = True
    assert jobs.runs_eagerly()
    # No override is due: the task runs here and now and says it ended none.
    assert jobs.queue("scorecards.tasks.expire_overrides_task").get() == 0


def test_it_passes_the_arguments_and_options_to_apply_async():
    from accounts.tasks import run_import_task

    with mock.patch.object(run_import_task, "apply_async") as sent:
        jobs.queue("accounts.tasks.run_import_task", 7, countdown=5, queue="ingest")
    sent.assert_called_once_with((7,), countdown=5, queue="ingest")


def test_it_refuses_a_name_that_is_no_task():
    with pytest.raises((ImportError, AttributeError)):
        jobs.queue("accounts.tasks.no_such_task")
