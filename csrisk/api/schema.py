"""Schema post-processing: every operation documents the errors every endpoint can give.

Each view documents its own business errors; these are the ones the framework answers for
all of them (a bad query parameter or body, no credentials, no permission, an unknown id,
too many requests, a database that is down), so clients and fuzzers find every status code
in the schema.
"""

from __future__ import annotations

from typing import Any

ERROR = {
    "type": "object",
    "description": "`detail` for one reason, or a field name mapped to its reasons.",
    "additionalProperties": True,
}

GENERIC = {
    "400": "Invalid input: the body names each field (or parameter) and why.",
    "401": "No or invalid credentials.",
    "403": "Not allowed for this user.",
    "404": "No such object (or an unknown address).",
    "429": "Too many requests: wait as `Retry-After` says.",
    "503": "The database is unreachable (down or restarting): retry after `Retry-After` "
    "seconds; nothing of this request was stored.",
}


def add_generic_errors(result: dict[str, Any], **kwargs: Any) -> dict[str, Any]:
    for path, operations in result.get("paths", {}).items():
        for method, operation in operations.items():
            if not isinstance(operation, dict) or "responses" not in operation:
                continue
            responses = operation["responses"]
            for code, description in GENERIC.items():
                if code == "404" and "{" not in path and method != "get":
                    continue
                responses.setdefault(
                    code,
                    {
                        "description": description,
                        "content": {"application/json": {"schema": ERROR}},
                    },
                )
            for response in responses.values():
                # Errors from the framework are JSON whatever the view documents.
                content = response.get("content")
                if content is not None and "application/json" not in content:
                    content["application/json"] = {"schema": ERROR}
    return result
