"""Error reports to Sentry, when ``SENTRY_DSN`` is set (settings call ``init``); otherwise
sentry-sdk is not even imported."""

from __future__ import annotations

from typing import Any


def init(
    dsn: str, *, environment: str, traces_sample_rate: float, **options: Any
) -> dict[str, Any]:
    """Start the SDK with the Django and Celery integrations; return the options given.

    No personal data by default (``send_default_pii`` off: no user names, addresses,
    cookies or headers that could carry tokens). ``options`` is for tests (a transport).
    """
    import sentry_sdk
    from sentry_sdk.integrations.celery import CeleryIntegration
    from sentry_sdk.integrations.django import DjangoIntegration

    config: dict[str, Any] = {
        "dsn": dsn,
        "environment": environment,
        "traces_sample_rate": traces_sample_rate,
        "send_default_pii": False,
        "integrations": [DjangoIntegration(), CeleryIntegration()],
        **options,
    }
    sentry_sdk.init(**config)
    return config
