"""docs/measures.md is generated from the measure registry and must stay in step with it."""

from __future__ import annotations

from io import StringIO
from pathlib import Path

from django.core.management import call_command

from scorecards.measures import DEFAULT_THRESHOLDS, MEASURES

DOC = Path(__file__).resolve().parents[2] / "docs" / "measures.md"


def _generated() -> str:
    out = StringIO()
    call_command("measures_reference", stdout=out)
    return out.getvalue()


def test_it_matches_the_committed_docs_measures_md() -> None:
    assert DOC.read_text(encoding="utf-8") == _generated(), (
        "docs/measures.md is out of date: run "
        "`python manage.py measures_reference > docs/measures.md` and commit it"
    )


def test_it_documents_every_registered_measure_with_its_defaults() -> None:
    text = _generated()
    for code in MEASURES:
        assert f"### {code}\n" in text
    for t in DEFAULT_THRESHOLDS:
        assert f"**{t.label}**" in text
