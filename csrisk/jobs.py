"""Queue a Celery task by its dotted name, so services never import tasks.

Tasks import services (a task is thin: it loads ids and calls one); a service that needs
work done in the background names the task instead of importing it, so the import runs
one way only and the services stay importable without the task modules.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any

from celery import group
from celery.result import AsyncResult
from celery.utils.imports import symbol_by_name


def queue(task_path: str, *args: Any, **options: Any) -> AsyncResult:
    """Send ``task_path`` (e.g. ``"accounts.tasks.run_import_task"``) with ``args``.

    ``options`` go to ``apply_async`` (``countdown=…``, ``queue=…``). The task is looked up
    when called, so a test patching the task object reaches it, and eager mode (no Redis:
    tasks run in-process) still runs it at once.
    """
    return symbol_by_name(task_path).apply_async(args, **options)


def queue_group(task_path: str, args: Iterable[Sequence[Any]], **options: Any) -> Any:
    """Send ``task_path`` once per tuple of ``args`` as one Celery group: one publish of
    many bounded messages that every worker on the task's queue takes from. Eager mode
    runs them here, one after the other. No result is kept (there is no result backend):
    a caller that needs a final step records its progress in the database."""
    task = symbol_by_name(task_path)
    return group(task.s(*a) for a in args).apply_async(**options)


def runs_eagerly() -> bool:
    """True when tasks run in-process at once (no broker): nothing is scheduled for later."""
    from django.conf import settings

    from csrisk.celery import app

    return bool(settings.CELERY_TASK_ALWAYS_EAGER or app.conf.task_always_eager)
