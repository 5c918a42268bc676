"""Logs: one structured line per event, with the request id that caused it.

Every log line, whether written with ``structlog.get_logger()`` or the standard
``logging.getLogger(...)``, goes through structlog's ``ProcessorFormatter``: JSON in
production, plain readable text in development (``CSRISK_LOG_FORMAT``). The request id is
a context variable: ``RequestLogMiddleware`` binds it for the request, ``before_task_publish``
copies it into each Celery message queued meanwhile, and ``task_prerun`` binds it again in
the worker, so a signal's processing lines carry the id of the POST that brought it.
docs/operations.md, "Logs, errors and metrics".
"""

from __future__ import annotations

import re
import uuid
from collections.abc import Mapping, MutableMapping
from contextvars import Token
from typing import Any

import structlog
from structlog.contextvars import bind_contextvars, get_contextvars, reset_contextvars
from structlog.typing import EventDict, Processor

JSON, TEXT = "json", "text"
FORMATS = (JSON, TEXT)
REQUEST_ID_HEADER = "X-Request-ID"
# What an inbound X-Request-ID may be; anything else is replaced by a fresh id (never
# echoed: a header or log line must not carry what a client smuggled into it).
_SANE_REQUEST_ID = re.compile(r"[A-Za-z0-9._-]{1,128}")
# The key of the request id in a Celery message's headers (and so in ``task.request``).
TASK_HEADER = "csrisk_request_id"

# Keys whose values are never written, whatever logs them; and credentials inside text
# (an Authorization header's value quoted in a message or an exception).
_SECRET_KEY = re.compile(
    r"authorization|password|passwd|secret|token|api[_-]?key|cookie|session|csrf|dsn",
    re.IGNORECASE,
)
_SECRET_IN_TEXT = re.compile(r"\b(Bearer|Token|Basic)\s+[A-Za-z0-9._~+/=-]{8,}", re.IGNORECASE)
# Addresses whose path is the credential (csrisk.calendars): Django's own "Not Found: …"
# warnings quote the path.
_SECRET_IN_PATH = re.compile(r"(/calendar/feed/)[^/\s'\"?]+")
REDACTED = "[redacted]"


def request_id_from(value: str | None) -> str:
    """The inbound id when it is sane (≤ 128 of ``[A-Za-z0-9._-]``), else a new one."""
    if value and _SANE_REQUEST_ID.fullmatch(value):
        return value
    return uuid.uuid4().hex


def current_request_id() -> str | None:
    return get_contextvars().get("request_id")


def bind(**values: Any) -> Mapping[str, Token[Any]]:
    """Bind ``values`` into every log line of this context; undo with ``unbind(tokens)``."""
    return bind_contextvars(**values)


def unbind(tokens: Mapping[str, Token[Any]]) -> None:
    reset_contextvars(**tokens)


def _scrub(value: Any) -> Any:
    if value is None or isinstance(value, bool | int | float):
        return value
    if isinstance(value, dict):
        return {k: REDACTED if _SECRET_KEY.search(str(k)) else _scrub(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_scrub(v) for v in value]
    if not isinstance(value, str):  # an object (Django's ``request``) is logged as its str
        value = str(value)
    value = _SECRET_IN_TEXT.sub(lambda m: f"{m.group(1)} {REDACTED}", value)
    return _SECRET_IN_PATH.sub(lambda m: f"{m.group(1)}{REDACTED}", value)


def redact(logger: Any, method: str, event_dict: EventDict) -> EventDict:
    """Never write secrets: drop the values of secret-looking keys, and credentials in text.
    The last step before rendering, so it sees what every other step added."""
    # The record's formatted message, when another handler formatted it first: the event.
    event_dict.pop("message", None)
    for key in list(event_dict):
        if key in ("event", "exception"):
            event_dict[key] = _scrub(event_dict[key])
        elif _SECRET_KEY.search(key):
            event_dict[key] = REDACTED
        else:
            event_dict[key] = _scrub(event_dict[key])
    return event_dict


_FIRST = ("timestamp", "level", "logger", "event", "request_id")


def ordered(logger: Any, method: str, event_dict: EventDict) -> EventDict:
    """The same fields first on every line, so a person reading JSON finds them."""
    out = {key: event_dict.pop(key) for key in _FIRST if key in event_dict}
    out.update(event_dict)
    return out


def _shared(fmt: str) -> list[Processor]:
    """What both structlog's loggers and the standard library's records go through."""
    steps: list[Processor] = [
        structlog.contextvars.merge_contextvars,
        structlog.stdlib.add_logger_name,
        structlog.stdlib.add_log_level,
        structlog.stdlib.ExtraAdder(),
        structlog.processors.TimeStamper(fmt="iso", utc=True),
        structlog.processors.StackInfoRenderer(),
    ]
    if fmt == JSON:
        # A traceback as one string field of the line (text mode prints it below the line).
        steps.append(structlog.processors.format_exc_info)
    return steps


def logging_config(fmt: str, level: str) -> dict[str, Any]:
    """Django's LOGGING: every record through structlog's formatter, as ``fmt``."""
    renderer: Processor = (
        structlog.processors.JSONRenderer(sort_keys=False)
        if fmt == JSON
        # A plain traceback: rich's (structlog's default when rich is installed) prints
        # every frame's local variables, which may hold secrets, and a QuerySet's repr queries.
        else structlog.dev.ConsoleRenderer(
            colors=False, exception_formatter=structlog.dev.plain_traceback
        )
    )
    return {
        "version": 1,
        "disable_existing_loggers": False,
        "formatters": {
            "structured": {
                "()": structlog.stdlib.ProcessorFormatter,
                "foreign_pre_chain": _shared(fmt),
                "processors": [
                    structlog.stdlib.ProcessorFormatter.remove_processors_meta,
                    redact,
                    ordered,
                    renderer,
                ],
            }
        },
        "handlers": {"console": {"class": "logging.StreamHandler", "formatter": "structured"}},
        "root": {"handlers": ["console"], "level": level},
        "loggers": {
            "django.db.backends": {"level": "WARNING"},
        },
    }


def configure(fmt: str) -> None:
    """structlog's own loggers hand their events to the standard library, where the
    formatter above renders them, so both kinds of line come out the same."""
    structlog.configure(
        processors=[
            structlog.stdlib.filter_by_level,
            *_shared(fmt),
            structlog.stdlib.PositionalArgumentsFormatter(),
            structlog.stdlib.ProcessorFormatter.wrap_for_formatter,
        ],
        logger_factory=structlog.stdlib.LoggerFactory(),
        wrapper_class=structlog.stdlib.BoundLogger,
        cache_logger_on_first_use=True,
    )


# --- Celery: the request id travels with the messages a request queued --------------------

_task_tokens: dict[str, Mapping[str, Token[Any]]] = {}


def on_before_task_publish(headers: MutableMapping[str, Any] | None = None, **_: Any) -> None:
    request_id = current_request_id()
    if request_id and headers is not None:
        headers[TASK_HEADER] = request_id


def _task_request_id(task: Any) -> str | None:
    request = getattr(task, "request", None)
    value = getattr(request, TASK_HEADER, None)
    if value is None:
        value = (getattr(request, "headers", None) or {}).get(TASK_HEADER)
    return value if isinstance(value, str) and _SANE_REQUEST_ID.fullmatch(value) else None


def on_task_prerun(task_id: str | None = None, task: Any = None, **_: Any) -> None:
    """Bind the task and the request id that queued it (in-process tasks already run in
    the request's context, which is kept)."""
    values: dict[str, Any] = {"task": getattr(task, "name", None), "task_id": task_id}
    request_id = _task_request_id(task)
    if request_id:
        values["request_id"] = request_id
    if task_id:
        _task_tokens[task_id] = bind(**values)


def on_task_postrun(task_id: str | None = None, **_: Any) -> None:
    tokens = _task_tokens.pop(task_id, None) if task_id else None
    if tokens:
        unbind(tokens)


def connect_celery() -> None:
    from celery import signals

    signals.before_task_publish.connect(on_before_task_publish, dispatch_uid="csrisk-log-pub")
    signals.task_prerun.connect(on_task_prerun, dispatch_uid="csrisk-log-prerun")
    signals.task_postrun.connect(on_task_postrun, dispatch_uid="csrisk-log-postrun")


def get_logger(name: str | None = None) -> Any:
    return structlog.get_logger(name)
