"""Cell parsers: a value becomes the parsed value, or ``ValueError(reason)`` for the row's error."""

from __future__ import annotations

import re
from decimal import Decimal, InvalidOperation
from typing import Any

import pandas as pd

from csrisk.csvfiles import normalise_header

_CURRENCY_JUNK = re.compile(r"[\s,$€£¥]|^[A-Z]{3}\s*|\s*[A-Z]{3}$")


def parse_money(value: str) -> Decimal:
    cleaned = _CURRENCY_JUNK.sub("", value)
    try:
        amount = Decimal(cleaned)
    except InvalidOperation:
        raise ValueError("not a number") from None
    if not amount.is_finite():
        raise ValueError("not a number")
    if amount < 0:
        raise ValueError("ARR cannot be negative")
    if amount >= Decimal("1e12"):
        raise ValueError("ARR is implausibly large (≥ 1,000,000,000,000)")
    return amount.quantize(Decimal("0.01"))


def parse_dates(series: pd.Series) -> tuple[pd.Series, pd.Series]:
    """ISO dates (YYYY-MM-DD, or with a time). Returns (dates, bad mask) vectorised."""
    parsed = pd.to_datetime(series.str.slice(0, 10), format="%Y-%m-%d", errors="coerce")
    bad = parsed.isna() & (series != "")
    return parsed, bad


def date_reason(value: str) -> str:
    if re.fullmatch(r"\d{4}-\d{2}-\d{2}.*", value):
        return "not a real calendar date"
    return "expected a date as YYYY-MM-DD"


def parse_choice(value: str, table: dict[str, Any], what: str) -> Any:
    key = normalise_header(value)
    if key not in table:
        raise ValueError(
            f"unknown {what}; use one of {', '.join(sorted(set(map(str, table.values()))))}"
        )
    return table[key]
