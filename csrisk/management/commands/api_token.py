from __future__ import annotations

import datetime as dt
from typing import Any

from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError, CommandParser

from csrisk import clock, tokens
from csrisk.models import User
from csrisk.roles import Role


class Command(BaseCommand):
    help = (
        "Create a REST API token for USERNAME and print it once (Authorization: Token <key>). "
        "Tokens are stored hashed: a token printed before cannot be printed again."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("username")
        parser.add_argument(
            "--create-integration",
            action="store_true",
            help="create USERNAME as an integration user (may only push signals) if missing",
        )
        parser.add_argument(
            "--rotate", action="store_true", help="revoke the user's other tokens first"
        )
        parser.add_argument(
            "--sources",
            default="",
            help="integration tokens: the signal sources it may write, e.g. zendesk,jira "
            "(default: any source)",
        )
        parser.add_argument(
            "--expires-days",
            type=int,
            default=None,
            help="days until the token expires (0: never); default: CSRISK_API_TOKEN_TTL_DAYS "
            "for people, never for integrations",
        )
        parser.add_argument("--name", default="", help="a label shown in token lists")

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
        days = options["expires_days"]
        expires: dt.datetime | str | None = "default"
        if days is not None:
            if days < 0:
                raise CommandError("--expires-days must be 0 (never) or more.")
            expires = clock.now() + dt.timedelta(days=days) if days else None
        if options["rotate"]:
            n = tokens.tokens_revoke_all(user=user, by=None)
            self.stderr.write(f"Revoked {n} earlier token{'s' if n != 1 else ''}.")
        try:
            token, key = tokens.token_create(
                user=user,
                by=None,
                name=options["name"] or "manage.py api_token",
                sources=options["sources"],
                expires_at=expires,
            )
        except ValidationError as exc:
            raise CommandError(" ".join(exc.messages)) from None
        when = f"expires {token.expires_at:%Y-%m-%d}" if token.expires_at else "never expires"
        bound = f"bound to {', '.join(token.sources)}" if token.sources else "any source"
        self.stderr.write(f"Token {token.prefix}… for {username}: {when}; {bound}.")
        self.stdout.write(key)
