"""``Authorization: Token <key>`` (CONTRACT.md) against hashed, expiring, revocable tokens."""

from __future__ import annotations

from typing import Any

from rest_framework import exceptions
from rest_framework.authentication import TokenAuthentication

from csrisk import tokens


class ApiTokenAuthentication(TokenAuthentication):
    """DRF's header parsing and 401 challenge; the key is looked up by its SHA-256.
    ``request.auth`` is the ``ApiToken``, which signal ingestion records as the sender."""

    keyword = "Token"

    def authenticate_credentials(self, key: str) -> tuple[Any, Any]:
        token, why = tokens.token_authenticate(key)
        if token is None:
            raise exceptions.AuthenticationFailed(why)
        return token.user, token
