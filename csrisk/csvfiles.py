"""Reading an uploaded CSV file, the same way for every import (accounts, contacts,
signals, renewal outcomes): the whole file is checked before any row is planned.

- the size, then every byte decoded (a bad byte is named with its line), not a sample;
- the header: present, free of control characters, and no column named twice (pandas
  would silently rename the second ``arr`` to ``arr.1`` and the import would ignore it);
- every cell: control characters (NUL and the other C0/C1 codes but tab and line
  breaks) are reported per row by ``check_cells``, so they never reach the database
  (PostgreSQL refuses a NUL in text and in JSON) or a page.
"""

from __future__ import annotations

import csv
import io
import re
import unicodedata
from dataclasses import dataclass
from typing import Any

import pandas as pd
from django.conf import settings

# C0 controls but tab, LF and CR; DEL; C1 controls.
CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f]")


class CsvFileError(Exception):
    """The file as a whole cannot be read (encoding, size, shape); nothing was written."""


@dataclass
class RowError:
    """One problem in one cell, for the per-row report."""

    row: int  # 1-based line number in the file, the header being line 1
    column: str
    value: str
    reason: str

    def as_dict(self) -> dict[str, Any]:
        # Stored as JSON and shown on pages: control characters travel escaped.
        return {
            "row": self.row,
            "column": escape_controls(self.column),
            "value": escape_controls(self.value),
            "reason": self.reason,
        }


def escape_controls(text: str) -> str:
    """``text`` with each control character written as ``\\xNN`` (NUL as ``\\x00``)."""
    return CONTROL.sub(lambda m: f"\\x{ord(m.group()):02x}", str(text))


def normalise_header(header: str) -> str:
    return re.sub(r"[^a-z0-9]+", "_", str(header).strip().lower()).strip("_")


def check_size(n_bytes: int) -> None:
    """Refuse a file over CSRISK_IMPORT_MAX_BYTES (checked before reading an upload, too)."""
    limit = settings.CSRISK_IMPORT_MAX_BYTES
    if n_bytes > limit:
        raise CsvFileError(
            f"The file is {n_bytes / 1_048_576:.1f} MB; the limit is "
            f"{limit / 1_048_576:.0f} MB. Split it into smaller files."
        )


def decode(content: bytes, encoding: str = "utf-8") -> str:
    """The whole file as text; a byte that does not decode is named with its line."""
    check_size(len(content))
    if not content.strip():
        raise CsvFileError("The file is empty.")
    if content.startswith((b"\xff\xfe", b"\xfe\xff")):
        raise CsvFileError("The file is UTF-16 text; save it as 'CSV UTF-8' and upload it again.")
    if b"\x00" in content[:4096]:
        raise CsvFileError("This is not a CSV text file (it contains binary data).")
    try:
        return content.decode("utf-8-sig" if encoding.lower() in ("utf-8", "utf8") else encoding)
    except UnicodeDecodeError as exc:
        line = content.count(b"\n", 0, exc.start) + 1
        raise CsvFileError(
            f"The file is not valid {encoding} text: byte 0x{content[exc.start]:02x} on line "
            f"{line} (position {exc.start}) cannot be read. Save it as 'CSV UTF-8' or choose "
            "the file's encoding (e.g. latin-1)."
        ) from None
    except LookupError:
        raise CsvFileError(f"Unknown encoding {encoding!r}.") from None


def check_header(header: list[str]) -> None:
    """Refuse control characters in the header and a column named twice (after
    normalising, so ``ARR`` and ``arr `` are the same column); blank headers may repeat."""
    for name in header:
        found = CONTROL.search(name)
        if found:
            raise CsvFileError(
                f"The header {escape_controls(name)!r} contains a control character "
                f"({_describe(found.group())})."
            )
    first: dict[str, int] = {}
    for position, name in enumerate(header, start=1):
        key = normalise_header(name)
        if not key:
            continue
        if key in first:
            raise CsvFileError(
                f"The header names column {name.strip()!r} more than once (columns "
                f"{first[key]} and {position}); give each column its own name."
            )
        first[key] = position


def read_csv(content: bytes, *, encoding: str = "utf-8") -> pd.DataFrame:
    """Decode, check and parse; every cell a stripped string. Raises CsvFileError."""
    text = decode(content, encoding)
    try:
        dialect = csv.Sniffer().sniff(text[:8192], delimiters=",;\t|")
        sep = dialect.delimiter
    except csv.Error:
        sep = ","
    try:
        header = next(csv.reader(io.StringIO(text), delimiter=sep), [])
    except csv.Error as exc:
        raise CsvFileError(f"The file is not a readable CSV: {exc}") from None
    check_header(header)
    try:
        frame = pd.read_csv(
            io.StringIO(text), sep=sep, dtype=str, keep_default_na=False, skip_blank_lines=True
        )
    except (pd.errors.ParserError, pd.errors.EmptyDataError, ValueError) as exc:
        raise CsvFileError(f"The file is not a readable CSV: {exc}") from None
    if len(frame.columns) == 0:
        raise CsvFileError("The file has no header row.")
    frame = frame.map(lambda v: v.strip() if isinstance(v, str) else v)
    if frame.empty:
        raise CsvFileError("The file has a header row but no data rows.")
    return frame


def check_cells(frame: pd.DataFrame) -> tuple[pd.DataFrame, list[RowError]]:
    """One error per cell holding a control character, and the frame with those cells
    escaped, so that planning the rest (lookups by name or id) never sends a NUL to the
    database. Vectorised: one pass a column."""
    errors = []
    frame = frame.copy()
    for column in frame.columns:
        values = frame[column].astype(str)
        hits = values.str.contains(CONTROL, regex=True)
        if not hits.any():
            continue
        for i in hits[hits].index:
            value = values[i]
            found = CONTROL.search(value)
            assert found is not None
            errors.append(
                RowError(
                    int(i) + 2,
                    str(column),
                    value[:80],
                    f"contains a control character ({_describe(found.group())}); "
                    "remove it from the file",
                )
            )
        frame.loc[hits, column] = values[hits].map(escape_controls)
    errors.sort(key=lambda e: (e.row, e.column))
    return frame, errors


def _describe(char: str) -> str:
    code = ord(char)
    if code == 0:
        return "NUL, U+0000"
    name = unicodedata.name(char, "")
    return f"{name}, U+{code:04X}" if name else f"U+{code:04X}"
