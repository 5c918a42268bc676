from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from tests.conftest import api


def committing(client: Any, capture: Callable) -> Any:
    """Run each request's after-commit work (queueing, processing) as a real commit would;
    the test's own transaction never commits."""
    for name in ("post", "get"):
        original = getattr(client, name)

        def call(*args: Any, _original: Callable = original, **kwargs: Any) -> Any:
            with capture(execute=True):
                return _original(*args, **kwargs)

        setattr(client, name, call)
    return client


@pytest.fixture
def client(org, django_capture_on_commit_callbacks):
    """The integration user's token client."""
    return committing(api(org.integration, token=True), django_capture_on_commit_callbacks)
