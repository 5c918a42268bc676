"""Every CSV export goes through csrisk.exports, the one place that defuses formulas."""

from __future__ import annotations

import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
RAW_WRITER = re.compile(r"csv\.(writer|DictWriter)\(")


def test_it_finds_no_csv_writer_outside_the_safe_helper():
    offenders = [
        str(path.relative_to(ROOT))
        for path in ROOT.rglob("*.py")
        if path.relative_to(ROOT).parts[0] not in {".venv", "tests", "benchmarks"}
        and path.relative_to(ROOT) != Path("csrisk/exports.py")
        and RAW_WRITER.search(path.read_text(encoding="utf-8"))
    ]
    assert offenders == [], "write CSV exports with csrisk.exports.csv_writer"
