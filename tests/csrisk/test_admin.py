"""Every model has an admin page, and each admin list and add page renders."""

import pytest
from django.apps import apps
from django.contrib import admin
from django.db.models import CompositePrimaryKey
from django.urls import reverse

from tests.conftest import login

OUR_APPS = (
    "csrisk",
    "accounts",
    "scorecards",
    "ctas",
    "escalation",
    "sponsors",
    "signals",
    "insights",
)


def ours() -> list:
    """Our models, but for the bookkeeping tables keyed by a composite primary key (the
    Segment rollup's seen message ids and user-days), which Django's admin cannot show."""
    return [
        m
        for m in apps.get_models()
        if m._meta.app_label in OUR_APPS and not isinstance(m._meta.pk, CompositePrimaryKey)
    ]


def test_every_model_is_registered():
    missing = [m._meta.label for m in ours() if m not in admin.site._registry]
    assert missing == []


@pytest.mark.parametrize(
    "model",
    ours(),
    ids=lambda m: m._meta.label,
)
def test_each_admin_list_renders(org, model):
    url = reverse(f"admin:{model._meta.app_label}_{model._meta.model_name}_changelist")
    assert login(org.admin).get(url).status_code == 200
