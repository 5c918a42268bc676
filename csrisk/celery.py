"""The Celery application. Settings come from Django's settings with the CELERY_ prefix."""

import os
from typing import Any

from celery import Celery
from celery.signals import setup_logging

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "csrisk.settings")

app = Celery("csrisk")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()


@setup_logging.connect
def logging_from_django(**kwargs: Any) -> None:
    """Workers and beat log through Django's LOGGING (csrisk.logs: JSON or text, with the
    request id), not Celery's own handlers; LOG_LEVEL sets the level."""
    from logging.config import dictConfig

    from django.conf import settings

    dictConfig(settings.LOGGING)
