"""Who a command-line import runs as: the audit trail names a person, never "the shell"."""

from __future__ import annotations

from django.core.management.base import CommandError
from django.db.models import Q

from csrisk.models import User
from csrisk.roles import Role


def import_actor(username: str | None) -> User:
    """The active user ``username``, or — none given — the first active superuser, else the
    first VP or CEO; a ``CommandError`` with what to do when there is none."""
    if username:
        user = User.objects.filter(username=username, is_active=True).first()
        if user is None:
            raise CommandError(f"No active user {username!r}.")
        return user
    user = (
        User.objects.filter(Q(is_superuser=True) | Q(role__in=[Role.VP_CS, Role.CEO]))
        .filter(is_active=True)
        .order_by("-is_superuser", "pk")
        .first()
    )
    if user is None:
        raise CommandError(
            "No superuser or VP exists to import as; create one "
            "(manage.py createsuperuser) or pass --as-user."
        )
    return user
