from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser
from rest_framework.authtoken.models import Token

from csrisk.models import User
from csrisk.roles import Role


class Command(BaseCommand):
    help = "Print a REST API token for USERNAME (Authorization: Token <key>)."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("username")
        parser.add_argument(
            "--create-integration",
            action="store_true",
            help="create USERNAME as an integration user (may only push signals) if missing",
        )
        parser.add_argument(
            "--rotate", action="store_true", help="replace an existing token with a new one"
        )

    def handle(self, *args: Any, **options: Any) -> None:
        username = options["username"]
        user = User.objects.filter(username=username).first()
        if user is None:
            if not options["create_integration"]:
                raise CommandError(
                    f"No user {username!r}. Use --create-integration to create an API client."
                )
            user = User(username=username, role=Role.INTEGRATION, first_name="Integration")
            user.set_unusable_password()
            user.save()
            self.stderr.write(f"Created integration user {username!r}.")
        elif options["create_integration"] and user.role != Role.INTEGRATION:
            raise CommandError(f"{username!r} exists and is not an integration user.")
        if not user.is_active:
            raise CommandError(f"{username!r} is deactivated.")
        if options["rotate"]:
            Token.objects.filter(user=user).delete()
        token, _ = Token.objects.get_or_create(user=user)
        self.stdout.write(token.key)
