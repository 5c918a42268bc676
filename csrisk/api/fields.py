"""Serializer fields shared by the apps' APIs."""

from __future__ import annotations

from typing import Any

from rest_framework import serializers
from rest_framework.fields import empty


class UsernameField(serializers.SlugRelatedField):
    """A person by username. An empty string is refused (DRF would read it as null): a
    client clears the field with null, not with "" (the schema says minLength 1)."""

    def __init__(self, **kwargs: Any) -> None:
        kwargs.setdefault("slug_field", "username")
        super().__init__(**kwargs)

    def run_validation(self, data: Any = empty) -> Any:
        if data == "":
            raise serializers.ValidationError("Give a username, or null to leave it empty.")
        return super().run_validation(data)
