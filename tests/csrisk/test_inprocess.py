"""Without Redis, the beat schedule runs in-process: due entries run, others wait."""

import datetime as dt
from unittest import mock

from csrisk import inprocess

T0 = dt.datetime(2026, 11, 1, 12, 0, tzinfo=dt.UTC)


def test_nothing_runs_at_start_and_interval_jobs_run_when_due(db, settings):
    settings.CELERY_BEAT_SCHEDULE = {
        "every-minute": {"task": "scorecards.tasks.expire_overrides_task", "schedule": 60.0},
    }
    last: dict = {}
    with mock.patch("celery.schedules.schedule.now", return_value=T0):
        assert inprocess.run_due(last, T0) == []
    later = T0 + dt.timedelta(seconds=61)
    with mock.patch("celery.schedules.schedule.now", return_value=later):
        assert inprocess.run_due(last, later) == ["every-minute"]
        assert inprocess.run_due(last, later) == []  # ran just now


def test_a_failing_job_does_not_stop_the_others(db, settings):
    settings.CELERY_BEAT_SCHEDULE = {
        "broken": {"task": "scorecards.tasks.expire_overrides_task", "schedule": 60.0},
        "fine": {"task": "scorecards.tasks.recompute_pending_task", "schedule": 60.0},
    }
    last = {"broken": T0, "fine": T0}
    later = T0 + dt.timedelta(minutes=5)
    with (
        mock.patch("celery.schedules.schedule.now", return_value=later),
        mock.patch(
            "scorecards.services.overrides.expire_overrides", side_effect=RuntimeError("boom")
        ),
    ):
        assert inprocess.run_due(last, later) == ["fine"]
    assert last["broken"] == later
