"""JSON bodies, read one way everywhere: malformed, too deeply nested or with a number too
long to convert is a 400 with a reason, never a 500 (a RecursionError or the ValueError
of Python's integer-digits limit escaping DRF's parser)."""

from __future__ import annotations

import json
import sys
from typing import Any

from rest_framework import parsers
from rest_framework.exceptions import ParseError

# Python's json module recurses once per level; past the interpreter's recursion limit it
# raises RecursionError (the exact depth depends on the stack already in use).
DEPTH_LIMIT = "about 1,000"


class MalformedJSON(ValueError):
    """The body is not JSON csrisk will read; the message says why."""


def _refuse_constant(name: str) -> Any:
    raise MalformedJSON(f"Malformed JSON: {name} is not a JSON value.")


def parse_json(data: bytes | str, *, strict: bool = True) -> Any:
    """The JSON value of ``data``; MalformedJSON with a reason a sender can act on.

    ``strict`` refuses NaN and Infinity, which Python reads but JSON does not allow."""
    try:
        if strict:
            return json.loads(data, parse_constant=_refuse_constant)
        return json.loads(data)
    except MalformedJSON:
        raise
    except RecursionError:
        raise MalformedJSON(
            f"Malformed JSON: nested more than {DEPTH_LIMIT} levels deep; flatten it."
        ) from None
    except UnicodeDecodeError:
        raise MalformedJSON("Malformed JSON: the body is not UTF-8 text.") from None
    except ValueError as exc:  # JSONDecodeError, or the integer-digits limit
        if "integer string conversion" in str(exc):
            digits = sys.get_int_max_str_digits()
            raise MalformedJSON(
                f"Malformed JSON: a number with more than {digits} digits; send it as a string."
            ) from None
        raise MalformedJSON(f"Malformed JSON: {exc}") from None


class JSONParser(parsers.JSONParser):
    """DRF's JSON parser over ``parse_json`` (the default parser of the API)."""

    def parse(self, stream: Any, media_type: str | None = None, parser_context: Any = None) -> Any:
        parser_context = parser_context or {}
        encoding = parser_context.get("encoding") or "utf-8"
        data = stream.read() if stream is not None else b""
        try:
            text = data.decode(encoding) if isinstance(data, bytes) else data
        except (LookupError, UnicodeDecodeError):
            raise ParseError(f"Malformed JSON: the body is not {encoding} text.") from None
        try:
            return parse_json(text, strict=self.strict)
        except MalformedJSON as exc:
            raise ParseError(str(exc)) from None
